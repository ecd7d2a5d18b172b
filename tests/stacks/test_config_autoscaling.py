"""Autoscaling rules of the stack config, each with its exact message, and a property test of the capacity guard."""

from __future__ import annotations

import pytest
from conftest import error_of, stack_values
from hypothesis import given, settings
from hypothesis import strategies as st

from components import catalog
from llmstack.policy_config import policy_config_for
from stacks.config import ConfigError, gpu_demand, parse_platform_config


def scaling(values, model: int) -> dict:
    return values["models"][model]["autoscaling"]


CASES = {
    "unknown mode": (
        "prod",
        lambda v: scaling(v, 0).update(mode="vpa"),
        "models[0].autoscaling.mode: must be one of: 'keda', 'hpa', 'none'",
    ),
    "threshold zero": (
        "prod",
        lambda v: scaling(v, 0).update(queue_size_threshold=0),
        "models[0].autoscaling.queue_size_threshold: must be > 0",
    ),
    "negative occupancy": (
        "prod",
        lambda v: scaling(v, 0).update(batch_occupancy_threshold=-0.1),
        "models[0].autoscaling.batch_occupancy_threshold: must be > 0",
    ),
    "min above max": (
        "dev",
        lambda v: scaling(v, 0).update(min_replicas=3, max_replicas=2),
        "models[0].autoscaling.max_replicas: must be >= min_replicas (3)",
    ),
    "zero without outside signal": (
        "dev",
        lambda v: scaling(v, 0).update(scale_to_zero_signal="none"),
        "models[0].autoscaling.min_replicas: 0 needs scale_to_zero_signal (gateway-requests): nothing inside a "
        "stopped pod can wake it",
    ),
    "zero in prod": (
        "prod",
        lambda v: scaling(v, 0).update(min_replicas=0, scale_to_zero_signal="gateway-requests"),
        "models[0].autoscaling.min_replicas: prod keeps >= 1 replica per model per region",
    ),
    "raised floor": (
        "prod",
        lambda v: v["policy"].update(min_replicas_per_model=2),
        "models[0].autoscaling.min_replicas: prod keeps >= 2 replica per model per region "
        "(policy.min_replicas_per_model)",
    ),
    "mode none scales": (
        "prod",
        lambda v: scaling(v, 2).update(max_replicas=3),
        "models[2].autoscaling.max_replicas: must equal min_replicas (2) with mode: none (no scaler)",
    ),
    "signal with hpa": (
        "prod",
        lambda v: scaling(v, 1).update(scale_to_zero_signal="gateway-requests"),
        "models[1].autoscaling.scale_to_zero_signal: only used with mode: keda",
    ),
    "cooldown too short": (
        "prod",
        lambda v: scaling(v, 0).update(cooldown_seconds=10),
        "models[0].autoscaling.cooldown_seconds: must be >= 60",
    ),
    "cooldown too long": (
        "prod",
        lambda v: scaling(v, 1).update(cooldown_seconds=3601),
        "models[1].autoscaling.cooldown_seconds: must be <= 3600",
    ),
    "negative replica floor": (
        "dev",
        lambda v: v["policy"].update(min_replicas_per_model=-1),
        "policy.min_replicas_per_model: must be >= 0",
    ),
    "h100 group too small": (
        "prod",
        lambda v: scaling(v, 0).update(max_replicas=5),
        "regions[0].node_groups[0].max_nodes: 2 x 8 GPUs = 16 GPUs cannot hold max replicas x shards of its models "
        "(llama-3-70b-instruct 5 x 4 = 20); raise max_nodes or lower autoscaling.max_replicas",
    ),
    "dev group too small": (
        "dev",
        lambda v: scaling(v, 0).update(max_replicas=3),
        "regions[0].node_groups[0].max_nodes: 2 x 1 GPUs = 2 GPUs cannot hold max replicas x shards of its models "
        "(llama-3-8b-instruct 3 x 1 = 3); raise max_nodes or lower autoscaling.max_replicas",
    ),
    "on-prem target shared": (
        "prod",
        lambda v: scaling(v, 2).update(min_replicas=9, max_replicas=9),
        "onprem_targets[0].nodes: 4 x 4 GPUs = 16 GPUs cannot hold max replicas x shards of its models "
        "(llama-3-8b-instruct 8 x 1, mistral-7b-private 9 x 1 = 17); raise nodes or lower autoscaling.max_replicas",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_autoscaling_rule(case):
    stack, mutate, message = CASES[case]
    assert error_of(stack, mutate) == message


def test_dev_may_scale_to_zero_and_prod_keeps_one():
    dev = parse_platform_config(stack_values("dev"))
    prod = parse_platform_config(stack_values("prod"))
    assert dev.models[0].autoscaling.min_replicas == 0
    assert policy_config_for(dev)["kubernetes-scaler-keeps-minimum-replicas"] == {"minReplicas": 0}
    assert policy_config_for(prod)["kubernetes-scaler-keeps-minimum-replicas"] == {"minReplicas": 1}


def test_a_prod_stack_may_lower_its_floor_explicitly():
    values = stack_values("prod")
    values["policy"]["min_replicas_per_model"] = 0
    values["models"][0]["autoscaling"].update(min_replicas=0, scale_to_zero_signal="gateway-requests")
    config = parse_platform_config(values)
    assert policy_config_for(config)["kubernetes-scaler-keeps-minimum-replicas"] == {"minReplicas": 0}


# --- the capacity guard, as a property ---------------------------------------------------------------


@st.composite
def placements(draw):
    """A node group (instance type, max_nodes) and 1-3 models on it with shards and max replicas."""
    instance = draw(st.sampled_from([i for i in catalog.instance_types_for("a10g")]))
    max_nodes = draw(st.integers(1, 6))
    shards = [s for s in (1, 2, 4, 8) if s <= instance.gpu_count]
    models = draw(st.lists(st.tuples(st.sampled_from(shards), st.integers(1, 12)), min_size=1, max_size=3))
    return instance.name, max_nodes, models


def with_models(instance: str, max_nodes: int, models: list[tuple[int, int]]) -> dict:
    values = stack_values("dev")
    group = values["regions"][0]["node_groups"][0]
    group.update(instance_type=instance, max_nodes=max_nodes)
    template = values["models"][0]
    values["gateway"]["tenants"] = []
    values.pop("traffic")  # its models are replaced: no traffic is stated for the new ones
    values["models"] = [
        {
            **template,
            "name": f"model-{k}",
            # 7B at 4 bits fits any shard count of an A10G node.
            "shards": shards,
            "autoscaling": {"mode": "keda", "min_replicas": 1, "max_replicas": replicas},
        }
        for k, (shards, replicas) in enumerate(models)
    ]
    return values


@settings(max_examples=40, deadline=None)
@given(placements())
def test_capacity_guard_accepts_exactly_what_fits(placement):
    instance, max_nodes, models = placement
    capacity = max_nodes * catalog.instance_type(instance).gpu_count
    demand = sum(shards * replicas for shards, replicas in models)
    values = with_models(instance, max_nodes, models)
    if demand <= capacity:
        config = parse_platform_config(values)
        assert sum(gpu_demand(m) for m in config.models) == demand
    else:
        with pytest.raises(ConfigError) as caught:
            parse_platform_config(values)
        assert caught.value.path == "regions[0].node_groups[0].max_nodes"
        assert f"= {capacity} GPUs cannot hold" in caught.value.problem
        assert caught.value.problem.endswith(f"= {demand}); raise max_nodes or lower autoscaling.max_replicas")
