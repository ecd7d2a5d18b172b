"""aws-iam-pod-identity-trust-scoped-to-service-account — Pod Identity roles trust one service account."""

from __future__ import annotations

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
from policies.support import as_list, json_document

ROLE_TYPE = "aws:iam/role:Role"
POD_IDENTITY_SERVICE = "pods.eks.amazonaws.com"
# Session tags EKS Pod Identity sets on every AssumeRole (EKS user guide, "Create IAM role with
# trust policy required by EKS Pod Identity"); condition keys are case-insensitive.
SCOPE_KEYS = ("aws:RequestTag/kubernetes-namespace", "aws:RequestTag/kubernetes-service-account")
# Operators that require the tag to be present and equal to a listed value. The IfExists forms
# pass when the tag is absent, and the Not forms allow every other value.
_EXACT_OPERATORS = ("stringequals", "stringlike")


def _is_pod_identity(statement: Mapping[str, Any]) -> bool:
    principal = statement.get("Principal")
    if not isinstance(principal, Mapping):
        return False
    return POD_IDENTITY_SERVICE in [str(v) for v in as_list(principal.get("Service"))]


def _scope_values(statement: Mapping[str, Any], key: str) -> list[str] | None:
    """Values an exact condition on `key` allows; None when no such condition exists."""
    block = statement.get("Condition")
    if not isinstance(block, Mapping):
        return None
    found: list[str] | None = None
    for operator, entries in block.items():
        if str(operator).lower() not in _EXACT_OPERATORS or not isinstance(entries, Mapping):
            continue
        for condition_key, values in entries.items():
            if str(condition_key).lower() == key.lower():
                found = (found or []) + [str(v) for v in as_list(values)]
    return found


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type != ROLE_TYPE:
        return
    raw = args.props.get("assumeRolePolicy")
    if raw is None or raw == "":
        return  # computed at preview: checked once known
    document = json_document(raw)
    if document is None:
        report_violation("assumeRolePolicy is not a JSON policy document.", None)
        return
    for index, statement in enumerate(as_list(document.get("Statement"))):
        if not isinstance(statement, Mapping) or statement.get("Effect") != "Allow":
            continue
        if not _is_pod_identity(statement):
            continue
        sid = str(statement.get("Sid") or f"#{index}")
        for key in SCOPE_KEYS:
            values = _scope_values(statement, key)
            if not values:
                report_violation(
                    f"assumeRolePolicy: statement {sid} trusts {POD_IDENTITY_SERVICE} without a "
                    f"StringEquals condition on {key}: any pod of an associated cluster can take the role.",
                    None,
                )
            elif any(not value or "*" in value or "?" in value for value in values):
                wildcards = ", ".join(repr(v) for v in values if not v or "*" in v or "?" in v)
                report_violation(
                    f"assumeRolePolicy: statement {sid} trusts {POD_IDENTITY_SERVICE} with {key} matching "
                    f"a pattern ({wildcards}), not a named value.",
                    None,
                )


policy = ResourceValidationPolicy(
    name="aws-iam-pod-identity-trust-scoped-to-service-account",
    description=(
        "An IAM role that trusts EKS Pod Identity (pods.eks.amazonaws.com) must condition its trust on the "
        "kubernetes-namespace and kubernetes-service-account session tags, naming the service account it is for."
    ),
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    framework=PolicyComplianceFramework(name="CIS Amazon EKS Benchmark", reference="5.2.1", version="1.5.0"),
    remediation_steps=(
        "Add to the trust statement: Condition StringEquals aws:RequestTag/kubernetes-namespace = <namespace> "
        "and aws:RequestTag/kubernetes-service-account = <service account> (keep sts:TagSession in its actions "
        "and the aws:SourceArn condition on the cluster); components.pod_identity.trust_policy writes both."
    ),
    validate=validate,
)

review = Review(
    area="identity",
    controls=Controls(cis_eks=("5.2.1",), nist_800_53=("AC-3", "AC-6"), soc2=("CC6.1", "CC6.3")),
    why=(
        "A Pod Identity association can name any role its creator may pass; if the role's trust stops at "
        "the cluster, a pod in any namespace (a tenant-facing model server included) can be given the "
        "weights-reader, autoscaler or CNI role and act with its AWS permissions."
    ),
)
