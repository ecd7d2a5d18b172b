"""Monthly cost estimate of a planned stack, checked against its budget.

The input is what `llmstack plan` records: one plain dict per planned resource,

    {"type": "aws:eks/nodeGroup:NodeGroup", "inputs": {...camelCase inputs...},
     "region": "us-east-1" | None, "component": "gpu-nodes", "name": "<name or URN, optional>"}

and the output is a baseline and a ceiling, with one line per resource saying how its figure was
reached. A node group's baseline is the larger of its own floor (`desiredSize`, else `minSize`) and
the nodes its GPU workloads need at their minimum replicas: each Deployment that requests
`nvidia.com/gpu` and whose node selector the group's labels satisfy (same region, i.e. cluster),
at the `minReplicaCount`/`minReplicas` of the ScaledObject or HPA that targets it (else its own
`replicas`), each replica's GPUs on one node, packed largest first; never more than `maxSize`,
where the cluster autoscaler stops. Its ceiling is `maxSize`: what bounds the bill at full scale
(config keeps every model's max_replicas x shards inside it; the basis says what they need). Unit prices
come from `components.catalog`; they are list-price estimates for budgeting as of
`catalog.PRICES_AS_OF`, scaled by the catalog's approximate region multipliers for instance
hours, NAT gateways and interface endpoints (EKS, KMS and WAF cost the same in every region).

Fixed charges that are priced (pulumi-aws v7 type tokens):

- `aws:eks/cluster:Cluster`: control plane per hour.
- `aws:eks/nodeGroup:NodeGroup`: the first of `instanceTypes` x nodes x hours. A node group whose
  instance type is missing from the catalog or its price list (or unset), or one whose GPU
  workloads' GPUs or replicas cannot be read, is *unpriced*: its line says so and the estimate
  lists it in `unpriced`, so a budget check fails closed instead of counting $0. `capacityType`
  SPOT is estimated at `SPOT_FACTOR` of on-demand (typical g5/p5 spot discount; spot prices
  move hourly); CAPACITY_BLOCK at the on-demand rate, because block prices are set per
  reservation and paid up front, and on-demand is a safe upper bound for budgeting.
- `aws:ec2/natGateway:NatGateway`: per hour.
- `aws:ec2/vpcEndpoint:VpcEndpoint`: Interface endpoints, per hour per subnet (AZ); Gateway
  endpoints (S3, DynamoDB) are free.
- `aws:kms/key:Key`, `aws:kms/replicaKey:ReplicaKey`: per key per month.
- `aws:lb/loadBalancer:LoadBalancer`: per hour (network or application); capacity units not estimated.
- `aws:wafv2/webAcl:WebAcl`: per web ACL plus per rule per month.
- `aws:ec2transitgateway/vpcAttachment:VpcAttachment`: per attachment-hour.
- `aws:ec2/vpnConnection:VpnConnection`: per connection-hour, plus a Transit Gateway attachment-hour
  when it ends on a Transit Gateway; data processed and transferred not estimated.
- `aws:directconnect/gatewayAssociation:GatewayAssociation`: a Transit Gateway attachment-hour when
  it associates a Transit Gateway (free on a VPN gateway). The Direct Connect gateway and virtual
  interfaces cost nothing by the hour; the connection's port-hours belong to the existing
  connection, and data transfer out is usage.
- `aws:eks/accessEntry:AccessEntry` of type HYBRID_LINUX: EKS Hybrid Nodes, machines x vCPUs (the
  entry's tags) x hours at the first tier's rate; without readable tags it is unpriced. Other access
  entries cost nothing.

Not included, so the estimate is a floor for them: every usage-based charge (the types in
`USAGE_BASED_TYPES`, NAT and endpoint data processing, data transfer, WAF requests), and a few
small fixed charges not yet priced: EBS root volumes of nodes, public IPv4 addresses, Secrets
Manager secrets, CloudWatch alarms and load balancers created by in-cluster controllers. All other
types (IAM, security groups, route tables, Kubernetes objects...) have no charge of their own.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeGuard

from components import catalog
from components.conventions import (
    COMPUTE_TYPE_LABEL,
    GPU_RESOURCE,
    HYBRID_COMPUTE_TYPE,
    HYBRID_NODES_TAG,
    HYBRID_VCPUS_PER_NODE_TAG,
    MODEL_LABEL,
    ONPREM_TARGET_LABEL,
)

SPOT_FACTOR = 0.35
GLOBAL_REGION = "global"
UNASSIGNED_COMPONENT = "unassigned"

# Usage-based types: token -> what drives their cost. Their fixed part is $0.
USAGE_BASED_TYPES: dict[str, str] = {
    "aws:amp/workspace:Workspace": "samples ingested, stored and queried",
    "aws:apigateway/restApi:RestApi": "requests and data transfer",
    "aws:apigateway/stage:Stage": "requests and data transfer",
    "aws:apigatewayv2/api:Api": "requests and data transfer",
    "aws:cloudwatch/logGroup:LogGroup": "log data ingested and stored",
    "aws:codebuild/project:Project": "build minutes by compute type (nothing while no job runs)",
    "aws:ec2/flowLog:FlowLog": "log data delivered",
    "aws:ecr/repository:Repository": "image storage and transfer",
    "aws:s3/bucket:Bucket": "storage, requests and transfer",
    "aws:s3/bucketV2:BucketV2": "storage, requests and transfer",
    "aws:dynamodb/table:Table": "read/write requests and storage",
    "aws:lambda/function:Function": "requests and compute time",
    "aws:sqs/queue:Queue": "requests",
    "aws:sns/topic:Topic": "requests and deliveries",
    "aws:cloudtrail/trail:Trail": "events delivered beyond the first management trail",
    "aws:guardduty/detector:Detector": "events and data analysed",
}

# The fixed monthly part of usage-based types that have a catalog price entry.
_USAGE_FIXED_USD_PER_MONTH: dict[str, float] = {
    "aws:amp/workspace:Workspace": catalog.AMP_WORKSPACE_USD_PER_MONTH,
    "aws:apigateway/restApi:RestApi": catalog.API_GATEWAY_USD_PER_MONTH,
    "aws:apigatewayv2/api:Api": catalog.API_GATEWAY_USD_PER_MONTH,
}


@dataclass(frozen=True)
class CostLine:
    type: str
    name: str | None
    region: str | None
    component: str | None
    monthly_usd: float
    ceiling_monthly_usd: float
    basis: str
    urn: str | None = None
    unpriced: bool = False
    workloads: tuple[tuple[str, int], ...] = ()
    """GPU workloads this line's machines hold at their minimum replicas: (model, GPUs), for shares."""


