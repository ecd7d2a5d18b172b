"""ApiGateway: a region's front door, a REGIONAL REST API over the VPC link to the model servers.

Routes, per model (literal resources, so each model has its own backend and method ARN):
  POST /v1/models/<model>/generate          TGI /generate, buffered
  POST /v1/models/<model>/generate_stream   TGI /generate_stream, response streaming (STREAM, 15 min)
  POST /v1/models/<model>/chat/completions  the engine's OpenAI-compatible /v1/chat/completions, streaming
                                            (OpenAI clients: base_url=<gateway URL>/v1/models/<model>)
vLLM models (OpenAI API only) get the chat route alone. A single /v1/chat/completions routed by
the body's "model" cannot be built on a REST API without a compute hop (an integration has one
backend URI; an authorizer never sees the body), so the model is in the path.

Every method requires an API key (usage plans: rate, burst, monthly quota per tenant) and the
tenant authorizer (components/gateway_authorizer.py): the key's tenant may call only the models
on its list, anything else is 403 at the gateway. Bodies are validated against a JSON schema per
model. The stage logs access in JSON (no bodies) to a KMS-encrypted log group, traces with X-Ray,
never logs request data (data trace off) and throttles every method by default. The stage sits
behind the WAF web ACL (components/waf.py).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws

from components import aws_managed_policies, gateway_authorizer, tenant_limits
from components.arg_checks import check_environment_name, check_region
from components.conventions import (
    GATEWAY_STAGE,
    LOG_RETENTION_DAYS,
    RETRY_AFTER_PARAMETER,
    UNAVAILABLE_RESPONSE_TYPES,
)
from components.routes import ENGINE_ROUTES, Route, resource_path
from components.tenants import TenantKeys, TenantKeysArgs, TenantSpec, TenantUsagePlans, TenantUsagePlansArgs
from components.waf import COMMON_RULES_TO_COUNT, WebAcl, WebAclArgs

API_GATEWAY_MAX_PAYLOAD_KIB = 10 * 1024
BUFFERED_TIMEOUT_MS = 29_000  # API Gateway's default; up to 300000 only after a quota increase
STREAM_TIMEOUT_MS = 900_000  # 15 minutes, the maximum for response streaming
# JSON schema cannot count tokens; bound prompt characters generously (a token rarely spans more
# than 16 characters) and let the model server enforce --max-input-tokens exactly (422).
MAX_CHARS_PER_TOKEN = 16
AUTHORIZER_CACHE_SECONDS = 300
AUTHORIZER_RUNTIME = "python3.13"
AUTHORIZER_TABLE_MAX_BYTES = gateway_authorizer.TABLE_MAX_BYTES


ACCESS_LOG_FORMAT = {
    "requestId": "$context.requestId",
    "extendedRequestId": "$context.extendedRequestId",
    "requestTime": "$context.requestTimeEpoch",
    "ip": "$context.identity.sourceIp",
    "httpMethod": "$context.httpMethod",
    "resourcePath": "$context.resourcePath",
    "apiKeyId": "$context.identity.apiKeyId",
    "tenant": "$context.authorizer.tenant",
    "status": "$context.status",
    "responseLength": "$context.responseLength",
    "responseLatency": "$context.responseLatency",
    "integrationLatency": "$context.integration.latency",
    "integrationStatus": "$context.integration.status",
    "wafResponseCode": "$context.wafResponseCode",
    "xrayTraceId": "$context.xrayTraceId",
    "errorType": "$context.error.responseType",
}
DEFAULT_RETRY_AFTER_SECONDS = 30
"""Retry-After on an API whose models never scale to zero: a replica restarting or rolling."""
_MODEL = re.compile(r"^[a-z]([a-z0-9-]{0,30}[a-z0-9])?$")
_STAGE = re.compile(r"^[A-Za-z0-9_-]{1,128}$")


@dataclass(frozen=True)
class GatewayBackend:
    model: str
    url: pulumi.Input[str]
    """Base URL of the model's server behind the VPC link, e.g. http://<nlb-dns>:<port> (no trailing /)."""
    max_input_tokens: int
    max_body_kib: int
    max_total_tokens: int = 8192
    """Bounds max_new_tokens / max_tokens in the request schema (input + new <= total)."""
    engine: str = "tgi"
    """The model server's engine: tgi gets all three routes, vllm the OpenAI chat route only."""
    cold_start_seconds: int | None = None
    """A model that scales to zero: predicted seconds from its first request until it serves
    (`serving.cold_start_seconds`). None: it always has a replica."""

    @property
    def routes(self) -> tuple[Route, ...]:
        return ENGINE_ROUTES[self.engine]

    def __post_init__(self) -> None:
        if not isinstance(self.model, str) or not _MODEL.fullmatch(self.model):
            raise ValueError(f"model: must be a DNS label (got {self.model!r})")
        if self.max_input_tokens < 1:
            raise ValueError(f"max_input_tokens: must be >= 1 (model '{self.model}')")
        if self.max_total_tokens <= self.max_input_tokens:
            raise ValueError(f"max_total_tokens: must be > max_input_tokens (model '{self.model}')")
        if self.engine not in ENGINE_ROUTES:
            raise ValueError(f"engine: must be one of {', '.join(ENGINE_ROUTES)} (got {self.engine!r})")
        if self.cold_start_seconds is not None and self.cold_start_seconds < 1:
            raise ValueError(f"cold_start_seconds: must be >= 1 (model '{self.model}')")
        if not 1 <= self.max_body_kib <= API_GATEWAY_MAX_PAYLOAD_KIB:
            raise ValueError(
                f"max_body_kib: must be between 1 and {API_GATEWAY_MAX_PAYLOAD_KIB} (API Gateway's payload limit)"
            )

    @property
    def max_input_chars(self) -> int:
        return min(self.max_input_tokens * MAX_CHARS_PER_TOKEN, self.max_body_kib * 1024)


