"""Usage-based charges of a planned stack, from a stated traffic assumption (`llm-serving:traffic`).

The fixed monthly estimate (`components.cost`) counts what the stack costs standing still; this adds
what its traffic costs, shown apart from it and never part of the budget checks, because it is only
as good as the assumption it is computed from. The assumption says, per model, how many requests a
month and how many tokens in and out a request carries; the plan says which services those requests
cross in each region. Every line says how it was reached. Prices are the price list's
(`components.catalog`, `catalog.PRICE_LIST`), first tier, no free tier: an upper bound.

What is estimated, per region:

- API Gateway REST requests: every request of a model behind the gateway (its requests are split
  evenly over the regions that serve it).
- WAF requests: every request reaches the web ACL associated with the stage, allowed or blocked.
- Lambda: the tenant authorizer's invocations and duration. API Gateway caches its answer per API key
  for the authorizer's TTL (`authorizerResultTtlInSeconds`), so a region invokes it at most once
  per key per TTL however many requests arrive; duration at `AUTHORIZER_BILLED_MS` per invocation
  and the function's memory and architecture from the plan.
- Data transfer out: API Gateway bills the bytes of its responses at EC2's internet egress rate;
  the output tokens times `response_bytes_per_output_token` (stated in the assumption).
- Route 53: with a hosted zone, the latency-based alias records the regions publish; at most one
  query per request (resolvers cache answers, so fewer reach Route 53).
- NAT gateways: none of the request path crosses them (API Gateway -> VPC link -> internal NLB ->
  pods, and back the same way), so the tokens add no NAT data processing. What does cross them,
  container images from registries outside AWS at node start, is not in the plan (no image sizes).
- S3 requests: each cold start (a replica on a node without the weights) runs `aws s3 sync` of the
  model's revision: one LIST and one GET per `S3_PART_BYTES` part (the AWS CLI's default multipart
  chunk size for downloads). Weights reach the nodes through the S3 gateway endpoint (no transfer
  charge). Sensitive models read their data centre's own store: no S3 request.

Not estimated: CloudWatch Logs ingestion of access and authorizer logs, X-Ray traces, NLB capacity
units, Transit Gateway data processing of data-centre callers, and KMS requests.

$ per 1M tokens per model = (the model's share of the GPU capacity it holds at steady, from the
fixed estimate's node group and hybrid node lines, in proportion to the GPUs its minimum replicas
hold there, + the usage lines of its requests) / (its requests x (mean input + mean output tokens))
x 10^6. A model at min_replicas 0 holds no GPU at steady: its figure leaves out the hours it scales
up for; on-prem machines of kind kubernetes targets are not AWS charges and are not in it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from components import catalog
from components.cost import CostEstimate, _count, _is_list, _rate

SECONDS_PER_MONTH = catalog.HOURS_PER_MONTH * 3600
# The authorizer hashes the key and looks its tenant up in a table in its environment: a few ms warm.
# 20 ms billed per invocation leaves room for cold starts (Lambda bills per 1 ms).
AUTHORIZER_BILLED_MS = 20
# The AWS CLI's default multipart_chunksize (8 MiB): `aws s3 sync` downloads a large object in
# ranged GETs of this size, each a GET request.
S3_PART_BYTES = 8 * 1024 * 1024
GB = 10**9  # AWS data transfer and processing are billed per GB

REST_API_TYPE = "aws:apigateway/restApi:RestApi"
WEB_ACL_ASSOCIATION_TYPE = "aws:wafv2/webAclAssociation:WebAclAssociation"
LAMBDA_TYPE = "aws:lambda/function:Function"
AUTHORIZER_TYPE = "aws:apigateway/authorizer:Authorizer"
API_KEY_TYPE = "aws:apigateway/apiKey:ApiKey"
RECORD_TYPE = "aws:route53/record:Record"
NAT_GATEWAY_TYPE = "aws:ec2/natGateway:NatGateway"


@dataclass(frozen=True)
class ModelTraffic:
    """One model's stated traffic and where it lands."""

    model: str
    requests_per_month: int
    mean_input_tokens: int
    mean_output_tokens: int
    cold_starts_per_month: int
    gateway_regions: tuple[str, ...]
    """Regions whose API Gateway serves it (none: it is called on-prem only)."""
    pull_regions: tuple[str, ...]
    """Where each placement's cold starts read the weights from S3: its own region's bucket, the
    primary region's for on-prem targets; none for a sensitive model (its data centre's store)."""
    weights_bytes: int

    @property
    def tokens_per_month(self) -> int:
        return self.requests_per_month * (self.mean_input_tokens + self.mean_output_tokens)


