"""A tenant's limits are global; each region's usage plan enforces a share of them.

API Gateway usage plans are regional: a tenant with a plan in N regions would get N times its rate,
burst and monthly quota. The stack file states each limit once (`gateway.tenants[]`), and every
region that holds the tenant's plan gets its share (`region_shares`, percent; by default an even
split), rounded down so the regions together never exceed the stated limit.

Each region's stage throttle is the sum of its plans' shares: it protects the account's regional
quota without silently capping a tenant below its plan. API Gateway's account-level throttle per
region (10,000 requests per second with a burst bucket of 5,000; 2,500 and 1,250 in some regions,
https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html) bounds that sum.
Pure: no Pulumi.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

ACCOUNT_THROTTLE_QUOTA_CODE = "L-8A5B8E43"  # Service Quotas: API Gateway "Throttle rate"
ACCOUNT_THROTTLE_RPS = 10_000
ACCOUNT_BURST = 5_000
# Regions whose default account throttle is 2,500 RPS with a burst of 1,250 (the quotas page above).
LOW_DEFAULT_REGIONS = frozenset(
    {
        "af-south-1",  # Africa (Cape Town)
        "eu-south-1",  # Europe (Milan)
        "ap-southeast-3",  # Asia Pacific (Jakarta)
        "me-central-1",  # Middle East (UAE)
        "ap-south-2",  # Asia Pacific (Hyderabad)
        "ap-southeast-4",  # Asia Pacific (Melbourne)
        "eu-south-2",  # Europe (Spain)
        "eu-central-2",  # Europe (Zurich)
        "il-central-1",  # Israel (Tel Aviv)
        "ca-west-1",  # Canada West (Calgary)
        "ap-southeast-5",  # Asia Pacific (Malaysia)
        "ap-southeast-7",  # Asia Pacific (Thailand)
        "mx-central-1",  # Mexico (Central)
    }
)
RATE_DECIMALS = 2  # usage plans take a fractional rate; hundredths keep the arithmetic exact enough


@dataclass(frozen=True)
class TenantLimits:
    rate_limit_rps: float
    burst: int
    monthly_quota: int


@dataclass(frozen=True)
class StageThrottle:
    rate_limit_rps: float
    burst: int


def account_throttle(region: str, raised_rps: int | None = None) -> StageThrottle:
    """The account's regional API Gateway throttle: AWS's default, or a raised quota the stack file states.

    The burst bucket is set by AWS from the rate and cannot be requested; a raised rate keeps the
    default's ratio (half the rate)."""
    rps, burst = (2_500, 1_250) if region in LOW_DEFAULT_REGIONS else (ACCOUNT_THROTTLE_RPS, ACCOUNT_BURST)
    if raised_rps is not None:
        rps, burst = raised_rps, raised_rps // 2
    return StageThrottle(rate_limit_rps=rps, burst=burst)


def even_shares(regions: Sequence[str]) -> dict[str, float]:
    return {region: 100 / len(regions) for region in regions} if regions else {}


def _floor(value: float, decimals: int = 0) -> float:
    scale = 10**decimals
    # A hair of tolerance so 33.33...% of 30 is 10, not 9.99 after floating point.
    return math.floor(value * scale + 1e-9) / scale


def share_of(total: TenantLimits, percent: float) -> TenantLimits:
    return TenantLimits(
        rate_limit_rps=_floor(total.rate_limit_rps * percent / 100, RATE_DECIMALS),
        burst=int(_floor(total.burst * percent / 100)),
        monthly_quota=int(_floor(total.monthly_quota * percent / 100)),
    )


def split(total: TenantLimits, shares: Mapping[str, float]) -> dict[str, TenantLimits]:
    """Each region's share of a tenant's limits, rounded down: together never above `total`."""
    return {region: share_of(total, percent) for region, percent in shares.items()}


def stage_throttle(plans: Iterable[TenantLimits]) -> StageThrottle:
    """A stage's default method throttle: the sum of its usage plans, so none is capped below its share.

    With no tenant nothing can call the stage; its throttle is then the smallest API Gateway takes."""
    plans = list(plans)
    if not plans:
        return StageThrottle(rate_limit_rps=1, burst=1)
    return StageThrottle(
        rate_limit_rps=round(sum(p.rate_limit_rps for p in plans), RATE_DECIMALS),
        burst=sum(p.burst for p in plans),
    )
