"""The policy pack's config for a stack, derived from the stack file (one source of truth).

`llmstack plan` writes it next to plan.json as `policy-config.json`, the file
`pulumi up --policy-pack policies --policy-pack-config <it>` takes.
"""

from __future__ import annotations

from typing import Any

from stacks.config import PlatformConfig

# AWS-managed policies (path/name after `:policy/`) the platform may attach, each reviewed for what
# it grants. Deliberately a list of its own, not read from the program: a change that attaches a new
# managed policy must extend this list too, in the same reviewed diff.
ALLOWED_MANAGED_POLICIES = (
    "AmazonEKSClusterPolicy",  # EKS control plane role
    "AmazonEKSWorkerNodePolicy",  # node role: describe the cluster, join it
    "AmazonEC2ContainerRegistryPullOnly",  # node role: pull images, no listing
    "AmazonEKS_CNI_Policy",  # vpc-cni Pod Identity role: ENIs and IPs
    # EBS CSI Pod Identity role: volumes. AWS Managed Policy reference: the policy's ARN is
    # service-role/AmazonEBSCSIDriverPolicy; AmazonEBSCSIDriverPolicyV2 (no path) limits it to tagged volumes.
    "service-role/AmazonEBSCSIDriverPolicy",
    "AmazonEBSCSIDriverPolicyV2",
    # The ARN the program attaches today, which does not exist (issue 10): drop once it attaches one above.
    "AmazonEBSCSIDriverPolicy",
    "service-role/AmazonAPIGatewayPushToCloudWatchLogs",  # API Gateway account logging role
)


def policy_config_for(platform: PlatformConfig) -> dict[str, Any]:
    budget = {"monthlyBudgetUsd": platform.budget.monthly_usd}
    # Without a pinned account the account checks have nothing to compare with (they check wildcards only).
    account = {"accountId": platform.aws_account_id} if platform.aws_account_id else {}
    admin_roles = sorted({arn for region in platform.regions for arn in region.cluster.admin_role_arns})
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
        "aws-iam-managed-policy-allowed": {"allowedManagedPolicies": list(ALLOWED_MANAGED_POLICIES)},
        "aws-iam-role-trust-policy-restricted": account,
        "aws-kms-key-policy-same-account": account,
        "aws-s3-bucket-policy-same-account": account,
        "aws-lambda-permission-source-scoped": account,
        # Outside prod a stack may name no admin role; the creating identity is then the only admin.
        "aws-eks-cluster-disallow-creator-admin": {"allowClusterCreatorAdmin": platform.environment != "prod"},
        "aws-eks-access-policy-admin-principals-allowed": {"adminRoleArns": admin_roles},
        "kubernetes-scaler-keeps-minimum-replicas": {
            "minReplicas": platform.policy.resolved_min_replicas(platform.environment)
        },
    }
