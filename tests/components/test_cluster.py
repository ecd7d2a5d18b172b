"""GpuCluster: encryption, endpoint, control-plane logs, access entries, pinned add-ons, system nodes, kubeconfig."""

from __future__ import annotations

import fnmatch
import json
from typing import Any

import pulumi
import pulumi_aws as aws
import pytest
from serving_harness import by_type, record

from components.cluster import (
    ADDON_VERSIONS,
    CONTROL_PLANE_LOG_TYPES,
    GpuCluster,
    GpuClusterArgs,
    control_plane_log_group_name,
)
from components.conventions import NODE_GROUP_LABEL
from components.encryption import key_policy
from llmstack.offline import RecordedResource

ACCOUNT = "123456789012"
SECRETS_KEY = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/eks-secrets"
LOGS_KEY = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/logs"
EBS_KEY = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/ebs"
ADMIN = f"arn:aws:iam::{ACCOUNT}:role/platform-admin"
SUBNETS = ["subnet-a", "subnet-b", "subnet-c"]


def cluster_args(**overrides: Any) -> GpuClusterArgs:
    values: dict[str, Any] = {
        "environment": "prod",
        "region": "us-east-1",
        "cluster_name": "llm-serving-prod",
        "kubernetes_version": "1.33",
        "private_subnet_ids": SUBNETS,
        "vpc_id": "vpc-1",
        "vpc_cidr": "10.20.0.0/16",
        "eks_secrets_key_arn": SECRETS_KEY,
        "logs_key_arn": LOGS_KEY,
        "ebs_key_arn": EBS_KEY,
        "account_id": ACCOUNT,
        "log_retention_days": 90,
        "admin_role_arns": (ADMIN,),
        "system_instance_type": "m6i.xlarge",
        "system_min_nodes": 3,
        "system_max_nodes": 6,
        "protect": True,
    }
    values.update(overrides)
    return GpuClusterArgs(**values)


def build(args: GpuClusterArgs | None = None) -> list[RecordedResource]:
    def program() -> None:
        provider = aws.Provider("aws-us-east-1", region="us-east-1")
        cluster = GpuCluster(
            "us-east-1-cluster", args or cluster_args(), opts=pulumi.ResourceOptions(providers={"aws": provider})
        )
        # The provider is declared on first use, once however often it is asked for.
        assert cluster.kubernetes_provider() is cluster.kubernetes_provider()

    return record(program)


@pytest.fixture(scope="module")
def tree() -> list[RecordedResource]:
    return build()


def one(tree: list[RecordedResource], type_token: str, name: str | None = None) -> RecordedResource:
    found = [r for r in by_type(tree, type_token) if name is None or r.name == name]
    assert len(found) == 1, [r.name for r in found]
    return found[0]


def cluster_of(tree: list[RecordedResource]) -> RecordedResource:
    return one(tree, "aws:eks/cluster:Cluster")


def test_secrets_are_envelope_encrypted_with_the_regions_key(tree):
    assert cluster_of(tree).inputs["encryptionConfig"] == {
        "resources": ["secrets"],
        "provider": {"keyArn": SECRETS_KEY},
    }


def test_the_control_plane_role_may_use_only_that_key(tree):
    role_policy = one(tree, "aws:iam/rolePolicy:RolePolicy", "us-east-1-cluster-cluster-secrets-key")
    use, grants = json.loads(role_policy.inputs["policy"])["Statement"]
    assert use["Resource"] == grants["Resource"] == SECRETS_KEY
    assert use["Action"] == ["kms:Encrypt", "kms:Decrypt", "kms:DescribeKey"]
    assert "Condition" not in use
    assert grants["Action"] == ["kms:CreateGrant", "kms:ListGrants"]
    assert grants["Condition"] == {"Bool": {"kms:GrantIsForAWSResource": "true"}}
    assert role_policy.urn in cluster_of(tree).dependencies
    attachment = one(
        tree, "aws:iam/rolePolicyAttachment:RolePolicyAttachment", "us-east-1-cluster-cluster-AmazonEKSClusterPolicy"
    )
    assert attachment.inputs["policyArn"] == "arn:aws:iam::aws:policy/AmazonEKSClusterPolicy"


