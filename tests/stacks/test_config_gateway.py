"""Gateway section of the stack config: each bad input fails with one line naming the key."""

from __future__ import annotations

import pytest
from conftest import error_of, run_stack, stack_values

from components import waf_rules
from stacks.config import parse_platform_config


def tenant(values, i=0):
    return values["gateway"]["tenants"][i]


CASES = {
    "second tenant names unknown model": (
        lambda v: tenant(v, 1).update(models=["llama-3-8b-instruct", "gpt-5"]),
        "gateway.tenants[1].models[1]: unknown model 'gpt-5'; allowed: llama-3-70b-instruct, llama-3-8b-instruct",
    ),
    "tenant names a sensitive model": (
        lambda v: tenant(v).update(models=["mistral-7b-private"]),
        "gateway.tenants[0].models[0]: 'mistral-7b-private' is sensitive: its requests never leave the data centre, "
        "so it has no gateway route; list its callers under the model's clients",
    ),
    "tenant names an on-prem only model": (
        lambda v: (
            v["models"][2].update(sensitive=False),
            v["models"][2].pop("clients"),
            tenant(v).update(models=["mistral-7b-private"]),
        ),
        "gateway.tenants[0].models[0]: 'mistral-7b-private' runs on on-prem targets only, not behind the gateway; "
        "allowed: llama-3-70b-instruct, llama-3-8b-instruct",
    ),
    "negative rate": (lambda v: tenant(v).update(rate_limit_rps=-1), "gateway.tenants[0].rate_limit_rps: must be > 0"),
    "zero burst": (lambda v: tenant(v).update(burst=0), "gateway.tenants[0].burst: must be > 0"),
    "zero quota": (lambda v: tenant(v).update(monthly_quota=0), "gateway.tenants[0].monthly_quota: must be > 0"),
    "negative quota": (lambda v: tenant(v).update(monthly_quota=-5), "gateway.tenants[0].monthly_quota: must be > 0"),
    "tenant without models": (
        lambda v: tenant(v).update(models=[]),
        "gateway.tenants[0].models: must have at least 1 item(s)",
    ),
    "duplicate tenant": (
        lambda v: tenant(v, 1).update(name="search"),
        "gateway.tenants[1].name: duplicate tenant 'search'",
    ),
    "body just above the payload limit": (
        lambda v: v["gateway"].update(max_body_kib=10241),
        "gateway.max_body_kib: must be <= 10240 (API Gateway's 10 MB payload limit)",
    ),
    "zero body": (lambda v: v["gateway"].update(max_body_kib=0), "gateway.max_body_kib: must be > 0"),
    "waf rate below minimum": (
        lambda v: v["gateway"].update(waf_rate_limit_per_5min=9),
        "gateway.waf_rate_limit_per_5min: must be >= 10",
    ),
    "waf rate above maximum": (
        lambda v: v["gateway"].update(waf_rate_limit_per_5min=2_000_000_001),
        "gateway.waf_rate_limit_per_5min: must be <= 2000000000",
    ),
    "hosted zone without domain": (
        lambda v: v["gateway"].update(hosted_zone_id="Z0123456789ABC"),
        "gateway.domain_name: required when hosted_zone_id is set",
    ),
    "domain without hosted zone": (
        lambda v: v["gateway"].update(domain_name="llm.example.com"),
        "gateway.hosted_zone_id: required when domain_name is set",
    ),
    "domain not a dns name": (
        lambda v: v["gateway"].update(hosted_zone_id="Z0123456789ABC", domain_name="https://LLM.example.com"),
        "gateway.domain_name: must be a lowercase DNS name such as llm.example.com",
    ),
    "waf rule not in the common rule set": (
        lambda v: v["gateway"].update(waf_rules_to_count=["SizeRestrictions_BODY", "CrossSiteScripting_Body"]),
        "gateway.waf_rules_to_count[1]: 'CrossSiteScripting_Body' is not a rule of the AWS Common rule set; "
        "allowed: " + ", ".join(waf_rules.COMMON_RULE_SET_RULES),
    ),
    "waf rule counted twice": (
        lambda v: v["gateway"].update(waf_rules_to_count=["SizeRestrictions_BODY", "SizeRestrictions_BODY"]),
        "gateway.waf_rules_to_count[1]: duplicate rule 'SizeRestrictions_BODY'",
    ),
    "waf body size rule blocking again": (
        lambda v: v["gateway"].update(waf_rules_to_count=["GenericLFI_BODY"]),
        "gateway.waf_rules_to_count: must include SizeRestrictions_BODY: its 8 KB body cap is below an LLM prompt "
        "(the body-size rule replaces it)",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_gateway_input_names_the_key(case):
    mutate, expected = CASES[case]
    assert error_of("prod", mutate) == expected


def test_zone_and_domain_together_are_accepted():
    values = stack_values("prod")
    values["gateway"].update(hosted_zone_id="Z0123456789ABC", domain_name="llm.example.com")
    config = parse_platform_config(values)
    assert config.gateway.domain_name == "llm.example.com"


def test_waf_rules_to_count_reach_the_web_acl():
    run = run_stack(
        "prod", lambda v: v["gateway"].update(waf_rules_to_count=["SizeRestrictions_BODY", "CrossSiteScripting_BODY"])
    )
    acls = [r for r in run.resources if r.type == "aws:wafv2/webAcl:WebAcl"]
    assert len(acls) == 2
    for acl in acls:
        (common,) = [
            rule["statement"]["managedRuleGroupStatement"]
            for rule in acl.inputs["rules"]
            if rule["name"] == "AWSManagedRulesCommonRuleSet"
        ]
        assert common["ruleActionOverrides"] == [
            {"name": "SizeRestrictions_BODY", "actionToUse": {"count": {}}},
            {"name": "CrossSiteScripting_BODY", "actionToUse": {"count": {}}},
        ]
