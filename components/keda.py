"""KEDA on one cluster, reading the region's AMP workspace as its own Pod Identity.

Its objects (CRDs, operator, metrics API server, RBAC, APIService) are declared one by one from
the pinned chart's templates (`keda_manifests.py`), so the plan, its manifests and the policy
pack see every one of them.

The operator's role may `aps:QueryMetrics` on that one workspace, and, only when a model scales
to zero on the API Gateway request count, `cloudwatch:GetMetricData` in this region (the action
has no resource-level permissions). The TriggerAuthentication `keda-aws` in the serving
namespace tells the prometheus and aws-cloudwatch scalers to sign with that identity
(`podIdentity.provider: aws`, identity owner: the operator).

On an on-prem target (no `workspace_arn`) KEDA has no AWS identity and no TriggerAuthentication:
its scalers read the target's own Prometheus in-cluster (`metrics_collector`, `serve_queries`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi

from components import conventions, keda_manifests
from components.arg_checks import check_environment, check_region
from components.depends import inherited_depends_on
from components.kube import ConfigGroup, KubernetesObject, declare_objects
from components.pod_identity import PodIdentityRole, PodIdentityRoleArgs
from components.upstream import yaml_stream

# The KEDA release line of the CRD schemas the tests validate against (tests/schemas/keda).
CHART_VERSION = keda_manifests.CHART_VERSION
OPERATOR_SERVICE_ACCOUNT = keda_manifests.OPERATOR  # the chart's default operator service account
TRIGGER_AUTHENTICATION = "keda-aws"


def operator_policy(workspace_arn: str, region: str, cloudwatch: bool) -> dict[str, Any]:
    """The KEDA operator's permissions: query one workspace; read CloudWatch metrics if asked."""
    statements: list[dict[str, Any]] = [
        {"Sid": "QueryTheRegionsWorkspace", "Effect": "Allow", "Action": "aps:QueryMetrics", "Resource": workspace_arn}
    ]
    if cloudwatch:
        statements.append(
            {
                # GetMetricData supports no resource ARNs; the region condition is the narrowest scope.
                "Sid": "ReadGatewayRequestCounts",
                "Effect": "Allow",
                "Action": "cloudwatch:GetMetricData",
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:RequestedRegion": region}},
            }
        )
    return {"Version": "2012-10-17", "Statement": statements}


def trigger_authentication(namespace: str) -> dict[str, Any]:
    """The TriggerAuthentication object (apiVersion, kind, metadata, spec)."""
    return {
        "apiVersion": "keda.sh/v1alpha1",
        "kind": "TriggerAuthentication",
        "metadata": {
            "name": TRIGGER_AUTHENTICATION,
            "namespace": namespace,
            "labels": {"app.kubernetes.io/part-of": "llm-serving", "component": "autoscaling"},
        },
        "spec": {"podIdentity": {"provider": "aws", "identityOwner": "keda"}},
    }


@dataclass(frozen=True)
class KedaArgs:
    environment: str
    """Environment; the TriggerAuthentication goes to `serving_namespace(environment)`."""
    region: str
    cluster_name: pulumi.Input[str] | None = None
    cluster_arn: pulumi.Input[str] | None = None
    workspace_arn: pulumi.Input[str] | None = None
    """The only workspace the operator may query (EKS); None: no AWS identity (on-prem)."""
    cloudwatch_signal: bool = False
    """Grant CloudWatch reads for scale-from-zero on the API Gateway request count."""
    replicas: int = 2
    """Operator and metrics-server replicas (the operator elects a leader)."""
    node_selector: Mapping[str, str] = field(default_factory=dict)
    """Labels of the system nodes the operator and metrics server run on (never GPU nodes)."""

    def __post_init__(self) -> None:
        check_environment(self.environment)
        check_region(self.region)
        if isinstance(self.replicas, bool) or not isinstance(self.replicas, int) or not 1 <= self.replicas <= 3:
            raise ValueError(f"replicas: must be 1, 2 or 3 (got {self.replicas!r})")
        given = [f for f in ("cluster_name", "cluster_arn", "workspace_arn") if getattr(self, f) is not None]
        if given and len(given) != 3:
            raise ValueError("cluster_name, cluster_arn, workspace_arn: all three (EKS) or none (on-prem)")
        if self.cloudwatch_signal and not given:
            raise ValueError("cloudwatch_signal: needs the operator's AWS identity (cluster_arn, workspace_arn)")

    @property
    def aws_identity(self) -> bool:
        return self.workspace_arn is not None


