"""GpuNodeGroup under mocks: launch template, node group per capacity type, scale-from-zero ASG tags."""

from __future__ import annotations

import base64
import dataclasses

import pulumi
import pulumi_aws as aws
import pytest
from conftest import policy_resource, resource_violations, stack_violations
from pulumi.runtime import settings as pulumi_settings
from pulumi.runtime.stack import wait_for_rpcs
from pulumi.runtime.sync_await import _sync_await
from serving_harness import by_type, record

from components import catalog, node_user_data
from components.conventions import GPU_LABEL, GPU_TAINT, NODE_GROUP_LABEL
from components.gpu_nodes import GpuNodeGroup, GpuNodeGroupArgs, autoscaler_tags, eks_taint
from llmstack.mock_ids import mock_identity
from llmstack.offline import PlanMocks, RecordingMonitor
from policies.aws.ec2 import launch_template_volumes_cmk
from policies.aws.eks import gpu_node_group_tainted, node_group_disallow_ssh, node_imdsv2_hop_limit

ACCELERATOR = "k8s.amazonaws.com/accelerator"  # cluster-autoscaler/cloudprovider/aws: GPULabel
EBS_KEY = "arn:aws:kms:us-east-1:123456789012:key/ebs"
RESERVATION = "cr-0123456789abcdef0"
CLUSTER = "llm-serving-prod"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
ASG_TAG = "aws:autoscaling/tag:Tag"


def args(**changes) -> GpuNodeGroupArgs:
    values = {
        "environment": "prod",
        "region": "us-east-1",
        "cluster_name": CLUSTER,
        "kubernetes_version": "1.33",
        "node_role_arn": "arn:aws:iam::123456789012:role/nodes",
        "subnet_ids": ["subnet-a", "subnet-b"],
        "ebs_key_arn": EBS_KEY,
        "name": "a10g",
        "gpu": "a10g",
        "instance_type": "g5.12xlarge",
        "min_nodes": 0,
        "desired_nodes": 1,
        "max_nodes": 4,
    }
    return GpuNodeGroupArgs(**{**values, **changes})


def reserved(capacity_type: str, **changes) -> GpuNodeGroupArgs:
    values = {"capacity_type": capacity_type, "capacity_reservation_id": RESERVATION, "subnet_ids": ["subnet-a"]}
    return args(**{"name": "h100", "gpu": "h100", "instance_type": "p5.48xlarge", **values, **changes})


def build(group_args: GpuNodeGroupArgs):
    built: dict[str, GpuNodeGroup] = {}

    def program():
        provider = aws.Provider("aws-us-east-1", region="us-east-1")
        built["group"] = GpuNodeGroup("ng", group_args, opts=pulumi.ResourceOptions(providers={"aws": provider}))

    resources = record(program)
    return resources, built["group"]


def only(resources, type_token):
    (resource,) = by_type(resources, type_token)
    return resource


def test_launch_template_requires_imdsv2_with_hop_limit_one():
    template = only(build(args())[0], LAUNCH_TEMPLATE).inputs
    assert template["metadataOptions"] == {
        "httpEndpoint": "enabled",
        "httpTokens": "required",
        "httpPutResponseHopLimit": 1,
        "instanceMetadataTags": "disabled",
    }
    assert "keyName" not in template
    assert "imageId" not in template  # EKS picks the AL2023 NVIDIA AMI and merges its NodeConfig


def test_launch_template_root_volume_is_gp3_encrypted_with_the_ebs_key():
    template = only(build(args(root_volume_gib=300))[0], LAUNCH_TEMPLATE).inputs
    assert template["blockDeviceMappings"] == [
        {
            "deviceName": "/dev/xvda",
            "ebs": {
                "volumeSize": 300,
                "volumeType": "gp3",
                "encrypted": "true",
                "kmsKeyId": EBS_KEY,
                "deleteOnTermination": "true",
            },
        }
    ]


def test_launch_template_user_data_is_the_rendered_mime():
    template = only(build(args())[0], LAUNCH_TEMPLATE).inputs
    assert base64.b64decode(template["userData"]).decode() == node_user_data.render()


def test_launch_template_tags_instances_and_volumes_with_the_component():
    template = only(build(args())[0], LAUNCH_TEMPLATE).inputs
    specs = {spec["resourceType"]: spec["tags"] for spec in template["tagSpecifications"]}
    assert set(specs) == {"instance", "volume"}
    for tags in (*specs.values(), template["tags"]):
        assert tags["component"] == "cluster"
        assert tags["llm-serving/node-group"] == "a10g"


