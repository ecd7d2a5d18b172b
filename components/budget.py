"""Budget: the AWS Budgets guard on the environment's monthly spend (the plan checks the estimate)."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws


@dataclass(frozen=True)
class BudgetArgs:
    environment: str
    """Spend is filtered by the `environment` cost-allocation tag every resource carries."""
    monthly_usd: float
    alert_thresholds_percent: tuple[int, ...]
    """Percent of the budget at which recipients hear about forecast and actual spend."""
    recipients: tuple[str, ...]


class Budget(pulumi.ComponentResource):
    """A monthly cost budget with forecast and actual alerts at each threshold."""

    def __init__(self, name: str, args: BudgetArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("llm-serving:cost:Budget", name, None, opts)
        if args.monthly_usd <= 0:
            raise ValueError(f"monthly_usd: must be > 0 (got {args.monthly_usd})")
        if not args.recipients:
            raise ValueError("recipients: at least one email address is required")
        notifications = [
            aws.budgets.BudgetNotificationArgs(
                comparison_operator="GREATER_THAN",
                notification_type=kind,
                threshold=float(percent),
                threshold_type="PERCENTAGE",
                subscriber_email_addresses=list(args.recipients),
            )
            for percent in args.alert_thresholds_percent
            # A forecast over 100 % is the early warning; actual spend at every threshold.
            for kind in (("FORECASTED", "ACTUAL") if percent >= 100 else ("ACTUAL",))
        ]
        self.budget = aws.budgets.Budget(
            f"{name}-monthly",
            name=f"llm-serving-{args.environment}-monthly",
            budget_type="COST",
            limit_amount=f"{args.monthly_usd:.2f}",
            limit_unit="USD",
            time_unit="MONTHLY",
            # The tag must be activated as a cost-allocation tag in the billing console.
            cost_filters=[
                aws.budgets.BudgetCostFilterArgs(name="TagKeyValue", values=[f"user:environment${args.environment}"])
            ],
            notifications=notifications,
            tags={"component": "budget"},
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.budget_name = self.budget.name
        self.register_outputs({"budget_name": self.budget_name})
