"""ApiGateway: routes per model over the VPC link, auth on every method, request schemas, stage logs
and tracing, tenant keys and usage plans, and the tenant -> model mapping the authorizer enforces."""

from __future__ import annotations

import dataclasses
import fnmatch
import hashlib
import json

import jsonschema
import pulumi
import pulumi_aws as aws
import pytest
from pulumi.runtime.sync_await import _sync_await
from pulumi_policy import PolicyResource
from serving_harness import by_type, record

from components import gateway_authorizer
from components.conventions import GATEWAY_STAGE, gateway_api_name
from components.gateway import (
    ACCESS_LOG_FORMAT,
    ApiGateway,
    ApiGatewayArgs,
    GatewayBackend,
    chat_schema,
    generate_schema,
)
from components.tenants import KEY_LENGTH, TenantSecrets, TenantSecretsArgs, TenantSpec
from llmstack.mock_ids import mock_identity
from policies.aws.apigateway import (
    method_requires_auth,
    method_settings_no_data_trace,
    rest_api_no_edge_endpoint,
    stage_access_logging,
    stage_tracing_enabled,
    stage_waf_associated,
    streaming_routes_stream,
)
from policies.aws.wafv2 import web_acl_baseline_rules, web_acl_logging_redacted

LOGS_KEY = "arn:aws:kms:us-east-1:123456789012:key/logs"
API_ID = mock_identity("aws:apigateway/restApi:RestApi", "gw-api")[0]
LAMBDA_KEY = "arn:aws:kms:us-east-1:123456789012:key/0f0e8b3c-5d6a-4e2f-9a1b-7c8d9e0f1a2b"
BACKENDS = (
    GatewayBackend("llama-8b", "http://nlb.internal:8080", max_input_tokens=4096, max_body_kib=256),
    GatewayBackend(
        "llama-70b", "http://nlb.internal:8081", max_input_tokens=8192, max_body_kib=512, max_total_tokens=16384
    ),
)
TENANTS = (
    TenantSpec("search", ("llama-8b",), rate_limit_rps=50, burst=100, monthly_quota=20_000_000),
    TenantSpec("assistant", ("llama-70b", "llama-8b"), rate_limit_rps=20, burst=40, monthly_quota=5_000_000),
)


def gateway_args(**changes) -> ApiGatewayArgs:
    values = {
        "environment": "prod",
        "region": "us-east-1",
        "account_id": "123456789012",
        "api_name": gateway_api_name("prod", "us-east-1"),
        "vpc_link_id": "vpclink-1",
        "backends": BACKENDS,
        "tenants": TENANTS,
        "logs_key_arn": LOGS_KEY,
        "lambda_key_arn": LAMBDA_KEY,
        "log_retention_days": 365,
        "throttle_rate_limit": 100,
        "throttle_burst_limit": 200,
    }
    return ApiGatewayArgs(**{**values, **changes})


def build(args: ApiGatewayArgs | None = None):
    built = {}

    def program():
        provider = aws.Provider("aws-us-east-1", region="us-east-1")
        built["gateway"] = ApiGateway(
            "gw", args or gateway_args(), opts=pulumi.ResourceOptions(providers={"aws": provider})
        )

    resources = record(program)
    return resources, built["gateway"]


@pytest.fixture(scope="module")
def recorded():
    return build()


@pytest.fixture(scope="module")
def resources(recorded):
    return recorded[0]


def resource_paths(resources):
    """Full path of every API Gateway resource, walking parentId back to the root."""
    by_urn = {r.urn: r for r in by_type(resources, "aws:apigateway/resource:Resource")}
    paths = {}
    for urn, resource in by_urn.items():
        parts, current = [], resource
        while current is not None:
            parts.insert(0, current.inputs["pathPart"])
            parent = [u for u in current.property_dependencies.get("parentId", []) if u in by_urn]
            current = by_urn[parent[0]] if parent else None
        paths[urn] = "/" + "/".join(parts)
    return paths


