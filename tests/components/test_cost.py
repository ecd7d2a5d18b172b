"""Monthly cost estimates of planned resources, and the budget verdict."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from components import catalog, cost

H = 730


def resource(
    type_token: str,
    inputs: dict[str, Any] | None = None,
    region: str | None = "us-east-1",
    component: str = "x",
) -> dict[str, Any]:
    return {"type": type_token, "inputs": inputs or {}, "region": region, "component": component}


def node_group(instance: str, capacity: str = "ON_DEMAND", **scaling: Any) -> dict[str, Any]:
    return {"instanceTypes": [instance], "capacityType": capacity, "scalingConfig": scaling}


PLAN = [
    resource("aws:eks/cluster:Cluster", component="cluster") | {"name": "main"},
    resource(
        "aws:eks/nodeGroup:NodeGroup",
        node_group("g5.2xlarge", desiredSize=2, minSize=1, maxSize=4),
        component="gpu-nodes",
    ),
    resource(
        "aws:eks/nodeGroup:NodeGroup",
        node_group("p5.48xlarge", "SPOT", minSize=1, maxSize=2),
        region="us-west-2",
        component="gpu-nodes",
    ),
    resource(
        "aws:eks/nodeGroup:NodeGroup",
        node_group("m6i.large", desiredSize=2, minSize=2, maxSize=3),
        region="eu-west-1",
        component="cluster",
    ),
    resource("aws:ec2/natGateway:NatGateway", component="network"),
    resource("aws:ec2/natGateway:NatGateway", region="eu-west-1", component="network"),
    resource(
        "aws:ec2/vpcEndpoint:VpcEndpoint",
        {"vpcEndpointType": "Interface", "subnetIds": ["a", "b", "c"]},
        component="network",
    ),
    resource("aws:ec2/vpcEndpoint:VpcEndpoint", {"vpcEndpointType": "Gateway"}, component="network"),
    resource("aws:kms/key:Key", component="encryption"),
    resource("aws:kms/replicaKey:ReplicaKey", region="eu-west-1", component="encryption"),
    resource("aws:wafv2/webAcl:WebAcl", {"rules": [{}, {}, {}]}, region=None, component="gateway"),
    resource("aws:amp/workspace:Workspace", component="observability"),
    resource("kubernetes:apps/v1:Deployment", region=None, component="model-llama"),
    resource(
        "aws:eks/nodeGroup:NodeGroup",
        node_group("g6.xlarge", desiredSize=3, maxSize=3),
        component="gpu-nodes",
    ),
]

# Baseline and ceiling per line of PLAN, by hand.
EXPECTED = [
    (73.0, 73.0),  # 730 h x $0.10
    (2 * H * 1.212, 4 * H * 1.212),  # 1,769.52 / 3,539.04
    (1 * H * 55.04 * 0.35, 2 * H * 55.04 * 0.35),  # 14,062.72 / 28,125.44
    (2 * H * 0.096 * 1.12, 3 * H * 0.096 * 1.12),  # 156.98 / 235.47
    (32.85, 32.85),
    (32.85 * 1.12, 32.85 * 1.12),
    (3 * 7.3, 3 * 7.3),
    (0.0, 0.0),
    (1.0, 1.0),
    (1.0, 1.0),
    (5.0 + 3 * 1.0, 8.0),
    (0.0, 0.0),
    (0.0, 0.0),
    (0.0, 0.0),
]


def test_hand_built_plan_line_by_line() -> None:
    result = cost.estimate(PLAN)
    assert [(line.monthly_usd, line.ceiling_monthly_usd) for line in result.lines] == [
        (pytest.approx(low), pytest.approx(high)) for low, high in EXPECTED
    ]


def test_hand_built_plan_totals() -> None:
    result = cost.estimate(PLAN)
    assert result.monthly_usd == pytest.approx(16_163.7612)
    assert result.ceiling_monthly_usd == pytest.approx(32_074.4908)
    assert result.monthly_usd == pytest.approx(sum(low for low, _ in EXPECTED))
    assert result.ceiling_monthly_usd == pytest.approx(sum(high for _, high in EXPECTED))


def test_hand_built_plan_by_region_and_component() -> None:
    result = cost.estimate(PLAN)
    assert result.by_region == pytest.approx(
        {
            "us-east-1": 73.0 + 1769.52 + 32.85 + 21.9 + 1.0,
            "us-west-2": 14_062.72,
            "eu-west-1": 156.9792 + 36.792 + 1.0,
            "global": 8.0,
        }
    )
    assert result.by_component == pytest.approx(
        {
            "cluster": 73.0 + 156.9792,
            "gpu-nodes": 1769.52 + 14_062.72,
            "network": 32.85 + 36.792 + 21.9,
            "encryption": 2.0,
            "gateway": 8.0,
            "observability": 0.0,
            "model-llama": 0.0,
        }
    )


def test_lines_say_how_they_were_priced() -> None:
    bases = [line.basis for line in cost.estimate(PLAN).lines]
    assert bases == [
        "730 h × $0.1",
        "2 × g5.2xlarge × 730 h × $1.212; up to 4 nodes",
        "1 × p5.48xlarge × 730 h × $55.04 × 0.35 (spot estimate); up to 2 nodes",
        "2 × m6i.large × 730 h × $0.096 × 1.12 (eu-west-1); up to 3 nodes",
        "730 h × $0.045; data processed not estimated",
        "730 h × $0.045 × 1.12 (eu-west-1); data processed not estimated",
        "3 AZ × 730 h × $0.01",
        "gateway endpoint: no charge",
        "$1 per key-month",
        "$1 per key-month",
        "$5 + 3 rules × $1 per month; requests not estimated",
        "usage-based (samples ingested, stored and queried): not estimated",
        "no charge of its own",
        "instance type g6.xlarge is not in the catalog: not priced",
    ]


def test_lines_carry_the_resource_identity() -> None:
    first, second = cost.estimate(PLAN).lines[:2]
    assert (first.type, first.name, first.region, first.component) == (
        "aws:eks/cluster:Cluster",
        "main",
        "us-east-1",
        "cluster",
    )
    assert second.name is None


def test_capacity_block_is_priced_at_the_on_demand_rate() -> None:
    block = node_group("p5.48xlarge", "CAPACITY_BLOCK", desiredSize=1)
    group = resource("aws:eks/nodeGroup:NodeGroup", block)
    (line,) = cost.estimate([group]).lines
    assert line.monthly_usd == pytest.approx(H * 55.04)
    assert line.basis == "1 × p5.48xlarge × 730 h × $55.04 (capacity block at the on-demand rate)"


def test_a_node_group_without_sizes_or_types_costs_nothing_but_only_the_type_is_unpriced() -> None:
    unknown_sizes = resource(
        "aws:eks/nodeGroup:NodeGroup", node_group("g5.xlarge", desiredSize="[unknown]", maxSize="[unknown]")
    )
    no_type = resource("aws:eks/nodeGroup:NodeGroup", {"scalingConfig": {"desiredSize": 2}})
    lines = cost.estimate([unknown_sizes, no_type]).lines
    assert [(line.monthly_usd, line.ceiling_monthly_usd) for line in lines] == [(0.0, 0.0), (0.0, 0.0)]
    assert lines[1].basis == "instance type (not set) is not in the catalog: not priced"
    assert [line.unpriced for line in lines] == [False, True]


def test_an_instance_type_missing_from_the_catalog_is_unpriced_not_free() -> None:
    known = resource("aws:eks/nodeGroup:NodeGroup", node_group("g5.xlarge", desiredSize=1))
    unknown = {**resource("aws:eks/nodeGroup:NodeGroup", node_group("g6.xlarge", desiredSize=1)), "urn": "urn:x"}
    estimate = cost.estimate([known, unknown])
    assert [(line.urn, line.basis) for line in estimate.unpriced] == [
        ("urn:x", "instance type g6.xlarge is not in the catalog: not priced")
    ]
    assert not estimate.lines[0].unpriced


def test_unpriced_regions_fall_back_to_us_east_1_rates() -> None:
    lines = cost.estimate(
        [
            resource("aws:ec2/natGateway:NatGateway", region="ap-south-1"),
            resource("aws:ec2/natGateway:NatGateway", region=None),
        ]
    ).lines
    assert [line.monthly_usd for line in lines] == [pytest.approx(32.85)] * 2
    assert lines[0].basis == (
        "730 h × $0.045; ap-south-1 not in the price table: us-east-1 rates; data processed not estimated"
    )
    assert lines[1].basis == "730 h × $0.045; no region: us-east-1 rates; data processed not estimated"


def test_interface_endpoint_with_unknown_subnets_counts_one_zone() -> None:
    inputs = {"vpcEndpointType": "Interface", "subnetIds": "[unknown]"}
    endpoint = resource("aws:ec2/vpcEndpoint:VpcEndpoint", inputs)
    assert cost.estimate([endpoint]).monthly_usd == pytest.approx(7.3)


def test_waf_rules_given_as_json() -> None:
    acl = resource("aws:wafv2/webAcl:WebAcl", {"ruleJson": json.dumps([{"name": "a"}, {"name": "b"}])})
    assert cost.estimate([acl]).monthly_usd == 7.0


def test_an_empty_plan_costs_nothing() -> None:
    result = cost.estimate([])
    assert (result.monthly_usd, result.ceiling_monthly_usd, result.by_region, result.lines) == (0, 0, {}, [])


@pytest.mark.parametrize("type_token", sorted(cost.USAGE_BASED_TYPES))
def test_usage_based_types_cost_nothing_fixed_and_say_so(type_token: str) -> None:
    (line,) = cost.estimate([resource(type_token)]).lines
    assert line.monthly_usd == 0.0
    assert line.basis.startswith("usage-based (")


# --- budget --------------------------------------------------------------------------------------


def estimate_of(monthly: float, ceiling: float) -> cost.CostEstimate:
    return cost.CostEstimate(monthly, ceiling, {"us-east-1": monthly}, {"x": monthly}, [])


def test_over_budget_message() -> None:
    verdict = cost.check_budget(estimate_of(12_345, 20_000), 10_000)
    assert (verdict.over, verdict.ceiling_over) == (True, True)
    assert verdict.message == "estimated $12,345/month exceeds the budget of $10,000 by $2,345 (23%)"


def test_ceiling_over_budget_message() -> None:
    verdict = cost.check_budget(estimate_of(8_000, 14_000), 10_000)
    assert (verdict.over, verdict.ceiling_over) == (False, True)
    assert verdict.message == (
        "estimated $8,000/month is within the budget of $10,000, "
        "but at maximum scale $14,000/month would exceed it by $4,000 (40%)"
    )


def test_within_budget_message() -> None:
    verdict = cost.check_budget(estimate_of(8_000, 9_000), 10_000)
    assert (verdict.over, verdict.ceiling_over) == (False, False)
    assert verdict.message == ("estimated $8,000/month is within the budget of $10,000 ($9,000/month at maximum scale)")


def test_exactly_on_budget_is_not_over() -> None:
    verdict = cost.check_budget(estimate_of(10_000, 10_000), 10_000)
    assert not verdict.over and not verdict.ceiling_over


def test_the_hand_built_plan_against_a_budget() -> None:
    verdict = cost.check_budget(cost.estimate(PLAN), 15_000)
    assert verdict.message == "estimated $16,164/month exceeds the budget of $15,000 by $1,164 (8%)"


def test_a_budget_must_be_positive() -> None:
    with pytest.raises(ValueError, match="budget must be > 0"):
        cost.check_budget(estimate_of(1, 1), 0)


# --- properties ----------------------------------------------------------------------------------

sizes = st.one_of(st.integers(min_value=0, max_value=50), st.just("[unknown]"), st.none())
catalog_types = [i.name for g in (*catalog.gpu_keys(), None) for i in catalog.instance_types_for(g)]
instance_names = st.sampled_from([*catalog_types, "x1.32xlarge"])
node_groups = st.builds(
    lambda name, capacity, desired, minimum, maximum: {
        "instanceTypes": [name],
        "capacityType": capacity,
        "scalingConfig": {"desiredSize": desired, "minSize": minimum, "maxSize": maximum},
    },
    instance_names,
    st.sampled_from(["ON_DEMAND", "SPOT", "CAPACITY_BLOCK"]),
    sizes,
    sizes,
    sizes,
)
planned = st.builds(
    lambda type_and_inputs, region, component: {
        "type": type_and_inputs[0],
        "inputs": type_and_inputs[1],
        "region": region,
        "component": component,
    },
    st.one_of(
        st.tuples(st.just("aws:eks/nodeGroup:NodeGroup"), node_groups),
        st.tuples(
            st.just("aws:ec2/vpcEndpoint:VpcEndpoint"),
            st.fixed_dictionaries(
                {
                    "vpcEndpointType": st.sampled_from(["Interface", "Gateway"]),
                    "subnetIds": st.lists(st.just("subnet"), max_size=6),
                }
            ),
        ),
        st.tuples(
            st.just("aws:wafv2/webAcl:WebAcl"),
            st.fixed_dictionaries({"rules": st.lists(st.just({}))}),
        ),
        st.tuples(
            st.sampled_from(
                [
                    "aws:eks/cluster:Cluster",
                    "aws:ec2/natGateway:NatGateway",
                    "aws:kms/key:Key",
                    "aws:amp/workspace:Workspace",
                    "kubernetes:core/v1:Service",
                ]
            ),
            st.just({}),
        ),
    ),
    st.one_of(st.sampled_from(catalog.regions()), st.just("sa-east-1"), st.none()),
    st.sampled_from(["network", "cluster", "gpu-nodes", "gateway"]),
)


@given(st.lists(planned, max_size=30))
def test_ceiling_is_never_below_the_baseline(plan: list[dict[str, Any]]) -> None:
    result = cost.estimate(plan)
    assert result.ceiling_monthly_usd >= result.monthly_usd - 1e-6
    assert all(0 <= line.monthly_usd <= line.ceiling_monthly_usd for line in result.lines)


@given(st.lists(planned, max_size=30))
def test_breakdowns_add_up_to_the_total(plan: list[dict[str, Any]]) -> None:
    result = cost.estimate(plan)
    assert sum(result.by_region.values()) == pytest.approx(result.monthly_usd, abs=1e-6)
    assert sum(result.by_component.values()) == pytest.approx(result.monthly_usd, abs=1e-6)
    assert len(result.lines) == len(plan)


def test_an_unreadable_scaling_config_is_unpriced() -> None:
    group = resource("aws:eks/nodeGroup:NodeGroup", {"instanceTypes": ["g5.xlarge"], "scalingConfig": ["x"]})
    (line,) = cost.estimate([group]).unpriced
    assert line.basis == "scalingConfig is a list, not an object: not priced"


@pytest.mark.parametrize(
    ("key", "value", "said"),
    [
        ("maxSize", "lots", "scalingConfig.maxSize 'lots' is not a node count: not priced"),
        ("desiredSize", -1, "scalingConfig.desiredSize -1 is not a node count: not priced"),
        ("minSize", True, "scalingConfig.minSize True is not a node count: not priced"),
    ],
)
def test_a_node_count_nobody_can_read_is_unpriced_not_zero(key: str, value: Any, said: str) -> None:
    sizes = {"minSize": 1, "desiredSize": 1, "maxSize": 4, key: value}
    group = resource("aws:eks/nodeGroup:NodeGroup", {"instanceTypes": ["g5.xlarge"], "scalingConfig": sizes})
    (line,) = cost.estimate([group]).unpriced
    assert line.basis == said


def test_a_size_unknown_until_deploy_is_not_malformed() -> None:
    sizes = {"minSize": 1, "desiredSize": 1, "maxSize": "[unknown]"}
    group = resource("aws:eks/nodeGroup:NodeGroup", {"instanceTypes": ["g5.xlarge"], "scalingConfig": sizes})
    assert cost.estimate([group]).unpriced == []


def test_the_private_path_is_priced_per_attachment_and_connection_hour():
    estimate = cost.estimate(
        [
            resource("aws:ec2transitgateway/vpcAttachment:VpcAttachment", region="eu-west-1"),
            resource("aws:ec2/vpnConnection:VpnConnection", {"transitGatewayId": "tgw-1"}),
            resource("aws:ec2/vpnConnection:VpnConnection", {"vpnGatewayId": "vgw-1"}),
        ]
    )
    hours = catalog.HOURS_PER_MONTH
    attachment, connection = catalog.TRANSIT_GATEWAY_ATTACHMENT_USD_PER_HOUR, catalog.VPN_CONNECTION_USD_PER_HOUR
    assert [line.monthly_usd for line in estimate.lines] == pytest.approx(
        [hours * attachment, hours * (connection + attachment), hours * connection]
    )
    assert [line.basis for line in estimate.lines] == [
        f"{hours} h × $0.05; data processed not estimated",
        f"{hours} h × $0.05 + its Transit Gateway attachment $0.05; data transfer not estimated",
        f"{hours} h × $0.05; data transfer not estimated",
    ]


# --- the GPU floor: what min_replicas x shards force onto the node groups --------------------------

P5_MONTH = H * 55.04
G5_12_MONTH = H * 5.672


def gpu_group(instance: str, labels: dict[str, str], region: str = "us-east-1", **scaling: Any) -> dict[str, Any]:
    return resource(
        "aws:eks/nodeGroup:NodeGroup", node_group(instance, **scaling) | {"labels": labels}, region=region
    ) | {"name": f"{region}-{instance}"}


def deployment(
    model: str,
    gpus: Any,
    selector: dict[str, str],
    replicas: Any = 1,
    region: str | None = "us-east-1",
    namespace: str = "llm",
) -> dict[str, Any]:
    container = {"name": "server", "resources": {"limits": {"nvidia.com/gpu": gpus}}}
    return resource(
        "kubernetes:apps/v1:Deployment",
        {
            "metadata": {"name": model, "namespace": namespace, "labels": {"llm-serving/model": model}},
            "spec": {"replicas": replicas, "template": {"spec": {"nodeSelector": selector, "containers": [container]}}},
        },
        region=region,
    )


def scaled_object(model: str, low: Any, high: Any, region: str = "us-east-1", namespace: str = "llm") -> dict:
    return resource(
        "kubernetes:keda.sh/v1alpha1:ScaledObject",
        {
            "metadata": {"name": model, "namespace": namespace},
            "spec": {"scaleTargetRef": {"name": model}, "minReplicaCount": low, "maxReplicaCount": high},
        },
        region=region,
    )


def hpa(model: str, low: Any, high: Any, region: str = "us-east-1") -> dict:
    return resource(
        "kubernetes:autoscaling/v2:HorizontalPodAutoscaler",
        {
            "metadata": {"name": model, "namespace": "llm"},
            "spec": {"scaleTargetRef": {"kind": "Deployment", "name": model}, "minReplicas": low, "maxReplicas": high},
        },
        region=region,
    )


H100 = {"llm-serving/node-group": "h100", "llm-serving/gpu": "h100"}
A10G = {"llm-serving/node-group": "a10g", "llm-serving/gpu": "a10g"}


def group_line(plan: list[dict[str, Any]], name: str = "us-east-1-p5.48xlarge") -> cost.CostLine:
    return next(line for line in cost.estimate(plan).lines if line.name == name)


def test_min_replicas_times_shards_set_the_steady_node_count() -> None:
    # 4 replicas of 4 shards on 8-GPU nodes: two replicas a node, 2 nodes; the node group's own floor is 1.
    plan = [
        gpu_group("p5.48xlarge", H100, desiredSize=1, minSize=1, maxSize=3),
        deployment("llama-70b", "4", H100),
        scaled_object("llama-70b", 4, 6),
    ]
    line = group_line(plan)
    assert line.monthly_usd == pytest.approx(2 * P5_MONTH)
    assert line.ceiling_monthly_usd == pytest.approx(3 * P5_MONTH)
    assert line.basis == (
        "2 × p5.48xlarge × 730 h × $55.04 (min replicas need 2 node(s) of 8 GPUs: llama-70b 4 × 4 GPU; "
        "the node group's own floor is 1); up to 3 nodes (maxSize; max replicas need 3)"
    )
    assert line.workloads == (("llama-70b", 16),)


def test_each_replica_added_costs_the_nodes_it_needs_and_no_more() -> None:
    def steady(low: int) -> float:
        plan = [
            gpu_group("p5.48xlarge", H100, desiredSize=1, minSize=1, maxSize=4),
            deployment("llama-70b", "4", H100),
            scaled_object("llama-70b", low, 8),
        ]
        return cost.estimate(plan).monthly_usd

    # 1-2 replicas fit the group's one node; 3-4 need a second; 5 a third.
    assert [round((steady(n) - steady(1)) / P5_MONTH, 9) for n in (1, 2, 3, 4, 5)] == [0, 0, 1, 1, 2]


def test_the_node_groups_own_floor_wins_when_it_is_higher() -> None:
    plan = [
        gpu_group("g5.12xlarge", A10G, desiredSize=2, minSize=2, maxSize=6),
        deployment("llama-8b", 1, A10G),
        hpa("llama-8b", 2, 8),
    ]
    assert group_line(plan, "us-east-1-g5.12xlarge").monthly_usd == pytest.approx(2 * G5_12_MONTH)


def test_replicas_of_several_models_pack_together_largest_first() -> None:
    # 3 x 4 GPUs + 4 x 2 + 4 x 1 = 24 GPUs on 8-GPU nodes: exactly 3 nodes.
    plan = [
        gpu_group("p5.48xlarge", H100, minSize=0, maxSize=5),
        deployment("big", "4", H100),
        scaled_object("big", 3, 3),
        deployment("mid", "2", H100),
        scaled_object("mid", 4, 4),
        deployment("small", "1", H100),
        scaled_object("small", 4, 4),
    ]
    line = group_line(plan)
    assert line.monthly_usd == pytest.approx(3 * P5_MONTH)
    assert sorted(line.workloads) == [("big", 12), ("mid", 8), ("small", 4)]


def test_without_a_scaler_the_deployments_replicas_count() -> None:
    plan = [gpu_group("p5.48xlarge", H100, minSize=0, maxSize=4), deployment("fixed", 8, H100, replicas=3)]
    assert group_line(plan).monthly_usd == pytest.approx(3 * P5_MONTH)


def test_keda_min_replica_count_defaults_to_zero() -> None:
    scaler = scaled_object("llama-70b", 0, 2)
    del scaler["inputs"]["spec"]["minReplicaCount"]
    plan = [gpu_group("p5.48xlarge", H100, minSize=0, maxSize=2), deployment("llama-70b", 4, H100), scaler]
    assert group_line(plan).monthly_usd == 0.0


def test_the_floor_never_exceeds_max_size_the_autoscaler_stops_there() -> None:
    plan = [
        gpu_group("p5.48xlarge", H100, minSize=1, maxSize=2),
        deployment("llama-70b", 4, H100),
        scaled_object("llama-70b", 10, 10),
    ]
    line = group_line(plan)
    assert (line.monthly_usd, line.ceiling_monthly_usd) == (pytest.approx(2 * P5_MONTH), pytest.approx(2 * P5_MONTH))
    assert "need 5 node(s) of 8 GPUs" in line.basis and "capped at maxSize 2, the rest stay pending" in line.basis


@pytest.mark.parametrize(
    ("other", "why"),
    [
        (deployment("llama-70b", 4, H100, region="eu-west-1"), "another region's cluster"),
        (deployment("llama-70b", 4, A10G), "selects another node group"),
        (deployment("llama-70b", 0, H100), "requests no GPU"),
        (deployment("llama-70b", 16, H100), "needs more GPUs than a node has"),
    ],
)
def test_workloads_the_scheduler_would_not_place_here_add_nothing(other: dict[str, Any], why: str) -> None:
    plan = [gpu_group("p5.48xlarge", H100, minSize=1, maxSize=4), other, scaled_object("llama-70b", 4, 4)]
    assert group_line(plan).monthly_usd == pytest.approx(P5_MONTH), why


def test_a_gpu_request_or_replica_count_nobody_can_read_is_unpriced_not_zero() -> None:
    for broken in (
        [deployment("llama-70b", "four", H100)],
        [deployment("llama-70b", 4, H100), scaled_object("llama-70b", cost.UNKNOWN, 4)],
    ):
        line = group_line([gpu_group("p5.48xlarge", H100, minSize=1, maxSize=4), *broken])
        assert line.unpriced and line.monthly_usd == 0.0
        assert line.basis.startswith("GPU workload llama-70b: ")


def test_system_node_groups_have_no_gpu_floor() -> None:
    plan = [
        gpu_group("m6i.large", {"llm-serving/node-group": "system"}, minSize=2, maxSize=3),
        deployment("stray", 1, {"llm-serving/node-group": "system"}, replicas=9),
    ]
    assert group_line(plan, "us-east-1-m6i.large").monthly_usd == pytest.approx(2 * H * 0.096)


def test_hybrid_nodes_say_which_models_share_them() -> None:
    entry = resource(
        "aws:eks/accessEntry:AccessEntry",
        {
            "type": "HYBRID_LINUX",
            "tags": {"target": "rack2", "llm-serving/hybrid-nodes": "2", "llm-serving/hybrid-vcpus-per-node": "48"},
        },
    ) | {"name": "rack2"}
    selector = {"llm-serving/onprem-target": "rack2", "eks.amazonaws.com/compute-type": "hybrid"}
    plan = [entry, deployment("batch", 2, selector), scaled_object("batch", 1, 4)]
    (line,) = [line for line in cost.estimate(plan).lines if line.name == "rack2"]
    assert line.workloads == (("batch", 2),)
    assert line.monthly_usd == pytest.approx(2 * 48 * H * 0.02)
