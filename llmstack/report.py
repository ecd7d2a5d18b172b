"""Human views of a plan.json: the PR comment (report.md) and the short stdout summary."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from llmstack import diagram
from llmstack.planfile import placement

USAGE_NOTE = "usage-based charges (data transfer, requests, logs, storage) are not included"


def _money(value: float) -> str:
    return f"${value:,.0f}"


def _counts(document: Mapping[str, Any]) -> tuple[Counter, Counter, Counter]:
    resources = document["resources"]
    where = placement(resources)
    custom = [r for r in resources if not r["type"].startswith(("llm-serving:", "pulumi:providers:"))]
    by_component = Counter(where[r["urn"]]["component"] for r in custom)
    by_region = Counter(where[r["urn"]]["region"] or "global" for r in custom)
    by_type = Counter(r["type"] for r in custom)
    return by_component, by_region, by_type


def _violations(document: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return list((document.get("policy") or {}).get("violations") or [])


def _waived(document: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return list((document.get("policy") or {}).get("waived") or [])


def first_line(message: str) -> str:
    return (message or "").splitlines()[0] if (message or "").strip() else ""


def verdict_line(document: Mapping[str, Any]) -> str:
    violations = _violations(document)
    mandatory = sum(1 for v in violations if v["enforcement"] == "mandatory")
    advisory = sum(1 for v in violations if v["enforcement"] == "advisory")
    policies = len((document.get("policy") or {}).get("policies") or [])
    if mandatory:
        return f"FAIL: {mandatory} mandatory and {advisory} advisory violation(s) of {policies} policies"
    return f"PASS: 0 mandatory, {advisory} advisory violation(s) of {policies} policies"


def _budget_line(cost: Mapping[str, Any]) -> str:
    monthly, ceiling, budget = cost.get("monthly_usd", 0), cost.get("ceiling_monthly_usd", 0), cost.get("budget_usd", 0)
    share = f" ({monthly / budget:.0%} of budget)" if budget else ""
    return f"{_money(monthly)}/month estimated{share}, {_money(ceiling)} at max scale; budget {_money(budget)}"


def text_summary(document: Mapping[str, Any], out: Path | None = None) -> str:
    by_component, by_region, _ = _counts(document)
    lines = [
        f"llm-serving plan — stack {document['stack']}",
        f"resources: {sum(by_component.values())} "
        + "("
        + ", ".join(f"{region}: {n}" for region, n in sorted(by_region.items()))
        + ")",
        f"cost: {_budget_line(document.get('cost') or {})}",
        f"policy: {verdict_line(document)}",
    ]
    for violation in _violations(document):
        where = violation["urn"].rsplit("::", 1)[-1] if violation.get("urn") else "stack"
        message = first_line(violation["message"])
        lines.append(f"  [{violation['enforcement']}] {violation['policy']} ({where}): {message}")
    waived = _waived(document)
    if waived:
        count = sum(len(w.get("violations") or []) or 1 for w in waived)
        lines.append(f"waived: {count} violation(s) by reviewed waivers (see report.md)")
    if out is not None:
        lines.append(f"wrote {out}/plan.json, report.md, policy-config.json, manifests/")
    return "\n".join(lines)


def _cell(text: Any) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def _waivers_section(document: Mapping[str, Any]) -> list[str]:
    """Every waiver in force for this stack, as a reviewer audits it (policies/waivers.yaml)."""
    lines = ["### Waivers in force", ""]
    waived = _waived(document)
    if not waived:
        return [*lines, "None."]
    lines += [
        "| policy | resource | accepted violation | reason | owner | expires | waiver |",
        "|---|---|---|---|---|---|---|",
    ]
    for w in waived:
        # Only these exact messages are waived; any other violation of the policy on the resource is reported.
        accepted = "<br>".join(f"`{_cell(message)}`" for message in w.get("violations") or [])
        lines.append(
            f"| `{w['policy']}` | `{_cell(w['resource'])}` | {accepted} | {_cell(w['reason'])} | "
            f"{_cell(w['owner'])} | {w['expires']} | `{w['source']}` |"
        )
    return lines


def markdown(document: Mapping[str, Any]) -> str:
    by_component, by_region, by_type = _counts(document)
    cost = document.get("cost") or {}
    lines = [
        f"## llm-serving plan — `{document['stack']}`",
        "",
        f"**Policy:** {verdict_line(document)}  ",
        f"**Cost:** {_budget_line(cost)} — {USAGE_NOTE}.  ",
        f"**Resources:** {sum(by_component.values())} across {len(by_region)} region(s)/target(s).",
        "",
        "### Policy violations",
        "",
    ]
    violations = _violations(document)
    if violations:
        lines += ["| enforcement | severity | policy | resource | message |", "|---|---|---|---|---|"]
        for v in violations:
            resource = v["urn"].rsplit("::", 1)[-1] if v.get("urn") else "(stack)"
            message = " ".join(v["message"].split())
            lines.append(f"| {v['enforcement']} | {v['severity']} | `{v['policy']}` | `{resource}` | {message} |")
    else:
        lines.append("None.")
    lines += ["", *_waivers_section(document)]
    lines += ["", "### Cost by region", "", "| region | monthly | ", "|---|---:|"]
    lines += [f"| {region} | {_money(value)} |" for region, value in (cost.get("by_region") or {}).items()]
    lines += ["", "### Cost by component", "", "| component | monthly |", "|---|---:|"]
    lines += [f"| {name} | {_money(value)} |" for name, value in (cost.get("by_component") or {}).items()]
    lines += ["", "### Resources by component", "", "| component | resources |", "|---|---:|"]
    lines += [f"| {name} | {count} |" for name, count in sorted(by_component.items())]
    lines += ["", "<details><summary>Resources by type</summary>", "", "| type | count |", "|---|---:|"]
    lines += [f"| `{name}` | {count} |" for name, count in sorted(by_type.items())]
    lines += ["", "</details>", "", "### Architecture", "", *diagram.mermaid(document), ""]
    return "\n".join(lines)