def routes(resources):
    """path -> (method, integration) for every route."""
    paths = resource_paths(resources)

    def path_of(r):
        return next(paths[u] for u in r.property_dependencies["resourceId"] if u in paths)

    methods = {path_of(m): m for m in by_type(resources, "aws:apigateway/method:Method")}
    integrations = {path_of(i): i for i in by_type(resources, "aws:apigateway/integration:Integration")}
    assert methods.keys() == integrations.keys()
    return {path: (methods[path], integrations[path]) for path in methods}


def test_conventions_name_the_api_and_stage():
    assert gateway_api_name("prod", "eu-west-1") == "llm-serving-prod-eu-west-1"
    assert GATEWAY_STAGE == "v1"


def test_rest_api_is_regional_and_takes_keys_from_the_header(resources):
    (api,) = by_type(resources, "aws:apigateway/restApi:RestApi")
    assert api.inputs["name"] == "llm-serving-prod-us-east-1"
    assert api.inputs["endpointConfiguration"] == {"types": "REGIONAL"}
    assert api.inputs["apiKeySource"] == "HEADER"


def test_three_routes_per_model_proxy_to_the_model_server_over_the_vpc_link(resources):
    found = routes(resources)
    expected = {
        f"/v1/models/{b.model}/{route}": (f"{b.url}{upstream}", stream)
        for b in BACKENDS
        for route, upstream, stream in [
            ("generate", "/generate", False),
            ("generate_stream", "/generate_stream", True),
            ("chat/completions", "/v1/chat/completions", True),
        ]
    }
    assert set(found) == set(expected)
    for path, (uri, stream) in expected.items():
        method, integration = found[path]
        assert method.inputs["httpMethod"] == "POST"
        assert integration.inputs["type"] == "HTTP_PROXY"
        assert integration.inputs["integrationHttpMethod"] == "POST"
        assert integration.inputs["uri"] == uri
        assert integration.inputs["connectionType"] == "VPC_LINK"
        assert integration.inputs["connectionId"] == "vpclink-1"
        assert integration.inputs["responseTransferMode"] == ("STREAM" if stream else "BUFFERED")
        assert integration.inputs["timeoutMilliseconds"] == (900_000 if stream else 29_000)


def test_every_method_requires_an_api_key_and_the_tenant_authorizer(resources):
    (authorizer,) = by_type(resources, "aws:apigateway/authorizer:Authorizer")
    assert authorizer.inputs["type"] == "REQUEST"
    assert authorizer.inputs["identitySource"] == "method.request.header.x-api-key"
    for method, _ in routes(resources).values():
        assert method.inputs["apiKeyRequired"] is True
        assert method.inputs["authorization"] == "CUSTOM"
        assert authorizer.urn in method.property_dependencies["authorizerId"]


def test_bodies_are_validated_against_the_models_schema(resources):
    (validator,) = by_type(resources, "aws:apigateway/requestValidator:RequestValidator")
    assert validator.inputs["validateRequestBody"] is True
    schemas = {m.inputs["name"]: m for m in by_type(resources, "aws:apigateway/model:Model")}
    assert set(schemas) == {"GenerateLlama8b", "ChatLlama8b", "GenerateLlama70b", "ChatLlama70b"}
    for path, (method, _) in routes(resources).items():
        assert validator.urn in method.property_dependencies["requestValidatorId"]
        expected = ("Chat" if path.endswith("chat/completions") else "Generate") + (
            "Llama70b" if "llama-70b" in path else "Llama8b"
        )
        assert method.inputs["requestModels"] == {"application/json": expected}
        assert json.loads(schemas[expected].inputs["schema"])["title"].startswith(expected[:4].lower())


