"""Composition: one explicit provider and RegionalPlatform per region, on-prem targets, globals.

Reads like the architecture diagram; all decisions about values live in the components and in
`stacks.config`.

Deploy phases (`llm-serving:deploy_phase`). The clusters' API endpoints are private, so the first
`pulumi up` of a stack, run from outside its VPCs, cannot apply anything through a Kubernetes
provider. `foundation` declares only the AWS half, which needs no cluster API: per region the
foundation of `RegionalPlatform` (encryption, network, data centre link, weight store, metrics
workspace, EKS cluster with its add-ons, system nodes and access entries, GPU node groups, the
deploy runner), and globally the deploy paths to the secondary regions, the weight bucket suffix,
the Direct Connect gateway, weight replication, Roles Anywhere, the hybrid nodes' access entries,
the budget and the cost anomaly alerts. `all` adds the
workloads: the regions' Kubernetes halves (`RegionalPlatformArgs.workloads`; the front door goes
with them), the tenants' keys, and every on-prem target. The cut is one flag, `workloads` in
`build_platform` (read from `PlatformConfig.declares_workloads`, nowhere else); resources of the
foundation are declared identically in both phases (tests/stacks/test_deploy_phases.py), so the
run that adds the workloads changes none of them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s
import pulumi_random as random
import pulumi_tls as tls

from components import catalog, engines
from components.autoscaling import Autoscaling, AutoscalingArgs, InClusterSignals, ModelAutoscaling
from components.budget import Budget, BudgetArgs
from components.conventions import (
    COMPUTE_TYPE_LABEL,
    GPU_LABEL,
    GPU_TOLERATION,
    HYBRID_COMPUTE_TYPE,
    NODE_GROUP_LABEL,
)
from components.cost_anomaly import CostAnomalyAlerts, CostAnomalyAlertsArgs
from components.datacentre_link import DataCentreLink, DirectConnectGateway, DirectConnectGatewayArgs
from components.deploy_path import DeployPath, DeployPathArgs, PeerVpc
from components.hybrid_nodes import HybridNodes, HybridNodesArgs, node_labels
from components.metrics_collector import RolesAnywhereSigning, metrics_peers
from components.regional import (
    ClusterSettings,
    DataCentreLinkSettings,
    DeployRunnerSettings,
    FrontDoorSettings,
    GpuNodeGroupSettings,
    HybridNodesSettings,
    RegionalPlatform,
    RegionalPlatformArgs,
)
from components.roles_anywhere import HybridNodeTarget, RolesAnywhere, RolesAnywhereArgs, TargetCredentials
from components.serving import (
    ModelServer,
    ModelServerArgs,
    Placement,
    RolesAnywhereCredentials,
    SecretCredentials,
    ServedModel,
    WeightsCredentials,
    WeightsSource,
    resources_for,
)
from components.serving_namespace import ServingNamespace, ServingNamespaceArgs
from components.signing_helper import HelperSession
from components.tenants import TenantSecrets, TenantSecretsArgs, TenantSpec
from components.unique_suffix import UniqueSuffix
from components.weight_replication import ReplicaBucket, WeightReplication, WeightReplicationArgs
from stacks.config import (
    NAMESPACE,
    ModelConfig,
    OnPremTargetConfig,
    PlatformConfig,
    RegionConfig,
    from_pulumi_config,
)


def deploy() -> dict[str, Any]:
    """The program's entry point: returns the stack outputs."""
    return build_platform(from_pulumi_config())


def cluster_name(config: PlatformConfig, region: RegionConfig) -> str:
    return config.cluster_name


