"""aws-apigateway-rest-api-no-edge-endpoint — REST APIs on the data path are REGIONAL or PRIVATE."""

from pulumi_policy import (
    EnforcementLevel,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
)

from policies.review import Controls, Review

ALLOWED = ("REGIONAL", "PRIVATE")


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type != "aws:apigateway/restApi:RestApi":
        return
    types = (args.props.get("endpointConfiguration") or {}).get("types")
    if types is None:
        report_violation("endpointConfiguration is not set: the REST API defaults to an EDGE endpoint.", None)
    elif types not in ALLOWED:
        report_violation(f"endpoint type is {types}; allowed: {', '.join(ALLOWED)}.", None)


policy = ResourceValidationPolicy(
    name="aws-apigateway-rest-api-no-edge-endpoint",
    description=(
        "REST APIs must use a REGIONAL or PRIVATE endpoint. An EDGE endpoint puts an AWS-managed "
        "CloudFront distribution in front that the regional WAF web ACL does not protect and the "
        "latency-based hostname cannot route."
    ),
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.MEDIUM,
    remediation_steps="Set `endpoint_configuration=aws.apigateway.RestApiEndpointConfigurationArgs(types='REGIONAL')`.",
    validate=validate,
)

review = Review(
    area="network",
    controls=Controls(nist_800_53=("SC-7",), soc2=("CC6.6",)),
    why=(
        "An EDGE endpoint puts an AWS-managed CloudFront distribution in front of the API that the stack's "
        "regional WAF web ACL does not cover and the latency-based hostname cannot route, so requests reach the "
        "authorizer and models unfiltered."
    ),
)
