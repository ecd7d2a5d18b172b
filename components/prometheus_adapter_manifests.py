"""prometheus-adapter's objects as the pinned chart renders them: no Helm at plan or deploy time.

Follows github.com/prometheus-community/helm-charts, tag prometheus-adapter-5.3.0,
charts/prometheus-adapter/templates/*.yaml with values.yaml of that tag (app v0.12.0), for release
`prometheus-adapter` in namespace `monitoring` and the values `values()` returns (every key that
differs from the chart's defaults). Not rendered with these values: the external and resource
metrics APIServices and their roles (no external or resource rules), cert-manager objects and
the TLS Secret (tls.enable false: the adapter serves a self-signed certificate it generates in
/tmp/cert, and the chart registers the APIService with insecureSkipTLSVerify, as upstream does).

Left out on purpose: custom-metrics-cluster-role.yaml (`<name>-server-resources`: verbs and
resources `*` on custom.metrics.k8s.io) and custom-metrics-cluster-role-binding-hpa.yaml, which
binds it to the adapter's own account. The adapter serves that API and never calls it, and the
HPA controller reads it through Kubernetes' bootstrap role system:controller:horizontal-pod-autoscaler
(get, list on custom.metrics.k8s.io `*`: kubernetes/kubernetes
plugin/pkg/auth/authorizer/rbac/bootstrappolicy/controller_policy.go), so the grant only widened an
account that needs none of it.

Changes from the chart's defaults besides the stack's own settings: resource requests and limits
(the chart sets none), off GPU nodes and on the system nodes; the managed-by label says pulumi.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

import yaml

from components.upstream import off_gpu_affinity

CHART_VERSION = "5.3.0"
APP_VERSION = "v0.12.0"
NAME = "prometheus-adapter"  # release name = chart name: the chart's fullname is just this
IMAGE = f"registry.k8s.io/prometheus-adapter/prometheus-adapter:{APP_VERSION}"
LISTEN_PORT = 6443
RBAC = "rbac.authorization.k8s.io/v1"
RESOURCES = {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"cpu": "500m", "memory": "512Mi"}}
POD_SECURITY_CONTEXT = {"fsGroup": 10001}
SECURITY_CONTEXT = {
    "allowPrivilegeEscalation": False,
    "capabilities": {"drop": ["ALL"]},
    "readOnlyRootFilesystem": True,
    "runAsNonRoot": True,
    "runAsUser": 10001,
    "seccompProfile": {"type": "RuntimeDefault"},
}


def values(
    replicas: int,
    prometheus_path: str,
    proxy_port: int,
    custom_rules: Sequence[Mapping[str, Any]],
    extra_containers: Sequence[Mapping[str, Any]],
    node_selector: Mapping[str, str],
    labels: Mapping[str, str],
) -> dict[str, Any]:
    """The Helm values this rendering reproduces (everything else: the chart's defaults)."""
    return {
        "replicas": replicas,
        "prometheus": {"url": "http://127.0.0.1", "port": proxy_port, "path": prometheus_path},
        "serviceAccount": {"create": True, "name": NAME},
        "rules": {"default": False, "custom": [dict(r) for r in custom_rules], "external": [], "resource": {}},
        "extraContainers": [dict(c) for c in extra_containers],
        "podDisruptionBudget": {"enabled": True, "minAvailable": 1, "maxUnavailable": None},
        "resources": RESOURCES,
        "affinity": off_gpu_affinity(),
        "nodeSelector": dict(node_selector),
        "customLabels": dict(labels),
    }


def _labels(extra: Mapping[str, str]) -> dict[str, str]:
    return {
        "helm.sh/chart": f"prometheus-adapter-{CHART_VERSION}",
        "app.kubernetes.io/managed-by": "pulumi",
        "app.kubernetes.io/component": "metrics",
        "app.kubernetes.io/part-of": NAME,
        **_selector(),
        "app.kubernetes.io/version": APP_VERSION,
        **extra,
    }


def _selector() -> dict[str, str]:
    return {"app.kubernetes.io/name": NAME, "app.kubernetes.io/instance": NAME}


def config_text(custom_rules: Sequence[Mapping[str, Any]]) -> str:
    """configmap.yaml's config.yaml: only custom rules (rules.default false, no external/resource)."""
    return yaml.safe_dump({"rules": [dict(r) for r in custom_rules]}, sort_keys=True, default_flow_style=False)


def _meta(name: str, namespace: str | None, extra: Mapping[str, str]) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name, "labels": _labels(extra)}
    if namespace is not None:
        metadata["namespace"] = namespace
    return metadata


def _binding(
    kind: str, name: str, namespace: str | None, role_kind: str, role: str, account_ns: str, extra: Mapping[str, str]
) -> dict[str, Any]:
    return {
        "apiVersion": RBAC,
        "kind": kind,
        "metadata": _meta(name, namespace, extra),
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": role_kind, "name": role},
        "subjects": [{"kind": "ServiceAccount", "name": NAME, "namespace": account_ns}],
    }