def test_generate_schema_bounds_prompt_and_new_tokens():
    backend = BACKENDS[0]
    schema = generate_schema(backend)
    jsonschema.Draft4Validator.check_schema(schema)
    ok = {"inputs": "Hello", "parameters": {"max_new_tokens": 256, "temperature": 0.7}}
    jsonschema.validate(ok, schema, cls=jsonschema.Draft4Validator)
    bad = [
        {"parameters": {"max_new_tokens": 10}},  # no inputs
        {"inputs": ""},
        {"inputs": "x" * (backend.max_input_chars + 1)},
        {"inputs": "x", "parameters": {"max_new_tokens": backend.max_total_tokens}},
        {"inputs": "x", "parameters": {"temperature": 0}},
        {"inputs": "x", "prompt_override": "y"},
    ]
    for body in bad:
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(body, schema, cls=jsonschema.Draft4Validator)
    # 4096 tokens x 16 characters = 64 KiB, inside the 256 KiB body limit.
    assert backend.max_input_chars == 4096 * 16


def test_chat_schema_requires_messages_and_bounds_max_tokens():
    backend = BACKENDS[1]
    schema = chat_schema(backend)
    jsonschema.Draft4Validator.check_schema(schema)
    jsonschema.validate(
        {"model": "llama-70b", "messages": [{"role": "user", "content": "hi"}], "stream": True, "max_tokens": 512},
        schema,
        cls=jsonschema.Draft4Validator,
    )
    for body in (
        {"messages": []},
        {"messages": [{"role": "user"}]},
        {"messages": [{"role": "user", "content": "hi"}], "max_tokens": 16384},
    ):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(body, schema, cls=jsonschema.Draft4Validator)


def test_stage_logs_json_without_bodies_traces_and_depends_on_the_account_role(resources):
    (stage,) = by_type(resources, "aws:apigateway/stage:Stage")
    assert stage.inputs["stageName"] == "v1"
    assert stage.inputs["xrayTracingEnabled"] is True
    fmt = json.loads(stage.inputs["accessLogSettings"]["format"])
    assert fmt == ACCESS_LOG_FORMAT
    for field in ("requestId", "apiKeyId", "status", "responseLatency", "resourcePath"):
        assert field in fmt
    assert not any("body" in value.lower() for value in fmt.values())
    groups = {g.urn: g for g in by_type(resources, "aws:cloudwatch/logGroup:LogGroup")}
    (access,) = [groups[u] for u in stage.property_dependencies["accessLogSettings"] if u in groups]
    assert access.inputs["kmsKeyId"] == LOGS_KEY and access.inputs["retentionInDays"] == 365
    (account,) = by_type(resources, "aws:apigateway/account:Account")
    assert account.urn in stage.dependencies


def test_all_log_groups_are_encrypted_including_the_execution_log_group(resources):
    groups = by_type(resources, "aws:cloudwatch/logGroup:LogGroup")
    names = {g.inputs["name"] for g in groups}
    assert f"API-Gateway-Execution-Logs_{API_ID}/v1" in names
    assert "/aws/lambda/llm-serving-prod-us-east-1-tenant-authorizer" in names
    assert "aws-waf-logs-llm-serving-prod-us-east-1" in names
    assert all(g.inputs["kmsKeyId"] == LOGS_KEY for g in groups)


def test_method_settings_turn_data_trace_off_and_throttle_by_default(resources):
    (settings,) = by_type(resources, "aws:apigateway/methodSettings:MethodSettings")
    assert settings.inputs["methodPath"] == "*/*"
    assert settings.inputs["settings"] == {
        "metricsEnabled": True,
        "loggingLevel": "ERROR",
        "dataTraceEnabled": False,
        "throttlingRateLimit": 100,
        "throttlingBurstLimit": 200,
    }


def test_account_logging_role_is_optional():
    resources, _ = build(gateway_args(manage_account_logging_role=False))
    assert by_type(resources, "aws:apigateway/account:Account") == []
    (stage,) = by_type(resources, "aws:apigateway/stage:Stage")
    assert stage.inputs["xrayTracingEnabled"] is True


