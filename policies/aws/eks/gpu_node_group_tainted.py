"""aws-eks-gpu-node-group-tainted — GPU nodes repel every pod that does not ask for a GPU."""

from collections.abc import Mapping

from pulumi_policy import (
    EnforcementLevel,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
)

from components.conventions import GPU_TAINT
from policies.review import Controls, Review
from policies.support import NODE_GROUP_TYPE, is_gpu_node_group

# The EKS API spells the Kubernetes effect NoSchedule as NO_SCHEDULE.
REQUIRED = {"key": GPU_TAINT["key"], "value": GPU_TAINT["value"], "effect": "NO_SCHEDULE"}


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type != NODE_GROUP_TYPE or not is_gpu_node_group(args.props):
        return
    # The pack hands over read-only Mapping proxies, not dicts.
    taints = [dict(t) for t in args.props.get("taints") or [] if isinstance(t, Mapping)]
    if not any({k: t.get(k) for k in REQUIRED} == REQUIRED for t in taints):
        report_violation(
            f"GPU node group '{args.name}' is not tainted {GPU_TAINT['key']}={GPU_TAINT['value']}:NoSchedule; "
            "pods that need no GPU could take its nodes.",
            None,
        )


policy = ResourceValidationPolicy(
    name="aws-eks-gpu-node-group-tainted",
    description=(
        "EKS node groups of GPU nodes (an NVIDIA AMI type or the `llm-serving/gpu` label) carry the taint "
        "`nvidia.com/gpu=true:NoSchedule`, so only pods that tolerate it (model servers, GPU node agents) run there."
    ),
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.MEDIUM,
    remediation_steps=(
        "Add taints=[{'key': 'nvidia.com/gpu', 'value': 'true', 'effect': 'NO_SCHEDULE'}] to the aws.eks.NodeGroup "
        "(components.gpu_nodes does), and give GPU workloads the matching toleration (conventions.GPU_TOLERATION)."
    ),
    validate=validate,
)

review = Review(
    area="compute",
    controls=Controls(nist_800_53=("CM-7", "SC-6"), soc2=("A1.1",)),
    why=(
        "Untainted GPU nodes fill with ordinary pods that take the capacity model servers need and keep nodes "
        "billed by the GPU hour from scaling down."
    ),
)
