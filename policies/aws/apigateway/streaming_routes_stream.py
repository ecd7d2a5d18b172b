"""aws-apigateway-streaming-routes-stream — token-streaming routes use response streaming."""

from pulumi_policy import (
    EnforcementLevel,
    PolicyResource,
    ReportViolation,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)

from policies.review import Controls, Review
from policies.support import resources_of_type

RESOURCE_TYPE = "aws:apigateway/resource:Resource"
STREAMING_SUFFIXES = (("generate_stream",), ("chat", "completions"))


def _source(resource: PolicyResource, prop: str, resource_type: str) -> PolicyResource | None:
    """The resource of `resource_type` a property was computed from."""
    return next(
        (dep for dep in resource.property_dependencies.get(prop) or [] if dep.resource_type == resource_type), None
    )


def resource_path(resource: PolicyResource | None) -> tuple[str, ...]:
    """Path parts of an API Gateway resource, following parentId back to the root."""
    parts: list[str] = []
    seen: set[str] = set()
    while resource is not None and resource.urn not in seen:
        seen.add(resource.urn)
        parts.insert(0, str(resource.props.get("pathPart", "")))
        resource = _source(resource, "parentId", RESOURCE_TYPE)
    return tuple(parts)


def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    for integration in resources_of_type(args.resources, "aws:apigateway/integration:Integration"):
        path = resource_path(_source(integration, "resourceId", RESOURCE_TYPE))
        if not any(path[-len(suffix) :] == suffix for suffix in STREAMING_SUFFIXES):
            continue
        mode = integration.props.get("responseTransferMode") or "BUFFERED"
        if mode != "STREAM":
            report_violation(
                f"Integration '{integration.name}' of /{'/'.join(path)} has responseTransferMode {mode}: tokens "
                "arrive only when generation ends, and a long one hits the buffered timeout.",
                integration.urn,
            )


policy = StackValidationPolicy(
    name="aws-apigateway-streaming-routes-stream",
    description=(
        "Integrations of streaming routes (resource path ending generate_stream or chat/completions) "
        "must set responseTransferMode STREAM."
    ),
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.MEDIUM,
    remediation_steps=(
        "Set `response_transfer_mode='STREAM'` and `timeout_milliseconds` up to 900000 on the "
        "aws.apigateway.Integration (HTTP_PROXY)."
    ),
    validate=validate,
)

review = Review(
    area="network",
    controls=Controls(nist_800_53=("CM-6",), soc2=("PI1.3",)),
    why=(
        "A buffered integration holds a completion until it ends, so long generations run into the gateway's "
        "buffered timeout and size limits: tenants get errors after the GPU has done the work."
    ),
)