def test_deployment_redeploys_when_routes_change(resources):
    (deployment,) = by_type(resources, "aws:apigateway/deployment:Deployment")
    methods = {m.urn for m in by_type(resources, "aws:apigateway/method:Method")}
    integrations = {i.urn for i in by_type(resources, "aws:apigateway/integration:Integration")}
    responses = {r.inputs["responseType"]: r for r in by_type(resources, "aws:apigateway/response:Response")}
    denied = responses["ACCESS_DENIED"]
    assert denied.inputs["statusCode"] == "403"
    assert methods | integrations | {r.urn for r in responses.values()} <= set(deployment.dependencies)
    other, _ = build(gateway_args(backends=BACKENDS[:1], tenants=TENANTS[:1]))
    (changed,) = by_type(other, "aws:apigateway/deployment:Deployment")
    assert changed.inputs["triggers"]["routes"] != deployment.inputs["triggers"]["routes"]
    again, _ = build()
    (same,) = by_type(again, "aws:apigateway/deployment:Deployment")
    assert same.inputs["triggers"] == deployment.inputs["triggers"]


def test_a_model_without_a_ready_replica_answers_503_with_retry_after(resources):
    # No backend scales to zero here: a restarting replica's wait.
    responses = {r.inputs["responseType"]: r.inputs for r in by_type(resources, "aws:apigateway/response:Response")}
    for kind in ("INTEGRATION_FAILURE", "INTEGRATION_TIMEOUT"):
        assert responses[kind]["statusCode"] == "503"
        assert responses[kind]["responseParameters"] == {"gatewayresponse.header.Retry-After": "'30'"}
    waking = [
        dataclasses.replace(BACKENDS[0], cold_start_seconds=340),
        dataclasses.replace(BACKENDS[1], cold_start_seconds=90),
    ]
    other, _ = build(gateway_args(backends=(*waking, *BACKENDS[2:])))
    responses = {r.inputs["responseType"]: r.inputs for r in by_type(other, "aws:apigateway/response:Response")}
    # Gateway responses are per API: the longest predicted cold start of its models.
    assert responses["INTEGRATION_FAILURE"]["responseParameters"] == {"gatewayresponse.header.Retry-After": "'340'"}
    assert json.loads(responses["INTEGRATION_TIMEOUT"]["responseTemplates"]["application/json"]) == {
        "message": "the model is starting (or has no ready replica): retry after 340 s"
    }
    # A changed wait redeploys the stage (gateway responses take effect with a deployment).
    (before,) = by_type(resources, "aws:apigateway/deployment:Deployment")
    (after,) = by_type(other, "aws:apigateway/deployment:Deployment")
    assert before.inputs["triggers"]["routes"] != after.inputs["triggers"]["routes"]


def test_tenant_keys_come_from_random_passwords_and_sit_in_usage_plans(resources):
    passwords = {p.name: p for p in by_type(resources, "random:index/randomPassword:RandomPassword")}
    assert set(passwords) == {"gw-keys-search", "gw-keys-assistant"}
    for password in passwords.values():
        assert password.inputs["length"] == KEY_LENGTH >= 40
        assert password.inputs["special"] is False
    keys = {k.name: k for k in by_type(resources, "aws:apigateway/apiKey:ApiKey")}
    assert keys["gw-keys-search"].inputs["name"] == "llm-serving-prod-us-east-1-search"
    assert passwords["gw-keys-search"].urn in keys["gw-keys-search"].property_dependencies["value"]
    plans = {p.name: p for p in by_type(resources, "aws:apigateway/usagePlan:UsagePlan")}
    assert plans["gw-plans-search"].inputs["throttleSettings"] == {"rateLimit": 50, "burstLimit": 100}
    assert plans["gw-plans-search"].inputs["quotaSettings"] == {"limit": 20_000_000, "period": "MONTH"}
    assert plans["gw-plans-assistant"].inputs["apiStages"] == [{"apiId": API_ID, "stage": "v1"}]
    (stage,) = by_type(resources, "aws:apigateway/stage:Stage")
    assert stage.urn in plans["gw-plans-search"].property_dependencies["apiStages"]
    links = {k.name: k for k in by_type(resources, "aws:apigateway/usagePlanKey:UsagePlanKey")}
    assert links["gw-plans-search"].inputs == {
        "keyId": mock_identity("aws:apigateway/apiKey:ApiKey", "gw-keys-search")[0],
        "keyType": "API_KEY",
        "usagePlanId": mock_identity("aws:apigateway/usagePlan:UsagePlan", "gw-plans-search")[0],
    }