def test_node_group_values():
    resources, _ = build(args())
    group = only(resources, NODE_GROUP).inputs
    template = only(resources, LAUNCH_TEMPLATE)
    assert group["amiType"] == "AL2023_x86_64_NVIDIA"
    assert group["instanceTypes"] == ["g5.12xlarge"]
    assert group["version"] == "1.33"
    assert group["clusterName"] == CLUSTER
    assert group["subnetIds"] == ["subnet-a", "subnet-b"]
    assert group["scalingConfig"] == {"minSize": 0, "desiredSize": 1, "maxSize": 4}
    assert group["updateConfig"] == {"maxUnavailable": 1}
    template_id = mock_identity("aws:ec2/launchTemplate:LaunchTemplate", template.name)[0]
    assert group["launchTemplate"] == {"id": template_id, "version": "1"}
    # The third is Cluster Autoscaler's: it waits for such a node's GPUs before adding another.
    assert group["labels"] == {GPU_LABEL: "a10g", NODE_GROUP_LABEL: "a10g", ACCELERATOR: "nvidia-a10g"}
    assert group["taints"] == [{"key": "nvidia.com/gpu", "value": "true", "effect": "NO_SCHEDULE"}]
    assert "remoteAccess" not in group
    assert group["tags"]["component"] == "cluster"


class IgnoreChangesMonitor(RecordingMonitor):
    """Also keeps each registration's ignoreChanges (plan.json does not carry them)."""

    def __init__(self, mocks):
        super().__init__(mocks)
        self.ignore_changes: dict[str, list[str]] = {}

    def RegisterResource(self, request):  # noqa: N802 - gRPC method name
        self.ignore_changes[request.type] = list(request.ignoreChanges)
        return super().RegisterResource(request)


def test_autoscaler_owns_the_desired_size():
    pulumi_settings.reset_options()
    monitor = IgnoreChangesMonitor(PlanMocks())
    pulumi.runtime.set_mocks(monitor.mocks, project="llm-serving", stack="test", preview=False, monitor=monitor)
    GpuNodeGroup("ng", args())
    _sync_await(wait_for_rpcs())
    assert monitor.ignore_changes[NODE_GROUP] == ["scalingConfig.desiredSize"]
    assert monitor.ignore_changes[LAUNCH_TEMPLATE] == []


@pytest.mark.parametrize(
    ("group_args", "capacity_type"),
    [
        (args(), "ON_DEMAND"),
        (args(capacity_type="spot"), "SPOT"),
        (reserved("capacity-reservation"), "ON_DEMAND"),
        (reserved("capacity-block"), "CAPACITY_BLOCK"),
    ],
)
def test_capacity_type_in_the_eks_api(group_args, capacity_type):
    assert only(build(group_args)[0], NODE_GROUP).inputs["capacityType"] == capacity_type


@pytest.mark.parametrize("group_args", [args(), args(capacity_type="spot")])
def test_unreserved_groups_target_no_reservation(group_args):
    template = only(build(group_args)[0], LAUNCH_TEMPLATE).inputs
    assert "capacityReservationSpecification" not in template
    assert "instanceMarketOptions" not in template


def test_capacity_reservation_is_targeted_by_id_as_on_demand():
    resources, _ = build(reserved("capacity-reservation"))
    template = only(resources, LAUNCH_TEMPLATE).inputs
    assert template["capacityReservationSpecification"] == {
        "capacityReservationTarget": {"capacityReservationId": RESERVATION}
    }
    assert "instanceMarketOptions" not in template
    assert only(resources, NODE_GROUP).inputs["subnetIds"] == ["subnet-a"]


def test_capacity_block_uses_the_capacity_block_market_and_the_reservation():
    template = only(build(reserved("capacity-block"))[0], LAUNCH_TEMPLATE).inputs
    assert template["instanceMarketOptions"] == {"marketType": "capacity-block"}
    assert template["capacityReservationSpecification"] == {
        "capacityReservationTarget": {"capacityReservationId": RESERVATION}
    }