@dataclass(frozen=True)
class CostEstimate:
    """Totals are baseline USD per month; `ceiling_monthly_usd` has every node group at maxSize."""

    monthly_usd: float
    ceiling_monthly_usd: float
    by_region: dict[str, float]
    by_component: dict[str, float]
    lines: list[CostLine]

    @property
    def unpriced(self) -> list[CostLine]:
        """Lines the catalog cannot price: their $0 is unknown, not free."""
        return [line for line in self.lines if line.unpriced]


@dataclass(frozen=True)
class BudgetVerdict:
    over: bool
    ceiling_over: bool
    message: str


@dataclass(frozen=True)
class _Price:
    monthly: float
    ceiling: float
    basis: str
    unpriced: bool = False
    workloads: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True)
class GpuWorkload:
    """A Deployment that requests GPUs, with the replica range its scaler (or itself) gives it."""

    name: str
    """The model it serves (its `llm-serving/model` label), else the Deployment's name."""
    region: str | None
    node_selector: Mapping[str, str]
    gpus_per_replica: int | None
    min_replicas: int | None
    max_replicas: int | None
    problem: str | None = None
    """Why its GPUs or replicas cannot be read (the node groups it selects are then unpriced)."""


def estimate(resources: Iterable[Mapping[str, Any]]) -> CostEstimate:
    """Price every planned resource and add the lines up by region and component."""
    resources = list(resources)
    workloads = gpu_workloads(resources)
    lines = [_line(resource, workloads) for resource in resources]
    by_region: dict[str, float] = {}
    by_component: dict[str, float] = {}
    for line in lines:
        region = line.region or GLOBAL_REGION
        component = line.component or UNASSIGNED_COMPONENT
        by_region[region] = by_region.get(region, 0.0) + line.monthly_usd
        by_component[component] = by_component.get(component, 0.0) + line.monthly_usd
    return CostEstimate(
        monthly_usd=sum(line.monthly_usd for line in lines),
        ceiling_monthly_usd=sum(line.ceiling_monthly_usd for line in lines),
        by_region=by_region,
        by_component=by_component,
        lines=lines,
    )


