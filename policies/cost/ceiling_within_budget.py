"""cost-ceiling-within-budget — what full autoscaling would cost, against the budget (advisory)."""

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
    verdict = cost.check_budget(cost.estimate(cost_inputs(args.resources)), budget)
    # Over at baseline is cost-estimate-within-budget's (mandatory) finding; don't repeat it.
    if verdict.ceiling_over and not verdict.over:
        report_violation(verdict.message, None)


policy = StackValidationPolicy(
    name="cost-ceiling-within-budget",
    description="The estimated monthly cost with every node group at max size should fit the budget.",
    enforcement_level=EnforcementLevel.ADVISORY,
    severity=Severity.MEDIUM,
    config_schema=PolicyConfigSchema(
        properties={"monthlyBudgetUsd": {"type": "number", "exclusiveMinimum": 0}},
        required=["monthlyBudgetUsd"],
    ),
    remediation_steps="Lower `max_nodes` of the largest GPU node groups, or accept the risk with the budget owner.",
    validate=validate,
)

review = Review(
    area="cost",
    controls=Controls(nist_800_53=("SC-6",), soc2=("A1.1",)),
    why=(
        "Autoscaling reaches max size under a traffic spike, an abusive tenant or a runaway scaler; a max above "
        "budget is a GPU bill nobody approved."
    ),
)
