"""One model server's scaler: a KEDA ScaledObject or an autoscaling/v2 HPA, never both.

keda: two Prometheus triggers on the model's engine metrics in AMP (queued requests per replica, and
batch occupancy against the configured max batch), plus, for scale to zero, KEDA's aws-cloudwatch
trigger on the API Gateway request count: the only signal that exists while no pod runs.
hpa: the Pods metric prometheus-adapter serves for the engine's queue (`Engine.custom_queue_metric`).
The metric names come from the model's engine (`components.engines`: TGI or vLLM).
Both scale up fast and down slowly, because a GPU replica needs minutes to load its weights.
`scaled_object` and `horizontal_pod_autoscaler` are pure so tests validate the manifests.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

import pulumi

from components import conventions, engines, routes
from components.arg_checks import AWS_REGION, DNS_LABEL
from components.depends import inherited_depends_on
from components.kube import KubernetesObject

MODES = ("keda", "hpa")
POLLING_INTERVAL_SECONDS = 15
# Scale-up: whichever adds more per minute, 2 pods or doubling; no stabilization (queues grow fast).
SCALE_UP = {
    "stabilizationWindowSeconds": 0,
    "selectPolicy": "Max",
    "policies": [
        {"type": "Pods", "value": 2, "periodSeconds": 60},
        {"type": "Percent", "value": 100, "periodSeconds": 60},
    ],
}


@dataclass(frozen=True)
class GatewaySignal:
    """The API Gateway stage whose request count wakes a model scaled to zero."""

    api_name: str
    """REST API name (the `ApiName` dimension of AWS/ApiGateway metrics)."""
    stage: str
    """Stage name (the `Stage` dimension)."""
    requests_per_replica_per_minute: int = 600
    """Target of the request-count trigger once awake; the engine-metric triggers usually ask for more."""
    routes: tuple[str, ...] = ()
    """The model's own resource paths (`routes.resource_paths`): it wakes on requests to them, from
    the stage's per-method metrics, never on the stage's total (every model's requests)."""

    def __post_init__(self) -> None:
        if not isinstance(self.api_name, str) or not re.fullmatch(r"[^;]{1,1024}", self.api_name):
            raise ValueError(f"api_name: must be a REST API name without ';' (got {self.api_name!r})")
        if not isinstance(self.stage, str) or not re.fullmatch(r"[A-Za-z0-9_-]{1,128}", self.stage):
            raise ValueError(f"stage: must be a stage name (letters, digits, '-', '_') (got {self.stage!r})")
        for route in self.routes:
            if not isinstance(route, str) or not re.fullmatch(r"/v1/models/[a-z0-9-]+/[a-z_/]+", route):
                raise ValueError(f"routes: must be the model's resource paths, /v1/models/<model>/... (got {route!r})")
        if self.requests_per_replica_per_minute < 1:
            raise ValueError(
                f"requests_per_replica_per_minute: must be >= 1 (got {self.requests_per_replica_per_minute})"
            )


@dataclass(frozen=True)
class ModelScalerArgs:
    model: str
    """Model name; the scale target is the Deployment `model_server_name(model)`."""
    environment: str
    """The Deployment lives in `serving_namespace(environment)`."""
    mode: Literal["keda", "hpa"]
    """keda (ScaledObject) or hpa (HorizontalPodAutoscaler); a model with mode none gets no scaler."""
    min_replicas: int
    max_replicas: int
    queue_size_threshold: float
    """Queued requests per replica that trigger a scale-up."""
    batch_occupancy_threshold: float = 0.8
    """Share of max_batch_size in use per replica that triggers a scale-up (keda)."""
    max_batch_size: int = 8
    """The server's concurrent sequences (TokenLimits.max_batch_size)."""
    region: str = "us-east-1"
    """Region of the AMP workspace and the API Gateway (SigV4 and CloudWatch)."""
    prometheus_url: pulumi.Input[str] | None = None
    """AMP query URL (MetricsWorkspace.query_url); required for keda."""
    trigger_authentication: str | None = "keda-aws"
    """TriggerAuthentication in the serving namespace (Keda.trigger_authentication_name); None: the
    Prometheus is in-cluster and unsigned (an on-prem target's own collector)."""
    gateway: GatewaySignal | None = None
    """Outside signal that permits min_replicas 0 (keda only)."""
    cooldown_seconds: int = 600
    """Scale-down stabilization, and idle time before scaling to zero."""
    engine: str = "tgi"
    """The model server's engine (`engines.ENGINES`): which metrics the scaler queries."""

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"mode: must be one of keda, hpa (got {self.mode!r}); mode none needs no scaler")
        engines.engine(self.engine)  # rejects an unknown engine, naming the allowed ones
        for field in ("model", "environment"):
            if not DNS_LABEL.fullmatch(str(getattr(self, field))):
                raise ValueError(f"{field}: must be a DNS label (got {getattr(self, field)!r})")
        if not AWS_REGION.fullmatch(self.region):
            raise ValueError(f"region: must be an AWS region name such as us-east-1 (got {self.region!r})")
        if self.min_replicas < 0 or self.max_replicas < 1:
            raise ValueError(
                f"min_replicas/max_replicas: must be >= 0 and >= 1 (got {self.min_replicas}, {self.max_replicas})"
            )
        if self.min_replicas > self.max_replicas:
            raise ValueError(f"min_replicas: must be <= max_replicas ({self.max_replicas}) (got {self.min_replicas})")
        if self.queue_size_threshold <= 0:
            raise ValueError(f"queue_size_threshold: must be > 0 (got {self.queue_size_threshold})")
        if not 0 < self.batch_occupancy_threshold <= 1:
            raise ValueError(f"batch_occupancy_threshold: must be in (0, 1] (got {self.batch_occupancy_threshold})")
        if self.max_batch_size < 1:
            raise ValueError(f"max_batch_size: must be >= 1 (got {self.max_batch_size})")
        if self.cooldown_seconds < 60:
            raise ValueError(f"cooldown_seconds: must be >= 60 (got {self.cooldown_seconds})")
        if self.min_replicas == 0 and (self.mode != "keda" or self.gateway is None):
            raise ValueError(
                "min_replicas: 0 needs mode keda and a gateway signal (nothing inside a stopped pod wakes it)"
            )
        if self.gateway is not None and self.mode != "keda":
            raise ValueError("gateway: only used with mode keda")
        if self.gateway is not None and not self.gateway.routes:
            raise ValueError("gateway: needs the model's routes (it wakes on its own requests, not the stage's)")
        if self.gateway is not None and self.trigger_authentication is None:
            raise ValueError("gateway: CloudWatch reads need the trigger_authentication (KEDA's AWS identity)")
        if self.mode == "keda" and self.prometheus_url is None:
            raise ValueError("prometheus_url: required with mode keda (MetricsWorkspace.query_url)")

    @property
    def namespace(self) -> str:
        return conventions.serving_namespace(self.environment)

    @property
    def target(self) -> str:
        return conventions.model_server_name(self.model)


