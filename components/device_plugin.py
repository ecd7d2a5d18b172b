"""The NVIDIA device plugin on one cluster: advertises `nvidia.com/gpu` on GPU nodes.

The AL2023 NVIDIA AMI ships the driver and makes the NVIDIA container runtime containerd's
default, but no node has allocatable GPUs until this DaemonSet registers with the kubelet. It runs
only on GPU nodes (node affinity on `GPU_LABEL`) and tolerates their taint. `covers` checks, at
construction, that it tolerates and selects every GPU node group handed in: a node group with a new
taint or without the label would otherwise never get GPUs, and no model server would schedule.

Hardening: the plugin needs no Kubernetes API (a ServiceAccount of its own, no token) and no
capability, only the kubelet's device-plugin directory (a hostPath, allowed to this DaemonSet by
name in components/platform_workloads.py) where it creates its socket. That directory is root-owned (0750), so the
container runs as uid 0, but with every capability dropped, no privilege escalation and the
runtime's seccomp profile. Its root filesystem stays writable for the NVIDIA runtime's hooks.
Both (uid 0, writable root) are exceptions to kubernetes-container-restricted-security-context.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi

from components.arg_checks import check_environment
from components.conventions import GPU_LABEL, GPU_TOLERATION
from components.kube import KubernetesObject
from components.platform_workloads import DEVICE_PLUGIN_DIR, DEVICE_PLUGIN_NAME, DEVICE_PLUGIN_NAMESPACE

# https://github.com/NVIDIA/k8s-device-plugin releases; v0.17.4 is the device plugin of GPU Operator v25.3.x.
IMAGE = "nvcr.io/nvidia/k8s-device-plugin:v0.17.4"
NAME = DEVICE_PLUGIN_NAME
NAMESPACE = DEVICE_PLUGIN_NAMESPACE
PRIORITY_CLASS = "system-node-critical"


@dataclass(frozen=True)
class GpuNodes:
    """What the plugin must reach on one GPU node group: its node labels and taints."""

    labels: Mapping[str, str]
    taints: tuple[Mapping[str, str], ...]


def tolerations() -> list[dict[str, str]]:
    return [dict(GPU_TOLERATION)]


def node_affinity() -> dict[str, Any]:
    """GPU nodes only: those carrying the GPU label, whatever the GPU."""
    return {
        "requiredDuringSchedulingIgnoredDuringExecution": {
            "nodeSelectorTerms": [{"matchExpressions": [{"key": GPU_LABEL, "operator": "Exists"}]}]
        }
    }


def tolerates(pod_tolerations: Sequence[Mapping[str, str]], taint: Mapping[str, str]) -> bool:
    """Kubernetes' toleration matching (key, operator Equal/Exists, value, effect)."""
    for toleration in pod_tolerations:
        key, effect = toleration.get("key"), toleration.get("effect")
        if key and key != taint["key"]:
            continue
        if effect and effect != taint["effect"]:
            continue
        if toleration.get("operator", "Equal") == "Exists" or toleration.get("value") == taint.get("value"):
            return True
    return False


