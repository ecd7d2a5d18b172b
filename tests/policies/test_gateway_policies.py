"""API Gateway and WAFv2 policies: a compliant baseline, then each way to violate each policy."""

import json

import pytest
from conftest import policy_resource, resource_violations, stack_violations

from policies.aws.apigateway import (
    method_requires_auth,
    method_settings_no_data_trace,
    rest_api_no_edge_endpoint,
    stage_access_logging,
    stage_tracing_enabled,
    stage_waf_associated,
    streaming_routes_stream,
    unavailable_retry_after,
    usage_plan_throttle_and_quota,
)
from policies.aws.wafv2 import web_acl_baseline_rules, web_acl_logging_redacted

LOG_GROUP = "arn:aws:logs:us-east-1:123456789012:log-group:/aws/apigateway/access"
STAGE = "aws:apigateway/stage:Stage"


# --- REST API endpoint type ---------------------------------------------------------------------


@pytest.mark.parametrize("types", ["REGIONAL", "PRIVATE"])
def test_regional_and_private_rest_apis_comply(types):
    props = {"endpointConfiguration": {"types": types}}
    assert resource_violations(rest_api_no_edge_endpoint.policy, "aws:apigateway/restApi:RestApi", props) == []


def test_edge_rest_api_violates():
    props = {"endpointConfiguration": {"types": "EDGE"}}
    assert resource_violations(rest_api_no_edge_endpoint.policy, "aws:apigateway/restApi:RestApi", props) == [
        "endpoint type is EDGE; allowed: REGIONAL, PRIVATE."
    ]


def test_rest_api_without_endpoint_configuration_defaults_to_edge():
    assert resource_violations(rest_api_no_edge_endpoint.policy, "aws:apigateway/restApi:RestApi", {}) == [
        "endpointConfiguration is not set: the REST API defaults to an EDGE endpoint."
    ]


def test_endpoint_policy_ignores_other_types():
    assert resource_violations(rest_api_no_edge_endpoint.policy, "aws:apigatewayv2/api:Api", {}) == []


# --- stage: access logs, tracing, method settings ---------------------------------------------------


def compliant_stage(**changes):
    props = {
        "stageName": "v1",
        "xrayTracingEnabled": True,
        "accessLogSettings": {"destinationArn": LOG_GROUP, "format": json.dumps({"requestId": "$context.requestId"})},
    }
    props.update(changes)
    return props


def test_compliant_stage_passes_logging_and_tracing():
    assert resource_violations(stage_access_logging.policy, STAGE, compliant_stage()) == []
    assert resource_violations(stage_tracing_enabled.policy, STAGE, compliant_stage()) == []


def test_stage_without_access_logs_violates():
    assert resource_violations(stage_access_logging.policy, STAGE, compliant_stage(accessLogSettings=None)) == [
        "accessLogSettings.destinationArn is not set: the stage keeps no access log."
    ]


def test_stage_with_text_access_log_format_violates():
    settings = {"destinationArn": LOG_GROUP, "format": "$context.requestId $context.status"}
    assert resource_violations(stage_access_logging.policy, STAGE, compliant_stage(accessLogSettings=settings)) == [
        "accessLogSettings.format is not a JSON object: access logs are not queryable."
    ]


@pytest.mark.parametrize("value", [False, None])
def test_stage_without_tracing_violates(value):
    props = compliant_stage(xrayTracingEnabled=value)
    assert resource_violations(stage_tracing_enabled.policy, STAGE, props) == [
        "xrayTracingEnabled is not true: requests through the stage are not traced."
    ]


def test_method_settings_data_trace():
    token = "aws:apigateway/methodSettings:MethodSettings"
    off = {"methodPath": "*/*", "settings": {"dataTraceEnabled": False, "loggingLevel": "ERROR"}}
    on = {"methodPath": "*/*", "settings": {"dataTraceEnabled": True, "loggingLevel": "INFO"}}
    assert resource_violations(method_settings_no_data_trace.policy, token, off) == []
    assert resource_violations(method_settings_no_data_trace.policy, token, on) == [
        "dataTraceEnabled is true for '*/*': prompts, completions and API keys would be written to execution logs."
    ]


# --- methods --------------------------------------------------------------------------------------


METHOD = "aws:apigateway/method:Method"


