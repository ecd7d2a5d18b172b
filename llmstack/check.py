"""`llmstack check PLAN.json`: re-evaluate the policy pack on a saved plan (for reviewers and CI).

Where the pack's config comes from — never from the plan under review, which anyone who can
write the file can forge:
- `--stack S` (or `--config FILE`): derived from the stack file and policies/waivers.yaml, exactly
  as `llmstack plan` derives it. The plan must be of that stack. When the plan's embedded config
  differs, the stack's wins and one note line on stderr says so.
- `--policy-config FILE`: that file as is (what `pulumi up --policy-pack-config` would take).
- neither: refused (exit 2), with the stack the plan claims as a hint.

Exit code 0: no mandatory violation; 1: at least one; 2: bad input (one line on stderr naming the
file and the JSON path of the problem).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping
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
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"--policy-config {path}: cannot read ({exc.__class__.__name__})") from None
    except json.JSONDecodeError as exc:
        raise UsageError(f"--policy-config {path}:{exc.lineno}: not JSON: {exc.msg}") from None
    except RecursionError:
        raise UsageError(f"--policy-config {path}: nested too deep") from None
    if not isinstance(document, dict):
        raise UsageError(f"--policy-config {path}: must be an object of policy name to config")
    return document


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("check", help="re-evaluate the policy pack on a saved plan.json")
    parser.add_argument("plan", metavar="PLAN.json")
    parser.add_argument("--stack", help="derive the pack's config from Pulumi.<stack>.yaml and the waivers")
    parser.add_argument("--config", metavar="FILE", help="a stack file to derive it from instead")
    parser.add_argument(
        "--policy-config", metavar="FILE", help="use this pack config as is (instead of --stack/--config)"
    )
    parser.add_argument(
        "--deploy-phase",
        choices=("foundation", "all"),
        help="with --stack/--config: the pack's config for this deploy phase (as `llmstack plan --deploy-phase`)",
    )
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.set_defaults(func=run)


def _stack_config(args: argparse.Namespace, document: Mapping[str, Any]) -> tuple[dict[str, Any], str]:
    """(user config, where it came from) for --stack/--config; the plan must be of that stack."""
    from llmstack.policy_config import stack_policy_config  # imports the stack schema: only when needed
    from llmstack.stackfile import load_stack

    stackfile = load_stack(args.stack, args.config, deploy_phase=args.deploy_phase)
    if document["stack"] != stackfile.stack:
        raise UsageError(f"{args.plan}: stack: the plan is of stack '{document['stack']}', not '{stackfile.stack}'")
    return stack_policy_config(stackfile), stackfile.path.name


def user_config_for(args: argparse.Namespace, document: Mapping[str, Any]) -> tuple[dict[str, Any], str | None]:
    if args.policy_config and (args.stack or args.config):
        raise UsageError("--policy-config: give it or --stack/--config, not both")
    if args.policy_config:
        return load_policy_config(args.policy_config), None
    if args.stack or args.config:
        return _stack_config(args, document)
    raise UsageError(
        f"--stack: required (or --config FILE, or --policy-config FILE): a plan's own policy config is not "
        f"trusted (this plan says it is of stack '{document['stack']}')"
    )


def embedded_config(document: Mapping[str, Any]) -> Any:
    policy = document.get("policy")
    return policy.get("config") if isinstance(policy, Mapping) else None


def run(args: argparse.Namespace) -> int:
    document = load_plan(args.plan)
    user_config, stack_source = user_config_for(args, document)
    verdict = analyzer.evaluate(
        document["resources"], project=document["project"], stack=document["stack"], user_config=user_config
    )
    embedded = embedded_config(document)
    if stack_source is not None and embedded is not None and embedded != verdict.config:
        print(
            f"llmstack check: note: {args.plan}'s embedded policy config differs from {stack_source}'s; "
            f"using {stack_source} and the waivers",
            file=sys.stderr,
        )
    checked = {**document, "policy": verdict.to_json()}
    if args.format == "json":
        print(json.dumps(checked["policy"], indent=2))
    else:
        print(report.verdict_line(checked))
        for violation in checked["policy"]["violations"]:
            print(f"  [{violation['enforcement']}] {violation['policy']}: {report.first_line(violation['message'])}")
        for waived in checked["policy"]["waived"]:
            accepted = "; ".join(waived.get("violations") or [])
            print(
                f"  [waived] {waived['policy']} ({waived['resource']}): {accepted} — accepted: {waived['reason']} — "
                f"{waived['owner']}, until {waived['expires']}"
            )
    return 1 if verdict.mandatory else 0
