"""NvidiaDevicePlugin: strict schema, hardening, and coverage of every GPU node group of both stacks."""

from __future__ import annotations

import kubernetes_validate
import pulumi
import pulumi_kubernetes as k8s
import pytest
import yaml
from conftest import stack_values
from serving_harness import by_type, record

from components import device_plugin
from components.conventions import GPU_LABEL, GPU_TAINT, GPU_TOLERATION, NODE_GROUP_LABEL
from components.device_plugin import GpuNodes, NvidiaDevicePlugin, NvidiaDevicePluginArgs
from components.gpu_nodes import node_labels
from llmstack.manifests import manifest_files
from policies.kubernetes.image_pinned_allowed_registry import EXACT_TAG
from stacks.config import parse_platform_config

KUBERNETES_VERSION = "1.33.0"


def stack_gpu_nodes(stack: str) -> list[tuple[str, GpuNodes]]:
    """Every GPU node group of a committed stack, as GpuNodeGroup labels and taints it."""
    config = parse_platform_config(stack_values(stack))
    return [
        (
            f"{stack}/{region.name}/{group.name}",
            GpuNodes(labels=node_labels(group.gpu, group.name), taints=(GPU_TAINT,)),
        )
        for region in config.regions
        for group in region.node_groups
    ]


ALL_GROUPS = stack_gpu_nodes("dev") + stack_gpu_nodes("prod")


def build(args: NvidiaDevicePluginArgs):
    def program():
        provider = k8s.Provider("test-cluster", kubeconfig="{}")
        NvidiaDevicePlugin("gpu", args, opts=pulumi.ResourceOptions(providers={"kubernetes": provider}))

    return record(program)


def pod_spec(resources):
    (daemonset,) = by_type(resources, "kubernetes:apps/v1:DaemonSet")
    return daemonset.inputs["spec"]["template"]["spec"]


def test_both_stacks_have_gpu_node_groups():
    stacks = {name.split("/")[0] for name, _ in ALL_GROUPS}
    assert stacks == {"dev", "prod"}


@pytest.mark.parametrize(("name", "group"), ALL_GROUPS, ids=[name for name, _ in ALL_GROUPS])
def test_plugin_tolerates_and_selects_every_gpu_node_group(name, group):
    spec = pod_spec(build(NvidiaDevicePluginArgs(environment="prod", gpu_nodes=tuple(g for _, g in ALL_GROUPS))))
    assert device_plugin.selects(spec["affinity"]["nodeAffinity"], group.labels), name
    for taint in group.taints:
        assert device_plugin.tolerates(spec["tolerations"], taint), name


def test_plugin_stays_off_nodes_without_the_gpu_label():
    affinity = device_plugin.node_affinity()
    assert not device_plugin.selects(affinity, {"kubernetes.io/os": "linux", NODE_GROUP_LABEL: "system"})
    assert device_plugin.selects(affinity, {GPU_LABEL: "h100"})


def test_a_node_group_the_plugin_would_miss_is_refused():
    unlabelled = GpuNodes(labels={NODE_GROUP_LABEL: "x"}, taints=(GPU_TAINT,))
    with pytest.raises(ValueError, match=r"gpu_nodes\[0\]: .*node affinity does not select labels"):
        NvidiaDevicePluginArgs(environment="prod", gpu_nodes=(unlabelled,))
    other_taint = GpuNodes(
        labels={GPU_LABEL: "h100"}, taints=({"key": "dedicated", "value": "x", "effect": "NoSchedule"},)
    )
    with pytest.raises(ValueError, match=r"does not tolerate taint dedicated=x:NoSchedule"):
        NvidiaDevicePluginArgs(environment="prod", gpu_nodes=(other_taint,))


@pytest.mark.parametrize(
    ("toleration", "taint", "expected"),
    [
        (GPU_TOLERATION, GPU_TAINT, True),
        (GPU_TOLERATION, {**GPU_TAINT, "value": "false"}, False),
        (GPU_TOLERATION, {**GPU_TAINT, "effect": "NoExecute"}, False),
        ({"key": "nvidia.com/gpu", "operator": "Exists"}, {**GPU_TAINT, "effect": "NoExecute"}, True),
        ({"operator": "Exists"}, {"key": "any", "effect": "NoSchedule"}, True),
    ],
)
def test_toleration_matching(toleration, taint, expected):
    assert device_plugin.tolerates([toleration], taint) is expected


def test_daemonset_and_account_pass_strict_schema_validation():
    files = manifest_files([r.to_json() for r in build(NvidiaDevicePluginArgs(environment="prod"))])
    manifests = [yaml.safe_load(text) for text in files.values()]
    assert sorted(m["kind"] for m in manifests) == ["DaemonSet", "ServiceAccount"]
    for manifest in manifests:
        kubernetes_validate.validate(manifest, KUBERNETES_VERSION, strict=True)
        assert manifest["metadata"] == {
            "name": "nvidia-device-plugin",
            "namespace": "kube-system",
            "labels": {
                "app.kubernetes.io/name": "nvidia-device-plugin",
                "app.kubernetes.io/part-of": "llm-serving",
                "component": "cluster",
                "llm-serving/environment": "prod",
            },
        }


def test_runs_as_its_own_account_without_a_token():
    resources = build(NvidiaDevicePluginArgs(environment="prod"))
    (account,) = by_type(resources, "kubernetes:core/v1:ServiceAccount")
    assert account.inputs["automountServiceAccountToken"] is False
    assert pod_spec(resources)["serviceAccountName"] == account.inputs["metadata"]["name"]


def test_image_is_pinned_to_an_exact_release():
    image = pod_spec(build(NvidiaDevicePluginArgs(environment="prod")))["containers"][0]["image"]
    repository, tag = image.rsplit(":", 1)
    assert repository == "nvcr.io/nvidia/k8s-device-plugin"
    assert EXACT_TAG.fullmatch(tag)


def test_pod_is_hardened():
    spec = pod_spec(build(NvidiaDevicePluginArgs(environment="prod")))
    (container,) = spec["containers"]
    context = container["securityContext"]
    assert context["allowPrivilegeEscalation"] is False
    assert context["privileged"] is False
    assert context["capabilities"] == {"drop": ["ALL"]}
    assert context["readOnlyRootFilesystem"] is False  # the NVIDIA runtime hooks write into it
    assert context["runAsUser"] == 0  # its socket goes into the root-owned kubelet directory
    assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert spec["automountServiceAccountToken"] is False
    assert spec["priorityClassName"] == "system-node-critical"
    assert spec["volumes"] == [
        {"name": "device-plugin", "hostPath": {"path": "/var/lib/kubelet/device-plugins", "type": "Directory"}}
    ]
    assert container["volumeMounts"] == [{"name": "device-plugin", "mountPath": "/var/lib/kubelet/device-plugins"}]
    assert set(container["resources"]) == {"requests", "limits"}
    assert "hostNetwork" not in spec and "hostPID" not in spec


def test_bad_environment_is_refused():
    with pytest.raises(ValueError, match="environment: must be a DNS label"):
        NvidiaDevicePluginArgs(environment="Prod")
