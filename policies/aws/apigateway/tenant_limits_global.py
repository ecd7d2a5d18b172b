"""aws-apigateway-tenant-limits-global — a tenant's rate, burst and monthly quota are stated once in the
stack file and hold across regions; no stage throttle caps its tenants below their plans.

Usage plans are regional: the plans that carry a tenant (their `tenant` tag) in every region
together may not exceed the tenant's limits from the stack file (policy config), so N regions never
give it N times its quota. In each region, the stage's default method throttle (`*/*` method
settings) is at least the sum of that region's plans, and at most API Gateway's account throttle
there (components/tenant_limits.py), so a tenant configured higher is never silently capped.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyComplianceFramework,
    PolicyConfigSchema,
    PolicyResource,
    ReportViolation,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)

from components import tenant_limits
from policies.review import Controls, Review
from policies.support import number_text, region_of, resources_of_type, tag

USAGE_PLAN = "aws:apigateway/usagePlan:UsagePlan"
METHOD_SETTINGS = "aws:apigateway/methodSettings:MethodSettings"
TOLERANCE = 1e-6  # shares are rounded down to hundredths; sums compare as numbers, not text

LIMITS = (  # stack file key, usage plan input (block, key), what it is
    ("rate_limit_rps", ("throttleSettings", "rateLimit"), "requests per second"),
    ("burst", ("throttleSettings", "burstLimit"), "burst"),
    ("monthly_quota", ("quotaSettings", "limit"), "requests per month"),
)


def _number(value: Any) -> float:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0.0


def _plan_value(plan: PolicyResource, block: str, key: str) -> float:
    settings = plan.props.get(block)
    return _number(settings.get(key)) if isinstance(settings, Mapping) else 0.0


def _check_tenants(plans: list[PolicyResource], tenants: Mapping[str, Any], report_violation: ReportViolation) -> None:
    by_tenant: dict[str, list[PolicyResource]] = {}
    for plan in plans:
        name = tag(plan, "tenant")
        if not isinstance(name, str) or name not in tenants:
            report_violation(
                f"usage plan '{plan.name}' is of tenant {name!r}, which the stack file does not define: "
                "its limits are nobody's stated limits.",
                plan.urn,
            )
            continue
        by_tenant.setdefault(name, []).append(plan)
    for name, tenant_plans in sorted(by_tenant.items()):
        stated = tenants[name] if isinstance(tenants[name], Mapping) else {}
        for key, (block, field), what in LIMITS:
            total = sum(_plan_value(p, block, field) for p in tenant_plans)
            limit = _number(stated.get(key))
            if total > limit + TOLERANCE:
                parts = ", ".join(
                    sorted(f"{region_of(p) or '?'}: {number_text(_plan_value(p, block, field))}" for p in tenant_plans)
                )
                # Named on the plan that allows the most: the likeliest to have been raised.
                largest = max(tenant_plans, key=lambda p: _plan_value(p, block, field))
                report_violation(
                    f"tenant '{name}' usage plans allow {number_text(round(total, 2))} {what} together ({parts}); "
                    f"the stack file gives it {number_text(limit)} ({key}) across all regions.",
                    largest.urn,
                )


def _check_stages(
    plans: list[PolicyResource],
    settings: list[PolicyResource],
    raised_rps: int | None,
    report_violation: ReportViolation,
) -> None:
    by_region: dict[str | None, list[PolicyResource]] = {}
    for plan in plans:
        by_region.setdefault(region_of(plan), []).append(plan)
    for method in settings:
        if method.props.get("methodPath") != "*/*":
            continue
        region = region_of(method)
        values = method.props.get("settings")
        values = values if isinstance(values, Mapping) else {}
        regional = by_region.get(region, [])
        account = tenant_limits.account_throttle(region or "", raised_rps)
        rate = sum(_plan_value(p, "throttleSettings", "rateLimit") for p in regional)
        burst = sum(_plan_value(p, "throttleSettings", "burstLimit") for p in regional)
        checks = (
            ("throttlingRateLimit", "rateLimit", rate, account.rate_limit_rps),
            ("throttlingBurstLimit", "burstLimit", burst, account.burst),
        )
        for key, field, total, ceiling in checks:
            value = values.get(key)
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                report_violation(f"method settings '{method.name}' settings.{key} is unset.", method.urn)
            elif value + TOLERANCE < total:
                report_violation(
                    f"method settings '{method.name}' settings.{key} is {number_text(value)}, below the "
                    f"{number_text(round(total, 2))} its region's usage plans allow together ({field}): the stage "
                    "caps its tenants.",
                    method.urn,
                )
            elif value > ceiling + TOLERANCE:
                report_violation(
                    f"method settings '{method.name}' settings.{key} is {number_text(value)}, above API Gateway's "
                    f"account throttle in {region} ({number_text(ceiling)}).",
                    method.urn,
                )


def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    config = args.get_config() or {}
    tenants = config.get("tenants")
    tenants = tenants if isinstance(tenants, Mapping) else {}
    raised = config.get("accountThrottleRps")
    plans = resources_of_type(args.resources, USAGE_PLAN)
    _check_tenants(plans, tenants, report_violation)
    _check_stages(
        plans,
        resources_of_type(args.resources, METHOD_SETTINGS),
        int(raised) if isinstance(raised, (int, float)) and not isinstance(raised, bool) else None,
        report_violation,
    )


policy = StackValidationPolicy(
    name="aws-apigateway-tenant-limits-global",
    description=(
        "A tenant's usage plans in all regions together stay within its rate, burst and monthly quota from the "
        "stack file, and each region's stage throttle covers its usage plans without exceeding the account's."
    ),
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.MEDIUM,
    framework=PolicyComplianceFramework(name="NIST 800-53", reference="SC-5", version="rev5"),
    config_schema=PolicyConfigSchema(
        properties={
            "tenants": {
                "type": "object",
                "default": {},
                "description": "per tenant its global rate_limit_rps, burst and monthly_quota (gateway.tenants)",
            },
            "accountThrottleRps": {
                "type": ["integer", "null"],
                "default": None,
                "description": "gateway.account_throttle_rps: a raised API Gateway account throttle, if any",
            },
        },
    ),
    remediation_steps=(
        "Keep usage plans to the tenant's region shares (gateway.tenants[].region_shares, components/tenant_limits.py) "
        "and leave ApiGatewayArgs.throttle_rate_limit/throttle_burst_limit unset so the stage throttle is their sum."
    ),
    validate=validate,
)

review = Review(
    area="network",
    controls=Controls(nist_800_53=("SC-5",), soc2=("A1.1",)),
    why=(
        "A quota per region multiplies with the regions: a tenant in two regions gets twice its contract and its "
        "bill; a stage throttle below the plans silently throttles tenants who are within their contract."
    ),
)