def generate_schema(backend: GatewayBackend) -> dict[str, Any]:
    """TGI /generate and /generate_stream body (JSON Schema draft 4, what API Gateway validates)."""
    return {
        "$schema": "http://json-schema.org/draft-04/schema#",
        "title": f"generate-{backend.model}",
        "type": "object",
        "required": ["inputs"],
        "additionalProperties": False,
        "properties": {
            "inputs": {"type": "string", "minLength": 1, "maxLength": backend.max_input_chars},
            "stream": {"type": "boolean"},
            "parameters": {
                "type": "object",
                "properties": {
                    "max_new_tokens": {"type": "integer", "minimum": 1, "maximum": backend.max_total_tokens - 1},
                    "temperature": {"type": "number", "minimum": 0, "exclusiveMinimum": True},
                    "top_p": {
                        "type": "number",
                        "minimum": 0,
                        "maximum": 1,
                        "exclusiveMinimum": True,
                        "exclusiveMaximum": True,
                    },
                    "top_k": {"type": "integer", "minimum": 1},
                    "stop": {"type": "array", "maxItems": 4, "items": {"type": "string"}},
                },
            },
        },
    }


def chat_schema(backend: GatewayBackend) -> dict[str, Any]:
    """OpenAI chat completions body as TGI accepts it."""
    return {
        "$schema": "http://json-schema.org/draft-04/schema#",
        "title": f"chat-{backend.model}",
        "type": "object",
        "required": ["messages"],
        "properties": {
            "model": {"type": "string"},
            "messages": {
                "type": "array",
                "minItems": 1,
                "items": {
                    "type": "object",
                    "required": ["role", "content"],
                    "properties": {
                        "role": {"type": "string", "enum": ["system", "user", "assistant", "tool"]},
                        "content": {"type": ["string", "array"], "maxLength": backend.max_input_chars},
                    },
                },
            },
            "max_tokens": {"type": "integer", "minimum": 1, "maximum": backend.max_total_tokens - 1},
            "stream": {"type": "boolean"},
            "temperature": {"type": "number", "minimum": 0, "maximum": 2},
            "top_p": {"type": "number", "minimum": 0, "maximum": 1},
        },
    }


def _model_name(schema: str, model: str) -> str:
    """API Gateway model names are alphanumeric."""
    return schema.capitalize() + "".join(part.capitalize() for part in model.split("-"))


def lambda_trust_policy(account_id: str) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
            }
        ],
    }


