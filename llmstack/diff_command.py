"""`llmstack diff BASE_PLAN HEAD_PLAN`: what a change does, from two saved plans (a PR preview).

BASE_PLAN and HEAD_PLAN are plan.json files or the folders `llmstack plan --out` wrote them to.
The policy verdicts compared are the ones the plans recorded; `llmstack check` re-evaluates a plan
with the config from the stack file when the plan itself is not trusted.

Exit code 0: the head plan has no mandatory violation; 1: it has at least one; 2: bad input.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from llmstack import report
from llmstack.diff import diff_plans, verdict_word
from llmstack.errors import UsageError
from llmstack.planfile import load_plan


def plan_path(value: str, flag: str) -> str:
    """A plan.json, or the folder holding one."""
    path = Path(value)
    if not path.exists():
        raise UsageError(f"{flag} {value}: no such file or folder")
    if path.is_dir():
        path = path / "plan.json"
        if not path.is_file():
            raise UsageError(
                f"{flag} {value}: a folder without plan.json (write one with `llmstack plan --out {value}`)"
            )
    return str(path)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("diff", help="what a change does: resources, cost and policy between two plans")
    parser.add_argument("base", metavar="BASE_PLAN", help="the base branch's plan.json (or its folder)")
    parser.add_argument("head", metavar="HEAD_PLAN", help="the change's plan.json (or its folder)")
    parser.add_argument("--format", choices=("text", "json", "markdown"), default="text", help="stdout format")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    base = load_plan(plan_path(args.base, "BASE_PLAN"))
    head = load_plan(plan_path(args.head, "HEAD_PLAN"))
    diff = diff_plans(base, head)
    if args.format == "json":
        print(json.dumps(diff.to_json(), indent=2))
    elif args.format == "markdown":
        print(report.markdown(head, diff), end="")
    else:
        print(report.diff_text(diff))
    return 1 if verdict_word(head) == "FAIL" else 0
