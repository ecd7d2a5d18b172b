"""Tenants' limits are global: each region's usage plan holds a share, the stage throttle is their sum,
and the pack re-checks both on the plan (components/tenant_limits.py, aws-apigateway-tenant-limits-global)."""

from __future__ import annotations

import copy

import pytest
from conftest import error_of, of_type, policy_resource, provider, run_stack, stack_violations

from components import tenant_limits
from components.tenant_limits import StageThrottle, TenantLimits, account_throttle, share_of, split, stage_throttle
from llmstack.planfile import placement
from llmstack.policy_config import stack_policy_config
from llmstack.stackfile import load_stack
from policies.aws.apigateway import tenant_limits_global

USAGE_PLAN = "aws:apigateway/usagePlan:UsagePlan"
METHOD_SETTINGS = "aws:apigateway/methodSettings:MethodSettings"

# --- the arithmetic ------------------------------------------------------------------------------


def test_an_even_split_rounds_down_and_never_exceeds_the_total():
    total = TenantLimits(rate_limit_rps=50, burst=100, monthly_quota=20_000_001)
    shares = split(total, tenant_limits.even_shares(["a", "b", "c"]))
    assert shares == {region: TenantLimits(16.66, 33, 6_666_667) for region in ("a", "b", "c")}
    assert sum(s.monthly_quota for s in shares.values()) <= total.monthly_quota


def test_stated_shares_and_exact_thirds():
    assert share_of(TenantLimits(30, 30, 300), 100 / 3) == TenantLimits(10, 10, 100)
    assert share_of(TenantLimits(20, 40, 1000), 75) == TenantLimits(15, 30, 750)


def test_the_stage_throttle_is_the_sum_of_its_plans():
    assert stage_throttle([TenantLimits(10.5, 20, 1), TenantLimits(5.25, 7, 1)]) == StageThrottle(15.75, 27)
    assert stage_throttle([]) == StageThrottle(1, 1)


def test_account_throttle_by_region_and_when_raised():
    assert account_throttle("us-east-1") == StageThrottle(10_000, 5_000)
    assert account_throttle("eu-south-1") == StageThrottle(2_500, 1_250)
    assert account_throttle("us-east-1", raised_rps=20_000) == StageThrottle(20_000, 10_000)


# --- the stack file ------------------------------------------------------------------------------


def tenant(values, name):
    return next(t for t in values["gateway"]["tenants"] if t["name"] == name)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda v: tenant(v, "search").update(region_shares={"us-east-1": 70, "eu-west-1": 20}),
            "gateway.tenants[0].region_shares: must add up to 100 (got 90)",
        ),
        (
            lambda v: tenant(v, "search").update(region_shares={"us-east-1": 100}),
            "gateway.tenants[0].region_shares: no share for eu-west-1: every plan region needs one",
        ),
        (
            lambda v: tenant(v, "eu-support").update(region_shares={"eu-west-1": 50, "us-east-1": 50}),
            "gateway.tenants[2].region_shares.us-east-1: tenant 'eu-support' has no usage plan in us-east-1; "
            "its plans are in eu-west-1",
        ),
        (
            lambda v: tenant(v, "search").update(region_shares={"us-east-1": 0, "eu-west-1": 100}),
            "gateway.tenants[0].region_shares.us-east-1: must be > 0",
        ),
        (
            lambda v: tenant(v, "search").update(burst=1, rate_limit_rps=1),
            "gateway.tenants[0].burst: 1 split over 2 region(s) leaves us-east-1 (50 %) nothing; raise it or set "
            "region_shares",
        ),
        (
            lambda v: tenant(v, "search").update(monthly_quota=1),
            "gateway.tenants[0].monthly_quota: 1 split over 2 region(s) leaves us-east-1 (50 %) nothing; raise it or "
            "set region_shares",
        ),
        (
            lambda v: tenant(v, "search").update(rate_limit_rps=30_000, burst=30_000),
            "gateway.tenants: the usage plans in us-east-1 add up to 15010 requests per second, above API Gateway's "
            "account throttle there (10000); lower them, or state a raised quota (L-8A5B8E43) in "
            "gateway.account_throttle_rps",
        ),
        (
            lambda v: (
                tenant(v, "search").update(rate_limit_rps=4_000, burst=30_000),
                v["gateway"].update(account_throttle_rps=20_000),
            ),
            "gateway.tenants: the usage plans in us-east-1 add up to a burst of 15020, above API Gateway's account "
            "burst there (10000); lower the tenants' burst",
        ),
    ],
)
def test_config_refuses_limits_the_gateway_cannot_honour(change, message):
    assert error_of("prod", change) == message