def test_key_values_are_secret_and_the_authorizer_gets_only_their_digests(recorded):
    resources, gateway = recorded
    value = gateway.tenant_key_values["search"]
    assert _sync_await(value.is_secret()) is True
    assert _sync_await(value.future()) == "gw-keys-search-random"
    (function,) = by_type(resources, "aws:lambda/function:Function")
    assert function.inputs["environment"]["variables"]["TENANTS"] == "[secret]"
    digest = _sync_await(gateway.tenant_keys.key_digests["search"].future())
    assert digest == hashlib.sha256(b"gw-keys-search-random").hexdigest()


def test_authorizer_lambda_is_small_traced_reserved_and_least_privilege(resources):
    (function,) = by_type(resources, "aws:lambda/function:Function")
    assert function.inputs["reservedConcurrentExecutions"] == 20
    assert function.inputs["tracingConfig"] == {"mode": "Active"}
    assert function.inputs["handler"] == "index.handler"
    source = function.inputs["code"]["assets"]["index.py"]["text"]
    assert "def handler(" in source and "import pulumi" not in source
    # The key-digest table is encrypted with the customer key, which the role may use only through Lambda.
    assert function.inputs["kmsKeyArn"] == LAMBDA_KEY
    (policy,) = by_type(resources, "aws:iam/rolePolicy:RolePolicy")
    document = json.loads(policy.inputs["policy"])
    actions = sorted(
        a for s in document["Statement"] for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    )
    assert actions == [
        "kms:Decrypt",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
        "xray:PutTelemetryRecords",
        "xray:PutTraceSegments",
    ]
    (decrypt,) = [s for s in document["Statement"] if s["Action"] == "kms:Decrypt"]
    assert decrypt["Resource"] == LAMBDA_KEY
    assert decrypt["Condition"] == {"StringEquals": {"kms:ViaService": "lambda.us-east-1.amazonaws.com"}}
    (permission,) = by_type(resources, "aws:lambda/permission:Permission")
    assert permission.inputs["principal"] == "apigateway.amazonaws.com"
    assert permission.inputs["sourceArn"] == (
        f"arn:aws:execute-api:us-east-1:123456789012:{API_ID}/authorizers/"
        + mock_identity("aws:apigateway/authorizer:Authorizer", "gw-authorizer", {"restApi": API_ID})[0]
    )


# --- the authorizer handler: tenant -> models ----------------------------------------------------------

ARN = "arn:aws:execute-api:us-east-1:123456789012:abc123/v1/POST"


def api_gateway_decision(response, method_arn):
    """What API Gateway does with an authorizer policy: 200 when an Allow matches and no Deny does, else 403."""
    statements = response["policyDocument"]["Statement"]

    def matches(statement):
        return any(fnmatch.fnmatchcase(method_arn, pattern) for pattern in statement["Resource"])

    if any(s["Effect"] == "Deny" and matches(s) for s in statements):
        return 403
    return 200 if any(s["Effect"] == "Allow" and matches(s) for s in statements) else 403


@pytest.fixture
def tenant_env(monkeypatch):
    digests = {t.name: gateway_authorizer.key_digest(f"key-of-{t.name}") for t in TENANTS}
    table = gateway_authorizer.tenant_table(digests, {t.name: list(t.models) for t in TENANTS})
    monkeypatch.setenv("TENANTS", json.dumps(table))
    return table


def call(api_key, path, header="x-api-key"):
    event = {"type": "REQUEST", "methodArn": f"{ARN}/{path}", "headers": {header: api_key} if api_key else {}}
    return gateway_authorizer.handler(event, None)


