"""The policy pack's config for a stack, derived from the stack file (one source of truth).

`llmstack plan` writes it next to plan.json as `policy-config.json`, the file
`pulumi up --policy-pack policies --policy-pack-config <it>` takes.
"""

from __future__ import annotations

from typing import Any

from stacks.config import PlatformConfig


def policy_config_for(platform: PlatformConfig) -> dict[str, Any]:
    budget = {"monthlyBudgetUsd": platform.budget.monthly_usd}
    regions = {"allowedRegions": list(platform.policy.allowed_regions)}
    account = {"accountId": platform.aws_account_id} if platform.aws_account_id else {}
    return {
        "aws-provider-region-allowed": regions,
        "aws-eks-cluster-kubernetes-version-allowed": {
            "allowedKubernetesVersions": list(platform.policy.allowed_kubernetes_versions)
        },
        "cost-estimate-within-budget": budget,
        # An autoscaling ceiling above the budget is an uncapped bill: blocking in prod (and where the stack says).
        "cost-ceiling-within-budget": {
            "enforcementLevel": platform.policy.resolved_cost_ceiling_enforcement(platform.environment),
            **budget,
        },
        "aws-budgets-monthly-cost-budget": {**budget, "environment": platform.environment},
        "aws-cloudwatch-log-group-encrypted-with-cmk": account,
        "gpu-types-allowed": {"allowedGpuTypes": list(platform.policy.allowed_gpu_types)},
        "aws-s3-replication-destination-in-stack": {**regions, **account},
        "aws-cloudwatch-log-group-retention-minimum": {"logRetentionMinDays": platform.policy.log_retention_min_days},
        "stateful-resources-protected": {"protectRequired": platform.protect},
        "kubernetes-image-pinned-from-allowed-registry": {
            "allowedRegistries": list(platform.policy.allowed_registries)
        },
        "kubernetes-container-restricted-security-context": {"rootNodeAgents": list(platform.policy.root_node_agents)},
        "kubernetes-scaler-keeps-minimum-replicas": {
            "minReplicas": platform.policy.resolved_min_replicas(platform.environment)
        },
    }
