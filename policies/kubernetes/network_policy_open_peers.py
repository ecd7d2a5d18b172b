"""kubernetes-network-policy-disallow-open-peers — NetworkPolicy rules name who may connect.

Refused: an ingress rule without `from` (it admits every source), an `ipBlock` broader than /8
(`0.0.0.0/0`, `::/0`: the internet) in an ingress or egress rule, and an ingress peer that selects
every pod of every namespace. An egress rule without `to` stays allowed: it is how a policy opens
DNS (port 53) to the cluster's resolver.
"""

import ipaddress
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyComplianceFramework,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
)

from policies.kubernetes.workloads import NETWORK_POLICY, mapping, mappings
from policies.review import Controls, Review

# The broadest ipBlock a rule may name (10.0.0.0/8 is the widest private range).
MIN_PREFIX = 8


def _peer_problem(peer: dict[str, Any], ingress: bool) -> str | None:
    if "ipBlock" in peer:
        cidr = mapping(peer.get("ipBlock")).get("cidr")
        try:
            network = ipaddress.ip_network(str(cidr), strict=False)
        except ValueError:
            return f"ipBlock cidr '{cidr}' is not a network."
        if network.prefixlen < MIN_PREFIX:
            return f"ipBlock {cidr} is broader than /{MIN_PREFIX}."
        return None
    namespaces, pods = peer.get("namespaceSelector"), peer.get("podSelector")
    if ingress and namespaces is not None and not namespaces and not pods:
        return "selects every pod in every namespace."
    return None


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type != NETWORK_POLICY:
        return
    spec = mapping(args.props.get("spec"))
    for direction, peers_key in (("ingress", "from"), ("egress", "to")):
        for index, rule in enumerate(mappings(spec.get(direction))):
            peers = mappings(rule.get(peers_key))
            if direction == "ingress" and not peers:
                report_violation(f"ingress[{index}] has no 'from': it admits traffic from every source.", None)
            for peer_index, peer in enumerate(peers):
                problem = _peer_problem(peer, ingress=direction == "ingress")
                if problem:
                    report_violation(f"{direction}[{index}].{peers_key}[{peer_index}]: {problem}", None)


policy = ResourceValidationPolicy(
    name="kubernetes-network-policy-disallow-open-peers",
    description=(
        "NetworkPolicy ingress rules name their sources (no rule without `from`, no peer selecting every pod of "
        "every namespace), and no ingress or egress ipBlock is broader than /8."
    ),
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    framework=PolicyComplianceFramework(name="CIS EKS", reference="4.3.2", version="1.7.0"),
    remediation_steps=(
        "Name the sources: the gateway's private path addresses (/32), the target's client_networks (named data "
        "centre networks), or a podSelector with a namespaceSelector for in-cluster clients such as the metrics "
        "agent. Never 0.0.0.0/0."
    ),
    validate=validate,
)

review = Review(
    area="network",
    controls=Controls(cis_eks=("4.3.2", "5.4.4"), nist_800_53=("SC-7", "AC-4"), soc2=("CC6.6",)),
    why=(
        "An open rule on a model server's NetworkPolicy is the same as none: every pod and any routable host "
        "reaches the inference port around the gateway's authentication, quotas and WAF."
    ),
)