def _number(value: float) -> str:
    """KEDA takes thresholds as strings; 4.0 reads as "4"."""
    return f"{value:g}"


def _metadata(args: ModelScalerArgs) -> dict[str, Any]:
    return {
        "name": args.target,
        "namespace": args.namespace,
        "labels": {
            "app.kubernetes.io/name": args.target,
            "app.kubernetes.io/part-of": "llm-serving",
            "component": "autoscaling",
            conventions.MODEL_LABEL: args.model,
        },
    }


def _scale_down(args: ModelScalerArgs) -> dict[str, Any]:
    # One replica per 5 minutes after a full cooldown without load: warm GPUs are expensive to lose.
    return {
        "stabilizationWindowSeconds": args.cooldown_seconds,
        "selectPolicy": "Min",
        "policies": [{"type": "Pods", "value": 1, "periodSeconds": 300}],
    }


def prometheus_queries(args: ModelScalerArgs) -> dict[str, str]:
    # `namespace` and `model` are the labels the metrics agent puts on every model-server series.
    # Metric names with colons (vLLM's) are valid PromQL identifiers as they are.
    engine = engines.engine(args.engine)
    selector = f'namespace="{args.namespace}",model="{args.model}"'
    return {
        "queue-size": f"sum({engine.queue_metric}{{{selector}}})",
        # In units of "full batches": AverageValue against the occupancy threshold gives the replicas.
        "batch-occupancy": f"sum({engine.running_metric}{{{selector}}}) / {args.max_batch_size}",
    }