@pytest.mark.parametrize("route", ["generate", "generate_stream", "chat/completions"])
def test_tenant_reaches_its_models_on_every_route(tenant_env, route):
    response = call("key-of-search", f"v1/models/llama-8b/{route}")
    assert response["principalId"] == "search"
    assert response["context"] == {"tenant": "search"}
    assert api_gateway_decision(response, f"{ARN}/v1/models/llama-8b/{route}") == 200


def test_tenant_calling_a_model_outside_its_list_gets_403(tenant_env):
    response = call("key-of-search", "v1/models/llama-70b/generate")
    assert api_gateway_decision(response, f"{ARN}/v1/models/llama-70b/generate") == 403
    # The policy is cached per key for every route: it must not open the other model either.
    cached = call("key-of-search", "v1/models/llama-8b/generate")
    assert api_gateway_decision(cached, f"{ARN}/v1/models/llama-70b/chat/completions") == 403
    both = call("key-of-assistant", "v1/models/llama-70b/generate", header="X-Api-Key")
    assert api_gateway_decision(both, f"{ARN}/v1/models/llama-70b/generate") == 200
    assert api_gateway_decision(both, f"{ARN}/v1/models/llama-8b/generate_stream") == 200


def test_policy_does_not_open_other_stages_or_prefix_models(tenant_env):
    response = call("key-of-search", "v1/models/llama-8b/generate")
    other_stage = "arn:aws:execute-api:us-east-1:123456789012:abc123/v2/POST/v1/models/llama-8b/generate"
    assert api_gateway_decision(response, other_stage) == 403
    assert api_gateway_decision(response, f"{ARN}/v1/models/llama-8b-evil/generate") == 403


@pytest.mark.parametrize("api_key", [None, "not-a-tenant-key"])
def test_missing_or_unknown_key_is_unauthorized(tenant_env, api_key):
    with pytest.raises(Exception, match="^Unauthorized$"):
        call(api_key, "v1/models/llama-8b/generate")


# --- the pack's gateway policies hold on what the component declares ------------------------------------


def as_policy_resources(resources):
    """The recorded registrations as the policy pack sees them (dependencies included)."""
    from conftest import policy_resource

    made: dict[str, PolicyResource] = {}
    for r in resources:
        made[r.urn] = policy_resource(
            r.type,
            r.name,
            r.inputs,
            dependencies=[made[u] for u in r.dependencies if u in made],
            property_dependencies={k: [made[u] for u in v if u in made] for k, v in r.property_dependencies.items()},
        )
    return list(made.values())


def test_component_satisfies_the_gateway_policies(resources):
    from conftest import resource_violations, stack_violations

    policy_resources = as_policy_resources(resources)
    for policy in (stage_waf_associated, streaming_routes_stream, web_acl_logging_redacted):
        assert stack_violations(policy.policy, policy_resources) == [], policy.policy.name
    for policy in (
        rest_api_no_edge_endpoint,
        stage_access_logging,
        stage_tracing_enabled,
        method_settings_no_data_trace,
        method_requires_auth,
        web_acl_baseline_rules,
    ):
        for r in resources:
            assert resource_violations(policy.policy, r.type, r.inputs, name=r.name) == [], (policy.policy.name, r.name)


# --- args ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"backends": ()}, "backends: at least one model backend is required"),
        ({"backends": BACKENDS + BACKENDS[:1]}, "backends: duplicate model in llama-8b, llama-70b, llama-8b"),
        ({"buffered_timeout_ms": 400_000}, "buffered_timeout_ms: must be between 50 and 300000 (got 400000)"),
        ({"stage_name": "v 1"}, "stage_name: letters, digits, '-' and '_' only (got 'v 1')"),
        ({"authorizer_reserved_concurrency": 0}, "authorizer_reserved_concurrency: must be >= 1"),
    ],
)
def test_bad_args_name_the_field(changes, message):
    with pytest.raises(ValueError, match="^" + message.replace("(", r"\(").replace(")", r"\)")):
        gateway_args(**changes)


