"""Collects scaling signals on one cluster into the region's AMP workspace.

An in-cluster Prometheus in agent mode (two replicas, deduplicated by AMP through the `cluster`
and `__replica__` external labels) scrapes every model server on the container port its pod names
in the `llm-serving/metrics-port` annotation (TGI: its `metrics` port; vLLM: its `http` port, which
also serves /metrics), and the NVIDIA DCGM exporter's `metrics` port on GPU nodes, and
remote-writes with SigV4 under a Pod Identity role that may only `aps:RemoteWrite` to that one
workspace. The agent may only list pods in the namespaces it scrapes (Roles, not a ClusterRole).

On an on-prem target the same collector runs as a Prometheus server instead (`serve_queries`): it
keeps six hours of samples, so KEDA and prometheus-adapter there read their signals in-cluster and
scaling keeps working while the private path is down. It remote-writes to the primary region's
workspace through AMP's interface endpoint, signing with the target's Roles Anywhere metrics role,
which AWS's credential helper serves on localhost (IMDSv2-compatible, `aws_signing_helper serve`).

Why an agent and not the AMP managed scraper: it writes to a workspace encrypted with our own
KMS key without depending on managed-collector support for it, needs no EKS access entry or
scraper ENIs in the node subnets, and is plain Kubernetes objects a reviewer sees in the plan.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

import pulumi
import yaml

from components import conventions, keda_manifests, prometheus_adapter_manifests
from components.arg_checks import check_environment, check_region
from components.depends import inherited_depends_on
from components.kube import KubernetesObject
from components.platform_workloads import METRICS_AGENT_NAME, POD_RESOURCES_DIR
from components.pod_admission_guard import pod_admission_guard
from components.pod_identity import PodIdentityRole, PodIdentityRoleArgs
from components.signing_helper import HelperSession

# Prometheus 3.5 is the long-term-support line; agent mode and env expansion in external labels are built in.
PROMETHEUS_IMAGE = "quay.io/prometheus/prometheus:v3.5.0"
DCGM_EXPORTER_IMAGE = "nvcr.io/nvidia/k8s/dcgm-exporter:4.5.3-4.8.2-distroless"
AGENT_NAME = METRICS_AGENT_NAME
SCRAPE_INTERVAL_SECONDS = 15
SIGNING_HELPER_PORT = 9911  # aws_signing_helper serve's default port
QUERY_PORT = 9090
LOCAL_RETENTION = "6h"  # on-prem: what the scalers read; AMP keeps the history


def _pods(namespace: str, name: str) -> dict[str, Any]:
    return {
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": namespace}},
        "podSelector": {"matchLabels": {"app.kubernetes.io/name": name}},
    }


# Who may query an on-prem collector: KEDA's operator and prometheus-adapter, nothing else.
QUERY_CLIENTS = (
    _pods(conventions.KEDA_NAMESPACE, keda_manifests.OPERATOR),
    _pods(conventions.MONITORING_NAMESPACE, prometheus_adapter_manifests.NAME),
)


def _label_meta(label: str) -> str:
    """Prometheus' service-discovery name of a pod label (non-alphanumerics become '_')."""
    return "__meta_kubernetes_pod_label_" + re.sub(r"[^A-Za-z0-9_]", "_", label)


def _annotation_meta(annotation: str) -> str:
    """Prometheus' service-discovery name of a pod annotation."""
    return "__meta_kubernetes_pod_annotation_" + re.sub(r"[^A-Za-z0-9_]", "_", annotation)