def method(**changes):
    props = {"httpMethod": "POST", "authorization": "CUSTOM", "authorizerId": "authorizer-id", "apiKeyRequired": True}
    return {k: v for k, v in {**props, **changes}.items() if v is not None}


def test_method_with_a_key_and_the_authorizer_complies():
    assert resource_violations(method_requires_auth.policy, METHOD, method()) == []


def test_method_without_an_api_key_violates():
    assert resource_violations(method_requires_auth.policy, METHOD, method(apiKeyRequired=False)) == [
        "POST method does not require an API key (apiKeyRequired is False): no usage plan throttles or caps its "
        "callers."
    ]


def test_method_with_api_key_unset_violates():
    assert resource_violations(method_requires_auth.policy, METHOD, method(apiKeyRequired=None)) == [
        "POST method does not require an API key (apiKeyRequired is unset): no usage plan throttles or caps its "
        "callers."
    ]


@pytest.mark.parametrize("authorization", ["NONE", "AWS_IAM", "COGNITO_USER_POOLS"])
def test_method_without_the_tenant_authorizer_violates(authorization):
    assert resource_violations(method_requires_auth.policy, METHOD, method(authorization=authorization)) == [
        f"POST method does not use the tenant authorizer (authorization is {authorization}, must be CUSTOM): any "
        "tenant's key reaches any model."
    ]


def test_custom_authorization_without_an_authorizer_id_violates():
    assert resource_violations(method_requires_auth.policy, METHOD, method(authorizerId=None)) == [
        "POST method uses CUSTOM authorization without an authorizerId."
    ]


def test_open_method_reports_both_missing_controls():
    assert resource_violations(method_requires_auth.policy, METHOD, {"httpMethod": "GET"}) == [
        "GET method does not require an API key (apiKeyRequired is unset): no usage plan throttles or caps its "
        "callers.",
        "GET method does not use the tenant authorizer (authorization is unset, must be CUSTOM): any tenant's key "
        "reaches any model.",
    ]


def test_method_policy_ignores_other_types():
    assert resource_violations(method_requires_auth.policy, "aws:apigateway/integration:Integration", {}) == []


def test_stage_with_log_destination_but_no_format_violates():
    settings = {"destinationArn": LOG_GROUP}
    assert resource_violations(stage_access_logging.policy, STAGE, compliant_stage(accessLogSettings=settings)) == [
        "accessLogSettings.format is not a JSON object: access logs are not queryable."
    ]


def test_stage_with_a_json_array_log_format_violates():
    settings = {"destinationArn": LOG_GROUP, "format": json.dumps(["$context.requestId"])}
    assert resource_violations(stage_access_logging.policy, STAGE, compliant_stage(accessLogSettings=settings)) == [
        "accessLogSettings.format is not a JSON object: access logs are not queryable."
    ]


# --- stage WAF association --------------------------------------------------------------------------


def stage_resource(name="front-stage"):
    return policy_resource(STAGE, name, compliant_stage())


def association(stage):
    return policy_resource(
        "aws:wafv2/webAclAssociation:WebAclAssociation",
        f"{stage.name}-waf",
        {"resourceArn": "arn", "webAclArn": "acl"},
        dependencies=[stage],
        property_dependencies={"resourceArn": [stage]},
    )


def test_stage_with_waf_association_complies():
    stage = stage_resource()
    assert stack_violations(stage_waf_associated.policy, [stage, association(stage)]) == []


def test_stage_without_waf_association_violates():
    stage, other = stage_resource(), stage_resource("other-stage")
    assert stack_violations(stage_waf_associated.policy, [stage, other, association(other)]) == [
        ("Stage 'front-stage' has no WAF web ACL association.", stage.urn)
    ]


# --- streaming routes ------------------------------------------------------------------------------


def api_resources():
    """/v1/models/llama/{generate, generate_stream, chat/completions} as API Gateway resources."""
    made = {}
    parent = None
    for part in ["v1", "models", "llama"]:
        made[part] = parent = child_resource(part, parent)
    made["generate"] = child_resource("generate", made["llama"])
    made["generate_stream"] = child_resource("generate_stream", made["llama"])
    made["chat"] = child_resource("chat", made["llama"])
    made["completions"] = child_resource("completions", made["chat"])
    return made


