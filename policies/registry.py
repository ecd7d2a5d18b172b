"""Every policy of the pack, in the order the README lists them, and the form the pack serves them in."""

from policies.aws import provider_region_allowed
from policies.aws.apigateway import (
    method_requires_auth,
    method_settings_no_data_trace,
    rest_api_no_edge_endpoint,
    stage_access_logging,
    stage_tracing_enabled,
    stage_waf_associated,
    streaming_routes_stream,
    usage_plan_throttle_and_quota,
)
from policies.aws.awslambda import function_environment_cmk, function_url_requires_iam_auth, permission_source_scoped
from policies.aws.budgets import monthly_cost_budget
from policies.aws.cloudwatch import log_group_encrypted_with_cmk, log_group_retention
from policies.aws.ec2 import launch_template_volumes_cmk, security_group_no_public_ingress, vpc_flow_logs_enabled
from policies.aws.eks import (
    access_policy_admin_principals,
    cluster_authentication_mode_api,
    cluster_control_plane_logging,
    cluster_disallow_creator_admin,
    cluster_endpoint_not_public,
    cluster_secrets_encrypted,
    cluster_version_allowed,
    gpu_node_group_tainted,
    node_group_disallow_ssh,
    node_imdsv2_hop_limit,
)
from policies.aws.elb import load_balancer_internal, network_load_balancer_security_groups
from policies.aws.iam import (
    managed_policy_allowed,
    pod_identity_trust_scoped,
    policy_no_allow_not_action,
    policy_no_wildcard_action_resource,
    policy_passrole_scoped,
    role_trust_policy_restricted,
)
from policies.aws.kms import key_policy_no_wildcard_principal, key_policy_same_account, key_rotation_enabled
from policies.aws.s3 import (
    access_log_bucket_contract,
    bucket_access_logging_enabled,
    bucket_acls_disabled,
    bucket_encrypted_with_cmk,
    bucket_policy_same_account,
    bucket_public_access_blocked,
    bucket_tls_only,
    bucket_versioning_enabled,
    replication_stays_in_stack,
)
from policies.aws.vpn import routes_datacentre_only, tunnels_strong
from policies.aws.wafv2 import web_acl_baseline_rules, web_acl_logging_redacted
from policies.cost import ceiling_within_budget, estimate_within_budget, gpu_types_allowed
from policies.general import (
    data_residency_regions,
    explicit_provider,
    sensitive_models_on_prem,
    stateful_resources_protected,
    waivers_valid,
)
from policies.guard import guarded
from policies.kubernetes import (
    container_host_port,
    container_resources_bounded,
    container_security_context,
    gpu_requests_equal_limits,
    image_pinned_allowed_registry,
    manifest_bundle_crds_only,
    model_fits_gpus,
    model_server_has_pdb,
    model_server_ingress_restricted,
    model_server_probes,
    namespace_admission_guarded,
    network_policy_open_peers,
    pod_host_namespaces,
    pod_host_path_restricted,
    pod_service_account_not_default,
    rbac_binding_no_broad_grants,
    rbac_role_no_escalation_verbs,
    rbac_role_no_pod_node_takeover,
    rbac_role_no_secret_read,
    rbac_role_no_wildcards,
    service_account_token_not_automounted,
    service_no_external_exposure,
)
from policies.kubernetes.autoscaling import (
    keda_scale_to_zero_external_trigger,
    scaler_fits_gpu_capacity,
    scaler_keeps_minimum_replicas,
    scaler_min_within_max,
    scaler_single_owner,
    scaler_target_exists,
)

PACK_NAME = "llm-serving-guardrails"

ALL_POLICIES = [
    explicit_provider.policy,
    provider_region_allowed.policy,
    key_rotation_enabled.policy,
    key_policy_no_wildcard_principal.policy,
    key_policy_same_account.policy,
    policy_no_wildcard_action_resource.policy,
    policy_passrole_scoped.policy,
    policy_no_allow_not_action.policy,
    managed_policy_allowed.policy,
    role_trust_policy_restricted.policy,
    pod_identity_trust_scoped.policy,
    vpc_flow_logs_enabled.policy,
    cluster_endpoint_not_public.policy,
    cluster_secrets_encrypted.policy,
    cluster_control_plane_logging.policy,
    cluster_version_allowed.policy,
    cluster_authentication_mode_api.policy,
    cluster_disallow_creator_admin.policy,
    access_policy_admin_principals.policy,
    security_group_no_public_ingress.policy,
    load_balancer_internal.policy,
    network_load_balancer_security_groups.policy,
    tunnels_strong.policy,
    routes_datacentre_only.policy,
    node_group_disallow_ssh.policy,
    node_imdsv2_hop_limit.policy,
    launch_template_volumes_cmk.policy,
    gpu_node_group_tainted.policy,
    estimate_within_budget.policy,
    ceiling_within_budget.policy,
    gpu_types_allowed.policy,
    monthly_cost_budget.policy,
    bucket_encrypted_with_cmk.policy,
    bucket_versioning_enabled.policy,
    bucket_public_access_blocked.policy,
    bucket_tls_only.policy,
    bucket_policy_same_account.policy,
    bucket_access_logging_enabled.policy,
    access_log_bucket_contract.policy,
    bucket_acls_disabled.policy,
    replication_stays_in_stack.policy,
    sensitive_models_on_prem.policy,
    data_residency_regions.policy,
    log_group_encrypted_with_cmk.policy,
    log_group_retention.policy,
    stateful_resources_protected.policy,
    waivers_valid.policy,
    rest_api_no_edge_endpoint.policy,
    stage_waf_associated.policy,
    stage_access_logging.policy,
    stage_tracing_enabled.policy,
    method_settings_no_data_trace.policy,
    method_requires_auth.policy,
    function_url_requires_iam_auth.policy,
    permission_source_scoped.policy,
    usage_plan_throttle_and_quota.policy,
    function_environment_cmk.policy,
    streaming_routes_stream.policy,
    web_acl_baseline_rules.policy,
    web_acl_logging_redacted.policy,
    container_security_context.policy,
    pod_host_namespaces.policy,
    namespace_admission_guarded.policy,
    pod_host_path_restricted.policy,
    container_host_port.policy,
    container_resources_bounded.policy,
    pod_service_account_not_default.policy,
    service_account_token_not_automounted.policy,
    rbac_role_no_wildcards.policy,
    rbac_role_no_escalation_verbs.policy,
    rbac_role_no_pod_node_takeover.policy,
    rbac_role_no_secret_read.policy,
    rbac_binding_no_broad_grants.policy,
    service_no_external_exposure.policy,
    manifest_bundle_crds_only.policy,
    model_server_ingress_restricted.policy,
    network_policy_open_peers.policy,
    image_pinned_allowed_registry.policy,
    gpu_requests_equal_limits.policy,
    model_server_probes.policy,
    model_server_has_pdb.policy,
    model_fits_gpus.policy,
    scaler_single_owner.policy,
    scaler_min_within_max.policy,
    scaler_keeps_minimum_replicas.policy,
    scaler_target_exists.policy,
    scaler_fits_gpu_capacity.policy,
    keda_scale_to_zero_external_trigger.policy,
]


def pack_policies() -> list:
    """What the pack serves: every registered policy with waivers applied and exceptions reported as
    violations (policies/guard.py). Kept apart from ALL_POLICIES, which tests and docs read as written."""
    return [guarded(policy) for policy in ALL_POLICIES]
