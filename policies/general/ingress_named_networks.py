"""network-ingress-from-named-networks — what security groups and NetworkPolicies admit from outside
the stack's VPCs is a named network of the data centre, and the rule says which.

The names and their CIDRs come from the stack file (policy config): `datacentre.networks`, and each
eks-hybrid-nodes target's node and pod networks (`<target>-nodes`, `<target>-pods`). An ingress
source inside one of the stack's VPCs is the platform's own (the gateway's private path, the
metrics agent's subnets) and is left to the other network policies. Any other source must equal a
named network exactly (a range that holds one, such as the data centre's /16, is refused), and the
rule must carry its name: a security group rule in its description, a NetworkPolicy in its
`llm-serving/ingress-networks` annotation (`name=cidr,...`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyComplianceFramework,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
)

from components.conventions import INGRESS_NETWORKS_ANNOTATION
from components.named_networks import inside_any, name_of, parse_annotation
from policies.kubernetes.workloads import NETWORK_POLICY, mapping, mappings
from policies.review import Controls, Review
from policies.support import as_list, ingress_cidr_sources


def _names(text: str, name: str) -> bool:
    """Whether `text` carries `name` as a whole name (dc1-pods is not in dc1-pods-2)."""
    return re.search(rf"(?<![A-Za-z0-9-]){re.escape(name)}(?![A-Za-z0-9-])", text) is not None


def _network_policy_sources(props: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """(where, cidr) of each ingress ipBlock of a NetworkPolicy."""
    for index, rule in enumerate(mappings(mapping(props.get("spec")).get("ingress"))):
        for peer_index, peer in enumerate(mappings(rule.get("from"))):
            if "ipBlock" in peer:
                yield f"ingress[{index}].from[{peer_index}]", str(mapping(peer.get("ipBlock")).get("cidr"))


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    config = args.get_config() or {}
    named = {str(k): str(v) for k, v in mapping(config.get("namedNetworks")).items()}
    vpcs = [str(c) for c in as_list(config.get("vpcCidrs"))]
    if args.resource_type == NETWORK_POLICY:
        annotations = mapping(mapping(args.props.get("metadata")).get("annotations"))
        listed = parse_annotation(annotations.get(INGRESS_NETWORKS_ANNOTATION))
        sources = [(where, cidr, listed.get(cidr) or "") for where, cidr in _network_policy_sources(args.props)]
        carrier = f"the {INGRESS_NETWORKS_ANNOTATION} annotation"
    else:
        sources = [
            (where, cidr, str(rule.get("description") or ""))
            for where, cidr, rule, _ in ingress_cidr_sources(args.resource_type, args.props)
        ]
        carrier = "its description"
    for where, cidr, naming in sources:
        if inside_any(cidr, vpcs):
            continue  # the platform's own addresses
        name = name_of(cidr, named)
        if name is None:
            shown = ", ".join(f"{n} {c}" for n, c in sorted(named.items())) or "none configured"
            report_violation(
                f"{where} admits {cidr}: outside the stack's VPCs and not a named data centre network ({shown}).",
                None,
            )
        elif not _names(naming, name):
            report_violation(f"{where} admits {cidr} ({name}) without naming {name} in {carrier}.", None)


policy = ResourceValidationPolicy(
    name="network-ingress-from-named-networks",
    description=(
        "Security group rules and NetworkPolicy ipBlocks admit, from outside the stack's VPCs, only named data "
        "centre networks (datacentre.networks, hybrid targets' node and pod networks): each source equals one "
        "exactly, never a range holding it, and the rule carries its name (description, or the "
        "llm-serving/ingress-networks annotation)."
    ),
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    framework=PolicyComplianceFramework(name="NIST SP 800-53", reference="AC-4, SC-7", version="5"),
    config_schema=PolicyConfigSchema(
        properties={
            "namedNetworks": {
                "type": "object",
                "additionalProperties": {"type": "string"},
                "default": {},
                "description": "name -> CIDR of each network a rule may admit (datacentre.networks, hybrid targets)",
            },
            "vpcCidrs": {
                "type": "array",
                "items": {"type": "string"},
                "default": [],
                "description": "the stack's VPC networks (regions[].vpc_cidr of the stack file)",
            },
        },
    ),
    remediation_steps=(
        "Name the network in datacentre.networks (name, cidr) and list its name in the target's client_networks "
        "or node_networks, or a sensitive model's clients[].networks; the components put the name in the rule. "
        "Never admit the data centre's whole range."
    ),
    validate=validate,
)

review = Review(
    area="network",
    controls=Controls(nist_800_53=("AC-4", "SC-7"), soc2=("CC6.6",)),
    why=(
        "A rule admitting 10.100.0.0/16 lets every host of the data centre reach the model servers and the "
        "interface endpoints; a named network says who calls, and a reviewer can check the name against the "
        "data centre's own inventory."
    ),
)
