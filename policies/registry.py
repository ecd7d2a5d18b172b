"""Every policy of the pack, in the order the README lists them."""

from policies.aws import provider_region_allowed
from policies.aws.apigateway import (
    method_requires_auth,
    method_settings_no_data_trace,
    rest_api_no_edge_endpoint,
    stage_access_logging,
    stage_tracing_enabled,
    stage_waf_associated,
    streaming_routes_stream,
)
from policies.aws.awslambda import function_environment_cmk
from policies.aws.ec2 import launch_template_volumes_cmk, security_group_no_public_ingress, vpc_flow_logs_enabled
from policies.aws.eks import (
    cluster_control_plane_logging,
    cluster_endpoint_not_public,
    cluster_secrets_encrypted,
    cluster_version_allowed,
    gpu_node_group_imdsv2,
    gpu_node_group_tainted,
    node_group_disallow_ssh,
)
from policies.aws.elb import load_balancer_internal, network_load_balancer_security_groups
from policies.aws.iam import pod_identity_trust_scoped
from policies.aws.kms import key_policy_no_wildcard_principal, key_rotation_enabled
from policies.aws.s3 import (
    bucket_access_logging_enabled,
    bucket_encrypted_with_cmk,
    bucket_public_access_blocked,
    bucket_tls_only,
    bucket_versioning_enabled,
)
from policies.aws.wafv2 import web_acl_baseline_rules, web_acl_logging_redacted
from policies.cost import ceiling_within_budget, estimate_within_budget
from policies.general import explicit_provider, stateful_resources_protected
from policies.kubernetes import (
    container_security_context,
    gpu_requests_equal_limits,
    image_pinned_allowed_registry,
    model_fits_gpus,
    model_server_has_pdb,
    model_server_probes,
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
    pod_identity_trust_scoped.policy,
    vpc_flow_logs_enabled.policy,
    cluster_endpoint_not_public.policy,
    cluster_secrets_encrypted.policy,
    cluster_control_plane_logging.policy,
    cluster_version_allowed.policy,
    security_group_no_public_ingress.policy,
    load_balancer_internal.policy,
    network_load_balancer_security_groups.policy,
    node_group_disallow_ssh.policy,
    gpu_node_group_imdsv2.policy,
    launch_template_volumes_cmk.policy,
    gpu_node_group_tainted.policy,
    estimate_within_budget.policy,
    ceiling_within_budget.policy,
    bucket_encrypted_with_cmk.policy,
    bucket_versioning_enabled.policy,
    bucket_public_access_blocked.policy,
    bucket_tls_only.policy,
    bucket_access_logging_enabled.policy,
    stateful_resources_protected.policy,
    rest_api_no_edge_endpoint.policy,
    stage_waf_associated.policy,
    stage_access_logging.policy,
    stage_tracing_enabled.policy,
    method_settings_no_data_trace.policy,
    method_requires_auth.policy,
    function_environment_cmk.policy,
    streaming_routes_stream.policy,
    web_acl_baseline_rules.policy,
    web_acl_logging_redacted.policy,
    container_security_context.policy,
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
