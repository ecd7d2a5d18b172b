"""EKS cluster policies: private endpoint, Secrets encrypted with a CMK, all control-plane logs, allowed version."""

import collections
import copy

import pytest
from conftest import resource_violations, stack_values

from llmstack.policy_config import policy_config_for
from policies.aws.eks import (
    cluster_control_plane_logging,
    cluster_endpoint_not_public,
    cluster_secrets_encrypted,
    cluster_version_allowed,
)
from stacks.config import parse_platform_config

KEY = "arn:aws:kms:us-east-1:123456789012:key/0f1e2d3c-aaaa-bbbb-cccc-1234567890ab"
# Inputs of a cluster as GpuCluster registers it (camelCase wire names).
CLUSTER = {
    "name": "llm-serving-prod",
    "version": "1.33",
    "vpcConfig": {"subnetIds": ["subnet-a", "subnet-b"], "endpointPrivateAccess": True, "endpointPublicAccess": False},
    "encryptionConfig": {"resources": ["secrets"], "provider": {"keyArn": KEY}},
    "enabledClusterLogTypes": ["api", "audit", "authenticator", "controllerManager", "scheduler"],
    "accessConfig": {"authenticationMode": "API"},
}
TYPE = "aws:eks/cluster:Cluster"
OPEN = "EKS cluster 'us-east-1-cluster-eks' has a public API endpoint open to the internet (no publicAccessCidrs)."
VERSIONS = {"allowedKubernetesVersions": ["1.32", "1.33"]}
POLICIES = [
    cluster_endpoint_not_public.policy,
    cluster_secrets_encrypted.policy,
    cluster_control_plane_logging.policy,
    cluster_version_allowed.policy,
]


def cluster(change=None):
    props = copy.deepcopy(CLUSTER)
    if change:
        change(props)
    return props


def violations(policy, props, config=None):
    return resource_violations(policy, TYPE, props, name="us-east-1-cluster-eks", config=config or VERSIONS)


@pytest.mark.parametrize("policy", POLICIES, ids=lambda p: p.name)
def test_the_hardened_cluster_is_compliant(policy):
    assert violations(policy, cluster()) == []


@pytest.mark.parametrize("policy", POLICIES, ids=lambda p: p.name)
def test_other_resource_types_are_not_judged(policy):
    assert resource_violations(policy, "aws:eks/nodeGroup:NodeGroup", {}, config=VERSIONS) == []


def test_public_endpoint_with_listed_cidrs_is_allowed():
    def public(props):
        props["vpcConfig"].update(endpointPublicAccess=True, publicAccessCidrs=["203.0.113.0/24"])

    assert violations(cluster_endpoint_not_public.policy, cluster(public)) == []


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda p: p["vpcConfig"].update(endpointPublicAccess=True),
            OPEN,
        ),
        (
            lambda p: p["vpcConfig"].pop("endpointPublicAccess"),
            OPEN,
        ),
        (
            lambda p: p["vpcConfig"].update(
                endpointPublicAccess=True, publicAccessCidrs=["203.0.113.0/24", "0.0.0.0/0"]
            ),
            "EKS cluster 'us-east-1-cluster-eks' allows its public API endpoint from 0.0.0.0/0.",
        ),
        (
            lambda p: p["vpcConfig"].update(endpointPublicAccess=True, publicAccessCidrs=["::/0"]),
            "EKS cluster 'us-east-1-cluster-eks' allows its public API endpoint from ::/0.",
        ),
        (
            lambda p: p["vpcConfig"].update(endpointPrivateAccess=False),
            "EKS cluster 'us-east-1-cluster-eks' has no private API endpoint (endpointPrivateAccess).",
        ),
    ],
    ids=["public-no-cidrs", "public-by-default", "open-cidr", "open-ipv6", "no-private-endpoint"],
)
def test_endpoint_violations(change, message):
    assert violations(cluster_endpoint_not_public.policy, cluster(change)) == [message]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda p: p.pop("encryptionConfig"),
            "EKS cluster 'us-east-1-cluster-eks' has no encryptionConfig: Secrets are not envelope-encrypted.",
        ),
        (
            lambda p: p["encryptionConfig"].update(resources=[]),
            "EKS cluster 'us-east-1-cluster-eks' encryptionConfig does not cover 'secrets'.",
        ),
        (
            lambda p: p["encryptionConfig"].update(provider={}),
            "EKS cluster 'us-east-1-cluster-eks' encryptionConfig names no KMS key (provider.keyArn).",
        ),
        (
            lambda p: p["encryptionConfig"].update(
                provider={"keyArn": "arn:aws:kms:us-east-1:123456789012:alias/aws/eks"}
            ),
            "EKS cluster 'us-east-1-cluster-eks' encrypts Secrets with an AWS-managed key; "
            "name a customer-managed key.",
        ),
    ],
    ids=["no-config", "no-secrets", "no-key", "aws-managed-key"],
)
def test_secrets_encryption_violations(change, message):
    assert violations(cluster_secrets_encrypted.policy, cluster(change)) == [message]


