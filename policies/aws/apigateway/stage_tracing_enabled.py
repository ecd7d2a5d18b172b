"""aws-apigateway-stage-tracing-enabled — every stage traces requests with X-Ray."""

from pulumi_policy import (
    EnforcementLevel,
    PolicyComplianceFramework,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
)

from policies.review import Controls, Review


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type != "aws:apigateway/stage:Stage":
        return
    if args.props.get("xrayTracingEnabled") is not True:
        report_violation("xrayTracingEnabled is not true: requests through the stage are not traced.", None)


policy = ResourceValidationPolicy(
    name="aws-apigateway-stage-tracing-enabled",
    description="Every API Gateway stage must have AWS X-Ray tracing enabled.",
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.LOW,
    framework=PolicyComplianceFramework(name="AWS FSBP", reference="APIGateway.3", version="1.0.0"),
    remediation_steps="Set `xray_tracing_enabled=True` on the aws.apigateway.Stage.",
    validate=validate,
)

review = Review(
    area="network",
    controls=Controls(fsbp=("APIGateway.3",), nist_800_53=("AU-12", "SI-4"), soc2=("CC7.2",)),
    why=(
        "Traces show where a slow or failed generation spent its time (authorizer, private link, model server); "
        "without them a cold GPU replica and an attack look the same."
    ),
)
