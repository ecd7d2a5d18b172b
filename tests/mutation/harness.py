"""Apply the catalogue to a stack's plan and judge each mutant as `llmstack check` would.

A mutant is killed when the pack, configured from the stack file as `llmstack check --stack`
configures it, reports a mandatory violation (exit 1) that names a resource the mutation touched
(changed, added or removed) or one of its `names` (the resource a removed or edited guard
protected), or, for a "X is missing" removal, whose message names the missing type.

Plans are evaluated in-process through `analyzer.PlanEvaluator`, the code path of `llmstack
check` (one pack process per stack instead of one per mutant); `equivalence_sample` replays a
few mutants through real `llmstack check` subprocesses to show the two agree.
"""

from __future__ import annotations

import copy
import json
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llmstack import analyzer
from llmstack.policy_config import stack_policy_config
from llmstack.stackfile import load_stack
from tests.mutation.catalogue import Mutation
from tests.mutation.ops import AddClone, CatalogueError, Context, Remove, Resource, apply

ROOT = Path(__file__).resolve().parents[2]


class BaselineFails(AssertionError):
    """The unmutated plan already has a mandatory violation: no mutant could be judged."""


@dataclass(frozen=True)
class Mutant:
    mutation: Mutation
    resources: list[Resource]
    targets: frozenset[str]
    """URNs a killing violation may name."""


@dataclass
class Outcome:
    mutation: Mutation
    stack: str
    killed: bool = False
    error: str | None = None
    """A catalogue error: the entry does not apply to this plan (counted apart, never as a kill)."""
    killers: list[str] = field(default_factory=list)
    """Policies whose mandatory violation killed it."""
    reason: str = ""
    """Why a survivor survived."""
    exit_code: int = 0
    """What `llmstack check` exits with on the mutant: 1 with any mandatory violation."""


@dataclass
class StackReport:
    stack: str
    outcomes: list[Outcome]
    seconds: float
    policies: list[dict[str, Any]]

    @property
    def judged(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.error is None]

    @property
    def survivors(self) -> list[Outcome]:
        return [o for o in self.judged if not o.killed]

    @property
    def errors(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.error is not None]


def unfired_policies(reports: Sequence[StackReport]) -> list[str]:
    """Policies mandatory in some stack that no mutant of any stack made fire (a policy may be
    vacuous in one stack: dev keeps no replica floor and protects nothing)."""
    fired = {p for report in reports for o in report.judged for p in o.killers}
    mandatory = {p["name"] for report in reports for p in report.policies if p["enforcement"] == "mandatory"}
    return sorted(mandatory - fired)


def stack_config(stack: str) -> dict[str, Any]:
    """The pack config `llmstack check --stack` uses: the stack file and the waivers, never the plan."""
    return stack_policy_config(load_stack(stack, None, ROOT))


def fresh_plan(stack: str) -> dict[str, Any]:
    """plan.json of a stack, planned now from the real program."""
    from llmstack.plan import build_plan

    plan = build_plan(load_stack(stack, None, ROOT))
    return json.loads(json.dumps(plan.to_json()))


def saved_plan(path: Path) -> dict[str, Any]:
    from llmstack.planfile import load_plan

    return load_plan(str(path))


def mutate(resources: Sequence[Resource], mutation: Mutation) -> Mutant:
    """The plan's resources with the mutation applied. Raises CatalogueError when it does not apply."""
    original = list(resources)
    context = Context(resources=copy.deepcopy(list(resources)))
    for selector, op in mutation.steps:
        matches = selector.matches(context.resources)
        if not matches:
            raise CatalogueError(f"nothing matches {selector}")
        # Removals and insertions shift indices: work from the last match back.
        for index in sorted(matches, reverse=True) if isinstance(op, (Remove, AddClone)) else matches:
            apply(op, index, context)
    if _canonical(context.resources) == _canonical(original):
        raise CatalogueError("the mutation leaves the plan unchanged")
    targets = set(context.touched)
    for selector in mutation.names:
        named = selector.matches(original)
        if not named:
            raise CatalogueError(f"`names` matches nothing: {selector}")
        targets.update(original[i]["urn"] for i in named)
    return Mutant(mutation, context.resources, frozenset(targets))


def _canonical(resources: Iterable[Resource]) -> str:
    return json.dumps(list(resources), sort_keys=True)


