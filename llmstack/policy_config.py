"""The policy pack's config for a stack, derived from the stack file (one source of truth).

`llmstack plan` writes it next to plan.json as `policy-config.json`, the file
`pulumi up --policy-pack policies --policy-pack-config <it>` takes.
"""

from __future__ import annotations

from typing import Any

from components.conventions import NVME_MODELS_PATH
from components.platform_workloads import API_CLIENTS, NODE_AGENT_HOST_PATHS
from stacks.config import PlatformConfig


def weight_paths(platform: PlatformConfig) -> list[str]:
    """Host directories that hold model weights: the NVMe tier of EKS GPU nodes, each on-prem target's path."""
    paths = [NVME_MODELS_PATH, *(target.weights_path for target in platform.onprem_targets)]
    return list(dict.fromkeys(paths))


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
        "kubernetes-pod-host-path-restricted": {
            "weightPaths": weight_paths(platform),
            "nodeAgentHostPaths": {agent: list(paths) for agent, paths in NODE_AGENT_HOST_PATHS.items()},
        },
        "kubernetes-service-account-token-not-automounted": {"apiClients": sorted(API_CLIENTS)},
        "kubernetes-scaler-keeps-minimum-replicas": {
            "minReplicas": platform.policy.resolved_min_replicas(platform.environment)
        },
    }