def child_resource(part, parent):
    deps = [parent] if parent else []
    return policy_resource(
        "aws:apigateway/resource:Resource",
        f"r-{part}",
        {"pathPart": part, "parentId": "x"},
        dependencies=deps,
        property_dependencies={"parentId": deps},
    )


def integration(resource, mode):
    props = {"type": "HTTP_PROXY", "resourceId": "x", **({"responseTransferMode": mode} if mode else {})}
    return policy_resource(
        "aws:apigateway/integration:Integration",
        f"i-{resource.name}",
        props,
        dependencies=[resource],
        property_dependencies={"resourceId": [resource]},
    )


def test_streaming_routes_with_stream_comply_and_buffered_generate_is_fine():
    made = api_resources()
    integrations = [
        integration(made["generate"], "BUFFERED"),
        integration(made["generate_stream"], "STREAM"),
        integration(made["completions"], "STREAM"),
    ]
    assert stack_violations(streaming_routes_stream.policy, [*made.values(), *integrations]) == []


def test_buffered_generate_stream_violates():
    made = api_resources()
    bad = integration(made["generate_stream"], "BUFFERED")
    assert stack_violations(streaming_routes_stream.policy, [*made.values(), bad]) == [
        (
            "Integration 'i-r-generate_stream' of /v1/models/llama/generate_stream has responseTransferMode BUFFERED: "
            "tokens arrive only when generation ends, and a long one hits the buffered timeout.",
            bad.urn,
        )
    ]


def test_chat_completions_without_transfer_mode_violates():
    made = api_resources()
    bad = integration(made["completions"], None)
    assert stack_violations(streaming_routes_stream.policy, [*made.values(), bad]) == [
        (
            "Integration 'i-r-completions' of /v1/models/llama/chat/completions has responseTransferMode BUFFERED: "
            "tokens arrive only when generation ends, and a long one hits the buffered timeout.",
            bad.urn,
        )
    ]


def test_streaming_route_set_to_buffered_beside_a_compliant_one_reports_only_the_buffered():
    made = api_resources()
    good = integration(made["generate_stream"], "STREAM")
    bad = integration(made["completions"], "BUFFERED")
    assert stack_violations(streaming_routes_stream.policy, [*made.values(), good, bad]) == [
        (
            "Integration 'i-r-completions' of /v1/models/llama/chat/completions has responseTransferMode BUFFERED: "
            "tokens arrive only when generation ends, and a long one hits the buffered timeout.",
            bad.urn,
        )
    ]


# --- WAF web ACL rules -------------------------------------------------------------------------------


def managed(name, override="none"):
    return {
        "name": name,
        "overrideAction": {override: {}},
        "statement": {"managedRuleGroupStatement": {"name": name, "vendorName": "AWS"}},
    }


RATE = {"name": "rate", "action": {"block": {}}, "statement": {"rateBasedStatement": {"limit": 2000}}}


def acl_props(rules):
    return {"scope": "REGIONAL", "rules": rules}


def test_acl_with_managed_groups_and_rate_rule_complies():
    rules = [managed(g) for g in web_acl_baseline_rules.REQUIRED_GROUPS] + [RATE]
    assert resource_violations(web_acl_baseline_rules.policy, "aws:wafv2/webAcl:WebAcl", acl_props(rules)) == []


@pytest.mark.parametrize("missing", web_acl_baseline_rules.REQUIRED_GROUPS)
def test_acl_missing_a_managed_group_violates(missing):
    rules = [managed(g) for g in web_acl_baseline_rules.REQUIRED_GROUPS if g != missing] + [RATE]
    assert resource_violations(web_acl_baseline_rules.policy, "aws:wafv2/webAcl:WebAcl", acl_props(rules)) == [
        f"managed rule group {missing} is missing."
    ]


def test_acl_counting_a_managed_group_violates():
    groups = web_acl_baseline_rules.REQUIRED_GROUPS
    rules = [managed(groups[0], "count")] + [managed(g) for g in groups[1:]] + [RATE]
    assert resource_violations(web_acl_baseline_rules.policy, "aws:wafv2/webAcl:WebAcl", acl_props(rules)) == [
        f"managed rule group {groups[0]} only counts (overrideAction count): it blocks nothing."
    ]


