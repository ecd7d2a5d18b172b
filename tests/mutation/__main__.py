"""`python -m tests.mutation`: the mutation harness (`make mutation`).

Plans each stack fresh from the program (or reads --plan-dir/<stack>/plan.json), checks the
unmutated plan passes, applies every catalogue entry, prints the kill rate per stack with each
survivor, and replays a sample through real `llmstack check` subprocesses. Exit 0 only when
every mutant is killed, every entry applies, every mandatory policy was made to fire by some
mutant, and `llmstack check` agrees with the in-process verdicts.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from llmstack.errors import UsageError
from tests.mutation import harness
from tests.mutation.catalogue import CATALOGUE


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.mutation", description=__doc__)
    parser.add_argument("--stack", action="append", help="stack to mutate (repeatable; default: prod and dev)")
    parser.add_argument("--plan-dir", metavar="DIR", help="read DIR/<stack>/plan.json (e.g. build) instead of planning")
    parser.add_argument("--only", action="append", metavar="ID", help="run only these mutation ids")
    parser.add_argument("--sample", type=int, default=3, help="mutants replayed through `llmstack check` (0: none)")
    args = parser.parse_args(argv)

    mutations = [m for m in CATALOGUE if not args.only or m.id in args.only]
    started = time.perf_counter()
    failed = False
    reports: list[harness.StackReport] = []
    for stack in args.stack or ["prod", "dev"]:
        if args.plan_dir:
            document = harness.saved_plan(Path(args.plan_dir) / stack / "plan.json")
        else:
            document = harness.fresh_plan(stack)
        report = harness.run_stack(stack, document, mutations, progress=True)
        reports.append(report)
        print(harness.format_report(report), flush=True)
        failed |= bool(report.survivors or report.errors)
        if args.sample:
            for mutation_id, expected, actual in harness.equivalence_sample(stack, document, report, args.sample):
                agree = "agrees" if expected == actual else "DISAGREES"
                print(f"  llmstack check on {mutation_id}: exit {actual} (in-process {expected}) {agree}")
                failed |= expected != actual
    if not args.only and not args.stack:  # the whole catalogue over every stack: each policy must fire
        unfired = harness.unfired_policies(reports)
        if unfired:
            print(f"mandatory policies no mutant made fire: {', '.join(unfired)}")
        failed |= bool(unfired)
    print(f"mutation harness: {time.perf_counter() - started:.0f} s", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except UsageError as exc:  # a missing --plan-dir plan, a bad stack name
        print(f"mutation harness: {exc}", file=sys.stderr)
        sys.exit(2)
    except harness.BaselineFails as exc:
        print(f"mutation harness: {exc}", file=sys.stderr)
        sys.exit(1)
