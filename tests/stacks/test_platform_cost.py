"""The stack's cost estimate follows its models: the nodes min_replicas x shards force are priced."""

from __future__ import annotations

import pytest
from conftest import run_stack

from components import catalog, cost
from llmstack.planfile import cost_inputs


def estimate_of(stack: str, mutate=None) -> cost.CostEstimate:
    run = run_stack(stack, mutate)
    return cost.estimate(cost_inputs([r.to_json() for r in run.resources]))


def model(values, name):
    return next(m for m in values["models"] if m["name"] == name)


def test_raising_a_models_min_replicas_in_prod_adds_exactly_the_nodes_it_forces():
    before = estimate_of("prod")
    # llama-3-70b-instruct: 4 shards on 8-GPU p5.48xlarge nodes. 1 replica fits the node group's
    # own floor of 1 node; 4 replicas need 16 GPUs, 2 nodes: one p5.48xlarge more.
    after = estimate_of("prod", lambda v: model(v, "llama-3-70b-instruct")["autoscaling"].update(min_replicas=4))
    added = after.monthly_usd - before.monthly_usd
    assert added == pytest.approx(1 * catalog.hourly_price("p5.48xlarge", "us-east-1") * catalog.HOURS_PER_MONTH)
    # The ceiling was already the node group's max of 2 nodes, which max_replicas 4 x 4 fill.
    assert after.ceiling_monthly_usd == pytest.approx(before.ceiling_monthly_usd)
    (line,) = [line for line in after.lines if line.name == "us-east-1-gpu-h100-nodes"]
    assert line.basis.startswith(
        "2 × p5.48xlarge × 730 h × $55.04 (min replicas need 2 node(s) of 8 GPUs: llama-3-70b-instruct 4 × 4 GPU; "
        "the node group's own floor is 1)"
    )


def test_in_dev_the_first_replica_of_a_scale_to_zero_model_costs_one_node():
    before = estimate_of("dev")
    after = estimate_of("dev", lambda v: model(v, "llama-3-8b-instruct")["autoscaling"].update(min_replicas=1))
    assert after.monthly_usd - before.monthly_usd == pytest.approx(
        catalog.hourly_price("g5.2xlarge", "us-east-1") * catalog.HOURS_PER_MONTH
    )
