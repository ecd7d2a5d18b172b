"""Contracts every component keeps, checked over the whole program of both stacks.

When a component forgets its parent, its cost tags, its customer-managed key or a stable
Kubernetes name, this is where it shows.
"""

import pytest
from conftest import run_stack

STACKS = ["dev", "prod"]

# Kubernetes kinds that live outside namespaces.
CLUSTER_SCOPED = {
    "Namespace",
    "ClusterRole",
    "ClusterRoleBinding",
    "CustomResourceDefinition",
    "PriorityClass",
    "StorageClass",
    "APIService",
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
    "ValidatingAdmissionPolicy",
    "ValidatingAdmissionPolicyBinding",
}


@pytest.fixture(scope="module", params=STACKS)
def run(request):
    return run_stack(request.param)


def custom(run):
    return [r for r in run.resources if not r.type.startswith(("llm-serving:", "pulumi:providers:"))]


def test_every_resource_sits_under_a_component(run):
    types = {r.urn: r.type for r in run.resources}
    for resource in custom(run):
        assert resource.parent and types.get(resource.parent, "").startswith("llm-serving:"), resource.urn


def test_every_resource_has_an_explicit_provider(run):
    for resource in custom(run):
        assert resource.provider and "::default_" not in resource.provider, resource.urn


def test_taggable_aws_resources_name_their_component(run):
    for resource in custom(run):
        if resource.type.startswith("aws:") and "tags" in resource.inputs:
            assert "component" in (resource.inputs["tags"] or {}), resource.urn


def test_log_groups_are_encrypted_and_expire(run):
    for group in [r for r in run.resources if r.type == "aws:cloudwatch/logGroup:LogGroup"]:
        assert group.inputs.get("kmsKeyId"), group.urn
        assert group.inputs.get("retentionInDays"), group.urn


def test_kubernetes_objects_have_stable_names_and_namespaces(run):
    for resource in custom(run):
        if not resource.type.startswith("kubernetes:") or "apiVersion" not in resource.inputs:
            continue
        metadata = resource.inputs.get("metadata") or {}
        assert metadata.get("name"), resource.urn
        if resource.inputs.get("kind") not in CLUSTER_SCOPED:
            assert metadata.get("namespace"), resource.urn
