"""aws-kms-key-policy-disallow-wildcard-principal — key policies name who may use a key."""

from pulumi_policy import (
    EnforcementLevel,
    PolicyComplianceFramework,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
)

from policies.review import Controls, Review
from policies.support import json_document, principals, statements

KEY_TYPES = ("aws:kms/key:Key", "aws:kms/replicaKey:ReplicaKey")


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type not in KEY_TYPES:
        return
    raw = args.props.get("policy")
    if raw is None:
        report_violation("no key policy: AWS applies its default policy; declare a least-privilege one.", None)
        return
    document = json_document(raw)
    if document is None:
        report_violation("the key policy is not a JSON document.", None)
        return
    for index, statement in enumerate(statements(document)):
        if statement.get("Effect") != "Allow":
            continue
        if any(p == "*" or p.endswith(":*") for p in principals(statement)):
            sid = statement.get("Sid", f"#{index}")
            report_violation(f"statement {sid} allows a wildcard principal ('*').", None)


policy = ResourceValidationPolicy(
    name="aws-kms-key-policy-disallow-wildcard-principal",
    description="KMS key policies must not allow a wildcard principal.",
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.CRITICAL,
    framework=PolicyComplianceFramework(name="AWS FSBP", reference="KMS.5", version="1.0.0"),
    remediation_steps=(
        "Name the account root and the service principals that need the key, and narrow them with "
        "conditions such as kms:ViaService or kms:EncryptionContext; never use Principal '*'."
    ),
    validate=validate,
)

review = Review(
    area="identity",
    controls=Controls(fsbp=("KMS.5",), nist_800_53=("AC-3", "AC-6"), soc2=("CC6.1",)),
    why=(
        "The weights, logs and secrets keys decrypt model weights and tenants' prompts in logs; a key "
        "usable by any principal makes every encrypted copy readable by anyone who can reach it."
    ),
)
