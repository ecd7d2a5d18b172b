"""Human views of a plan.json: the PR comment (report.md) and the short stdout summary."""

from __future__ import annotations

import html
import json
import os
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from llmstack import diagram
from llmstack.diff import SYMBOL, Money, PlanDiff, PropertyChange, ResourceChange, money_delta, verdict_word
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


def _usd(value: float) -> str:
    """A small usage figure keeps its cents: $0.44, $1,234."""
    return f"${value:,.2f}" if abs(value) < 100 else _money(value)


def _usage_section(cost: Mapping[str, Any]) -> list[str]:
    """What the stated traffic adds on top of the fixed estimate, and each model's $ per 1M tokens."""
    prices = cost.get("price_list") or {}
    lines = ["### Usage at the stated traffic (not in the monthly estimate)", ""]
    if prices:
        lines += [f"Prices: {prices.get('source')}, as of {prices.get('date')} (`{prices.get('file')}`).", ""]
    usage = cost.get("usage") or {}
    assumption = usage.get("assumption")
    if not assumption:
        return [*lines, "No traffic assumption in the stack file (`llm-serving:traffic`): usage not estimated."]
    lines += [
        f"**{_usd(usage.get('monthly_usd', 0))}/month** from "
        + "; ".join(
            f"`{model}` {m['requests_per_month']:,} requests × {m['mean_input_tokens']:,} in + "
            f"{m['mean_output_tokens']:,} out tokens, {m['cold_starts_per_month']} cold starts"
            for model, m in (assumption.get("models") or {}).items()
        )
        + f"; {assumption.get('response_bytes_per_output_token')} response bytes per output token.",
        "",
        "| service | region | monthly | basis |",
        "|---|---|---:|---|",
    ]
    lines += [
        f"| {_cell(line['service'])} | {line['region']} | {_usd(line['monthly_usd'])} | {_cell(line['basis'])} |"
        for line in usage.get("lines") or []
    ]
    per_million = cost.get("per_million_tokens") or {}
    if per_million:
        shares, by_model = usage.get("gpu_share_usd") or {}, usage.get("by_model") or {}
        lines += ["", "| model | $ per 1M tokens | GPU share at steady | usage |", "|---|---:|---:|---:|"]
        lines += [
            f"| `{model}` | {_usd(usd)} | {_usd(shares.get(model, 0))} | {_usd(by_model.get(model, 0))} |"
            for model, usd in per_million.items()
        ]
        if any(not shares.get(model) for model in per_million):
            lines += [
                "",
                "A model with no GPU share at steady (min_replicas 0) also pays for the GPU hours it scales up "
                "for, which this figure leaves out.",
            ]
    return lines


def comment_marker(stack: str) -> str:
    """The hidden first line a workflow finds its own comment by, to update it in place."""
    return f"<!-- llm-serving-plan stack={stack} -->"


