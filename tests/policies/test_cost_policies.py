"""Budget guardrails over a small hand-priced stack: one g5.2xlarge node group, 1 desired, 3 max."""

import pytest
from conftest import policy_resource, provider, resource_violations, stack_violations

from llmstack.policy_config import policy_config_for
from policies.cost import ceiling_within_budget, estimate_within_budget, gpu_types_allowed
from stacks.config import PlatformConfig

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
        ("estimated $885/month exceeds the budget of $500 by $385 (77%); 'gpu' is $885/month of it", NODE_GROUP.urn)
    ]
    # The advisory ceiling policy does not repeat the baseline finding.
    assert stack_violations(ceiling_within_budget.policy, [NODE_GROUP], budget(500)) == []


def test_ceiling_over_budget_is_advisory():
    assert stack_violations(estimate_within_budget.policy, [NODE_GROUP], budget(1000)) == []
    assert stack_violations(ceiling_within_budget.policy, [NODE_GROUP], budget(1000)) == [
        (
            "estimated $885/month is within the budget of $1,000, but at maximum scale $2,654/month would "
            "exceed it by $1,654 (165%); 'gpu' adds $1,770/month at its maximum size",
            NODE_GROUP.urn,
        )
    ]


def test_components_and_unpriced_resources_cost_nothing():
    vpc = policy_resource("aws:ec2/vpc:Vpc", "vpc", {"cidrBlock": "10.0.0.0/16"}, provider_resource=provider())
    assert stack_violations(estimate_within_budget.policy, [COMPONENT, vpc], budget(1)) == []


def test_each_node_group_that_drives_the_overrun_is_named_largest_first():
    small = policy_resource(
        "aws:eks/nodeGroup:NodeGroup",
        "system",
        {"instanceTypes": ["m6i.large"], "scalingConfig": {"desiredSize": 1, "maxSize": 2}},
        provider_resource=provider(),
    )
    assert stack_violations(ceiling_within_budget.policy, [small, NODE_GROUP], budget(1000)) == [
        (
            "estimated $955/month is within the budget of $1,000, but at maximum scale $2,794/month would "
            "exceed it by $1,794 (179%); 'gpu' adds $1,770/month at its maximum size",
            NODE_GROUP.urn,
        ),
        (
            "estimated $955/month is within the budget of $1,000, but at maximum scale $2,794/month would "
            "exceed it by $1,794 (179%); 'system' adds $70/month at its maximum size",
            small.urn,
        ),
    ]


def test_baseline_over_budget_without_node_groups_names_the_largest_line():
    nat = policy_resource("aws:ec2/natGateway:NatGateway", "nat", {}, provider_resource=provider())
    key = policy_resource("aws:kms/key:Key", "key", {}, provider_resource=provider())
    assert stack_violations(estimate_within_budget.policy, [key, nat], budget(10)) == [
        ("estimated $34/month exceeds the budget of $10 by $24 (239%); 'nat' is $33/month of it", nat.urn)
    ]


@pytest.mark.parametrize("instance_types", [["g6.xlarge"], None, "g5.xlarge"])
def test_an_unpriced_node_group_fails_closed(instance_types):
    props = {"scalingConfig": {"desiredSize": 1, "maxSize": 1}}
    if instance_types is not None:
        props["instanceTypes"] = instance_types
    group = policy_resource("aws:eks/nodeGroup:NodeGroup", "new", props, provider_resource=provider())
    name = "g6.xlarge" if instance_types == ["g6.xlarge"] else "(not set)"
    assert stack_violations(estimate_within_budget.policy, [group], budget(100_000)) == [
        (
            f"'new' cannot be priced (instance type {name} is not in the catalog: not priced), so the budget check "
            "cannot count it: use an instance type from components/catalog.py or add this one there with its price.",
            group.urn,
        )
    ]


# --- the ceiling's enforcement comes from the stack -----------------------------------------------


def test_the_ceiling_is_mandatory_in_prod_and_where_the_stack_says_so():
    from conftest import stack_values

    def level(stack, **policy):
        values = stack_values(stack)
        values["policy"].update(policy)
        return policy_config_for(PlatformConfig.model_validate(values))["cost-ceiling-within-budget"][
            "enforcementLevel"
        ]

    assert level("prod") == "mandatory"
    assert level("dev") == "mandatory"  # Pulumi.dev.yaml sets policy.cost_ceiling_enforcement
    assert level("dev", cost_ceiling_enforcement=None) == "advisory"  # the default outside prod
    assert level("prod", cost_ceiling_enforcement="advisory") == "advisory"


# --- gpu-types-allowed -------------------------------------------------------------------------------

