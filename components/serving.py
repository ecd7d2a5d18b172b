"""ModelServer: one model behind TGI (or vLLM) on any Kubernetes cluster, EKS or on-prem.

The Deployment's init container copies the model's revision from the weight bucket onto the
node's local disk (the hot tier) and verifies it against `SHA256SUMS`; the engine then loads it
from there. Nothing here assumes EKS: the cluster comes in as the Kubernetes provider (in
`opts`), node placement as a `Placement`, and bucket credentials as a pluggable
`WeightsCredentials` (EKS Pod Identity, or a Kubernetes Secret on-prem).

The model must fit its GPUs (`components.sizing`); the Deployment carries the sizing question as
annotations so the policy pack can re-check it.
"""

from __future__ import annotations

import math
import posixpath
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import pulumi

from components import catalog, engines, sizing
from components.conventions import (
    DATA_CLASSIFICATION_LABEL,
    GPU_RESOURCE,
    HTTP_PORT,
    HTTP_PORT_NAME,
    INGRESS_NETWORKS_ANNOTATION,
    METRICS_PORT,
    METRICS_PORT_ANNOTATION,
    METRICS_PORT_NAME,
    MODEL_SERVER_UID,
    NVME_MODELS_PATH,
    SIZING_ANNOTATION_PREFIX,
    data_classification,
    model_labels,
    model_server_name,
    weights_key,
)
from components.depends import inherited_depends_on
from components.kube import KubernetesObject
from components.named_networks import NamedNetwork, annotation_value
from components.signing_helper import HelperSession

CONTAINER_MODELS_PATH = "/models"
PRESTOP_SLEEP_SECONDS = 10  # endpoints and load balancers stop routing before SIGTERM arrives
PROBE_PERIOD_SECONDS = 10
SYNC_DEADLINE_SECONDS = 3600  # the rollout may wait this long for a cold node to sync weights
TMP_SIZE = "8Gi"  # HOME, Hugging Face and Triton caches of a read-only root filesystem

# Share of a GPU node's CPU and memory a model server may request per GPU it uses; the rest is
# kubelet, system reserve and daemonsets.
NODE_SHARE = 0.85
# On-prem nodes are not in the catalog: a conservative request per shard.
ONPREM_CPU_PER_SHARD = 4
ONPREM_MEMORY_GIB_PER_SHARD = 32


# --- weight credentials ------------------------------------------------------------------------


class WeightsCredentials(Protocol):
    """How the weight-sync init container gets AWS credentials that may read the bucket: its
    environment, and any init container, volumes and mounts the credentials need."""

    def env(self) -> list[dict[str, Any]]: ...

    def init_containers(self, security_context: Mapping[str, Any]) -> list[dict[str, Any]]: ...

    def volumes(self) -> list[dict[str, Any]]: ...

    def mounts(self) -> list[dict[str, Any]]: ...


class _EnvironmentOnly:
    """Credentials that need nothing in the pod but environment variables."""

    def init_containers(self, security_context: Mapping[str, Any]) -> list[dict[str, Any]]:
        return []

    def volumes(self) -> list[dict[str, Any]]:
        return []

    def mounts(self) -> list[dict[str, Any]]:
        return []


@dataclass(frozen=True)
class PodIdentityCredentials(_EnvironmentOnly):
    """EKS Pod Identity: the agent hands the ServiceAccount's pods the role's credentials; the
    association (`aws.eks.PodIdentityAssociation`) is made by the caller, so nothing is in the pod."""

    def env(self) -> list[dict[str, Any]]:
        return []


@dataclass(frozen=True)
class SecretCredentials(_EnvironmentOnly):
    """Static credentials from a Kubernetes Secret the cluster's operators create (on-prem)."""

    secret_name: str
    """Secret with keys AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and optionally AWS_SESSION_TOKEN."""

    def env(self) -> list[dict[str, Any]]:
        def ref(key: str, optional: bool = False) -> dict[str, Any]:
            selector = {"name": self.secret_name, "key": key, **({"optional": True} if optional else {})}
            return {"name": key, "valueFrom": {"secretKeyRef": selector}}

        return [
            ref("AWS_ACCESS_KEY_ID"),
            ref("AWS_SECRET_ACCESS_KEY"),
            ref("AWS_SESSION_TOKEN", optional=True),
            # No instance metadata on-prem: fail fast instead of probing 169.254.169.254.
            {"name": "AWS_EC2_METADATA_DISABLED", "value": "true"},
        ]