def check_budget(estimate: CostEstimate, budget_usd: float) -> BudgetVerdict:
    """Compare an estimate with a monthly budget; the message is one line with the numbers."""
    if budget_usd <= 0:
        raise ValueError(f"budget must be > 0, got {budget_usd}")
    baseline, ceiling = estimate.monthly_usd, estimate.ceiling_monthly_usd
    over, ceiling_over = baseline > budget_usd, ceiling > budget_usd
    if over:
        message = (
            f"estimated {_dollars(baseline)}/month exceeds the budget of {_dollars(budget_usd)} "
            f"by {_overrun(baseline, budget_usd)}"
        )
    elif ceiling_over:
        message = (
            f"estimated {_dollars(baseline)}/month is within the budget of {_dollars(budget_usd)}, but at "
            f"maximum scale {_dollars(ceiling)}/month would exceed it by {_overrun(ceiling, budget_usd)}"
        )
    else:
        message = (
            f"estimated {_dollars(baseline)}/month is within the budget of {_dollars(budget_usd)} "
            f"({_dollars(ceiling)}/month at maximum scale)"
        )
    return BudgetVerdict(over=over, ceiling_over=ceiling_over, message=message)


def drivers(lines: Sequence[CostLine], amount: Callable[[CostLine], float]) -> list[CostLine]:
    """The lines an overrun is reported against, largest `amount` first: the node groups that add to it,
    or else the single largest line, so each budget finding names a resource a reviewer can change."""
    groups = [line for line in lines if line.type == "aws:eks/nodeGroup:NodeGroup" and amount(line) > 0]
    if groups:
        return sorted(groups, key=amount, reverse=True)
    return [max(lines, key=amount)] if lines else []


def _line(resource: Mapping[str, Any], workloads: Sequence[GpuWorkload] = ()) -> CostLine:
    type_token = resource["type"]
    region = resource.get("region")
    inputs = resource.get("inputs") or {}
    if type_token == NODE_GROUP_TYPE:
        price = _node_group(inputs, region, workloads)
    elif type_token == ACCESS_ENTRY_TYPE:
        price = _hybrid_nodes(inputs, region, workloads)
    else:
        price = _price(type_token, inputs, region)
    return CostLine(
        type=type_token,
        name=resource.get("name"),
        region=region,
        component=resource.get("component"),
        monthly_usd=price.monthly,
        ceiling_monthly_usd=price.ceiling,
        basis=price.basis,
        urn=resource.get("urn"),
        unpriced=price.unpriced,
        workloads=price.workloads,
    )


def _price(type_token: str, inputs: Mapping[str, Any], region: str | None) -> _Price:
    pricer = _PRICERS.get(type_token)
    if pricer is not None:
        return pricer(inputs, region)
    if type_token in USAGE_BASED_TYPES:
        fixed = _USAGE_FIXED_USD_PER_MONTH.get(type_token, 0.0)
        basis = f"usage-based ({USAGE_BASED_TYPES[type_token]}): not estimated"
        return _Price(fixed, fixed, basis)
    return _Price(0.0, 0.0, "no charge of its own")


def _eks_cluster(inputs: Mapping[str, Any], region: str | None) -> _Price:
    monthly = catalog.HOURS_PER_MONTH * catalog.EKS_CLUSTER_USD_PER_HOUR
    return _fixed(monthly, f"{catalog.HOURS_PER_MONTH} h × {_rate(catalog.EKS_CLUSTER_USD_PER_HOUR)}")


