"""cost-estimate-within-budget — the planned baseline spend fits the environment's budget."""

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
    if verdict.over:
        report_violation(verdict.message, None)


policy = StackValidationPolicy(
    name="cost-estimate-within-budget",
    description="The estimated monthly cost at desired capacity must not exceed the environment's budget.",
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    config_schema=PolicyConfigSchema(
        properties={"monthlyBudgetUsd": {"type": "number", "exclusiveMinimum": 0}},
        required=["monthlyBudgetUsd"],
    ),
    remediation_steps=(
        "Lower desired GPU nodes or pick smaller instance types, or raise `llm-serving:budget.monthly_usd` "
        "with the budget owner's approval. The estimate prices instance-hours and fixed fees, not usage."
    ),
    validate=validate,
)

review = Review(
    area="cost",
    controls=Controls(nist_800_53=("SC-6",), soc2=("A1.1",)),
    why=(
        "GPU nodes bill by the hour whether or not they serve: a desired capacity above budget is spent from the "
        "first `pulumi up`, before any tenant sends a request."
    ),
)