def deployment(
    namespace: str,
    replicas: int,
    prometheus_url: Any,
    config: str,
    extra_containers: Sequence[Mapping[str, Any]],
    node_selector: Mapping[str, str],
    extra: Mapping[str, str],
) -> dict[str, Any]:
    """deployment.yaml; `prometheus_url` is url:port + path (may be an Output)."""
    labels = _labels(extra)
    adapter = {
        "name": NAME,
        "image": IMAGE,
        "imagePullPolicy": "IfNotPresent",
        "args": [
            "/adapter",
            f"--secure-port={LISTEN_PORT}",
            "--cert-dir=/tmp/cert",
            prometheus_url,
            "--metrics-relist-interval=1m",
            "--v=4",
            "--config=/etc/adapter/config.yaml",
        ],
        "ports": [{"containerPort": LISTEN_PORT, "name": "https"}],
        "livenessProbe": {
            "httpGet": {"path": "/healthz", "port": "https", "scheme": "HTTPS"},
            "initialDelaySeconds": 30,
            "timeoutSeconds": 5,
        },
        "readinessProbe": {
            "httpGet": {"path": "/healthz", "port": "https", "scheme": "HTTPS"},
            "initialDelaySeconds": 30,
            "timeoutSeconds": 5,
        },
        "resources": RESOURCES,
        "securityContext": SECURITY_CONTEXT,
        "volumeMounts": [
            {"mountPath": "/etc/adapter/", "name": "config", "readOnly": True},
            {"mountPath": "/tmp", "name": "tmp"},
        ],
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _meta(NAME, namespace, extra),
        "spec": {
            "replicas": replicas,
            "revisionHistoryLimit": 10,
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}},
            "selector": {"matchLabels": _selector()},
            "template": {
                "metadata": {
                    "labels": labels,
                    "name": NAME,
                    # The chart's checksum of its ConfigMap: new rules roll the pods.
                    "annotations": {"checksum/config": hashlib.sha256(config.encode()).hexdigest()},
                },
                "spec": {
                    # The adapter lists pods and namespaces and delegates authentication to the API.
                    "automountServiceAccountToken": True,
                    "serviceAccountName": NAME,
                    "containers": [adapter, *[dict(c) for c in extra_containers]],
                    "nodeSelector": dict(node_selector),
                    "affinity": off_gpu_affinity(),
                    "topologySpreadConstraints": [],
                    "securityContext": POD_SECURITY_CONTEXT,
                    "tolerations": [],
                    "volumes": [{"name": "config", "configMap": {"name": NAME}}, {"name": "tmp", "emptyDir": {}}],
                },
            },
        },
    }


def objects(namespace: str, config: str, extra: Mapping[str, str]) -> list[dict[str, Any]]:
    """Everything but the Deployment and the APIService, in the order `kubectl apply` needs them."""
    reader = f"{NAME}-resource-reader"
    return [
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            # No token for every pod of the account: the adapter's Deployment opts in on its pod spec.
            "automountServiceAccountToken": False,
            "metadata": _meta(NAME, namespace, extra),
        },
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": _meta(NAME, namespace, extra),
            "data": {"config.yaml": config},
        },
        {
            "apiVersion": RBAC,
            "kind": "ClusterRole",
            "metadata": _meta(reader, None, extra),
            "rules": [
                {
                    "apiGroups": [""],
                    "resources": ["namespaces", "pods", "services", "configmaps"],
                    "verbs": ["get", "list", "watch"],
                }
            ],
        },
        _binding("ClusterRoleBinding", reader, None, "ClusterRole", reader, namespace, extra),
        _binding(
            "ClusterRoleBinding",
            f"{NAME}-system-auth-delegator",
            None,
            "ClusterRole",
            "system:auth-delegator",
            namespace,
            extra,
        ),
        _binding(
            "RoleBinding",
            f"{NAME}-auth-reader",
            "kube-system",
            "Role",
            "extension-apiserver-authentication-reader",
            namespace,
            extra,
        ),
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": _meta(NAME, namespace, extra),
            "spec": {
                "ports": [{"port": 443, "name": "https", "protocol": "TCP", "targetPort": "https"}],
                "selector": _selector(),
                "type": "ClusterIP",
            },
        },
        {
            "apiVersion": "policy/v1",
            "kind": "PodDisruptionBudget",
            "metadata": _meta(NAME, namespace, extra),
            "spec": {"minAvailable": 1, "selector": {"matchLabels": _selector()}},
        },
    ]


def api_service(namespace: str, extra: Mapping[str, str]) -> dict[str, Any]:
    """custom-metrics-apiservice.yaml without tls.enable: the adapter's self-signed serving cert."""
    return {
        "apiVersion": "apiregistration.k8s.io/v1",
        "kind": "APIService",
        "metadata": _meta("v1beta1.custom.metrics.k8s.io", None, extra),
        "spec": {
            "service": {"name": NAME, "namespace": namespace},
            "group": "custom.metrics.k8s.io",
            "version": "v1beta1",
            "insecureSkipTLSVerify": True,
            "groupPriorityMinimum": 100,
            "versionPriority": 100,
        },
    }