def _node_group(inputs: Mapping[str, Any], region: str | None, workloads: Sequence[GpuWorkload] = ()) -> _Price:
    instance_types = inputs.get("instanceTypes")
    name = instance_types[0] if _is_list(instance_types) and instance_types else "(not set)"
    try:
        instance = catalog.instance_type(str(name))
    except catalog.UnknownCatalogEntry:
        return _Price(0.0, 0.0, f"instance type {name} is not in the catalog: not priced", unpriced=True)
    try:
        hourly = catalog.on_demand_usd_per_hour(instance.name)
    except catalog.UnpricedInstanceType:
        return _Price(0.0, 0.0, f"instance type {name} has no price in {catalog.PRICE_FILE}: not priced", unpriced=True)
    scaling = inputs.get("scalingConfig") or {}
    if not isinstance(scaling, Mapping):
        return _Price(0.0, 0.0, f"scalingConfig is {_kind(scaling)}, not an object: not priced", unpriced=True)
    for key in ("desiredSize", "minSize", "maxSize"):
        value = scaling.get(key)
        if value is not None and value != UNKNOWN and _count(value) is None:
            # Fail closed: a size nobody can read would otherwise price as 0 nodes or no ceiling.
            return _Price(0.0, 0.0, f"scalingConfig.{key} {value!r} is not a node count: not priced", unpriced=True)
    desired, minimum = _count(scaling.get("desiredSize")), _count(scaling.get("minSize"))
    maximum = _count(scaling.get("maxSize"))
    configured = desired if desired is not None else minimum or 0
    placed = _placed_on(inputs, region, instance, workloads)
    unreadable = next((w for w in placed if w.problem), None)
    if unreadable is not None:
        return _Price(0.0, 0.0, f"GPU workload {unreadable.name}: {unreadable.problem}: not priced", unpriced=True)
    floor = Floor(instance.gpu_count, placed)
    # The cluster autoscaler adds nodes for replicas that cannot be placed, up to maxSize: the
    # steady count is the node group's own floor or what the minimum replicas need, whichever is more.
    needed = floor.nodes_at_min if maximum is None else min(floor.nodes_at_min, maximum)
    nodes = max(configured, needed)
    # maxSize bounds the bill at full scale (the autoscaler never goes past it, config keeps every
    # model's max_replicas x shards inside it); AWS rejects maxSize < desiredSize, max() keeps the
    # ceiling >= the baseline regardless.
    ceiling_nodes = max(maximum or 0, nodes)
    multiplier, region_note = _region_factor(region)
    capacity_factor, capacity_note = _capacity_factor(inputs.get("capacityType"))
    per_node = catalog.HOURS_PER_MONTH * hourly * multiplier * capacity_factor
    basis = f"{nodes} × {name} × {catalog.HOURS_PER_MONTH} h × {_rate(hourly)}{region_note}{capacity_note}"
    if placed:
        basis += f" ({floor.describe(configured, maximum)})"
    if ceiling_nodes != nodes:
        basis += f"; up to {ceiling_nodes} nodes"
        if placed:
            basis += f" (maxSize; max replicas need {floor.nodes_at_max})"
    return _Price(nodes * per_node, ceiling_nodes * per_node, basis, workloads=floor.shares)