def cluster_settings(config: PlatformConfig, region: RegionConfig) -> ClusterSettings:
    cluster = region.cluster
    return ClusterSettings(
        kubernetes_version=cluster.kubernetes_version,
        public_endpoint=cluster.public_endpoint,
        public_access_cidrs=tuple(cluster.public_access_cidrs),
        # The listed admins, then the deploy role: the workloads phase applies as it.
        admin_role_arns=config.admin_roles(region),
        log_retention_days=cluster.log_retention_days,
        system_instance_type=cluster.system_nodes.instance_type,
        system_min_nodes=cluster.system_nodes.min_nodes,
        system_max_nodes=cluster.system_nodes.max_nodes,
    )


def node_group_settings(region: RegionConfig) -> tuple[GpuNodeGroupSettings, ...]:
    return tuple(
        GpuNodeGroupSettings(
            name=group.name,
            gpu=group.gpu,
            instance_type=group.resolved_instance_type,
            min_nodes=group.min_nodes,
            desired_nodes=group.resolved_desired_nodes,
            max_nodes=group.max_nodes,
            capacity_type=group.capacity_type,
            capacity_reservation_id=group.capacity_reservation_id,
            root_volume_gib=group.root_volume_gib,
            availability_zones=tuple(group.availability_zones) if group.availability_zones else None,
        )
        for group in region.node_groups
    )


def datacentre_link_settings(
    config: PlatformConfig, region: RegionConfig, direct_connect: DirectConnectGateway | None
) -> DataCentreLinkSettings | None:
    datacentre = config.datacentre
    if datacentre is None:
        return None
    vpn = datacentre.vpn
    return DataCentreLinkSettings(
        name=datacentre.name,
        cidrs=tuple(datacentre.cidrs),
        customer_gateway_ip=vpn.customer_gateway_ip if vpn else None,
        customer_gateway_asn=vpn.bgp_asn if vpn else None,
        amazon_side_asn=config.transit_gateway_asn(region.name),
        gateway=datacentre.gateway,
        direct_connect_gateway_id=direct_connect.gateway_id if direct_connect else None,
        endpoint_clients=config.endpoint_clients() if region.primary else (),
    )


def direct_connect_gateway(config: PlatformConfig, provider: aws.Provider) -> DirectConnectGateway | None:
    """The Direct Connect gateway every region associates with, when the data centre has a connection."""
    datacentre = config.datacentre
    direct = datacentre.direct_connect if datacentre else None
    if datacentre is None or direct is None:
        return None
    return DirectConnectGateway(
        f"{config.environment}-{datacentre.name}-direct-connect",
        DirectConnectGatewayArgs(
            environment=config.environment,
            datacentre=datacentre.name,
            connection_id=direct.connection_id,
            vlan=direct.vlan,
            bgp_asn=direct.bgp_asn,
            amazon_side_asn=direct.amazon_side_asn,
            gateway=datacentre.gateway,
        ),
        # A global resource, managed through the primary region's endpoint.
        opts=pulumi.ResourceOptions(providers={"aws": provider}),
    )


def front_door_settings(
    config: PlatformConfig, region: RegionConfig, tenant_key_values: Mapping[str, pulumi.Output[str]]
) -> FrontDoorSettings:
    """The region's gateway: keys and usage plans for the tenants policy.data_residency leaves here, each
    with the models this region serves (a model served elsewhere has no route here to allow)."""
    gateway = config.gateway
    served = {model.name for model in config.models_in_region(region.name)}
    return FrontDoorSettings(
        tenants=tuple(
            TenantSpec(
                name=tenant.name,
                models=tuple(m for m in tenant.models if m in served),
                rate_limit_rps=share.rate_limit_rps,
                burst=share.burst,
                monthly_quota=share.monthly_quota,
            )
            for tenant in config.tenants_in_region(region.name)
            if served & set(tenant.models)
            # Limits are global: this region's plan enforces its share (gateway.tenants[].region_shares).
            for share in (config.tenant_limits_in(tenant, region.name),)
        ),
        tenant_key_values=tenant_key_values,
        max_body_kib=gateway.max_body_kib,
        waf_rate_limit_per_5min=gateway.waf_rate_limit_per_5min,
        waf_rules_to_count=tuple(gateway.waf_rules_to_count),
        hosted_zone_id=gateway.hosted_zone_id,
        domain_name=gateway.domain_name,
        hostnames=tuple(config.gateway_hostnames().get(region.name, ())),
    )


