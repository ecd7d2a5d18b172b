"""data-residency-sensitive-models-on-prem and data-residency-regions, one resource at a time."""

from __future__ import annotations

import pytest
from conftest import policy_resource, provider, stack_violations
from pulumi_policy import PolicyProviderResource

from policies.general import data_residency_regions, sensitive_models_on_prem

MODEL = "mistral-7b-private"
ON_PREM = {"sensitiveModels": [MODEL], "sensitiveTargets": ["dc1"]}
EKS_KUBECONFIG = '{"clusters": [{"cluster": {"server": "https://ABC.gr7.eu-west-1.eks.amazonaws.com"}}]}'


def k8s_provider(name, kubeconfig="[secret]"):
    type_ = "pulumi:providers:kubernetes"
    return PolicyProviderResource(
        type_, {"kubeconfig": kubeconfig}, f"urn:pulumi:test::llm-serving::{type_}::{name}", name
    )


DC1 = k8s_provider("onprem-dc1")
DC2 = k8s_provider("onprem-dc2")
EKS = k8s_provider("eu-west-1-cluster-k8s", EKS_KUBECONFIG)
US = provider()
EU = provider("aws-eu-west-1", "eu-west-1")


def deployment(model=MODEL, marker="sensitive", template_marker=None, endpoint="https://objects.dc1.internal", on=DC1):
    labels = {"app.kubernetes.io/component": "model-server", "llm-serving/model": model}
    if marker is not None:
        labels["llm-serving/data-classification"] = marker
    pod_labels = dict(labels)
    if template_marker is not None:
        pod_labels["llm-serving/data-classification"] = template_marker
    env = [{"name": "WEIGHTS_BUCKET", "value": "weights"}]
    if endpoint is not None:
        env.append({"name": "AWS_ENDPOINT_URL_S3", "value": endpoint})
    return policy_resource(
        "kubernetes:apps/v1:Deployment",
        f"dc-{model}",
        {
            "metadata": {"name": model, "labels": labels},
            "spec": {
                "template": {
                    "metadata": {"labels": pod_labels},
                    "spec": {"initContainers": [{"name": "sync", "env": env}], "containers": [{"name": "engine"}]},
                }
            },
        },
        provider_resource=on,
    )


def on_prem(*resources, config=ON_PREM):
    return [m for m, _ in stack_violations(sensitive_models_on_prem.policy, list(resources), config)]


def test_sensitive_compliant():
    assert on_prem(deployment()) == []
    assert on_prem(deployment("llama-3-8b-instruct", "internal", endpoint=None, on=EKS)) == []


def test_sensitive_model_on_eks():
    assert on_prem(deployment(on=EKS)) == [
        f"Deployment 'dc-{MODEL}' (eu-west-1) carries sensitive model '{MODEL}': its weights, routes and pods stay on "
        "on-prem targets that allow sensitive models (dc1).",
    ]


def test_on_prem_named_provider_wired_to_eks_is_not_on_prem():
    disguised = k8s_provider("onprem-dc1", EKS_KUBECONFIG)
    assert on_prem(deployment(on=disguised))[0].startswith(f"Deployment 'dc-{MODEL}' (eu-west-1) carries sensitive")


def test_sensitive_model_in_an_aws_resource():
    route = policy_resource("aws:apigateway/resource:Resource", "r", {"pathPart": MODEL}, provider_resource=US)
    assert on_prem(route) == [
        f"Resource 'r' (us-east-1) carries sensitive model '{MODEL}': its weights, routes and pods stay on on-prem "
        "targets that allow sensitive models (dc1).",
    ]


def test_word_match_only():
    """A longer name that merely starts with the sensitive one is another model (config keeps them apart)."""
    route = policy_resource("aws:apigateway/resource:Resource", "r", {"pathPart": f"{MODEL}x"}, provider_resource=US)
    assert on_prem(route) == []


