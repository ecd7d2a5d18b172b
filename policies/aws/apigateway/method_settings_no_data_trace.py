"""aws-apigateway-method-settings-no-data-trace — stages never log request and response data."""

from pulumi_policy import (
    EnforcementLevel,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
)

from policies.review import Controls, Review


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type != "aws:apigateway/methodSettings:MethodSettings":
        return
    settings = args.props.get("settings") or {}
    if settings.get("dataTraceEnabled") is True:
        path = args.props.get("methodPath", "?")
        report_violation(
            f"dataTraceEnabled is true for '{path}': prompts, completions and API keys would be written to "
            "execution logs.",
            None,
        )


policy = ResourceValidationPolicy(
    name="aws-apigateway-method-settings-no-data-trace",
    description=(
        "API Gateway method settings must keep data tracing off: full request/response logging writes "
        "prompts, completions and credentials to CloudWatch."
    ),
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    remediation_steps="Set `data_trace_enabled=False` in the aws.apigateway.MethodSettings settings.",
    validate=validate,
)

review = Review(
    area="data",
    controls=Controls(nist_800_53=("AU-3", "SI-12"), soc2=("CC6.7", "C1.1")),
    why=(
        "Data tracing writes every tenant's prompts, completions and API keys into CloudWatch Logs, readable by "
        "anyone with log access for the whole retention period."
    ),
)