@pytest.mark.parametrize(
    ("enabled", "message"),
    [
        (None, "api, audit, authenticator, controllerManager, scheduler"),
        (["api", "audit", "authenticator"], "controllerManager, scheduler"),
        (["api", "authenticator", "controllerManager", "scheduler"], "audit"),
    ],
    ids=["none", "three", "no-audit"],
)
def test_control_plane_logging_violations(enabled, message):
    def logs(props):
        if enabled is None:
            props.pop("enabledClusterLogTypes")
        else:
            props["enabledClusterLogTypes"] = enabled

    assert violations(cluster_control_plane_logging.policy, cluster(logs)) == [
        f"EKS cluster 'us-east-1-cluster-eks' does not log {message} (enabledClusterLogTypes)."
    ]


@pytest.mark.parametrize(
    ("version", "config", "message"),
    [
        ("1.29", VERSIONS, "EKS cluster 'us-east-1-cluster-eks' runs Kubernetes 1.29; allowed: 1.32, 1.33."),
        (
            None,
            VERSIONS,
            "EKS cluster 'us-east-1-cluster-eks' pins no Kubernetes version: EKS would pick its current default.",
        ),
        (
            "1.33",
            {"allowedKubernetesVersions": []},
            "EKS cluster 'us-east-1-cluster-eks' runs Kubernetes 1.33; allowed: none configured.",
        ),
    ],
    ids=["not-allowed", "unpinned", "empty-allowlist"],
)
def test_version_violations(version, config, message):
    def pin(props):
        if version is None:
            props.pop("version")
        else:
            props["version"] = version

    assert violations(cluster_version_allowed.policy, cluster(pin), config) == [message]


def test_the_version_allowlist_comes_from_the_stack_config():
    values = stack_values("prod")
    values["policy"]["allowed_kubernetes_versions"] = ["1.35"]
    config = policy_config_for(parse_platform_config(values))
    assert config["aws-eks-cluster-kubernetes-version-allowed"] == {"allowedKubernetesVersions": ["1.35"]}


def test_lists_in_any_sequence_type_are_read():
    # The gRPC layer hands lists to the pack as its own sequence type.
    props = cluster(lambda p: p.update(enabledClusterLogTypes=collections.UserList(p["enabledClusterLogTypes"])))
    assert violations(cluster_control_plane_logging.policy, props) == []


def test_cluster_without_vpc_config_has_no_private_and_an_open_public_endpoint():
    assert violations(cluster_endpoint_not_public.policy, cluster(lambda p: p.pop("vpcConfig"))) == [
        "EKS cluster 'us-east-1-cluster-eks' has no private API endpoint (endpointPrivateAccess).",
        OPEN,
    ]


def test_secrets_encryption_without_resources_and_key_reports_both():
    assert violations(cluster_secrets_encrypted.policy, cluster(lambda p: p.update(encryptionConfig={"x": 1}))) == [
        "EKS cluster 'us-east-1-cluster-eks' encryptionConfig does not cover 'secrets'.",
        "EKS cluster 'us-east-1-cluster-eks' encryptionConfig names no KMS key (provider.keyArn).",
    ]
