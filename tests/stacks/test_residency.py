"""Residency as a guarantee: config refuses each way a sensitive or region-restricted model or tenant
could leave its place, and the pack refuses the same on a hand-edited plan of the real program."""

from __future__ import annotations

import copy
import json

import pytest
from conftest import error_of, run_stack, stack_values

from llmstack import analyzer
from llmstack.policy_config import policy_config_for
from stacks.config import parse_platform_config
from tests.mutation.harness import fresh_plan, stack_config

SENSITIVE = "mistral-7b-private"
SENSITIVE_POLICY = "data-residency-sensitive-models-on-prem"
REGIONS_POLICY = "data-residency-regions"


def model(values, name):
    return next(m for m in values["models"] if m["name"] == name)


# --- config -----------------------------------------------------------------------------------


def test_config_refuses_a_sensitive_model_in_a_region():
    def place(values):
        model(values, SENSITIVE)["regions"] = ["eu-west-1"]
        model(values, SENSITIVE)["node_group"] = "a10g"

    assert error_of("prod", place) == (
        "models[2].regions: 'mistral-7b-private' is sensitive: it runs only on on-prem targets that allow sensitive "
        "models (allow_sensitive_models), never in an AWS region; remove regions"
    )


def test_config_refuses_a_sensitive_model_in_a_tenants_routes():
    assert error_of("prod", lambda v: v["gateway"]["tenants"][0]["models"].append(SENSITIVE)) == (
        "gateway.tenants[0].models[1]: 'mistral-7b-private' is sensitive: its requests never leave the data "
        "centre, so it has no gateway route; list its callers under the model's clients"
    )


def test_config_refuses_a_sensitive_model_on_a_target_without_a_store_of_its_own():
    assert error_of("prod", lambda v: v["onprem_targets"][0].pop("sensitive_weights")) == (
        "models[2].targets[0]: 'dc1' names no object store for sensitive weights (onprem_targets[].sensitive_weights): "
        "they never enter an AWS bucket"
    )


def test_config_refuses_an_aws_endpoint_as_the_on_prem_store():
    def aws_store(values):
        values["onprem_targets"][0]["sensitive_weights"]["endpoint"] = "https://s3.eu-west-1.amazonaws.com"

    assert error_of("prod", aws_store) == (
        "onprem_targets[0].sensitive_weights.endpoint: must be the data centre's own object store, not an AWS "
        "endpoint (sensitive weights stay on-prem)"
    )


def test_config_requires_a_sensitive_models_callers_inside_the_targets_networks():
    assert error_of("prod", lambda v: model(v, SENSITIVE).pop("clients")) == (
        "models[2].clients: 'mistral-7b-private' is sensitive: list who may call it and from which networks"
    )

    def outside(values):
        model(values, SENSITIVE)["clients"][0]["networks"] = ["dc1-rack1-nodes"]

    assert error_of("prod", outside) == (
        "models[2].clients[0].networks[0]: 'dc1-rack1-nodes' is not one of the client_networks of the model's "
        "targets (dc1-ingress)"
    )

    def on_a_public_model(values):
        model(values, "llama-3-8b-instruct")["clients"] = [{"name": "x", "networks": ["dc1-ingress"]}]

    assert error_of("prod", on_a_public_model).startswith("models[1].clients: only sensitive models list their callers")


def test_config_refuses_a_sensitive_name_inside_another_models_name():
    def rename(values):
        model(values, "llama-3-8b-instruct")["name"] = f"{SENSITIVE}-chat"
        for tenant in values["gateway"]["tenants"]:
            tenant["models"] = [f"{SENSITIVE}-chat" if m == "llama-3-8b-instruct" else m for m in tenant["models"]]

    assert error_of("prod", rename) == (
        "models[2].name: sensitive model 'mistral-7b-private' is part of model 'mistral-7b-private-chat''s name; the "
        "policy pack finds a sensitive model's resources by its name, so rename one of them"
    )


