"""WebAcl: managed rule groups (Common's 8 KB body rule counted), per-IP rate limit, body-size rule
matching the gateway limit, stage association, and logging with credentials redacted."""

from __future__ import annotations

import re

import pulumi
import pulumi_aws as aws
import pytest
from hypothesis import given
from hypothesis import strategies as st
from serving_harness import by_type, record

from components.waf import WebAcl, WebAclArgs, greater_than_regex
from llmstack.mock_ids import mock_identity

STAGE_ARN = "arn:aws:apigateway:us-east-1::/restapis/abc123/stages/v1"
LOGS_KEY = "arn:aws:kms:us-east-1:123456789012:key/logs"


def build(**changes):
    values = {
        "environment": "prod",
        "region": "us-east-1",
        "resource_arns": (STAGE_ARN,),
        "logs_key_arn": LOGS_KEY,
        "rate_limit_per_5min": 3000,
        "max_body_kib": 512,
    }
    args = WebAclArgs(**{**values, **changes})

    def program():
        provider = aws.Provider("aws-us-east-1", region="us-east-1")
        WebAcl("waf", args, opts=pulumi.ResourceOptions(providers={"aws": provider}))

    return record(program)


def acl_of(resources):
    (acl,) = by_type(resources, "aws:wafv2/webAcl:WebAcl")
    return acl


def rules_of(resources):
    return {rule["name"]: rule for rule in acl_of(resources).inputs["rules"]}


def test_acl_is_regional_allows_by_default_and_is_visible():
    acl = acl_of(build())
    assert acl.inputs["scope"] == "REGIONAL"
    assert acl.inputs["defaultAction"] == {"allow": {}}
    assert acl.inputs["visibilityConfig"]["cloudwatchMetricsEnabled"] is True
    assert acl.inputs["associationConfig"] == {
        "requestBodies": [{"apiGateway": {"defaultSizeInspectionLimit": "KB_64"}}]
    }
    for rule in acl.inputs["rules"]:
        assert rule["visibilityConfig"]["cloudwatchMetricsEnabled"] is True
        assert rule["visibilityConfig"]["sampledRequestsEnabled"] is True
    assert len({rule["priority"] for rule in acl.inputs["rules"]}) == len(acl.inputs["rules"])


def test_managed_groups_block_and_the_common_body_size_rule_only_counts():
    rules = rules_of(build())
    for group in (
        "AWSManagedRulesCommonRuleSet",
        "AWSManagedRulesKnownBadInputsRuleSet",
        "AWSManagedRulesAmazonIpReputationList",
    ):
        assert rules[group]["overrideAction"] == {"none": {}}
        assert rules[group]["statement"]["managedRuleGroupStatement"]["vendorName"] == "AWS"
    common = rules["AWSManagedRulesCommonRuleSet"]["statement"]["managedRuleGroupStatement"]
    assert common["ruleActionOverrides"] == [{"name": "SizeRestrictions_BODY", "actionToUse": {"count": {}}}]


def test_more_common_rules_can_be_counted_by_name():
    rules = rules_of(build(common_rules_to_count=("SizeRestrictions_BODY", "CrossSiteScripting_BODY")))
    common = rules["AWSManagedRulesCommonRuleSet"]["statement"]["managedRuleGroupStatement"]
    assert [o["name"] for o in common["ruleActionOverrides"]] == ["SizeRestrictions_BODY", "CrossSiteScripting_BODY"]
    assert rules["AWSManagedRulesCommonRuleSet"]["overrideAction"] == {"none": {}}


def test_rate_rule_blocks_per_client_ip_at_the_configured_limit():
    rate = rules_of(build(rate_limit_per_5min=1234))["rate-per-client-ip"]
    assert rate["action"] == {"block": {}}
    assert rate["statement"]["rateBasedStatement"] == {
        "aggregateKeyType": "IP",
        "limit": 1234,
        "evaluationWindowSec": 300,
    }


