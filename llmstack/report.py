"""Human views of a plan.json: the PR comment (report.md) and the short stdout summary."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

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


def _diagram(document: Mapping[str, Any]) -> list[str]:
    """Mermaid: regions and on-prem targets with the components placed in each, and each region's
    VPN and Direct Connect association to the data centre (to its on-prem target's group when the target
    has the data centre's name)."""
    where = placement(document["resources"])
    groups: dict[str, set[str]] = {}
    for resource in document["resources"]:
        if resource["type"].startswith("llm-serving:") and not resource["type"].endswith(":RegionalPlatform"):
            region = where[resource["urn"]]["region"] or "global"
            groups.setdefault(region, set()).add(resource["type"].rsplit(":", 1)[1])
    lines = ["```mermaid", "flowchart LR"]
    ids: dict[str, str] = {}
    for index, (region, components) in enumerate(sorted(groups.items())):
        ids[region] = f"g{index}"
        lines.append(f'  subgraph g{index}["{region}"]')
        lines.extend(f'    g{index}_{name}["{name}"]' for name in sorted(components))
        lines.append("  end")
    for region, datacentre, label in _datacentre_links(document, where):
        target = ids.get(f"onprem-{datacentre}")
        if target is None:
            target = f"dc_{datacentre.replace('-', '_')}"
            if f'  {target}[("data centre {datacentre}")]' not in lines:
                lines.append(f'  {target}[("data centre {datacentre}")]')
        source = ids.get(region or "global", "global")
        lines.append(f'  {source} -- "{label}" --- {target}')
    lines.append("```")
    return lines


def _datacentre_links(
    document: Mapping[str, Any], where: Mapping[str, Mapping[str, Any]]
) -> list[tuple[str | None, str, str]]:
    """(region, data centre, label) per private link: each VPN, and each Direct Connect association
    (its data centre is its Direct Connect gateway's tag)."""
    by_urn = {r["urn"]: r for r in document["resources"]}

    def datacentre_of(resource: Mapping[str, Any]) -> str:
        inputs = resource.get("inputs")
        tags = inputs.get("tags") if isinstance(inputs, dict) else None
        return str((tags or {}).get("llm-serving/datacentre", "?"))

    links: set[tuple[str | None, str, str]] = set()
    for r in document["resources"]:
        if r["type"] == "aws:ec2/vpnConnection:VpnConnection":
            links.add((where[r["urn"]]["region"], datacentre_of(r), "Site-to-Site VPN (2 tunnels, BGP)"))
        elif r["type"] == "aws:directconnect/gatewayAssociation:GatewayAssociation":
            gateways = (r.get("property_dependencies") or {}).get("dxGatewayId") or []
            datacentre = next((datacentre_of(by_urn[u]) for u in gateways if u in by_urn), "?")
            links.add((where[r["urn"]]["region"], datacentre, "Direct Connect"))
    return sorted(links, key=lambda link: (str(link[0]), link[1], link[2]))


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
    lines += ["", *_usage_section(cost)]
    lines += ["", "### Resources by component", "", "| component | resources |", "|---|---:|"]
    lines += [f"| {name} | {count} |" for name, count in sorted(by_component.items())]
    lines += ["", "<details><summary>Resources by type</summary>", "", "| type | count |", "|---|---:|"]
    lines += [f"| `{name}` | {count} |" for name, count in sorted(by_type.items())]
    lines += ["", "</details>", "", "### Architecture", "", *_diagram(document), ""]
    return "\n".join(lines)
