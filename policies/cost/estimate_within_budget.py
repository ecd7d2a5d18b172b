"""cost-estimate-within-budget — the planned baseline spend fits the environment's budget, and every
resource the estimate needs a price for has one (an unpriced node group fails closed, not as $0)."""

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
    for line in estimate.unpriced:
        report_violation(
            f"'{line.name}' cannot be priced ({line.basis}), so the budget check cannot count it: use an instance "
            "type from components/catalog.py or add this one there with its price.",
            line.urn,
        )
    verdict = cost.check_budget(estimate, budget)
    if verdict.over:
        for line in cost.drivers(estimate.lines, lambda line: line.monthly_usd):
            report_violation(
                f"{verdict.message}; '{line.name}' is {cost.dollars(line.monthly_usd)}/month of it", line.urn
            )


policy = StackValidationPolicy(
    name="cost-estimate-within-budget",
    description=(
        "The estimated monthly cost at desired capacity must not exceed the environment's budget, and every node "
        "group must use an instance type the catalog can price (an unknown type is a violation, never $0)."
    ),
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    config_schema=PolicyConfigSchema(
        properties={"monthlyBudgetUsd": {"type": "number", "exclusiveMinimum": 0}},
        required=["monthlyBudgetUsd"],
    ),
    remediation_steps=(
        "Lower desired GPU nodes or pick smaller instance types, or raise `llm-serving:budget.monthly_usd` "
        "with the budget owner's approval. The estimate prices instance-hours and fixed fees, not usage. "
        "Add a new instance type to components/catalog.py with its list price before using it."
    ),
    validate=validate,
)

review = Review(
    area="cost",
    controls=Controls(nist_800_53=("SA-2",), soc2=("A1.1",)),
    why=(
        "GPU instance-hours are most of the bill (a p5.48xlarge lists at $55/h); a change that raises desired "
        "nodes or slips in an unpriced instance type must not reach `pulumi up` unseen."
    ),
)