ALLOWED = {"allowedGpuTypes": ["a10g"]}
NODE_GROUP_TYPE = "aws:eks/nodeGroup:NodeGroup"
LAUNCH_TEMPLATE_TYPE = "aws:ec2/launchTemplate:LaunchTemplate"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"


def gpus(resource_type, props):
    return resource_violations(gpu_types_allowed.policy, resource_type, props, config=ALLOWED)


def workload(annotation=None, selector=None):
    metadata = {"name": "m", "annotations": {"llm-serving/gpu": annotation} if annotation else {}}
    spec = {"containers": [{"name": "tgi"}], **({"nodeSelector": {"llm-serving/gpu": selector}} if selector else {})}
    return {"metadata": metadata, "spec": {"template": {"spec": spec}}}


@pytest.mark.parametrize(
    ("resource_type", "props"),
    [
        (NODE_GROUP_TYPE, {"instanceTypes": ["g5.2xlarge"], "labels": {"llm-serving/gpu": "a10g"}}),
        (NODE_GROUP_TYPE, {"instanceTypes": ["m6i.large"]}),
        (LAUNCH_TEMPLATE_TYPE, {"metadataOptions": {}}),
        (LAUNCH_TEMPLATE_TYPE, {"instanceType": "g5.xlarge"}),
        (DEPLOYMENT, workload("a10g", "a10g")),
        (DEPLOYMENT, workload()),
    ],
)
def test_allowed_gpus_comply(resource_type, props):
    assert gpus(resource_type, props) == []


def test_node_group_with_a_gpu_the_stack_does_not_allow():
    assert gpus(NODE_GROUP_TYPE, {"instanceTypes": ["p5.48xlarge"]}) == [
        "instance type 'p5.48xlarge' carries GPU 'h100', not in allowedGpuTypes (a10g)."
    ]


def test_node_group_with_an_instance_type_missing_from_the_catalog():
    assert gpus(NODE_GROUP_TYPE, {"instanceTypes": ["g6.xlarge"]}) == [
        "instance type 'g6.xlarge' is not in the catalog (components/catalog.py): its GPU and price are unknown."
    ]


def test_every_instance_type_of_a_node_group_is_checked():
    assert gpus(NODE_GROUP_TYPE, {"instanceTypes": ["g5.xlarge", "p5.48xlarge"]}) == [
        "instance type 'p5.48xlarge' carries GPU 'h100', not in allowedGpuTypes (a10g)."
    ]


def test_node_group_without_instance_types():
    assert gpus(NODE_GROUP_TYPE, {"scalingConfig": {}}) == [
        "node group sets no instanceTypes (EKS would pick t3.medium): its GPU is unknown."
    ]


def test_node_group_gpu_label_not_allowed():
    assert gpus(NODE_GROUP_TYPE, {"instanceTypes": ["g5.xlarge"], "labels": {"llm-serving/gpu": "h100"}}) == [
        "label llm-serving/gpu names GPU 'h100', not in allowedGpuTypes (a10g).",
        "label llm-serving/gpu says 'h100' but instance type 'g5.xlarge' carries GPU 'a10g'.",
    ]


def test_node_group_gpu_label_that_is_not_the_gpu_of_its_instances():
    props = {"instanceTypes": ["m6i.large"], "labels": {"llm-serving/gpu": "a10g"}}
    assert gpus(NODE_GROUP_TYPE, props) == []  # a GPU-less type carries no GPU to contradict
    props = {"instanceTypes": ["g5.xlarge"], "labels": {"llm-serving/gpu": "h100"}}
    assert resource_violations(
        gpu_types_allowed.policy, NODE_GROUP_TYPE, props, config={"allowedGpuTypes": ["a10g", "h100"]}
    ) == ["label llm-serving/gpu says 'h100' but instance type 'g5.xlarge' carries GPU 'a10g'."]


def test_launch_template_instance_type_not_allowed():
    assert gpus(LAUNCH_TEMPLATE_TYPE, {"instanceType": "p5.48xlarge"}) == [
        "launch template instance type 'p5.48xlarge' carries GPU 'h100', not in allowedGpuTypes (a10g)."
    ]


def test_on_prem_model_server_sized_for_a_gpu_not_allowed():
    # An on-prem target's GPU appears in the plan only as the GPU its model servers are sized for.
    assert gpus(DEPLOYMENT, workload("h100")) == [
        "annotation llm-serving/gpu names GPU 'h100', not in allowedGpuTypes (a10g)."
    ]


def test_workload_scheduled_on_a_gpu_not_allowed():
    assert gpus(DEPLOYMENT, workload(selector="h100")) == [
        "nodeSelector llm-serving/gpu names GPU 'h100', not in allowedGpuTypes (a10g)."
    ]


def test_gpu_policy_ignores_other_types():
    assert gpus("aws:ec2/instance:Instance", {"instanceType": "p5.48xlarge"}) == []
