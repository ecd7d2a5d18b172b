"""kubernetes-manifest-bundle-crds-only: the controllers' CRD bundles are the compliant baseline;
any other object in a bundle, and every bundle kind whose objects the plan never lists, is reported."""

import json

import pytest
from conftest import resource_violations

from policies.kubernetes import manifest_bundle_crds_only

POLICY = manifest_bundle_crds_only.policy
CONFIG_GROUP = "kubernetes:yaml/v2:ConfigGroup"
CRD = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "scaledobjects.keda.sh"},
}
DAEMON_SET = {
    "apiVersion": "apps/v1",
    "kind": "DaemonSet",
    "metadata": {"name": "node-shell", "namespace": "kube-system"},
}
NOT_REVIEWED = "the pack never reviews it; declare it as its own resource."


def stream(*documents: object) -> str:
    return "".join(f"---\n{json.dumps(d)}\n" for d in documents)


def test_a_bundle_of_crds_is_compliant():
    assert resource_violations(POLICY, CONFIG_GROUP, {"yaml": stream(CRD, CRD)}) == []
    assert resource_violations(POLICY, CONFIG_GROUP, {"yaml": [stream(CRD)], "objs": [CRD]}) == []
    assert (
        resource_violations(POLICY, CONFIG_GROUP, {"yaml": "kind: CustomResourceDefinition\nmetadata: {name: a}\n"})
        == []
    )


def test_a_workload_in_the_yaml_stream_is_reported():
    assert resource_violations(POLICY, CONFIG_GROUP, {"yaml": stream(CRD, DAEMON_SET)}) == [
        f"object 1 is a DaemonSet 'kube-system/node-shell', not a CustomResourceDefinition: {NOT_REVIEWED}"
    ]


def test_an_object_in_objs_is_reported():
    binding = {"kind": "ClusterRoleBinding", "metadata": {"name": "everyone-admin"}}
    assert resource_violations(POLICY, CONFIG_GROUP, {"objs": [CRD, binding, "text"]}) == [
        f"object 1 is a ClusterRoleBinding 'everyone-admin', not a CustomResourceDefinition: {NOT_REVIEWED}",
        f"object 2 is a document that is not an object, not a CustomResourceDefinition: {NOT_REVIEWED}",
    ]


def test_files_and_unreadable_yaml_are_reported():
    assert resource_violations(POLICY, CONFIG_GROUP, {"files": ["crds/*.yaml"]}) == [
        "files: the objects come from files the pack never sees; inline CRDs in yaml."
    ]
    assert resource_violations(POLICY, CONFIG_GROUP, {"yaml": "kind: [unclosed"}) == [
        "yaml: not a readable YAML stream, so its objects cannot be reviewed."
    ]
    assert resource_violations(POLICY, CONFIG_GROUP, {"yaml": [42]}) == [
        "yaml: not a readable YAML stream, so its objects cannot be reviewed."
    ]


@pytest.mark.parametrize(
    ("resource_type", "how"),
    [
        ("kubernetes:yaml/v2:ConfigFile", "reads its objects from a file"),
        ("kubernetes:helm.sh/v4:Chart", "renders its objects from a Helm chart"),
        ("kubernetes:helm.sh/v3:Release", "installs its objects from a Helm chart"),
        ("kubernetes:kustomize/v2:Directory", "builds its objects from a kustomization"),
    ],
)
def test_bundles_whose_objects_the_plan_never_lists_are_reported(resource_type, how):
    assert resource_violations(POLICY, resource_type, {"chart": "keda"}) == [
        f"{resource_type} {how} the pack never sees; declare each object as its own resource."
    ]


def test_other_types_and_computed_yaml_are_not_applicable():
    assert resource_violations(POLICY, "kubernetes:apps/v1:DaemonSet", DAEMON_SET) == []
    assert resource_violations(POLICY, CONFIG_GROUP, {}) == []
