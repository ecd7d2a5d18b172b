"""aws-kms-key-policy-same-account — key policies grant nothing to another account."""

from __future__ import annotations

from pulumi_policy import (
    EnforcementLevel,
    PolicyComplianceFramework,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
)

from policies.aws.iam.documents import foreign_grants
from policies.review import Controls, Review
from policies.support import ACCOUNT_ID_PROPERTY, json_document

KEY_TYPES = ("aws:kms/key:Key", "aws:kms/replicaKey:ReplicaKey")


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    account = args.get_config().get("accountId")
    if args.resource_type not in KEY_TYPES or not account or args.props.get("policy") is None:
        return  # no account pinned: nothing to compare with; no policy: the wildcard policy reports it
    document = json_document(args.props.get("policy"))
    if document is None:
        return  # aws-kms-key-policy-disallow-wildcard-principal reports an unreadable policy
    for grant in foreign_grants(document, str(account)):
        report_violation(f"key policy: {grant}, not this stack's account {account}.", None)


policy = ResourceValidationPolicy(
    name="aws-kms-key-policy-same-account",
    description="KMS key policies must allow only principals of the stack's own AWS account.",
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.CRITICAL,
    framework=PolicyComplianceFramework(name="AWS FSBP", reference="KMS.5", version="1.0.0"),
    config_schema=PolicyConfigSchema(properties={"accountId": ACCOUNT_ID_PROPERTY}),
    remediation_steps=(
        "Name only `arn:aws:iam::<llm-serving:aws_account_id>:...` principals and service principals pinned "
        "with aws:SourceAccount / kms:CallerAccount to that account; share data across accounts by "
        "replication into a key that account owns."
    ),
    validate=validate,
)

review = Review(
    area="identity",
    controls=Controls(fsbp=("KMS.5",), nist_800_53=("AC-3", "SC-12"), soc2=("CC6.1",)),
    why=(
        "The weights, logs and secrets keys are the last line around model weights and tenants' prompts; "
        "a grant to another account lets it decrypt every copy it can reach, outside our audit trail."
    ),
)
