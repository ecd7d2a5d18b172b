"""aws-apigateway-method-requires-auth — every method needs an API key or an authorizer."""

from pulumi_policy import (
    EnforcementLevel,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
)

from policies.review import Controls, Review

AUTHORIZERS = ("CUSTOM", "AWS_IAM", "COGNITO_USER_POOLS")


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type != "aws:apigateway/method:Method":
        return
    if args.props.get("apiKeyRequired") is True or args.props.get("authorization") in AUTHORIZERS:
        return
    method = args.props.get("httpMethod", "?")
    report_violation(
        f"{method} method requires neither an API key (apiKeyRequired) nor an authorizer "
        f"(authorization is {args.props.get('authorization', 'unset')}): anyone can call it.",
        None,
    )


policy = ResourceValidationPolicy(
    name="aws-apigateway-method-requires-auth",
    description="Every API Gateway method must require an API key or an authorizer (CUSTOM, AWS_IAM, Cognito).",
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    remediation_steps=(
        "Set `api_key_required=True` and/or `authorization='CUSTOM'` with an `authorizer_id` on the method."
    ),
    validate=validate,
)

review = Review(
    area="identity",
    controls=Controls(nist_800_53=("AC-3", "IA-8"), soc2=("CC6.1",)),
    why=(
        "An open method serves models to anyone on the internet; without the API key a tenant's usage-plan quota "
        "does not apply, and without the authorizer a tenant's key reaches models it was never granted."
    ),
)