def test_config_refuses_a_restricted_model_outside_its_regions():
    def restrict(values):
        values["policy"]["data_residency"].append(
            {"name": "us-only", "regions": ["us-east-1"], "models": ["llama-3-8b-instruct"]}
        )

    assert error_of("prod", restrict) == (
        "models[1].regions[1]: 'eu-west-1' is outside the regions policy.data_residency allows 'llama-3-8b-instruct' "
        "(us-east-1)"
    )


def test_config_refuses_a_restricted_model_whose_weights_land_in_the_primary_region():
    def restrict(values):
        values["policy"]["data_residency"].append(
            {"name": "eu-models", "regions": ["eu-west-1"], "models": ["llama-3-8b-instruct"]}
        )

    assert error_of("prod", restrict) == (
        "policy.data_residency[1].models[0]: 'llama-3-8b-instruct''s weights are pushed to the primary region's "
        "bucket (us-east-1), outside eu-west-1; restrict it to regions that include the primary, or make one of "
        "them primary"
    )


def test_config_refuses_a_restricted_tenant_whose_models_are_not_served_there():
    def restrict(values):
        values["policy"]["data_residency"][0]["tenants"].append("assistant")

    assert error_of("prod", restrict) == (
        "gateway.tenants[1].models[0]: 'llama-3-70b-instruct' is not served in the regions policy.data_residency "
        "allows tenant 'assistant' (eu-west-1)"
    )


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        (
            {"name": "x", "regions": ["eu-west-1"]},
            "policy.data_residency[1]: list the models or tenants the rule restricts",
        ),
        (
            {"name": "x", "regions": ["ap-south-1"], "tenants": ["search"]},
            "policy.data_residency[1].regions[0]: 'ap-south-1' is not in policy.allowed_regions (us-east-1, eu-west-1)",
        ),
        (
            {"name": "x", "regions": ["eu-west-1"], "tenants": ["nobody"]},
            "policy.data_residency[1].tenants[0]: unknown tenant 'nobody'; allowed: search, assistant, eu-support",
        ),
        (
            {"name": "x", "regions": ["us-east-1"], "models": [SENSITIVE]},
            "policy.data_residency[1].models[0]: 'mistral-7b-private' is sensitive: it never enters a region at all",
        ),
        (
            {"name": "eu-only", "regions": ["eu-west-1"], "tenants": ["search"]},
            "policy.data_residency[1].name: duplicate rule 'eu-only'",
        ),
    ],
)
def test_config_residency_rules_are_checked(rule, expected):
    assert error_of("prod", lambda v: v["policy"]["data_residency"].append(rule)) == expected


# --- the program -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def prod():
    return run_stack("prod")


def test_the_sensitive_model_runs_on_its_target_only_marked_and_reading_the_data_centres_store(prod):
    carrying = [r for r in prod.resources if SENSITIVE in json.dumps(r.inputs) or SENSITIVE in r.name]
    assert carrying
    assert {r.provider.rsplit("::", 1)[-1] for r in carrying if r.provider} == {"onprem-dc1"}
    (deployment,) = [r for r in carrying if r.type == "kubernetes:apps/v1:Deployment"]
    assert deployment.inputs["metadata"]["labels"]["llm-serving/data-classification"] == "sensitive"
    sync = deployment.inputs["spec"]["template"]["spec"]["initContainers"][0]
    env = {e["name"]: e.get("value") for e in sync["env"]}
    assert env["AWS_ENDPOINT_URL_S3"] == "https://objects.dc1.example.internal"
    assert env["WEIGHTS_BUCKET"] == "llm-sensitive-weights"
    (network_policy,) = [r for r in carrying if r.type == "kubernetes:networking.k8s.io/v1:NetworkPolicy"]
    http = network_policy.inputs["spec"]["ingress"][0]
    assert http["from"] == [{"ipBlock": {"cidr": "10.100.8.0/24"}}]


def test_weights_replicate_per_model_to_the_regions_that_serve_it(prod):
    (replication,) = [r for r in prod.resources if r.type == "aws:s3/bucketReplicationConfig:BucketReplicationConfig"]
    assert [(rule["id"], rule["filter"]) for rule in replication.inputs["rules"]] == [
        ("llama-3-8b-instruct-to-eu-west-1", {"prefix": "models/llama-3-8b-instruct/"})
    ]


