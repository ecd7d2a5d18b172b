"""kubernetes-scaler-fits-gpu-capacity — max replicas x GPUs per replica fit the GPUs behind them.

On EKS the GPUs are a node group's at max size (read from the plan). On an on-prem target, a cluster
of its own (provider `onprem-<target>`) or hybrid nodes its workloads select by
`llm-serving/onprem-target`, they are the target's machines x GPUs, which no planned resource holds:
the stack file's figure comes in as policy config (`targetGpus`).
"""

from __future__ import annotations

from collections.abc import Mapping

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    PolicyResource,
    ReportViolation,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)

from components.conventions import ONPREM_TARGET_LABEL
from policies.kubernetes.autoscaling.scalers import (
    cluster_of,
    gpus_per_replica,
    node_group_capacity,
    node_group_of,
    scalers,
    workloads,
)
from policies.residency import onprem_target
from policies.review import Controls, Review


def _target_of(workload: PolicyResource) -> str | None:
    """The on-prem target whose machines a workload's pods run on: its cluster's, or the hybrid nodes
    its node selector names."""
    pod = ((workload.props.get("spec") or {}).get("template") or {}).get("spec") or {}
    selected = (pod.get("nodeSelector") or {}).get(ONPREM_TARGET_LABEL)
    return str(selected) if selected else onprem_target(workload)


def _check_targets(
    args: StackValidationArgs,
    declared: Mapping[tuple[str, str, str, str], PolicyResource],
    report_violation: ReportViolation,
) -> None:
    capacity = {str(k): int(v) for k, v in ((args.get_config() or {}).get("targetGpus") or {}).items()}
    demand: dict[str, list[tuple[str, int, int, str]]] = {}
    for scaler in scalers(args.resources):
        workload = declared.get(scaler.target_key)
        target = _target_of(workload) if workload is not None else None
        if workload is None or target is None or gpus_per_replica(workload) == 0:
            continue
        demand.setdefault(target, []).append(
            (scaler.label, scaler.max_replicas, gpus_per_replica(workload), scaler.urn)
        )
    for target, entries in sorted(demand.items()):
        wanted = sum(replicas * gpus for _, replicas, gpus, _ in entries)
        parts = ", ".join(f"{label} {replicas} x {gpus}" for label, replicas, gpus, _ in sorted(entries))
        if target not in capacity:
            report_violation(
                f"on-prem target '{target}' has no GPU count in the policy config (targetGpus); its scalers may ask "
                f"for {wanted} ({parts}).",
                entries[0][3],
            )
        elif wanted > capacity[target]:
            report_violation(
                f"on-prem target '{target}' has {capacity[target]} GPUs (nodes x gpus_per_node); its scalers may "
                f"ask for {wanted} ({parts}): the rest would stay Pending.",
                entries[0][3],
            )


def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    by_urn = {r.urn: r for r in args.resources}
    declared = workloads(args.resources)
    _check_targets(args, declared, report_violation)
    # (cluster urn, node group label) -> [(scaler label, max replicas, GPUs per replica, urn)]
    demand: dict[tuple[str, str], list[tuple[str, int, int, str]]] = {}
    clusters = {}
    for scaler in scalers(args.resources):
        workload = declared.get(scaler.target_key)
        cluster = cluster_of(scaler.provider, by_urn)
        if workload is None or cluster is None:
            continue  # a missing target is kubernetes-scaler-target-exists' finding; on-prem has no node groups
        gpus = gpus_per_replica(workload)
        group = node_group_of(workload)
        if gpus == 0 or group is None:
            continue
        clusters[cluster.urn] = cluster
        demand.setdefault((cluster.urn, group), []).append((scaler.label, scaler.max_replicas, gpus, scaler.urn))
    for (cluster_urn, group), entries in sorted(demand.items()):
        cluster = clusters[cluster_urn]
        capacity = node_group_capacity(cluster, group, args.resources)
        wanted = sum(replicas * gpus for _, replicas, gpus, _ in entries)
        if wanted > capacity.gpus:
            parts = ", ".join(f"{label} {replicas} x {gpus}" for label, replicas, gpus, _ in sorted(entries))
            report_violation(
                f"node group '{group}' of cluster '{cluster.name}' has {capacity.gpus} GPUs at max size "
                f"({capacity.max_nodes} node(s)); its scalers may ask for {wanted} ({parts}): "
                "the rest would stay Pending.",
                entries[0][3],
            )


policy = StackValidationPolicy(
    name="kubernetes-scaler-fits-gpu-capacity",
    description=(
        "Per GPU node group: the sum of max replicas x GPUs per replica over its scalers fits "
        "max_nodes x GPUs per node; per on-prem target, its nodes x gpus_per_node."
    ),
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.MEDIUM,
    config_schema=PolicyConfigSchema(
        properties={
            "targetGpus": {
                "type": "object",
                "additionalProperties": {"type": "integer"},
                "default": {},
                "description": "on-prem target -> its GPUs (nodes x gpus_per_node of the stack file)",
            },
        },
    ),
    remediation_steps=(
        "Raise the node group's `max_nodes` (or the target's `nodes`) or lower `autoscaling.max_replicas` of the "
        "models on it."
    ),
    validate=validate,
)

review = Review(
    area="compute",
    controls=Controls(nist_800_53=("SC-6",), soc2=("A1.1",)),
    why=(
        "Scalers that may ask for more GPUs than their node group can ever have leave replicas pending at peak, "
        "while the replicas already up keep billing."
    ),
)
