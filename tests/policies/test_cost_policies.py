"""Budget guardrails over a small hand-priced stack: one g5.2xlarge node group, 1 desired, 3 max."""

from conftest import policy_resource, provider, stack_violations

from policies.cost import ceiling_within_budget, estimate_within_budget

# 1 × g5.2xlarge × 730 h × $1.212 = $884.76 baseline; 3 × = $2,654.28 at max scale.
NODE_GROUP = policy_resource(
    "aws:eks/nodeGroup:NodeGroup",
    "gpu",
    {"instanceTypes": ["g5.2xlarge"], "scalingConfig": {"minSize": 0, "desiredSize": 1, "maxSize": 3}},
    provider_resource=provider(),
)
COMPONENT = policy_resource("llm-serving:compute:GpuCluster", "cluster", {})


def budget(usd):
    return {"monthlyBudgetUsd": usd}


def test_within_budget_at_baseline_and_ceiling():
    assert stack_violations(estimate_within_budget.policy, [COMPONENT, NODE_GROUP], budget(3000)) == []
    assert stack_violations(ceiling_within_budget.policy, [COMPONENT, NODE_GROUP], budget(3000)) == []


def test_baseline_over_budget_is_mandatory_finding_only():
    assert stack_violations(estimate_within_budget.policy, [NODE_GROUP], budget(500)) == [
        ("estimated $885/month exceeds the budget of $500 by $385 (77%)", None)
    ]
    # The advisory ceiling policy does not repeat the baseline finding.
    assert stack_violations(ceiling_within_budget.policy, [NODE_GROUP], budget(500)) == []


def test_ceiling_over_budget_is_advisory():
    assert stack_violations(estimate_within_budget.policy, [NODE_GROUP], budget(1000)) == []
    assert stack_violations(ceiling_within_budget.policy, [NODE_GROUP], budget(1000)) == [
        (
            "estimated $885/month is within the budget of $1,000, but at maximum scale $2,654/month would "
            "exceed it by $1,654 (165%)",
            None,
        )
    ]


def test_components_and_unpriced_resources_cost_nothing():
    vpc = policy_resource("aws:ec2/vpc:Vpc", "vpc", {"cidrBlock": "10.0.0.0/16"}, provider_resource=provider())
    assert stack_violations(estimate_within_budget.policy, [COMPONENT, vpc], budget(1)) == []
