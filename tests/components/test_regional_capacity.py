"""RegionalPlatform once GPU capacity is wired: autoscaling on the cluster, scale to zero on the gateway stage."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws
from conftest import stack_values
from serving_harness import by_type, record

from components.conventions import NODE_GROUP_LABEL
from components.regional import RegionalPlatform
from stacks import platform
from stacks.config import parse_platform_config

K8S_PROVIDER = "pulumi:providers:kubernetes"


class WithGpuNodes(RegionalPlatform):
    """A region whose GPU capacity is wired (as the GPU node group components will do)."""

    def _add_gpu_node_groups(self):
        group = aws.eks.NodeGroup(
            f"{self._name}-gpu-a10g",
            # A known string, as GpuNodeGroup takes it: the cluster dependency comes with node_role_arn.
            cluster_name=self._args.cluster_name,
            node_role_arn=self.cluster.node_role_arn,
            subnet_ids=["subnet-a", "subnet-b"],
            instance_types=["g5.2xlarge"],
            labels={NODE_GROUP_LABEL: "a10g"},
            scaling_config={"min_size": 0, "desired_size": 0, "max_size": 2},
            tags={"Name": "gpu-a10g", "component": "gpu-nodes"},
            opts=pulumi.ResourceOptions(parent=self),
        )
        return {"a10g": group}

    def _add_gpu_node_agents(self, kubernetes_provider):
        """The device plugin and Cluster Autoscaler are the GPU node group components' own tests."""


def test_with_gpu_capacity_models_scale_and_scale_to_zero_waits_on_the_gateway_stage(monkeypatch):
    config = parse_platform_config(stack_values("dev"))
    monkeypatch.setattr(platform, "RegionalPlatform", WithGpuNodes)
    resources = record(lambda: platform.build_platform(config))
    (autoscaling,) = by_type(resources, "llm-serving:autoscaling:Autoscaling")
    (scaled,) = by_type(resources, "kubernetes:keda.sh/v1alpha1:ScaledObject")
    assert scaled.inputs["spec"]["minReplicaCount"] == 0
    # It wakes on requests to its own three routes, never on the stage's total.
    wake = [t["metadata"]["dimensionValue"] for t in scaled.inputs["spec"]["triggers"] if t["type"] == "aws-cloudwatch"]
    assert wake == [
        f"llm-serving-dev-us-east-1;POST;/v1/models/llama-3-8b-instruct/{route};v1"
        for route in ("generate", "generate_stream", "chat/completions")
    ]
    (deployment,) = [
        d
        for d in by_type(resources, "kubernetes:apps/v1:Deployment")
        if d.inputs["metadata"]["name"] == "llama-3-8b-instruct"
    ]
    (scaler,) = [r for r in resources if r.urn == scaled.parent]
    assert deployment.urn in scaler.dependencies
    (cluster,) = by_type(resources, "aws:eks/cluster:Cluster")
    (provider,) = [p for p in by_type(resources, K8S_PROVIDER) if p.name == "us-east-1-cluster-k8s"]
    assert scaled.provider.startswith(provider.urn)
    assert cluster.urn in provider.dependencies
    assert autoscaling.parent.endswith("::us-east-1")


def test_gpu_node_groups_depend_on_the_cluster_its_node_entry_and_network_addons(monkeypatch):
    config = parse_platform_config(stack_values("dev"))
    monkeypatch.setattr(platform, "RegionalPlatform", WithGpuNodes)
    resources = record(lambda: platform.build_platform(config))
    (gpu,) = [g for g in by_type(resources, "aws:eks/nodeGroup:NodeGroup") if g.name == "us-east-1-gpu-a10g"]
    waits_for = {r.name for r in resources if r.urn in gpu.property_dependencies["nodeRoleArn"]}
    assert waits_for >= {
        "us-east-1-cluster-eks",
        "us-east-1-cluster-nodes",
        "us-east-1-cluster-vpc-cni",
        "us-east-1-cluster-kube-proxy",
        "us-east-1-cluster-eks-pod-identity-agent",
    }
