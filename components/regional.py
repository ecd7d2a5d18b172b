"""RegionalPlatform: everything llm-serving declares in one AWS region, composed in data-flow order.

It is built in two halves, the deploy phases (`llm-serving:deploy_phase`, stacks/platform.py):

- the foundation, AWS resources only, none of which needs the cluster's API: encryption, network,
  the private path to the data centre, the weight store, the metrics workspace, the EKS cluster
  (control plane, add-ons, system nodes, access entries), the GPU node groups and the deploy runner;
- the workloads (`RegionalPlatformArgs.workloads`), everything applied through the cluster's
  Kubernetes provider and the AWS resources that exist for it: the provider itself, the device
  plugin and Cluster Autoscaler, the serving namespace and model servers with their Pod Identity
  associations, the gateway's private path (NLB, VPC link and the controller that fills its target
  groups), the API Gateway, WAF and hostname in front of it, and autoscaling. The front door stays
  with the workloads: its VPC link and routes lead to model servers only this half declares, and a
  public API with nothing behind it would only answer errors.

A foundation resource is declared the same way, under the same name and parent, in both phases, so
the second run (`all`) changes nothing the first created.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components.autoscaling import Autoscaling, AutoscalingArgs, ModelAutoscaling, RegionWorkspace
from components.cidr_plan import plan_subnets
from components.cluster import GpuCluster, GpuClusterArgs
from components.cluster_autoscaler import ClusterAutoscaler, ClusterAutoscalerArgs
from components.conventions import (
    DATA_CLASSIFICATION_LABEL,
    GPU_TAINT,
    NVME_MODELS_PATH,
    data_classification,
    gateway_api_name,
    model_server_name,
    serving_namespace,
)
from components.datacentre_link import DataCentreLink, DataCentreLinkArgs
from components.deploy_runner import DeployRunner, DeployRunnerArgs
from components.device_plugin import GpuNodes, NvidiaDevicePlugin, NvidiaDevicePluginArgs
from components.encryption import Encryption, EncryptionArgs
from components.gateway import ApiGateway, ApiGatewayArgs, GatewayBackend
from components.gpu_nodes import GpuNodeGroup, GpuNodeGroupArgs
from components.hostname import RegionalHostname, RegionalHostnameArgs
from components.hybrid_nodes import node_labels
from components.metrics_collector import metrics_peers
from components.metrics_workspace import MetricsWorkspace, MetricsWorkspaceArgs
from components.model_hostnames import ModelHostname
from components.named_networks import NamedNetwork, hybrid_node_networks, hybrid_pod_networks
from components.network import Network, NetworkArgs
from components.private_path import PrivateBackend, PrivatePath, PrivatePathArgs, gateway_peers
from components.scaling import GatewaySignal
from components.serving import (
    ModelServer,
    ModelServerArgs,
    PodIdentityCredentials,
    ServedModel,
    WeightsSource,
    cold_start_seconds,
)
from components.serving_namespace import ServingNamespace, ServingNamespaceArgs
from components.tenants import TenantSpec
from components.waf_rules import COMMON_RULES_TO_COUNT
from components.weights import WeightStore, WeightStoreArgs


@dataclass(frozen=True)
class ClusterSettings:
    """The region's EKS cluster, from `regions[].cluster` of the stack config."""

    kubernetes_version: str = "1.35"
    public_endpoint: bool = False
    public_access_cidrs: tuple[str, ...] = ()
    admin_role_arns: tuple[str, ...] = ()
    log_retention_days: int = 90
    system_instance_type: str = "m6i.xlarge"
    system_min_nodes: int = 2
    system_max_nodes: int = 4


@dataclass(frozen=True)
class GpuNodeGroupSettings:
    """One GPU node group, from `regions[].node_groups[]` of the stack config."""

    name: str
    gpu: str
    instance_type: str
    min_nodes: int
    desired_nodes: int
    max_nodes: int
    capacity_type: str = "on-demand"
    capacity_reservation_id: str | None = None
    root_volume_gib: int = 200
    availability_zones: tuple[str, ...] | None = None
    """A subset of the region's zones; None: all of them."""


