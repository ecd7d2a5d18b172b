"""One EKS managed GPU node group: its launch template, the node group, and the Auto Scaling
group tags Cluster Autoscaler reads to scale it from zero.

The launch template carries what managed node groups cannot set themselves: IMDSv2 with hop limit
1 (pods cannot reach the node role's credentials; workloads use Pod Identity), an encrypted gp3
root volume with the region's `ebs` key, no SSH key, and nodeadm user data that RAID0s the
instance-store NVMe into the hot weight tier (`components.node_user_data`). It names no AMI, so
EKS picks the `AL2023_x86_64_NVIDIA` release for `kubernetes_version` and merges its own bootstrap
NodeConfig into the user data.

Capacity types map onto what AWS requires:

| config                 | node group `capacityType` | launch template                                   |
|------------------------|---------------------------|---------------------------------------------------|
| `on-demand`            | ON_DEMAND                 | -                                                 |
| `spot`                 | SPOT                      | -                                                 |
| `capacity-reservation` | ON_DEMAND                 | capacity reservation target = the reservation id  |
| `capacity-block`       | CAPACITY_BLOCK            | market type `capacity-block` + the reservation id |

A reservation lives in one Availability Zone, so reserved groups take exactly one subnet.

Cluster Autoscaler learns a node's labels, taints and GPUs from a running node; with zero nodes it
reads them from `k8s.io/cluster-autoscaler/node-template/...` tags on the Auto Scaling group. EKS
does not copy node group tags to the group, so each tag is an `aws.autoscaling.Tag` on the group
EKS created (`resources[0].autoscalingGroups[0].name`).
"""

from __future__ import annotations

import base64
import re
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components import catalog, node_user_data
from components.arg_checks import check_region
from components.conventions import (
    AUTOSCALER_GPU_LABEL,
    GPU_LABEL,
    GPU_RESOURCE,
    GPU_TAINT,
    NODE_GROUP_LABEL,
    accelerator_label_value,
)

AMI_TYPE = "AL2023_x86_64_NVIDIA"
ROOT_DEVICE = "/dev/xvda"  # root device of the AL2023 EKS AMIs
CAPACITY_TYPES = {
    "on-demand": "ON_DEMAND",
    "spot": "SPOT",
    "capacity-reservation": "ON_DEMAND",
    "capacity-block": "CAPACITY_BLOCK",
}
RESERVED = ("capacity-reservation", "capacity-block")
# Kubernetes taint effects in the EKS API's spelling.
EKS_TAINT_EFFECTS = {"NoSchedule": "NO_SCHEDULE", "NoExecute": "NO_EXECUTE", "PreferNoSchedule": "PREFER_NO_SCHEDULE"}
AUTOSCALER_TAG_PREFIX = "k8s.io/cluster-autoscaler"

_DNS_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
_VERSION = re.compile(r"^1\.\d{2}$")
_RESERVATION = re.compile(r"^cr-[0-9a-f]{8,17}$")


def eks_taint(taint: dict[str, str] = GPU_TAINT) -> dict[str, str]:
    """A Kubernetes taint ({key, value, effect: NoSchedule}) in the EKS node group API's form."""
    return {"key": taint["key"], "value": taint["value"], "effect": EKS_TAINT_EFFECTS[taint["effect"]]}


def node_labels(gpu: str, name: str) -> dict[str, str]:
    """The labels every node of a GPU node group carries: model servers select on the first two,
    Cluster Autoscaler waits for a node with the third to report its GPUs before adding another."""
    return {GPU_LABEL: gpu, NODE_GROUP_LABEL: name, AUTOSCALER_GPU_LABEL: accelerator_label_value(gpu)}


