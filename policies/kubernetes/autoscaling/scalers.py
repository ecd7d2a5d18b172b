"""What the autoscaling policies read from a plan: scalers, their targets, GPU node groups.

A scaler is an autoscaling HorizontalPodAutoscaler or a KEDA ScaledObject (which KEDA turns into
an HPA of its own). Targets are matched on (Kubernetes provider, namespace, kind, name): two
objects under the same provider land in the same cluster.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pulumi_policy import PolicyResource

from components import catalog
from components.conventions import GPU_RESOURCE, NODE_GROUP_LABEL

HPA_TYPES = ("kubernetes:autoscaling/v2:HorizontalPodAutoscaler", "kubernetes:autoscaling/v1:HorizontalPodAutoscaler")
SCALED_OBJECT = "kubernetes:keda.sh/v1alpha1:ScaledObject"
SCALER_TYPES = (*HPA_TYPES, SCALED_OBJECT)
WORKLOAD_TYPES = {"kubernetes:apps/v1:Deployment": "Deployment", "kubernetes:apps/v1:StatefulSet": "StatefulSet"}
EKS_CLUSTER = "aws:eks/cluster:Cluster"
EKS_NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
# KEDA's defaults when a ScaledObject omits the counts; an HPA's minReplicas defaults to 1.
KEDA_DEFAULT_MIN, KEDA_DEFAULT_MAX = 0, 100


@dataclass(frozen=True)
class Scaler:
    kind: str
    """HorizontalPodAutoscaler or ScaledObject."""
    name: str
    namespace: str
    target_kind: str
    target_name: str
    min_replicas: int
    """The fewest replicas it may leave: for KEDA, idleReplicaCount when that is lower."""
    declared_min: int
    max_replicas: int
    triggers: tuple[str, ...]
    """KEDA trigger types (empty for an HPA)."""
    provider: str
    urn: str

    @property
    def label(self) -> str:
        return f"{self.kind} {self.namespace}/{self.name}"

    @property
    def target_key(self) -> tuple[str, str, str, str]:
        return (self.provider, self.namespace, self.target_kind, self.target_name)


def _int(value: Any, default: int) -> int:
    return default if value is None else int(value)


def scaler_of(resource_type: str, props: Mapping[str, Any], provider: str, urn: str) -> Scaler | None:
    if resource_type not in SCALER_TYPES:
        return None
    metadata = props.get("metadata") or {}
    spec = props.get("spec") or {}
    target = spec.get("scaleTargetRef") or {}
    if resource_type == SCALED_OBJECT:
        declared_min = _int(spec.get("minReplicaCount"), KEDA_DEFAULT_MIN)
        idle = spec.get("idleReplicaCount")
        minimum = min(declared_min, int(idle)) if idle is not None else declared_min
        maximum = _int(spec.get("maxReplicaCount"), KEDA_DEFAULT_MAX)
        kind, target_kind = "ScaledObject", target.get("kind") or "Deployment"
        triggers = tuple(str(t.get("type", "")) for t in spec.get("triggers") or [])
    else:
        declared_min = minimum = _int(spec.get("minReplicas"), 1)
        maximum = _int(spec.get("maxReplicas"), 0)
        kind, target_kind, triggers = "HorizontalPodAutoscaler", target.get("kind") or "", ()
    return Scaler(
        kind=kind,
        name=str(metadata.get("name", "")),
        namespace=str(metadata.get("namespace") or "default"),
        target_kind=target_kind,
        target_name=str(target.get("name", "")),
        min_replicas=minimum,
        declared_min=declared_min,
        max_replicas=maximum,
        triggers=triggers,
        provider=provider,
        urn=urn,
    )


def provider_urn(resource: Any) -> str:
    provider = getattr(resource, "provider", None)
    return provider.urn if provider is not None else ""


def scalers(resources: Iterable[PolicyResource]) -> list[Scaler]:
    found = (scaler_of(r.resource_type, r.props, provider_urn(r), r.urn) for r in resources)
    return [s for s in found if s is not None]


def workloads(resources: Iterable[PolicyResource]) -> dict[tuple[str, str, str, str], PolicyResource]:
    """Deployments and StatefulSets by (provider, namespace, kind, name)."""
    found: dict[tuple[str, str, str, str], PolicyResource] = {}
    for r in resources:
        kind = WORKLOAD_TYPES.get(r.resource_type)
        if kind:
            metadata = r.props.get("metadata") or {}
            key = (provider_urn(r), str(metadata.get("namespace") or "default"), kind, str(metadata.get("name", "")))
            found[key] = r
    return found


def gpus_per_replica(workload: PolicyResource) -> int:
    pod = ((workload.props.get("spec") or {}).get("template") or {}).get("spec") or {}
    total = 0
    for container in pod.get("containers") or []:
        resources = container.get("resources") or {}
        amount = (resources.get("limits") or {}).get(GPU_RESOURCE) or (resources.get("requests") or {}).get(
            GPU_RESOURCE
        )
        total += int(amount or 0)
    return total


def node_group_of(workload: PolicyResource) -> str | None:
    """The node group a workload's pods are pinned to (nodeSelector, or a one-value In affinity)."""
    pod = ((workload.props.get("spec") or {}).get("template") or {}).get("spec") or {}
    selected = (pod.get("nodeSelector") or {}).get(NODE_GROUP_LABEL)
    if selected:
        return str(selected)
    required = (((pod.get("affinity") or {}).get("nodeAffinity") or {}).get(
        "requiredDuringSchedulingIgnoredDuringExecution"
    ) or {})  # fmt: skip
    for term in required.get("nodeSelectorTerms") or []:
        for expression in term.get("matchExpressions") or []:
            values = expression.get("values") or []
            if expression.get("key") == NODE_GROUP_LABEL and expression.get("operator") == "In" and len(values) == 1:
                return str(values[0])
    return None


def cluster_of(provider: str, by_urn: Mapping[str, PolicyResource]) -> PolicyResource | None:
    """The EKS cluster a Kubernetes provider was built from (its kubeconfig depends on it)."""
    resource = by_urn.get(provider)
    if resource is None:
        return None
    return next((d for d in resource.dependencies if d.resource_type == EKS_CLUSTER), None)


@dataclass(frozen=True)
class NodeGroupCapacity:
    label: str
    max_nodes: int
    gpus: int
    """GPUs of all the label's node groups at max size."""


def node_group_capacity(cluster: PolicyResource, label: str, resources: Iterable[PolicyResource]) -> NodeGroupCapacity:
    """GPUs at max size of the cluster's node groups labelled `label` (0 when none is)."""
    max_nodes = gpus = 0
    for group in resources:
        if group.resource_type != EKS_NODE_GROUP or not any(d.urn == cluster.urn for d in group.dependencies):
            continue
        if (group.props.get("labels") or {}).get(NODE_GROUP_LABEL) != label:
            continue
        instance_types = group.props.get("instanceTypes") or []
        try:
            per_node = catalog.instance_type(instance_types[0]).gpu_count if instance_types else 0
        except catalog.UnknownCatalogEntry:
            per_node = 0
        size = int((group.props.get("scalingConfig") or {}).get("maxSize") or 0)
        max_nodes += size
        gpus += per_node * size
    return NodeGroupCapacity(label, max_nodes, gpus)
