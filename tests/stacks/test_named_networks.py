"""The data centre's ingress networks by name: config refuses unnamed or broad ones, the program
puts each name on its rule, and network-ingress-from-named-networks re-checks a plan (compliant, and
each way to break it)."""

from __future__ import annotations

import pytest
from conftest import error_of, of_type, run_stack, stack_values

from components.conventions import INGRESS_NETWORKS_ANNOTATION
from components.named_networks import annotation_value, hybrid_networks, name_of, parse_annotation
from stacks.config import parse_platform_config

SG_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
LEGACY_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
GROUP = "aws:ec2/securityGroup:SecurityGroup"
NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"


def targets(values):
    return values["onprem_targets"]


def networks(values):
    return values["datacentre"]["networks"]


def sensitive_model(values):
    return next(m for m in values["models"] if m.get("sensitive"))


def index_of_sensitive(values) -> int:
    return next(i for i, m in enumerate(values["models"]) if m.get("sensitive"))


# --- config -------------------------------------------------------------------------------------

CONFIG_CASES = {
    "the old unnamed key": (
        lambda v: targets(v)[0].update(client_cidrs=["10.100.8.0/24"]),
        "onprem_targets[0]: client_cidrs: name the callers' networks instead: list them in datacentre.networks "
        "(name, cidr) and their names in client_networks",
    ),
    "a network that is not a cidr": (
        lambda v: networks(v)[0].update(cidr="10.100.8.1/24"),
        "datacentre.networks[0].cidr: '10.100.8.1/24' is not an IPv4 network in CIDR form, e.g. 10.100.8.0/24",
    ),
    "the data centre's whole range": (
        lambda v: networks(v)[0].update(cidr="10.100.0.0/16"),
        "datacentre.networks[0].cidr: 10.100.0.0/16 is broader than /20; name the network that connects, not a "
        "range of the data centre",
    ),
    "everyone": (
        lambda v: networks(v)[0].update(cidr="0.0.0.0/0"),
        "datacentre.networks[0].cidr: 0.0.0.0/0 is broader than /20; name the network that connects, not a "
        "range of the data centre",
    ),
    "outside the data centre": (
        lambda v: networks(v)[0].update(cidr="10.200.8.0/24"),
        "datacentre.networks[0].cidr: 10.200.8.0/24 is not inside datacentre.cidrs (10.100.0.0/16)",
    ),
    "two names for overlapping networks": (
        lambda v: networks(v).append({"name": "dc1-lobby", "cidr": "10.100.8.128/25"}),
        "datacentre.networks[2].cidr: 10.100.8.128/25 overlaps datacentre.networks[0] (10.100.8.0/24)",
    ),
    "a name over a hybrid target's network": (
        lambda v: networks(v).append({"name": "dc1-lobby", "cidr": "10.100.16.0/24"}),
        "datacentre.networks[2].cidr: 10.100.16.0/24 overlaps hybrid network dc1-rack2-nodes (10.100.16.0/22)",
    ),
    "a duplicate name": (
        lambda v: networks(v).append({"name": "dc1-ingress", "cidr": "10.100.9.0/24"}),
        "datacentre.networks[2].name: duplicate network name 'dc1-ingress' (also datacentre.networks[0])",
    ),
    "a hybrid target's network name": (
        lambda v: networks(v).append({"name": "dc1-rack2-pods", "cidr": "10.100.9.0/24"}),
        "datacentre.networks[2].name: 'dc1-rack2-pods' is a hybrid target's network name; choose another",
    ),
    "an unknown client network": (
        lambda v: targets(v)[0].update(client_networks=["dc1-lobby"]),
        "onprem_targets[0].client_networks[0]: unknown network 'dc1-lobby'; allowed: dc1-ingress, dc1-rack1-nodes",
    ),
    "a client network twice": (
        lambda v: targets(v)[1].update(client_networks=["dc1-ingress", "dc1-ingress"]),
        "onprem_targets[1].client_networks[1]: duplicate network 'dc1-ingress'",
    ),
    "client networks not a list": (
        lambda v: targets(v)[0].update(client_networks="dc1-ingress"),
        "onprem_targets[0].client_networks: must be a list",
    ),
    "an unknown node network": (
        lambda v: targets(v)[0].update(node_networks=["dc1-rack9-nodes"]),
        "onprem_targets[0].node_networks[0]: unknown network 'dc1-rack9-nodes'; allowed: dc1-ingress, dc1-rack1-nodes",
    ),
    "no node networks for a target that uses the endpoints": (
        lambda v: targets(v)[0].pop("node_networks"),
        "onprem_targets[0].node_networks: required: the datacentre.networks its nodes reach the primary region's "
        "interface endpoints from (Roles Anywhere weights or metrics_remote_write)",
    ),
    "node networks on hybrid nodes": (
        lambda v: targets(v)[1].update(node_networks=["dc1-rack1-nodes"]),
        "onprem_targets[1]: node_networks: does not apply to kind eks-hybrid-nodes (the region's cluster reaches "
        "them; its pods read weights with EKS Pod Identity and its collector scrapes them)",
    ),
    "a sensitive model's caller on a network its target does not admit": (
        lambda v: sensitive_model(v)["clients"][0].update(networks=["dc1-rack1-nodes"]),
        "models[{sensitive}].clients[0].networks[0]: 'dc1-rack1-nodes' is not one of the client_networks of the "
        "model's targets (dc1-ingress)",
    ),
    "a sensitive model's caller network twice": (
        lambda v: sensitive_model(v)["clients"][0].update(networks=["dc1-ingress", "dc1-ingress"]),
        "models[{sensitive}].clients[0].networks[1]: duplicate network 'dc1-ingress'",
    ),
    "a sensitive model's caller by cidr": (
        lambda v: sensitive_model(v)["clients"][0].update(cidrs=["10.100.8.0/24"]),
        "models[{sensitive}].clients[0].cidrs: unknown key; allowed: name, networks",
    ),
}