def test_aws_resource_marked_sensitive():
    bucket = policy_resource(
        "aws:s3/bucket:Bucket", "b", {"tags": {"llm-serving/data-classification": "sensitive"}}, provider_resource=US
    )
    assert on_prem(bucket) == ["Bucket 'b' (us-east-1) is marked sensitive but lands outside the data centre."]


def test_sensitive_model_on_a_target_that_does_not_allow_it():
    assert on_prem(deployment(on=DC2)) == [
        f"Deployment 'dc-{MODEL}' (on-prem target dc2) carries sensitive model '{MODEL}', but target 'dc2' does not "
        "allow sensitive models."
    ]
    other = deployment("llama-3-8b-instruct", "sensitive", on=DC2)
    assert on_prem(other) == [
        "Deployment 'dc-llama-3-8b-instruct' (on-prem target dc2) carries an object marked sensitive, but target "
        "'dc2' does not allow sensitive models."
    ]


def test_sensitive_model_unmarked():
    assert on_prem(deployment(marker=None, template_marker="sensitive")) == [
        f"Deployment 'dc-{MODEL}' (on-prem target dc1) carries sensitive model '{MODEL}' but is not marked "
        "llm-serving/data-classification: sensitive.",
        f"Deployment 'dc-{MODEL}' (on-prem target dc1) is a model server without a llm-serving/data-classification "
        "label on it and its pods.",
    ]


@pytest.mark.parametrize("endpoint", [None, "https://s3.us-east-1.amazonaws.com", "https://bucket.s3.amazonaws.com/"])
def test_sensitive_weights_from_aws(endpoint):
    assert on_prem(deployment(endpoint=endpoint)) == [
        f"Deployment 'dc-{MODEL}' (on-prem target dc1) serves a sensitive model but reads its weights from AWS S3 "
        "(no AWS_ENDPOINT_URL_S3 of the data centre's object store)."
    ]


def test_unknown_classification_and_unmarked_pods():
    assert on_prem(deployment("llama-3-8b-instruct", "public", endpoint=None, on=EKS)) == [
        "Deployment 'dc-llama-3-8b-instruct' (eu-west-1) has llm-serving/data-classification 'public'; allowed: "
        "sensitive, internal.",
    ]
    assert on_prem(deployment("llama-3-8b-instruct", "internal", template_marker="sensitive", on=EKS)) == [
        "Deployment 'dc-llama-3-8b-instruct' (eu-west-1) is a model server without a llm-serving/data-classification "
        "label on it and its pods."
    ]


def test_without_config_names_the_marker_still_holds():
    """The stack file names no sensitive model: the model is judged by its marker alone."""
    assert on_prem(deployment(marker="internal", template_marker="internal", on=EKS), config={}) == []
    assert on_prem(deployment(on=EKS), config={}) == [
        f"Deployment 'dc-{MODEL}' (eu-west-1) is marked sensitive but lands outside the data centre."
    ]


# --- data-residency-regions ------------------------------------------------------------------------

RULES = {
    "rules": [{"name": "eu-only", "regions": ["eu-west-1"], "models": [], "tenants": ["eu-support"]}],
    "primaryRegion": "us-east-1",
}


def regions(*resources, config=RULES):
    return [m for m, _ in stack_violations(data_residency_regions.policy, list(resources), config)]


def usage_plan(on, tenant="eu-support", name="plan"):
    return policy_resource(
        "aws:apigateway/usagePlan:UsagePlan", name, {"name": name, "tags": {"tenant": tenant}}, provider_resource=on
    )


def test_regions_compliant():
    assert regions(usage_plan(EU), usage_plan(US, "search")) == []


