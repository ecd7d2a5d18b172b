"""prometheus-adapter on one cluster: serves model servers' queue size to HPAs as a Pods custom metric.

One rule per engine in use (`tgi_queue_size`, `vllm:num_requests_waiting` served as
`vllm_num_requests_waiting`: `Engine.custom_queue_metric`), each under its own name, so two
engines on one cluster never fold into one metric.

It reads the region's AMP workspace through an aws-sigv4-proxy sidecar bound to localhost, under
a Pod Identity role limited to the read actions the adapter uses on that one workspace. On an
on-prem target it reads the target's own Prometheus in-cluster (`prometheus_url`): no proxy, no role. Only
custom rules are configured: the adapter registers `custom.metrics.k8s.io` and neither
`external.metrics.k8s.io` (KEDA's) nor `metrics.k8s.io` (metrics-server's), so the three
metrics APIs never fight over an APIService.

Its objects are declared one by one from the pinned chart's templates
(`prometheus_adapter_manifests.py`), so the plan, its manifests and the policy pack see them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi

from components import conventions, engines
from components import prometheus_adapter_manifests as manifests
from components.arg_checks import check_region
from components.depends import inherited_depends_on
from components.kube import declare_objects
from components.pod_identity import PodIdentityRole, PodIdentityRoleArgs

CHART_VERSION = manifests.CHART_VERSION  # prometheus-adapter v0.12.0
SIGV4_PROXY_IMAGE = "public.ecr.aws/aws-observability/aws-sigv4-proxy:1.11.1"
SIGV4_PROXY_PORT = 8005
SERVICE_ACCOUNT = manifests.NAME


def adapter_rules(engine_names: Sequence[str]) -> list[dict[str, Any]]:
    """Custom-metrics rules: each engine's queue metric per pod, summed over the agents' deduplicated series."""
    rules = []
    for engine in dict.fromkeys(engines.engine(n) for n in engine_names):
        metric = engine.queue_metric
        rules.append(
            {
                "seriesQuery": f'{metric}{{namespace!="",pod!=""}}',
                "resources": {"overrides": {"namespace": {"resource": "namespace"}, "pod": {"resource": "pod"}}},
                "name": {"matches": f"^{re.escape(metric)}$", "as": engine.custom_queue_metric},
                "metricsQuery": "sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)",
            }
        )
    return rules


def reader_policy(workspace_arn: str) -> dict[str, Any]:
    """Series discovery and queries on one workspace: what the adapter calls, nothing else."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ReadTheRegionsWorkspace",
                "Effect": "Allow",
                "Action": ["aps:QueryMetrics", "aps:GetSeries", "aps:GetLabels", "aps:GetMetricMetadata"],
                "Resource": workspace_arn,
            }
        ],
    }


@dataclass(frozen=True)
class PrometheusAdapterArgs:
    region: str
    cluster_name: pulumi.Input[str] | None = None
    cluster_arn: pulumi.Input[str] | None = None
    workspace_arn: pulumi.Input[str] | None = None
    workspace_id: pulumi.Input[str] | None = None
    """The adapter queries https://aps-workspaces.<region>.amazonaws.com/workspaces/<id> through the proxy."""
    prometheus_url: str | None = None
    """Instead of the four above (on-prem): the in-cluster Prometheus it queries directly."""
    engines: tuple[str, ...] = ("tgi",)
    """Engines of the hpa-mode models on this cluster: the adapter serves each one's queue metric."""
    replicas: int = 2
    """Adapter replicas: HPAs read through it, so one must survive a node drain."""
    node_selector: Mapping[str, str] = field(default_factory=dict)
    """Labels of the system nodes the adapter runs on (never GPU nodes)."""

    def __post_init__(self) -> None:
        check_region(self.region)
        if not self.engines:
            raise ValueError(f"engines: at least one of {', '.join(engines.ENGINES)} (the hpa-mode models' engines)")
        for name in self.engines:
            engines.engine(name)  # rejects an unknown engine, naming the allowed ones
        if isinstance(self.replicas, bool) or not isinstance(self.replicas, int) or not 1 <= self.replicas <= 3:
            raise ValueError(f"replicas: must be 1, 2 or 3 (got {self.replicas!r})")
        given = [v is not None for v in (self.cluster_name, self.cluster_arn, self.workspace_arn, self.workspace_id)]
        if (self.prometheus_url is None and not all(given)) or (self.prometheus_url is not None and any(given)):
            raise ValueError(
                "prometheus_url: either an in-cluster Prometheus, or cluster_name, cluster_arn, workspace_arn "
                "and workspace_id (the region's AMP workspace)"
            )