def test_a_restricted_tenant_has_keys_and_usage_plans_only_in_its_regions(prod):
    tenant_objects = [r for r in prod.resources if r.type.startswith("aws:apigateway/") and "eu-support" in r.name]
    assert {r.name.split("-gateway")[0] for r in tenant_objects} == {"eu-west-1"}
    assert {r.type for r in tenant_objects} == {
        "aws:apigateway/apiKey:ApiKey",
        "aws:apigateway/usagePlan:UsagePlan",
        "aws:apigateway/usagePlanKey:UsagePlanKey",
    }


def test_each_regions_usage_plans_name_only_the_models_it_serves(prod):
    plans = {r.name: r.inputs["description"] for r in prod.resources if r.type == "aws:apigateway/usagePlan:UsagePlan"}
    assert plans["us-east-1-gateway-plans-assistant"] == (
        "llm-serving tenant assistant: llama-3-70b-instruct, llama-3-8b-instruct"
    )
    assert plans["eu-west-1-gateway-plans-assistant"] == "llm-serving tenant assistant: llama-3-8b-instruct"


# --- the pack on hand-edited plans ---------------------------------------------------------------


@pytest.fixture(scope="module")
def plan():
    return fresh_plan("prod")


@pytest.fixture(scope="module")
def evaluator(plan):
    with analyzer.PlanEvaluator(project=plan["project"], stack="prod", user_config=stack_config("prod")) as it:
        yield it


def mandatory(evaluator, resources, policy):
    verdict = evaluator.evaluate(resources)
    return [(v.message, v.urn) for v in verdict.mandatory if v.policy == policy]


def find(resources, type_, predicate=lambda r: True):
    return next(r for r in resources if r["type"] == type_ and predicate(r))


def test_the_committed_plan_passes_both_residency_policies(plan, evaluator):
    verdict = evaluator.evaluate(plan["resources"])
    assert [v for v in verdict.mandatory if v.policy in (SENSITIVE_POLICY, REGIONS_POLICY)] == []


def test_pack_refuses_the_sensitive_model_moved_to_an_eks_cluster(plan, evaluator):
    resources = copy.deepcopy(plan["resources"])
    deployment = find(resources, "kubernetes:apps/v1:Deployment", lambda r: r["name"] == f"dc1-{SENSITIVE}-deployment")
    eks = find(resources, "kubernetes:apps/v1:Deployment", lambda r: r["name"].startswith("eu-west-1-llama"))
    deployment["provider"] = eks["provider"]
    assert mandatory(evaluator, resources, SENSITIVE_POLICY) == [
        (
            f"Deployment 'dc1-{SENSITIVE}-deployment' (eu-west-1) carries sensitive model '{SENSITIVE}': its weights, "
            "routes and pods stay on on-prem targets that allow sensitive models (dc1).",
            deployment["urn"],
        )
    ]


def test_pack_refuses_the_sensitive_model_moved_onto_hybrid_nodes(plan, evaluator):
    """dc1-rack2's machines stand in dc1, but their cluster (its etcd, the pod specs, the Secrets) is in
    us-east-1: the pack sees the Deployment in AWS, whatever its node selector says."""
    resources = copy.deepcopy(plan["resources"])
    deployment = find(resources, "kubernetes:apps/v1:Deployment", lambda r: r["name"] == f"dc1-{SENSITIVE}-deployment")
    hybrid = find(
        resources, "kubernetes:apps/v1:Deployment", lambda r: r["name"] == "us-east-1-llama-3-8b-batch-deployment"
    )
    deployment["provider"] = hybrid["provider"]
    pod = deployment["inputs"]["spec"]["template"]["spec"]
    pod["nodeSelector"] = hybrid["inputs"]["spec"]["template"]["spec"]["nodeSelector"]
    assert mandatory(evaluator, resources, SENSITIVE_POLICY) == [
        (
            f"Deployment 'dc1-{SENSITIVE}-deployment' (us-east-1) carries sensitive model '{SENSITIVE}': its weights, "
            "routes and pods stay on on-prem targets that allow sensitive models (dc1).",
            deployment["urn"],
        )
    ]


