"""The data centre's ingress networks by name: config refuses unnamed or broad ones, the program
puts each name on its rule, and network-ingress-from-named-networks re-checks a plan (compliant, and
each way to break it)."""

from __future__ import annotations

import pytest
from conftest import error_of, of_type, resource_violations, run_stack, stack_values

from components.conventions import INGRESS_NETWORKS_ANNOTATION
from components.named_networks import annotation_value, hybrid_networks, name_of, parse_annotation
from llmstack.policy_config import policy_config_for
from policies.general import ingress_named_networks as named
from stacks.config import parse_platform_config

SG_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
LEGACY_RULE = "aws:ec2/securityGroupRule:SecurityGroupRule"
GROUP = "aws:ec2/securityGroup:SecurityGroup"
NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
POLICY_CONFIG = policy_config_for(parse_platform_config(stack_values("prod")))[named.policy.name]


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
    assert {
        "namedNetworks": {n.name: n.cidr for n in config.named_networks},
        "vpcCidrs": ["10.20.0.0/16", "10.21.0.0/16"],
    } == POLICY_CONFIG


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


# --- the policy: the real resources, then each way to break them ---------------------------------


def violations(resource_type, props, config=POLICY_CONFIG):
    return resource_violations(named.policy, resource_type, props, config=config)


def checked(prod):
    return [r for r in prod.resources if r.type in (SG_RULE, LEGACY_RULE, GROUP, NETWORK_POLICY)]


def test_the_stacks_rules_comply(prod):
    assert checked(prod)
    for resource in checked(prod):
        assert violations(resource.type, resource.inputs) == [], resource.name


def endpoint_rule(prod):
    return next(r for r in of_type(prod, SG_RULE) if r.name == "us-east-1-datacentre-s3-endpoint-https-dc1-rack1-nodes")


def ingress_policy(prod):
    return next(r for r in of_type(prod, NETWORK_POLICY) if r.name == "dc1-mistral-7b-private-ingress")


SHOWN = (
    "dc1-ingress 10.100.8.0/24, dc1-rack1-nodes 10.100.4.0/22, dc1-rack2-nodes 10.100.16.0/22, "
    "dc1-rack2-pods 10.100.64.0/18"
)


@pytest.mark.parametrize(
    "cidr",
    ["10.100.0.0/16", "10.100.4.0/23", "10.0.0.0/8", "0.0.0.0/0", "192.168.1.0/24", "::/0"],
    ids=["the data centre", "part of a named network", "a range holding it", "everyone", "elsewhere", "ipv6"],
)
def test_a_security_group_rule_from_an_unnamed_network(prod, cidr):
    key = "cidrIpv6" if ":" in cidr else "cidrIpv4"
    props = {**{k: v for k, v in endpoint_rule(prod).inputs.items() if k != "cidrIpv4"}, key: cidr}
    assert violations(SG_RULE, props) == [
        f"ingress admits {cidr}: outside the stack's VPCs and not a named data centre network ({SHOWN})."
    ]


def test_a_security_group_rule_that_does_not_say_which_network(prod):
    props = {**endpoint_rule(prod).inputs, "description": "HTTPS from the data centre (10.100.4.0/22)"}
    assert violations(SG_RULE, props) == [
        "ingress admits 10.100.4.0/22 (dc1-rack1-nodes) without naming dc1-rack1-nodes in its description."
    ]


def test_a_description_naming_another_network_does_not_count(prod):
    props = {**endpoint_rule(prod).inputs, "description": "HTTPS from dc1-rack1-nodes-2"}
    assert violations(SG_RULE, props) == [
        "ingress admits 10.100.4.0/22 (dc1-rack1-nodes) without naming dc1-rack1-nodes in its description."
    ]


def test_legacy_rules_and_inline_blocks_are_checked_too():
    legacy = {"type": "ingress", "cidrBlocks": ["10.100.8.0/24", "10.100.0.0/16"], "description": "dc1-ingress"}
    assert violations(LEGACY_RULE, legacy) == [
        f"ingress admits 10.100.0.0/16: outside the stack's VPCs and not a named data centre network ({SHOWN})."
    ]
    assert violations(LEGACY_RULE, {**legacy, "type": "egress"}) == []
    group = {"ingress": [{"cidrBlocks": ["10.20.0.0/16"]}, {"cidrBlocks": ["10.100.8.0/24"], "description": "x"}]}
    assert violations(GROUP, group) == [
        "ingress[1] admits 10.100.8.0/24 (dc1-ingress) without naming dc1-ingress in its description."
    ]


def test_sources_inside_the_vpcs_are_the_platforms_own(prod):
    vpc_rule = next(r for r in of_type(prod, SG_RULE) if r.name == "us-east-1-network-endpoints-https-from-vpc")
    assert vpc_rule.inputs["cidrIpv4"] == "10.20.0.0/16"
    assert violations(SG_RULE, vpc_rule.inputs) == []
    assert violations(SG_RULE, vpc_rule.inputs, config={**POLICY_CONFIG, "vpcCidrs": []}) == [
        f"ingress admits 10.20.0.0/16: outside the stack's VPCs and not a named data centre network ({SHOWN})."
    ]


def with_block(props, cidr, annotation=None):
    changed = {**props, "spec": {**props["spec"], "ingress": [dict(rule) for rule in props["spec"]["ingress"]]}}
    changed["spec"]["ingress"][0] = {**changed["spec"]["ingress"][0], "from": [{"ipBlock": {"cidr": cidr}}]}
    if annotation is not None:
        changed["metadata"] = {**props["metadata"], "annotations": {INGRESS_NETWORKS_ANNOTATION: annotation}}
    return changed


@pytest.mark.parametrize("cidr", ["10.100.0.0/16", "10.100.8.0/25", "10.0.0.0/8"])
def test_a_network_policy_admitting_an_unnamed_network(prod, cidr):
    props = with_block(ingress_policy(prod).inputs, cidr, annotation=f"dc1-ingress={cidr}")
    assert violations(NETWORK_POLICY, props) == [
        f"ingress[0].from[0] admits {cidr}: outside the stack's VPCs and not a named data centre network ({SHOWN})."
    ]


@pytest.mark.parametrize(
    "annotation",
    [None, "", "dc1-rack1-nodes=10.100.8.0/24", "dc1-ingress=10.100.9.0/24"],
    ids=["dropped", "empty", "another name", "another cidr"],
)
def test_a_network_policy_that_does_not_say_which_network(prod, annotation):
    props = ingress_policy(prod).inputs
    props = {**props, "metadata": {k: v for k, v in props["metadata"].items() if k != "annotations"}}
    if annotation is not None:
        props["metadata"]["annotations"] = {INGRESS_NETWORKS_ANNOTATION: annotation}
    assert violations(NETWORK_POLICY, props) == [
        "ingress[0].from[0] admits 10.100.8.0/24 (dc1-ingress) without naming dc1-ingress in the "
        "llm-serving/ingress-networks annotation."
    ]


def test_without_named_networks_every_outside_source_is_refused(prod):
    assert violations(NETWORK_POLICY, ingress_policy(prod).inputs, config={"vpcCidrs": ["10.20.0.0/16"]}) == [
        "ingress[0].from[0] admits 10.100.8.0/24: outside the stack's VPCs and not a named data centre network "
        "(none configured)."
    ]
