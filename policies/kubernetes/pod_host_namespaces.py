"""kubernetes-pod-disallow-host-namespaces — no pod shares the node's network, process or IPC namespace.

The serving namespace enforces only the `privileged` Pod Security level (model servers mount a
hostPath); the pack refuses these in the plan, for every workload kind, and the namespace's
admission guard refuses them in the cluster (kubernetes-namespace-admission-guarded).
"""

from pulumi_policy import (
    EnforcementLevel,
    PolicyComplianceFramework,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
)

from policies.kubernetes.workloads import pod_spec
from policies.review import Controls, Review

# Pod spec field -> what the pod then shares with the node.
HOST_NAMESPACES = {
    "hostNetwork": "network namespace (its interfaces, node-local ports and the instance metadata endpoint)",
    "hostPID": "process namespace (every process on the node, other pods' included)",
    "hostIPC": "IPC namespace (shared memory of every process on the node)",
}


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    pod = pod_spec(args.resource_type, args.props)
    if pod is None:
        return
    for field, shared in HOST_NAMESPACES.items():
        # Only an explicit false (or absence) keeps the pod in its own namespace.
        if pod.get(field) not in (None, False):
            report_violation(f"{field} is set: the pod shares the node's {shared}.", None)


policy = ResourceValidationPolicy(
    name="kubernetes-pod-disallow-host-namespaces",
    description="No pod (of any workload kind) sets hostNetwork, hostPID or hostIPC.",
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.CRITICAL,
    framework=PolicyComplianceFramework(name="CIS EKS", reference="4.2.2, 4.2.3, 4.2.4", version="1.7.0"),
    remediation_steps=(
        "Remove hostNetwork, hostPID and hostIPC from the pod spec (or set them to false). Serve on a container "
        "port behind a ClusterIP Service; read node metrics through an exporter's own endpoint."
    ),
    validate=validate,
)

review = Review(
    area="kubernetes",
    controls=Controls(cis_eks=("4.2.2", "4.2.3", "4.2.4"), nist_800_53=("AC-6", "CM-7"), soc2=("CC6.1",)),
    why=(
        "GPU nodes hold other tenants' model servers, their prompts in memory and the node role's credentials: a "
        "pod in the host's network or process namespace can read the metadata endpoint, sniff or attach to them."
    ),
)
