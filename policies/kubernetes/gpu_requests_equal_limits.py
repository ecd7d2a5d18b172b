"""kubernetes-gpu-requests-equal-limits — GPU containers request exactly what they are limited to."""

from pulumi_policy import (
    EnforcementLevel,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
)

from components.conventions import GPU_RESOURCE
from policies.review import Controls, Review
from policies.support import containers, pod_spec


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    pod = pod_spec(args.resource_type, args.props)
    if pod is None:
        return
    for label, container in containers(pod):
        resources = container.get("resources") or {}
        request = (resources.get("requests") or {}).get(GPU_RESOURCE)
        limit = (resources.get("limits") or {}).get(GPU_RESOURCE)
        if request is None and limit is None:
            continue
        if limit is None:
            report_violation(f"{label}: requests {request} {GPU_RESOURCE} without a limit.", None)
        elif request is not None and str(request) != str(limit):
            report_violation(f"{label}: {GPU_RESOURCE} request {request} != limit {limit}.", None)


policy = ResourceValidationPolicy(
    name="kubernetes-gpu-requests-equal-limits",
    description=(
        f"A container that uses {GPU_RESOURCE} sets a limit, and any request equals it (extended resources cannot "
        "be overcommitted; a mismatch is rejected by the API server or hides the real demand)."
    ),
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.MEDIUM,
    remediation_steps=(
        f"Set resources.limits['{GPU_RESOURCE}'] and resources.requests['{GPU_RESOURCE}'] to the shard count."
    ),
    validate=validate,
)

review = Review(
    area="compute",
    controls=Controls(nist_800_53=("SC-6",), soc2=("A1.1",)),
    why=(
        "GPUs cannot be overcommitted: a request that differs from the limit is rejected or hides the real demand, "
        "so the scheduler and the autoscaler size the GPU fleet wrong."
    ),
)
