"""aws-apigateway-stage-access-logging — every stage writes access logs in JSON to CloudWatch."""

from pulumi_policy import (
    EnforcementLevel,
    PolicyComplianceFramework,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
)

from policies.review import Controls, Review
from policies.support import json_document


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type != "aws:apigateway/stage:Stage":
        return
    settings = args.props.get("accessLogSettings") or {}
    if not settings.get("destinationArn"):
        report_violation("accessLogSettings.destinationArn is not set: the stage keeps no access log.", None)
    elif json_document(settings.get("format")) is None:
        report_violation("accessLogSettings.format is not a JSON object: access logs are not queryable.", None)


policy = ResourceValidationPolicy(
    name="aws-apigateway-stage-access-logging",
    description=(
        "Every API Gateway stage must send access logs, formatted as a JSON object, to a log group "
        "(request id, API key id, status, latency; never bodies)."
    ),
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.MEDIUM,
    framework=PolicyComplianceFramework(name="AWS FSBP", reference="APIGateway.1", version="1.0.0"),
    remediation_steps=(
        "Set `access_log_settings` on the aws.apigateway.Stage with `destination_arn` of a KMS-encrypted "
        "log group and a JSON `format` (see components/gateway.py ACCESS_LOG_FORMAT)."
    ),
    validate=validate,
)

review = Review(
    area="network",
    controls=Controls(fsbp=("APIGateway.1",), nist_800_53=("AU-2", "AU-3", "AU-12"), soc2=("CC7.2",)),
    why=(
        "Access logs tie every request to an API key, status and latency; without them abuse of a tenant's key, or "
        "who spent which GPU time, cannot be traced."
    ),
)
