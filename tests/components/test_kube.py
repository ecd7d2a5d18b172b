"""KubernetesObject registers what pulumi_kubernetes' generated class registers for the same manifest."""

from __future__ import annotations

import importlib
import re
import subprocess
import sys

import pulumi
import pytest
from conftest import ROOT, run_stack
from pulumi.runtime import settings as pulumi_settings
from pulumi.runtime.stack import wait_for_rpcs
from pulumi.runtime.sync_await import _sync_await
from serving_harness import record

from components.kube import KubernetesObject, type_token
from llmstack.offline import PlanMocks, RecordingMonitor

# The generated classes' module for each API group this stack uses (pulumi_kubernetes.<module>.<version>).
_SDK_MODULE = {
    "core": "core",
    "apps": "apps",
    "policy": "policy",
    "autoscaling": "autoscaling",
    "networking.k8s.io": "networking",
    "rbac.authorization.k8s.io": "rbac",
    "apiextensions.k8s.io": "apiextensions",
    "apiregistration.k8s.io": "apiregistration",
    "admissionregistration.k8s.io": "admissionregistration",
}


def _snake(key: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", key).lower()


def _generated(resource_name: str, manifest: dict) -> pulumi.CustomResource:
    group, version = type_token(manifest["apiVersion"], manifest["kind"]).split(":")[1].split("/")
    module = importlib.import_module(f"pulumi_kubernetes.{_SDK_MODULE[group]}.{version}")
    fields = {_snake(k): v for k, v in manifest.items() if k not in ("apiVersion", "kind")}
    return getattr(module, manifest["kind"])(resource_name, **fields)


@pytest.mark.parametrize(
    ("api_version", "kind", "expected"),
    [
        ("v1", "Namespace", "kubernetes:core/v1:Namespace"),
        ("apps/v1", "Deployment", "kubernetes:apps/v1:Deployment"),
        ("rbac.authorization.k8s.io/v1", "RoleBinding", "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding"),
        ("keda.sh/v1alpha1", "ScaledObject", "kubernetes:keda.sh/v1alpha1:ScaledObject"),
    ],
)
def test_type_token(api_version, kind, expected):
    assert type_token(api_version, kind) == expected


def test_a_manifest_needs_api_version_kind_and_metadata():
    with pytest.raises(ValueError, match=r"^ns: manifest needs kind, metadata$"):
        record(lambda: KubernetesObject("ns", {"apiVersion": "v1"}))


def test_every_built_in_object_of_the_prod_stack_registers_as_its_generated_class_would():
    objects = [
        r
        for r in run_stack("prod").resources
        if r.type.startswith("kubernetes:") and r.type.split(":")[1].split("/")[0] in _SDK_MODULE
    ]
    kinds = {r.type for r in objects}
    assert len(kinds) >= 10  # namespaces, accounts, RBAC, workloads, services, policies, HPAs
    for resource in objects:
        manifest = resource.inputs
        ours = record(lambda m=manifest: KubernetesObject("x", m))
        theirs = record(lambda m=manifest: _generated("x", m))
        assert [(r.type, r.inputs) for r in ours] == [(r.type, r.inputs) for r in theirs], resource.urn


class _OptionsMonitor(RecordingMonitor):
    """Keeps the registration options plan.json does not record."""

    def __init__(self) -> None:
        super().__init__(PlanMocks())
        self.options: dict[str, tuple[list[str], str, str]] = {}

    def RegisterResource(self, request):  # noqa: N802 - gRPC method name
        self.options[request.name] = (
            sorted(request.additionalSecretOutputs),
            request.version,
            request.pluginDownloadURL,
        )
        return super().RegisterResource(request)


def _options(build) -> dict[str, tuple[list[str], str, str]]:
    pulumi_settings.reset_options()
    monitor = _OptionsMonitor()
    pulumi.runtime.set_mocks(monitor.mocks, project="llm-serving", stack="test", preview=False, monitor=monitor)
    build()
    _sync_await(wait_for_rpcs())
    return monitor.options


@pytest.mark.parametrize(
    "manifest",
    [
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "namespace": "n"}},
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d", "namespace": "n"}, "spec": {}},
    ],
)
def test_registration_options_equal_the_generated_classes(manifest):
    # Secret outputs (a Secret's data stays secret) and the plugin version the generated classes send.
    ours = _options(lambda: KubernetesObject("x", manifest))["x"]
    theirs = _options(lambda: _generated("x", manifest))["x"]
    assert ours == theirs
    assert ours[1]  # a version is sent
    assert ours[0] == (["data", "stringData"] if manifest["kind"] == "Secret" else [])


def test_object_name_is_the_clusters_metadata_name():
    names: list[str] = []

    def build():
        namespace = KubernetesObject("ns", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "llm-dev"}})
        namespace.object_name.apply(names.append)

    record(build)
    assert names == ["llm-dev"]


def test_the_program_imports_none_of_the_generated_kubernetes_classes():
    script = (
        "import sys\n"
        "from llmstack.stackfile import load_stack\n"
        "from llmstack.offline import run_program\n"
        "s = load_stack('prod', None)\n"
        "run_program(s.config, stack='prod', secret_keys=list(s.secret_keys))\n"
        "print(sorted(m for m in sys.modules if m.startswith('pulumi_kubernetes.')"
        " and m.split('.')[1] in ('core', 'apps', 'rbac', 'networking', 'policy', 'autoscaling', 'meta')"
        " and m.count('.') >= 2))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, check=True)
    assert result.stdout.strip() == "[]"


def test_a_config_group_registers_as_the_generated_class_would():
    from pulumi_kubernetes.yaml.v2 import ConfigGroup as Generated

    from components import keda_manifests
    from components.kube import ConfigGroup
    from components.upstream import yaml_stream

    text = yaml_stream(keda_manifests.crds())
    ours = record(lambda: ConfigGroup("crds", text))
    theirs = record(lambda: Generated("crds", yaml=text))
    assert [(r.type, r.custom, r.inputs) for r in ours] == [(r.type, r.custom, r.inputs) for r in theirs]
    assert ours[0].inputs == {"yaml": text}