def authorizer_policy(log_group_arn: str, environment_key_arn: str, region: str) -> dict[str, Any]:
    """Write its own log group and X-Ray segments, and decrypt its environment (the tenant table) through
    Lambda; nothing else."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                # Lambda decrypts the environment as this role. It also holds a grant Lambda creates,
                # but a grant dies with the role's principal id if the role is ever replaced.
                "Sid": "DecryptOwnEnvironment",
                "Effect": "Allow",
                "Action": "kms:Decrypt",
                "Resource": environment_key_arn,
                "Condition": {"StringEquals": {"kms:ViaService": f"lambda.{region}.amazonaws.com"}},
            },
            {
                "Sid": "WriteOwnLogs",
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": f"{log_group_arn}:*",
            },
            {
                # X-Ray trace APIs have no resource-level permissions.
                "Sid": "WriteTraces",
                "Effect": "Allow",
                "Action": ["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
                "Resource": "*",
            },
        ],
    }


def apigateway_logging_trust_policy(account_id: str) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "apigateway.amazonaws.com"},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
            }
        ],
    }


def retry_after_seconds(backends: tuple[GatewayBackend, ...]) -> int:
    """Seconds a caller of this API waits for a model without a ready replica: the longest cold
    start among its models that scale to zero, else DEFAULT_RETRY_AFTER_SECONDS."""
    return max([b.cold_start_seconds for b in backends if b.cold_start_seconds], default=DEFAULT_RETRY_AFTER_SECONDS)


@dataclass(frozen=True)
class ApiGatewayArgs:
    environment: str
    region: str
    account_id: pulumi.Input[str]
    api_name: str
    """`conventions.gateway_api_name(environment, region)`: the ApiName dimension scalers read."""
    vpc_link_id: pulumi.Input[str]
    """REST API VPC link to the internal NLB in front of the model servers."""
    backends: tuple[GatewayBackend, ...]
    logs_key_arn: pulumi.Input[str]
    lambda_key_arn: pulumi.Input[str]
    """Customer-managed key of the authorizer's environment (`Encryption.lambda_key_arn`)."""
    stage_name: str = GATEWAY_STAGE
    tenants: tuple[TenantSpec, ...] = ()
    """Every tenant of the platform: each gets a key and usage plan here, and routes to those of its models
    this region serves (a model served elsewhere only answers 403 here)."""
    tenant_key_values: Mapping[str, pulumi.Input[str]] | None = None
    """Secret key value per tenant from `TenantSecrets`, the same in every region; None: generated here."""
    log_retention_days: int = 365
    throttle_rate_limit: float | None = None
    """Default requests per second for every method of the stage. None: the sum of the tenants' usage
    plans (`tenant_limits.stage_throttle`), so the stage never caps a tenant below its plan."""
    throttle_burst_limit: int | None = None
    waf_rate_limit_per_5min: int = 2000
    max_body_kib: int = 256
    """Gateway-wide body limit the WAF enforces (the config's gateway.max_body_kib)."""
    waf_common_rules_to_count: tuple[str, ...] = COMMON_RULES_TO_COUNT
    """See WebAclArgs.common_rules_to_count."""
    buffered_timeout_ms: int = BUFFERED_TIMEOUT_MS
    authorizer_reserved_concurrency: int = 20
    manage_account_logging_role: bool = True
    """Set the region's account-wide API Gateway CloudWatch role (aws.apigateway.Account). False when
    another stack of the same account and region already owns that singleton setting."""
    partition: str = "aws"
    protect: bool = False
    """Protect the access log group (audit trail) from deletion."""
    extra_tags: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_environment_name(self.environment)
        check_region(self.region)
        if not _STAGE.fullmatch(self.stage_name):
            raise ValueError(f"stage_name: letters, digits, '-' and '_' only (got {self.stage_name!r})")
        if not self.backends:
            raise ValueError("backends: at least one model backend is required")
        models = [backend.model for backend in self.backends]
        if len(set(models)) != len(models):
            raise ValueError(f"backends: duplicate model in {', '.join(models)}")
        if len({tenant.name for tenant in self.tenants}) != len(self.tenants):
            raise ValueError("tenants: duplicate tenant name")
        if self.log_retention_days not in LOG_RETENTION_DAYS:
            raise ValueError(f"log_retention_days: must be one of {', '.join(map(str, LOG_RETENTION_DAYS))}")
        if (self.throttle_rate_limit is not None and self.throttle_rate_limit <= 0) or (
            self.throttle_burst_limit is not None and self.throttle_burst_limit <= 0
        ):
            raise ValueError("throttle_rate_limit, throttle_burst_limit: must be > 0")
        if not 50 <= self.buffered_timeout_ms <= 300_000:
            raise ValueError(f"buffered_timeout_ms: must be between 50 and 300000 (got {self.buffered_timeout_ms})")
        if gateway_authorizer.table_bytes({t.name: list(t.models) for t in self.tenants}) > AUTHORIZER_TABLE_MAX_BYTES:
            raise ValueError(
                f"tenants: {len(self.tenants)} tenants exceed the authorizer's environment "
                f"({AUTHORIZER_TABLE_MAX_BYTES} bytes of Lambda's 4 KB); move the table to SSM Parameter Store"
            )
        if self.authorizer_reserved_concurrency < 1:
            raise ValueError("authorizer_reserved_concurrency: must be >= 1 (0 would disable the authorizer)")

    @property
    def stage_throttle(self) -> tenant_limits.StageThrottle:
        derived = tenant_limits.stage_throttle(t.limits for t in self.tenants)
        return tenant_limits.StageThrottle(
            rate_limit_rps=derived.rate_limit_rps if self.throttle_rate_limit is None else self.throttle_rate_limit,
            burst=derived.burst if self.throttle_burst_limit is None else self.throttle_burst_limit,
        )