def node_template_tags(gpu: str, name: str, instance_type: str) -> dict[str, str]:
    """Auto Scaling group tags that do not name the cluster: discovery switch and the node template
    (labels, GPU taint, GPU count, ephemeral storage) Cluster Autoscaler simulates a new node from."""
    instance = catalog.instance_type(instance_type)
    template = f"{AUTOSCALER_TAG_PREFIX}/node-template"
    tags = {
        f"{AUTOSCALER_TAG_PREFIX}/enabled": "true",
        f"{template}/taint/{GPU_TAINT['key']}": f"{GPU_TAINT['value']}:{GPU_TAINT['effect']}",
        f"{template}/resources/{GPU_RESOURCE}": str(instance.gpu_count),
    }
    tags.update({f"{template}/label/{key}": value for key, value in node_labels(gpu, name).items()})
    if instance.nvme_gb:
        # nodeadm bind-mounts the kubelet directory onto the RAID0, so pods' ephemeral storage is the NVMe.
        tags[f"{template}/resources/ephemeral-storage"] = f"{instance.nvme_gb}G"
    return tags


def owner_tag_key(cluster_name: str) -> str:
    """The tag that marks a group as this cluster's: auto-discovery and the autoscaler's IAM condition."""
    return f"{AUTOSCALER_TAG_PREFIX}/{cluster_name}"


def autoscaler_tags(cluster_name: str, gpu: str, name: str, instance_type: str) -> dict[str, str]:
    """Every Auto Scaling group tag of a GPU node group, for one cluster."""
    return {**node_template_tags(gpu, name, instance_type), owner_tag_key(cluster_name): "owned"}


@dataclass(frozen=True)
class GpuNodeGroupArgs:
    environment: str
    """dev, staging or prod (tags and names)."""
    region: str
    """Region of the provider this component runs under."""
    cluster_name: pulumi.Input[str]
    """The EKS cluster the nodes join; also the Cluster Autoscaler ownership tag (needs a known string there)."""
    kubernetes_version: str
    """Kubernetes minor version of the nodes, e.g. "1.33" (the cluster's)."""
    node_role_arn: pulumi.Input[str]
    """IAM role of the nodes (worker node, CNI and ECR read policies), shared with the cluster's node groups."""
    subnet_ids: Sequence[pulumi.Input[str]]
    """Private subnets of the group's zones; exactly one for a capacity reservation or block."""
    ebs_key_arn: pulumi.Input[str]
    """Customer-managed KMS key that encrypts the root volumes (the `ebs` key of `Encryption`)."""
    name: str
    """Node group name from the stack config (the `llm-serving/node-group` label)."""
    gpu: str
    """GPU key from the catalog, e.g. h100 (the `llm-serving/gpu` label)."""
    instance_type: str
    """An instance type of the catalog carrying `gpu`."""
    min_nodes: int
    desired_nodes: int
    """Initial size only: Cluster Autoscaler owns the desired size afterwards (ignored on update)."""
    max_nodes: int
    capacity_type: str = "on-demand"
    """on-demand, spot, capacity-reservation or capacity-block."""
    capacity_reservation_id: str | None = None
    """cr-...: required for capacity-reservation and capacity-block, refused otherwise."""
    root_volume_gib: int = 200
    """Root gp3 volume: OS, container images live on the NVMe RAID0 (nodeadm bind-mounts containerd)."""

    def __post_init__(self) -> None:
        for field in ("environment", "name"):
            value = getattr(self, field)
            if not isinstance(value, str) or not _DNS_LABEL.fullmatch(value):
                raise ValueError(f"{field}: must be a DNS label (got {value!r})")
        check_region(self.region)
        if not isinstance(self.kubernetes_version, str) or not _VERSION.fullmatch(self.kubernetes_version):
            raise ValueError(
                f"kubernetes_version: must be a minor version such as 1.33 (got {self.kubernetes_version!r})"
            )
        try:
            catalog.gpu(self.gpu)
            instance = catalog.instance_type(self.instance_type)
        except catalog.UnknownCatalogEntry as exc:
            field = "gpu" if "GPU" in str(exc) else "instance_type"
            raise ValueError(f"{field}: {exc}") from None
        if instance.gpu != self.gpu:
            allowed = ", ".join(i.name for i in catalog.instance_types_for(self.gpu))
            raise ValueError(f"instance_type: {self.instance_type} carries no {self.gpu}; allowed: {allowed}")
        self._check_sizes()
        self._check_capacity()

    def _check_sizes(self) -> None:
        for field in ("min_nodes", "desired_nodes", "max_nodes", "root_volume_gib"):
            value = getattr(self, field)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ValueError(f"{field}: must be a non-negative integer (got {value!r})")
        if self.max_nodes < 1:
            raise ValueError(f"max_nodes: must be >= 1 (got {self.max_nodes})")
        if not self.min_nodes <= self.desired_nodes <= self.max_nodes:
            raise ValueError(
                f"desired_nodes: must be between min_nodes ({self.min_nodes}) and max_nodes ({self.max_nodes}) "
                f"(got {self.desired_nodes})"
            )
        if not 50 <= self.root_volume_gib <= 16384:
            raise ValueError(f"root_volume_gib: must be between 50 and 16384 (got {self.root_volume_gib})")

    def _check_capacity(self) -> None:
        if self.capacity_type not in CAPACITY_TYPES:
            raise ValueError(f"capacity_type: must be one of {', '.join(CAPACITY_TYPES)} (got {self.capacity_type!r})")
        reservation = self.capacity_reservation_id
        if self.capacity_type in RESERVED:
            if not isinstance(reservation, str) or not _RESERVATION.fullmatch(reservation):
                raise ValueError(
                    f"capacity_reservation_id: a cr-... id is required with capacity_type {self.capacity_type} "
                    f"(got {reservation!r})"
                )
            subnets = self.subnet_ids
            if isinstance(subnets, (list, tuple)) and len(subnets) != 1:
                raise ValueError(
                    f"subnet_ids: a reservation lives in one Availability Zone; give exactly one subnet "
                    f"(got {len(subnets)})"
                )
        elif reservation is not None:
            raise ValueError(
                "capacity_reservation_id: only allowed with capacity_type capacity-reservation or capacity-block"
            )

    @property
    def reserved(self) -> bool:
        return self.capacity_type in RESERVED


