"""aws-lambda-function-url-disallow-auth-none — function URLs require IAM (SigV4) authentication."""

from __future__ import annotations

from pulumi_policy import (
    EnforcementLevel,
    PolicyComplianceFramework,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
)

from policies.review import Controls, Review

FUNCTION_URL_TYPE = "aws:lambda/functionUrl:FunctionUrl"


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type != FUNCTION_URL_TYPE:
        return
    auth = args.props.get("authorizationType")
    if auth == "NONE":
        report_violation("authorizationType NONE: anyone who finds the URL invokes the function.", None)
    elif auth != "AWS_IAM":
        report_violation(f"authorizationType is {auth!r}, not AWS_IAM.", None)


policy = ResourceValidationPolicy(
    name="aws-lambda-function-url-disallow-auth-none",
    description="Lambda function URLs must use authorizationType AWS_IAM, never NONE.",
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.CRITICAL,
    framework=PolicyComplianceFramework(name="AWS FSBP", reference="Lambda.1", version="1.0.0"),
    remediation_steps=(
        "Set authorizationType to AWS_IAM, or drop the function URL: tenants reach the platform through the "
        "API Gateway stage, behind the WAF, the authorizer and the usage plan."
    ),
    validate=validate,
)

review = Review(
    area="identity",
    controls=Controls(fsbp=("Lambda.1",), nist_800_53=("AC-3", "SC-7"), soc2=("CC6.1", "CC6.6")),
    why=(
        "A function URL with auth NONE is a second, public door around the gateway: no WAF, no tenant "
        "key, no quota; the tenant authorizer behind it would answer anyone probing for keys."
    ),
)