def deploy_runner_settings(config: PlatformConfig, region: RegionConfig) -> DeployRunnerSettings | None:
    """The deploy runner, in the primary region's VPC (where its connection is); the secondary
    regions' clusters are reached from there over the deploy path."""
    deploy = config.deploy
    if deploy is None or not region.primary:
        return None
    return DeployRunnerSettings(
        github_repository=deploy.github_repository,
        connection_arn=deploy.connection_arn,
        compute_type=deploy.runner_compute_type,
    )


def aws_provider(config: PlatformConfig, region: RegionConfig) -> aws.Provider:
    """Explicit per-region provider: nothing lands in an implicit region, every resource is tagged."""
    return aws.Provider(
        f"aws-{region.name}",
        region=region.name,
        allowed_account_ids=[config.aws_account_id] if config.aws_account_id else None,
        default_tags=aws.ProviderDefaultTagsArgs(
            tags={
                "project": NAMESPACE,
                "environment": config.environment,
                "managed-by": "pulumi",
                "region-role": "primary" if region.primary else "secondary",
            }
        ),
    )


def onprem_provider(target: OnPremTargetConfig) -> k8s.Provider:
    """An on-prem cluster, reached with the kubeconfig from the stack's secrets."""
    assert target.kubeconfig is not None  # config requires it for kind kubernetes
    return k8s.Provider(
        f"onprem-{target.name}",
        kubeconfig=pulumi.Output.secret(target.kubeconfig.get_secret_value()),
        enable_server_side_apply=True,
    )


def model_spec(model: ModelConfig) -> engines.ModelSpec:
    tokens = model.tokens
    return engines.ModelSpec(
        name=model.name,
        revision=model.revision,
        parameters_billion=model.parameters_billion,
        family=model.family,
        quantization=model.quantization,
        shards=model.shards,
        max_input_tokens=tokens.max_input_tokens,
        max_total_tokens=tokens.max_total_tokens,
        max_batch_prefill_tokens=tokens.max_batch_prefill_tokens,
        max_batch_size=tokens.max_batch_size,
    )


def served_model(model: ModelConfig, placement: Placement, instance: catalog.InstanceType | None) -> ServedModel:
    cpu, memory_gib = resources_for(instance, model.shards)
    return ServedModel(
        model=model_spec(model),
        placement=placement,
        cpu=cpu,
        memory_gib=memory_gib,
        replicas=model.autoscaling.min_replicas,
        autoscaled=model.autoscaling.mode != "none",
        shm_size_gib=model.shm_size_gib,
        engine=model.engine,
        image=model.image,
        sensitive=model.sensitive,
    )


def regional_models(config: PlatformConfig, region: RegionConfig) -> tuple[ServedModel, ...]:
    groups = {group.name: group for group in region.node_groups}
    served = []
    for model in config.models_in_region(region.name):
        group = groups[model.node_group or ""]
        placement = Placement(
            gpu=group.gpu,
            node_selector={GPU_LABEL: group.gpu, NODE_GROUP_LABEL: group.name},
            tolerations=(GPU_TOLERATION,),
        )
        served.append(served_model(model, placement, catalog.instance_type(group.resolved_instance_type)))
    for model in config.models_on_hybrid_nodes(region.name):
        target = config.hybrid_target_of(model, region.name)
        assert target is not None  # models_on_hybrid_nodes found it
        served.append(served_model(model, hybrid_placement(target), None))
    return tuple(served)


