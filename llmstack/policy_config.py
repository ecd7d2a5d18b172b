"""The policy pack's config for a stack, derived from the stack file and the waivers register
(never from a plan under review).

`llmstack plan` writes it next to plan.json as `policy-config.json`, the file
`pulumi up --policy-pack policies --policy-pack-config <it>` takes; `llmstack check --stack`
derives it the same way.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from components.conventions import NVME_MODELS_PATH
from components.platform_workloads import API_CLIENTS, NODE_AGENT_HOST_PATHS
from llmstack.errors import UsageError
from llmstack.stackfile import StackFile, project_root
from policies import waivers as waiver_register
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
    "service-role/AmazonAPIGatewayPushToCloudWatchLogs",  # API Gateway account logging role
)


def weight_paths(platform: PlatformConfig) -> list[str]:
    """Host directories that hold model weights: the NVMe tier of EKS GPU nodes, each on-prem target's path."""
    paths = [NVME_MODELS_PATH, *(target.weights_path for target in platform.onprem_targets)]
    return list(dict.fromkeys(paths))


def policy_config_for(platform: PlatformConfig) -> dict[str, Any]:
    budget = {"monthlyBudgetUsd": platform.budget.monthly_usd}
    # Without a pinned account the account checks have nothing to compare with (they check wildcards only).
    account = {"accountId": platform.aws_account_id} if platform.aws_account_id else {}
    admin_roles = sorted({arn for region in platform.regions for arn in platform.admin_roles(region)})
    regions = {"allowedRegions": list(platform.policy.allowed_regions)}
    datacentre = {"datacentreCidrs": list(platform.datacentre.cidrs) if platform.datacentre else []}
    host_paths = {
        "weightPaths": weight_paths(platform),
        "nodeAgentHostPaths": {agent: list(paths) for agent, paths in NODE_AGENT_HOST_PATHS.items()},
    }
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
        "cost-anomaly-alerts-configured": {**budget, "environment": platform.environment},
        "aws-sns-topic-encrypted-with-cmk": account,
        "aws-cloudwatch-log-group-encrypted-with-cmk": account,
        "gpu-types-allowed": {"allowedGpuTypes": list(platform.policy.allowed_gpu_types)},
        "aws-s3-replication-destination-in-stack": {**regions, **account},
        "aws-cloudwatch-log-group-retention-minimum": {"logRetentionMinDays": platform.policy.log_retention_min_days},
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
        "kubernetes-pod-host-path-restricted": host_paths,
        "kubernetes-namespace-admission-guarded": host_paths,
        "kubernetes-service-account-token-not-automounted": {"apiClients": sorted(API_CLIENTS)},
        # Residency from the stack file: which models are sensitive and where they may go, never the plan's markers.
        "data-residency-sensitive-models-on-prem": {
            "sensitiveModels": sorted(model.name for model in platform.models if model.sensitive),
            "sensitiveTargets": sorted(t.name for t in platform.onprem_targets if t.allow_sensitive_models),
        },
        "data-residency-regions": {
            "rules": [rule.model_dump() for rule in platform.policy.data_residency],
            "primaryRegion": platform.primary_region.name,
        },
        "aws-transit-gateway-datacentre-routes-only": datacentre,
        "aws-eks-remote-networks-in-datacentre": datacentre,
        # Tenants' limits are global; each region's plan holds a share (components/tenant_limits.py).
        "aws-apigateway-tenant-limits-global": {
            "tenants": {
                t.name: {"rate_limit_rps": t.rate_limit_rps, "burst": t.burst, "monthly_quota": t.monthly_quota}
                for t in platform.gateway.tenants
            },
            "accountThrottleRps": platform.gateway.account_throttle_rps,
        },
        # Latency-routed names answer only where the model is served (components/model_hostnames.py).
        "aws-route53-latency-records-serve-model": {
            "domain": platform.gateway.domain_name,
            "servingRegions": {model.name: list(model.regions) for model in platform.models if model.regions},
            "tenantRegions": {
                tenant.name: sorted(allowed)
                for tenant in platform.gateway.tenants
                if (allowed := platform.tenant_regions_allowed(tenant.name)) is not None
            },
        },
        # Who may come in from outside the VPCs, by name (components/named_networks.py).
        "network-ingress-from-named-networks": {
            "namedNetworks": {network.name: network.cidr for network in platform.named_networks},
            "vpcCidrs": [region.vpc_cidr for region in platform.regions],
        },
        # On-prem capacity is no resource of the plan: GPUs x machines of each target, from the stack file.
        "kubernetes-scaler-fits-gpu-capacity": {
            "targetGpus": {t.name: t.nodes * t.gpus_per_node for t in platform.onprem_targets}
        },
        "kubernetes-scaler-keeps-minimum-replicas": {
            "minReplicas": platform.policy.resolved_min_replicas(platform.environment)
        },
    }


def with_waivers(config: dict[str, Any], waivers: list[waiver_register.Waiver]) -> dict[str, Any]:
    """Hand a stack's waivers to the pack.

    Each waived policy's config gets its `waivers` (the guard drops what they name);
    policy-waivers-valid gets every waiver and the waived policies' config, to re-run them.
    """
    result = {name: dict(value) for name, value in config.items()}
    for waiver in waivers:
        result.setdefault(waiver.policy, {}).setdefault("waivers", []).append(waiver.to_config())
    waived = sorted({w.policy for w in waivers})
    result[waiver_register.VALIDITY_POLICY] = {
        **result.get(waiver_register.VALIDITY_POLICY, {}),
        "waivers": [w.to_config() for w in waivers],
        "policyConfig": {name: dict(config.get(name, {})) for name in waived},
    }
    return result


def waivers_file() -> Path:
    """The project's register of waivers (one for every stack; each waiver names its stacks)."""
    return project_root() / "policies" / "waivers.yaml"


def load_stack_waivers(stackfile: StackFile, path: Path | None = None) -> list[waiver_register.Waiver]:
    """The waivers of the project's `policies/waivers.yaml` that apply to this stack.

    Policy names are checked against the pack itself when it is configured (analyzer.effective_config).
    """
    register = path or waivers_file()
    try:
        every = waiver_register.load_waivers(register, None, display=_shown(register))
    except waiver_register.WaiverError as exc:
        raise UsageError(str(exc)) from None
    return waiver_register.for_stack(every, stackfile.stack)


def in_phase(waiver: waiver_register.Waiver, platform: PlatformConfig) -> bool:
    """Whether the stack's deploy phase declares the waiver's resource: the foundation declares no
    Kubernetes object (tests/stacks/test_deploy_phases.py), so a waiver of one waits for phase all
    instead of failing policy-waivers-valid as naming no resource."""
    if platform.declares_workloads:
        return True
    named = (waiver.resource_type, waiver.resource_name)
    if waiver.urn is not None:
        named = waiver_register.urn_type_and_name(waiver.urn) or (None, None)
    return not str(named[0]).startswith("kubernetes:")


def stack_policy_config(stackfile: StackFile, waivers_path: Path | None = None) -> dict[str, Any]:
    """The pack's config for a stack: its stack file's settings plus the waivers that apply to it
    (in its deploy phase)."""
    waivers = [w for w in load_stack_waivers(stackfile, waivers_path) if in_phase(w, stackfile.platform)]
    return with_waivers(policy_config_for(stackfile.platform), waivers)


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)