def test_body_above_inspection_limit_is_blocked_by_content_length():
    rule = rules_of(build(max_body_kib=512))["body-size"]
    assert rule["action"] == {"block": {}}
    statement = rule["statement"]["regexMatchStatement"]
    assert statement["fieldToMatch"] == {"singleHeader": {"name": "content-length"}}
    pattern = re.compile(statement["regexString"])
    assert pattern.fullmatch(str(512 * 1024 + 1)) and not pattern.fullmatch(str(512 * 1024))


def test_small_body_limit_is_enforced_on_the_body_too():
    rule = rules_of(build(max_body_kib=32))["body-size"]
    first, second = rule["statement"]["orStatement"]["statements"]
    assert re.fullmatch(first["regexMatchStatement"]["regexString"], str(32 * 1024 + 1))
    assert second["sizeConstraintStatement"]["comparisonOperator"] == "GT"
    assert second["sizeConstraintStatement"]["size"] == 32 * 1024
    assert second["sizeConstraintStatement"]["fieldToMatch"] == {"body": {"oversizeHandling": "MATCH"}}


@given(limit=st.integers(min_value=0, max_value=10**9), value=st.integers(min_value=0, max_value=10**10))
def test_greater_than_regex_matches_exactly_the_larger_numbers(limit, value):
    pattern = re.compile(greater_than_regex(limit))
    assert bool(pattern.fullmatch(str(value))) == (value > limit)
    assert bool(pattern.fullmatch("00" + str(value))) == (value > limit)


def test_regex_fits_wafs_length_limit():
    assert len(greater_than_regex(10 * 1024 * 1024)) <= 200


def test_acl_is_associated_with_each_stage():
    resources = build(resource_arns=(STAGE_ARN, STAGE_ARN.replace("abc123", "def456")))
    associations = by_type(resources, "aws:wafv2/webAclAssociation:WebAclAssociation")
    assert sorted(a.inputs["resourceArn"] for a in associations) == sorted(
        [STAGE_ARN, STAGE_ARN.replace("abc123", "def456")]
    )
    (acl,) = by_type(resources, "aws:wafv2/webAcl:WebAcl")
    acl_arn = mock_identity(acl.type, acl.name, acl.inputs)[1]["arn"]
    assert acl_arn.startswith("arn:aws:wafv2:us-east-1:123456789012:regional/webacl/")
    assert all(a.inputs["webAclArn"] == acl_arn for a in associations)


def test_logs_go_to_an_encrypted_aws_waf_logs_group_with_credentials_redacted():
    resources = build()
    (group,) = by_type(resources, "aws:cloudwatch/logGroup:LogGroup")
    assert group.inputs["name"].startswith("aws-waf-logs-")
    assert group.inputs["kmsKeyId"] == LOGS_KEY and group.inputs["retentionInDays"] == 365
    (logging,) = by_type(resources, "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration")
    assert logging.inputs["logDestinationConfigs"] == [
        "arn:aws:logs:us-east-1:123456789012:log-group:aws-waf-logs-llm-serving-prod-us-east-1"
    ]
    assert logging.inputs["redactedFields"] == [
        {"singleHeader": {"name": "authorization"}},
        {"singleHeader": {"name": "x-api-key"}},
    ]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"rate_limit_per_5min": 5}, "rate_limit_per_5min: must be between 10 and 2000000000 (got 5)"),
        ({"max_body_kib": 0}, "max_body_kib: must be >= 1 (got 0)"),
        ({"environment": "Prod"}, "environment: must be lowercase letters, digits and '-' (got 'Prod')"),
        (
            {"common_rules_to_count": ("SizeRestrictions_BODY", "NoSuchRule")},
            "common_rules_to_count: not rules of the AWS Common rule set: NoSuchRule",
        ),
    ],
)
def test_bad_args_name_the_field(changes, message):
    with pytest.raises(ValueError) as error:
        build(**changes)
    assert str(error.value) == message