class GpuNodeGroup(pulumi.ComponentResource):
    """Launch template + EKS managed node group + Cluster Autoscaler node-template tags."""

    node_group_name: pulumi.Output[str]
    node_group_arn: pulumi.Output[str]
    asg_name: pulumi.Output[str]

    def __init__(self, name: str, args: GpuNodeGroupArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("llm-serving:cluster:GpuNodeGroup", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        instance = catalog.instance_type(args.instance_type)
        tags = {"Name": name, "component": "cluster", "llm-serving/node-group": args.name, "llm-serving/gpu": args.gpu}

        self.gpu = args.gpu
        self.gpus_per_node = instance.gpu_count
        self.labels = node_labels(args.gpu, args.name)
        self.taint = dict(GPU_TAINT)

        # A capacity block is an EC2 market of its own; a plain reservation is on-demand capacity targeted by id.
        market_options = (
            aws.ec2.LaunchTemplateInstanceMarketOptionsArgs(market_type="capacity-block")
            if args.capacity_type == "capacity-block"
            else None
        )
        reservation = (
            aws.ec2.LaunchTemplateCapacityReservationSpecificationArgs(
                capacity_reservation_target=aws.ec2.LaunchTemplateCapacityReservationSpecificationCapacityReservationTargetArgs(
                    capacity_reservation_id=args.capacity_reservation_id
                )
            )
            if args.reserved
            else None
        )
        launch_template = aws.ec2.LaunchTemplate(
            f"{name}-lt",
            description=f"llm-serving {args.environment} GPU node group {args.name} ({args.instance_type})",
            update_default_version=True,
            metadata_options={
                "http_endpoint": "enabled",
                "http_tokens": "required",
                "http_put_response_hop_limit": 1,
                "instance_metadata_tags": "disabled",
            },
            block_device_mappings=[
                {
                    "device_name": ROOT_DEVICE,
                    "ebs": {
                        "volume_size": args.root_volume_gib,
                        "volume_type": "gp3",
                        "encrypted": "true",
                        "kms_key_id": args.ebs_key_arn,
                        "delete_on_termination": "true",
                    },
                }
            ],
            user_data=base64.b64encode(node_user_data.render().encode()).decode(),
            capacity_reservation_specification=reservation,
            instance_market_options=market_options,
            tag_specifications=[
                {"resource_type": "instance", "tags": tags},
                {"resource_type": "volume", "tags": tags},
            ],
            tags=tags,
            opts=child,
        )
        node_group = aws.eks.NodeGroup(
            f"{name}-nodes",
            cluster_name=args.cluster_name,
            node_role_arn=args.node_role_arn,
            subnet_ids=args.subnet_ids,
            version=args.kubernetes_version,
            ami_type=AMI_TYPE,
            instance_types=[args.instance_type],
            capacity_type=CAPACITY_TYPES[args.capacity_type],
            scaling_config={
                "min_size": args.min_nodes,
                "desired_size": args.desired_nodes,
                "max_size": args.max_nodes,
            },
            # One node at a time: GPU nodes are scarce and each carries whole model replicas.
            update_config={"max_unavailable": 1},
            launch_template={"id": launch_template.id, "version": launch_template.latest_version.apply(str)},
            labels=self.labels,
            taints=[aws.eks.NodeGroupTaintArgs(**eks_taint())],
            tags=tags,
            # Cluster Autoscaler sets the desired size; an update must not reset it.
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=["scalingConfig.desiredSize"]),
        )
        self.node_group_name = node_group.node_group_name
        self.node_group_arn = node_group.arn
        self.asg_name = node_group.resources.apply(_asg_name)

        # EKS also puts the two discovery tags on the group; declaring them keeps discovery and the
        # autoscaler's IAM condition from resting on that implicit behaviour.
        static = node_template_tags(args.gpu, args.name, args.instance_type)
        keys: list[tuple[str, pulumi.Input[str], str]] = [
            (_tag_suffix(key), key, value) for key, value in static.items()
        ]
        owner_key = pulumi.Output.from_input(args.cluster_name).apply(owner_tag_key)
        keys.append(("owner", owner_key, "owned"))
        for suffix, key, value in keys:
            aws.autoscaling.Tag(
                f"{name}-asg-tag-{suffix}",
                autoscaling_group_name=self.asg_name,
                tag={"key": key, "value": value, "propagate_at_launch": False},
                opts=child,
            )

        self.register_outputs(
            {
                "node_group_name": self.node_group_name,
                "node_group_arn": self.node_group_arn,
                "asg_name": self.asg_name,
                "labels": self.labels,
                "taint": self.taint,
                "gpu": self.gpu,
                "gpus_per_node": self.gpus_per_node,
            }
        )


def _asg_name(resources: object) -> str:
    """The Auto Scaling group EKS created for a node group (from its `resources` output)."""
    first = resources[0]  # type: ignore[index]
    groups = first["autoscaling_groups"] if isinstance(first, dict) else first.autoscaling_groups
    group = groups[0]
    return group["name"] if isinstance(group, dict) else group.name


def _tag_suffix(key: str) -> str:
    """A readable resource-name suffix for a tag key: `label-llm-serving-gpu`, `resources-nvidia-com-gpu`."""
    tail = key.removeprefix(f"{AUTOSCALER_TAG_PREFIX}/").replace("node-template/", "")
    return re.sub(r"[^a-z0-9]+", "-", tail.lower()).strip("-")