def hybrid_placement(target: OnPremTargetConfig) -> Placement:
    """On one eks-hybrid-nodes target's machines: nodeadm's compute-type label, the labels the stack's
    NodeConfig registers them with, and the target's own node selector."""
    return Placement(
        gpu=target.gpu,
        node_selector={
            COMPUTE_TYPE_LABEL: HYBRID_COMPUTE_TYPE,
            **node_labels(target.name, target.gpu),
            **target.node_selector,
        },
        tolerations=(GPU_TOLERATION,),
        hybrid_target=target.name,
    )


def hybrid_nodes_settings(config: PlatformConfig, region: RegionConfig) -> tuple[HybridNodesSettings, ...]:
    return tuple(
        HybridNodesSettings(
            name=target.name,
            gpu=target.gpu,
            node_cidrs=tuple(target.hybrid.node_cidrs),
            pod_cidrs=tuple(target.hybrid.pod_cidrs),
            weights_path=target.weights_path,
            client_networks=tuple(config.datacentre_network(name) for name in target.client_networks),
        )
        for target in config.hybrid_targets_in(region.name)
        if target.hybrid is not None
    )


def archived_revisions(config: PlatformConfig) -> tuple[tuple[str, str], ...]:
    return tuple((model.name, revision) for model in config.models for revision in model.archived_revisions)