class Floor:
    """The nodes a node group's GPU workloads need: each replica's GPUs on one node (its shards
    share NVLink and /dev/shm), replicas packed largest first onto the fewest nodes."""

    def __init__(self, gpus_per_node: int, workloads: Sequence[GpuWorkload]):
        self.gpus_per_node = gpus_per_node
        self.fitting = [w for w in workloads if w.gpus_per_replica and w.gpus_per_replica <= gpus_per_node]
        self.too_big = [w for w in workloads if w.gpus_per_replica and w.gpus_per_replica > gpus_per_node]
        self.nodes_at_min = self.nodes(lambda w: w.min_replicas or 0)
        self.nodes_at_max = self.nodes(lambda w: w.max_replicas or 0)

    def nodes(self, replicas: Callable[[GpuWorkload], int]) -> int:
        free: list[int] = []  # free GPUs per node opened so far
        sizes = sorted((w.gpus_per_replica or 0 for w in self.fitting for _ in range(replicas(w))), reverse=True)
        for size in sizes:
            slot = next((i for i, left in enumerate(free) if left >= size), None)
            if slot is None:
                free.append(self.gpus_per_node - size)
            else:
                free[slot] -= size
        return len(free)

    @property
    def shares(self) -> tuple[tuple[str, int], ...]:
        return tuple((w.name, (w.min_replicas or 0) * (w.gpus_per_replica or 0)) for w in self.fitting)

    def describe(self, configured: int, maximum: int | None) -> str:
        parts = ", ".join(
            f"{w.name} {w.min_replicas} × {w.gpus_per_replica} GPU" for w in sorted(self.fitting, key=lambda w: w.name)
        )
        text = (
            f"min replicas need {self.nodes_at_min} node(s) of {self.gpus_per_node} GPUs: {parts}; "
            f"the node group's own floor is {configured}"
        )
        if maximum is not None and self.nodes_at_min > maximum:
            text += f"; capped at maxSize {maximum}, the rest stay pending"
        for w in self.too_big:
            text += f"; {w.name} needs {w.gpus_per_replica} GPUs per replica, more than a node has: never placed"
        return text


def _placed_on(
    inputs: Mapping[str, Any], region: str | None, instance: catalog.InstanceType, workloads: Sequence[GpuWorkload]
) -> list[GpuWorkload]:
    """The GPU workloads the scheduler would place on this node group: same region (cluster), a
    node selector its labels satisfy; none for a group without GPUs."""
    if not instance.gpu_count:
        return []
    labels = inputs.get("labels")
    labels = labels if isinstance(labels, Mapping) else {}
    return [
        w
        for w in workloads
        if w.region == region and all(labels.get(key) == value for key, value in w.node_selector.items())
    ]


def _nat_gateway(inputs: Mapping[str, Any], region: str | None) -> _Price:
    multiplier, region_note = _region_factor(region)
    monthly = catalog.HOURS_PER_MONTH * catalog.NAT_GATEWAY_USD_PER_HOUR * multiplier
    rate = _rate(catalog.NAT_GATEWAY_USD_PER_HOUR)
    return _fixed(monthly, f"{catalog.HOURS_PER_MONTH} h × {rate}{region_note}; data processed not estimated")


def _vpc_endpoint(inputs: Mapping[str, Any], region: str | None) -> _Price:
    if inputs.get("vpcEndpointType") != "Interface":
        return _Price(0.0, 0.0, "gateway endpoint: no charge")
    subnets = inputs.get("subnetIds")
    zones = len(subnets) if _is_list(subnets) else 1
    multiplier, region_note = _region_factor(region)
    rate = catalog.INTERFACE_ENDPOINT_USD_PER_HOUR_PER_AZ
    monthly = zones * catalog.HOURS_PER_MONTH * rate * multiplier
    return _fixed(monthly, f"{zones} AZ × {catalog.HOURS_PER_MONTH} h × {_rate(rate)}{region_note}")


def _load_balancer(inputs: Mapping[str, Any], region: str | None) -> _Price:
    multiplier, region_note = _region_factor(region)
    rate = catalog.LOAD_BALANCER_USD_PER_HOUR
    monthly = catalog.HOURS_PER_MONTH * rate * multiplier
    return _fixed(monthly, f"{catalog.HOURS_PER_MONTH} h × {_rate(rate)}{region_note}; capacity units not estimated")


def _kms_key(inputs: Mapping[str, Any], region: str | None) -> _Price:
    return _fixed(catalog.KMS_KEY_USD_PER_MONTH, f"{_rate(catalog.KMS_KEY_USD_PER_MONTH)} per key-month")


