"""Tenants of the front door: an API key each (value from pulumi-random, kept secret) and a usage plan
(rate, burst, monthly quota) on the region's stage.

Two components because of ordering: the keys exist before the REST API (the authorizer Lambda
carries their SHA-256 digests), the usage plans need the deployed stage.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_random as random

from components.gateway_authorizer import key_digest
from components.tenant_limits import TenantLimits

KEY_LENGTH = 48  # random alphanumerics: ~285 bits; API Gateway accepts 20 to 128 characters
_NAME = re.compile(r"^[a-z]([a-z0-9-]{0,30}[a-z0-9])?$")


@dataclass(frozen=True)
class TenantSpec:
    name: str
    """Tenant name from the stack config (DNS label)."""
    models: tuple[str, ...]
    """Models the tenant may call; any other model answers 403 at the gateway."""
    rate_limit_rps: float
    burst: int
    monthly_quota: int
    """This region's share of the tenant's limits (`tenant_limits.split`), not the global figures."""

    @property
    def limits(self) -> TenantLimits:
        return TenantLimits(self.rate_limit_rps, self.burst, self.monthly_quota)

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not _NAME.fullmatch(self.name):
            raise ValueError(f"name: must be a DNS label (got {self.name!r})")
        if not self.models:
            raise ValueError(f"models: tenant '{self.name}' needs at least one model")
        if self.rate_limit_rps <= 0 or self.burst <= 0 or self.monthly_quota <= 0:
            raise ValueError(f"rate_limit_rps, burst, monthly_quota: must be > 0 (tenant '{self.name}')")


@dataclass(frozen=True)
class TenantSecretsArgs:
    tenants: tuple[str, ...]
    """Tenant names; each gets one key value shared by every region's gateway."""


class TenantSecrets(pulumi.ComponentResource):
    """One RandomPassword per tenant, created once for all regions: behind a latency-routed model
    hostname a tenant's key must be valid in whichever region answers."""

    values: dict[str, pulumi.Output[str]]
    """Secret key values per tenant; pass as ApiGatewayArgs.tenant_key_values in every region."""

    def __init__(self, name: str, args: TenantSecretsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("llm-serving:gateway:TenantSecrets", name, None, opts)
        self.values = {}
        for tenant in args.tenants:
            password = random.RandomPassword(
                f"{name}-{tenant}", length=KEY_LENGTH, special=False, opts=pulumi.ResourceOptions(parent=self)
            )
            self.values[tenant] = pulumi.Output.secret(password.result)
        self.register_outputs({"values": self.values})


@dataclass(frozen=True)
class TenantKeysArgs:
    environment: str
    region: str
    tenants: tuple[TenantSpec, ...]
    values: Mapping[str, pulumi.Input[str]] | None = None
    """Key values per tenant from TenantSecrets (shared across regions); None: generate them here."""

    def __post_init__(self) -> None:
        if self.values is not None:
            missing = sorted({t.name for t in self.tenants} - set(self.values))
            if missing:
                raise ValueError(f"values: no key value for tenant(s) {', '.join(missing)}")


class TenantKeys(pulumi.ComponentResource):
    """Per tenant the API key holding its value (a RandomPassword generated here unless given)."""

    key_ids: dict[str, pulumi.Output[str]]
    key_values: dict[str, pulumi.Output[str]]
    """Secret: the value clients send in `x-api-key`."""
    key_digests: dict[str, pulumi.Output[str]]
    """Secret (derived from a secret): SHA-256 of each key, what the authorizer compares."""

    def __init__(self, name: str, args: TenantKeysArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("llm-serving:gateway:TenantKeys", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.key_ids, self.key_values, self.key_digests = {}, {}, {}
        for tenant in args.tenants:
            if args.values is not None:
                value = pulumi.Output.secret(args.values[tenant.name])
            else:
                value = random.RandomPassword(
                    f"{name}-{tenant.name}", length=KEY_LENGTH, special=False, opts=child
                ).result
            key = aws.apigateway.ApiKey(
                f"{name}-{tenant.name}",
                name=f"llm-serving-{args.environment}-{args.region}-{tenant.name}",
                description=f"llm-serving tenant {tenant.name}",
                enabled=True,
                value=value,
                tags={"Name": f"{name}-{tenant.name}", "component": "gateway", "tenant": tenant.name},
                opts=child,
            )
            self.key_ids[tenant.name] = key.id
            self.key_values[tenant.name] = pulumi.Output.secret(value)
            self.key_digests[tenant.name] = pulumi.Output.secret(value.apply(key_digest))
        self.register_outputs({"key_ids": self.key_ids, "key_values": self.key_values})


@dataclass(frozen=True)
class TenantUsagePlansArgs:
    environment: str
    region: str
    tenants: tuple[TenantSpec, ...]
    key_ids: Mapping[str, pulumi.Input[str]]
    rest_api_id: pulumi.Input[str]
    stage_name: pulumi.Input[str]


class TenantUsagePlans(pulumi.ComponentResource):
    """Per tenant a usage plan on the stage (throttle and monthly quota) and its API key in it."""

    plan_ids: dict[str, pulumi.Output[str]]

    def __init__(self, name: str, args: TenantUsagePlansArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("llm-serving:gateway:TenantUsagePlans", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.plan_ids = {}
        for tenant in args.tenants:
            plan = aws.apigateway.UsagePlan(
                f"{name}-{tenant.name}",
                name=f"llm-serving-{args.environment}-{args.region}-{tenant.name}",
                description=f"llm-serving tenant {tenant.name}: {', '.join(tenant.models)}",
                api_stages=[aws.apigateway.UsagePlanApiStageArgs(api_id=args.rest_api_id, stage=args.stage_name)],
                throttle_settings=aws.apigateway.UsagePlanThrottleSettingsArgs(
                    rate_limit=tenant.rate_limit_rps, burst_limit=tenant.burst
                ),
                quota_settings=aws.apigateway.UsagePlanQuotaSettingsArgs(limit=tenant.monthly_quota, period="MONTH"),
                tags={"Name": f"{name}-{tenant.name}", "component": "gateway", "tenant": tenant.name},
                opts=child,
            )
            aws.apigateway.UsagePlanKey(
                f"{name}-{tenant.name}",
                key_id=args.key_ids[tenant.name],
                key_type="API_KEY",
                usage_plan_id=plan.id,
                opts=child,
            )
            self.plan_ids[tenant.name] = plan.id
        self.register_outputs({"plan_ids": self.plan_ids})
