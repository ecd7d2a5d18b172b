"""aws-apigateway-unavailable-retry-after — a REST API answers 503 with Retry-After when a model has no
ready replica (scaled to zero and waking, or restarting), never a bare 502/504."""

import re

from pulumi_policy import (
    EnforcementLevel,
    ReportViolation,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)

from components.conventions import RETRY_AFTER_PARAMETER, UNAVAILABLE_RESPONSE_TYPES
from policies.review import Controls, Review
from policies.support import depends_on, resources_of_type

SECONDS = re.compile(r"'[1-9][0-9]*'")  # a static header value: seconds, in single quotes


def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    responses = resources_of_type(args.resources, "aws:apigateway/response:Response")
    for api in resources_of_type(args.resources, "aws:apigateway/restApi:RestApi"):
        own = {str(r.props.get("responseType")): r for r in responses if depends_on(r, "restApiId", api.urn)}
        for kind in UNAVAILABLE_RESPONSE_TYPES:
            response = own.get(kind)
            if response is None:
                report_violation(
                    f"REST API '{api.name}' has no {kind} gateway response: a model without a ready replica "
                    "answers API Gateway's bare 5xx, which callers cannot time a retry on.",
                    api.urn,
                )
                continue
            status = str(response.props.get("statusCode") or "")
            header = str((response.props.get("responseParameters") or {}).get(RETRY_AFTER_PARAMETER) or "")
            if status != "503" or not SECONDS.fullmatch(header):
                report_violation(
                    f"gateway response '{response.name}' ({kind}) answers {status or 'the default status'} with "
                    f"Retry-After {header or 'unset'}; it must be 503 with Retry-After set to the seconds the model "
                    "needs to start ('<seconds>').",
                    response.urn,
                )


policy = StackValidationPolicy(
    name="aws-apigateway-unavailable-retry-after",
    description=(
        "Every REST API answers INTEGRATION_FAILURE and INTEGRATION_TIMEOUT with 503 and a Retry-After of the "
        "seconds a model needs to start."
    ),
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.MEDIUM,
    remediation_steps=(
        "Use components.gateway.ApiGateway (its `_unavailable` responses, Retry-After from "
        "serving.cold_start_seconds), or add aws.apigateway.Response for both types with status_code '503' and "
        "response_parameters {'gatewayresponse.header.Retry-After': \"'<seconds>'\"}."
    ),
    validate=validate,
)

review = Review(
    area="compute",
    controls=Controls(soc2=("A1.1",)),
    why=(
        "A model scaled to zero takes minutes to wake; without a 503 and Retry-After its first callers get a bare "
        "502 or 504 and either give up or retry at once, failing again until the replica is ready."
    ),
)