def test_the_api_endpoint_is_private_by_default(tree):
    vpc = cluster_of(tree).inputs["vpcConfig"]
    assert vpc["endpointPrivateAccess"] is True
    assert vpc["endpointPublicAccess"] is False
    assert "publicAccessCidrs" not in vpc
    assert vpc["subnetIds"] == SUBNETS


def test_a_public_endpoint_is_limited_to_the_listed_cidrs():
    vpc = cluster_of(build(cluster_args(public_endpoint=True, public_access_cidrs=("203.0.113.0/24",))))
    assert vpc.inputs["vpcConfig"]["endpointPublicAccess"] is True
    assert vpc.inputs["vpcConfig"]["publicAccessCidrs"] == ["203.0.113.0/24"]


def test_version_is_pinned_and_support_is_standard(tree):
    inputs = cluster_of(tree).inputs
    assert inputs["version"] == "1.33"
    assert inputs["upgradePolicy"] == {"supportType": "STANDARD"}
    assert inputs["deletionProtection"] is True
    assert inputs["bootstrapSelfManagedAddons"] is False


def test_all_control_plane_logs_go_to_an_encrypted_group_created_first(tree):
    cluster = cluster_of(tree)
    assert cluster.inputs["enabledClusterLogTypes"] == list(CONTROL_PLANE_LOG_TYPES)
    assert len(CONTROL_PLANE_LOG_TYPES) == 5
    group = one(tree, "aws:cloudwatch/logGroup:LogGroup")
    assert group.inputs["name"] == "/aws/eks/llm-serving-prod/cluster"
    assert group.inputs["kmsKeyId"] == LOGS_KEY
    assert group.inputs["retentionInDays"] == 90
    assert group.urn in cluster.dependencies
    assert tree.index(group) < tree.index(cluster)


def test_the_logs_key_policy_lets_cloudwatch_encrypt_the_control_plane_group():
    group_arn = f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:{control_plane_log_group_name('llm-serving-prod')}"
    statements = key_policy("logs", ACCOUNT, "us-east-1")["Statement"]
    (logs,) = [s for s in statements if s.get("Principal") == {"Service": "logs.us-east-1.amazonaws.com"}]
    assert fnmatch.fnmatch(group_arn, logs["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"])


def test_authentication_is_by_access_entries_with_cluster_admin_for_each_admin_role(tree):
    access = cluster_of(tree).inputs["accessConfig"]
    assert access == {"authenticationMode": "API", "bootstrapClusterCreatorAdminPermissions": False}
    admin = one(tree, "aws:eks/accessEntry:AccessEntry", "us-east-1-cluster-admin-0")
    assert admin.inputs["principalArn"] == ADMIN
    assert admin.inputs["type"] == "STANDARD"
    association = one(tree, "aws:eks/accessPolicyAssociation:AccessPolicyAssociation")
    assert association.inputs["principalArn"] == ADMIN
    assert association.inputs["policyArn"] == "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
    assert association.inputs["accessScope"] == {"type": "cluster"}


def test_without_admin_roles_the_creator_is_bootstrapped_admin():
    tree = build(cluster_args(admin_role_arns=()))
    assert cluster_of(tree).inputs["accessConfig"]["bootstrapClusterCreatorAdminPermissions"] is True
    assert by_type(tree, "aws:eks/accessPolicyAssociation:AccessPolicyAssociation") == []


def test_addons_are_all_present_and_pinned(tree):
    addons = {a.inputs["addonName"]: a for a in by_type(tree, "aws:eks/addon:Addon")}
    assert sorted(addons) == sorted(
        ["vpc-cni", "coredns", "kube-proxy", "eks-pod-identity-agent", "aws-ebs-csi-driver", "metrics-server"]
    )
    for name, addon in addons.items():
        assert addon.inputs["addonVersion"] == ADDON_VERSIONS["1.33"][name]
        assert addon.inputs["addonVersion"].startswith("v")
        assert addon.inputs["clusterName"] == "llm-serving-prod"
        assert addon.inputs["resolveConflictsOnCreate"] == "OVERWRITE"
        assert addon.inputs["resolveConflictsOnUpdate"] == "PRESERVE"


