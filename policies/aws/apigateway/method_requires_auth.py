"""aws-apigateway-method-requires-auth — every method needs a tenant API key AND the tenant authorizer."""

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
    if args.resource_type != "aws:apigateway/method:Method":
        return
    method = args.props.get("httpMethod", "?")
    # Without the key the tenant's usage plan (throttle, quota) does not apply.
    if args.props.get("apiKeyRequired") is not True:
        report_violation(
            f"{method} method does not require an API key (apiKeyRequired is "
            f"{args.props.get('apiKeyRequired', 'unset')}): no usage plan throttles or caps its callers.",
            None,
        )
    # Without the authorizer any tenant's key reaches any model.
    authorization = args.props.get("authorization")
    if authorization != "CUSTOM":
        report_violation(
            f"{method} method does not use the tenant authorizer (authorization is {authorization or 'unset'}, "
            "must be CUSTOM): any tenant's key reaches any model.",
            None,
        )
    elif not args.props.get("authorizerId"):
        report_violation(f"{method} method uses CUSTOM authorization without an authorizerId.", None)


policy = ResourceValidationPolicy(
    name="aws-apigateway-method-requires-auth",
    description=(
        "Every API Gateway method requires an API key (so the tenant's usage plan throttles and caps it) and the "
        "tenant Lambda authorizer (authorization CUSTOM with an authorizerId, so a key reaches only its tenant's "
        "models)."
    ),
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    framework=PolicyComplianceFramework(name="NIST 800-53", reference="AC-3", version="rev5"),
    remediation_steps=(
        "Set `api_key_required=True`, `authorization='CUSTOM'` and `authorizer_id` to the gateway's tenant "
        "authorizer on the method (components.gateway does)."
    ),
    validate=validate,
)

review = Review(
    area="identity",
    controls=Controls(nist_800_53=("AC-3", "IA-2", "SC-5"), soc2=("CC6.1",)),
    why=(
        "The key alone lets any tenant call any model; the authorizer alone leaves the tenant's quota and throttle "
        "off, so one tenant can exhaust the GPUs every tenant shares."
    ),
)
