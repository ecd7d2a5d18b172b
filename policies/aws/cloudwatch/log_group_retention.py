"""aws-cloudwatch-log-group-retention-minimum — log groups keep logs at least the stack's minimum."""

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
from policies.support import number_text

LOG_GROUP_TYPE = "aws:cloudwatch/logGroup:LogGroup"


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type != LOG_GROUP_TYPE:
        return
    minimum = args.get_config()["logRetentionMinDays"]
    days = args.props.get("retentionInDays")
    if days is None or days == 0:
        report_violation(
            f"log group '{args.name}' sets no retentionInDays (logs never expire); set at least "
            f"{number_text(minimum)} days.",
            None,
        )
    elif isinstance(days, bool) or not isinstance(days, (int, float)):
        report_violation(f"log group '{args.name}' retentionInDays {days!r} is not a number of days.", None)
    elif days < minimum:
        report_violation(
            f"log group '{args.name}' keeps logs {number_text(days)} days, less than the stack's minimum of "
            f"{number_text(minimum)} (policy.log_retention_min_days).",
            None,
        )


policy = ResourceValidationPolicy(
    name="aws-cloudwatch-log-group-retention-minimum",
    description=(
        "Every CloudWatch log group sets retentionInDays to at least the stack's policy.log_retention_min_days "
        "(an explicit expiry: logs that never expire keep request metadata forever)."
    ),
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.MEDIUM,
    framework=PolicyComplianceFramework(name="AWS FSBP", reference="CloudWatch.16", version="1.0.0"),
    config_schema=PolicyConfigSchema(
        properties={"logRetentionMinDays": {"type": "integer", "minimum": 1}},
        required=["logRetentionMinDays"],
    ),
    remediation_steps=(
        "Set `retention_in_days` on the aws.cloudwatch.LogGroup to `llm-serving:log_retention_days` (components "
        "do), which must be >= `llm-serving:policy.log_retention_min_days`."
    ),
    validate=validate,
)

review = Review(
    area="data",
    controls=Controls(fsbp=("CloudWatch.16",), nist_800_53=("AU-11",), soc2=("CC7.2",)),
    why=(
        "An incident on a tenant's traffic or a leaked key is investigated from these logs; a 1-day retention "
        "erases the evidence before anyone looks."
    ),
)