def scrape_config(
    cluster_name: str, serving_namespace: str, remote_write_url: str | None, region: str
) -> dict[str, Any]:
    """The collector's prometheus.yml: model servers and DCGM exporters, remote-written to AMP
    (`remote_write_url`; None keeps the samples in the cluster)."""
    # Pod discovery yields one target per declared container port (and one per portless container).
    port_name = "__meta_kubernetes_pod_container_port_name"
    metrics_port = _annotation_meta(conventions.METRICS_PORT_ANNOTATION)

    def common_relabel() -> list[dict[str, Any]]:
        # New dicts per job: shared ones would be written as YAML anchors (&id001) and aliases.
        return [
            {"source_labels": ["__meta_kubernetes_namespace"], "target_label": "namespace"},
            {"source_labels": ["__meta_kubernetes_pod_name"], "target_label": "pod"},
            {"source_labels": ["__meta_kubernetes_pod_node_name"], "target_label": "node"},
        ]  # fmt: skip

    config: dict[str, Any] = {
        "global": {
            "scrape_interval": f"{SCRAPE_INTERVAL_SECONDS}s",
            "scrape_timeout": "10s",
            # AMP keeps one of the two agents' series: the pair (cluster, __replica__) marks HA replicas.
            "external_labels": {"cluster": cluster_name, "__replica__": "${POD_NAME}"},
        },
        "scrape_configs": [
            {
                "job_name": "model-servers",
                "kubernetes_sd_configs": [{"role": "pod", "namespaces": {"names": [serving_namespace]}}],
                "metrics_path": "/metrics",
                "relabel_configs": [
                    {
                        "source_labels": [_label_meta(conventions.COMPONENT_LABEL)],
                        "regex": conventions.MODEL_SERVER_COMPONENT,
                        "action": "keep",
                    },
                    # Exactly the port the pod names: without the annotation nothing is scraped, and
                    # an empty value would otherwise equal a portless container's empty port name.
                    {"source_labels": [metrics_port], "regex": ".+", "action": "keep"},
                    {"source_labels": [port_name], "target_label": metrics_port, "action": "keepequal"},
                    *common_relabel(),
                    {"source_labels": [_label_meta(conventions.MODEL_LABEL)], "target_label": "model"},
                ],
            },
            {
                "job_name": "dcgm-exporter",
                "kubernetes_sd_configs": [{"role": "pod", "namespaces": {"names": [conventions.DCGM_NAMESPACE]}}],
                "relabel_configs": [
                    {
                        "source_labels": [_label_meta("app.kubernetes.io/name")],
                        "regex": conventions.DCGM_EXPORTER_NAME,
                        "action": "keep",
                    },
                    {"source_labels": [port_name], "regex": conventions.METRICS_PORT_NAME, "action": "keep"},
                    *common_relabel(),
                ],
            },
        ],
    }
    if remote_write_url is not None:
        config["remote_write"] = [
            {
                "url": remote_write_url,
                "sigv4": {"region": region},
                "queue_config": {"capacity": 2500, "max_samples_per_send": 1000, "max_shards": 20},
            }
        ]
    return config


def remote_write_policy(workspace_arn: str) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "RemoteWriteToTheRegionsWorkspace", "Effect": "Allow", "Action": "aps:RemoteWrite",
             "Resource": workspace_arn}
        ],
    }  # fmt: skip


@dataclass(frozen=True)
class PodIdentitySigning:
    """EKS: the agent signs as a Pod Identity role that may only remote-write to the workspace."""

    cluster_arn: pulumi.Input[str]
    """The role trusts only this cluster."""
    workspace_arn: pulumi.Input[str]


CREDENTIALS_ENDPOINT = f"http://127.0.0.1:{SIGNING_HELPER_PORT}/"
METRICS_CERTIFICATE_DIR = "/metrics-client-cert"


@dataclass(frozen=True)
class RolesAnywhereSigning:
    """On-prem: AWS's credential helper serves the target's metrics role on localhost."""

    helper_image: str
    certificate_secret: str
    """kubernetes.io/tls Secret: the collector's certificate, CN `llm-metrics-<target>`."""
    session: HelperSession

    def sidecar(self, region: str, security_context: dict[str, Any]) -> dict[str, Any]:
        """The helper's container: `serve` binds 127.0.0.1 only, so no other pod can borrow the role."""
        args = self.session.flags(METRICS_CERTIFICATE_DIR).apply(
            lambda flags: ["serve", *flags, "--region", region, "--port", str(SIGNING_HELPER_PORT)]
        )
        return {
            "name": "credential-helper",
            "image": self.helper_image,
            "command": ["/aws_signing_helper"],
            "args": args,
            "resources": {"requests": {"cpu": "50m", "memory": "32Mi"}, "limits": {"cpu": "200m", "memory": "64Mi"}},
            "securityContext": security_context,
            "volumeMounts": [{"name": "metrics-client-cert", "mountPath": METRICS_CERTIFICATE_DIR, "readOnly": True}],
        }

    def volume(self) -> dict[str, Any]:
        # Group-readable: the pod's fsGroup owns the files, nobody else reads the key.
        return {"name": "metrics-client-cert", "secret": {"secretName": self.certificate_secret, "defaultMode": 0o440}}


