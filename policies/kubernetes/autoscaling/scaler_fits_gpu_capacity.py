"""kubernetes-scaler-fits-gpu-capacity — max replicas x GPUs per replica fit the node group at max size."""

from pulumi_policy import (
    EnforcementLevel,
    ReportViolation,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)

from policies.kubernetes.autoscaling.scalers import (
    cluster_of,
    gpus_per_replica,
    node_group_capacity,
    node_group_of,
    scalers,
    workloads,
)
from policies.review import Controls, Review


def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    by_urn = {r.urn: r for r in args.resources}
    declared = workloads(args.resources)
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
        "max_nodes x GPUs per node."
    ),
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.MEDIUM,
    remediation_steps="Raise the node group's `max_nodes` or lower `autoscaling.max_replicas` of the models on it.",
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