@dataclass(frozen=True)
class FrontDoorSettings:
    """The region's API Gateway, from `gateway` of the stack config."""

    tenants: tuple[TenantSpec, ...] = ()
    tenant_key_values: Mapping[str, pulumi.Input[str]] | None = None
    """One key value per tenant shared by every region (`TenantSecrets`), so a key works wherever
    a model hostname sends it."""
    max_body_kib: int = 256
    waf_rate_limit_per_5min: int = 2000
    waf_rules_to_count: tuple[str, ...] = COMMON_RULES_TO_COUNT
    """Rules of the AWS Common rule set that only count (WebAclArgs.common_rules_to_count)."""
    hosted_zone_id: str | None = None
    domain_name: str | None = None
    hostnames: tuple[ModelHostname, ...] = ()
    """The model hostnames this region answers with a hosted zone (components/model_hostnames.py)."""


@dataclass(frozen=True)
class DataCentreLinkSettings:
    """The private path to the data centre, from `datacentre` of the stack config."""

    name: str
    cidrs: tuple[str, ...]
    customer_gateway_ip: str | None
    """The VPN's customer gateway; None: Direct Connect only."""
    customer_gateway_asn: int | None
    amazon_side_asn: int
    """This region's gateway's ASN."""
    gateway: str = "transit-gateway"
    direct_connect_gateway_id: pulumi.Input[str] | None = None
    endpoint_clients: tuple[NamedNetwork, ...] = ()
    """The data centre networks the primary region's interface endpoints admit."""


@dataclass(frozen=True)
class HybridNodesSettings:
    """An eks-hybrid-nodes target joining this region's cluster, from `onprem_targets[]`."""

    name: str
    gpu: str
    node_cidrs: tuple[str, ...]
    pod_cidrs: tuple[str, ...]
    weights_path: str
    """The machines' weight directory (their hot tier)."""
    client_networks: tuple[NamedNetwork, ...] = ()
    """The data centre networks that may call its model servers (they have no gateway route)."""


@dataclass(frozen=True)
class DeployRunnerSettings:
    """The region's deploy runner, from `deploy` of the stack config."""

    github_repository: str
    connection_arn: str
    compute_type: str


@dataclass(frozen=True)
class RegionalPlatformArgs:
    environment: str
    """dev, staging or prod: names, tags and defaults derive from it."""
    region: str
    """The AWS region; the caller's provider (in `opts`) must target the same region."""
    primary: bool
    """The primary region owns the multi-region weights key and the source weight bucket."""
    availability_zones: tuple[str, ...]
    vpc_cidr: str
    nat_mode: str
    """`per-az` (one NAT gateway per zone) or `one` (shared, cheaper, a single-zone dependency)."""
    cluster_name: str
    account_id: pulumi.Input[str]
    weights_primary_key_arn: pulumi.Input[str] | None = None
    """Set in secondary regions: their weights key is a replica of the primary's multi-region key."""
    protect: bool = False
    """Protect stateful resources (KMS keys, weight buckets) from deletion."""
    log_retention_days: int = 365
    weights_bucket_suffix: pulumi.Input[str] | None = None
    """Random hex for the globally unique weight bucket names; None: no WeightStore in this region."""
    archived_revisions: tuple[tuple[str, str], ...] = ()
    """(model, revision) pairs the weight bucket's lifecycle moves to the cold tier."""
    models: tuple[ServedModel, ...] = ()
    """Model servers of this region, on the region's cluster."""
    cluster: ClusterSettings = ClusterSettings()
    autoscaling: tuple[ModelAutoscaling, ...] = ()
    """How each model scales (`stacks.platform.model_autoscaling`); models not listed get no scaler."""
    node_groups: tuple[GpuNodeGroupSettings, ...] = ()
    front_door: FrontDoorSettings | None = None
    """None: no API Gateway in this region (the model servers are reachable in-cluster only)."""
    datacentre: DataCentreLinkSettings | None = None
    """None: no private path to a data centre from this region."""
    hybrid_nodes: tuple[HybridNodesSettings, ...] = ()
    """On-prem machines joined to this region's cluster; the models they run are in `models`, placed
    with `Placement.hybrid_target`."""
    deploy_runner: DeployRunnerSettings | None = None
    """None: no CodeBuild runner in this region's VPC."""
    workloads: bool = True
    """False: the foundation only (deploy phase `foundation`): nothing that needs the cluster's API."""

    def __post_init__(self) -> None:
        targets = {hybrid.name for hybrid in self.hybrid_nodes}
        for served in self.models:
            target = served.placement.hybrid_target
            if target is not None and target not in targets:
                raise ValueError(
                    f"models: '{served.model.name}' is placed on hybrid nodes '{target}', not in hybrid_nodes "
                    f"({', '.join(sorted(targets)) or 'none'})"
                )
        if self.hybrid_nodes and self.datacentre is None:
            raise ValueError("hybrid_nodes: need datacentre (the private path their networks are routed over)")