def test_the_vpc_cni_enforces_network_policies_and_other_addons_keep_their_defaults(tree):
    # The CNI's network policy agent is off by default: the model servers' NetworkPolicies would be
    # accepted and never enforced.
    addons = {a.inputs["addonName"]: a for a in by_type(tree, "aws:eks/addon:Addon")}
    assert json.loads(addons["vpc-cni"].inputs["configurationValues"]) == {"enableNetworkPolicy": "true"}
    for name, addon in addons.items():
        if name != "vpc-cni":
            assert "configurationValues" not in addon.inputs, name


@pytest.mark.parametrize(
    ("addon", "service_account", "policy"),
    [
        ("aws-ebs-csi-driver", "ebs-csi-controller-sa", "AmazonEBSCSIDriverPolicyV2"),
        ("vpc-cni", "aws-node", "AmazonEKS_CNI_Policy"),
    ],
)
def test_addon_roles_are_bound_by_pod_identity_to_this_cluster(tree, addon, service_account, policy):
    (association,) = one(tree, "aws:eks/addon:Addon", f"us-east-1-cluster-{addon}").inputs["podIdentityAssociations"]
    assert association["serviceAccount"] == service_account
    role = one(tree, "aws:iam/role:Role", f"us-east-1-cluster-{addon}")
    assert association["roleArn"].endswith(f":role/{role.name}")
    (trust,) = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    assert trust["Principal"] == {"Service": "pods.eks.amazonaws.com"}
    assert trust["Action"] == ["sts:AssumeRole", "sts:TagSession"]
    assert (
        trust["Condition"]["ArnEquals"]["aws:SourceArn"] == f"arn:aws:eks:us-east-1:{ACCOUNT}:cluster/llm-serving-prod"
    )
    assert trust["Condition"]["StringEquals"]["aws:RequestTag/kubernetes-namespace"] == "kube-system"
    assert trust["Condition"]["StringEquals"]["aws:RequestTag/kubernetes-service-account"] == service_account
    attachment = one(tree, "aws:iam/rolePolicyAttachment:RolePolicyAttachment", f"us-east-1-cluster-{addon}")
    assert attachment.inputs["policyArn"] == f"arn:aws:iam::aws:policy/{policy}"


def test_the_node_role_has_no_cni_or_ebs_rights_and_joins_by_an_ec2_linux_entry(tree):
    role = one(tree, "aws:iam/role:Role", "us-east-1-cluster-node-role")
    attached = sorted(
        a.inputs["policyArn"].rsplit("/", 1)[1]
        for a in by_type(tree, "aws:iam/rolePolicyAttachment:RolePolicyAttachment")
        if a.name.startswith("us-east-1-cluster-node-")
    )
    assert attached == ["AmazonEC2ContainerRegistryPullOnly", "AmazonEKSWorkerNodePolicy"]
    entry = one(tree, "aws:eks/accessEntry:AccessEntry", "us-east-1-cluster-nodes")
    assert entry.inputs["type"] == "EC2_LINUX"
    assert entry.inputs["principalArn"].endswith(f":role/{role.name}")


def test_system_nodes_are_on_demand_in_every_private_subnet_after_entry_and_network_addons(tree):
    group = one(tree, "aws:eks/nodeGroup:NodeGroup")
    inputs = group.inputs
    assert inputs["capacityType"] == "ON_DEMAND"
    assert inputs["instanceTypes"] == ["m6i.xlarge"]
    assert inputs["subnetIds"] == SUBNETS
    assert inputs["scalingConfig"] == {"minSize": 3, "desiredSize": 3, "maxSize": 6}
    assert inputs["version"] == "1.33"
    assert inputs["labels"] == {NODE_GROUP_LABEL: "system"}
    assert "remoteAccess" not in inputs
    assert one(tree, "aws:eks/accessEntry:AccessEntry", "us-east-1-cluster-nodes").urn in group.dependencies
    for before in ("vpc-cni", "kube-proxy", "eks-pod-identity-agent"):
        assert one(tree, "aws:eks/addon:Addon", f"us-east-1-cluster-{before}").urn in group.dependencies
    for after in ("coredns", "aws-ebs-csi-driver", "metrics-server"):
        assert group.urn in one(tree, "aws:eks/addon:Addon", f"us-east-1-cluster-{after}").dependencies


