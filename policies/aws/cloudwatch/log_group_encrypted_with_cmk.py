"""aws-cloudwatch-log-group-encrypted-with-cmk — log groups encrypt with a customer-managed KMS key."""

from pulumi_policy import (
    EnforcementLevel,
    PolicyComplianceFramework,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
)

from policies.review import Controls, Review

LOG_GROUP_TYPE = "aws:cloudwatch/logGroup:LogGroup"


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type != LOG_GROUP_TYPE:
        return
    key = args.props.get("kmsKeyId")
    if not key:
        report_violation(
            f"log group '{args.name}' sets no kmsKeyId: its logs (requests, WAF matches, flows) are encrypted "
            "with a key this stack does not control.",
            None,
        )
    elif not isinstance(key, str) or not key.startswith("arn:") or ":alias/aws/" in key:
        report_violation(f"log group '{args.name}' kmsKeyId {key!r} is not a customer-managed key ARN.", None)
    else:
        parts = key.split(":")
        account = args.get_config().get("accountId")
        region = args.provider.props.get("region") if args.provider is not None else None
        if len(parts) < 6 or (account and parts[4] != account) or (region and parts[3] != region):
            report_violation(
                f"log group '{args.name}' kmsKeyId {key} is not a key of this stack's account in its region.", None
            )


policy = ResourceValidationPolicy(
    name="aws-cloudwatch-log-group-encrypted-with-cmk",
    description=(
        "Every CloudWatch log group sets kmsKeyId to the ARN of a customer-managed KMS key in the stack's account "
        "and the log group's region."
    ),
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.MEDIUM,
    framework=PolicyComplianceFramework(name="NIST 800-53", reference="SC-28", version="rev5"),
    config_schema=PolicyConfigSchema(properties={"accountId": {"type": "string", "pattern": "^[0-9]{12}$"}}),
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