@dataclass(frozen=True)
class TrafficAssumption:
    models: tuple[ModelTraffic, ...]
    response_bytes_per_output_token: int

    def to_json(self) -> dict[str, Any]:
        return {
            "response_bytes_per_output_token": self.response_bytes_per_output_token,
            "authorizer_billed_ms": AUTHORIZER_BILLED_MS,
            "s3_part_bytes": S3_PART_BYTES,
            "requests_split": "evenly over the regions whose gateway serves the model",
            "models": {
                m.model: {
                    "requests_per_month": m.requests_per_month,
                    "mean_input_tokens": m.mean_input_tokens,
                    "mean_output_tokens": m.mean_output_tokens,
                    "cold_starts_per_month": m.cold_starts_per_month,
                    "tokens_per_month": m.tokens_per_month,
                }
                for m in self.models
            },
        }


@dataclass(frozen=True)
class UsageLine:
    service: str
    region: str
    monthly_usd: float
    basis: str
    by_model: Mapping[str, float] = field(default_factory=dict)
    """The line's dollars by the model whose requests (or cold starts) cause them."""


@dataclass(frozen=True)
class UsageEstimate:
    assumption: TrafficAssumption | None
    lines: list[UsageLine]
    per_million_tokens: dict[str, float]
    gpu_share_usd: dict[str, float]

    @property
    def monthly_usd(self) -> float:
        return sum(line.monthly_usd for line in self.lines)

    @property
    def by_region(self) -> dict[str, float]:
        totals: dict[str, float] = {}
        for line in self.lines:
            totals[line.region] = totals.get(line.region, 0.0) + line.monthly_usd
        return totals

    @property
    def by_model(self) -> dict[str, float]:
        totals: dict[str, float] = {}
        for line in self.lines:
            for model, usd in line.by_model.items():
                totals[model] = totals.get(model, 0.0) + usd
        return totals


@dataclass
class _Region:
    """What the plan puts in one region that traffic is billed by."""

    rest_api: bool = False
    web_acl: bool = False
    api_keys: int = 0
    authorizer_ttl: int | None = None
    authorizer_memory_mb: int | None = None
    authorizer_arm: bool = True
    latency_records: int = 0
    nat_gateways: int = 0


def estimate(
    resources: Iterable[Mapping[str, Any]], traffic: TrafficAssumption | None, fixed: CostEstimate
) -> UsageEstimate:
    """The usage lines of `traffic` over the planned `resources`, and $ per 1M tokens per model."""
    if traffic is None:
        return UsageEstimate(None, [], {}, {})
    regions = _regions(resources)
    lines: list[UsageLine] = []
    for name in sorted(regions):
        region = regions[name]
        share = {
            m.model: m.requests_per_month / len(m.gateway_regions) for m in traffic.models if name in m.gateway_regions
        }
        requests = sum(share.values())
        if region.rest_api and requests:
            lines += _gateway_lines(name, region, share, traffic)
        if region.nat_gateways:
            lines.append(
                UsageLine(
                    "NAT gateway data processed",
                    name,
                    0.0,
                    f"0 GB × {_rate(catalog.NAT_GATEWAY_USD_PER_GB)}/GB: requests and responses go API Gateway → VPC "
                    "link → internal NLB → pods and back, never through a NAT gateway; image pulls at node start "
                    "do cross it (not estimated: the plan has no image sizes)",
                )
            )
    lines += _s3_lines(traffic, fixed)
    shares = gpu_shares(fixed)
    usage_by_model: dict[str, float] = {}
    for line in lines:
        for model, usd in line.by_model.items():
            usage_by_model[model] = usage_by_model.get(model, 0.0) + usd
    per_million = {
        m.model: (shares.get(m.model, 0.0) + usage_by_model.get(m.model, 0.0)) / m.tokens_per_month * 1e6
        for m in traffic.models
        if m.tokens_per_month
    }
    return UsageEstimate(traffic, lines, per_million, {m.model: shares.get(m.model, 0.0) for m in traffic.models})