HELPER_DIR = "/credential-helper"
CERTIFICATE_DIR = "/weights-client-cert"


@dataclass(frozen=True)
class RolesAnywhereCredentials:
    """IAM Roles Anywhere: AWS's credential helper signs with the pod's certificate (a TLS Secret
    issued by the data centre's CA) and hands the AWS CLI short-lived credentials of the weights
    role through `credential_process`; no key is stored anywhere. An init container copies the
    helper from `helper_image` into an emptyDir the weight sync runs it from."""

    certificate_secret: str
    helper_image: str
    session: HelperSession

    def env(self) -> list[dict[str, Any]]:
        process = self.session.flags(CERTIFICATE_DIR).apply(
            lambda flags: " ".join([f"{HELPER_DIR}/aws_signing_helper", "credential-process", *flags])
        )
        return [
            # weight_sync_script writes it into the CLI's config file as the default profile's credential_process.
            {"name": "AWS_CREDENTIAL_PROCESS", "value": process},
            {"name": "AWS_EC2_METADATA_DISABLED", "value": "true"},
        ]

    def init_containers(self, security_context: Mapping[str, Any]) -> list[dict[str, Any]]:
        return [
            {
                "name": "credential-helper",
                "image": self.helper_image,
                "command": ["cp", "/aws_signing_helper", f"{HELPER_DIR}/aws_signing_helper"],
                "resources": {
                    "requests": {"cpu": "50m", "memory": "32Mi"},
                    "limits": {"cpu": "200m", "memory": "64Mi"},
                },
                "securityContext": dict(security_context),
                "volumeMounts": [{"name": "credential-helper", "mountPath": HELPER_DIR}],
            }
        ]

    def volumes(self) -> list[dict[str, Any]]:
        return [
            {"name": "credential-helper", "emptyDir": {"sizeLimit": "64Mi"}},
            # Group-readable: the pod's fsGroup owns the files, nobody else reads the key.
            {"name": "weights-client-cert", "secret": {"secretName": self.certificate_secret, "defaultMode": 0o440}},
        ]

    def mounts(self) -> list[dict[str, Any]]:
        return [
            {"name": "credential-helper", "mountPath": HELPER_DIR, "readOnly": True},
            {"name": "weights-client-cert", "mountPath": CERTIFICATE_DIR, "readOnly": True},
        ]


# --- args ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Placement:
    """Which nodes a model server runs on."""

    gpu: str
    """Catalog GPU key of those nodes (sizing and annotations)."""
    node_selector: Mapping[str, str]
    tolerations: tuple[Mapping[str, str], ...] = ()
    hybrid_target: str | None = None
    """The eks-hybrid-nodes target whose machines run it (None: the cluster's own nodes)."""


@dataclass(frozen=True)
class ServedModel:
    """A model as one cluster serves it: what runs, where, and how big."""

    model: engines.ModelSpec
    placement: Placement
    cpu: int
    """CPU cores requested (and the limit: Guaranteed QoS keeps the kubelet from evicting it first)."""
    memory_gib: int
    """Memory request and limit, including the memory-backed /dev/shm."""
    replicas: int = 1
    """Initial replicas; an autoscaler owns the count afterwards when `autoscaled`."""
    autoscaled: bool = False
    shm_size_gib: int = 16
    engine: str = "tgi"
    image: str | None = None
    """Defaults to the engine's pinned image."""
    extra_args: tuple[str, ...] = ()
    """Escape hatch: engine arguments appended verbatim."""
    sensitive: bool = False
    """Marks every object `llm-serving/data-classification: sensitive` (the pack keeps it on-prem)."""


@dataclass(frozen=True)
class WeightsSource:
    bucket: pulumi.Input[str]
    region: str
    """Region of the bucket (the CLI's S3 endpoint)."""
    credentials: WeightsCredentials
    host_path: str = NVME_MODELS_PATH
    """The node directory that caches weights (the hot tier), owned by MODEL_SERVER_UID."""
    endpoint_url: pulumi.Input[str] | None = None
    """Another S3 endpoint: the data centre's own store (sensitive models' weights), or the primary
    region's S3 interface endpoint over the private path."""