def _waf_web_acl(inputs: Mapping[str, Any], region: str | None) -> _Price:
    rules = _rule_count(inputs)
    monthly = catalog.WAF_WEB_ACL_USD_PER_MONTH + rules * catalog.WAF_RULE_USD_PER_MONTH
    basis = (
        f"{_rate(catalog.WAF_WEB_ACL_USD_PER_MONTH)} + {rules} rules × "
        f"{_rate(catalog.WAF_RULE_USD_PER_MONTH)} per month; requests not estimated"
    )
    return _fixed(monthly, basis)


def _transit_gateway_attachment(inputs: Mapping[str, Any], region: str | None) -> _Price:
    rate = catalog.TRANSIT_GATEWAY_ATTACHMENT_USD_PER_HOUR
    monthly = catalog.HOURS_PER_MONTH * rate
    return _fixed(monthly, f"{catalog.HOURS_PER_MONTH} h × {_rate(rate)}; data processed not estimated")


def _vpn_connection(inputs: Mapping[str, Any], region: str | None) -> _Price:
    rate = catalog.VPN_CONNECTION_USD_PER_HOUR
    basis = f"{catalog.HOURS_PER_MONTH} h × {_rate(rate)}"
    if inputs.get("transitGatewayId"):
        rate += catalog.TRANSIT_GATEWAY_ATTACHMENT_USD_PER_HOUR
        basis += f" + its Transit Gateway attachment {_rate(catalog.TRANSIT_GATEWAY_ATTACHMENT_USD_PER_HOUR)}"
    return _fixed(catalog.HOURS_PER_MONTH * rate, f"{basis}; data transfer not estimated")


def _direct_connect_association(inputs: Mapping[str, Any], region: str | None) -> _Price:
    if not str(inputs.get("associatedGatewayId", "")).startswith("tgw-"):
        return _fixed(0.0, "free on a VPN gateway; data transfer out not estimated")
    return _transit_gateway_attachment(inputs, region)


def _hybrid_nodes(inputs: Mapping[str, Any], region: str | None, workloads: Sequence[GpuWorkload] = ()) -> _Price:
    """A HYBRID_LINUX access entry stands for its target's machines (tags: how many, how many vCPUs)."""
    if inputs.get("type") != "HYBRID_LINUX":
        return _fixed(0.0, "no charge of its own")
    tags = inputs.get("tags")
    tags = tags if isinstance(tags, Mapping) else {}
    nodes, vcpus = _tag_count(tags.get(HYBRID_NODES_TAG)), _tag_count(tags.get(HYBRID_VCPUS_PER_NODE_TAG))
    if not nodes or not vcpus:
        return _Price(
            0.0,
            0.0,
            f"hybrid nodes without tags {HYBRID_NODES_TAG} and {HYBRID_VCPUS_PER_NODE_TAG} (counts): not priced",
            unpriced=True,
        )
    rate = catalog.HYBRID_NODE_USD_PER_VCPU_HOUR
    monthly = nodes * vcpus * catalog.HOURS_PER_MONTH * rate
    # The machines are billed whatever runs on them; the models selecting the target share them.
    target = tags.get("target")
    placed = [
        (w.name, (w.min_replicas or 0) * (w.gpus_per_replica or 0))
        for w in workloads
        if w.region == region
        and w.node_selector.get(COMPUTE_TYPE_LABEL) == HYBRID_COMPUTE_TYPE
        and target is not None
        and w.node_selector.get(ONPREM_TARGET_LABEL) == target
    ]
    basis = f"{nodes} hybrid node(s) × {vcpus} vCPU × {catalog.HOURS_PER_MONTH} h × {_rate(rate)} per vCPU-hour"
    return _Price(monthly, monthly, basis, workloads=tuple(placed))


