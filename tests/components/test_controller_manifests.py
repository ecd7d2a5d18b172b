"""KEDA, prometheus-adapter and the AWS Load Balancer Controller as declared objects in the real plan.

One prod plan (the CLI, as CI runs it): every object the controllers' modules render is in
plan.json and in manifests/, validates against the Kubernetes 1.35 schemas (strict), and the apply
order and the dependencies put each CRD before the custom resources of its kind.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml
from crd_schemas import SCHEMAS, _strict, validate_custom_resource

from components import conventions, keda_manifests, lb_controller_manifests, prometheus_adapter_manifests
from components.cluster import NODE_GROUP_LABEL, SYSTEM_NODE_GROUP
from components.upstream import CRD_DIR, name_of, vendored_crds, vendored_source, yaml_stream
from llmstack.cli import main
from llmstack.manifests import CONFIG_GROUP, config_group_objects, manifest_files
from llmstack.offline import SECRET_PLACEHOLDER

KUBERNETES_VERSION = "1.35.0"  # the clusters' version (regions[].cluster.kubernetes_version)
SYSTEM_NODES = {NODE_GROUP_LABEL: SYSTEM_NODE_GROUP}
CONTROLLERS = (
    "llm-serving:autoscaling:Keda",
    "llm-serving:autoscaling:PrometheusAdapter",
    "llm-serving:gateway:PrivatePath",
)


@pytest.fixture(scope="module")
def prod(tmp_path_factory) -> tuple[int, dict[str, Any], Path]:
    out = tmp_path_factory.mktemp("prod")
    code = main(["plan", "--stack", "prod", "--out", str(out)])
    return code, json.loads((out / "plan.json").read_text()), out


def controller_objects(document: dict[str, Any]) -> list[dict[str, Any]]:
    """Kubernetes objects whose parent is one of the controllers' components (bindings excluded);
    the CRDs of a ConfigGroup each as a resource of their own, with the group's urn."""
    parents = {r["urn"]: r["type"] for r in document["resources"]}
    objects = []
    for r in document["resources"]:
        if not r["type"].startswith("kubernetes:") or parents.get(r.get("parent") or "") not in CONTROLLERS:
            continue
        if r["type"] == CONFIG_GROUP:
            objects.extend({**r, "inputs": body} for body in config_group_objects(r["inputs"]))
        elif r["inputs"]["kind"] not in ("TargetGroupBinding", "TriggerAuthentication"):
            objects.append(r)
    return objects


def manifest_folders(out: Path) -> dict[str, list[tuple[str, dict[str, Any]]]]:
    """Target folder → (file name, object) in apply order."""
    return {
        folder.name: [(f.name, yaml.safe_load(f.read_text())) for f in sorted(folder.glob("*.yaml"))]
        for folder in sorted((out / "manifests").iterdir())
    }


def cluster_folders(out: Path) -> Iterator[tuple[str, list[tuple[str, dict[str, Any]]]]]:
    for target, files in manifest_folders(out).items():
        if target.endswith("-cluster-k8s"):
            yield target, files


def keyed(body: dict[str, Any]) -> tuple[str, str, str]:
    return body["kind"], body["metadata"].get("namespace", ""), body["metadata"]["name"]


def test_the_prod_plan_passes_the_pack_with_the_controllers_declared(prod):
    code, document, _ = prod
    mandatory = [v["message"] for v in document["policy"]["violations"] if v["enforcement"] == "mandatory"]
    assert (code, mandatory) == (0, [])
    assert not [r for r in document["resources"] if r["type"].startswith("kubernetes:helm.sh/")]
    # Both regions' clusters carry all three controllers.
    kinds = {(r["type"], r["inputs"]["metadata"]["name"]) for r in controller_objects(document)}
    assert ("kubernetes:apps/v1:Deployment", "keda-operator") in kinds
    assert ("kubernetes:apps/v1:Deployment", "prometheus-adapter") in kinds
    assert ("kubernetes:apps/v1:Deployment", "aws-load-balancer-controller") in kinds