def gpu_shares(fixed: CostEstimate) -> dict[str, float]:
    """Each model's share of the steady GPU capacity: every node group and hybrid-node line split by
    the GPUs its workloads hold at their minimum replicas."""
    shares: dict[str, float] = {}
    for line in fixed.lines:
        held = sum(gpus for _, gpus in line.workloads)
        if not held:
            continue
        for model, gpus in line.workloads:
            shares[model] = shares.get(model, 0.0) + line.monthly_usd * gpus / held
    return shares


def _gateway_lines(
    name: str, region: _Region, share: Mapping[str, float], traffic: TrafficAssumption
) -> list[UsageLine]:
    requests = sum(share.values())
    million = requests / 1e6

    def split(total: float) -> dict[str, float]:
        return {model: total * count / requests for model, count in share.items()}

    rate = catalog.API_GATEWAY_REST_USD_PER_MILLION_REQUESTS
    usd = million * rate
    lines = [
        UsageLine("API Gateway REST requests", name, usd, f"{requests:,.0f} requests × {_rate(rate)}/1M", split(usd))
    ]
    if region.web_acl:
        rate = catalog.WAF_USD_PER_MILLION_REQUESTS
        usd = million * rate
        lines.append(UsageLine("WAF requests", name, usd, f"{requests:,.0f} requests × {_rate(rate)}/1M", split(usd)))
    if region.authorizer_memory_mb is not None:
        lines.append(_authorizer_line(name, region, requests, split))
    output_bytes = sum(
        count * m.mean_output_tokens * traffic.response_bytes_per_output_token
        for m in traffic.models
        if (count := share.get(m.model))
    )
    rate = catalog.DATA_TRANSFER_OUT_USD_PER_GB
    usd = output_bytes / GB * rate
    by_model = {
        m.model: share[m.model] * m.mean_output_tokens * traffic.response_bytes_per_output_token / GB * rate
        for m in traffic.models
        if m.model in share
    }
    lines.append(
        UsageLine(
            "Data transfer out (API Gateway responses)",
            name,
            usd,
            f"{output_bytes / GB:,.1f} GB (output tokens × {traffic.response_bytes_per_output_token} bytes) × "
            f"{_rate(rate)}/GB",
            by_model,
        )
    )
    if region.latency_records:
        rate = catalog.ROUTE53_LATENCY_USD_PER_MILLION_QUERIES
        usd = million * rate
        lines.append(
            UsageLine(
                "Route 53 queries",
                name,
                usd,
                f"at most one latency-based query per request: {requests:,.0f} × {_rate(rate)}/1M",
                split(usd),
            )
        )
    return lines


def _authorizer_line(name: str, region: _Region, requests: float, split: Any) -> UsageLine:
    memory_gb = (region.authorizer_memory_mb or 128) / 1024
    ttl = region.authorizer_ttl or 0
    if ttl > 0 and region.api_keys:
        bound = region.api_keys * SECONDS_PER_MONTH / ttl
        invocations = min(requests, bound)
        how = f"min({requests:,.0f} requests, {region.api_keys} API key(s) × {SECONDS_PER_MONTH:,} s / {ttl} s cache)"
    else:
        invocations = requests
        how = f"{requests:,.0f} requests (no cache)"
    per_gb_second = (
        catalog.LAMBDA_ARM_USD_PER_GB_SECOND if region.authorizer_arm else catalog.LAMBDA_X86_USD_PER_GB_SECOND
    )
    gb_seconds = invocations * AUTHORIZER_BILLED_MS / 1000 * memory_gb
    usd = invocations / 1e6 * catalog.LAMBDA_USD_PER_MILLION_REQUESTS + gb_seconds * per_gb_second
    basis = (
        f"{how} = {invocations:,.0f} invocations × {_rate(catalog.LAMBDA_USD_PER_MILLION_REQUESTS)}/1M + "
        f"{gb_seconds:,.0f} GB-s ({AUTHORIZER_BILLED_MS} ms × {region.authorizer_memory_mb} MB) × "
        f"${per_gb_second:.10f}".rstrip("0")
        + "/GB-s"
    )
    return UsageLine("Lambda (tenant authorizer)", name, usd, basis, split(usd))