@pytest.mark.parametrize(
    ("gpu", "instance_type"), [("h100", "p5.48xlarge"), ("a10g", "g5.xlarge"), ("a10g", "g5.48xlarge")]
)
def test_asg_tags_let_the_autoscaler_scale_from_zero(gpu, instance_type):
    resources, _ = build(args(name="pool", gpu=gpu, instance_type=instance_type))
    tags = {r.inputs["tag"]["key"]: r.inputs["tag"] for r in by_type(resources, ASG_TAG)}
    asg_names = {r.inputs["autoscalingGroupName"] for r in by_type(resources, ASG_TAG)}
    group = only(resources, NODE_GROUP)
    (asg,) = mock_identity(NODE_GROUP, group.name, group.inputs)[1]["resources"][0]["autoscalingGroups"]
    assert asg_names == {asg["name"]}
    instance = catalog.instance_type(instance_type)
    expected = {
        "k8s.io/cluster-autoscaler/enabled": "true",
        f"k8s.io/cluster-autoscaler/{CLUSTER}": "owned",
        "k8s.io/cluster-autoscaler/node-template/label/llm-serving/gpu": gpu,
        "k8s.io/cluster-autoscaler/node-template/label/llm-serving/node-group": "pool",
        "k8s.io/cluster-autoscaler/node-template/label/k8s.amazonaws.com/accelerator": f"nvidia-{gpu}",
        "k8s.io/cluster-autoscaler/node-template/taint/nvidia.com/gpu": "true:NoSchedule",
        "k8s.io/cluster-autoscaler/node-template/resources/nvidia.com/gpu": str(instance.gpu_count),
        "k8s.io/cluster-autoscaler/node-template/resources/ephemeral-storage": f"{instance.nvme_gb}G",
    }
    assert {key: tag["value"] for key, tag in tags.items()} == expected
    assert all(tag["propagateAtLaunch"] is False for tag in tags.values())
    assert autoscaler_tags(CLUSTER, gpu, "pool", instance_type) == expected


def test_outputs():
    _, group = build(reserved("capacity-block"))
    assert group.gpu == "h100"
    assert group.gpus_per_node == 8
    assert group.labels == {GPU_LABEL: "h100", NODE_GROUP_LABEL: "h100", ACCELERATOR: "nvidia-h100"}
    assert group.taint == GPU_TAINT
    assert eks_taint(group.taint) == {"key": "nvidia.com/gpu", "value": "true", "effect": "NO_SCHEDULE"}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"gpu": "t4"}, "gpu: unknown GPU 't4'; allowed: a10g, h100"),
        ({"instance_type": "g5.4xlarge"}, "instance_type: unknown instance type 'g5.4xlarge'"),
        ({"instance_type": "p5.48xlarge"}, "instance_type: p5.48xlarge carries no a10g"),
        ({"min_nodes": 3, "desired_nodes": 3, "max_nodes": 2}, "desired_nodes: must be between min_nodes (3)"),
        ({"desired_nodes": 5}, "desired_nodes: must be between min_nodes (0) and max_nodes (4) (got 5)"),
        ({"capacity_type": "reserved"}, "capacity_type: must be one of on-demand, spot"),
        ({"capacity_type": "capacity-block", "subnet_ids": ["subnet-a"]}, "capacity_reservation_id: a cr-... id"),
        (
            {"capacity_type": "capacity-reservation", "capacity_reservation_id": RESERVATION},
            "subnet_ids: a reservation lives in one Availability Zone; give exactly one subnet (got 2)",
        ),
        ({"capacity_reservation_id": RESERVATION}, "capacity_reservation_id: only allowed with capacity_type"),
        ({"kubernetes_version": "1.33.1"}, "kubernetes_version: must be a minor version"),
        ({"name": "GPU_A"}, "name: must be a DNS label"),
        ({"root_volume_gib": 20}, "root_volume_gib: must be between 50 and 16384"),
    ],
)
def test_bad_args_name_the_field(changes, message):
    with pytest.raises(ValueError) as error:
        args(**changes)
    assert str(error.value).startswith(message)


def test_args_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        args().name = "other"  # type: ignore[misc]


# --- the real component against all four --------------------------------------------------------


@pytest.mark.parametrize("capacity_type", ["on-demand", "spot", "capacity-reservation", "capacity-block"])
def test_gpu_node_group_component_passes_every_node_policy(capacity_type):
    group_args = (
        args(capacity_type=capacity_type) if capacity_type in ("on-demand", "spot") else reserved(capacity_type)
    )
    recorded, _ = build(group_args)
    by_urn = {}
    for resource in recorded:
        deps = {k: [by_urn[u] for u in urns if u in by_urn] for k, urns in resource.property_dependencies.items()}
        by_urn[resource.urn] = policy_resource(
            resource.type, resource.name, resource.inputs, property_dependencies=deps
        )
    resources = list(by_urn.values())
    assert stack_violations(node_imdsv2_hop_limit.policy, resources) == []
    for resource in resources:
        for policy in (
            node_group_disallow_ssh.policy,
            launch_template_volumes_cmk.policy,
            gpu_node_group_tainted.policy,
        ):
            assert resource_violations(policy, resource.resource_type, resource.props, name=resource.name) == []
    # The relation the IMDS policy follows is really there.
    (group,) = [r for r in resources if r.resource_type == NODE_GROUP]
    assert [t.name for t in group.property_dependencies["launchTemplate"]] == ["ng-lt"]