def judge(mutant: Mutant, verdict: analyzer.PolicyVerdict, stack: str) -> Outcome:
    outcome = Outcome(mutant.mutation, stack, exit_code=1 if verdict.mandatory else 0)
    missing = mutant.mutation.missing
    named = re.compile(rf"\b{re.escape(missing)}\b") if missing else None
    for violation in verdict.mandatory:
        if violation.urn in mutant.targets or (named and named.search(violation.message)):
            outcome.killers.append(violation.policy)
    outcome.killers = sorted(set(outcome.killers))
    outcome.killed = bool(outcome.killers)
    if not outcome.killed:
        others = sorted({f"{v.policy} on {_short(v.urn)}" for v in verdict.mandatory})
        outcome.reason = (
            f"mandatory violations name other resources: {'; '.join(others)}" if others else "no mandatory violation"
        )
    return outcome


def _short(urn: str | None) -> str:
    return urn.rsplit("::", 1)[-1] if urn else "no resource"


def run_stack(
    stack: str,
    document: Mapping[str, Any],
    mutations: Sequence[Mutation],
    *,
    progress: bool = False,
    config: Mapping[str, Any] | None = None,
) -> StackReport:
    """Evaluate the unmutated plan (must pass) and every mutation of the catalogue that applies to `stack`.

    `config` replaces the stack's pack config (`stack_config`) only for the harness's own tests.
    """
    started = time.perf_counter()
    resources = document["resources"]
    config = dict(config) if config is not None else stack_config(stack)
    outcomes = []
    with analyzer.PlanEvaluator(project=document["project"], stack=stack, user_config=config) as evaluator:
        baseline = evaluator.evaluate(resources)
        if baseline.mandatory:
            first = baseline.mandatory[0]
            raise BaselineFails(
                f"{stack}: the unmutated plan already fails ({len(baseline.mandatory)} mandatory violation(s), "
                f"first {first.policy}: {first.message})"
            )
        for number, mutation in enumerate(m for m in mutations if stack in m.stacks):
            try:
                mutant = mutate(resources, mutation)
            except CatalogueError as exc:
                outcomes.append(Outcome(mutation, stack, error=str(exc)))
                continue
            outcomes.append(judge(mutant, evaluator.evaluate(mutant.resources), stack))
            if progress and number % 20 == 19:
                print(f"  {stack}: {number + 1} mutants evaluated", file=sys.stderr, flush=True)
    return StackReport(stack, outcomes, time.perf_counter() - started, baseline.policies)


def check_exit_code(document: Mapping[str, Any], resources: Sequence[Resource], stack: str) -> int:
    """Exit code of a real `llmstack check` subprocess on a plan with these resources."""
    with tempfile.TemporaryDirectory(prefix="mutation-") as folder:
        plan = Path(folder) / "plan.json"
        plan.write_text(json.dumps({**document, "resources": list(resources)}))
        result = subprocess.run(
            [sys.executable, "-m", "llmstack", "check", str(plan), "--stack", stack],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
    return result.returncode


def equivalence_sample(
    stack: str, document: Mapping[str, Any], report: StackReport, size: int = 3
) -> list[tuple[str, int, int]]:
    """(mutation id or 'unmutated', in-process exit code, `llmstack check`'s) for the plan and `size` mutants.

    The unmutated plan must give 0; killed mutants (sampled evenly over the catalogue, survivors
    only when too few are killed) give 1.
    """
    killed = [o for o in report.judged if o.killed]
    others = [o for o in report.judged if not o.killed]
    step = max(1, len(killed) // size) if killed else 1
    sample = (killed[::step] + others)[:size]
    rows = [("unmutated", 0, check_exit_code(document, document["resources"], stack))]
    for outcome in sample:
        mutant = mutate(document["resources"], outcome.mutation)
        rows.append((outcome.mutation.id, outcome.exit_code, check_exit_code(document, mutant.resources, stack)))
    return rows


def format_report(report: StackReport) -> str:
    judged, survivors = report.judged, report.survivors
    killed = len(judged) - len(survivors)
    rate = 100.0 * killed / len(judged) if judged else 0.0
    lines = [f"{report.stack}: killed {killed}/{len(judged)} ({rate:.1f} %) in {report.seconds:.0f} s"]
    by_class: dict[str, list[Outcome]] = {}
    for outcome in judged:
        by_class.setdefault(outcome.mutation.cls, []).append(outcome)
    for cls, outcomes in sorted(by_class.items()):
        dead = sum(o.killed for o in outcomes)
        lines.append(f"  {cls}: {dead}/{len(outcomes)}")
        for outcome in outcomes:
            if not outcome.killed:
                lines.append(f"    SURVIVED {outcome.mutation.id}: {outcome.mutation.description} ({outcome.reason})")
    for outcome in report.errors:
        lines.append(f"  CATALOGUE ERROR {outcome.mutation.id}: {outcome.error}")
    return "\n".join(lines)
