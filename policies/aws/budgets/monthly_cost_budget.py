"""aws-budgets-monthly-cost-budget — one monthly cost budget, at most the stack's budget, that alerts people."""

from collections.abc import Mapping
from typing import Any

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
from policies.support import as_list, number_text, resources_of_type

BUDGET_TYPE = "aws:budgets/budget:Budget"
SUBSCRIBER_KEYS = ("subscriberEmailAddresses", "subscriberSnsTopicArns")


def _amount(value: Any) -> float | None:
    """limitAmount is a string ("125000.00") on the wire; None when it is not a number."""
    if isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _is_monthly_cost(budget) -> bool:
    return budget.props.get("budgetType") == "COST" and budget.props.get("timeUnit") == "MONTHLY"


def _check(budget, limit_usd: float, environment: str | None, report_violation: ReportViolation) -> None:
    def report(message: str) -> None:
        report_violation(f"budget '{budget.name}' {message}", budget.urn)

    props = budget.props
    amount = _amount(props.get("limitAmount"))
    if amount is None:
        report(f"has no numeric limitAmount ({props.get('limitAmount')!r}).")
    elif amount > limit_usd:
        report(
            f"limit {number_text(amount)} exceeds the stack's budget of {cost.dollars(limit_usd)} "
            "(monthlyBudgetUsd): alerts would fire only after the budget is spent."
        )
    if props.get("limitUnit") != "USD":
        report(f"limitUnit is {props.get('limitUnit') or 'unset'}, not USD.")
    if props.get("autoAdjustData"):
        report("adjusts its own limit (autoAdjustData): the limit must be the stack's budget.")
    if environment:
        # A tag filter that selects another environment's spend leaves this one unwatched.
        wanted = f"user:environment${environment}"
        for cost_filter in as_list(props.get("costFilters")):
            cost_filter = cost_filter if isinstance(cost_filter, Mapping) else {}
            values = [str(v) for v in as_list(cost_filter.get("values"))]
            if cost_filter.get("name") == "TagKeyValue" and wanted not in values:
                report(f"filters on {', '.join(values) or 'no tag'}, not this environment's spend ({wanted}).")
    notifications = as_list(props.get("notifications"))
    if not notifications:
        report("has no notifications: nobody is told when spend passes the budget.")
    for index, notification in enumerate(notifications):
        notification = notification if isinstance(notification, Mapping) else {}
        if not any(as_list(notification.get(key)) for key in SUBSCRIBER_KEYS):
            report(
                f"notification {index} ({notification.get('notificationType', '?')} "
                f"{number_text(notification.get('threshold', '?'))}%) has no subscribers."
            )


def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    limit_usd = float(args.get_config()["monthlyBudgetUsd"])
    environment = args.get_config().get("environment")
    budgets = resources_of_type(args.resources, BUDGET_TYPE)
    monthly = [b for b in budgets if _is_monthly_cost(b)]
    for budget in budgets:
        if not _is_monthly_cost(budget):
            report_violation(
                f"budget '{budget.name}' is not a monthly cost budget (budgetType {budget.props.get('budgetType')}, "
                f"timeUnit {budget.props.get('timeUnit')}; must be COST, MONTHLY).",
                budget.urn,
            )
    if not budgets:
        report_violation(
            f"the stack declares no {BUDGET_TYPE} (budgetType COST, timeUnit MONTHLY): nothing alerts when spend "
            f"passes the {cost.dollars(limit_usd)} budget.",
            None,
        )
    for extra in monthly[1:]:
        report_violation(
            f"budget '{extra.name}' is a second monthly cost budget (the first is '{monthly[0].name}'): one budget "
            "per environment, so its limit is the stack's.",
            extra.urn,
        )
    for budget in monthly:
        _check(budget, limit_usd, environment, report_violation)


policy = StackValidationPolicy(
    name="aws-budgets-monthly-cost-budget",
    description=(
        "The stack declares exactly one AWS Budget of type COST per MONTHLY period, limited to at most the stack's "
        "budget (monthlyBudgetUsd) in USD, filtered (if at all) to this environment's tag, with notifications that "
        "each have subscribers."
    ),
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    config_schema=PolicyConfigSchema(
        properties={
            "monthlyBudgetUsd": {"type": "number", "exclusiveMinimum": 0},
            "environment": {"type": "string"},
        },
        required=["monthlyBudgetUsd"],
    ),
    remediation_steps=(
        "Keep the components.budget Budget: limit_amount = `llm-serving:budget.monthly_usd`, time_unit MONTHLY, "
        "budget_type COST, and notifications to `budget.recipients`."
    ),
    validate=validate,
)

review = Review(
    area="cost",
    controls=Controls(nist_800_53=("SA-2", "SI-4"), soc2=("A1.1", "CC7.2")),
    why=(
        "The budget is the only alarm on a runaway GPU bill (a scaler stuck at max, a leaked key driving traffic); "
        "removed, silenced or raised far above the stack's budget it alerts no one until the invoice."
    ),
)
