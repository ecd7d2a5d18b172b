"""`make bench`: wall time of `llmstack plan --stack <stack>`, by stage, median of N runs.

Each run is a fresh process, as a user or CI runs it. The plan reports its own stage times
through LLMSTACK_TIMINGS_FILE: `program` (the program under mocks; the pack analyses each resource
meanwhile, in its own process), `policy` (what is left after the program: the last resources'
answers and the stack analysis) and `report` (files written). `startup` is the rest of the wall
time (interpreter start, imports, reading the stack file).
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

STAGES = ("startup", "program", "policy", "report", "total")


def run_once(stack: str, out: Path) -> dict[str, float]:
    timings_file = out / "timings.json"
    env = {**os.environ, "LLMSTACK_TIMINGS_FILE": str(timings_file)}
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "llmstack", "plan", "--stack", stack, "--out", str(out / "plan")],
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
    stages["startup"] = total - sum(stages.get(k, 0.0) for k in ("program", "policy", "report"))
    return stages


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m llmstack.bench", description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--stack", default="prod")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    runs = []
    with tempfile.TemporaryDirectory() as folder:
        for _ in range(args.runs):
            runs.append(run_once(args.stack, Path(folder)))
    print(f"llmstack plan --stack {args.stack}: median of {args.runs} runs (seconds)")
    for stage in STAGES:
        values = [run[stage] for run in runs]
        print(f"  {stage:<8} {statistics.median(values):6.2f}   (min {min(values):.2f}, max {max(values):.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