_PRICERS: dict[str, Callable[[Mapping[str, Any], str | None], _Price]] = {
    "aws:eks/cluster:Cluster": _eks_cluster,
    "aws:ec2/natGateway:NatGateway": _nat_gateway,
    "aws:ec2/vpcEndpoint:VpcEndpoint": _vpc_endpoint,
    "aws:kms/key:Key": _kms_key,
    "aws:lb/loadBalancer:LoadBalancer": _load_balancer,
    "aws:kms/replicaKey:ReplicaKey": _kms_key,
    "aws:wafv2/webAcl:WebAcl": _waf_web_acl,
    "aws:ec2transitgateway/vpcAttachment:VpcAttachment": _transit_gateway_attachment,
    "aws:ec2/vpnConnection:VpnConnection": _vpn_connection,
    "aws:directconnect/gatewayAssociation:GatewayAssociation": _direct_connect_association,
}
NODE_GROUP_TYPE = "aws:eks/nodeGroup:NodeGroup"
ACCESS_ENTRY_TYPE = "aws:eks/accessEntry:AccessEntry"


# --- GPU workloads: what min_replicas x shards force onto the node groups -------------------------

DEPLOYMENT_TYPE = "kubernetes:apps/v1:Deployment"
SCALED_OBJECT_TYPE = "kubernetes:keda.sh/v1alpha1:ScaledObject"
HPA_TYPE = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler"
# What each scaler does when a bound is unset (KEDA ScaledObject spec; autoscaling/v2 HPA).
KEDA_DEFAULT_MIN, KEDA_DEFAULT_MAX, HPA_DEFAULT_MIN = 0, 100, 1


def gpu_workloads(resources: Iterable[Mapping[str, Any]]) -> list[GpuWorkload]:
    """Every Deployment that requests GPUs, with its replica range: from the ScaledObject or HPA that
    targets it (same region, namespace and name), else its own `replicas` (min = max)."""
    resources = list(resources)
    scalers: dict[tuple[Any, Any, Any], Mapping[str, Any]] = {}
    for r in resources:
        if r["type"] in (SCALED_OBJECT_TYPE, HPA_TYPE):
            inputs = r.get("inputs") or {}
            spec = _mapping(inputs.get("spec"))
            target = _mapping(spec.get("scaleTargetRef"))
            if target.get("kind", "Deployment") == "Deployment":
                key = (r.get("region"), _mapping(inputs.get("metadata")).get("namespace"), target.get("name"))
                scalers[key] = {"type": r["type"], "spec": spec}
    found = []
    for r in resources:
        if r["type"] != DEPLOYMENT_TYPE:
            continue
        workload = _gpu_workload(r, scalers)
        if workload is not None:
            found.append(workload)
    return found


def _gpu_workload(resource: Mapping[str, Any], scalers: Mapping[tuple[Any, Any, Any], Any]) -> GpuWorkload | None:
    inputs = resource.get("inputs") or {}
    metadata = _mapping(inputs.get("metadata"))
    spec = _mapping(inputs.get("spec"))
    pod = _mapping(_mapping(spec.get("template")).get("spec"))
    requested = [_gpus(c) for c in _sequence(pod.get("containers"))]
    init = [_gpus(c) for c in _sequence(pod.get("initContainers"))]
    if not any(g != 0 for g in (*requested, *init)):
        return None  # no GPU request (or none at all): not a GPU workload
    labels = _mapping(metadata.get("labels"))
    name = str(labels.get(MODEL_LABEL) or metadata.get("name") or resource.get("name"))
    selector = {str(k): str(v) for k, v in _mapping(pod.get("nodeSelector")).items()}
    region = resource.get("region")
    problem = None
    gpus: int | None = None
    if any(g is None for g in (*requested, *init)):
        problem = f"a {GPU_RESOURCE} request is not a whole number"
    else:
        # Init containers run before the others: a pod holds the larger of the two at once.
        gpus = max(sum(g or 0 for g in requested), max((g or 0 for g in init), default=0))
    scaler = scalers.get((region, metadata.get("namespace"), metadata.get("name")))
    low, high = _replica_range(spec, scaler)
    if low is None or high is None:
        problem = problem or "its replica count cannot be read"
    return GpuWorkload(name, region, selector, gpus, low, high, problem)


