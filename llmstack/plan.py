"""`llmstack plan`: the offline plan of a stack — resources, Kubernetes manifests, cost, policy verdict.

Runs the real Pulumi program under the SDK's mock engine, evaluates the real policy pack over
its gRPC protocol, and writes plan.json, manifests/, report.md and policy-config.json to --out;
with --base (the base branch's plan), also diff.json, and report.md leads with the change.
Exit code 0: no mandatory violation; 1: at least one; 2: bad input.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from components import catalog, cost, usage
from llmstack import analyzer, report
from llmstack.diff import PlanDiff, diff_plans
from llmstack.diff_command import plan_path
from llmstack.errors import UsageError
from llmstack.manifests import manifest_files
from llmstack.offline import ProgramRun, RecordedResource, run_program
from llmstack.planfile import PLAN_VERSION, cost_inputs, load_plan, prepare_out_dir, write_atomically
from llmstack.policy_config import stack_policy_config
from llmstack.stackfile import StackFile, load_stack, project_root
from stacks.config import DEPLOY_PHASES, traffic_assumption


@dataclass
class Plan:
    project: str
    stack: str
    resources: list[dict[str, Any]]
    outputs: dict[str, Any]
    verdict: analyzer.PolicyVerdict
    estimate: cost.CostEstimate
    budget_usd: float
    timings: dict[str, float] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)
    usage: usage.UsageEstimate | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "version": PLAN_VERSION,
            "project": self.project,
            "stack": self.stack,
            "resources": self.resources,
            "outputs": self.outputs,
            "policy": self.verdict.to_json(),
            "cost": cost_json(self.estimate, self.budget_usd, self.usage),
            "secrets": self.secrets,
        }


def cost_json(
    estimate: cost.CostEstimate, budget_usd: float, usage_estimate: usage.UsageEstimate | None = None
) -> dict[str, Any]:
    return {
        "monthly_usd": round(estimate.monthly_usd, 2),
        "ceiling_monthly_usd": round(estimate.ceiling_monthly_usd, 2),
        "budget_usd": budget_usd,
        "by_region": {k: round(v, 2) for k, v in sorted(estimate.by_region.items()) if v},
        "by_component": {k: round(v, 2) for k, v in sorted(estimate.by_component.items()) if v},
        "lines": [
            {
                "type": line.type,
                "name": line.name,
                "region": line.region,
                "component": line.component,
                "monthly_usd": round(line.monthly_usd, 2),
                "ceiling_monthly_usd": round(line.ceiling_monthly_usd, 2),
                "basis": line.basis,
            }
            for line in estimate.lines
            if line.monthly_usd or line.ceiling_monthly_usd or line.unpriced
        ],
        # Added keys: what the stated traffic costs on top (never part of the figures above).
        **usage_json(usage_estimate),
        "price_list": dict(catalog.PRICE_LIST),
    }


def usage_json(estimate: usage.UsageEstimate | None) -> dict[str, Any]:
    if estimate is None or estimate.assumption is None:
        return {
            "usage": {"assumption": None, "monthly_usd": 0.0, "by_region": {}, "by_model": {}, "lines": []},
            "per_million_tokens": {},
        }
    return {
        "usage": {
            "assumption": estimate.assumption.to_json(),
            "monthly_usd": round(estimate.monthly_usd, 2),
            "by_region": {k: round(v, 2) for k, v in sorted(estimate.by_region.items())},
            "by_model": {k: round(v, 2) for k, v in sorted(estimate.by_model.items())},
            "gpu_share_usd": {k: round(v, 2) for k, v in sorted(estimate.gpu_share_usd.items())},
            "lines": [
                {
                    "service": line.service,
                    "region": line.region,
                    "monthly_usd": round(line.monthly_usd, 2),
                    "basis": line.basis,
                    "by_model": {k: round(v, 4) for k, v in sorted(line.by_model.items())},
                }
                for line in estimate.lines
            ],
        },
        "per_million_tokens": {k: round(v, 4) for k, v in sorted(estimate.per_million_tokens.items())},
    }


def _run_program(stackfile: StackFile, on_resource: Callable[[RecordedResource], None]) -> ProgramRun:
    try:
        return run_program(
            stackfile.config,
            project=stackfile.project,
            stack=stackfile.stack,
            secret_keys=list(stackfile.secret_keys),
            on_resource=on_resource,
        )
    except ValueError as exc:
        # The config checks mirror the components' argument checks; should one slip through,
        # it is still a problem of the stack file, told in one line (exit 2).
        raise UsageError(f"{stackfile.path.name}: {exc}") from None


def build_plan(stackfile: StackFile) -> Plan:
    timings: dict[str, float] = {}
    # The pack starts first and analyses each resource as the program registers it, as the
    # engine does: its interpreter, imports and per-resource work overlap the program run.
    user_config = stack_policy_config(stackfile)  # may refuse the waivers file: before the pack starts
    pack = analyzer.PolicyPackProcess(stackfile.project, stackfile.stack)
    session = analyzer.PolicySession(pack, project=stackfile.project, stack=stackfile.stack, user_config=user_config)
    try:
        started = time.perf_counter()
        run = _run_program(stackfile, on_resource=lambda recorded: session.submit(recorded.to_json()))
        resources = [r.to_json() for r in run.resources]
        timings["program"] = time.perf_counter() - started

        started = time.perf_counter()
        verdict = session.finish(resources)
        timings["policy"] = time.perf_counter() - started
    finally:
        session.close()
        pack.close()

    inputs = cost_inputs(resources)
    estimate = cost.estimate(inputs)
    usage_estimate = usage.estimate(inputs, traffic_assumption(stackfile.platform), estimate)
    return Plan(
        project=stackfile.project,
        stack=stackfile.stack,
        resources=resources,
        outputs=run.outputs,
        verdict=verdict,
        estimate=estimate,
        budget_usd=stackfile.platform.budget.monthly_usd,
        timings=timings,
        secrets=dict(stackfile.secret_fingerprints),
        usage=usage_estimate,
    )


def output_files(plan: Plan, change: PlanDiff | None = None) -> dict[str, str]:
    """plan.json, report.md, policy-config.json and manifests/; with the diff against a base plan,
    diff.json too and a report.md that leads with what the change does."""
    document = plan.to_json()
    files = {
        "plan.json": json.dumps(document, indent=2, sort_keys=False) + "\n",
        "report.md": report.markdown(document, change),
        "policy-config.json": json.dumps(plan.verdict.config, indent=2) + "\n",
    }
    if change is not None:
        files["diff.json"] = json.dumps(change.to_json(), indent=2) + "\n"
    files.update(manifest_files(plan.resources))
    return files


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("plan", help="offline plan of a stack: resources, manifests, cost, policy verdict")
    parser.add_argument("--stack", help="stack name: reads Pulumi.<stack>.yaml")
    parser.add_argument("--config", metavar="FILE", help="a stack file to read instead of Pulumi.<stack>.yaml")
    parser.add_argument(
        "--deploy-phase",
        choices=DEPLOY_PHASES,
        help="plan this deploy phase (llm-serving:deploy_phase, as `pulumi up --config` sets it); default: the "
        "stack file's (all)",
    )
    parser.add_argument("--out", metavar="DIR", help="output folder (default: build/<stack>/ at the project root)")
    parser.add_argument(
        "--base",
        metavar="PLAN",
        help="the base branch's plan.json (or its folder): also write diff.json; report.md leads with the change",
    )
    parser.add_argument("--format", choices=("text", "json", "markdown"), default="text", help="stdout format")
    parser.set_defaults(func=run)


@contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector for one plan.

    A plan creates about a million objects (the SDK's typed classes as its modules load, then
    Outputs and futures per resource); the collector walks them over and over while they are
    all still alive — a third of the prod program stage. Reference counting still frees what is
    not in a cycle; peak memory is the same either way (about 220 MB for prod).
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        # Everything allocated meanwhile sits in the youngest generation, so the first
        # allocation after resuming would start a collection of all of it. Moving it to the
        # oldest generation (freeze, then unfreeze) leaves it to the next full collection.
        gc.freeze()
        gc.unfreeze()
        if was_enabled:
            gc.enable()


def run(args: argparse.Namespace) -> int:
    with cyclic_gc_paused():
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    stackfile = load_stack(args.stack, args.config, deploy_phase=args.deploy_phase)
    # build/ is the project's, wherever the command runs from (a subfolder of the checkout included).
    out = Path(args.out) if args.out else project_root() / "build" / stackfile.stack
    prepare_out_dir(out)
    base = load_plan(plan_path(args.base, "--base")) if args.base else None
    plan = build_plan(stackfile)
    started = time.perf_counter()
    change = diff_plans(base, plan.to_json()) if base is not None else None
    plan.timings["diff"] = time.perf_counter() - started
    started = time.perf_counter()
    files = output_files(plan, change)
    write_atomically(out, files)
    plan.timings["report"] = time.perf_counter() - started
    if os.environ.get("LLMSTACK_TIMINGS_FILE"):  # `make bench` reads the stage times from here
        Path(os.environ["LLMSTACK_TIMINGS_FILE"]).write_text(json.dumps(plan.timings))
    document = json.loads(files["plan.json"])
    if args.format == "json":
        print(files["plan.json"], end="")
    elif args.format == "markdown":
        print(files["report.md"], end="")
    else:
        print(report.text_summary(document, out))
        if change is not None:
            print(f"change against {args.base}: {change.summary()}")
    return 1 if plan.verdict.mandatory else 0
