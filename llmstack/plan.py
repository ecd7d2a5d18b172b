"""`llmstack plan`: the offline plan of a stack — resources, Kubernetes manifests, cost, policy verdict.

Runs the real Pulumi program under the SDK's mock engine, evaluates the real policy pack over
its gRPC protocol, and writes plan.json, manifests/, report.md and policy-config.json to --out.
Exit code 0: no mandatory violation; 1: at least one; 2: bad input.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from components import cost
from llmstack import analyzer, report
from llmstack.manifests import manifest_files
from llmstack.offline import run_program
from llmstack.planfile import PLAN_VERSION, cost_inputs, prepare_out_dir, write_atomically
from llmstack.policy_config import policy_config_for
from llmstack.stackfile import StackFile, load_stack


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

    def to_json(self) -> dict[str, Any]:
        return {
            "version": PLAN_VERSION,
            "project": self.project,
            "stack": self.stack,
            "resources": self.resources,
            "outputs": self.outputs,
            "policy": {
                "pack": self.verdict.pack,
                "version": self.verdict.version,
                "config": self.verdict.config,
                "policies": self.verdict.policies,
                "violations": [v.to_json() for v in self.verdict.violations],
            },
            "cost": cost_json(self.estimate, self.budget_usd),
        }


def cost_json(estimate: cost.CostEstimate, budget_usd: float) -> dict[str, Any]:
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
            if line.monthly_usd or line.ceiling_monthly_usd
        ],
    }


def build_plan(stackfile: StackFile) -> Plan:
    timings: dict[str, float] = {}
    # Start the pack first: its interpreter and imports overlap the program run.
    pack = analyzer.PolicyPackProcess(stackfile.project, stackfile.stack)
    started = time.perf_counter()
    try:
        run = run_program(
            stackfile.config, project=stackfile.project, stack=stackfile.stack, secret_keys=list(stackfile.secret_keys)
        )
    except BaseException:
        pack.close()
        raise
    resources = [r.to_json() for r in run.resources]
    timings["program"] = time.perf_counter() - started

    started = time.perf_counter()
    verdict = analyzer.evaluate(
        resources,
        project=stackfile.project,
        stack=stackfile.stack,
        user_config=policy_config_for(stackfile.platform),
        pack=pack,
    )
    timings["policy"] = time.perf_counter() - started

    estimate = cost.estimate(cost_inputs(resources))
    return Plan(
        project=stackfile.project,
        stack=stackfile.stack,
        resources=resources,
        outputs=run.outputs,
        verdict=verdict,
        estimate=estimate,
        budget_usd=stackfile.platform.budget.monthly_usd,
        timings=timings,
    )


def output_files(plan: Plan) -> dict[str, str]:
    document = plan.to_json()
    files = {
        "plan.json": json.dumps(document, indent=2, sort_keys=False) + "\n",
        "report.md": report.markdown(document),
        "policy-config.json": json.dumps(plan.verdict.config, indent=2) + "\n",
    }
    files.update(manifest_files(plan.resources))
    return files


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("plan", help="offline plan of a stack: resources, manifests, cost, policy verdict")
    parser.add_argument("--stack", help="stack name: reads Pulumi.<stack>.yaml")
    parser.add_argument("--config", metavar="FILE", help="a stack file to read instead of Pulumi.<stack>.yaml")
    parser.add_argument("--out", metavar="DIR", help="output folder (default: build/<stack>/)")
    parser.add_argument("--format", choices=("text", "json", "markdown"), default="text", help="stdout format")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    stackfile = load_stack(args.stack, args.config)
    out = Path(args.out) if args.out else Path("build") / stackfile.stack
    prepare_out_dir(out)
    plan = build_plan(stackfile)
    started = time.perf_counter()
    files = output_files(plan)
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
    return 1 if plan.verdict.mandatory else 0
