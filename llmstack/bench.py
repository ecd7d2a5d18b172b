"""`make bench`: wall time of `llmstack plan --stack <stack> --base <plan>`, by stage, median of N runs.

A PR preview plans the head against the base branch's plan, so that is what is timed: a base plan
is written first (untimed), then each run is a fresh process, as a user or CI runs it. The plan
reports its own stage times through LLMSTACK_TIMINGS_FILE: `program` (the program under mocks;
the pack analyses each resource meanwhile, in its own process), `policy` (what is left after the
program: the last resources' answers and the stack analysis), `diff` (the change against the base)
and `report` (files written). `startup` is the rest of the wall time (interpreter start, imports,
reading the stack file and the base plan). `--no-base` times a plain plan.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

STAGES = ("startup", "program", "policy", "diff", "report", "total")
TIMED = ("program", "policy", "diff", "report")


def run_once(stack: str, out: Path, base: Path | None = None) -> dict[str, float]:
    timings_file = out / "timings.json"
    env = {**os.environ, "LLMSTACK_TIMINGS_FILE": str(timings_file)}
    extra = ["--base", str(base)] if base is not None else []
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "llmstack", "plan", "--stack", stack, "--out", str(out / "plan"), *extra],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    total = time.perf_counter() - started
    if result.returncode not in (0, 1):
        raise SystemExit(f"llmstack plan failed ({result.returncode}): {result.stderr.strip()}")
    stages = json.loads(timings_file.read_text())
    stages["total"] = total
    stages.setdefault("diff", 0.0)
    stages["startup"] = total - sum(stages.get(k, 0.0) for k in TIMED)
    return stages


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m llmstack.bench", description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--stack", default="prod")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-base", action="store_true", help="time a plain plan, without the diff")
    args = parser.parse_args(argv)
    runs = []
    with tempfile.TemporaryDirectory() as folder:
        base = None
        if not args.no_base:
            base = Path(folder) / "base"
            base.mkdir()
            run_once(args.stack, base)  # the base branch's plan: written once, not timed
            base = base / "plan"
        for _ in range(args.runs):
            runs.append(run_once(args.stack, Path(folder), base))
    command = f"llmstack plan --stack {args.stack}" + (" --base <plan>" if base else "")
    print(f"{command}: median of {args.runs} runs (seconds)")
    for stage in STAGES:
        values = [run[stage] for run in runs]
        print(f"  {stage:<8} {statistics.median(values):6.2f}   (min {min(values):.2f}, max {max(values):.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