def build_platform(config: PlatformConfig) -> dict[str, Any]:
    workloads = config.declares_workloads  # the deploy phase's one cut (module docstring)
    regions: dict[str, RegionalPlatform] = {}
    providers: dict[str, aws.Provider] = {}
    # S3 bucket names are global: one random suffix, shared by every region's buckets.
    random_provider = random.Provider("random")
    # Local key and certificate generation (the LB controller's webhook CA), no cloud behind it.
    tls_provider = tls.Provider("tls")
    weights_suffix = UniqueSuffix(
        f"{config.environment}-weights-suffix",
        protect=config.protect,
        opts=pulumi.ResourceOptions(providers={"random": random_provider}),
    )
    # One key per tenant for every region: a model hostname may send a client to any region serving it.
    tenant_secrets = (
        TenantSecrets(
            f"{config.environment}-tenant-keys",
            TenantSecretsArgs(tenants=tuple(tenant.name for tenant in config.gateway.tenants)),
            opts=pulumi.ResourceOptions(providers={"random": random_provider}),
        )
        if workloads
        else None
    )
    weights_primary_key_arn: pulumi.Output[str] | None = None
    direct_connect: DirectConnectGateway | None = None
    # The primary goes first: secondaries replicate its multi-region weights key.
    for region in [config.primary_region, *config.secondary_regions]:
        provider = providers[region.name] = aws_provider(config, region)
        if region.primary:
            direct_connect = direct_connect_gateway(config, provider)
        identity = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(provider=provider))
        platform = RegionalPlatform(
            region.name,
            RegionalPlatformArgs(
                environment=config.environment,
                region=region.name,
                primary=region.primary,
                availability_zones=tuple(region.availability_zones),
                vpc_cidr=region.vpc_cidr,
                nat_mode=config.nat_mode(region),
                cluster_name=cluster_name(config, region),
                account_id=identity.account_id,
                weights_primary_key_arn=None if region.primary else weights_primary_key_arn,
                protect=config.protect,
                log_retention_days=config.log_retention_days,
                weights_bucket_suffix=weights_suffix.hex,
                archived_revisions=archived_revisions(config),
                models=regional_models(config, region),
                cluster=cluster_settings(config, region),
                autoscaling=tuple(model_autoscaling(config.models_in_cluster(region.name))),
                node_groups=node_group_settings(region),
                front_door=front_door_settings(config, region, tenant_secrets.values) if tenant_secrets else None,
                datacentre=datacentre_link_settings(config, region, direct_connect),
                hybrid_nodes=hybrid_nodes_settings(config, region),
                deploy_runner=deploy_runner_settings(config, region),
                workloads=workloads,
            ),
            opts=pulumi.ResourceOptions(providers={"aws": provider, "tls": tls_provider}),
        )
        if region.primary:
            weights_primary_key_arn = platform.encryption.weights_key_arn
        regions[region.name] = platform

    primary = regions[config.primary_region.name]
    primary_weights = primary.weights
    assert primary_weights is not None  # every region gets a WeightStore above
    secondaries = [regions[region.name] for region in config.secondary_regions]
    # Only regions that serve a model (on their node groups or hybrid nodes) receive weights.
    if any(config.models_in_cluster(region.name) for region in config.secondary_regions):
        WeightReplication(
            f"{config.environment}-weights-replication",
            WeightReplicationArgs(
                environment=config.environment,
                source_region=config.primary_region.name,
                source_bucket_name=primary_weights.bucket_name,
                source_bucket_arn=primary_weights.bucket_arn,
                source_kms_key_arn=primary_weights.kms_key_arn,
                account_id=aws.get_caller_identity_output(
                    opts=pulumi.InvokeOutputOptions(provider=providers[config.primary_region.name])
                ).account_id,
                destinations=tuple(
                    ReplicaBucket(region.name, store.bucket_arn, store.kms_key_arn, models)
                    for region in config.secondary_regions
                    if (store := regions[region.name].weights) is not None
                    and (models := tuple(m.name for m in config.models_in_cluster(region.name)))
                ),
            ),
            opts=pulumi.ResourceOptions(
                providers={"aws": providers[config.primary_region.name]},
                # S3 refuses a replication configuration until both ends are versioned.
                depends_on=[p.weights.versioning for p in [primary, *secondaries] if p.weights is not None],
            ),
        )

    connect_deploy_runner(config, regions, providers)
    roles_anywhere = datacentre_roles_anywhere(config, regions, providers[config.primary_region.name])
    node_configs = join_hybrid_nodes(config, regions, providers, roles_anywhere)
    budget = Budget(
        f"{config.environment}-budget",
        BudgetArgs(
            environment=config.environment,
            monthly_usd=config.budget.monthly_usd,
            alert_thresholds_percent=tuple(config.budget.alert_thresholds_percent),
            recipients=tuple(config.budget.recipients),
        ),
        opts=pulumi.ResourceOptions(providers={"aws": providers[config.primary_region.name]}),
    )
    cost_alerts = CostAnomalyAlerts(
        f"{config.environment}-cost-anomaly",
        CostAnomalyAlertsArgs(
            environment=config.environment,
            account_id=aws.get_caller_identity_output(
                opts=pulumi.InvokeOutputOptions(provider=providers[config.primary_region.name])
            ).account_id,
            threshold_usd=config.budget.anomaly_threshold_usd,
            monthly_budget_usd=config.budget.monthly_usd,
            recipients=tuple(config.budget.recipients),
            protect=config.protect,
        ),
        opts=pulumi.ResourceOptions(providers={"aws": providers[config.primary_region.name]}),
    )

    if workloads:  # the on-prem targets, through their kubeconfigs
        assert tenant_secrets is not None  # declared with the workloads
        link = primary.datacentre_link
        onprem = {target.name: onprem_provider(target) for target in config.kubernetes_targets}
        for target in config.kubernetes_targets:
            serve_onprem(
                config,
                target,
                onprem[target.name],
                primary_weights.bucket_name,
                weights_credentials(target, roles_anywhere, link),
                # Over the private path when there is one: the primary region's S3 interface endpoint.
                link.weights_endpoint_url if link is not None else None,
                onprem_signals(target, roles_anywhere, primary),
            )

    runners = {name: p.deploy_runner.project_name for name, p in regions.items() if p.deploy_runner is not None}
    return {
        "environment": config.environment,
        "primary_region": config.primary_region.name,
        "deploy_phase": config.deploy_phase,
        "regions": {name: platform.outputs for name, platform in regions.items()},
        "onprem_targets": sorted(target.name for target in config.onprem_targets),
        "budget_name": budget.budget_name,
        "cost_alerts_topic_arn": cost_alerts.topic_arn,
        # `llmstack weights --stack` reads these two names.
        "weights_bucket": primary_weights.bucket_name,
        "weights_kms_key_arn": primary_weights.kms_key_arn,
        # The workflow's jobs run on `codebuild-<project>-${{ github.run_id }}-${{ github.run_attempt }}`.
        **({"deploy_runner_projects": runners} if runners else {}),
        # Hand out with `pulumi stack output --show-secrets tenant_api_keys`.
        **({"tenant_api_keys": tenant_secrets.values} if tenant_secrets is not None else {}),
        # `pulumi stack output hybrid_node_configs` -> nodeadm init -c file://nodeConfig.json, per target.
        **({"hybrid_node_configs": node_configs} if node_configs else {}),
    }


