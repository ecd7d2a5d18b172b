"""Autoscaling on one EKS cluster: the metrics pipeline, KEDA, prometheus-adapter and one scaler per model.

Data flow on EKS: model servers and DCGM exporters → Prometheus agent → AMP workspace (region) →
KEDA (ScaledObjects) or prometheus-adapter (HPAs) → the model's Deployment replicas.
On an on-prem target: the same exporters → the target's own Prometheus → KEDA / prometheus-adapter
in the cluster (scaling survives a VPN outage), and from that Prometheus → the primary region's AMP
workspace over the private path, so one workspace sees every model.
KEDA runs on every cluster; prometheus-adapter only where a model uses mode hpa.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import pulumi

from components import engines
from components.arg_checks import check_region
from components.depends import inherited_depends_on
from components.keda import Keda, KedaArgs
from components.metrics_collector import (
    MetricsCollector,
    MetricsCollectorArgs,
    PodIdentitySigning,
    RolesAnywhereSigning,
)
from components.prometheus_adapter import PrometheusAdapter, PrometheusAdapterArgs
from components.routes import resource_paths
from components.scaling import GatewaySignal, ModelScaler, ModelScalerArgs

MODES = ("keda", "hpa", "none")


@dataclass(frozen=True)
class ModelAutoscaling:
    """How one model scales (from `models[].autoscaling` and `models[].tokens`)."""

    model: str
    mode: str
    """keda, hpa or none (fixed replicas: no scaler)."""
    min_replicas: int
    max_replicas: int
    queue_size_threshold: float
    batch_occupancy_threshold: float
    max_batch_size: int
    scale_to_zero: bool = False
    """min_replicas 0, woken by the API Gateway request count (needs `AutoscalingArgs.gateway`)."""
    cooldown_seconds: int = 600
    engine: str = "tgi"
    """The model server's engine (`models[].engine`): the metrics its scaler reads."""

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"mode: must be one of keda, hpa, none (got {self.mode!r})")
        engines.engine(self.engine)  # rejects an unknown engine, naming the allowed ones


@dataclass(frozen=True)
class RegionWorkspace:
    """EKS: signals go through the region's AMP workspace, written and read under Pod Identity roles."""

    cluster_arn: pulumi.Input[str]
    workspace_arn: pulumi.Input[str]
    workspace_id: pulumi.Input[str]
    query_url: pulumi.Input[str]
    remote_write_url: pulumi.Input[str]


@dataclass(frozen=True)
class InClusterSignals:
    """On-prem: the target's own Prometheus serves the scalers, and remote-writes to the primary
    region's workspace when `remote_write_url` is set (signed by the Roles Anywhere helper)."""

    remote_write_url: pulumi.Input[str] | None = None
    signing: RolesAnywhereSigning | None = None

    def __post_init__(self) -> None:
        if (self.remote_write_url is None) != (self.signing is None):
            raise ValueError("signing: required with remote_write_url, and only with it")


@dataclass(frozen=True)
class AutoscalingArgs:
    environment: str
    region: str
    """The workspace's region (on-prem: the primary region's)."""
    cluster_name: pulumi.Input[str]
    """The EKS cluster's name, or the on-prem target's: the `cluster` label of its series."""
    signals: RegionWorkspace | InClusterSignals
    models: Sequence[ModelAutoscaling]
    """Every model served on this cluster."""
    deployments: Mapping[str, pulumi.Resource]
    """Model name → its server's Deployment (the scale target; scalers depend on it)."""
    gateway: GatewaySignal | None = None
    """API Gateway stage whose request count wakes models scaled to zero."""
    node_selector: Mapping[str, str] = field(default_factory=dict)
    """Labels of the system nodes KEDA and prometheus-adapter run on (never GPU nodes)."""

    def __post_init__(self) -> None:
        check_region(self.region)
        names = [m.model for m in self.models]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"models: each model once per cluster (duplicates: {', '.join(duplicates)})")
        for model in self.models:
            if model.mode != "none" and model.model not in self.deployments:
                known = ", ".join(sorted(self.deployments)) or "none"
                raise ValueError(
                    f"deployments: no Deployment for model '{model.model}' (the scale target); got: {known}"
                )
            if model.scale_to_zero and self.gateway is None:
                raise ValueError(f"gateway: model '{model.model}' scales to zero and needs the API Gateway signal")
        if self.gateway is not None and isinstance(self.signals, InClusterSignals):
            raise ValueError("gateway: the API Gateway signal needs KEDA's AWS identity (an EKS cluster)")