@dataclass(frozen=True)
class MetricsCollectorArgs:
    environment: str
    """Environment; the model servers it scrapes run in `serving_namespace(environment)`."""
    region: str
    """Region of the workspace (SigV4 signing region)."""
    cluster_name: pulumi.Input[str]
    """The `cluster` label on every series (the EKS cluster's name, or the on-prem target's)."""
    remote_write_url: pulumi.Input[str] | None
    """Where samples go; None keeps them in the cluster (with `serve_queries`)."""
    signing: PodIdentitySigning | RolesAnywhereSigning | None
    """How remote writes are signed; None only without `remote_write_url`."""
    serve_queries: bool = False
    """A Prometheus server with a local TSDB and a Service (on-prem scalers read it), not an agent."""
    replicas: int = 2
    """Agent replicas; AMP deduplicates their series, so one can be drained without a gap."""

    def __post_init__(self) -> None:
        check_environment(self.environment)
        check_region(self.region)
        if isinstance(self.replicas, bool) or not isinstance(self.replicas, int) or not 1 <= self.replicas <= 3:
            raise ValueError(f"replicas: must be 1, 2 or 3 (got {self.replicas!r})")
        if (self.remote_write_url is None) != (self.signing is None):
            raise ValueError("signing: required with remote_write_url, and only with it")
        if self.remote_write_url is None and not self.serve_queries:
            raise ValueError("remote_write_url: an agent that neither writes nor serves queries collects nothing")
        if isinstance(self.signing, PodIdentitySigning) and self.serve_queries:
            raise ValueError("serve_queries: EKS clusters read the region's workspace; only on-prem serves queries")


def _labels(name: str) -> dict[str, str]:
    return {"app.kubernetes.io/name": name, "app.kubernetes.io/part-of": "llm-serving", "component": "metrics"}


