"""Generate policies/README.md from the pack itself, so the reviewers' page never drifts.

The page is grouped by what a reviewer signs off (policies.review.AREAS): per area a table, then
each policy's description, why it matters, controls, enforcement, config and remediation.

    python -m policies.docs           rewrite the README
    python -m policies.docs --check   exit 1 if the README is out of date
"""

from __future__ import annotations

import argparse
import inspect
import sys
from collections import Counter
from pathlib import Path
from types import ModuleType

from pulumi_policy import Policy, StackValidationPolicy

from policies.registry import ALL_POLICIES, PACK_NAME
from policies.review import AREAS, Review

README = Path(__file__).with_name("README.md")

AREA_TITLES = {
    "identity": "Identity",
    "network": "Network",
    "data": "Data",
    "compute": "Compute",
    "kubernetes": "Kubernetes",
    "cost": "Cost",
}

AREA_INTROS = {
    "identity": "Who and what may act: provider credentials, key and IAM policies, and how API callers authenticate.",
    "network": "What can reach what: the API gateway and its WAF, load balancers, security groups, the cluster "
    "endpoint and flow logs.",
    "data": "Where weights, prompts and logs live, who can read them, and that they survive a mistake.",
    "compute": "GPU nodes and the model servers on them: node hardening, GPU fit, probes, disruption budgets and "
    "autoscaling.",
    "kubernetes": "The clusters themselves and what they admit: version, audit logs, pod security and images.",
    "cost": "What a stack may spend on GPUs, at desired size and at max size.",
}

LEVELS = ("mandatory", "advisory", "remediate", "disabled")

# Short framework labels for the area tables; the details list the full names (Controls.rows()).
_SHORT = (("cis_eks", "CIS"), ("fsbp", "FSBP"), ("nist_800_53", "NIST"), ("soc2", "SOC 2"))


def policy_module(policy: Policy) -> ModuleType:
    for module in list(sys.modules.values()):
        if getattr(module, "policy", None) is policy:
            return module
    raise LookupError(f"no module defines policy {policy.name}")


def policy_path(policy: Policy) -> str:
    file = Path(inspect.getfile(policy_module(policy)))
    return str(file.relative_to(README.parent.parent))


def policy_review(policy: Policy) -> Review:
    review = getattr(policy_module(policy), "review", None)
    if not isinstance(review, Review):
        raise LookupError(
            f"policy {policy.name} ({policy_path(policy)}) has no module-level `review = Review(...)`; "
            "see policies/review.py"
        )
    return review


def _level(policy: Policy) -> str:
    return policy.enforcement_level.value if policy.enforcement_level else "mandatory"


def _severity(policy: Policy) -> str:
    return policy.severity.value if policy.severity else "—"


def _controls_cell(review: Review) -> str:
    parts = []
    for field, label in _SHORT:
        ids = getattr(review.controls, field)
        if ids:
            parts.append(f"{label} {', '.join(ids)}")
    return "; ".join(parts)


def _row(policy: Policy, review: Review, path: str) -> str:
    kind = "stack" if isinstance(policy, StackValidationPolicy) else "resource"
    return (
        f"| [`{policy.name}`](#{policy.name}) | {_level(policy)} | {_severity(policy)} | {kind} "
        f"| {_controls_cell(review)} | `{path}` |"
    )


def _details(policy: Policy, review: Review, path: str) -> list[str]:
    lines = [f"### {policy.name}", "", policy.description, "", f"**Why it matters:** {review.why}", ""]
    lines.append("- **Controls:**")
    lines += [f"  - {framework}: {', '.join(ids)}" for framework, ids in review.controls.rows()]
    lines.append(f"- **Enforcement:** {_level(policy)}; **severity:** {_severity(policy)}")
    if policy.config_schema and policy.config_schema.properties:
        keys = ", ".join(f"`{k}`" for k in policy.config_schema.properties)
        lines.append(f"- **Config:** {keys} (set by `llmstack plan` from the stack file)")
    lines.append(f"- **Source:** `{path}`")
    lines += ["", f"**Remediation:** {policy.remediation_steps or '—'}", ""]
    return lines


def _counts(counter: Counter[str], order: tuple[str, ...] | list[str]) -> str:
    return ", ".join(f"{key} {counter[key]}" for key in order if counter[key])


def render() -> str:
    entries = [(policy, policy_review(policy), policy_path(policy)) for policy in ALL_POLICIES]
    by_area = Counter(review.area for _, review, _ in entries)
    by_level = Counter(_level(policy) for policy, _, _ in entries)
    lines = [
        f"# Policy pack `{PACK_NAME}`",
        "",
        "Guardrails every llm-serving stack is checked against: by `pulumi preview/up --policy-pack policies`",
        "with credentials, and offline by `llmstack plan` / `llmstack check` (same pack, same gRPC protocol).",
        "A **mandatory** violation blocks the deployment (and exits `llmstack plan` with 1); an **advisory**",
        "one is reported. One policy per file; each has a compliant test and one test per way to violate it",
        "under `tests/policies/`.",
        "",
        "This page is generated by `python -m policies.docs`; do not edit it by hand",
        "(`python -m policies.docs --check` fails when it is out of date).",
        "",
        f"**{len(entries)} policies.** By area: {_counts(by_area, AREAS)}. "
        f"By enforcement: {_counts(by_level, LEVELS)}.",
        "",
        "Controls: CIS Amazon EKS Benchmark v1.7.0 (CIS), AWS Foundational Security Best Practices (FSBP),",
        "NIST SP 800-53 rev. 5 (NIST), SOC 2 trust services criteria 2017 (SOC 2).",
        "",
    ]
    lines += [
        f"- [{AREA_TITLES[area]}](#{area}) ({by_area[area]}): {AREA_INTROS[area]}" for area in AREAS if by_area[area]
    ]
    lines.append("")
    for area in AREAS:
        members = [entry for entry in entries if entry[1].area == area]
        if not members:
            continue
        lines += [
            f"## {AREA_TITLES[area]}",
            "",
            AREA_INTROS[area],
            "",
            "| policy | enforcement | severity | scope | controls | file |",
            "|---|---|---|---|---|---|",
            *(_row(policy, review, path) for policy, review, path in members),
            "",
        ]
        for policy, review, path in members:
            lines += _details(policy, review, path)
    return "\n".join(lines)


def main(argv: list[str] | None = None, readme: Path = README) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m policies.docs",
        description="Generate policies/README.md (the reviewers' page) from the policy pack.",
    )
    parser.add_argument("--check", action="store_true", help="do not write; exit 1 if the README is out of date")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        current = readme.read_text(encoding="utf-8") if readme.exists() else None
        if current != text:
            print(f"{readme} is out of date: run python -m policies.docs", file=sys.stderr)
            return 1
        print(f"{readme} is up to date")
        return 0
    readme.write_text(text, encoding="utf-8")
    print(f"wrote {readme}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