def test_tenant_outside_its_regions_by_tag_name_or_lambda_environment():
    expected = "which data residency rule 'eu-only' keeps in eu-west-1."
    assert regions(usage_plan(US)) == [f"UsagePlan 'plan' (us-east-1) serves tenant 'eu-support', {expected}"]
    key = policy_resource("aws:apigateway/apiKey:ApiKey", "us-keys-eu-support", {}, provider_resource=US)
    assert regions(key) == [f"ApiKey 'us-keys-eu-support' (us-east-1) serves tenant 'eu-support', {expected}"]
    table = policy_resource(
        "aws:lambda/function:Function",
        "authorizer",
        {"environment": {"variables": {"TENANTS": '{"eu-support": ["m"]}'}}},
        provider_resource=US,
    )
    assert regions(table) == [f"Function 'authorizer' (us-east-1) serves tenant 'eu-support', {expected}"]


MODEL_RULES = {
    "rules": [{"name": "us-70b", "regions": ["us-east-1"], "models": ["llama-3-70b-instruct"], "tenants": []}],
    "primaryRegion": "us-east-1",
}


def test_model_outside_its_regions():
    pod = deployment("llama-3-70b-instruct", "internal", endpoint=None, on=EKS)
    assert regions(pod, config=MODEL_RULES) == [
        "Deployment 'dc-llama-3-70b-instruct' (eu-west-1) carries model 'llama-3-70b-instruct', which data residency "
        "rule 'us-70b' keeps in us-east-1."
    ]
    assert regions(deployment("llama-3-70b-instruct", "internal", on=DC1), config=MODEL_RULES) == []  # on-prem


def weights_bucket(on, name):
    return policy_resource(
        "aws:s3/bucket:Bucket",
        name,
        {"bucket": name, "tags": {"llm-serving/data": "model-weights"}},
        provider_resource=on,
    )


@pytest.mark.parametrize(
    ("rule", "copies"),
    [
        ({"prefix": "models/"}, True),
        ({"prefix": ""}, True),
        ({"and": {"prefix": "models/llama-3-70b-instruct/v1/"}}, True),
        ({"prefix": "models/llama-3-8b-instruct/"}, False),
        (None, True),
    ],
)
def test_replication_of_a_restricted_models_weights(rule, copies):
    source, destination = weights_bucket(US, "src"), weights_bucket(EU, "dst")
    body = {"id": "r1", "destination": {"bucket": "arn:aws:s3:::dst"}}
    if rule is not None:
        body["filter"] = rule
    replication = policy_resource(
        "aws:s3/bucketReplicationConfig:BucketReplicationConfig",
        "repl",
        {"bucket": "src", "rules": [body]},
        provider_resource=US,
        property_dependencies={"rules": [destination]},
    )
    found = regions(source, destination, replication, config=MODEL_RULES)
    assert found == (
        [
            "replication 'repl' rule 'r1' copies the weights of llama-3-70b-instruct to eu-west-1; data residency "
            "rule 'us-70b' keeps them in us-east-1."
        ]
        if copies
        else []
    )


def test_replication_to_an_undeclared_bucket():
    replication = policy_resource(
        "aws:s3/bucketReplicationConfig:BucketReplicationConfig",
        "repl",
        {"rules": [{"destination": {"bucket": "arn:aws:s3:::elsewhere"}}]},
        provider_resource=US,
    )
    assert regions(replication, config=MODEL_RULES) == [
        "replication 'repl' rule 'rules[0]' copies the weights of llama-3-70b-instruct to a bucket of no known "
        "region; data residency rule 'us-70b' keeps them in us-east-1."
    ]


def test_restricted_model_outside_the_primary_region():
    config = {"rules": [{"name": "eu", "regions": ["eu-west-1"], "models": ["m1"]}], "primaryRegion": "us-east-1"}
    assert regions(weights_bucket(US, "src"), weights_bucket(EU, "dst"), config=config) == [
        "Bucket 'src' (us-east-1) receives every model's weights, including m1, which data residency rule 'eu' keeps "
        "in eu-west-1."
    ]


def test_odd_rules_config():
    assert regions(usage_plan(US), config={"rules": ["x", None]}) == []