def test_acl_with_a_same_named_group_of_another_vendor_violates():
    groups = web_acl_baseline_rules.REQUIRED_GROUPS
    impostor = managed(groups[0])
    impostor["statement"]["managedRuleGroupStatement"]["vendorName"] = "ThirdParty"
    rules = [impostor] + [managed(g) for g in groups[1:]] + [RATE]
    assert resource_violations(web_acl_baseline_rules.policy, "aws:wafv2/webAcl:WebAcl", acl_props(rules)) == [
        f"managed rule group {groups[0]} is missing."
    ]


def test_empty_acl_reports_every_missing_rule():
    assert resource_violations(web_acl_baseline_rules.policy, "aws:wafv2/webAcl:WebAcl", acl_props([])) == [
        *(f"managed rule group {g} is missing." for g in web_acl_baseline_rules.REQUIRED_GROUPS),
        "no rate-based rule: one client can flood the models.",
    ]


def test_acl_without_rate_rule_violates():
    rules = [managed(g) for g in web_acl_baseline_rules.REQUIRED_GROUPS]
    assert resource_violations(web_acl_baseline_rules.policy, "aws:wafv2/webAcl:WebAcl", acl_props(rules)) == [
        "no rate-based rule: one client can flood the models."
    ]


@pytest.mark.parametrize("action", [{"count": {}}, {"allow": {}}])
def test_acl_whose_rate_rule_does_not_block_violates(action):
    rules = [managed(g) for g in web_acl_baseline_rules.REQUIRED_GROUPS] + [{**RATE, "action": action}]
    assert resource_violations(web_acl_baseline_rules.policy, "aws:wafv2/webAcl:WebAcl", acl_props(rules)) == [
        "no rate-based rule blocks (they only count or allow): one client can flood the models."
    ]


# --- WAF logging -----------------------------------------------------------------------------------------


def acl_resource(name="front-acl"):
    return policy_resource("aws:wafv2/webAcl:WebAcl", name, acl_props([]))


def logging_config(acl, headers):
    return policy_resource(
        "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration",
        f"{acl.name}-logging",
        {"resourceArn": "arn", "redactedFields": [{"singleHeader": {"name": h}} for h in headers]},
        dependencies=[acl],
        property_dependencies={"resourceArn": [acl]},
    )


def test_acl_logging_with_redacted_credentials_complies():
    acl = acl_resource()
    resources = [acl, logging_config(acl, ["Authorization", "x-api-key"])]
    assert stack_violations(web_acl_logging_redacted.policy, resources) == []


def test_acl_without_logging_violates():
    acl = acl_resource()
    assert stack_violations(web_acl_logging_redacted.policy, [acl]) == [
        ("Web ACL 'front-acl' has no logging configuration.", acl.urn)
    ]


def test_logging_of_another_acl_does_not_count():
    acl, other = acl_resource(), acl_resource("other-acl")
    resources = [acl, other, logging_config(other, ["authorization", "x-api-key"])]
    assert stack_violations(web_acl_logging_redacted.policy, resources) == [
        ("Web ACL 'front-acl' has no logging configuration.", acl.urn)
    ]


@pytest.mark.parametrize(
    ("headers", "missing"),
    [(["authorization"], "x-api-key"), (["x-api-key"], "authorization"), ([], "authorization, x-api-key")],
)
def test_acl_logging_without_redaction_violates(headers, missing):
    acl = acl_resource()
    config = logging_config(acl, headers)
    assert stack_violations(web_acl_logging_redacted.policy, [acl, config]) == [
        (f"Web ACL 'front-acl' logs do not redact the {missing} header(s).", config.urn)
    ]


# --- usage plans ------------------------------------------------------------------------------------

USAGE_PLAN = "aws:apigateway/usagePlan:UsagePlan"


def usage_plan(**changes):
    props = {
        "name": "tenant",
        "throttleSettings": {"rateLimit": 20.0, "burstLimit": 40.0},
        "quotaSettings": {"limit": 5000000.0, "period": "MONTH"},
        **changes,
    }
    return {k: v for k, v in props.items() if v is not None}


def plans(props, resource_type=USAGE_PLAN):
    return resource_violations(usage_plan_throttle_and_quota.policy, resource_type, props, name="search")


def test_usage_plan_with_throttle_and_quota_complies():
    assert plans(usage_plan()) == []


