"""aws-iam-roles-anywhere-trust-scoped — a role IAM Roles Anywhere vends names its trust anchor and
the certificates it is for.

IAM Roles Anywhere (`rolesanywhere.amazonaws.com`) assumes a role for whoever presents a certificate
from a trust anchor of the account. Each Allow statement trusting the service must therefore
- pin `aws:SourceArn` to a trust anchor with ArnEquals (an exact ARN), or any anchor someone adds to
  the account later (another CA, a self-signed one) can vend the role; and
- name the certificates by their subject CN (`aws:PrincipalTag/x509Subject/CN`) with StringEquals, or
  StringLike with a fixed prefix (`llm-node-dc1-rack2-*`: one machine certificate each), or every
  certificate the data centre's CA issues (any server of the data centre) can take the role.
"""

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

from policies.aws.iam.documents import Unreadable, allow_statements, conditions, is_negated, trust_document
from policies.review import Controls, Review
from policies.support import as_list

ROLES_ANYWHERE_SERVICE = "rolesanywhere.amazonaws.com"
SOURCE_ARN = "aws:SourceArn"
SUBJECT_CN = "aws:PrincipalTag/x509Subject/CN"


def _trusts_roles_anywhere(statement: Mapping[str, Any]) -> bool:
    principal = statement.get("Principal")
    if not isinstance(principal, Mapping):
        return False
    return ROLES_ANYWHERE_SERVICE in [str(v) for v in as_list(principal.get("Service"))]


def _values(statement: Mapping[str, Any], key: str, operators: tuple[str, ...]) -> list[str] | None:
    """Values of conditions on `key` with one of `operators` (case-insensitive); None when none."""
    found: list[str] | None = None
    for operator, condition_key, values in conditions(statement):
        if is_negated(operator) or condition_key.lower() != key.lower():
            continue
        if operator.split(":")[-1].lower() in operators:
            found = (found or []) + values
    return found


def _names_certificates(pattern: str) -> bool:
    """A CN StringLike pattern names certificates when a fixed prefix comes before any wildcard."""
    wildcard = min((i for i in (pattern.find("*"), pattern.find("?")) if i >= 0), default=len(pattern))
    return wildcard > 0


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    for where, document in trust_document(args.resource_type, args.props):
        if isinstance(document, Unreadable):
            continue  # aws-iam-role-trust-policy-restricted reports it
        for sid, statement in allow_statements(document):
            if not _trusts_roles_anywhere(statement):
                continue
            anchors = _values(statement, SOURCE_ARN, ("arnequals",))
            if not anchors or any("*" in a or "?" in a or not a for a in anchors):
                report_violation(
                    f"{where}: statement {sid} trusts {ROLES_ANYWHERE_SERVICE} without ArnEquals {SOURCE_ARN} "
                    "on one trust anchor: any trust anchor of the account can vend the role.",
                    None,
                )
            exact = _values(statement, SUBJECT_CN, ("stringequals",)) or []
            patterns = _values(statement, SUBJECT_CN, ("stringlike",)) or []
            if not exact and not patterns:
                report_violation(
                    f"{where}: statement {sid} trusts {ROLES_ANYWHERE_SERVICE} without a condition on "
                    f"{SUBJECT_CN}: every certificate the trust anchor's CA issues can take the role.",
                    None,
                )
                continue
            broad = [p for p in patterns if not _names_certificates(p)] + [e for e in exact if not e]
            if broad:
                shown = ", ".join(repr(p) for p in broad)
                report_violation(
                    f"{where}: statement {sid} trusts {ROLES_ANYWHERE_SERVICE} for {SUBJECT_CN} {shown}, which "
                    "names no certificates (a fixed prefix must come before any wildcard).",
                    None,
                )


policy = ResourceValidationPolicy(
    name="aws-iam-roles-anywhere-trust-scoped",
    description=(
        "An IAM role that trusts IAM Roles Anywhere pins aws:SourceArn to one trust anchor (ArnEquals) and names "
        "the certificates by subject CN (StringEquals, or StringLike with a fixed prefix)."
    ),
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    framework=PolicyComplianceFramework(name="NIST SP 800-53", reference="IA-5, AC-6", version="5"),
    remediation_steps=(
        "Condition each statement trusting rolesanywhere.amazonaws.com on ArnEquals aws:SourceArn = the trust "
        "anchor's ARN and on StringEquals aws:PrincipalTag/x509Subject/CN = the workload's CN (or StringLike "
        "'<prefix>*' for one certificate per machine); components.roles_anywhere.trust_policy and "
        "components.hybrid_nodes.node_trust_policy write both."
    ),
    validate=validate,
)

review = Review(
    area="identity",
    controls=Controls(nist_800_53=("IA-5", "AC-6"), soc2=("CC6.1", "CC6.3")),
    why=(
        "The data centre's CA issues certificates to many servers; a role that trusts the CA as a whole gives "
        "each of them the weights reader, the metrics writer or the right to join a cluster as a node."
    ),
)