def route_table(args: ApiGatewayArgs) -> list[dict[str, Any]]:
    """Every public route: what the deployment trigger hashes and what tests and docs read."""
    return [
        {
            "model": backend.model,
            "path": resource_path(backend.model, route),
            "upstream": route.upstream,
            "stream": route.stream,
            "schema": route.schema,
            "max_input_chars": backend.max_input_chars,
            "max_total_tokens": backend.max_total_tokens,
        }
        for backend in args.backends
        for route in backend.routes
    ]


class ApiGateway(pulumi.ComponentResource):
    """REST API, tenant authorizer, routes, stage with logs and tracing, WAF, tenant keys and usage plans."""

    rest_api_id: pulumi.Output[str]
    stage_name: str
    stage_arn: pulumi.Output[str]
    invoke_url: pulumi.Output[str]
    execution_arn: pulumi.Output[str]
    web_acl_arn: pulumi.Output[str]
    tenant_key_ids: dict[str, pulumi.Output[str]]
    tenant_key_values: dict[str, pulumi.Output[str]]
    """Secret API key values per tenant."""

    def __init__(self, name: str, args: ApiGatewayArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("llm-serving:gateway:ApiGateway", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self._name, self._args = name, args
        self.api_name = args.api_name
        self.stage_name = args.stage_name

        keys = TenantKeys(
            f"{name}-keys",
            TenantKeysArgs(
                environment=args.environment, region=args.region, tenants=args.tenants, values=args.tenant_key_values
            ),
            opts=child,
        )
        api = aws.apigateway.RestApi(
            f"{name}-api",
            name=args.api_name,
            description=f"llm-serving {args.environment} model serving ({args.region})",
            endpoint_configuration=aws.apigateway.RestApiEndpointConfigurationArgs(types="REGIONAL"),
            api_key_source="HEADER",
            tags=self._tags(f"{name}-api"),
            opts=child,
        )
        authorizer = self._authorizer(api, keys)
        validator = aws.apigateway.RequestValidator(
            f"{name}-validator",
            rest_api=api.id,
            name="body-and-parameters",
            validate_request_body=True,
            validate_request_parameters=True,
            opts=child,
        )
        # Gateway responses ship with a deployment like routes do: the deployment waits for it.
        access_denied = aws.apigateway.Response(
            f"{name}-access-denied",
            rest_api_id=api.id,
            response_type="ACCESS_DENIED",
            status_code="403",
            response_templates={"application/json": json.dumps({"message": "model not allowed for this API key"})},
            opts=child,
        )
        route_resources = [*self._routes(api, authorizer, validator), access_denied, *self._unavailable(api, args)]

        triggers = pulumi.Output.all(*[backend.url for backend in args.backends]).apply(
            lambda urls: {
                "routes": hashlib.sha256(
                    json.dumps(
                        {
                            "routes": route_table(args),
                            "urls": urls,
                            "schemas": [(generate_schema(b), chat_schema(b)) for b in args.backends],
                            # Gateway responses take effect with a deployment too.
                            "retry_after": retry_after_seconds(args.backends),
                        },
                        sort_keys=True,
                    ).encode()
                ).hexdigest()
            }
        )
        deployment = aws.apigateway.Deployment(
            f"{name}-deployment",
            rest_api=api.id,
            description=f"llm-serving {args.environment} routes",
            triggers=triggers,
            opts=pulumi.ResourceOptions(parent=self, depends_on=route_resources),
        )

        stage_dependencies: list[pulumi.Resource] = []
        if args.manage_account_logging_role:
            stage_dependencies.append(self._account_logging_role())
        access_logs = aws.cloudwatch.LogGroup(
            f"{name}-access-logs",
            name=f"/aws/apigateway/{args.api_name}/{args.stage_name}/access",
            retention_in_days=args.log_retention_days,
            kms_key_id=args.logs_key_arn,
            tags=self._tags(f"{name}-access-logs"),
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
        )
        # API Gateway would create this execution-log group itself, unencrypted and kept forever.
        execution_logs = aws.cloudwatch.LogGroup(
            f"{name}-execution-logs",
            name=api.id.apply(lambda api_id: f"API-Gateway-Execution-Logs_{api_id}/{args.stage_name}"),
            retention_in_days=args.log_retention_days,
            kms_key_id=args.logs_key_arn,
            tags=self._tags(f"{name}-execution-logs"),
            opts=child,
        )
        stage_dependencies.append(execution_logs)
        stage = aws.apigateway.Stage(
            f"{name}-stage",
            rest_api=api.id,
            stage_name=args.stage_name,
            deployment=deployment.id,
            description=f"llm-serving {args.environment} {args.stage_name}",
            xray_tracing_enabled=True,
            access_log_settings=aws.apigateway.StageAccessLogSettingsArgs(
                destination_arn=access_logs.arn, format=json.dumps(ACCESS_LOG_FORMAT, separators=(",", ":"))
            ),
            tags=self._tags(f"{name}-stage"),
            opts=pulumi.ResourceOptions(parent=self, depends_on=stage_dependencies),
        )
        aws.apigateway.MethodSettings(
            f"{name}-method-settings",
            rest_api=api.id,
            stage_name=stage.stage_name,
            method_path="*/*",
            settings=aws.apigateway.MethodSettingsSettingsArgs(
                metrics_enabled=True,
                logging_level="ERROR",
                data_trace_enabled=False,
                throttling_rate_limit=args.stage_throttle.rate_limit_rps,
                throttling_burst_limit=args.stage_throttle.burst,
            ),
            opts=child,
        )
        waf = WebAcl(
            f"{name}-waf",
            WebAclArgs(
                environment=args.environment,
                region=args.region,
                resource_arns=(stage.arn,),
                logs_key_arn=args.logs_key_arn,
                rate_limit_per_5min=args.waf_rate_limit_per_5min,
                max_body_kib=args.max_body_kib,
                log_retention_days=args.log_retention_days,
                common_rules_to_count=args.waf_common_rules_to_count,
            ),
            opts=child,
        )
        plans = TenantUsagePlans(
            f"{name}-plans",
            TenantUsagePlansArgs(
                environment=args.environment,
                region=args.region,
                tenants=args.tenants,
                key_ids=keys.key_ids,
                rest_api_id=api.id,
                stage_name=stage.stage_name,
            ),
            opts=child,
        )

        self.rest_api_id = api.id
        self.execution_arn = api.execution_arn
        self.stage_arn = stage.arn
        self.invoke_url = stage.invoke_url
        self.web_acl_arn = waf.arn
        self.access_log_group_name = access_logs.name
        self.tenant_keys = keys
        self.tenant_key_ids = keys.key_ids
        self.tenant_key_values = keys.key_values
        self.usage_plan_ids = plans.plan_ids
        self.register_outputs(
            {
                "rest_api_id": self.rest_api_id,
                "stage_arn": self.stage_arn,
                "invoke_url": self.invoke_url,
                "web_acl_arn": self.web_acl_arn,
                "tenant_key_ids": self.tenant_key_ids,
                "tenant_key_values": self.tenant_key_values,
            }
        )

    def _tags(self, name: str) -> dict[str, str]:
        return {**self._args.extra_tags, "Name": name, "component": "gateway"}

    def _unavailable(self, api: aws.apigateway.RestApi, args: ApiGatewayArgs) -> list[aws.apigateway.Response]:
        """A model with no ready replica (scaled to zero and waking, or restarting) makes the VPC link
        fail or time out: callers get 503 with `Retry-After` for the time the sizing predicts, not a
        bare 502/504. Gateway responses are per API, so the wait is the longest of its models'."""
        wait = retry_after_seconds(args.backends)
        message = f"the model is starting (or has no ready replica): retry after {wait} s"
        return [
            aws.apigateway.Response(
                f"{self._name}-{kind.lower().replace('_', '-')}",
                rest_api_id=api.id,
                response_type=kind,
                status_code="503",
                response_parameters={RETRY_AFTER_PARAMETER: f"'{wait}'"},
                response_templates={"application/json": json.dumps({"message": message})},
                opts=pulumi.ResourceOptions(parent=self),
            )
            for kind in UNAVAILABLE_RESPONSE_TYPES
        ]

    def _authorizer(self, api: aws.apigateway.RestApi, keys: TenantKeys) -> aws.apigateway.Authorizer:
        name, args = self._name, self._args
        child = pulumi.ResourceOptions(parent=self)
        function_name = f"llm-serving-{args.environment}-{args.region}-tenant-authorizer"
        log_group = aws.cloudwatch.LogGroup(
            f"{name}-authorizer-logs",
            name=f"/aws/lambda/{function_name}",
            retention_in_days=args.log_retention_days,
            kms_key_id=args.logs_key_arn,
            tags=self._tags(f"{name}-authorizer-logs"),
            opts=child,
        )
        role = aws.iam.Role(
            f"{name}-authorizer",
            description="llm-serving tenant authorizer: own logs and traces only",
            assume_role_policy=pulumi.Output.from_input(args.account_id).apply(
                lambda account: json.dumps(lambda_trust_policy(account))
            ),
            tags=self._tags(f"{name}-authorizer"),
            opts=child,
        )
        policy = aws.iam.RolePolicy(
            f"{name}-authorizer",
            role=role.id,
            policy=pulumi.Output.all(log_group.arn, args.lambda_key_arn).apply(
                lambda v: json.dumps(authorizer_policy(v[0], v[1], args.region))
            ),
            opts=child,
        )
        models = {tenant.name: list(tenant.models) for tenant in args.tenants}
        table = pulumi.Output.all(**keys.key_digests).apply(
            lambda digests: json.dumps(gateway_authorizer.tenant_table(dict(digests), models), sort_keys=True)
        )
        function = aws.lambda_.Function(
            f"{name}-authorizer",
            name=function_name,
            description="llm-serving: API key -> tenant -> allowed models (403 otherwise)",
            runtime=AUTHORIZER_RUNTIME,
            architectures=["arm64"],
            handler="index.handler",
            code=pulumi.AssetArchive(
                {"index.py": pulumi.StringAsset(Path(gateway_authorizer.__file__).read_text(encoding="utf-8"))}
            ),
            role=role.arn,
            memory_size=128,
            timeout=3,
            reserved_concurrent_executions=args.authorizer_reserved_concurrency,
            tracing_config=aws.lambda_.FunctionTracingConfigArgs(mode="Active"),
            logging_config=aws.lambda_.FunctionLoggingConfigArgs(log_format="JSON", log_group=log_group.name),
            # Key digests, not keys; still derived from secrets, so Pulumi keeps them secret in state.
            environment=aws.lambda_.FunctionEnvironmentArgs(variables={"TENANTS": table}),
            kms_key_arn=args.lambda_key_arn,
            tags=self._tags(f"{name}-authorizer"),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[log_group, policy]),
        )
        authorizer = aws.apigateway.Authorizer(
            f"{name}-authorizer",
            rest_api=api.id,
            name="tenant",
            type="REQUEST",
            authorizer_uri=function.invoke_arn,
            identity_source=f"method.request.header.{gateway_authorizer.API_KEY_HEADER}",
            authorizer_result_ttl_in_seconds=AUTHORIZER_CACHE_SECONDS,
            opts=child,
        )
        aws.lambda_.Permission(
            f"{name}-authorizer",
            action="lambda:InvokeFunction",
            function=function.name,
            principal="apigateway.amazonaws.com",
            source_arn=pulumi.Output.concat(api.execution_arn, "/authorizers/", authorizer.id),
            opts=child,
        )
        self.authorizer_function_name = function.name
        return authorizer

    def _routes(
        self,
        api: aws.apigateway.RestApi,
        authorizer: aws.apigateway.Authorizer,
        validator: aws.apigateway.RequestValidator,
    ) -> list[pulumi.Resource]:
        name, args = self._name, self._args
        child = pulumi.ResourceOptions(parent=self)
        created: list[pulumi.Resource] = []
        resources: dict[str, aws.apigateway.Resource] = {}

        def resource(path: str) -> aws.apigateway.Resource:
            """The resource at `path` (no leading /), creating its parents first."""
            if path not in resources:
                parent_path, _, part = path.rpartition("/")
                parent_id = resource(parent_path).id if parent_path else api.root_resource_id
                resources[path] = aws.apigateway.Resource(
                    f"{name}-{path.replace('/', '-')}",
                    rest_api=api.id,
                    parent_id=parent_id,
                    path_part=part,
                    opts=child,
                )
            return resources[path]

        for backend in args.backends:
            models = {
                "generate": aws.apigateway.Model(
                    f"{name}-{backend.model}-generate-schema",
                    rest_api=api.id,
                    name=_model_name("generate", backend.model),
                    content_type="application/json",
                    schema=json.dumps(generate_schema(backend)),
                    opts=child,
                ),
                "chat": aws.apigateway.Model(
                    f"{name}-{backend.model}-chat-schema",
                    rest_api=api.id,
                    name=_model_name("chat", backend.model),
                    content_type="application/json",
                    schema=json.dumps(chat_schema(backend)),
                    opts=child,
                ),
            }
            for route in backend.routes:
                target = resource(f"v1/models/{backend.model}/{route.path}")
                label = f"{name}-{backend.model}-{route.path.replace('/', '-')}"
                method = aws.apigateway.Method(
                    label,
                    rest_api=api.id,
                    resource_id=target.id,
                    http_method="POST",
                    authorization="CUSTOM",
                    authorizer_id=authorizer.id,
                    api_key_required=True,
                    request_validator_id=validator.id,
                    request_models={"application/json": models[route.schema].name},
                    opts=child,
                )
                integration = aws.apigateway.Integration(
                    label,
                    rest_api=api.id,
                    resource_id=target.id,
                    http_method=method.http_method,
                    type="HTTP_PROXY",
                    integration_http_method="POST",
                    uri=pulumi.Output.concat(backend.url, route.upstream),
                    connection_type="VPC_LINK",
                    connection_id=args.vpc_link_id,
                    response_transfer_mode="STREAM" if route.stream else "BUFFERED",
                    timeout_milliseconds=STREAM_TIMEOUT_MS if route.stream else args.buffered_timeout_ms,
                    opts=child,
                )
                created += [method, integration]
        return created

    def _account_logging_role(self) -> aws.apigateway.Account:
        """The region's account-wide API Gateway setting: the role API Gateway writes CloudWatch logs with."""
        name, args = self._name, self._args
        child = pulumi.ResourceOptions(parent=self)
        role = aws.iam.Role(
            f"{name}-cloudwatch",
            description=f"API Gateway CloudWatch logging in {args.region}",
            assume_role_policy=pulumi.Output.from_input(args.account_id).apply(
                lambda account: json.dumps(apigateway_logging_trust_policy(account))
            ),
            tags=self._tags(f"{name}-cloudwatch"),
            opts=child,
        )
        attachment = aws.iam.RolePolicyAttachment(
            f"{name}-cloudwatch",
            role=role.name,
            policy_arn=aws_managed_policies.managed_policy_arn(
                aws_managed_policies.APIGATEWAY_PUSH_TO_CLOUDWATCH_LOGS, args.partition
            ),
            opts=child,
        )
        return aws.apigateway.Account(
            f"{name}-account",
            cloudwatch_role_arn=role.arn,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[attachment]),
        )
