"""cost-ceiling-within-budget — what full autoscaling would cost, against the budget.

Advisory by default; `llmstack` sets it mandatory for prod through the pack config
(llmstack/policy_config.py), where an uncapped max size is an uncapped bill.
"""

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ReportViolation,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)

from components import cost
from policies.review import Controls, Review
from policies.support import cost_inputs


def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    budget = float(args.get_config()["monthlyBudgetUsd"])
    estimate = cost.estimate(cost_inputs(args.resources))
    verdict = cost.check_budget(estimate, budget)
    # Over at baseline is cost-estimate-within-budget's finding; don't repeat it.
    if verdict.ceiling_over and not verdict.over:
        for line in cost.drivers(estimate.lines, lambda line: line.ceiling_monthly_usd - line.monthly_usd):
            extra = line.ceiling_monthly_usd - line.monthly_usd
            report_violation(
                f"{verdict.message}; '{line.name}' adds {cost.dollars(extra)}/month at its maximum size", line.urn
            )


policy = StackValidationPolicy(
    name="cost-ceiling-within-budget",
    description=(
        "The estimated monthly cost with every node group at max size should fit the budget "
        "(advisory by default, mandatory in prod through the stack's policy config)."
    ),
    enforcement_level=EnforcementLevel.ADVISORY,
    severity=Severity.MEDIUM,
    config_schema=PolicyConfigSchema(
        properties={"monthlyBudgetUsd": {"type": "number", "exclusiveMinimum": 0}},
        required=["monthlyBudgetUsd"],
    ),
    remediation_steps="Lower `max_nodes` of the largest GPU node groups, or raise the budget with the budget owner.",
    validate=validate,
)

review = Review(
    area="cost",
    controls=Controls(nist_800_53=("SA-2",), soc2=("A1.1",)),
    why=(
        "Autoscaling spends without a review: a max size of 20 p5.48xlarge is $800k a month if a load spike or a "
        "scaler bug reaches it, so in prod the ceiling must fit the budget too."
    ),
)