def scaled_object(args: ModelScalerArgs, prometheus_url: str) -> dict[str, Any]:
    """The KEDA ScaledObject (apiVersion, kind, metadata, spec) for a keda-mode model."""
    queries = prometheus_queries(args)
    thresholds = {"queue-size": args.queue_size_threshold, "batch-occupancy": args.batch_occupancy_threshold}
    auth = {"name": args.trigger_authentication, "kind": "TriggerAuthentication"}
    # AMP queries are signed with SigV4 (identity from authenticationRef); an in-cluster Prometheus is not.
    signed = args.trigger_authentication is not None
    triggers: list[dict[str, Any]] = [
        {
            "type": "prometheus",
            "name": name,
            "metricType": "AverageValue",
            "metadata": {
                "serverAddress": prometheus_url,
                "query": queries[name],
                "threshold": _number(thresholds[name]),
                **({"awsRegion": args.region} if signed else {}),
                "ignoreNullValues": "true",
            },
            **({"authenticationRef": auth} if signed else {}),
        }
        for name in ("queue-size", "batch-occupancy")
    ]
    gateway = args.gateway
    for index, route in enumerate(gateway.routes if gateway is not None else ()):
        assert gateway is not None
        # One trigger per route (KEDA's CloudWatch scaler reads one metric each; it wakes the model
        # when any is above 0): the stage's detailed per-method metrics, so only this model's
        # requests wake it. 4xx answers are in Count too (no metric math in the scaler).
        triggers.append(
            {
                "type": "aws-cloudwatch",
                "name": f"gateway-requests-{index}",
                "metricType": "AverageValue",
                "metadata": {
                    "namespace": "AWS/ApiGateway",
                    "metricName": "Count",
                    "dimensionName": ";".join(conventions.GATEWAY_ROUTE_DIMENSIONS),
                    "dimensionValue": f"{gateway.api_name};{routes.METHOD};{route};{gateway.stage}",
                    "metricStat": "Sum",
                    "metricStatPeriod": "60",
                    "metricCollectionTime": "300",
                    "targetMetricValue": str(gateway.requests_per_replica_per_minute),
                    "activationTargetMetricValue": "0",
                    "minMetricValue": "0",
                    "awsRegion": args.region,
                },
                "authenticationRef": auth,
            }
        )
    spec: dict[str, Any] = {
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": args.target},
        "pollingInterval": POLLING_INTERVAL_SECONDS,
        "cooldownPeriod": args.cooldown_seconds,
        "minReplicaCount": args.min_replicas,
        "maxReplicaCount": args.max_replicas,
        # When AMP cannot be read, hold what runs (or the floor): never scale a busy model down blind.
        "fallback": {
            "failureThreshold": 4,
            "replicas": max(args.min_replicas, 1),
            "behavior": "currentReplicasIfHigher",
        },
        "advanced": {
            "restoreToOriginalReplicaCount": False,
            "horizontalPodAutoscalerConfig": {"behavior": {"scaleUp": SCALE_UP, "scaleDown": _scale_down(args)}},
        },
        "triggers": triggers,
    }
    return {"apiVersion": "keda.sh/v1alpha1", "kind": "ScaledObject", "metadata": _metadata(args), "spec": spec}


def horizontal_pod_autoscaler(args: ModelScalerArgs) -> dict[str, Any]:
    """The autoscaling/v2 HorizontalPodAutoscaler for an hpa-mode model."""
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": _metadata(args),
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": args.target},
            "minReplicas": args.min_replicas,
            "maxReplicas": args.max_replicas,
            "metrics": [
                {
                    "type": "Pods",
                    "pods": {
                        "metric": {"name": engines.engine(args.engine).custom_queue_metric},
                        "target": {"type": "AverageValue", "averageValue": _number(args.queue_size_threshold)},
                    },
                }
            ],
            "behavior": {"scaleUp": SCALE_UP, "scaleDown": _scale_down(args)},
        },
    }


class ModelScaler(pulumi.ComponentResource):
    """The scaler of one model on one cluster; needs a Kubernetes provider in `opts`.

    Put the model's Deployment (and, for keda, the Keda component) in `opts.depends_on`: the
    scale target must exist before its scaler.
    """

    def __init__(self, name: str, args: ModelScalerArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("llm-serving:autoscaling:ModelScaler", name, None, opts)
        # The scaler itself waits for the target and the metrics API (KEDA's CRDs) named by the caller.
        child = pulumi.ResourceOptions(parent=self, depends_on=inherited_depends_on(opts))
        if args.mode == "keda":
            assert args.prometheus_url is not None  # ModelScalerArgs requires it for keda
            body = pulumi.Output.from_input(args.prometheus_url).apply(lambda url: scaled_object(args, url))
            self.scaler: pulumi.Resource = KubernetesObject(
                f"{name}-scaledobject",
                {
                    "apiVersion": "keda.sh/v1alpha1",
                    "kind": "ScaledObject",
                    "metadata": _metadata(args),
                    "spec": body.apply(lambda b: b["spec"]),
                },
                opts=child,
            )
        else:
            self.scaler = KubernetesObject(f"{name}-hpa", horizontal_pod_autoscaler(args), opts=child)
        self.register_outputs({"mode": args.mode, "target": args.target, "namespace": args.namespace})
