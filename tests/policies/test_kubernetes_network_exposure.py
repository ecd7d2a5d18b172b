"""Service exposure, model-server NetworkPolicy coverage and open NetworkPolicy peers."""

import copy

import pytest
from conftest import policy_resource, provider, resource_violations, stack_violations

from components import engines, metrics_collector
from components.conventions import GPU_TOLERATION, model_labels
from components.serving import (
    ModelServer,
    ModelServerArgs,
    Placement,
    PodIdentityCredentials,
    ServedModel,
    WeightsSource,
)
from policies.kubernetes import (
    model_server_ingress_restricted,
    network_policy_open_peers,
    service_no_external_exposure,
)

SERVICE = "kubernetes:core/v1:Service"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
SPEC = engines.ModelSpec("llama", "r" * 40, 8.03, "llama-3-8b", quantization="awq")
ARGS = ModelServerArgs(
    environment="prod",
    served=ServedModel(SPEC, Placement("a10g", {}, (GPU_TOLERATION,)), cpu=6, memory_gib=27),
    namespace="llm-prod",
    weights=WeightsSource("bucket", "us-east-1", PodIdentityCredentials()),
    gateway_peers=({"ipBlock": {"cidr": "10.21.31.240/32"}},),
    metrics_peers=metrics_collector.metrics_peers(),
)
CLUSTER = provider("cluster-k8s", type_="pulumi:providers:kubernetes")
OTHER_CLUSTER = provider("onprem-dc1", type_="pulumi:providers:kubernetes")


# --- Services ---------------------------------------------------------------------------------------

EXPOSURE = service_no_external_exposure.policy


def service(**spec) -> dict:
    return {"metadata": {"name": "llama", "namespace": "llm-prod"}, "spec": {"ports": [{"port": 8080}], **spec}}


@pytest.mark.parametrize("spec", [{}, {"type": "ClusterIP"}, {"type": "ClusterIP", "clusterIP": "None"}])
def test_service_compliant(spec):
    assert resource_violations(EXPOSURE, SERVICE, service(**spec)) == []


def test_service_external_name_is_a_dns_alias():
    assert resource_violations(EXPOSURE, SERVICE, service(type="ExternalName", externalName="a.example")) == []


@pytest.mark.parametrize(
    ("service_type", "through"),
    [
        ("LoadBalancer", "a cloud load balancer"),
        ("NodePort", "a port on every node"),
        (7, "a listener outside the cluster"),
    ],
)
def test_service_type_exposes(service_type, through):
    assert resource_violations(EXPOSURE, SERVICE, service(type=service_type)) == [
        f"type {service_type}: the Service is reachable through {through}, bypassing the gateway and WAF."
    ]


def test_service_external_ips():
    assert resource_violations(EXPOSURE, SERVICE, service(externalIPs=["203.0.113.7", "10.0.0.9"])) == [
        "externalIPs 203.0.113.7, 10.0.0.9: nodes accept the Service's traffic on these addresses, bypassing the "
        "gateway and WAF."
    ]
    assert resource_violations(EXPOSURE, SERVICE, service(externalIPs=[])) == []


def test_service_not_applicable_and_odd_input():
    assert resource_violations(EXPOSURE, DEPLOYMENT, {"spec": {"type": "LoadBalancer"}}) == []
    assert resource_violations(EXPOSURE, SERVICE, {"spec": None}) == []
    assert resource_violations(EXPOSURE, SERVICE, {"spec": ["LoadBalancer"]}) == []


# --- every model server behind an ingress NetworkPolicy ----------------------------------------------

COVERAGE = model_server_ingress_restricted.policy


def network_policy_props() -> dict:
    return {
        "metadata": {"name": "llama", "namespace": "llm-prod"},
        "spec": {
            "podSelector": {"matchLabels": model_labels("llama")},
            "policyTypes": ["Ingress"],
            # Deep copies: the rules share their peers with ARGS.
            "ingress": copy.deepcopy(ModelServer._ingress_rules(ARGS, engines.engine("tgi"))),
        },
    }


def deployment_props() -> dict:
    spec = ModelServer._deployment_spec(ARGS, engines.engine("tgi"), model_labels("llama"), model_labels("llama"), "x")
    return {"metadata": {"name": "llama", "namespace": "llm-prod"}, "spec": copy.deepcopy(spec)}


def plan(policy_props=None, deployment=None, cluster=CLUSTER):
    resources = [policy_resource(DEPLOYMENT, "llama", deployment or deployment_props(), provider_resource=CLUSTER)]
    if policy_props is not None:
        resources.append(policy_resource(NETWORK_POLICY, "llama-ingress", policy_props, provider_resource=cluster))
    return resources


DEPLOYMENT_URN = f"urn:pulumi:test::llm-serving::{DEPLOYMENT}::llama"
MISSING = ("model server 'llm-prod/llama' has no NetworkPolicy restricting ingress to its pods.", DEPLOYMENT_URN)


def test_coverage_compliant():
    assert stack_violations(COVERAGE, plan(network_policy_props())) == []


