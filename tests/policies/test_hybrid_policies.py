"""Roles Anywhere trust and EKS Hybrid Nodes networks: compliant resources and each way to break them."""

from __future__ import annotations

import json

import pytest
from conftest import policy_resource, resource_violations, stack_violations

from components.hybrid_nodes import node_trust_policy
from components.roles_anywhere import trust_policy
from policies.aws.eks import cluster_remote_networks_datacentre as remote
from policies.aws.iam import roles_anywhere_trust_scoped as ra

ROLE = "aws:iam/role:Role"
ANCHOR = "arn:aws:rolesanywhere:us-east-1:123456789012:trust-anchor/0160c24d-5b1a-c942-2582-0a65a49cd33b"


def role(document) -> dict:
    return {"assumeRolePolicy": json.dumps(document)}


def trust_violations(document) -> list[str]:
    return resource_violations(ra.policy, ROLE, role(document))


# --- aws-iam-roles-anywhere-trust-scoped -----------------------------------------------------------------


def test_the_stacks_roles_anywhere_trusts_are_compliant():
    assert trust_violations(trust_policy(ANCHOR, "dc1", "weights")) == []
    assert trust_violations(trust_policy(ANCHOR, "dc1", "metrics")) == []
    assert trust_violations(node_trust_policy(ANCHOR, "dc1-rack2")) == []


def test_other_services_are_not_its_concern():
    document = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "eks.amazonaws.com"}, "Action": "sts:AssumeRole"}],
    }
    assert trust_violations(document) == []


def test_no_trust_anchor_condition():
    document = trust_policy(ANCHOR, "dc1")
    del document["Statement"][0]["Condition"]["ArnEquals"]
    assert trust_violations(document) == [
        "assumeRolePolicy: statement RolesAnywhereWithTheTargetsCertificate trusts rolesanywhere.amazonaws.com "
        "without ArnEquals aws:SourceArn on one trust anchor: any trust anchor of the account can vend the role."
    ]


@pytest.mark.parametrize(
    "condition",
    [
        {"ArnLike": {"aws:SourceArn": ANCHOR}},
        {"ArnEquals": {"aws:SourceArn": "arn:aws:rolesanywhere:us-east-1:123456789012:trust-anchor/*"}},
        {"ArnNotEquals": {"aws:SourceArn": ANCHOR}},
    ],
    ids=["arn-like", "pattern", "negated"],
)
def test_a_trust_anchor_condition_that_names_no_one_anchor(condition):
    document = trust_policy(ANCHOR, "dc1")
    statement = document["Statement"][0]
    del statement["Condition"]["ArnEquals"]
    statement["Condition"].update(condition)
    (message,) = trust_violations(document)
    assert "without ArnEquals aws:SourceArn on one trust anchor" in message


def test_no_certificate_condition():
    document = trust_policy(ANCHOR, "dc1")
    del document["Statement"][0]["Condition"]["StringEquals"]
    assert trust_violations(document) == [
        "assumeRolePolicy: statement RolesAnywhereWithTheTargetsCertificate trusts rolesanywhere.amazonaws.com "
        "without a condition on aws:PrincipalTag/x509Subject/CN: every certificate the trust anchor's CA issues "
        "can take the role."
    ]


@pytest.mark.parametrize("pattern", ["*", "?lm-node-*", ""])
def test_a_certificate_pattern_without_a_fixed_prefix(pattern):
    document = node_trust_policy(ANCHOR, "dc1-rack2")
    document["Statement"][0]["Condition"]["StringLike"]["aws:PrincipalTag/x509Subject/CN"] = pattern
    assert trust_violations(document) == [
        "assumeRolePolicy: statement TagTheSessionWithTheCertificate trusts rolesanywhere.amazonaws.com for "
        f"aws:PrincipalTag/x509Subject/CN {pattern!r}, which names no certificates (a fixed prefix must come "
        "before any wildcard)."
    ]


def test_a_negated_certificate_condition_does_not_name_certificates():
    document = trust_policy(ANCHOR, "dc1")
    statement = document["Statement"][0]
    statement["Condition"]["StringNotEquals"] = statement["Condition"].pop("StringEquals")
    (message,) = trust_violations(document)
    assert "without a condition on aws:PrincipalTag/x509Subject/CN" in message