class Keda(pulumi.ComponentResource):
    """KEDA's objects from the pinned chart, its Pod Identity role and the TriggerAuthentication scalers use."""

    trigger_authentication_name: str | None
    """The scalers' TriggerAuthentication; None on-prem (nothing to sign)."""

    def __init__(self, name: str, args: KedaArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("llm-serving:autoscaling:Keda", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        labels = {"app.kubernetes.io/part-of": "llm-serving", "component": "autoscaling"}

        identity: list[pulumi.Resource] = []
        self.operator_role_arn: pulumi.Output[str] | None = None
        cluster_name, cluster_arn, workspace_arn = args.cluster_name, args.cluster_arn, args.workspace_arn
        if cluster_name is not None and cluster_arn is not None and workspace_arn is not None:  # EKS
            role = PodIdentityRole(
                f"{name}-operator-identity",
                PodIdentityRoleArgs(
                    cluster_name=cluster_name,
                    cluster_arn=cluster_arn,
                    namespace=conventions.KEDA_NAMESPACE,
                    service_account=OPERATOR_SERVICE_ACCOUNT,
                    policy=pulumi.Output.from_input(workspace_arn).apply(
                        lambda arn: json.dumps(operator_policy(arn, args.region, args.cloudwatch_signal))
                    ),
                    component="autoscaling",
                ),
                opts=child,
            )
            identity.append(role)
            self.operator_role_arn = role.role_arn
        namespace = KubernetesObject(
            f"{name}-ns",
            {
                "apiVersion": "v1",
                "kind": "Namespace",
                "metadata": {
                    "name": conventions.KEDA_NAMESPACE,
                    "labels": {**labels, "pod-security.kubernetes.io/enforce": "restricted"},
                },
            },
            opts=child,
        )
        in_namespace = pulumi.ResourceOptions(parent=self, depends_on=[namespace])
        # The six CRDs in one group: the operator watches every KEDA kind, so all come before it.
        crds = ConfigGroup(f"{name}-crds", yaml_stream(keda_manifests.crds()), child)
        manifests = keda_manifests.objects(conventions.KEDA_NAMESPACE, args.replicas, args.node_selector, {**labels})
        workloads = [m for m in manifests if m["kind"] == "Deployment"]
        api = [m for m in manifests if m["kind"] == "APIService"]
        setup = declare_objects(name, [m for m in manifests if m not in workloads and m not in api], in_namespace)
        # The operator watches every KEDA kind and needs its identity, account and roles first;
        # the Pod Identity association must exist before it starts, or it runs without credentials.
        deployments = declare_objects(
            name,
            workloads,
            pulumi.ResourceOptions(parent=self, depends_on=[namespace, *identity, crds, *setup.values()]),
        )
        # Registered once its server runs, so discovery never sees an unavailable metrics API.
        declare_objects(name, api, pulumi.ResourceOptions(parent=self, depends_on=list(deployments.values())))
        self.trigger_authentication_name = None
        if args.aws_identity:
            self.trigger_authentication_name = TRIGGER_AUTHENTICATION
            KubernetesObject(
                f"{name}-trigger-auth",
                trigger_authentication(conventions.serving_namespace(args.environment)),
                # In the serving namespace: waits for it too when the caller names it.
                opts=pulumi.ResourceOptions(
                    parent=self,
                    depends_on=[
                        crds,
                        *deployments.values(),
                        *inherited_depends_on(opts),
                    ],
                ),
            )
        self.crds = crds
        self.register_outputs({"operator_role_arn": self.operator_role_arn, "chart_version": CHART_VERSION})
