"""HybridNodes: an on-prem target's GPU machines joined to a region's EKS cluster (EKS Hybrid Nodes).

The machines run nodeadm; it gets short-lived credentials for the hybrid nodes role from IAM Roles
Anywhere (a certificate per machine from the data centre's CA, CN `llm-node-<target>-<host>`, which
is also the node's name) and joins the cluster through the role's `HYBRID_LINUX` access entry. The
role, its inline policy and the Roles Anywhere profile live with the trust anchor
(`roles_anywhere.RolesAnywhere`); this component adds the access entry in the region and renders the
NodeConfig nodeadm reads. The cluster's remote node and pod networks, and the control plane's security
group rules for them, belong to `cluster.GpuCluster`.

Sources: EKS user guide, "Prepare credentials for hybrid nodes" (role permissions and the Roles
Anywhere trust policy, the profile's acceptRoleSessionName), "Prepare cluster access for hybrid
nodes" (access entry type HYBRID_LINUX, also in botocore's EKS model: tested), and the hybrid nodes
`nodeadm` reference with its source (aws/eks-hybrid `api/v1alpha1/nodeconfig_types.go`, NodeConfig
`node.eks.aws/v1alpha1`; certificate defaults in `internal/node/hybrid/defaults.go`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components.arg_checks import check_environment, check_region
from components.conventions import (
    GPU_LABEL,
    GPU_TAINT,
    HYBRID_NODES_TAG,
    HYBRID_VCPUS_PER_NODE_TAG,
    ONPREM_TARGET_LABEL,
)

# Where nodeadm's Roles Anywhere credential process reads the machine's certificate and key.
CERTIFICATE_PATH = "/etc/iam/pki/server.pem"
PRIVATE_KEY_PATH = "/etc/iam/pki/server.key"


def node_name_prefix(target: str) -> str:
    """The CN (and node name) of each of `target`'s machines starts with this; the host part follows."""
    return f"llm-node-{target}-"


def node_trust_policy(trust_anchor_arn: str, target: str) -> dict[str, Any]:
    """The EKS guide's Roles Anywhere trust for hybrid nodes (the session is named after the
    certificate's CN, which nodeadm also uses as the node name), narrowed to `target`'s certificates."""

    def scope() -> dict[str, Any]:
        # This trust anchor, this target's certificates (a fresh dict per statement).
        return {
            "ArnEquals": {"aws:SourceArn": trust_anchor_arn},
            "StringLike": {"aws:PrincipalTag/x509Subject/CN": f"{node_name_prefix(target)}*"},
        }

    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "TagTheSessionWithTheCertificate",
                "Effect": "Allow",
                "Principal": {"Service": "rolesanywhere.amazonaws.com"},
                "Action": ["sts:TagSession", "sts:SetSourceIdentity"],
                "Condition": scope(),
            },
            {
                "Sid": "AssumeAsTheNodeTheCertificateNames",
                "Effect": "Allow",
                "Principal": {"Service": "rolesanywhere.amazonaws.com"},
                "Action": "sts:AssumeRole",
                "Condition": {
                    **scope(),
                    "StringEquals": {"sts:RoleSessionName": "${aws:PrincipalTag/x509Subject/CN}"},
                },
            },
        ],
    }


