"""aws-ec2-security-group-no-public-ingress — no security group accepts traffic from the whole internet."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyComplianceFramework,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
)

from policies.review import Controls, Review
from policies.support import as_list, number_text

GROUP_TYPES = ("aws:ec2/securityGroup:SecurityGroup", "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup")
INGRESS_RULE_TYPE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
LEGACY_RULE_TYPE = "aws:ec2/securityGroupRule:SecurityGroupRule"


def _whole_internet(cidr: Any) -> bool:
    try:
        return ipaddress.ip_network(str(cidr), strict=False).prefixlen == 0
    except ValueError:
        return False


def _ports(rule: Mapping[str, Any], protocol_key: str) -> str:
    if str(rule.get(protocol_key)) in ("-1", "all"):
        return "all ports"
    low, high = number_text(rule.get("fromPort")), number_text(rule.get("toPort"))
    return f"port {low}" if low == high else f"ports {low}-{high}"


def _open_sources(rule: Mapping[str, Any], *keys: str) -> Iterator[str]:
    for key in keys:
        for cidr in as_list(rule.get(key)):
            if _whole_internet(cidr):
                yield str(cidr)


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    props = args.props
    found: list[tuple[str, str]] = []
    if args.resource_type == INGRESS_RULE_TYPE:
        found = [(c, _ports(props, "ipProtocol")) for c in _open_sources(props, "cidrIpv4", "cidrIpv6")]
    elif args.resource_type == LEGACY_RULE_TYPE and props.get("type") == "ingress":
        found = [(c, _ports(props, "protocol")) for c in _open_sources(props, "cidrBlocks", "ipv6CidrBlocks")]
    elif args.resource_type in GROUP_TYPES:
        for rule in as_list(props.get("ingress")):
            if isinstance(rule, Mapping):
                found += [(c, _ports(rule, "protocol")) for c in _open_sources(rule, "cidrBlocks", "ipv6CidrBlocks")]
    for cidr, ports in found:
        report_violation(f"ingress from {cidr} (the whole internet) on {ports}.", None)


policy = ResourceValidationPolicy(
    name="aws-ec2-security-group-no-public-ingress",
    description=(
        "No security group rule admits 0.0.0.0/0 or ::/0: nothing in this platform takes traffic from the "
        "internet directly (API Gateway does, outside the VPC). Checks standalone ingress rules, legacy "
        "aws.ec2.SecurityGroupRule ingress and inline `ingress` blocks of security groups."
    ),
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    framework=PolicyComplianceFramework(name="AWS FSBP", reference="EC2.18", version="1.0.0"),
    remediation_steps=(
        "Name the real source: the VPC CIDR, another security group (`referenced_security_group_id`) or a "
        "prefix list. Public clients come in through API Gateway, never through a security group."
    ),
    validate=validate,
)

review = Review(
    area="network",
    controls=Controls(fsbp=("EC2.18", "EC2.19"), nist_800_53=("AC-4", "SC-7"), soc2=("CC6.6",)),
    why=(
        "Model servers do not authenticate callers themselves; a rule open to the internet lets anyone reach a GPU "
        "pod directly, bypassing API keys, usage-plan quotas and the WAF."
    ),
)