def connect_deploy_runner(
    config: PlatformConfig, regions: Mapping[str, RegionalPlatform], providers: Mapping[str, aws.Provider]
) -> list[DeployPath]:
    """A deploy path from the runner's VPC (the primary's) to each secondary region's cluster: one
    `pulumi up` on the runner applies every region's Kubernetes half."""
    if config.deploy is None:
        return []
    primary = regions[config.primary_region.name]
    paths = []
    for region in config.secondary_regions:
        secondary = regions[region.name]
        paths.append(
            DeployPath(
                f"{config.environment}-deploy-path-{region.name}",
                DeployPathArgs(
                    environment=config.environment,
                    runner=peer_vpc(config.primary_region, primary),
                    runner_subnet_cidrs=primary.private_subnet_cidrs,
                    cluster=peer_vpc(region, secondary),
                    cluster_security_group_id=secondary.cluster.cluster_security_group_id,
                    cluster_provider=providers[region.name],
                    account_id=aws.get_caller_identity_output(
                        opts=pulumi.InvokeOutputOptions(provider=providers[config.primary_region.name])
                    ).account_id,
                ),
                opts=pulumi.ResourceOptions(providers={"aws": providers[config.primary_region.name]}),
            )
        )
    return paths


def peer_vpc(region: RegionConfig, platform: RegionalPlatform) -> PeerVpc:
    return PeerVpc(
        region=region.name,
        vpc_id=platform.network.vpc_id,
        vpc_cidr=region.vpc_cidr,
        private_route_table_ids=tuple(platform.network.private_route_table_ids),
    )


def join_hybrid_nodes(
    config: PlatformConfig,
    regions: Mapping[str, RegionalPlatform],
    providers: Mapping[str, aws.Provider],
    roles_anywhere: RolesAnywhere | None,
) -> dict[str, pulumi.Output[str]]:
    """Per eks-hybrid-nodes target, the access entry its machines join their region's cluster with;
    returns each target's NodeConfig."""
    configs = {}
    for target in config.onprem_targets:
        if target.hybrid is None:
            continue
        issued = roles_anywhere.issued.nodes[target.name] if roles_anywhere is not None else None
        assert issued is not None  # config requires the data centre's CA for hybrid nodes
        region = regions[target.hybrid.region]
        nodes = HybridNodes(
            f"{target.name}-hybrid-nodes",
            HybridNodesArgs(
                environment=config.environment,
                region=target.hybrid.region,
                target=target.name,
                cluster_name=region.cluster.cluster_name,
                gpu=target.gpu,
                nodes=target.nodes,
                vcpus_per_node=target.hybrid.vcpus_per_node,
                role_arn=issued.role_arn,
                trust_anchor_arn=issued.trust_anchor_arn,
                profile_arn=issued.profile_arn,
            ),
            opts=pulumi.ResourceOptions(providers={"aws": providers[target.hybrid.region]}),
        )
        configs[target.name] = nodes.node_config
    return configs