def _replica_range(spec: Mapping[str, Any], scaler: Mapping[str, Any] | None) -> tuple[int | None, int | None]:
    if scaler is None:
        replicas = spec.get("replicas", 1)
        count = _count(replicas)
        return count, count
    scale = scaler["spec"]
    if scaler["type"] == SCALED_OBJECT_TYPE:
        low, high = scale.get("minReplicaCount", KEDA_DEFAULT_MIN), scale.get("maxReplicaCount", KEDA_DEFAULT_MAX)
    else:
        low, high = scale.get("minReplicas", HPA_DEFAULT_MIN), scale.get("maxReplicas")
    return _count(low), _count(high)


def _gpus(container: object) -> int | None:
    """GPUs a container requests (requests, else limits: Kubernetes takes an extended resource's
    request from its limit); 0 for none, None when the quantity is not a whole number."""
    resources = _mapping(_mapping(container).get("resources"))
    for key in ("requests", "limits"):
        value = _mapping(resources.get(key)).get(GPU_RESOURCE)
        if value is None:
            continue
        if isinstance(value, str) and value.isdecimal():
            return int(value)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0 and value == int(value):
            return int(value)
        return None
    return 0


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _sequence(value: object) -> Sequence[Any]:
    return value if _is_list(value) else ()


def _fixed(monthly: float, basis: str) -> _Price:
    return _Price(monthly, monthly, basis)


def _region_factor(region: str | None) -> tuple[float, str]:
    """The region's price multiplier and a note for the basis; unknown regions use us-east-1 rates."""
    if region is None:
        return 1.0, f"; no region: {catalog.PRICE_REGION} rates"
    if region not in catalog.regions():
        return 1.0, f"; {region} not in the price table: {catalog.PRICE_REGION} rates"
    multiplier = catalog.region_multiplier(region)
    return multiplier, "" if multiplier == 1.0 else f" × {multiplier:g} ({region})"


def _capacity_factor(capacity_type: object) -> tuple[float, str]:
    if capacity_type == "SPOT":
        return SPOT_FACTOR, f" × {SPOT_FACTOR:g} (spot estimate)"
    if capacity_type == "CAPACITY_BLOCK":
        return 1.0, " (capacity block at the on-demand rate)"
    return 1.0, ""


# What a value unknown until deploy looks like in plan.json (llmstack.offline.UNKNOWN_PLACEHOLDER).
UNKNOWN = "[unknown]"


def _kind(value: object) -> str:
    """What a malformed value is, for a message (never its repr: a policy sees proxy objects)."""
    if isinstance(value, str):
        return "a string"
    return "a list" if _is_list(value) else f"a {type(value).__name__}"


def _count(value: object) -> int | None:
    """A node count from the plan; unknown or malformed values (e.g. "[unknown]") are None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
        return None
    return int(value)


def _tag_count(value: object) -> int | None:
    """A count from a tag (tag values are strings): decimal digits only, else None."""
    return int(value) if isinstance(value, str) and value.isdecimal() else None


def _is_list(value: Any) -> TypeGuard[Sequence[Any]]:
    """A list in plan.json; inside the policy pack, the gRPC layer's sequence type (not a `list`)."""
    return isinstance(value, Sequence) and not isinstance(value, (str, bytes))


def _rule_count(inputs: Mapping[str, Any]) -> int:
    """Rules of a web ACL, given as `rules` or as the `ruleJson` string."""
    rules = inputs.get("rules")
    if _is_list(rules):
        return len(rules)
    rule_json = inputs.get("ruleJson")
    if isinstance(rule_json, str):
        try:
            parsed = json.loads(rule_json)
        except ValueError:
            return 0
        return len(parsed) if isinstance(parsed, list) else 0
    return 0


def _rate(usd: float) -> str:
    """A unit price with as many decimals as it has (up to 4): $1.212, $0.045, $55.04, $5."""
    return "$" + f"{usd:,.4f}".rstrip("0").rstrip(".")


def dollars(usd: float) -> str:
    """A monthly figure as the report and the policies print it: $1,234."""
    return _dollars(usd)


def _dollars(usd: float) -> str:
    return f"${usd:,.0f}"


def _overrun(amount: float, budget: float) -> str:
    return f"{_dollars(amount - budget)} ({(amount - budget) / budget:.0%})"