class PrometheusAdapter(pulumi.ComponentResource):
    """prometheus-adapter's objects from the pinned chart, in the monitoring namespace (which must exist:
    `depends_on`)."""

    def __init__(self, name: str, args: PrometheusAdapterArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("llm-serving:autoscaling:PrometheusAdapter", name, None, opts)
        identity: list[pulumi.Resource] = []
        sidecars: list[dict[str, Any]] = []
        self.role_arn: pulumi.Output[str] | None = None
        if args.prometheus_url is not None:
            url: pulumi.Input[str] = f"--prometheus-url={args.prometheus_url}"
        else:
            role = self._identity(name, args)
            identity.append(role)
            self.role_arn = role.role_arn
            sidecars.append(self._sigv4_proxy(args.region))
            url = pulumi.Output.from_input(args.workspace_id).apply(
                lambda wid: f"--prometheus-url=http://127.0.0.1:{SIGV4_PROXY_PORT}/workspaces/{wid}"
            )
        namespace = conventions.MONITORING_NAMESPACE
        labels = {"app.kubernetes.io/part-of": "llm-serving", "component": "autoscaling"}
        rules = adapter_rules(args.engines)
        config = manifests.config_text(rules)
        # The caller's depends_on (the collector, which creates the monitoring namespace) too:
        # these objects go into that namespace and do not create it.
        in_namespace = pulumi.ResourceOptions(parent=self, depends_on=inherited_depends_on(opts))
        setup = declare_objects(name, manifests.objects(namespace, config, labels), in_namespace)
        workload = declare_objects(
            name,
            [manifests.deployment(namespace, args.replicas, url, config, sidecars, args.node_selector, labels)],
            # The association must exist before the pod starts, or the proxy signs with nothing.
            pulumi.ResourceOptions(parent=self, depends_on=[*identity, *setup.values()]),
        )
        # Registered once the adapter runs, so discovery never sees an unavailable metrics API.
        declare_objects(
            name,
            [manifests.api_service(namespace, labels)],
            pulumi.ResourceOptions(parent=self, depends_on=list(workload.values())),
        )
        self.register_outputs({"role_arn": self.role_arn, "chart_version": CHART_VERSION})

    def _identity(self, name: str, args: PrometheusAdapterArgs) -> PodIdentityRole:
        # __post_init__: all given when there is no in-cluster Prometheus.
        assert args.cluster_name is not None and args.cluster_arn is not None and args.workspace_arn is not None
        workspace_arn = args.workspace_arn
        return PodIdentityRole(
            f"{name}-identity",
            PodIdentityRoleArgs(
                cluster_name=args.cluster_name,
                cluster_arn=args.cluster_arn,
                namespace=conventions.MONITORING_NAMESPACE,
                service_account=SERVICE_ACCOUNT,
                policy=pulumi.Output.from_input(workspace_arn).apply(lambda arn: json.dumps(reader_policy(arn))),
                component="autoscaling",
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )

    @staticmethod
    def _sigv4_proxy(region: str) -> dict[str, Any]:
        return {
            "name": "aws-sigv4-proxy",
            "image": SIGV4_PROXY_IMAGE,
            # Localhost only: no other pod may borrow the adapter's AWS identity through it.
            "args": [
                "--name",
                "aps",
                "--region",
                region,
                "--host",
                f"aps-workspaces.{region}.amazonaws.com",
                "--port",
                f"127.0.0.1:{SIGV4_PROXY_PORT}",
            ],
            "resources": {"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"cpu": "250m", "memory": "128Mi"}},
            "securityContext": {
                "allowPrivilegeEscalation": False,
                "readOnlyRootFilesystem": True,
                "runAsNonRoot": True,
                "runAsUser": 65534,
                "capabilities": {"drop": ["ALL"]},
                "seccompProfile": {"type": "RuntimeDefault"},
            },
        }