def datacentre_roles_anywhere(
    config: PlatformConfig, regions: Mapping[str, RegionalPlatform], provider: aws.Provider
) -> RolesAnywhere | None:
    """Roles Anywhere for the on-prem targets that read the primary bucket with it (weights_access
    roles-anywhere), those that remote-write metrics to the primary workspace, and the machines of
    eks-hybrid-nodes targets."""
    weights_targets = tuple(
        target.name
        for target in config.kubernetes_targets
        if target.weights_access == "roles-anywhere"
        and any(not model.sensitive for model in config.models_on_target(target.name))
    )
    metrics_targets = tuple(
        target.name
        for target in config.kubernetes_targets
        if target.metrics_remote_write and config.models_on_target(target.name)
    )
    node_targets = tuple(
        HybridNodeTarget(target.name, regions[target.hybrid.region].cluster.cluster_arn)
        for target in config.onprem_targets
        if target.hybrid is not None
    )
    datacentre = config.datacentre
    primary = regions[config.primary_region.name]
    weights = primary.weights
    if (
        not (weights_targets or metrics_targets or node_targets)
        or datacentre is None
        or datacentre.ca_certificate is None
    ):
        return None  # config refuses any of them without the data centre's CA
    assert weights is not None  # the primary region always holds the weights bucket
    return RolesAnywhere(
        f"{config.environment}-roles-anywhere",
        RolesAnywhereArgs(
            environment=config.environment,
            region=config.primary_region.name,
            datacentre=datacentre.name,
            ca_certificate=datacentre.ca_certificate,
            bucket_arn=weights.bucket_arn,
            kms_key_arn=weights.kms_key_arn,
            weights_targets=weights_targets,
            workspace_arn=primary.metrics.workspace_arn,
            metrics_targets=metrics_targets,
            node_targets=node_targets,
        ),
        opts=pulumi.ResourceOptions(providers={"aws": provider}),
    )


def weights_credentials(
    target: OnPremTargetConfig, roles_anywhere: RolesAnywhere | None, link: DataCentreLink | None
) -> WeightsCredentials:
    """Roles Anywhere where the target uses it, else the static keys it named (weights_access static-keys)."""
    issued = roles_anywhere.issued.weights.get(target.name) if roles_anywhere is not None else None
    if issued is None or target.roles_anywhere is None:
        return SecretCredentials(target.weights_credentials_secret)
    return RolesAnywhereCredentials(
        certificate_secret=target.roles_anywhere.certificate_secret,
        helper_image=target.roles_anywhere.helper_image,
        session=helper_session(issued, link),
    )


def helper_session(issued: TargetCredentials, link: DataCentreLink | None) -> HelperSession:
    """The credential helper's session for one issued role, over the private path when there is one."""
    return HelperSession(
        trust_anchor_arn=issued.trust_anchor_arn,
        profile_arn=issued.profile_arn,
        role_arn=issued.role_arn,
        endpoint_url=link.credentials_endpoint_url if link is not None else None,
    )


def onprem_signals(
    target: OnPremTargetConfig, roles_anywhere: RolesAnywhere | None, primary: RegionalPlatform
) -> InClusterSignals:
    """The target's own Prometheus for its scalers; remote-written to the primary workspace over the
    private path when the target says so (config requires the link and Roles Anywhere for it)."""
    issued = roles_anywhere.issued.metrics.get(target.name) if roles_anywhere is not None else None
    link = primary.datacentre_link
    if issued is None or target.roles_anywhere is None or link is None or link.metrics_endpoint_host is None:
        return InClusterSignals()
    url = pulumi.Output.all(link.metrics_endpoint_host, primary.metrics.workspace_id).apply(
        lambda v: f"https://{v[0]}/workspaces/{v[1]}/api/v1/remote_write"
    )
    signing = RolesAnywhereSigning(
        helper_image=target.roles_anywhere.helper_image,
        certificate_secret=target.roles_anywhere.metrics_certificate_secret,
        session=helper_session(issued, link),
    )
    return InClusterSignals(remote_write_url=url, signing=signing)