@dataclass(frozen=True)
class ModelServerArgs:
    environment: str
    served: ServedModel
    namespace: pulumi.Input[str]
    weights: WeightsSource
    gateway_peers: tuple[Mapping[str, Any], ...] = ()
    """NetworkPolicy peers allowed to reach the HTTP port (the gateway path). Empty: nobody."""
    caller_networks: tuple[NamedNetwork, ...] = ()
    """Data centre networks allowed to reach the HTTP port too, by name (the NetworkPolicy's
    `llm-serving/ingress-networks` annotation names them)."""
    metrics_peers: tuple[Mapping[str, Any], ...] = ()
    """NetworkPolicy peers allowed to scrape metrics (Prometheus, KEDA). Empty: nobody."""
    sync_image: str = engines.WEIGHT_SYNC_IMAGE
    labels: Mapping[str, str] = field(default_factory=dict)
    """Extra labels (cost allocation) on every object."""

    def __post_init__(self) -> None:
        served = self.served
        engine = engines.engine(served.engine)
        try:
            request = served.model.sizing_request(served.placement.gpu)
            result = sizing.size(request)
        except (sizing.SizingError, KeyError) as exc:
            raise ValueError(f"served.model: {exc}") from None
        if not result.fits:
            raise ValueError(f"served.model: does not fit: {result.reason}")
        engines.engine_args(engine.name, served.model, "/m", HTTP_PORT, METRICS_PORT)  # rejects bad quantization
        if served.replicas < 0:
            raise ValueError(f"served.replicas: must be >= 0 (got {served.replicas})")
        if served.cpu < 1:
            raise ValueError(f"served.cpu: must be >= 1 (got {served.cpu})")
        if served.memory_gib <= served.shm_size_gib:
            raise ValueError(
                f"served.memory_gib: must be > shm_size_gib ({served.shm_size_gib}): /dev/shm counts against it"
            )
        host_path = self.weights.host_path
        # A hostPath: `..` or `//` would mount somewhere other than the weight tier it names.
        if (
            not host_path.startswith("/")
            or posixpath.normpath(host_path) != host_path
            or host_path.startswith("//")
            or host_path == "/"
        ):
            raise ValueError(f"weights.host_path: must be an absolute, normalised directory (got {host_path!r})")


def resources_for(instance: catalog.InstanceType | None, shards: int) -> tuple[int, int]:
    """(cpu, memory GiB) for a server with `shards` GPUs on `instance` (None: an on-prem node)."""
    if instance is None:
        return ONPREM_CPU_PER_SHARD * shards, ONPREM_MEMORY_GIB_PER_SHARD * shards
    share = shards / instance.gpu_count * NODE_SHARE
    return max(1, math.floor(instance.vcpu * share)), max(1, math.floor(instance.memory_gib * share))


def sizing_annotations(model: engines.ModelSpec, gpu: str) -> dict[str, str]:
    values = {
        "parameters-billion": f"{model.parameters_billion:g}",
        "family": model.family,
        "quantization": model.quantization,
        "gpu": gpu,
        "shards": str(model.shards),
        "max-total-tokens": str(model.max_total_tokens),
        "max-batch-size": str(model.max_batch_size),
    }
    return {SIZING_ANNOTATION_PREFIX + key: value for key, value in values.items()}


def startup_failure_threshold(model: engines.ModelSpec, gpu: str) -> int:
    weights_gib = sizing.size(model.sizing_request(gpu)).weights_gib
    return math.ceil(sizing.startup_seconds(weights_gib) / PROBE_PERIOD_SECONDS)


# A model scaled to zero, from its first request to serving: API Gateway publishes per-minute
# metrics that CloudWatch serves about a minute later and KEDA polls every 15 s (wake), then the
# weight sync from S3 to the node's NVMe and the engine's load (startup).
WAKE_SIGNAL_SECONDS = 135
WEIGHT_SYNC_MIB_PER_SECOND = 400  # `aws s3 sync` from the region's bucket, conservative for g5/p5


