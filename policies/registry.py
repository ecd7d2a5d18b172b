"""Every policy of the pack, in the order the README lists them."""

from policies.aws import provider_region_allowed
from policies.aws.ec2 import vpc_flow_logs_enabled
from policies.aws.kms import key_policy_no_wildcard_principal, key_rotation_enabled
from policies.cost import ceiling_within_budget, estimate_within_budget
from policies.general import explicit_provider

PACK_NAME = "llm-serving-guardrails"

ALL_POLICIES = [
    explicit_provider.policy,
    provider_region_allowed.policy,
    key_rotation_enabled.policy,
    key_policy_no_wildcard_principal.policy,
    vpc_flow_logs_enabled.policy,
    estimate_within_budget.policy,
    ceiling_within_budget.policy,
]
