"""Composition: one explicit provider and RegionalPlatform per region, on-prem targets, globals.

Reads like the architecture diagram; all decisions about values live in the components and in
`stacks.config`.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from components.budget import Budget, BudgetArgs
from components.regional import RegionalPlatform, RegionalPlatformArgs
from stacks.config import NAMESPACE, OnPremTargetConfig, PlatformConfig, RegionConfig, from_pulumi_config


def deploy() -> dict[str, Any]:
    """The program's entry point: returns the stack outputs."""
    return build_platform(from_pulumi_config())


def cluster_name(config: PlatformConfig, region: RegionConfig) -> str:
    return f"{NAMESPACE}-{config.environment}"


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
    return k8s.Provider(
        f"onprem-{target.name}",
        kubeconfig=pulumi.Output.secret(target.kubeconfig.get_secret_value()),
        enable_server_side_apply=True,
    )


def build_platform(config: PlatformConfig) -> dict[str, Any]:
    regions: dict[str, RegionalPlatform] = {}
    providers: dict[str, aws.Provider] = {}
    weights_primary_key_arn: pulumi.Output[str] | None = None
    # The primary goes first: secondaries replicate its multi-region weights key.
    for region in [config.primary_region, *config.secondary_regions]:
        provider = providers[region.name] = aws_provider(config, region)
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
            ),
            opts=pulumi.ResourceOptions(providers={"aws": provider}),
        )
        if region.primary:
            weights_primary_key_arn = platform.encryption.weights_key_arn
        regions[region.name] = platform

    onprem = {target.name: onprem_provider(target) for target in config.onprem_targets}

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

    return {
        "environment": config.environment,
        "primary_region": config.primary_region.name,
        "regions": {name: platform.outputs for name, platform in regions.items()},
        "onprem_targets": sorted(onprem),
        "budget_name": budget.budget_name,
    }