class RegionalPlatform(pulumi.ComponentResource):
    """Built in data-flow order: encryption, network, weights, metrics workspace, cluster, GPU
    capacity, the deploy runner; then (workloads) model servers on the cluster, the front door to
    them, autoscaling."""

    def __init__(self, name: str, args: RegionalPlatformArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("llm-serving:platform:RegionalPlatform", name, None, opts)
        self._name = name
        self._args = args
        # The subnets `Network` lays out, known before any resource exists.
        self._private_subnet_cidrs = tuple(plan_subnets(args.vpc_cidr, len(args.availability_zones)).private)
        if args.models and args.weights_bucket_suffix is None:
            raise ValueError("weights_bucket_suffix: required to serve models (no WeightStore in this region)")
        self._declare_foundation()
        self.servers: dict[str, ModelServer] = {}
        self.routed_servers: dict[str, ModelServer] = {}
        self.serving_namespace: ServingNamespace | None = None
        self.gateway: ApiGateway | None = None
        self.autoscaling: Autoscaling | None = None
        if args.workloads:
            self._declare_workloads()

        self.outputs = {
            "metrics_workspace_arn": self.metrics.workspace_arn,
            "vpc_id": self.network.vpc_id,
            "private_subnet_ids": self.network.private_subnet_ids,
            "kms_key_arns": self.encryption.key_arns,
            "cluster_name": self.cluster.cluster_name,
            "cluster_endpoint": self.cluster.cluster_endpoint,
        }
        if self.weights is not None:
            self.outputs["weights_bucket"] = self.weights.bucket_name
        if self.deploy_runner is not None:
            self.outputs["deploy_runner_project"] = self.deploy_runner.project_name
        if self.gateway is not None:
            self.outputs["api_url"] = self.api_url
            if self.model_urls:
                self.outputs["model_urls"] = self.model_urls
        self.register_outputs(self.outputs)

    def _declare_foundation(self) -> None:
        """The AWS half: nothing here reaches the cluster's API."""
        name, args = self._name, self._args
        child = pulumi.ResourceOptions(parent=self)
        self.encryption = Encryption(
            f"{name}-encryption",
            EncryptionArgs(
                environment=args.environment,
                region=args.region,
                account_id=args.account_id,
                weights_primary_key_arn=args.weights_primary_key_arn,
                protect=args.protect,
            ),
            opts=child,
        )
        self.network = Network(
            f"{name}-network",
            NetworkArgs(
                environment=args.environment,
                region=args.region,
                vpc_cidr=args.vpc_cidr,
                availability_zones=args.availability_zones,
                nat_mode=args.nat_mode,  # type: ignore[arg-type]
                cluster_name=args.cluster_name,
                flow_logs_kms_key_arn=self.encryption.logs_key_arn,
                flow_log_retention_days=args.log_retention_days,
            ),
            opts=child,
        )
        self.datacentre_link = self._link_datacentre() if args.datacentre is not None else None
        self.weights: WeightStore | None = None
        if args.weights_bucket_suffix is not None:
            self.weights = WeightStore(
                f"{name}-weights",
                WeightStoreArgs(
                    environment=args.environment,
                    region=args.region,
                    suffix=args.weights_bucket_suffix,
                    kms_key_arn=self.encryption.weights_key_arn,
                    account_id=args.account_id,
                    # Known before the cluster exists: its name is fixed by config.
                    cluster_arn=pulumi.Output.all(aws.get_partition_output().partition, args.account_id).apply(
                        lambda values: f"arn:{values[0]}:eks:{args.region}:{values[1]}:cluster/{args.cluster_name}"
                    ),
                    namespace=serving_namespace(args.environment),
                    service_accounts=tuple(model_server_name(served.model.name) for served in args.models),
                    archived_revisions=args.archived_revisions,
                    log_retention_days=args.log_retention_days,
                    protect=args.protect,
                ),
                opts=child,
            )
        self.metrics = MetricsWorkspace(
            f"{name}-metrics",
            MetricsWorkspaceArgs(
                environment=args.environment,
                region=args.region,
                account_id=args.account_id,
                logs_key_arn=self.encryption.logs_key_arn,
                log_retention_days=args.log_retention_days,
                protect=args.protect,
            ),
            opts=child,
        )
        settings = args.cluster
        self.cluster = GpuCluster(
            f"{name}-cluster",
            GpuClusterArgs(
                environment=args.environment,
                region=args.region,
                cluster_name=args.cluster_name,
                kubernetes_version=settings.kubernetes_version,
                private_subnet_ids=self.network.private_subnet_ids,
                vpc_id=self.network.vpc_id,
                vpc_cidr=args.vpc_cidr,
                eks_secrets_key_arn=self.encryption.eks_secrets_key_arn,
                logs_key_arn=self.encryption.logs_key_arn,
                ebs_key_arn=self.encryption.ebs_key_arn,
                account_id=args.account_id,
                log_retention_days=settings.log_retention_days,
                public_endpoint=settings.public_endpoint,
                public_access_cidrs=settings.public_access_cidrs,
                admin_role_arns=settings.admin_role_arns,
                remote_node_networks=tuple(
                    n for hybrid in args.hybrid_nodes for n in hybrid_node_networks(hybrid.name, hybrid.node_cidrs)
                ),
                remote_pod_networks=tuple(
                    n for hybrid in args.hybrid_nodes for n in hybrid_pod_networks(hybrid.name, hybrid.pod_cidrs)
                ),
                system_instance_type=settings.system_instance_type,
                system_min_nodes=settings.system_min_nodes,
                system_max_nodes=settings.system_max_nodes,
                protect=args.protect,
            ),
            opts=child,
        )
        self.gpu_node_groups = self._add_gpu_node_groups()
        self.deploy_runner = self._add_deploy_runner() if args.deploy_runner is not None else None

    def _declare_workloads(self) -> None:
        """The Kubernetes half, through the cluster's provider, and the AWS resources that exist for it."""
        args = self._args
        provider = self.cluster.kubernetes_provider()
        self._add_gpu_node_agents(provider)
        if self.weights is not None:
            self.servers = self._serve_models(
                provider,
                self.cluster.cluster_name,
                gateway_peers=gateway_peers(self._private_subnet_cidrs),
                metrics_peers=metrics_peers(),
            )
        # Models on hybrid nodes are called from the data centre, not through the region's gateway.
        self.routed_servers = {
            model: server for model, server in self.servers.items() if self._hybrid_target_of(model) is None
        }
        self.gateway = self._add_front_door(provider) if self.routed_servers else None
        # Autoscaling watches GPU nodes (DCGM) and scales GPU workloads: with no GPU nodes it has
        # nothing to act on, and kubernetes-scaler-fits-gpu-capacity rightly rejects scalers with no
        # capacity behind them.
        if self.gpu_node_groups or args.hybrid_nodes:
            # A model scaled to zero wakes on its gateway stage's request count.
            wake = GatewaySignal(self.gateway.api_name, self.gateway.stage_name) if self.gateway else None
            self.autoscaling = self._add_autoscaling(
                provider,
                self.cluster.cluster_name,
                self.cluster.cluster_arn,
                args.autoscaling,
                {model: server.deployment for model, server in self.servers.items()},
                gateway=wake,
            )

    @property
    def private_subnet_cidrs(self) -> tuple[str, ...]:
        """The private subnets' CIDRs, one per zone in zone order (known before anything exists)."""
        return self._private_subnet_cidrs

    def _add_deploy_runner(self) -> DeployRunner:
        """The CodeBuild runner in the private subnets: how `pulumi up` of the workloads reaches the cluster."""
        args, settings = self._args, self._args.deploy_runner
        assert settings is not None  # checked by the caller
        return DeployRunner(
            f"{self._name}-deploy-runner",
            DeployRunnerArgs(
                environment=args.environment,
                region=args.region,
                account_id=args.account_id,
                vpc_id=self.network.vpc_id,
                vpc_cidr=args.vpc_cidr,
                private_subnet_ids=self.network.private_subnet_ids,
                logs_key_arn=self.encryption.logs_key_arn,
                github_repository=settings.github_repository,
                connection_arn=settings.connection_arn,
                compute_type=settings.compute_type,
                log_retention_days=args.log_retention_days,
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _add_gpu_node_groups(self) -> dict[str, GpuNodeGroup]:
        """GPU node groups by config name (AWS resources; the agents on them are workloads)."""
        name, args = self._name, self._args
        subnet_of_zone = dict(zip(args.availability_zones, self.network.private_subnet_ids, strict=True))
        groups: dict[str, GpuNodeGroup] = {}
        for group in args.node_groups:
            groups[group.name] = GpuNodeGroup(
                f"{name}-gpu-{group.name}",
                GpuNodeGroupArgs(
                    environment=args.environment,
                    region=args.region,
                    cluster_name=args.cluster_name,
                    kubernetes_version=self.cluster.kubernetes_version,
                    node_role_arn=self.cluster.node_role_arn,
                    subnet_ids=[subnet_of_zone[zone] for zone in group.availability_zones or args.availability_zones],
                    ebs_key_arn=self.encryption.ebs_key_arn,
                    name=group.name,
                    gpu=group.gpu,
                    instance_type=group.instance_type,
                    min_nodes=group.min_nodes,
                    desired_nodes=group.desired_nodes,
                    max_nodes=group.max_nodes,
                    capacity_type=group.capacity_type,
                    capacity_reservation_id=group.capacity_reservation_id,
                    root_volume_gib=group.root_volume_gib,
                ),
                opts=pulumi.ResourceOptions(parent=self),
            )
        return groups

    def _add_gpu_node_agents(self, kubernetes_provider: pulumi.ProviderResource) -> None:
        """The NVIDIA device plugin (reaching every GPU group and hybrid target) and Cluster Autoscaler
        (scaling the groups, from zero) on the cluster."""
        name, args, groups = self._name, self._args, self.gpu_node_groups
        if not groups and not args.hybrid_nodes:
            return
        on_cluster = pulumi.ResourceOptions(parent=self, providers={"kubernetes": kubernetes_provider})
        hybrid = tuple(GpuNodes(labels=node_labels(h.name, h.gpu), taints=(GPU_TAINT,)) for h in args.hybrid_nodes)
        NvidiaDevicePlugin(
            f"{name}-nvidia-device-plugin",
            NvidiaDevicePluginArgs(
                environment=args.environment,
                gpu_nodes=tuple(GpuNodes(labels=g.labels, taints=(g.taint,)) for g in groups.values()) + hybrid,
            ),
            opts=on_cluster,
        )
        if not groups:
            return  # hybrid nodes only: nothing for Cluster Autoscaler to scale
        ClusterAutoscaler(
            f"{name}-cluster-autoscaler",
            ClusterAutoscalerArgs(
                environment=args.environment,
                region=args.region,
                cluster_name=args.cluster_name,
                cluster_arn=self.cluster.cluster_arn,
                kubernetes_version=self.cluster.kubernetes_version,
                node_selector=self.cluster.system_node_labels,
            ),
            opts=on_cluster,
        )

    def _link_datacentre(self) -> DataCentreLink:
        """Transit Gateway and Site-to-Site VPN from this region's private subnets to the data centre."""
        args, settings = self._args, self._args.datacentre
        assert settings is not None  # checked by the caller
        return DataCentreLink(
            f"{self._name}-datacentre",
            DataCentreLinkArgs(
                environment=args.environment,
                region=args.region,
                vpc_id=self.network.vpc_id,
                private_subnet_ids=tuple(self.network.private_subnet_ids),
                private_route_table_ids=tuple(self.network.private_route_table_ids),
                datacentre=settings.name,
                datacentre_cidrs=settings.cidrs,
                endpoint_clients=settings.endpoint_clients,
                customer_gateway_ip=settings.customer_gateway_ip,
                customer_gateway_asn=settings.customer_gateway_asn,
                amazon_side_asn=settings.amazon_side_asn,
                logs_key_arn=self.encryption.logs_key_arn,
                log_retention_days=args.log_retention_days,
                service_endpoints=args.primary,
                gateway=settings.gateway,
                vpc_cidr=args.vpc_cidr,
                direct_connect_gateway_id=settings.direct_connect_gateway_id,
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _add_front_door(self, kubernetes_provider: pulumi.ProviderResource) -> ApiGateway | None:
        """Internal NLB and VPC link to the model servers, then the REST API, WAF and (with a hosted
        zone) the regional leg of the model hostnames."""
        name, args, settings = self._name, self._args, self._args.front_door
        if settings is None:
            return None
        path = PrivatePath(
            f"{name}-private-path",
            PrivatePathArgs(
                environment=args.environment,
                region=args.region,
                vpc_id=self.network.vpc_id,
                private_subnet_ids=self.network.private_subnet_ids,
                private_subnet_cidrs=self._private_subnet_cidrs,
                pod_security_group_id=self.cluster.cluster_security_group_id,
                cluster_name=args.cluster_name,
                cluster_arn=self.cluster.cluster_arn,
                models=tuple(
                    PrivateBackend(
                        model, server.service_name, serving_namespace(args.environment), server.readiness_path
                    )
                    for model, server in self.routed_servers.items()
                ),
                protect=args.protect,
                node_selector=self.cluster.system_node_labels,
            ),
            opts=pulumi.ResourceOptions(parent=self, providers={"kubernetes": kubernetes_provider}),
        )
        served = {s.model.name: s for s in args.models}
        scaled_to_zero = {m.model for m in args.autoscaling if m.scale_to_zero}
        gateway = ApiGateway(
            f"{name}-gateway",
            ApiGatewayArgs(
                environment=args.environment,
                region=args.region,
                account_id=args.account_id,
                api_name=gateway_api_name(args.environment, args.region),
                vpc_link_id=path.vpc_link_id,
                backends=tuple(
                    GatewayBackend(
                        model=model,
                        url=path.backend_urls[model],
                        max_input_tokens=served[model].model.max_input_tokens,
                        max_body_kib=settings.max_body_kib,
                        max_total_tokens=served[model].model.max_total_tokens,
                        engine=served[model].engine,
                        cold_start_seconds=(
                            cold_start_seconds(served[model].model, served[model].placement.gpu)
                            if model in scaled_to_zero
                            else None
                        ),
                    )
                    for model in self.routed_servers
                ),
                logs_key_arn=self.encryption.logs_key_arn,
                lambda_key_arn=self.encryption.lambda_key_arn,
                tenants=settings.tenants,
                tenant_key_values=settings.tenant_key_values,
                log_retention_days=args.log_retention_days,
                max_body_kib=settings.max_body_kib,
                waf_rate_limit_per_5min=settings.waf_rate_limit_per_5min,
                waf_common_rules_to_count=settings.waf_rules_to_count,
                protect=args.protect,
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        hostname = RegionalHostname(
            f"{name}-hostname",
            RegionalHostnameArgs(
                environment=args.environment,
                region=args.region,
                rest_api_id=gateway.rest_api_id,
                api_name=gateway.api_name,
                stage_name=gateway.stage_name,
                invoke_url=gateway.invoke_url,
                hosted_zone_id=settings.hosted_zone_id,
                domain_name=settings.domain_name,
                hostnames=settings.hostnames,
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.api_url = hostname.url
        self.model_urls = hostname.model_urls
        return gateway

    def _serve_models(
        self,
        kubernetes_provider: pulumi.ProviderResource,
        cluster_name: pulumi.Input[str],
        gateway_peers: tuple[Mapping[str, Any], ...] = (),
        metrics_peers: tuple[Mapping[str, Any], ...] = (),
    ) -> dict[str, ModelServer]:
        """The serving namespace and a ModelServer per model on this region's cluster, each bound to
        the weight store's read-only role through EKS Pod Identity."""
        assert self.weights is not None  # checked by the caller
        name, args, weights = self._name, self._args, self.weights
        on_cluster = pulumi.ResourceOptions(parent=self, providers={"kubernetes": kubernetes_provider})
        namespace = self.serving_namespace = ServingNamespace(
            f"{name}-serving",
            ServingNamespaceArgs(
                environment=args.environment,
                weight_paths=(NVME_MODELS_PATH, *(hybrid.weights_path for hybrid in args.hybrid_nodes)),
            ),
            opts=on_cluster,
        )
        servers: dict[str, ModelServer] = {}
        for served in args.models:
            model = served.model.name
            # Pod Identity hands credentials only to pods created after the association: it comes
            # first, and the model's pods (whose init container syncs weights) after it and the
            # GPU node groups they run on.
            association = aws.eks.PodIdentityAssociation(
                f"{name}-{model}-pod-identity",
                cluster_name=cluster_name,
                namespace=namespace.name,
                service_account=model_server_name(model),
                role_arn=weights.model_server_role_arn,
                tags={
                    "Name": f"{name}-{model}-pod-identity",
                    "component": "serving",
                    "model": model,
                    DATA_CLASSIFICATION_LABEL: data_classification(served.sensitive),
                },
                opts=pulumi.ResourceOptions(parent=self),
            )
            server = ModelServer(
                f"{name}-{model}",
                ModelServerArgs(
                    environment=args.environment,
                    served=served,
                    namespace=namespace.name,
                    weights=self._weights_source(model),
                    gateway_peers=gateway_peers if self._hybrid_target_of(model) is None else (),
                    caller_networks=self._caller_networks(model),
                    metrics_peers=self._scrapers(model, metrics_peers),
                ),
                opts=pulumi.ResourceOptions.merge(
                    on_cluster,
                    pulumi.ResourceOptions(depends_on=[association, *self.gpu_node_groups.values()]),
                ),
            )
            servers[model] = server
        return servers

    def _hybrid_target_of(self, model: str) -> HybridNodesSettings | None:
        served = next(s for s in self._args.models if s.model.name == model)
        target = served.placement.hybrid_target
        return next((h for h in self._args.hybrid_nodes if h.name == target), None)

    def _weights_source(self, model: str) -> WeightsSource:
        """The region's bucket under Pod Identity; on hybrid nodes cached in the machines' own directory,
        and read through the private path's S3 interface endpoint where this region has one."""
        assert self.weights is not None  # checked by the caller
        pod_identity = PodIdentityCredentials()
        hybrid = self._hybrid_target_of(model)
        if hybrid is None:
            return WeightsSource(bucket=self.weights.bucket_name, region=self._args.region, credentials=pod_identity)
        link = self.datacentre_link
        return WeightsSource(
            bucket=self.weights.bucket_name,
            region=self._args.region,
            credentials=pod_identity,
            host_path=hybrid.weights_path,
            endpoint_url=link.weights_endpoint_url if link is not None else None,
        )

    def _caller_networks(self, model: str) -> tuple[NamedNetwork, ...]:
        """Data centre networks that may call a model server: on hybrid nodes those its target names
        (the gateway's private path does not reach them); none on the region's own nodes."""
        hybrid = self._hybrid_target_of(model)
        return hybrid.client_networks if hybrid is not None else ()

    def _scrapers(self, model: str, metrics_peers: tuple[Mapping[str, Any], ...]) -> tuple[Mapping[str, Any], ...]:
        """Who may scrape a model server: the metrics agent's pods. On hybrid nodes the CNI (Cilium)
        cannot tell the agent's pods on the VPC's nodes by their labels, so the private subnets the agent
        runs in may reach the metrics port (TGI's own port: config keeps engines that serve metrics on
        their API port off hybrid nodes)."""
        if self._hybrid_target_of(model) is None:
            return metrics_peers
        return (*metrics_peers, *({"ipBlock": {"cidr": cidr}} for cidr in self._private_subnet_cidrs))

    def _add_autoscaling(
        self,
        kubernetes_provider: pulumi.ProviderResource,
        cluster_name: pulumi.Input[str],
        cluster_arn: pulumi.Input[str],
        models: Sequence[ModelAutoscaling],
        deployments: Mapping[str, pulumi.Resource],
        gateway: GatewaySignal | None = None,
    ) -> Autoscaling:
        """Metrics agent, KEDA, prometheus-adapter and per-model scalers on this region's cluster.

        `deployments` maps each model to its server's Deployment; `gateway` is the API Gateway stage
        that wakes models scaled to zero (required when one does).
        """
        return Autoscaling(
            f"{self._name}-autoscaling",
            AutoscalingArgs(
                environment=self._args.environment,
                region=self._args.region,
                cluster_name=cluster_name,
                signals=RegionWorkspace(
                    cluster_arn=cluster_arn,
                    workspace_arn=self.metrics.workspace_arn,
                    workspace_id=self.metrics.workspace_id,
                    query_url=self.metrics.query_url,
                    remote_write_url=self.metrics.remote_write_url,
                ),
                models=tuple(models),
                deployments=deployments,
                gateway=gateway,
                node_selector=self.cluster.system_node_labels,
            ),
            opts=pulumi.ResourceOptions(
                parent=self,
                providers={"kubernetes": kubernetes_provider},
                # Scalers, the trigger authentication and the agent's Role live in the serving namespace.
                depends_on=[self.serving_namespace] if self.serving_namespace else [],
            ),
        )