def test_pack_refuses_a_gateway_route_for_the_sensitive_model(plan, evaluator):
    resources = copy.deepcopy(plan["resources"])
    route = find(
        resources, "aws:apigateway/resource:Resource", lambda r: r["inputs"].get("pathPart") == "llama-3-8b-instruct"
    )
    clone = {**copy.deepcopy(route), "name": f"{route['name']}-x", "urn": route["urn"] + "-x"}
    clone["inputs"]["pathPart"] = SENSITIVE
    resources.append(clone)
    found = mandatory(evaluator, resources, SENSITIVE_POLICY)
    assert [urn for _, urn in found] == [clone["urn"]]
    assert found[0][0].endswith(
        f"carries sensitive model '{SENSITIVE}': its weights, routes and pods stay on on-prem targets that allow "
        "sensitive models (dc1)."
    )


def test_pack_refuses_replicating_the_sensitive_models_weights(plan, evaluator):
    resources = copy.deepcopy(plan["resources"])
    replication = find(resources, "aws:s3/bucketReplicationConfig:BucketReplicationConfig")
    rule = copy.deepcopy(replication["inputs"]["rules"][0])
    rule.update(id=f"{SENSITIVE}-to-eu-west-1", priority=9, filter={"prefix": f"models/{SENSITIVE}/"})
    replication["inputs"]["rules"].append(rule)
    found = mandatory(evaluator, resources, SENSITIVE_POLICY)
    assert [urn for _, urn in found] == [replication["urn"]]


@pytest.mark.parametrize("edit", ["drop-label", "weights-from-aws"])
def test_pack_refuses_an_unmarked_sensitive_workload_or_one_reading_aws(plan, evaluator, edit):
    resources = copy.deepcopy(plan["resources"])
    deployment = find(resources, "kubernetes:apps/v1:Deployment", lambda r: r["name"] == f"dc1-{SENSITIVE}-deployment")
    shown = f"Deployment 'dc1-{SENSITIVE}-deployment' (on-prem target dc1)"
    if edit == "drop-label":
        del deployment["inputs"]["metadata"]["labels"]["llm-serving/data-classification"]
        expected = [
            f"{shown} carries sensitive model '{SENSITIVE}' but is not marked llm-serving/data-classification: "
            "sensitive.",
            f"{shown} is a model server without a llm-serving/data-classification label on it and its pods.",
        ]
    else:
        sync = deployment["inputs"]["spec"]["template"]["spec"]["initContainers"][0]
        sync["env"] = [e for e in sync["env"] if e["name"] != "AWS_ENDPOINT_URL_S3"]
        expected = [
            f"{shown} serves a sensitive model but reads its weights from AWS S3 (no AWS_ENDPOINT_URL_S3 of the data "
            "centre's object store)."
        ]
    assert mandatory(evaluator, resources, SENSITIVE_POLICY) == [(m, deployment["urn"]) for m in expected]


def test_pack_refuses_anything_in_aws_marked_sensitive(plan, evaluator):
    resources = copy.deepcopy(plan["resources"])
    bucket = find(
        resources, "aws:s3/bucket:Bucket", lambda r: r["inputs"]["tags"].get("llm-serving/data") == "model-weights"
    )
    bucket["inputs"]["tags"]["llm-serving/data-classification"] = "sensitive"
    assert mandatory(evaluator, resources, SENSITIVE_POLICY) == [
        (
            f"Bucket '{bucket['name']}' ({bucket['name'].split('-weights')[0]}) is marked sensitive but lands "
            "outside the data centre.",
            bucket["urn"],
        )
    ]


def test_pack_config_comes_from_the_stack_file_not_the_plans_markers():
    config = policy_config_for(parse_platform_config(stack_values("prod")))
    assert config[SENSITIVE_POLICY] == {"sensitiveModels": [SENSITIVE], "sensitiveTargets": ["dc1"]}
    assert config[REGIONS_POLICY] == {
        "rules": [{"name": "eu-only", "regions": ["eu-west-1"], "models": [], "tenants": ["eu-support"]}],
        "primaryRegion": "us-east-1",
    }