def test_vllm_models_get_the_openai_route_only():
    vllm = GatewayBackend("mistral", "http://nlb.internal:8082", 4096, 256, engine="vllm")
    resources, _ = build(gateway_args(backends=(*BACKENDS, vllm)))
    found = routes(resources)
    assert [path for path in found if "/mistral/" in path] == ["/v1/models/mistral/chat/completions"]
    assert (
        found["/v1/models/mistral/chat/completions"][1].inputs["uri"] == "http://nlb.internal:8082/v1/chat/completions"
    )
    with pytest.raises(ValueError, match=r"^engine: must be one of tgi, vllm \(got 'triton'\)$"):
        GatewayBackend("m", "http://x:1", 10, 10, engine="triton")


def test_tenant_table_must_fit_the_lambda_environment():
    many = tuple(TenantSpec(f"tenant-{i}", ("llama-8b", "llama-70b"), 1, 1, 1) for i in range(40))
    with pytest.raises(ValueError, match=r"^tenants: 40 tenants exceed the authorizer's environment \(4000 bytes"):
        gateway_args(tenants=many)
    assert gateway_args(tenants=many[:20]).tenants == many[:20]


def test_backend_body_limit_is_within_api_gateway_payload_limit():
    with pytest.raises(ValueError, match=r"^max_body_kib: must be between 1 and 10240"):
        GatewayBackend("m", "http://x:1", 10, 10241)
    with pytest.raises(ValueError, match=r"^max_total_tokens: must be > max_input_tokens"):
        GatewayBackend("m", "http://x:1", 8192, 256, max_total_tokens=8192)


def test_regions_share_one_key_value_per_tenant_from_tenant_secrets():
    built = {}

    def program():
        secrets = TenantSecrets("tenants", TenantSecretsArgs(tenants=tuple(t.name for t in TENANTS)))
        for region in ("us-east-1", "eu-west-1"):
            provider = aws.Provider(f"aws-{region}", region=region)
            built[region] = ApiGateway(
                f"gw-{region}",
                gateway_args(
                    region=region, api_name=gateway_api_name("prod", region), tenant_key_values=secrets.values
                ),
                opts=pulumi.ResourceOptions(providers={"aws": provider}),
            )

    resources = record(program)
    passwords = {p.name: p.urn for p in by_type(resources, "random:index/randomPassword:RandomPassword")}
    assert set(passwords) == {"tenants-search", "tenants-assistant"}
    keys = by_type(resources, "aws:apigateway/apiKey:ApiKey")
    assert len(keys) == 4
    for key in keys:
        tenant = key.name.rsplit("-keys-", 1)[1]
        assert key.property_dependencies["value"] == [passwords[f"tenants-{tenant}"]]
    values = {_sync_await(built[r].tenant_key_values["search"].future()) for r in built}
    assert values == {"tenants-search-random"}


def test_tenant_key_values_must_cover_every_tenant():
    with pytest.raises(ValueError, match=r"^values: no key value for tenant\(s\) assistant$"):
        build(gateway_args(tenant_key_values={"search": "k" * 48}))


def test_a_tenant_model_served_elsewhere_gets_no_route_here_but_the_tenant_keeps_its_key_and_plan():
    resources, _ = build(gateway_args(backends=BACKENDS[:1]))
    assert not any("llama-70b" in path for path in routes(resources))
    assert {p.name for p in by_type(resources, "aws:apigateway/usagePlan:UsagePlan")} == {
        "gw-plans-search",
        "gw-plans-assistant",
    }


def test_the_unavailable_response_types_are_api_gateways_own():
    import botocore.session

    from components.conventions import UNAVAILABLE_RESPONSE_TYPES

    model = botocore.session.get_session().get_service_model("apigateway")
    assert set(UNAVAILABLE_RESPONSE_TYPES) <= set(model.shape_for("GatewayResponseType").enum)
    # The header is set through the response's parameters map, as PutGatewayResponse names it.
    assert "responseParameters" in model.operation_model("PutGatewayResponse").input_shape.members
