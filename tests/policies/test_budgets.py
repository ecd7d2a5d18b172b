"""aws-budgets-monthly-cost-budget: one monthly cost budget, within the stack's budget, that alerts people."""

from conftest import policy_resource, stack_violations

from policies.aws.budgets import monthly_cost_budget

BUDGET = "aws:budgets/budget:Budget"
CONFIG = {"monthlyBudgetUsd": 2500.0}
NOTIFY = {
    "notificationType": "ACTUAL",
    "threshold": 80,
    "thresholdType": "PERCENTAGE",
    "comparisonOperator": "GREATER_THAN",
    "subscriberEmailAddresses": ["oncall@example.com"],
}


def budget(name="monthly", **changes):
    props = {
        "budgetType": "COST",
        "timeUnit": "MONTHLY",
        "limitAmount": "2500.00",  # a string on the wire
        "limitUnit": "USD",
        "notifications": [NOTIFY],
    }
    props.update(changes)
    return policy_resource(BUDGET, name, {k: v for k, v in props.items() if v is not None})


def check(*resources):
    return stack_violations(monthly_cost_budget.policy, list(resources), CONFIG)


def test_one_monthly_cost_budget_within_the_stack_budget_complies():
    assert check(budget()) == []
    assert check(budget(limitAmount="1000.00")) == []


def test_sns_subscribers_count():
    notify = {**NOTIFY, "subscriberEmailAddresses": None, "subscriberSnsTopicArns": ["arn:aws:sns:x"]}
    assert check(budget(notifications=[notify])) == []


def test_no_budget_names_the_missing_type():
    other = policy_resource("aws:kms/key:Key", "k", {})
    assert check(other) == [
        (
            "the stack declares no aws:budgets/budget:Budget (budgetType COST, timeUnit MONTHLY): nothing alerts "
            "when spend passes the $2,500 budget.",
            None,
        )
    ]


def test_limit_above_the_stack_budget():
    subject = budget(limitAmount="25000.00")
    assert check(subject) == [
        (
            "budget 'monthly' limit 25000 exceeds the stack's budget of $2,500 (monthlyBudgetUsd): alerts would "
            "fire only after the budget is spent.",
            subject.urn,
        )
    ]


def test_limit_not_a_number():
    subject = budget(limitAmount="lots")
    assert check(subject) == [("budget 'monthly' has no numeric limitAmount ('lots').", subject.urn)]


def test_limit_in_another_unit():
    subject = budget(limitUnit="GB")
    assert check(subject) == [("budget 'monthly' limitUnit is GB, not USD.", subject.urn)]


def test_auto_adjusting_limit():
    subject = budget(autoAdjustData={"autoAdjustType": "HISTORICAL"})
    assert check(subject) == [
        ("budget 'monthly' adjusts its own limit (autoAdjustData): the limit must be the stack's budget.", subject.urn)
    ]


def test_no_notifications():
    subject = budget(notifications=[])
    assert check(subject) == [
        ("budget 'monthly' has no notifications: nobody is told when spend passes the budget.", subject.urn)
    ]


def test_notification_without_subscribers():
    subject = budget(notifications=[NOTIFY, {**NOTIFY, "threshold": 100.0, "subscriberEmailAddresses": []}])
    assert check(subject) == [("budget 'monthly' notification 1 (ACTUAL 100%) has no subscribers.", subject.urn)]


def test_not_a_monthly_cost_budget():
    subject = budget(budgetType="USAGE")
    assert check(subject) == [
        (
            "budget 'monthly' is not a monthly cost budget (budgetType USAGE, timeUnit MONTHLY; must be COST, "
            "MONTHLY).",
            subject.urn,
        )
    ]


def test_quarterly_budget():
    subject = budget(timeUnit="QUARTERLY")
    assert check(subject) == [
        (
            "budget 'monthly' is not a monthly cost budget (budgetType COST, timeUnit QUARTERLY; must be COST, "
            "MONTHLY).",
            subject.urn,
        )
    ]


def test_a_second_monthly_cost_budget():
    first, second = budget("first"), budget("second")
    assert check(first, second) == [
        (
            "budget 'second' is a second monthly cost budget (the first is 'first'): one budget per environment, "
            "so its limit is the stack's.",
            second.urn,
        )
    ]


def test_not_applicable_to_other_types():
    assert check(budget(), policy_resource("aws:s3/bucket:Bucket", "b", {"limitAmount": "9"})) == []


def test_the_program_budget_uses_the_wire_names_the_policy_reads(dev_run):
    # The inputs come from pulumi-aws's own types, so this pins the policy to the provider's wire names.
    (recorded,) = [r for r in dev_run.resources if r.type == BUDGET]
    assert {"budgetType", "timeUnit", "limitAmount", "limitUnit", "notifications"} <= set(recorded.inputs)
    assert all("subscriberEmailAddresses" in n for n in recorded.inputs["notifications"])
    subject = policy_resource(BUDGET, recorded.name, recorded.inputs)
    assert check(subject) == []
    assert check(policy_resource(BUDGET, recorded.name, {**recorded.inputs, "limitAmount": "2500.01"})) == [
        (
            "budget 'dev-budget-monthly' limit 2500.01 exceeds the stack's budget of $2,500 (monthlyBudgetUsd): "
            "alerts would fire only after the budget is spent.",
            subject.urn,
        )
    ]


def test_a_cost_filter_for_this_environment_complies():
    subject = budget(costFilters=[{"name": "TagKeyValue", "values": ["user:environment$dev"]}])
    assert stack_violations(monthly_cost_budget.policy, [subject], {**CONFIG, "environment": "dev"}) == []


def test_a_cost_filter_for_another_environment():
    subject = budget(costFilters=[{"name": "TagKeyValue", "values": ["user:environment$prod"]}])
    assert stack_violations(monthly_cost_budget.policy, [subject], {**CONFIG, "environment": "dev"}) == [
        (
            "budget 'monthly' filters on user:environment$prod, not this environment's spend (user:environment$dev).",
            subject.urn,
        )
    ]