def test_pack_refuses_a_restricted_tenants_usage_plan_in_another_region(plan, evaluator):
    resources = copy.deepcopy(plan["resources"])
    usage_plan = find(
        resources, "aws:apigateway/usagePlan:UsagePlan", lambda r: r["inputs"]["tags"].get("tenant") == "eu-support"
    )
    us = find(resources, "aws:apigateway/usagePlan:UsagePlan", lambda r: r["name"].startswith("us-east-1"))
    usage_plan["provider"] = us["provider"]
    found = mandatory(evaluator, resources, REGIONS_POLICY)
    assert found == [
        (
            f"UsagePlan '{usage_plan['name']}' (us-east-1) serves tenant 'eu-support', which data residency rule "
            "'eu-only' keeps in eu-west-1.",
            usage_plan["urn"],
        )
    ]


def test_pack_refuses_replicating_a_restricted_models_weights_out_of_its_regions(plan):
    """A stack that keeps llama-3-70b-instruct in us-east-1: a hand-added catch-all rule copies it to eu-west-1."""
    values = stack_values("prod")
    values["policy"]["data_residency"].append(
        {"name": "us-70b", "regions": ["us-east-1"], "models": ["llama-3-70b-instruct"]}
    )
    config = stack_config("prod")
    config[REGIONS_POLICY] = policy_config_for(parse_platform_config(values))[REGIONS_POLICY]
    resources = copy.deepcopy(plan["resources"])
    replication = find(resources, "aws:s3/bucketReplicationConfig:BucketReplicationConfig")
    replication["inputs"]["rules"][0]["filter"] = {"prefix": "models/"}
    with analyzer.PlanEvaluator(project=plan["project"], stack="prod", user_config=config) as evaluator:
        assert mandatory(evaluator, plan["resources"], REGIONS_POLICY) == []
        assert mandatory(evaluator, resources, REGIONS_POLICY) == [
            (
                f"replication '{replication['name']}' rule 'llama-3-8b-instruct-to-eu-west-1' copies the weights of "
                "llama-3-70b-instruct to eu-west-1; data residency rule 'us-70b' keeps them in us-east-1.",
                replication["urn"],
            )
        ]


# --- the data centre's private path ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (
            lambda d: d.update(cidrs=["10.20.128.0/20"]),
            "datacentre.cidrs[0]: 10.20.128.0/20 overlaps regions[0].vpc_cidr (10.20.0.0/16): routes would collide",
        ),
        (
            lambda d: d.update(cidrs=["10.100.0.0/16", "10.100.8.0/24"]),
            "datacentre.cidrs[1]: 10.100.8.0/24 overlaps datacentre.cidrs[0] (10.100.0.0/16)",
        ),
        (
            lambda d: d.update(cidrs=["0.0.0.0/0"]),
            "datacentre.cidrs[0]: '0.0.0.0/0' is broader than /8; list the data centre's own networks",
        ),
        (lambda d: d["vpn"].update(bgp_asn=7224), "datacentre.vpn.bgp_asn: 7224 is reserved by AWS in us-east-1"),
        (lambda d: d["vpn"].update(bgp_asn=9059), "datacentre.vpn.bgp_asn: 9059 is reserved by AWS in eu-west-1"),
        (
            lambda d: d["vpn"].update(bgp_asn=64513),
            "datacentre.vpn.bgp_asn: 64513 is eu-west-1's Transit Gateway ASN; the two ends need their own",
        ),
        (
            lambda d: d["vpn"].update(customer_gateway_ip="10.100.0.1"),
            "datacentre.vpn.customer_gateway_ip: 10.100.0.1 is not a public address; the VPN endpoints reach the "
            "device over the internet",
        ),
    ],
)
def test_config_refuses_a_private_path_that_cannot_work(mutate, expected):
    assert error_of("prod", lambda values: mutate(values["datacentre"])) == expected