def cold_start_seconds(model: engines.ModelSpec, gpu: str) -> int:
    """Predicted seconds from a scaled-to-zero model's first request until it can serve, on a node
    that is already up (the GPU node group's minimum): what the gateway tells callers to wait."""
    weights_gib = sizing.size(model.sizing_request(gpu)).weights_gib
    sync = weights_gib * 1024 / WEIGHT_SYNC_MIB_PER_SECOND
    return math.ceil(WAKE_SIGNAL_SECONDS + sync + sizing.startup_seconds(weights_gib))


def rollout_deadline_seconds(model: engines.ModelSpec, gpu: str) -> int:
    """How long a rollout may take: a cold node syncs the weights, then the engine loads them."""
    return SYNC_DEADLINE_SECONDS + startup_failure_threshold(model, gpu) * PROBE_PERIOD_SECONDS


# --- the component -------------------------------------------------------------------------------


class ModelServer(pulumi.ComponentResource):
    """ServiceAccount, Deployment, PodDisruptionBudget, Service and NetworkPolicy of one model."""

    service_name: pulumi.Output[str]
    deployment_name: pulumi.Output[str]
    service_account_name: str
    readiness_path: str
    """The engine's "can serve" path: the NLB in front of the Service health-checks the same one."""

    def __init__(self, name: str, args: ModelServerArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("llm-serving:serving:ModelServer", name, None, opts)
        served, model = args.served, args.served.model
        engine = engines.engine(served.engine)
        self.readiness_path = engine.readiness_path
        server = model_server_name(model.name)
        selector = model_labels(model.name)
        labels = {
            **args.labels,
            **selector,
            "app.kubernetes.io/part-of": "llm-serving",
            "llm-serving/environment": args.environment,
            "llm-serving/engine": engine.name,
            DATA_CLASSIFICATION_LABEL: data_classification(served.sensitive),
        }

        # Manifests are plain dicts, checked by kubernetes-validate in the tests.
        def meta(**extra: Any) -> Any:
            return {"name": server, "namespace": args.namespace, "labels": labels, **extra}

        def child(**extra: Any) -> pulumi.ResourceOptions:
            return pulumi.ResourceOptions(parent=self, **extra)

        service_account = KubernetesObject(
            f"{name}-sa",
            {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta(), "automountServiceAccountToken": False},
            opts=child(),
        )
        self.service_account_name = server

        rollout = rollout_deadline_seconds(model, served.placement.gpu)
        deployment = KubernetesObject(
            f"{name}-deployment",
            {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": meta(annotations=sizing_annotations(model, served.placement.gpu)),
                "spec": self._deployment_spec(args, engine, selector, labels, server),
            },
            opts=child(
                # What the caller named (its credentials, its nodes) exists before the first pod.
                depends_on=[service_account, *inherited_depends_on(opts)],
                # The autoscaler owns the replica count once it exists.
                ignore_changes=["spec.replicas"] if served.autoscaled else None,
                # Pulumi waits for the rollout as long as the rollout itself may take (a cold node
                # syncs the weights first); its default of 10 minutes would fail a healthy rollout.
                custom_timeouts=pulumi.CustomTimeouts(create=f"{rollout}s", update=f"{rollout}s"),
            ),
        )
        KubernetesObject(
            f"{name}-pdb",
            {
                "apiVersion": "policy/v1",
                "kind": "PodDisruptionBudget",
                "metadata": meta(),
                "spec": {
                    # One pod at a time during drains and upgrades; crash-looping pods never block a drain.
                    "maxUnavailable": 1,
                    "selector": {"matchLabels": selector},
                    "unhealthyPodEvictionPolicy": "AlwaysAllow",
                },
            },
            opts=child(),
        )
        service = KubernetesObject(
            f"{name}-service",
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": meta(),
                "spec": {
                    "type": "ClusterIP",
                    "selector": selector,
                    "ports": [
                        {"name": HTTP_PORT_NAME, "port": HTTP_PORT, "targetPort": HTTP_PORT_NAME, "protocol": "TCP"},
                        {
                            "name": METRICS_PORT_NAME,
                            "port": METRICS_PORT,
                            "targetPort": engine.metrics_port_name,
                            "protocol": "TCP",
                        },
                    ],
                },
            },
            opts=child(),
        )
        KubernetesObject(
            f"{name}-ingress",
            {
                "apiVersion": "networking.k8s.io/v1",
                "kind": "NetworkPolicy",
                "metadata": meta(**self._ingress_annotations(args)),
                "spec": {
                    "podSelector": {"matchLabels": selector},
                    "policyTypes": ["Ingress"],
                    "ingress": self._ingress_rules(args, engine),
                },
            },
            opts=child(),
        )
        self.service_name = service.object_name
        self.deployment = deployment
        """The Deployment: the scale target a scaler depends on."""
        self.deployment_name = deployment.object_name
        self.register_outputs(
            {
                "service_name": self.service_name,
                "deployment_name": self.deployment_name,
                "service_account_name": self.service_account_name,
            }
        )

    @staticmethod
    def _ingress_annotations(args: ModelServerArgs) -> dict[str, Any]:
        """The data centre networks the NetworkPolicy admits, by name (none: no annotation)."""
        if not args.caller_networks:
            return {}
        return {"annotations": {INGRESS_NETWORKS_ANNOTATION: annotation_value(args.caller_networks)}}

    @staticmethod
    def _ingress_rules(args: ModelServerArgs, engine: engines.Engine) -> list[dict[str, Any]]:
        # A rule with an empty `from` admits everyone: peers-less rules are left out instead.
        metrics_port = METRICS_PORT if engine.separate_metrics_port else HTTP_PORT
        rules = []
        callers = (*args.gateway_peers, *({"ipBlock": {"cidr": n.cidr}} for n in args.caller_networks))
        for peers, port in ((callers, HTTP_PORT), (args.metrics_peers, metrics_port)):
            if peers:
                rules.append({"from": [dict(p) for p in peers], "ports": [{"protocol": "TCP", "port": port}]})
        return rules

    @staticmethod
    def _deployment_spec(
        args: ModelServerArgs,
        engine: engines.Engine,
        selector: dict[str, str],
        labels: dict[str, str],
        server: str,
    ) -> dict[str, Any]:
        served, model = args.served, args.served.model
        gpu = served.placement.gpu
        model_path = engines.model_dir(CONTAINER_MODELS_PATH, model)
        startup_threshold = startup_failure_threshold(model, gpu)
        restricted = {
            "allowPrivilegeEscalation": False,
            "privileged": False,
            "readOnlyRootFilesystem": True,
            "runAsNonRoot": True,
            "capabilities": {"drop": ["ALL"]},
        }
        tmp_mount = {"name": "tmp", "mountPath": "/tmp"}
        sync = {
            "name": "weight-sync",
            "image": args.sync_image,
            "command": ["/bin/sh", "-c", engines.weight_sync_script()],
            "env": [
                {"name": "WEIGHTS_BUCKET", "value": args.weights.bucket},
                {"name": "WEIGHTS_PREFIX", "value": weights_key(model.name, model.revision)},
                {"name": "WEIGHTS_DIR", "value": model_path},
                {"name": "AWS_REGION", "value": args.weights.region},
                {"name": "HOME", "value": "/tmp"},
                # AWS CLI v2's service-specific endpoint variable (cli-configure-endpoints): S3 calls only.
                *(
                    [{"name": "AWS_ENDPOINT_URL_S3", "value": args.weights.endpoint_url}]
                    if args.weights.endpoint_url
                    else []
                ),
                *args.weights.credentials.env(),
            ],
            "resources": {
                "requests": {"cpu": "2", "memory": "2Gi"},
                "limits": {"cpu": "4", "memory": "4Gi"},
            },
            "securityContext": dict(restricted),
            "volumeMounts": [
                {"name": "weights", "mountPath": CONTAINER_MODELS_PATH},
                tmp_mount,
                *args.weights.credentials.mounts(),
            ],
        }
        credential_steps = args.weights.credentials.init_containers(restricted)
        http_get = lambda path: {"path": path, "port": HTTP_PORT_NAME}  # noqa: E731
        ports = [{"name": HTTP_PORT_NAME, "containerPort": HTTP_PORT, "protocol": "TCP"}]
        if engine.separate_metrics_port:
            ports.append({"name": METRICS_PORT_NAME, "containerPort": METRICS_PORT, "protocol": "TCP"})
        server_container = {
            "name": engine.name,
            "image": served.image or engine.image,
            **({"command": list(engine.command)} if engine.command else {}),
            "args": [
                *engines.engine_args(engine.name, model, model_path, HTTP_PORT, METRICS_PORT),
                *served.extra_args,
            ],
            "env": [
                {"name": "HF_HUB_OFFLINE", "value": "1"},  # weights are local; never reach the Hub
                {"name": "HOME", "value": "/tmp"},
                {"name": "HF_HOME", "value": "/tmp/huggingface"},
            ],
            "ports": ports,
            "resources": {
                "requests": {
                    "cpu": str(served.cpu),
                    "memory": f"{served.memory_gib}Gi",
                    GPU_RESOURCE: str(model.shards),
                },
                "limits": {
                    "cpu": str(served.cpu),
                    "memory": f"{served.memory_gib}Gi",
                    GPU_RESOURCE: str(model.shards),
                },
            },
            "startupProbe": {
                "httpGet": http_get(engine.readiness_path),
                "periodSeconds": PROBE_PERIOD_SECONDS,
                "timeoutSeconds": 5,
                "failureThreshold": startup_threshold,
            },
            "readinessProbe": {
                "httpGet": http_get(engine.readiness_path),
                "periodSeconds": PROBE_PERIOD_SECONDS,
                "timeoutSeconds": 5,
                "failureThreshold": 3,
            },
            "livenessProbe": {
                "httpGet": http_get(engine.liveness_path),
                "periodSeconds": 15,
                "timeoutSeconds": 5,
                "failureThreshold": 4,
            },
            "lifecycle": {"preStop": {"exec": {"command": ["sleep", str(PRESTOP_SLEEP_SECONDS)]}}},
            "securityContext": dict(restricted),
            "volumeMounts": [
                {"name": "weights", "mountPath": CONTAINER_MODELS_PATH, "readOnly": True},
                {"name": "dshm", "mountPath": "/dev/shm"},
                tmp_mount,
            ],
        }
        spread = [
            {
                "maxSkew": 1,
                "topologyKey": key,
                # GPU capacity is often in one zone only: prefer spreading, never block scheduling.
                "whenUnsatisfiable": "ScheduleAnyway",
                "labelSelector": {"matchLabels": selector},
            }
            for key in ("topology.kubernetes.io/zone", "kubernetes.io/hostname")
        ]
        return {
            "replicas": served.replicas,
            "revisionHistoryLimit": 5,
            "progressDeadlineSeconds": rollout_deadline_seconds(model, gpu),
            "selector": {"matchLabels": selector},
            # A new pod must be ready before an old one goes: GPU capacity is never below replicas.
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
            "template": {
                # The metrics agent scrapes the container port named here, and only that one.
                "metadata": {"labels": labels, "annotations": {METRICS_PORT_ANNOTATION: engine.metrics_port_name}},
                "spec": {
                    "serviceAccountName": server,
                    "automountServiceAccountToken": False,
                    "enableServiceLinks": False,
                    "terminationGracePeriodSeconds": PRESTOP_SLEEP_SECONDS + engine.drain_seconds + 30,
                    "securityContext": {
                        "runAsNonRoot": True,
                        "runAsUser": MODEL_SERVER_UID,
                        "runAsGroup": MODEL_SERVER_UID,
                        "fsGroup": MODEL_SERVER_UID,
                        "seccompProfile": {"type": "RuntimeDefault"},
                    },
                    "nodeSelector": dict(served.placement.node_selector),
                    "tolerations": [dict(t) for t in served.placement.tolerations],
                    "topologySpreadConstraints": spread,
                    "initContainers": [*credential_steps, sync],
                    "containers": [server_container],
                    "volumes": [
                        # The hot tier: survives pod restarts on the node, so a reschedule skips the sync.
                        {"name": "weights", "hostPath": {"path": args.weights.host_path, "type": "Directory"}},
                        {"name": "dshm", "emptyDir": {"medium": "Memory", "sizeLimit": f"{served.shm_size_gib}Gi"}},
                        {"name": "tmp", "emptyDir": {"sizeLimit": TMP_SIZE}},
                        *args.weights.credentials.volumes(),
                    ],
                },
            },
        }
