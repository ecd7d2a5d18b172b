"""The policy pack's config for a stack, derived from the stack file (one source of truth).

`llmstack plan` writes it next to plan.json as `policy-config.json`, the file
`pulumi up --policy-pack policies --policy-pack-config <it>` takes.
"""

from __future__ import annotations

from typing import Any

from stacks.config import PlatformConfig


def policy_config_for(platform: PlatformConfig) -> dict[str, Any]:
    budget = {"monthlyBudgetUsd": platform.budget.monthly_usd}
    return {
        "aws-provider-region-allowed": {"allowedRegions": list(platform.policy.allowed_regions)},
        "aws-eks-cluster-kubernetes-version-allowed": {
            "allowedKubernetesVersions": list(platform.policy.allowed_kubernetes_versions)
        },
        "cost-estimate-within-budget": budget,
        "cost-ceiling-within-budget": budget,
        "stateful-resources-protected": {"protectRequired": platform.protect},
        "kubernetes-image-pinned-from-allowed-registry": {
            "allowedRegistries": list(platform.policy.allowed_registries)
        },
        "kubernetes-container-restricted-security-context": {"rootNodeAgents": list(platform.policy.root_node_agents)},
        "kubernetes-scaler-keeps-minimum-replicas": {
            "minReplicas": platform.policy.resolved_min_replicas(platform.environment)
        },
    }