class MetricsCollector(pulumi.ComponentResource):
    """Prometheus agent + DCGM exporter on one cluster; needs a Kubernetes provider in `opts`."""

    def __init__(self, name: str, args: MetricsCollectorArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("llm-serving:observability:MetricsCollector", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        serving = conventions.serving_namespace(args.environment)
        monitoring = conventions.MONITORING_NAMESPACE

        # EKS: a Pod Identity role; on-prem: the Roles Anywhere helper beside Prometheus.
        identity: list[pulumi.Resource] = []
        signing = args.signing
        if isinstance(signing, PodIdentitySigning):
            role = PodIdentityRole(
                f"{name}-agent-identity",
                PodIdentityRoleArgs(
                    cluster_name=args.cluster_name,
                    cluster_arn=signing.cluster_arn,
                    namespace=monitoring,
                    service_account=AGENT_NAME,
                    policy=pulumi.Output.from_input(signing.workspace_arn).apply(
                        lambda arn: json.dumps(remote_write_policy(arn))
                    ),
                    component="metrics",
                ),
                opts=child,
            )
            identity.append(role)
            self.agent_role_arn: pulumi.Output[str] | None = role.role_arn
        else:
            self.agent_role_arn = None

        namespace = KubernetesObject(
            f"{name}-monitoring-ns",
            {
                "apiVersion": "v1",
                "kind": "Namespace",
                "metadata": {
                    "name": monitoring,
                    "labels": {**_labels(monitoring), "pod-security.kubernetes.io/enforce": "restricted"},
                },
            },
            opts=child,
        )
        # Pod Security cannot hold this namespace at baseline (the exporter mounts a kubelet
        # directory); its admission guard admits that one hostPath and nothing else baseline forbids.
        dcgm_guard = pod_admission_guard(
            f"{name}-dcgm", conventions.DCGM_NAMESPACE, child, exact_host_paths=(POD_RESOURCES_DIR,)
        )
        dcgm_namespace = KubernetesObject(
            f"{name}-dcgm-ns",
            {
                "apiVersion": "v1",
                "kind": "Namespace",
                "metadata": {
                    "name": conventions.DCGM_NAMESPACE,
                    # Host access for GPU telemetry; nothing else runs here.
                    "labels": {
                        **_labels(conventions.DCGM_NAMESPACE),
                        "pod-security.kubernetes.io/enforce": "privileged",
                        "pod-security.kubernetes.io/warn": "baseline",
                    },
                },
            },
            opts=pulumi.ResourceOptions(parent=self, depends_on=dcgm_guard),
        )
        in_monitoring = pulumi.ResourceOptions(parent=self, depends_on=[namespace])

        account = KubernetesObject(
            f"{name}-agent-sa",
            {
                "apiVersion": "v1",
                "kind": "ServiceAccount",
                "metadata": {"name": AGENT_NAME, "namespace": monitoring, "labels": _labels(AGENT_NAME)},
                # The agent's pods opt in to a token (they list pods); nothing else using the account gets one.
                "automountServiceAccountToken": False,
            },
            opts=in_monitoring,
        )
        # Pod discovery in the two namespaces it scrapes, nothing cluster-wide.
        for suffix, target_namespace, deps in (
            ("serving", serving, inherited_depends_on(opts)),
            ("dcgm", conventions.DCGM_NAMESPACE, [dcgm_namespace]),
        ):
            agent_meta = {"name": AGENT_NAME, "namespace": target_namespace, "labels": _labels(AGENT_NAME)}
            role = KubernetesObject(
                f"{name}-agent-{suffix}-role",
                {
                    "apiVersion": "rbac.authorization.k8s.io/v1",
                    "kind": "Role",
                    "metadata": agent_meta,
                    "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch"]}],
                },
                opts=pulumi.ResourceOptions(parent=self, depends_on=deps),
            )
            KubernetesObject(
                f"{name}-agent-{suffix}-binding",
                {
                    "apiVersion": "rbac.authorization.k8s.io/v1",
                    "kind": "RoleBinding",
                    "metadata": agent_meta,
                    "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": AGENT_NAME},
                    "subjects": [{"kind": "ServiceAccount", "name": AGENT_NAME, "namespace": monitoring}],
                },
                opts=pulumi.ResourceOptions(parent=self, depends_on=[role, account]),
            )

        remote_write_url = pulumi.Output.from_input(args.remote_write_url) if args.remote_write_url else None
        config_text = pulumi.Output.all(args.cluster_name, remote_write_url).apply(
            lambda values: yaml.safe_dump(scrape_config(values[0], serving, values[1], args.region), sort_keys=False)
        )
        config = KubernetesObject(
            f"{name}-agent-config",
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": AGENT_NAME, "namespace": monitoring, "labels": _labels(AGENT_NAME)},
                "data": {"prometheus.yml": config_text},
            },
            opts=in_monitoring,
        )
        restricted = {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "runAsNonRoot": True,
            "capabilities": {"drop": ["ALL"]},
        }
        if args.serve_queries:
            mode, storage_args = (
                [],
                [
                    "--storage.tsdb.path=/prometheus",
                    f"--storage.tsdb.retention.time={LOCAL_RETENTION}",
                ],
            )
            resources = {"requests": {"cpu": "500m", "memory": "1Gi"}, "limits": {"cpu": "2", "memory": "2Gi"}}
            storage = "4Gi"
        else:
            mode, storage_args = ["--agent"], ["--storage.agent.path=/prometheus"]
            resources = {"requests": {"cpu": "250m", "memory": "512Mi"}, "limits": {"cpu": "1", "memory": "1Gi"}}
            storage = "2Gi"
        env: list[dict[str, Any]] = [{"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}]
        sidecars: list[dict[str, Any]] = []
        volumes: list[dict[str, Any]] = [
            {"name": "config", "configMap": {"name": AGENT_NAME}},
            {"name": "wal", "emptyDir": {"sizeLimit": storage}},
        ]
        if isinstance(signing, RolesAnywhereSigning):
            # SigV4 finds the helper as if it were the instance metadata service.
            env.append({"name": "AWS_EC2_METADATA_SERVICE_ENDPOINT", "value": CREDENTIALS_ENDPOINT})
            sidecars.append(signing.sidecar(args.region, restricted))
            volumes.append(signing.volume())
        KubernetesObject(
            f"{name}-agent",
            {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": {"name": AGENT_NAME, "namespace": monitoring, "labels": _labels(AGENT_NAME)},
                "spec": {
                    "replicas": args.replicas,
                    "selector": {"matchLabels": {"app.kubernetes.io/name": AGENT_NAME}},
                    "template": {
                        "metadata": {
                            "labels": _labels(AGENT_NAME),
                            # A config change rolls the agents.
                            "annotations": {
                                "llm-serving/config-sha256": config_text.apply(
                                    lambda text: hashlib.sha256(text.encode()).hexdigest()
                                )
                            },
                        },
                        "spec": {
                            "serviceAccountName": AGENT_NAME,
                            # Pod discovery calls the Kubernetes API (platform_workloads.API_CLIENTS).
                            "automountServiceAccountToken": True,
                            "securityContext": {
                                "runAsUser": 65534,
                                "runAsGroup": 65534,
                                "fsGroup": 65534,
                                "seccompProfile": {"type": "RuntimeDefault"},
                            },
                            "topologySpreadConstraints": [
                                {
                                    "maxSkew": 1,
                                    "topologyKey": "topology.kubernetes.io/zone",
                                    "whenUnsatisfiable": "ScheduleAnyway",
                                    "labelSelector": {"matchLabels": {"app.kubernetes.io/name": AGENT_NAME}},
                                }
                            ],
                            "containers": [
                                {
                                    "name": "prometheus",
                                    "image": PROMETHEUS_IMAGE,
                                    "args": [
                                        *mode,
                                        "--config.file=/etc/prometheus/prometheus.yml",
                                        *storage_args,
                                        f"--web.listen-address=:{QUERY_PORT}",
                                    ],
                                    "env": env,
                                    "ports": [{"name": "http", "containerPort": QUERY_PORT}],
                                    "readinessProbe": {
                                        "httpGet": {"path": "/-/ready", "port": "http"},
                                        "periodSeconds": 10,
                                    },
                                    "livenessProbe": {
                                        "httpGet": {"path": "/-/healthy", "port": "http"},
                                        "periodSeconds": 30,
                                    },
                                    "resources": resources,
                                    "securityContext": restricted,
                                    "volumeMounts": [
                                        {"name": "config", "mountPath": "/etc/prometheus", "readOnly": True},
                                        {"name": "wal", "mountPath": "/prometheus"},
                                    ],
                                },
                                *sidecars,
                            ],
                            "volumes": volumes,
                        },
                    },
                },
            },
            opts=pulumi.ResourceOptions(parent=self, depends_on=[config, account, *identity]),
        )
        self.query_url: str | None = None
        if args.serve_queries:
            self.query_url = self._query_service(name, in_monitoring)

        dcgm = conventions.DCGM_EXPORTER_NAME
        dcgm_account = KubernetesObject(
            f"{name}-dcgm-exporter-sa",
            {
                "apiVersion": "v1",
                "kind": "ServiceAccount",
                "metadata": {"name": dcgm, "namespace": conventions.DCGM_NAMESPACE, "labels": _labels(dcgm)},
                "automountServiceAccountToken": False,
            },
            opts=pulumi.ResourceOptions(parent=self, depends_on=[dcgm_namespace]),
        )
        KubernetesObject(
            f"{name}-dcgm-exporter",
            {
                "apiVersion": "apps/v1",
                "kind": "DaemonSet",
                "metadata": {"name": dcgm, "namespace": conventions.DCGM_NAMESPACE, "labels": _labels(dcgm)},
                "spec": {
                    "selector": {"matchLabels": {"app.kubernetes.io/name": dcgm}},
                    "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1}},
                    "template": {
                        "metadata": {"labels": _labels(dcgm)},
                        "spec": {
                            # An account of its own, without a token: the exporter never calls the API.
                            "serviceAccountName": dcgm,
                            "automountServiceAccountToken": False,
                            "priorityClassName": "system-node-critical",
                            "affinity": {
                                "nodeAffinity": {
                                    "requiredDuringSchedulingIgnoredDuringExecution": {
                                        "nodeSelectorTerms": [
                                            {"matchExpressions": [{"key": conventions.GPU_LABEL, "operator": "Exists"}]}
                                        ]
                                    }
                                }
                            },
                            "tolerations": [conventions.GPU_TOLERATION],
                            "containers": [
                                {
                                    "name": "exporter",
                                    "image": DCGM_EXPORTER_IMAGE,
                                    "env": [
                                        {"name": "DCGM_EXPORTER_KUBERNETES", "value": "true"},
                                        {"name": "DCGM_EXPORTER_LISTEN", "value": f":{conventions.DCGM_METRICS_PORT}"},
                                        {"name": "NVIDIA_VISIBLE_DEVICES", "value": "all"},
                                    ],
                                    "ports": [
                                        {
                                            "name": conventions.METRICS_PORT_NAME,
                                            "containerPort": conventions.DCGM_METRICS_PORT,
                                        }
                                    ],
                                    "readinessProbe": {
                                        "httpGet": {"path": "/health", "port": conventions.DCGM_METRICS_PORT},
                                        "initialDelaySeconds": 45,
                                    },
                                    "resources": {
                                        "requests": {"cpu": "100m", "memory": "256Mi"},
                                        "limits": {"cpu": "500m", "memory": "512Mi"},
                                    },
                                    # Root for the root-only pod-resources socket (a named exemption in
                                    # `policy.root_node_agents`); no SYS_ADMIN: the profiling (DCP) counters
                                    # it would unlock are not worth a capability that broad.
                                    "securityContext": {
                                        "runAsUser": 0,
                                        "runAsNonRoot": False,
                                        "privileged": False,
                                        "allowPrivilegeEscalation": False,
                                        "capabilities": {"drop": ["ALL"]},
                                        "seccompProfile": {"type": "RuntimeDefault"},
                                    },
                                    "volumeMounts": [
                                        {
                                            "name": "pod-resources",
                                            "mountPath": POD_RESOURCES_DIR,
                                            "readOnly": True,
                                        }
                                    ],  # fmt: skip
                                }
                            ],
                            # Maps GPUs to the pods using them (per-model GPU metrics).
                            "volumes": [
                                {
                                    "name": "pod-resources",
                                    "hostPath": {"path": POD_RESOURCES_DIR, "type": "Directory"},
                                }
                            ],  # fmt: skip
                        },
                    },
                },
            },
            opts=pulumi.ResourceOptions(parent=self, depends_on=[dcgm_namespace, dcgm_account]),
        )
        self.register_outputs({"agent_role_arn": self.agent_role_arn, "query_url": self.query_url})

    def _query_service(self, name: str, opts: pulumi.ResourceOptions) -> str:
        """A Service for the in-cluster scalers, and a NetworkPolicy that admits only them to it."""
        monitoring = conventions.MONITORING_NAMESPACE
        KubernetesObject(
            f"{name}-query-service",
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {"name": AGENT_NAME, "namespace": monitoring, "labels": _labels(AGENT_NAME)},
                "spec": {
                    "type": "ClusterIP",
                    "selector": {"app.kubernetes.io/name": AGENT_NAME},
                    "ports": [{"name": "http", "port": QUERY_PORT, "targetPort": "http", "protocol": "TCP"}],
                },
            },
            opts=opts,
        )
        KubernetesObject(
            f"{name}-query-policy",
            {
                "apiVersion": "networking.k8s.io/v1",
                "kind": "NetworkPolicy",
                "metadata": {"name": AGENT_NAME, "namespace": monitoring, "labels": _labels(AGENT_NAME)},
                "spec": {
                    "podSelector": {"matchLabels": {"app.kubernetes.io/name": AGENT_NAME}},
                    "policyTypes": ["Ingress"],
                    "ingress": [{"from": list(QUERY_CLIENTS), "ports": [{"protocol": "TCP", "port": QUERY_PORT}]}],
                },
            },
            opts=opts,
        )
        return f"http://{AGENT_NAME}.{monitoring}.svc:{QUERY_PORT}"


def metrics_peers() -> tuple[dict[str, Any], ...]:
    """NetworkPolicy peers for a model server's metrics port: this agent's pods, in their namespace."""
    return (_pods(conventions.MONITORING_NAMESPACE, AGENT_NAME),)