@pytest.mark.parametrize("mutate, message", CONFIG_CASES.values(), ids=CONFIG_CASES.keys())
def test_config_refuses(mutate, message):
    sensitive = index_of_sensitive(stack_values("prod"))
    assert error_of("prod", mutate) == message.format(sensitive=sensitive)


def test_without_a_datacentre_there_is_no_name_to_use():
    def mutate(v):
        v["onprem_targets"] = [
            {
                "name": "dc1",
                "kubeconfig": "x",
                "gpu": "a10g",
                "gpus_per_node": 4,
                "nodes": 2,
                "weights_access": "static-keys",
                "client_networks": ["dc1-ingress"],
            }
        ]

    assert error_of("dev", mutate) == (
        "onprem_targets[0].client_networks[0]: unknown network 'dc1-ingress'; allowed: none defined (add "
        "datacentre.networks)"
    )


def test_a_target_that_does_not_use_the_endpoints_needs_no_node_networks():
    values = stack_values("prod")
    targets(values)[0].pop("node_networks")
    targets(values)[0].pop("roles_anywhere")
    targets(values)[0].update(weights_access="static-keys", metrics_remote_write=False)
    config = parse_platform_config(values)
    assert config.onprem_targets[0].node_networks == []
    assert [n.name for n in config.endpoint_clients()] == ["dc1-rack2-pods"]


def test_the_named_networks_of_prod():
    config = parse_platform_config(stack_values("prod"))
    assert [(n.name, n.cidr) for n in config.named_networks] == [
        ("dc1-ingress", "10.100.8.0/24"),
        ("dc1-rack1-nodes", "10.100.4.0/22"),
        ("dc1-rack2-nodes", "10.100.16.0/22"),
        ("dc1-rack2-pods", "10.100.64.0/18"),
    ]
    assert [n.name for n in config.endpoint_clients()] == ["dc1-rack1-nodes", "dc1-rack2-pods"]


def test_hybrid_networks_are_numbered_only_when_there_are_several():
    assert [n.name for n in hybrid_networks("r2", ["10.0.0.0/24"], ["10.1.0.0/24", "10.2.0.0/24"])] == [
        "r2-nodes",
        "r2-pods-1",
        "r2-pods-2",
    ]


def test_the_annotation_round_trips_and_ignores_malformed_pairs():
    value = annotation_value(hybrid_networks("r2", ["10.0.0.0/24"], ["10.1.0.0/24"]))
    assert value == "r2-nodes=10.0.0.0/24,r2-pods=10.1.0.0/24"
    assert parse_annotation(value + ",junk,=10.9.0.0/24") == {"10.0.0.0/24": "r2-nodes", "10.1.0.0/24": "r2-pods"}
    assert name_of("10.1.0.0/24", {"a": "10.1.0.0/24"}) == "a" and name_of("10.1.0.0/23", {"a": "10.1.0.0/24"}) is None


# --- the program --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def prod():
    return run_stack("prod")


def test_every_rule_from_outside_the_vpcs_names_its_network(prod):
    admitted = {
        (r.name, r.inputs["cidrIpv4"], r.inputs["description"])
        for r in of_type(prod, SG_RULE)
        if r.inputs.get("cidrIpv4", "").startswith("10.100.")
    }
    endpoint = "HTTPS from {} in data centre dc1"
    assert admitted == {
        (
            "us-east-1-cluster-remote-node-https-0",
            "10.100.16.0/22",
            "Kubernetes API from dc1-rack2-nodes (10.100.16.0/22), hybrid nodes",
        ),
        (
            "us-east-1-cluster-remote-pod-https-0",
            "10.100.64.0/18",
            "Kubernetes API from dc1-rack2-pods (10.100.64.0/18), hybrid pods",
        ),
        *(
            (f"us-east-1-datacentre-{service}-endpoint-https-{name}", cidr, endpoint.format(f"{name} ({cidr})"))
            for service in ("s3", "aps-workspaces", "rolesanywhere")
            for name, cidr in (("dc1-rack1-nodes", "10.100.4.0/22"), ("dc1-rack2-pods", "10.100.64.0/18"))
        ),
    }


def test_network_policies_name_the_data_centre_networks_they_admit(prod):
    annotated = {}
    for policy in of_type(prod, NETWORK_POLICY):
        annotations = policy.inputs["metadata"].get("annotations") or {}
        blocks = [
            peer["ipBlock"]["cidr"]
            for rule in policy.inputs["spec"].get("ingress", [])
            for peer in rule["from"]
            if "ipBlock" in peer and peer["ipBlock"]["cidr"].startswith("10.100.")
        ]
        assert bool(blocks) == (INGRESS_NETWORKS_ANNOTATION in annotations), policy.name
        if blocks:
            annotated[policy.name] = (annotations[INGRESS_NETWORKS_ANNOTATION], blocks)
    assert annotated == {
        name: ("dc1-ingress=10.100.8.0/24", ["10.100.8.0/24"])
        for name in (
            "dc1-llama-3-8b-instruct-ingress",
            "dc1-mistral-7b-private-ingress",
            "us-east-1-llama-3-8b-batch-ingress",
        )
    }


def test_the_secondary_region_admits_no_data_centre_network(prod):
    assert not [r for r in of_type(prod, SG_RULE) if r.name.startswith("eu-west-1-datacentre")]
