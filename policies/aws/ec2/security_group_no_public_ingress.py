"""aws-ec2-security-group-no-public-ingress — no security group accepts traffic from the whole internet."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
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
from policies.support import ingress_cidr_sources, number_text


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


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    for _, cidr, rule, protocol_key in ingress_cidr_sources(args.resource_type, args.props):
        if _whole_internet(cidr):
            report_violation(f"ingress from {cidr} (the whole internet) on {_ports(rule, protocol_key)}.", None)


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