def markdown(document: Mapping[str, Any], diff: PlanDiff | None = None) -> str:
    """report.md: a PR comment that leads with what the change does when given the diff against
    the base branch's plan, then the head plan's state (cost, policy, resources) folded below."""
    by_component, by_region, by_type = _counts(document)
    cost = document.get("cost") or {}
    if diff is not None:
        headline = diff.summary()
    else:
        monthly = _money(cost.get("monthly_usd", 0))
        headline = f"{sum(by_component.values())} resources, {monthly}/month, policy {verdict_word(document)}"
    lines = [comment_marker(document["stack"]), f"## llm-serving `{document['stack']}`: {headline}", ""]
    if diff is not None:
        lines += [*diff_sections(diff), "", "<details><summary>The head plan in full</summary>", ""]
    lines += [
        f"### Plan of `{document['stack']}`",
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
    lines += ["", *_usage_section(cost)]
    lines += ["", "### Resources by component", "", "| component | resources |", "|---|---:|"]
    lines += [f"| {name} | {count} |" for name, count in sorted(by_component.items())]
    lines += ["", "<details><summary>Resources by type</summary>", "", "| type | count |", "|---|---:|"]
    lines += [f"| `{name}` | {count} |" for name, count in sorted(by_type.items())]
    lines += ["", "</details>"]
    if diff is not None:
        lines += ["", "</details>"]
    changed = {c.urn for c in diff.changes} if diff is not None else set()
    lines += ["", "### Architecture", "", *diagram.mermaid(document, changed), ""]
    return "\n".join(lines)


# --- what a change does (llmstack diff, plan --base) ---------------------------------------------

MAX_CHANGE_ROWS = 60
"""Rows of the change table in a PR comment; the rest are counted (diff.json has them all)."""
MAX_VALUE_CHARS = 60


MAX_PATH_CHARS = 100
KEPT_PREFIX_CHARS = 12
"""Of a long prefix both values share, the characters kept before the first difference."""


def _text(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, sort_keys=True)
    return " ".join(text.split())


def _code(value: Any, limit: int = MAX_VALUE_CHARS) -> str:
    """A value in a table cell: inline code, escaped for HTML and tables, cut to `limit` characters."""
    text = _text(value)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return f"<code>{html.escape(text).replace('|', '&#124;')}</code>"


def _path_code(path: str) -> str:
    """A property path, cut in the middle when long: its start names the property, its end the element."""
    if len(path) > MAX_PATH_CHARS:
        half = (MAX_PATH_CHARS - 1) // 2
        path = path[:half] + "…" + path[-half:]
    return _code(path, MAX_PATH_CHARS)


def _changed_pair(before: Any, after: Any) -> str:
    """`before → after`, starting both near their first difference when they share a long prefix
    (a description with one model added would otherwise show the same sixty characters twice)."""
    old, new = _text(before), _text(after)
    if max(len(old), len(new)) > MAX_VALUE_CHARS:
        common = len(os.path.commonprefix([old, new]))
        if common > KEPT_PREFIX_CHARS + 1:
            cut = common - KEPT_PREFIX_CHARS
            old, new = "…" + old[cut:], "…" + new[cut:]
    return f"{_code(old)} → {_code(new)}"


def _short_urn(urn: Any) -> str:
    return str(urn).rsplit("::", 1)[-1] if urn else "(stack)"


def _where(change: ResourceChange) -> str:
    return f"{change.region or 'global'} · {change.component}"


def _property_line(properties: tuple[PropertyChange, ...], limit: int) -> str:
    properties = tuple(leaf for p in properties for leaf in p.shown())
    shown = []
    for p in properties[:limit]:
        path = _path_code(p.path)
        if p.kind == "added":
            shown.append(f"{path} + {_code(p.after)}")
        elif p.kind == "removed":
            shown.append(f"{path} − {_code(p.before)}")
        else:
            shown.append(f"{path} {_changed_pair(p.before, p.after)}")
    rest = len(properties) - limit
    return "<br>".join(shown) + (f"<br>… {rest} more" if rest > 0 else "")


def _why(change: ResourceChange) -> str:
    if change.action == "create":
        return "new"
    if change.action == "delete":
        return "no longer in the program"
    reasons = [_cell(r) for r in change.replace_reasons] + [f"may replace: {_cell(r)}" for r in change.may_replace]
    return "<br>".join([*reasons, _property_line(change.properties, 3)] if change.properties else reasons)


def _money_row(label: str, money: Money) -> str:
    return f"| {label} | {_money(money.before)} | {_money(money.after)} | {money_delta(money)} |"


def diff_sections(diff: PlanDiff) -> list[str]:
    lines: list[str] = []
    if diff.stack != diff.base_stack:
        lines += [f"Compared with a plan of stack `{diff.base_stack}`.", ""]
    if diff.warnings:
        lines += ["> [!WARNING]", f"> **{len(diff.warnings)} protected or stateful resource(s) replaced or deleted:**"]
        lines += [f"> - {SYMBOL[c.action]} {_cell(c.warning)}" for c in diff.warnings]
        lines.append("")
    lines += ["### What changes", ""]
    if diff.secrets_changed:
        keys = ", ".join(f"`{_cell(k)}`" for k in diff.secrets_changed)
        lines += [f"Secret config changed (values not shown): {keys}; resources that take them may update.", ""]
    if not diff.changes:
        lines.append(f"No resource changes ({diff.unchanged} unchanged).")
    else:
        lines += ["| | resource | type | where | what |", "|---|---|---|---|---|"]
        for change in diff.changes[:MAX_CHANGE_ROWS]:
            lines.append(
                f"| {SYMBOL[change.action]} {change.action} | `{_cell(change.name)}` | `{_cell(change.type)}` | "
                f"{_cell(_where(change))} | {_why(change)} |"
            )
        if len(diff.changes) > MAX_CHANGE_ROWS:
            lines.append(f"\n… and {len(diff.changes) - MAX_CHANGE_ROWS} more (diff.json lists every change).")
        lines += ["", f"{diff.unchanged} resource(s) unchanged."]
    lines += ["", "### Cost against budget", ""]
    lines += ["| | base | head | change |", "|---|---:|---:|---:|"]
    lines += [_money_row("monthly (steady)", diff.cost.monthly), _money_row("at max scale", diff.cost.ceiling)]
    lines.append(_money_row("budget", diff.cost.budget))
    budget = diff.cost.budget.after
    if budget:
        lines += [
            "",
            f"Head: {diff.cost.monthly.after / budget:.0%} of the budget steady, "
            f"{diff.cost.ceiling.after / budget:.0%} at max scale.",
        ]
    for title, rows in (("region", diff.cost.by_region), ("component", diff.cost.by_component)):
        if rows:
            lines += ["", f"| {title} | monthly | at max scale |", "|---|---:|---:|"]
            lines += [f"| {_cell(name)} | {money_delta(m)} | {money_delta(c)} |" for name, (m, c) in rows.items()]
    policy = diff.policy
    lines += ["", "### Policy", "", f"Verdict: {policy.verdict_before} → **{policy.verdict_after}**."]
    for title, entries in (("New violations", policy.new), ("Resolved violations", policy.resolved)):
        if entries:
            lines += ["", f"{title}:", ""]
            lines += [
                f"- [{v.get('enforcement')}] `{_cell(v.get('policy'))}` on `{_cell(_short_urn(v.get('urn')))}`: "
                f"{_cell(first_line(v.get('message', '')))}"
                for v in entries
            ]
    for title, entries in (("Waivers added", policy.waivers_added), ("Waivers removed", policy.waivers_removed)):
        if entries:
            lines += ["", f"{title}:", ""]
            lines += [
                f"- `{_cell(w.get('policy'))}` on `{_cell(w.get('resource'))}` until {_cell(w.get('expires'))}: "
                f"{_cell(w.get('reason'))} ({_cell(w.get('owner'))})"
                for w in entries
            ]
    if not (policy.new or policy.resolved or policy.waivers_added or policy.waivers_removed):
        lines += ["", "No violation or waiver changes."]
    updated = [c for c in diff.changes if c.properties]
    if updated:
        lines += ["", f"<details><summary>Property changes of {len(updated)} resource(s)</summary>", ""]
        for change in updated:
            lines += [f"**{SYMBOL[change.action]} `{_cell(change.name)}`** `{_cell(change.type)}`", ""]
            lines += [f"- {_property_line((leaf,), 1)}" for p in change.properties for leaf in p.shown()]
            lines.append("")
        lines.append("</details>")
    return lines


def diff_text(diff: PlanDiff) -> str:
    """The stdout view of a diff: the summary line, warnings, one line per change, cost, policy."""
    lines = [f"llm-serving diff — stack {diff.stack}: {diff.summary()}"]
    lines += [f"WARNING: {c.warning}" for c in diff.warnings]
    if diff.secrets_changed:
        lines.append(f"secret config changed (values not shown): {', '.join(diff.secrets_changed)}")
    for change in diff.changes:
        reason = f": {'; '.join(change.replace_reasons)}" if change.replace_reasons else ""
        if change.may_replace:
            reason += f" (may replace: {'; '.join(change.may_replace)})"
        leaves = [leaf for p in change.properties for leaf in p.shown()]
        paths = ", ".join(leaf.path for leaf in leaves[:4])
        more = f" (+{len(leaves) - 4})" if len(leaves) > 4 else ""
        detail = f" [{paths}{more}]" if paths else ""
        head = f"{SYMBOL[change.action]} {change.action:<7} {change.type} {change.name}"
        lines.append(f"  {head} ({_where(change)}){reason}{detail}")
    steady, ceiling = (money_delta(m).replace("—", "no change") for m in (diff.cost.monthly, diff.cost.ceiling))
    lines.append(f"cost: {steady} steady, {ceiling} at max scale (per month)")
    policy = diff.policy
    lines.append(
        f"policy: {policy.verdict_before} -> {policy.verdict_after}: {len(policy.new)} new, {len(policy.resolved)} "
        f"resolved violation(s); {len(policy.waivers_added)} waiver(s) added, {len(policy.waivers_removed)} removed"
    )
    return "\n".join(lines)