def test_a_raised_account_throttle_admits_more():
    def raised(values):
        tenant(values, "search").update(rate_limit_rps=30_000, burst=30_000)
        values["gateway"]["account_throttle_rps"] = 40_000

    run_stack("prod", raised)  # parses and runs: 15,010 rps and a 15,020 burst fit 40,000 / 20,000


# --- the program ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def prod():
    return run_stack("prod")


def regional(run, type_token):
    where = placement([r.to_json() for r in run.resources])
    return {(where[r.urn]["region"], r.name.rsplit("-", 1)[-1] if type_token == USAGE_PLAN else ""): r
            for r in of_type(run, type_token)}  # fmt: skip


def test_each_region_enforces_its_share_and_the_stage_throttle_is_their_sum(prod):
    plans = {
        (region, r.inputs["tags"]["tenant"]): (
            r.inputs["throttleSettings"]["rateLimit"],
            r.inputs["throttleSettings"]["burstLimit"],
            r.inputs["quotaSettings"]["limit"],
        )
        for (region, _), r in regional(prod, USAGE_PLAN).items()
    }
    # Pulumi.prod.yaml: search 50 rps / 100 / 20M and assistant 20 / 40 / 5M in both regions (even
    # split); eu-support 10 / 20 / 2M only in eu-west-1 (policy.data_residency), so all of it there.
    assert plans == {
        ("us-east-1", "search"): (25, 50, 10_000_000),
        ("eu-west-1", "search"): (25, 50, 10_000_000),
        ("us-east-1", "assistant"): (10, 20, 2_500_000),
        ("eu-west-1", "assistant"): (10, 20, 2_500_000),
        ("eu-west-1", "eu-support"): (10, 20, 2_000_000),
    }
    stages = {
        region: (r.inputs["settings"]["throttlingRateLimit"], r.inputs["settings"]["throttlingBurstLimit"])
        for (region, _), r in regional(prod, METHOD_SETTINGS).items()
    }
    assert stages == {"us-east-1": (35, 70), "eu-west-1": (45, 90)}


def test_stated_shares_reach_the_usage_plans():
    def shares(values):
        tenant(values, "search")["region_shares"] = {"us-east-1": 80, "eu-west-1": 20}

    run = run_stack("prod", shares)
    plans = {
        region: r.inputs["throttleSettings"]["rateLimit"]
        for (region, name), r in regional(run, USAGE_PLAN).items()
        if name == "search"
    }
    assert plans == {"us-east-1": 40, "eu-west-1": 10}


# --- the policy: the stack's own plans and stage settings, then each way to break them ----------


@pytest.fixture(scope="module")
def checked(prod):
    """The prod plan's usage plans and method settings as the pack sees them, with the stack's config."""
    where = placement([r.to_json() for r in prod.resources])
    resources = [
        policy_resource(
            r.type, r.name, copy.deepcopy(r.inputs), provider_resource=provider(region=where[r.urn]["region"])
        )
        for r in prod.resources
        if r.type in (USAGE_PLAN, METHOD_SETTINGS)
    ]
    config = stack_policy_config(load_stack("prod", None))[tenant_limits_global.policy.name]
    return resources, config


def messages(resources, config):
    return [message for message, _ in stack_violations(tenant_limits_global.policy, resources, config)]


def named(resources, name):
    return next(r for r in resources if r.name == name)