class Autoscaling(pulumi.ComponentResource):
    """Needs the cluster's Kubernetes provider in `opts` (`providers={"kubernetes": p}`) and the region's AWS one."""

    def __init__(self, name: str, args: AutoscalingArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("llm-serving:autoscaling:Autoscaling", name, None, opts)
        # What the caller named (the serving namespace) reaches the children that put objects in it.
        in_serving = pulumi.ResourceOptions(parent=self, depends_on=inherited_depends_on(opts))
        signals = args.signals
        in_cluster = isinstance(signals, InClusterSignals)
        self.collector = MetricsCollector(
            f"{name}-metrics",
            MetricsCollectorArgs(
                environment=args.environment,
                region=args.region,
                cluster_name=args.cluster_name,
                remote_write_url=signals.remote_write_url,
                signing=signals.signing
                if isinstance(signals, InClusterSignals)
                else PodIdentitySigning(signals.cluster_arn, signals.workspace_arn),
                serve_queries=in_cluster,
            ),
            opts=in_serving,
        )
        eks = signals if isinstance(signals, RegionWorkspace) else None
        self.keda = Keda(
            f"{name}-keda",
            KedaArgs(
                environment=args.environment,
                region=args.region,
                cluster_name=args.cluster_name if eks else None,
                cluster_arn=eks.cluster_arn if eks else None,
                workspace_arn=eks.workspace_arn if eks else None,
                cloudwatch_signal=any(m.scale_to_zero for m in args.models),
                node_selector=args.node_selector,
            ),
            opts=in_serving,
        )
        query_url = eks.query_url if eks else self.collector.query_url
        self.adapter: PrometheusAdapter | None = None
        hpa_engines = tuple(dict.fromkeys(m.engine for m in args.models if m.mode == "hpa"))
        if hpa_engines:
            self.adapter = PrometheusAdapter(
                f"{name}-prometheus-adapter",
                PrometheusAdapterArgs(
                    region=args.region,
                    cluster_name=args.cluster_name if eks else None,
                    cluster_arn=eks.cluster_arn if eks else None,
                    workspace_arn=eks.workspace_arn if eks else None,
                    workspace_id=eks.workspace_id if eks else None,
                    prometheus_url=None if eks else self.collector.query_url,
                    engines=hpa_engines,
                    node_selector=args.node_selector,
                ),
                # The monitoring namespace comes with the collector.
                opts=pulumi.ResourceOptions(parent=self, depends_on=[self.collector]),
            )
        self.scalers: dict[str, ModelScaler] = {}
        for model in args.models:
            if model.mode == "none":
                continue
            metrics_api = self.keda if model.mode == "keda" else self.adapter
            self.scalers[model.model] = ModelScaler(
                f"{name}-{model.model}",
                ModelScalerArgs(
                    model=model.model,
                    environment=args.environment,
                    mode=model.mode,  # type: ignore[arg-type]
                    min_replicas=model.min_replicas,
                    max_replicas=model.max_replicas,
                    queue_size_threshold=model.queue_size_threshold,
                    batch_occupancy_threshold=model.batch_occupancy_threshold,
                    max_batch_size=model.max_batch_size,
                    region=args.region,
                    prometheus_url=query_url if model.mode == "keda" else None,
                    trigger_authentication=self.keda.trigger_authentication_name,
                    gateway=(
                        replace(args.gateway, routes=resource_paths(model.model, model.engine))
                        if model.scale_to_zero and args.gateway is not None
                        else None
                    ),
                    cooldown_seconds=model.cooldown_seconds,
                    engine=model.engine,
                ),
                opts=pulumi.ResourceOptions(
                    parent=self, depends_on=[r for r in (args.deployments[model.model], metrics_api) if r is not None]
                ),
            )
        self.register_outputs(
            {
                "keda_operator_role_arn": self.keda.operator_role_arn,
                "scalers": {m.model: m.mode for m in args.models if m.mode != "none"},
            }
        )
