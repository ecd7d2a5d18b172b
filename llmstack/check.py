"""`llmstack check PLAN.json`: re-evaluate the policy pack on a saved plan (for reviewers and CI).

Uses the policy config recorded in the plan unless --policy-config names another file.
Exit code 0: no mandatory violation; 1: at least one; 2: bad input.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from llmstack import analyzer, report
from llmstack.errors import UsageError
from llmstack.planfile import load_plan


def load_policy_config(path: str) -> dict[str, Any]:
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"--policy-config {path}: no such file") from None
    except json.JSONDecodeError as exc:
        raise UsageError(f"--policy-config {path}:{exc.lineno}: not JSON: {exc.msg}") from None
    if not isinstance(document, dict):
        raise UsageError(f"--policy-config {path}: must be an object of policy name to config")
    return document


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("check", help="re-evaluate the policy pack on a saved plan.json")
    parser.add_argument("plan", metavar="PLAN.json")
    parser.add_argument("--policy-config", metavar="FILE", help="policy pack config (default: the plan's own)")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    document = load_plan(args.plan)
    if args.policy_config:
        user_config = load_policy_config(args.policy_config)
    else:
        user_config = (document.get("policy") or {}).get("config") or {}
    verdict = analyzer.evaluate(
        document["resources"], project=document["project"], stack=document["stack"], user_config=user_config
    )
    checked = {
        **document,
        "policy": {
            "pack": verdict.pack,
            "version": verdict.version,
            "config": verdict.config,
            "policies": verdict.policies,
            "violations": [v.to_json() for v in verdict.violations],
        },
    }
    if args.format == "json":
        print(json.dumps(checked["policy"], indent=2))
    else:
        print(report.verdict_line(checked))
        for violation in checked["policy"]["violations"]:
            print(f"  [{violation['enforcement']}] {violation['policy']}: {violation['message'].splitlines()[0]}")
    return 1 if verdict.mandatory else 0