def node_policy(cluster_arn: str) -> dict[str, Any]:
    """What nodeadm and the node need beyond pulling images (ECR_PULL_ONLY, attached): read the
    cluster it joins, and hand pods their EKS Pod Identity credentials (the agent's hybrid DaemonSet)."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "DescribeTheClusterToJoin",
                "Effect": "Allow",
                "Action": "eks:DescribeCluster",
                "Resource": cluster_arn,
            },
            {
                "Sid": "PodIdentityForItsPods",
                "Effect": "Allow",
                "Action": "eks-auth:AssumeRoleForPodIdentity",
                "Resource": cluster_arn,
            },
        ],
    }


def node_labels(target: str, gpu: str) -> dict[str, str]:
    """Labels the kubelet registers the target's machines with (model servers and the device plugin
    select them); nodeadm adds `eks.amazonaws.com/compute-type: hybrid` itself."""
    return {GPU_LABEL: gpu, ONPREM_TARGET_LABEL: target}


def node_config(
    *,
    cluster_name: str,
    region: str,
    target: str,
    gpu: str,
    trust_anchor_arn: str,
    profile_arn: str,
    role_arn: str,
) -> dict[str, Any]:
    """The NodeConfig every machine of `target` runs `nodeadm init` with; `nodeName` is the machine's
    certificate CN (the `<host>` part is the operator's to fill in, one per machine)."""
    labels = ",".join(f"{key}={value}" for key, value in node_labels(target, gpu).items())
    taint = f"{GPU_TAINT['key']}={GPU_TAINT['value']}:{GPU_TAINT['effect']}"
    return {
        "apiVersion": "node.eks.aws/v1alpha1",
        "kind": "NodeConfig",
        "spec": {
            "cluster": {"name": cluster_name, "region": region},
            "hybrid": {
                # Pod Identity on hybrid nodes reads the node's credentials from this file.
                "enableCredentialsFile": True,
                "iamRolesAnywhere": {
                    "nodeName": f"{node_name_prefix(target)}<host>",
                    "trustAnchorArn": trust_anchor_arn,
                    "profileArn": profile_arn,
                    "roleArn": role_arn,
                    "certificatePath": CERTIFICATE_PATH,
                    "privateKeyPath": PRIVATE_KEY_PATH,
                },
            },
            # GPU machines only take GPU pods, as the region's GPU node groups.
            "kubelet": {"flags": [f"--node-labels={labels}", f"--register-with-taints={taint}"]},
        },
    }


@dataclass(frozen=True)
class HybridNodesArgs:
    environment: str
    region: str
    """The region of the cluster the machines join; the caller's AWS provider targets it."""
    target: str
    cluster_name: pulumi.Input[str]
    gpu: str
    nodes: int
    vcpus_per_node: int
    """The machines and their size: the access entry's tags, which the cost estimate prices."""
    role_arn: pulumi.Input[str]
    """The hybrid nodes role (`RolesAnywhere.issued.nodes[target]`)."""
    trust_anchor_arn: pulumi.Input[str]
    profile_arn: pulumi.Input[str]

    def __post_init__(self) -> None:
        check_environment(self.environment)
        check_region(self.region)
        if self.nodes < 1 or self.vcpus_per_node < 1:
            raise ValueError(f"nodes, vcpus_per_node: must be >= 1 (got {self.nodes}, {self.vcpus_per_node})")


class HybridNodes(pulumi.ComponentResource):
    """The access entry that lets the target's machines join, and the NodeConfig they join with."""

    node_config: pulumi.Output[str]
    """JSON of the NodeConfig (`nodeadm init -c file://nodeConfig.json`)."""

    def __init__(self, name: str, args: HybridNodesArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("llm-serving:cluster:HybridNodes", name, None, opts)
        tags: Mapping[str, str] = {
            "Name": f"{name}-access",
            "component": "hybrid-nodes",
            "target": args.target,
            HYBRID_NODES_TAG: str(args.nodes),
            HYBRID_VCPUS_PER_NODE_TAG: str(args.vcpus_per_node),
        }
        # HYBRID_LINUX puts the role's sessions in system:nodes; EKS allows no access policy on it.
        access = aws.eks.AccessEntry(
            f"{name}-access",
            cluster_name=args.cluster_name,
            principal_arn=args.role_arn,
            type="HYBRID_LINUX",
            tags=dict(tags),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.node_config = pulumi.Output.all(
            access.cluster_name, access.principal_arn, args.trust_anchor_arn, args.profile_arn
        ).apply(
            lambda v: json.dumps(
                node_config(
                    cluster_name=v[0],
                    region=args.region,
                    target=args.target,
                    gpu=args.gpu,
                    role_arn=v[1],
                    trust_anchor_arn=v[2],
                    profile_arn=v[3],
                ),
                indent=2,
            )
        )
        self.register_outputs({"node_config": self.node_config})