def test_every_controller_object_is_in_manifests_as_declared(prod):
    _, document, out = prod
    by_target: dict[str, set[tuple[str, str, str]]] = {}
    for target, files in manifest_folders(out).items():
        by_target[target] = {keyed(body) for _, body in files}
    files_by_key = {(t, keyed(b)): b for t, fs in manifest_folders(out).items() for _, b in fs}
    objects = controller_objects(document)
    assert len(objects) > 60
    for resource in objects:
        provider = next(r["name"] for r in document["resources"] if r["urn"] == resource["provider"])
        body = files_by_key[(provider, keyed(resource["inputs"]))]
        assert body == {k: v for k, v in resource["inputs"].items() if k not in ("id", "urn")}, resource["name"]


def test_each_cluster_has_every_object_the_controllers_modules_render(prod):
    _, _, out = prod
    extra: dict[str, str] = {}
    expected = [
        *keda_manifests.crds(),
        *keda_manifests.objects(conventions.KEDA_NAMESPACE, 2, SYSTEM_NODES, extra),
        *prometheus_adapter_manifests.objects(conventions.MONITORING_NAMESPACE, "", extra),
        prometheus_adapter_manifests.api_service(conventions.MONITORING_NAMESPACE, extra),
        *lb_controller_manifests.crds(),
        *lb_controller_manifests.objects("kube-system", extra),
        *lb_controller_manifests.webhook_configurations("kube-system", "", extra),
    ]
    names = {keyed(m) for m in expected} | {
        ("Deployment", "monitoring", "prometheus-adapter"),
        ("Deployment", "kube-system", "aws-load-balancer-controller"),
        ("Secret", "kube-system", "aws-load-balancer-tls"),
    }
    folders = dict(cluster_folders(out))
    assert len(folders) == 2
    for target, files in folders.items():
        missing = names - {keyed(body) for _, body in files}
        assert not missing, (target, sorted(missing))


def test_controller_objects_validate_against_the_kubernetes_schemas(prod):
    _, document, _ = prod
    checked = set()
    for resource in controller_objects(document):
        body = {k: v for k, v in resource["inputs"].items() if k not in ("id", "urn")}
        if name_of(body) in checked:
            continue  # the same object in the other region
        if body["kind"] == "Secret":
            assert body.pop("data") == SECRET_PLACEHOLDER  # the webhook key pair never appears in the plan
        kubernetes_validate.validate(body, KUBERNETES_VERSION, strict=True)
        checked.add(name_of(body))
    assert {"Deployment/keda-operator", "APIService/v1beta1.external.metrics.k8s.io"} <= checked
    assert "CustomResourceDefinition/scaledjobs.keda.sh" in checked


def test_the_strict_schema_rejects_a_misspelt_field_in_a_controller_object():
    (deployment,) = [
        m for m in keda_manifests.objects("keda", 2, SYSTEM_NODES, {}) if name_of(m) == "Deployment/keda-operator"
    ]
    deployment["spec"]["template"]["spec"]["containers"][0]["resource"] = {}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)


def test_crds_come_before_the_custom_resources_of_their_kind_in_apply_order(prod):
    _, _, out = prod
    for target, files in cluster_folders(out):
        defined = {
            (b["spec"]["group"], b["spec"]["names"]["kind"]): n
            for n, b in files
            if b["kind"] == "CustomResourceDefinition"
        }
        custom = [(n, b) for n, b in files if (b["apiVersion"].split("/")[0], b["kind"]) in defined]
        assert {b["kind"] for _, b in custom} >= {"TriggerAuthentication", "TargetGroupBinding"}, target
        for name, body in custom:
            assert defined[(body["apiVersion"].split("/")[0], body["kind"])] < name, (target, name)