def serve_onprem(
    config: PlatformConfig,
    target: OnPremTargetConfig,
    provider: k8s.Provider,
    bucket: pulumi.Input[str],
    credentials: WeightsCredentials,
    bucket_endpoint: pulumi.Input[str] | None = None,
    signals: InClusterSignals | None = None,
) -> dict[str, ModelServer]:
    """Model servers on an on-prem cluster: weights from the primary bucket with `credentials` (Roles
    Anywhere, or the static keys the target chose), cached under the target's `weights_path`; and,
    as in a region, their metrics, KEDA / prometheus-adapter and one scaler per model (`signals`)."""
    on_cluster = pulumi.ResourceOptions(providers={"kubernetes": provider})
    namespace = ServingNamespace(
        f"{target.name}-serving",
        ServingNamespaceArgs(environment=config.environment, weight_paths=(target.weights_path,)),
        opts=on_cluster,
    )
    placement = Placement(gpu=target.gpu, node_selector=dict(target.node_selector), tolerations=(GPU_TOLERATION,))
    weights = WeightsSource(
        bucket=bucket,
        region=config.primary_region.name,
        credentials=credentials,
        host_path=target.weights_path,
        endpoint_url=bucket_endpoint,
    )
    store = target.sensitive_weights
    # Sensitive models: weights from the data centre's own store, callers only from their named networks.
    sensitive_weights = (
        WeightsSource(
            bucket=store.bucket,
            region=store.signing_region,
            credentials=SecretCredentials(store.credentials_secret),
            host_path=target.weights_path,
            endpoint_url=store.endpoint,
        )
        if store is not None
        else None
    )
    servers = {}
    for model in config.models_on_target(target.name):
        if model.sensitive:
            assert sensitive_weights is not None  # config requires the store where a sensitive model runs
            source = sensitive_weights
            callers = [network for client in model.clients for network in client.networks]
        else:
            source, callers = weights, list(target.client_networks)
        servers[model.name] = ModelServer(
            f"{target.name}-{model.name}",
            ModelServerArgs(
                environment=config.environment,
                served=served_model(model, placement, None),
                namespace=namespace.name,
                weights=source,
                caller_networks=tuple(config.datacentre_network(name) for name in dict.fromkeys(callers)),
                metrics_peers=metrics_peers(),
            ),
            opts=on_cluster,
        )
    if servers:
        Autoscaling(
            f"{target.name}-autoscaling",
            AutoscalingArgs(
                environment=config.environment,
                region=config.primary_region.name,
                cluster_name=target.name,
                signals=signals or InClusterSignals(),
                models=tuple(model_autoscaling(config.models_on_target(target.name))),
                deployments={name: server.deployment for name, server in servers.items()},
            ),
            # Scalers and the collector's Role live in the serving namespace.
            opts=pulumi.ResourceOptions(providers={"kubernetes": provider}, depends_on=[namespace]),
        )
    return servers


def model_autoscaling(models: Sequence[ModelConfig]) -> list[ModelAutoscaling]:
    """How each of a cluster's models scales (`RegionalPlatformArgs.autoscaling`, on-prem Autoscaling)."""
    return [
        ModelAutoscaling(
            model=model.name,
            mode=model.autoscaling.mode,
            min_replicas=model.autoscaling.min_replicas,
            max_replicas=model.autoscaling.max_replicas,
            queue_size_threshold=model.autoscaling.queue_size_threshold,
            batch_occupancy_threshold=model.autoscaling.batch_occupancy_threshold,
            max_batch_size=model.tokens.max_batch_size,
            scale_to_zero=model.autoscaling.min_replicas == 0
            and model.autoscaling.scale_to_zero_signal == "gateway-requests",
            cooldown_seconds=model.autoscaling.cooldown_seconds,
            engine=model.engine,
        )
        for model in models
    ]