def _s3_lines(traffic: TrafficAssumption, fixed: CostEstimate) -> list[UsageLine]:
    pulls: dict[str, dict[str, float]] = {}  # region -> model -> pulls
    parts: dict[str, int] = {}
    for m in traffic.models:
        if not m.pull_regions or not m.cold_starts_per_month:
            continue
        parts[m.model] = max(1, math.ceil(m.weights_bytes / S3_PART_BYTES))
        for region in m.pull_regions:
            per = pulls.setdefault(region, {})
            per[m.model] = per.get(m.model, 0.0) + m.cold_starts_per_month / len(m.pull_regions)
    lines = []
    for region in sorted(pulls):
        by_model = {}
        gets = lists = 0.0
        for model, count in pulls[region].items():
            model_gets, model_lists = count * parts[model], count
            gets, lists = gets + model_gets, lists + model_lists
            by_model[model] = (
                model_gets / 1000 * catalog.S3_GET_USD_PER_THOUSAND
                + model_lists / 1000 * catalog.S3_LIST_USD_PER_THOUSAND
            )
        usd = sum(by_model.values())
        basis = (
            f"{sum(pulls[region].values()):,.0f} cold starts × (1 LIST + one GET per {S3_PART_BYTES // 2**20} MiB of "
            f"weights) = {gets:,.0f} GET × {_rate(catalog.S3_GET_USD_PER_THOUSAND)}/1k + {lists:,.0f} LIST × "
            f"{_rate(catalog.S3_LIST_USD_PER_THOUSAND)}/1k"
        )
        lines.append(UsageLine("S3 requests (weight pulls)", region, usd, basis, by_model))
    return lines


def _regions(resources: Iterable[Mapping[str, Any]]) -> dict[str, _Region]:
    resources = list(resources)
    regions: dict[str, _Region] = {}
    # The authorizer's function is the one its authorizerUri invokes (.../functions/<arn>/invocations).
    authorizer_uris = [
        str((r.get("inputs") or {}).get("authorizerUri", "")) for r in resources if r["type"] == AUTHORIZER_TYPE
    ]
    for r in resources:
        name = r.get("region")
        if not isinstance(name, str):
            continue
        inputs = r.get("inputs") or {}
        region = regions.setdefault(name, _Region())
        kind = r["type"]
        if kind == REST_API_TYPE:
            region.rest_api = True
        elif kind == WEB_ACL_ASSOCIATION_TYPE:
            region.web_acl = True
        elif kind == API_KEY_TYPE and inputs.get("enabled", True) is not False:
            region.api_keys += 1
        elif kind == AUTHORIZER_TYPE:
            region.authorizer_ttl = _count(inputs.get("authorizerResultTtlInSeconds", 300))
        elif kind == LAMBDA_TYPE and _invoked_by(inputs.get("name"), authorizer_uris):
            region.authorizer_memory_mb = _count(inputs.get("memorySize", 128)) or 128
            architectures = inputs.get("architectures")
            region.authorizer_arm = _is_list(architectures) and "arm64" in list(architectures)
        elif kind == RECORD_TYPE and _is_list(inputs.get("latencyRoutingPolicies")) and inputs.get("aliases"):
            region.latency_records += 1
        elif kind == NAT_GATEWAY_TYPE:
            region.nat_gateways += 1
    return {name: region for name, region in regions.items() if region != _Region()}


def _invoked_by(function: object, uris: list[str]) -> bool:
    return isinstance(function, str) and any(f":function:{function}/" in uri for uri in uris)