def selects(affinity: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    """Whether required node affinity admits a node with `labels` (In, NotIn, Exists, DoesNotExist)."""
    terms = affinity["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]

    def matches(expression: Mapping[str, Any]) -> bool:
        key, operator, values = expression["key"], expression["operator"], expression.get("values") or []
        if operator == "Exists":
            return key in labels
        if operator == "DoesNotExist":
            return key not in labels
        if operator == "In":
            return labels.get(key) in values
        if operator == "NotIn":
            return labels.get(key) not in values
        raise ValueError(f"unsupported node selector operator {operator!r}")

    return any(all(matches(e) for e in term.get("matchExpressions") or []) for term in terms)


def covers(group: GpuNodes) -> list[str]:
    """Problems that keep the plugin off a node group (empty: it runs there)."""
    problems = []
    if not selects(node_affinity(), group.labels):
        problems.append(f"node affinity does not select labels {dict(group.labels)}")
    for taint in group.taints:
        if not tolerates(tolerations(), taint):
            problems.append(f"does not tolerate taint {taint['key']}={taint.get('value', '')}:{taint['effect']}")
    return problems


def _labels(environment: str) -> dict[str, str]:
    return {
        "app.kubernetes.io/name": NAME,
        "app.kubernetes.io/part-of": "llm-serving",
        "component": "cluster",
        "llm-serving/environment": environment,
    }


def service_account(environment: str) -> dict[str, Any]:
    """The plugin's own ServiceAccount: no token (it never calls the Kubernetes API)."""
    return {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": {"name": NAME, "namespace": NAMESPACE, "labels": _labels(environment)},
        "automountServiceAccountToken": False,
    }


def daemonset(environment: str, image: str = IMAGE) -> dict[str, Any]:
    """The DaemonSet object (apiVersion, kind, metadata, spec)."""
    labels = _labels(environment)
    return {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": NAME, "namespace": NAMESPACE, "labels": labels},
        "spec": {
            "selector": {"matchLabels": {"app.kubernetes.io/name": NAME}},
            "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1}},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "serviceAccountName": NAME,
                    "automountServiceAccountToken": False,
                    "priorityClassName": PRIORITY_CLASS,
                    "affinity": {"nodeAffinity": node_affinity()},
                    "tolerations": tolerations(),
                    "securityContext": {"seccompProfile": {"type": "RuntimeDefault"}},
                    "containers": [
                        {
                            "name": NAME,
                            "image": image,
                            "args": ["--fail-on-init-error=true", "--mig-strategy=none"],
                            "resources": {
                                "requests": {"cpu": "50m", "memory": "64Mi"},
                                "limits": {"cpu": "500m", "memory": "256Mi"},
                            },
                            # Root only to create its socket in the root-owned kubelet directory; no capability.
                            # The root filesystem stays writable: the NVIDIA runtime's hooks (ldcache update,
                            # CDI hooks) write into it when the NVML libraries are injected, and fail on a
                            # read-only one (kserve/kserve#5711).
                            "securityContext": {
                                "runAsUser": 0,
                                "runAsNonRoot": False,
                                "privileged": False,
                                "allowPrivilegeEscalation": False,
                                "readOnlyRootFilesystem": False,
                                "capabilities": {"drop": ["ALL"]},
                            },
                            "volumeMounts": [{"name": "device-plugin", "mountPath": DEVICE_PLUGIN_DIR}],
                        }
                    ],
                    "volumes": [
                        {"name": "device-plugin", "hostPath": {"path": DEVICE_PLUGIN_DIR, "type": "Directory"}}
                    ],
                },
            },
        },
    }


@dataclass(frozen=True)
class NvidiaDevicePluginArgs:
    environment: str
    """Environment (labels only: the plugin lives in kube-system on every cluster)."""
    gpu_nodes: tuple[GpuNodes, ...] = ()
    """Every GPU node group of the cluster (GpuNodeGroup.labels and .taint); the plugin must reach each."""
    image: str = IMAGE
    """Pinned device plugin image (e.g. a mirror of the same release in a private registry)."""

    def __post_init__(self) -> None:
        check_environment(self.environment)
        object.__setattr__(self, "gpu_nodes", tuple(self.gpu_nodes))
        for index, group in enumerate(self.gpu_nodes):
            problems = covers(group)
            if problems:
                raise ValueError(f"gpu_nodes[{index}]: the device plugin would not run there: {'; '.join(problems)}")


class NvidiaDevicePlugin(pulumi.ComponentResource):
    """The device plugin DaemonSet; the Kubernetes provider comes from `opts`."""

    def __init__(self, name: str, args: NvidiaDevicePluginArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("llm-serving:cluster:NvidiaDevicePlugin", name, None, opts)
        account = KubernetesObject(
            f"{name}-sa", service_account(args.environment), opts=pulumi.ResourceOptions(parent=self)
        )
        body = daemonset(args.environment, args.image)
        KubernetesObject(f"{name}-daemonset", body, opts=pulumi.ResourceOptions(parent=self, depends_on=[account]))
        self.name = NAME
        self.namespace = NAMESPACE
        self.image = args.image
        self.register_outputs({"name": self.name, "namespace": self.namespace, "image": self.image})
