"""aws-cloudwatch-log-group-encrypted-with-cmk — log groups encrypt with a customer-managed KMS key of this stack."""

from pulumi_policy import (
    EnforcementLevel,
    PolicyComplianceFramework,
    PolicyConfigSchema,
    ReportViolation,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)

from policies.review import Controls, Review
from policies.support import ACCOUNT_ID_PROPERTY, depends_on, region_of, resources_of_type

LOG_GROUP_TYPE = "aws:cloudwatch/logGroup:LogGroup"
KEY_TYPES = ("aws:kms/key:Key", "aws:kms/replicaKey:ReplicaKey")


def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    account = args.get_config().get("accountId")
    keys = resources_of_type(args.resources, *KEY_TYPES)
    for group in resources_of_type(args.resources, LOG_GROUP_TYPE):

        def report(message: str, group=group) -> None:
            report_violation(f"log group '{group.name}' {message}", group.urn)

        key = group.props.get("kmsKeyId")
        if not key:
            report(
                "sets no kmsKeyId: its logs (requests, WAF matches, flows) are encrypted with a key this stack does "
                "not control."
            )
            continue
        if not isinstance(key, str) or not key.startswith("arn:") or ":alias/aws/" in key:
            report(f"kmsKeyId {key!r} is not a customer-managed key ARN.")
            continue
        parts = key.split(":")
        region = region_of(group)
        # The key must be one this stack declares (the ARN computed from it), in its account and region.
        if not any(depends_on(group, "kmsKeyId", k.urn) for k in keys) or (
            len(parts) < 6 or (account and parts[4] != account) or (region and parts[3] != region)
        ):
            report(f"kmsKeyId {key} is not a KMS key of this stack in the log group's region.")


policy = StackValidationPolicy(
    name="aws-cloudwatch-log-group-encrypted-with-cmk",
    description=(
        "Every CloudWatch log group sets kmsKeyId to the ARN of a customer-managed KMS key this stack declares "
        "(kmsKeyId computed from it), in the stack's account and the log group's region."
    ),
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.MEDIUM,
    framework=PolicyComplianceFramework(name="NIST 800-53", reference="SC-28", version="rev5"),
    config_schema=PolicyConfigSchema(properties={"accountId": ACCOUNT_ID_PROPERTY}),
    remediation_steps=(
        "Set `kms_key_id` on the aws.cloudwatch.LogGroup to the region's logs key (components.encryption), whose "
        "key policy lets logs.<region>.amazonaws.com use it."
    ),
    validate=validate,
)

review = Review(
    area="data",
    controls=Controls(nist_800_53=("SC-28", "AU-9"), soc2=("CC6.1",)),
    why=(
        "Gateway, authorizer and WAF logs hold tenant identities and request metadata; with the stack's key, "
        "reading them needs a grant the key policy controls and revoking the key revokes them."
    ),
)
