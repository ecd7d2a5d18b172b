"""kubernetes-container-cpu-memory-bounded — every container and init container requests and is
limited in CPU and memory.

Without requests the scheduler packs pods blind (and the Cluster Autoscaler cannot size for them);
without limits one container can starve a GPU node's model server or the system pods beside it.
"""

from pulumi_policy import (
    EnforcementLevel,
    PolicyComplianceFramework,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
)

from policies.kubernetes.workloads import containers, mapping, pod_spec
from policies.review import Controls, Review

BOUNDS = (("requests", "cpu"), ("requests", "memory"), ("limits", "cpu"), ("limits", "memory"))


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    pod = pod_spec(args.resource_type, args.props)
    if pod is None:
        return
    for label, container in containers(pod):
        resources = mapping(container.get("resources"))
        missing = [
            f"{resource} {'request' if kind == 'requests' else 'limit'}"
            for kind, resource in BOUNDS
            if mapping(resources.get(kind)).get(resource) in (None, "")
        ]
        if missing:
            report_violation(f"{label}: no {', '.join(missing)}.", None)


policy = ResourceValidationPolicy(
    name="kubernetes-container-cpu-memory-bounded",
    description="Every container and init container sets CPU and memory requests and limits.",
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.MEDIUM,
    framework=PolicyComplianceFramework(name="NIST SP 800-53", reference="SC-6", version="5"),
    remediation_steps=(
        "Set resources.requests.cpu/memory to what the container needs at steady state and resources.limits "
        "cpu/memory to its ceiling (model servers: equal, from components.serving.resources_for)."
    ),
    validate=validate,
)

review = Review(
    area="compute",
    controls=Controls(nist_800_53=("SC-6",), soc2=("A1.1",)),
    why=(
        "A GPU node is the most expensive capacity in the stack: an unbounded sidecar or agent that eats its CPU "
        "or memory stalls or OOM-kills the model server, and the GPU bills on while serving nothing."
    ),
)