# --- aws-eks-remote-networks-in-datacentre ----------------------------------------------------------------

CONFIG = {"datacentreCidrs": ["10.100.0.0/16"]}
CLUSTER = "aws:eks/cluster:Cluster"
RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"


def cluster(nodes=("10.100.16.0/22",), pods=("10.100.64.0/18",)):
    return policy_resource(
        CLUSTER,
        "us-east-1-cluster-eks",
        {
            "remoteNetworkConfig": {
                "remoteNodeNetworks": {"cidrs": list(nodes)},
                "remotePodNetworks": {"cidrs": list(pods)},
            }
        },
    )


def rule(cidr="10.100.16.0/22", protocol="tcp", from_port=443, to_port=443, name="remote-node-https-0"):
    props = {"cidrIpv4": cidr, "ipProtocol": protocol}
    if from_port is not None:
        props.update(fromPort=from_port, toPort=to_port)
    return policy_resource(RULE, name, props)


def test_remote_networks_inside_the_datacentre_admitted_on_https():
    resources = [cluster(), rule(), rule("10.100.64.0/18", name="remote-pod-https-0")]
    assert stack_violations(remote.policy, resources, CONFIG) == []


def test_clusters_without_remote_networks_and_other_rules_are_not_its_concern():
    plain = policy_resource(CLUSTER, "eu-west-1-cluster-eks", {})
    wide = rule("10.100.0.0/16", protocol="-1", from_port=None)  # the data centre as a whole, not a remote network
    assert stack_violations(remote.policy, [plain, cluster(), wide], CONFIG) == []


def test_a_remote_network_outside_the_datacentre():
    subject = cluster(nodes=("192.168.0.0/16",))
    assert stack_violations(remote.policy, [subject], CONFIG) == [
        (
            "Cluster 'us-east-1-cluster-eks' lists remote node network 192.168.0.0/16, outside the data centre's "
            "networks (10.100.0.0/16): only those are routed over the private path.",
            subject.urn,
        )
    ]


@pytest.mark.parametrize("cidr", ["100.0.0.0/16", "192.0.2.0/24", "fd00::/64", "not-a-cidr"])
def test_a_remote_network_outside_rfc_1918(cidr):
    # 192.0.2.0/24 is private to Python (a documentation range), not to EKS.
    subject = cluster(pods=(cidr,))
    config = {"datacentreCidrs": ["10.100.0.0/16", "192.0.2.0/24", "fd00::/48"]}
    assert stack_violations(remote.policy, [subject], config) == [
        (
            f"Cluster 'us-east-1-cluster-eks' lists remote pod network {cidr!r}, outside the RFC 1918 ranges EKS "
            "accepts.",
            subject.urn,
        )
    ]


def test_without_configured_datacentre_networks_no_remote_network_is_routed():
    subject = cluster()
    messages = [m for m, _ in stack_violations(remote.policy, [subject], {})]
    assert messages == [
        "Cluster 'us-east-1-cluster-eks' lists remote node network 10.100.16.0/22, outside the data centre's "
        "networks (none configured): only those are routed over the private path.",
        "Cluster 'us-east-1-cluster-eks' lists remote pod network 10.100.64.0/18, outside the data centre's "
        "networks (none configured): only those are routed over the private path.",
    ]


@pytest.mark.parametrize(
    ("protocol", "from_port", "to_port", "shown"),
    [("-1", None, None, "-1 None-None"), ("tcp", 0, 65535, "tcp 0-65535"), ("tcp", 10250, 10250, "tcp 10250-10250")],
)
def test_a_rule_that_admits_a_remote_network_beyond_https(protocol, from_port, to_port, shown):
    subject = rule("10.100.17.0/24", protocol, from_port, to_port)
    assert stack_violations(remote.policy, [cluster(), subject], CONFIG) == [
        (
            f"SecurityGroupIngressRule 'remote-node-https-0' admits 10.100.17.0/24 (remote node network "
            f"10.100.16.0/22 of cluster 'us-east-1-cluster-eks') on {shown}; hybrid nodes and their pods need TCP "
            "443 to the API server only.",
            subject.urn,
        )
    ]
