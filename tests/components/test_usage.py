"""Usage-based charges from a stated traffic assumption, over a small hand-built plan."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from components import catalog, cost, usage

REGION = "us-east-1"
AUTHORIZER_URI = (
    "arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/"
    "arn:aws:lambda:us-east-1:123456789012:function:tenant-authorizer/invocations"
)


def resource(type_token: str, inputs: dict[str, Any] | None = None, region: str | None = REGION) -> dict[str, Any]:
    return {"type": type_token, "name": type_token.rsplit(":", 1)[-1], "inputs": inputs or {}, "region": region}


def gateway(region: str = REGION, keys: int = 2, ttl: int = 300, waf: bool = True) -> list[dict[str, Any]]:
    plan = [
        resource("aws:apigateway/restApi:RestApi", region=region),
        resource(
            "aws:apigateway/authorizer:Authorizer",
            {"authorizerUri": AUTHORIZER_URI, "authorizerResultTtlInSeconds": ttl},
            region,
        ),
        resource(
            "aws:lambda/function:Function",
            {"name": "tenant-authorizer", "memorySize": 128, "architectures": ["arm64"]},
            region,
        ),
        *[resource("aws:apigateway/apiKey:ApiKey", {"enabled": True}, region) for _ in range(keys)],
    ]
    if waf:
        plan.append(resource("aws:wafv2/webAclAssociation:WebAclAssociation", region=region))
    return plan


def traffic(*models: usage.ModelTraffic, bytes_per_token: int = 250) -> usage.TrafficAssumption:
    return usage.TrafficAssumption(models, bytes_per_token)


def model(
    name: str = "llama",
    requests: int = 10_000_000,
    tokens_in: int = 600,
    tokens_out: int = 200,
    cold_starts: int = 0,
    regions: tuple[str, ...] = (REGION,),
    pulls: tuple[str, ...] = (),
    weights: int = 0,
) -> usage.ModelTraffic:
    return usage.ModelTraffic(name, requests, tokens_in, tokens_out, cold_starts, regions, pulls, weights)


NO_FIXED = cost.estimate([])


def lines_of(plan, assumption, fixed=NO_FIXED) -> dict[str, usage.UsageLine]:
    return {line.service: line for line in usage.estimate(plan, assumption, fixed).lines}


def test_no_traffic_assumption_estimates_nothing():
    result = usage.estimate(gateway(), None, NO_FIXED)
    assert (result.lines, result.monthly_usd, result.per_million_tokens) == ([], 0, {})


def test_gateway_requests_waf_and_response_bytes():
    lines = lines_of(gateway(), traffic(model()))
    assert lines["API Gateway REST requests"].monthly_usd == pytest.approx(10 * 3.50)
    assert lines["API Gateway REST requests"].basis == "10,000,000 requests × $3.5/1M"
    assert lines["WAF requests"].monthly_usd == pytest.approx(10 * 0.60)
    # 10M x 200 tokens x 250 bytes = 500 GB at $0.09.
    transfer = lines["Data transfer out (API Gateway responses)"]
    assert transfer.monthly_usd == pytest.approx(500 * 0.09)
    assert transfer.basis == "500.0 GB (output tokens × 250 bytes) × $0.09/GB"


def test_without_a_web_acl_there_is_no_waf_line():
    assert "WAF requests" not in lines_of(gateway(waf=False), traffic(model()))


def test_the_authorizer_cache_bounds_its_invocations_per_key():
    # 2 keys x 2,628,000 s / 300 s = 17,520 invocations, not 10M.
    line = lines_of(gateway(keys=2), traffic(model()))["Lambda (tenant authorizer)"]
    gb_seconds = 17_520 * 0.020 * 128 / 1024
    assert line.monthly_usd == pytest.approx(17_520 / 1e6 * 0.20 + gb_seconds * catalog.LAMBDA_ARM_USD_PER_GB_SECOND)
    assert line.basis.startswith("min(10,000,000 requests, 2 API key(s) × 2,628,000 s / 300 s cache) = 17,520")


def test_without_a_cache_every_request_invokes_the_authorizer():
    line = lines_of(gateway(ttl=0), traffic(model(requests=1_000_000)))["Lambda (tenant authorizer)"]
    gb_seconds = 1_000_000 * 0.020 * 128 / 1024
    assert line.monthly_usd == pytest.approx(0.20 + gb_seconds * catalog.LAMBDA_ARM_USD_PER_GB_SECOND)


def test_requests_split_evenly_over_the_regions_that_serve_the_model():
    plan = [*gateway(REGION), *gateway("eu-west-1")]
    result = usage.estimate(plan, traffic(model(regions=(REGION, "eu-west-1"))), NO_FIXED)
    gateway_lines = [line for line in result.lines if line.service == "API Gateway REST requests"]
    assert {line.region: line.monthly_usd for line in gateway_lines} == {
        REGION: pytest.approx(5 * 3.5),
        "eu-west-1": pytest.approx(5 * 3.5),
    }


def test_a_model_without_a_gateway_region_adds_no_gateway_charge():
    assert lines_of(gateway(), traffic(model(regions=()))) == {}


def test_nat_gateways_carry_none_of_the_request_path_and_say_so():
    plan = [*gateway(), resource("aws:ec2/natGateway:NatGateway")]
    line = lines_of(plan, traffic(model()))["NAT gateway data processed"]
    assert line.monthly_usd == 0.0
    assert "never through a NAT gateway" in line.basis and "image pulls at node start" in line.basis


def test_route53_latency_records_cost_at_most_a_query_per_request():
    record = resource("aws:route53/record:Record", {"latencyRoutingPolicies": [{"region": REGION}], "aliases": [{}]})
    line = lines_of([*gateway(), record], traffic(model()))["Route 53 queries"]
    assert line.monthly_usd == pytest.approx(10 * 0.60)


def test_each_cold_start_lists_once_and_gets_one_part_per_8_mib():
    weights = 100 * 8 * 2**20 + 1  # 101 parts
    line = lines_of([], traffic(model(regions=(), cold_starts=30, pulls=(REGION,), weights=weights)))[
        "S3 requests (weight pulls)"
    ]
    assert line.monthly_usd == pytest.approx(30 * 101 / 1000 * 0.0004 + 30 / 1000 * 0.005)
    assert "3,030 GET" in line.basis and "30 LIST" in line.basis


def test_per_million_tokens_is_the_gpu_share_plus_usage_over_tokens():
    group = {
        "type": "aws:eks/nodeGroup:NodeGroup",
        "name": "gpu",
        "region": REGION,
        "inputs": {
            "instanceTypes": ["g5.12xlarge"],
            "labels": {"llm-serving/node-group": "a10g"},
            "scalingConfig": {"minSize": 1, "maxSize": 2},
        },
    }

    def server(name: str, replicas: int) -> dict[str, Any]:
        container = {"resources": {"limits": {"nvidia.com/gpu": "1"}}}
        return {
            "type": "kubernetes:apps/v1:Deployment",
            "region": REGION,
            "inputs": {
                "metadata": {"name": name, "labels": {"llm-serving/model": name}},
                "spec": {
                    "replicas": replicas,
                    "template": {
                        "spec": {"nodeSelector": {"llm-serving/node-group": "a10g"}, "containers": [container]}
                    },
                },
            },
        }

    fixed = cost.estimate([group, server("a", 3), server("b", 1)])
    node_month = 730 * 5.672
    a, b = model("a", requests=1_000_000), model("b", requests=1_000_000, regions=())
    result = usage.estimate(gateway(), traffic(a, b), fixed)
    assert result.gpu_share_usd == {"a": pytest.approx(node_month * 3 / 4), "b": pytest.approx(node_month / 4)}
    tokens = 1_000_000 * 800
    assert result.per_million_tokens["a"] == pytest.approx((node_month * 3 / 4 + result.by_model["a"]) / tokens * 1e6)
    assert result.per_million_tokens["b"] == pytest.approx(node_month / 4 / tokens * 1e6)


@given(
    requests=st.integers(0, 10**9),
    tokens_out=st.integers(1, 10_000),
    keys=st.integers(0, 50),
    ttl=st.integers(0, 3600),
)
def test_usage_grows_with_requests_and_lines_add_up(requests: int, tokens_out: int, keys: int, ttl: int):
    plan = gateway(keys=keys, ttl=ttl)
    low = usage.estimate(plan, traffic(model(requests=requests, tokens_out=tokens_out)), NO_FIXED)
    high = usage.estimate(plan, traffic(model(requests=requests + 1000, tokens_out=tokens_out)), NO_FIXED)
    assert high.monthly_usd >= low.monthly_usd >= 0
    assert sum(low.by_region.values()) == pytest.approx(low.monthly_usd)
    assert sum(low.by_model.values()) == pytest.approx(low.monthly_usd)