def test_usage_plan_without_throttle():
    assert plans(usage_plan(throttleSettings=None)) == [
        "usage plan 'search' has no throttleSettings: its keys are not rate-limited."
    ]


@pytest.mark.parametrize(("key", "value", "text"), [("rateLimit", 0.0, "0"), ("burstLimit", None, "unset")])
def test_usage_plan_throttle_limits_must_be_positive(key, value, text):
    throttle = {k: v for k, v in {"rateLimit": 20.0, "burstLimit": 40.0, key: value}.items() if v is not None}
    assert plans(usage_plan(throttleSettings=throttle)) == [
        f"usage plan 'search' throttleSettings.{key} is {text}, not a positive limit."
    ]


def test_usage_plan_without_quota():
    assert plans(usage_plan(quotaSettings=None)) == [
        "usage plan 'search' has no quotaSettings: its keys have no request cap."
    ]


def test_usage_plan_quota_limit_must_be_positive():
    assert plans(usage_plan(quotaSettings={"limit": 0.0, "period": "MONTH"})) == [
        "usage plan 'search' quotaSettings.limit is 0, not a positive cap."
    ]


def test_usage_plan_quota_needs_a_period():
    assert plans(usage_plan(quotaSettings={"limit": 100.0})) == [
        "usage plan 'search' quotaSettings.period is unset, not one of DAY, WEEK, MONTH."
    ]


def test_usage_plan_policy_ignores_other_types():
    assert plans({}, "aws:apigateway/usagePlanKey:UsagePlanKey") == []


# --- 503 with Retry-After while a model has no ready replica ------------------------------------------

RESPONSE = "aws:apigateway/response:Response"


def rest_api(name="front-api"):
    return policy_resource("aws:apigateway/restApi:RestApi", name, {"name": name})


def unavailable_response(api, kind="INTEGRATION_FAILURE", status="503", retry_after="'340'", name=None):
    props = {"responseType": kind, "statusCode": status, "restApiId": "abc123"}
    if retry_after is not None:
        props["responseParameters"] = {"gatewayresponse.header.Retry-After": retry_after}
    return policy_resource(
        RESPONSE,
        name or f"{api.name}-{kind.lower()}",
        props,
        dependencies=[api],
        property_dependencies={"restApiId": [api]},
    )


def both_responses(api, **changes):
    return [
        unavailable_response(api, "INTEGRATION_FAILURE", **changes),
        unavailable_response(api, "INTEGRATION_TIMEOUT"),
    ]


def test_an_api_with_503_retry_after_responses_complies():
    api = rest_api()
    assert stack_violations(unavailable_retry_after.policy, [api, *both_responses(api)]) == []


def test_an_api_without_them_violates_and_another_apis_do_not_count():
    api, other = rest_api(), rest_api("other-api")
    resources = [api, other, unavailable_response(api, "INTEGRATION_TIMEOUT"), *both_responses(other)]
    assert stack_violations(unavailable_retry_after.policy, resources) == [
        (
            "REST API 'front-api' has no INTEGRATION_FAILURE gateway response: a model without a ready replica "
            "answers API Gateway's bare 5xx, which callers cannot time a retry on.",
            api.urn,
        )
    ]


@pytest.mark.parametrize(
    ("changes", "shown"),
    [
        ({"status": "502"}, "answers 502 with Retry-After '340'"),
        ({"status": ""}, "answers the default status with Retry-After '340'"),
        ({"retry_after": None}, "answers 503 with Retry-After unset"),
        ({"retry_after": "340"}, "answers 503 with Retry-After 340"),  # unquoted: a mapping, not a value
        ({"retry_after": "'0'"}, "answers 503 with Retry-After '0'"),
        ({"retry_after": "'soon'"}, "answers 503 with Retry-After 'soon'"),
    ],
)
def test_a_response_that_is_not_503_with_seconds_violates(changes, shown):
    api = rest_api()
    failure, timeout = both_responses(api, **changes)
    assert stack_violations(unavailable_retry_after.policy, [api, failure, timeout]) == [
        (
            f"gateway response 'front-api-integration_failure' (INTEGRATION_FAILURE) {shown}; it must be 503 with "
            "Retry-After set to the seconds the model needs to start ('<seconds>').",
            failure.urn,
        )
    ]