def test_coverage_selector_forms():
    props = network_policy_props()
    props["spec"]["podSelector"] = {}  # every pod of the namespace
    assert stack_violations(COVERAGE, plan(props)) == []
    props["spec"]["podSelector"] = {
        "matchExpressions": [{"key": "llm-serving/model", "operator": "In", "values": ["llama"]}]
    }
    assert stack_violations(COVERAGE, plan(props)) == []
    del props["spec"]["policyTypes"]  # Ingress is implied
    assert stack_violations(COVERAGE, plan(props)) == []


def test_network_policy_removed():
    assert stack_violations(COVERAGE, plan()) == [MISSING]


@pytest.mark.parametrize(
    "change",
    [
        lambda p: p["metadata"].update(namespace="other"),
        lambda p: p["spec"].update(policyTypes=["Egress"]),
        lambda p: p["spec"].update(podSelector={"matchLabels": model_labels("mistral")}),
        lambda p: p["spec"].update(
            podSelector={"matchExpressions": [{"key": "llm-serving/model", "operator": "DoesNotExist"}]}
        ),
        lambda p: p["spec"].update(podSelector="everything"),
    ],
    ids=["other-namespace", "egress-only", "other-model", "expression-excludes", "unreadable-selector"],
)
def test_network_policy_that_does_not_govern_the_model_server(change):
    props = network_policy_props()
    change(props)
    assert stack_violations(COVERAGE, plan(props)) == [MISSING]


def test_network_policy_in_another_cluster():
    assert stack_violations(COVERAGE, plan(network_policy_props(), cluster=OTHER_CLUSTER)) == [MISSING]


def test_coverage_not_applicable_to_other_workloads():
    props = deployment_props()
    props["spec"]["template"]["metadata"]["labels"] = {"app.kubernetes.io/name": "prometheus-agent"}
    assert stack_violations(COVERAGE, plan(deployment=props)) == []
    assert stack_violations(COVERAGE, [policy_resource(SERVICE, "llama", {"spec": None})]) == []


# --- open peers ---------------------------------------------------------------------------------------

PEERS = network_policy_open_peers.policy


def test_peers_compliant():
    assert resource_violations(PEERS, NETWORK_POLICY, network_policy_props()) == []
    props = network_policy_props()
    props["spec"]["ingress"][0]["from"] = [{"ipBlock": {"cidr": "10.0.0.0/8"}}]
    props["spec"]["egress"] = [{"ports": [{"port": 53, "protocol": "UDP"}]}]  # DNS: no `to` is allowed
    assert resource_violations(PEERS, NETWORK_POLICY, props) == []


@pytest.mark.parametrize("cidr", ["0.0.0.0/0", "::/0", "10.0.0.0/7", "2001:db8::/4"])
def test_ingress_ip_block_broader_than_8(cidr):
    props = network_policy_props()
    props["spec"]["ingress"][0]["from"].append({"ipBlock": {"cidr": cidr}})
    assert resource_violations(PEERS, NETWORK_POLICY, props) == [
        f"ingress[0].from[1]: ipBlock {cidr} is broader than /8."
    ]


def test_egress_ip_block_broader_than_8():
    props = network_policy_props()
    props["spec"]["egress"] = [{"to": [{"ipBlock": {"cidr": "10.0.0.0/16"}}, {"ipBlock": {"cidr": "0.0.0.0/0"}}]}]
    assert resource_violations(PEERS, NETWORK_POLICY, props) == [
        "egress[0].to[1]: ipBlock 0.0.0.0/0 is broader than /8."
    ]


def test_ip_block_that_is_not_a_network():
    props = network_policy_props()
    props["spec"]["ingress"][0]["from"][0]["ipBlock"]["cidr"] = "everywhere"
    assert resource_violations(PEERS, NETWORK_POLICY, props) == [
        "ingress[0].from[0]: ipBlock cidr 'everywhere' is not a network."
    ]


@pytest.mark.parametrize("rule_from", [None, []], ids=["absent", "empty"])
def test_ingress_rule_without_from(rule_from):
    props = network_policy_props()
    props["spec"]["ingress"][1]["from"] = rule_from
    assert resource_violations(PEERS, NETWORK_POLICY, props) == [
        "ingress[1] has no 'from': it admits traffic from every source."
    ]


def test_ingress_peer_selecting_every_pod_of_every_namespace():
    props = network_policy_props()
    props["spec"]["ingress"][1]["from"] = [{"namespaceSelector": {}}, {"namespaceSelector": {}, "podSelector": {}}]
    assert resource_violations(PEERS, NETWORK_POLICY, props) == [
        "ingress[1].from[0]: selects every pod in every namespace.",
        "ingress[1].from[1]: selects every pod in every namespace.",
    ]
    # Named pods in any namespace, or every pod of this namespace, stay allowed.
    props["spec"]["ingress"][1]["from"] = [
        {"namespaceSelector": {}, "podSelector": {"matchLabels": {"app.kubernetes.io/name": "prometheus-agent"}}},
        {"podSelector": {}},
    ]
    assert resource_violations(PEERS, NETWORK_POLICY, props) == []


def test_peers_not_applicable_and_odd_input():
    assert resource_violations(PEERS, SERVICE, {"spec": {"ingress": [{}]}}) == []
    assert resource_violations(PEERS, NETWORK_POLICY, {"spec": None}) == []
    assert resource_violations(PEERS, NETWORK_POLICY, {"spec": {"ingress": "all"}}) == []