def test_custom_resources_depend_on_their_crd_and_the_controller_that_serves_them(prod):
    _, document, _ = prod
    resources = document["resources"]
    crds = {
        (r["provider"], crd["spec"]["names"]["kind"]): r["urn"]
        for r in resources
        if r["type"] == CONFIG_GROUP
        for crd in config_group_objects(r["inputs"])
        if crd["kind"] == "CustomResourceDefinition"
    }
    deployments = {
        (r["provider"], r["inputs"]["metadata"]["name"]): r["urn"]
        for r in resources
        if r["type"] == "kubernetes:apps/v1:Deployment"
    }
    controller = {
        "ScaledObject": "keda-operator",
        "TriggerAuthentication": "keda-operator",
        "TargetGroupBinding": "aws-load-balancer-controller",
    }
    seen = set()
    for resource in resources:
        kind = resource["inputs"].get("kind") if resource["type"].startswith("kubernetes:") else None
        if kind in controller:
            seen.add(kind)
            assert crds[(resource["provider"], kind)] in resource["dependencies"], resource["name"]
            assert deployments[(resource["provider"], controller[kind])] in resource["dependencies"], resource["name"]
    assert seen == set(controller)


def test_controllers_run_on_the_system_nodes_off_gpus_with_limits_and_their_own_accounts(prod):
    _, document, _ = prod
    workloads = [r for r in controller_objects(document) if r["inputs"]["kind"] == "Deployment"]
    # Two regions × KEDA operator, metrics server, adapter, LB controller; dc1: KEDA's two and the adapter.
    on_prem = [r for r in workloads if "onprem-dc1" in r["provider"]]
    assert (len(workloads) - len(on_prem), len(on_prem)) == (8, 3)
    for resource in workloads:
        body = resource["inputs"]
        pod = body["spec"]["template"]["spec"]
        if resource not in on_prem:  # on-prem clusters have no system node group to select
            assert SYSTEM_NODES.items() <= pod["nodeSelector"].items(), body["metadata"]["name"]
        (term,) = pod["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
        assert term["matchExpressions"] == [{"key": conventions.GPU_LABEL, "operator": "DoesNotExist"}]
        assert pod["serviceAccountName"] not in ("", "default") and pod.get("hostNetwork") in (None, False)
        for container in pod["containers"]:
            assert {"cpu", "memory"} <= set(container["resources"]["limits"]), container["name"]


def test_keda_values_are_what_the_rendered_objects_show():
    values = keda_manifests.values(2, SYSTEM_NODES, {"component": "autoscaling"})
    objects = {name_of(m): m for m in keda_manifests.objects("keda", 2, SYSTEM_NODES, {"component": "autoscaling"})}
    for name, key in (("keda-operator", "operator"), ("keda-operator-metrics-apiserver", "metricsServer")):
        spec = objects[f"Deployment/{name}"]["spec"]
        assert spec["replicas"] == values[key]["replicaCount"]
        assert spec["template"]["spec"]["affinity"] == values[key]["affinity"]
        assert values[key]["nodeSelector"].items() <= spec["template"]["spec"]["nodeSelector"].items()
    # webhooks.enabled false; rbac.enabledCustomScaledRefKinds false; permissions.operator.restrict.secret true.
    assert not [n for n in objects if "admission" in n or "webhook" in n.lower()]
    rules = objects["ClusterRole/keda-operator"]["rules"]
    assert all("*" not in r["apiGroups"] and not any("*" in x for x in r["resources"]) for r in rules)
    assert not [r for r in rules if "secrets" in r["resources"]]
    env = objects["Deployment/keda-operator"]["spec"]["template"]["spec"]["containers"][0]["env"]
    assert {"name": "KEDA_RESTRICT_SECRET_ACCESS", "value": "true"} in env
    assert objects["PodDisruptionBudget/keda-operator"]["spec"]["minAvailable"] == 1


def test_adapter_values_are_what_the_rendered_objects_show():
    rules = [{"seriesQuery": "q", "name": {"as": "m"}}]
    proxy = {"name": "proxy", "image": "public.ecr.aws/x/y:1.0.0"}
    values = prometheus_adapter_manifests.values(2, "/workspaces/ws", 8005, rules, [proxy], SYSTEM_NODES, {})
    config = prometheus_adapter_manifests.config_text(rules)
    body = prometheus_adapter_manifests.deployment(
        "monitoring", 2, "--prometheus-url=x", config, [proxy], SYSTEM_NODES, {}
    )
    pod = body["spec"]["template"]["spec"]
    assert body["spec"]["replicas"] == values["replicas"] and pod["nodeSelector"] == values["nodeSelector"]
    assert (
        pod["containers"][0]["resources"] == values["resources"] and pod["containers"][1:] == values["extraContainers"]
    )
    assert yaml.safe_load(config) == {"rules": values["rules"]["custom"]}


@pytest.mark.parametrize(
    ("filename", "source"),
    [
        (keda_manifests.CRD_FILE, "github.com/kedacore/charts tag v2.20.0"),
        (lb_controller_manifests.CRD_FILE, "github.com/kubernetes-sigs/aws-load-balancer-controller tag v2.14.0"),
    ],
)
def test_vendored_crds_record_their_source_and_date(filename, source):
    data = json.loads((CRD_DIR / filename).read_text())
    assert vendored_source(filename).startswith(source) and data["retrieved"] == "2026-12-04"
    assert data["changes"].startswith("description texts removed")
    assert data["objects"] == without_descriptions(data["objects"])
    assert all(
        o["kind"] == "CustomResourceDefinition" and o["apiVersion"] == "apiextensions.k8s.io/v1"
        for o in data["objects"]
    )


def without_descriptions(node: Any) -> Any:
    """The vendored CRDs' one change from upstream: no description texts."""
    if isinstance(node, dict):
        return {k: without_descriptions(v) for k, v in node.items() if not (k == "description" and isinstance(v, str))}
    if isinstance(node, list):
        return [without_descriptions(v) for v in node]
    return node


def test_the_custom_resource_schemas_the_tests_use_are_the_vendored_crds():
    keda = {c["spec"]["names"]["kind"]: c for c in vendored_crds(keda_manifests.CRD_FILE)}
    for kind, file in (
        ("ScaledObject", "scaledobject_v1alpha1"),
        ("TriggerAuthentication", "triggerauthentication_v1alpha1"),
    ):
        (version,) = keda[kind]["spec"]["versions"]
        test_schema = without_descriptions(json.loads((SCHEMAS / "keda" / f"{file}.json").read_text()))
        assert test_schema == version["schema"]["openAPIV3Schema"]


def test_target_group_bindings_validate_against_the_vendored_crd(prod):
    _, document, _ = prod
    (crd,) = [
        c for c in vendored_crds(lb_controller_manifests.CRD_FILE) if c["spec"]["names"]["kind"] == "TargetGroupBinding"
    ]
    (v1beta1,) = [v for v in crd["spec"]["versions"] if v["name"] == "v1beta1"]
    schema = _strict(v1beta1["schema"]["openAPIV3Schema"])
    bindings = [
        r["inputs"] for r in document["resources"] if r["type"] == "kubernetes:elbv2.k8s.aws/v1beta1:TargetGroupBinding"
    ]
    assert bindings
    for body in bindings:
        body = {k: v for k, v in body.items() if k not in ("id", "urn")}
        jsonschema.validate(body, schema)
        validate_custom_resource(body)


def config_group(text: Any) -> dict[str, Any]:
    return {"urn": "urn:g", "type": CONFIG_GROUP, "name": "g", "provider": None, "inputs": {"yaml": text}}


def test_a_config_groups_objects_are_written_to_manifests_in_apply_order():
    crd = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition", "metadata": {"name": "a.b"}}
    namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "n"}}
    files = manifest_files([config_group(yaml_stream([crd, namespace]))])
    assert list(files) == [
        "manifests/default/000-namespace-n.yaml",
        "manifests/default/001-customresourcedefinition-a.b.yaml",
    ]
    assert yaml.safe_load(files["manifests/default/001-customresourcedefinition-a.b.yaml"]) == crd


def test_a_config_group_written_as_plain_yaml_or_without_text_still_reads():
    text = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: n\n---\n# only a comment\n"
    assert config_group_objects({"yaml": text}) == [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "n"}}
    ]
    assert config_group_objects({"yaml": None}) == [] and config_group_objects({}) == []