def test_the_stacks_own_plans_pass(checked):
    resources, config = checked
    assert len(resources) == 7
    assert messages(resources, config) == []


@pytest.mark.parametrize(
    ("block", "key", "value", "message"),
    [
        ("throttleSettings", "rateLimit", 50, "tenant 'search' usage plans allow 75 requests per second together "
         "(eu-west-1: 25, us-east-1: 50); the stack file gives it 50 (rate_limit_rps) across all regions."),
        ("throttleSettings", "burstLimit", 100, "tenant 'search' usage plans allow 150 burst together "
         "(eu-west-1: 50, us-east-1: 100); the stack file gives it 100 (burst) across all regions."),
        ("quotaSettings", "limit", 20_000_000, "tenant 'search' usage plans allow 30000000 requests per month "
         "together (eu-west-1: 10000000, us-east-1: 20000000); the stack file gives it 20000000 (monthly_quota) "
         "across all regions."),
    ],
)  # fmt: skip
def test_a_plan_above_its_share_fires(checked, block, key, value, message):
    resources, config = checked
    plan = named(resources, "us-east-1-gateway-plans-search")
    original = plan.props[block]
    plan.props[block] = {**original, key: value}
    try:
        found = messages(resources, config)
        assert found[0] == message
        # A plan above its share is also above what its stage throttle lets through.
        stage = {"rateLimit": ("throttlingRateLimit", 35, 60), "burstLimit": ("throttlingBurstLimit", 70, 120)}.get(key)
        assert found[1:] == (
            [
                f"method settings 'us-east-1-gateway-method-settings' settings.{stage[0]} is {stage[1]}, below the "
                f"{stage[2]} its region's usage plans allow together ({key}): the stage caps its tenants."
            ]
            if stage
            else []
        )
    finally:
        plan.props[block] = original


def test_a_plan_of_an_unknown_tenant_fires(checked):
    resources, config = checked
    plan = named(resources, "eu-west-1-gateway-plans-eu-support")
    tags = plan.props["tags"]
    plan.props["tags"] = {**tags, "tenant": "stranger"}
    try:
        assert messages(resources, config) == [
            "usage plan 'eu-west-1-gateway-plans-eu-support' is of tenant 'stranger', which the stack file does not "
            "define: its limits are nobody's stated limits."
        ]
    finally:
        plan.props["tags"] = tags


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("throttlingRateLimit", 30, "method settings 'us-east-1-gateway-method-settings' settings.throttlingRateLimit "
         "is 30, below the 35 its region's usage plans allow together (rateLimit): the stage caps its tenants."),
        ("throttlingBurstLimit", 60, "method settings 'us-east-1-gateway-method-settings' "
         "settings.throttlingBurstLimit is 60, below the 70 its region's usage plans allow together (burstLimit): "
         "the stage caps its tenants."),
        ("throttlingRateLimit", 10_001, "method settings 'us-east-1-gateway-method-settings' "
         "settings.throttlingRateLimit is 10001, above API Gateway's account throttle in us-east-1 (10000)."),
        ("throttlingRateLimit", None, "method settings 'us-east-1-gateway-method-settings' "
         "settings.throttlingRateLimit is unset."),
    ],
)  # fmt: skip
def test_a_stage_throttle_that_caps_its_tenants_or_the_account_fires(checked, key, value, message):
    resources, config = checked
    method = named(resources, "us-east-1-gateway-method-settings")
    settings = method.props["settings"]
    method.props["settings"] = {**settings, key: value}
    try:
        assert messages(resources, config) == [message]
    finally:
        method.props["settings"] = settings


def test_a_raised_account_throttle_in_the_config_admits_a_higher_stage(checked):
    resources, config = checked
    method = named(resources, "us-east-1-gateway-method-settings")
    settings = method.props["settings"]
    method.props["settings"] = {**settings, "throttlingRateLimit": 10_001}
    try:
        assert messages(resources, {**config, "accountThrottleRps": 20_000}) == []
    finally:
        method.props["settings"] = settings