def test_system_launch_template_requires_imdsv2_encrypts_the_root_and_has_no_ssh_key(tree):
    template = one(tree, "aws:ec2/launchTemplate:LaunchTemplate").inputs
    assert template["metadataOptions"] == {
        "httpEndpoint": "enabled",
        "httpTokens": "required",
        "httpPutResponseHopLimit": 1,
    }
    (device,) = template["blockDeviceMappings"]
    assert device["ebs"]["encrypted"] == "true"
    assert device["ebs"]["kmsKeyId"] == EBS_KEY
    assert device["ebs"]["volumeType"] == "gp3"
    assert "keyName" not in template
    group = one(tree, "aws:eks/nodeGroup:NodeGroup").inputs
    assert group["launchTemplate"]["version"] == "1"


def test_kubernetes_provider_uses_an_exec_kubeconfig_and_server_side_apply(tree):
    provider = one(tree, "pulumi:providers:kubernetes")
    assert provider.inputs["enableServerSideApply"] == "true"
    config = json.loads(provider.inputs["kubeconfig"])
    (cluster,) = config["clusters"]
    assert cluster["cluster"]["server"].startswith("https://")
    assert cluster["cluster"]["certificate-authority-data"]
    (user,) = config["users"]
    execution = user["user"]["exec"]
    assert execution["apiVersion"] == "client.authentication.k8s.io/v1beta1"
    assert execution["command"] == "aws"
    assert execution["args"][:6] == ["eks", "get-token", "--cluster-name", "llm-serving-prod", "--region", "us-east-1"]
    assert "token" not in user["user"]
    for type_token, needed in (
        ("aws:eks/accessPolicyAssociation:AccessPolicyAssociation", "us-east-1-cluster-admin-0"),
        ("aws:eks/nodeGroup:NodeGroup", "us-east-1-cluster-system"),
        ("aws:eks/addon:Addon", "us-east-1-cluster-coredns"),
    ):
        assert one(tree, type_token, needed).urn in provider.dependencies


def test_every_taggable_child_is_tagged_for_the_cluster_component(tree):
    for resource in tree:
        if resource.type.startswith("aws:") and "tags" in resource.inputs:
            assert resource.inputs["tags"]["component"] == "cluster", resource.name


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"kubernetes_version": "1.30"},
            r"^kubernetes_version: no pinned add-on versions for '1.30'; supported: 1.33, 1.35$",
        ),
        ({"public_endpoint": True}, r"^public_access_cidrs: required when public_endpoint is true$"),
        (
            {"public_access_cidrs": ("203.0.113.0/24",)},
            r"^public_access_cidrs: only allowed with public_endpoint true$",
        ),
        (
            {"public_endpoint": True, "public_access_cidrs": ("0.0.0.0/0",)},
            r"^public_access_cidrs: 0.0.0.0/0 is not allowed; list your CIDRs$",
        ),
        ({"admin_role_arns": ("arn:aws:iam::123456789012:user/bob",)}, r"^admin_role_arns: must be IAM role ARNs"),
        ({"admin_role_arns": (ADMIN, ADMIN)}, r"^admin_role_arns: each role once"),
        ({"log_retention_days": 10}, r"^log_retention_days: must be one of 1, 3, 5"),
        (
            {"system_min_nodes": 5, "system_max_nodes": 4},
            r"^system_min_nodes: must be between 1 and system_max_nodes \(4\)",
        ),
        ({"cluster_name": "-bad"}, r"^cluster_name: must be an EKS cluster name"),
        ({"region": "mars"}, r"^region: "),
    ],
)
def test_bad_args_are_rejected_naming_the_field(overrides, message):
    with pytest.raises(ValueError, match=message):
        cluster_args(**overrides)
