"""Cost anomaly alerts: AWS Cost Anomaly Detection watching this environment's spend, beside the Budget.

A Budget alerts when the month's total passes a threshold; an anomaly monitor alerts when spend
jumps against its own history (a scaler stuck at max on Tuesday, not on the 28th). The monitor is
CUSTOM over the `environment` cost-allocation tag every resource carries, so each environment of
one account has its own; its subscription publishes IMMEDIATE alerts to an SNS topic encrypted with
a key of its own, and the budget's recipients subscribe to the topic by email.

Cost Anomaly Detection publishes as the `costalerts.amazonaws.com` service: the topic policy lets
it publish and the key policy lets it encrypt, both only for this account (AWS Cost Management
user guide, "Creating an Amazon SNS topic for anomaly notifications"; SNS developer guide, "Key
management": a service that publishes to an encrypted topic needs `kms:GenerateDataKey*` and
`kms:Decrypt` in the key policy, which the AWS-managed `alias/aws/sns` key cannot grant).
`alerts_key_policy` and `alerts_topic_policy` are pure so tests and the policy pack can read them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components.arg_checks import ACCOUNT_ID, check_environment_name
from components.conventions import ANOMALY_THRESHOLD_MAX_SHARE
from components.encryption import DELETION_WINDOW_DAYS, ROTATION_PERIOD_DAYS

COST_ALERTS_SERVICE = "costalerts.amazonaws.com"
ENVIRONMENT_TAG = "user:environment"
"""The cost-allocation tag key as Cost Explorer expressions name it (terraform-provider-aws,
internal/service/ce/testdata/AnomalyMonitor/basic_v5.100.0/main_gen.tf: `"Key": "user:CostCenter"`)."""


def _check_account(account_id: str) -> None:
    if not isinstance(account_id, str) or not ACCOUNT_ID.fullmatch(account_id):
        raise ValueError(f"account_id: must be a 12-digit AWS account id (got {account_id!r})")


def alerts_key_policy(account_id: str, partition: str = "aws") -> dict[str, Any]:
    """Key policy of the alerts topic's key: account administration, and Cost Anomaly Detection
    encrypting messages for this account only."""
    _check_account(account_id)
    return {
        "Version": "2012-10-17",
        "Id": "llm-serving-cost-alerts",
        "Statement": [
            {
                "Sid": "EnableRootAccountAdministration",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:{partition}:iam::{account_id}:root"},
                "Action": "kms:*",
                "Resource": "*",
            },
            {
                "Sid": "AllowCostAnomalyDetectionToEncryptAlerts",
                "Effect": "Allow",
                "Principal": {"Service": COST_ALERTS_SERVICE},
                "Action": ["kms:GenerateDataKey*", "kms:Decrypt"],
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
            },
        ],
    }


def alerts_topic_policy(topic_arn: str, account_id: str) -> dict[str, Any]:
    """Topic policy: Cost Anomaly Detection may publish, on behalf of this account only."""
    _check_account(account_id)
    return {
        "Version": "2012-10-17",
        "Id": "llm-serving-cost-alerts",
        "Statement": [
            {
                "Sid": "AllowCostAnomalyDetectionToPublish",
                "Effect": "Allow",
                "Principal": {"Service": COST_ALERTS_SERVICE},
                "Action": "sns:Publish",
                "Resource": topic_arn,
                "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
            }
        ],
    }


def monitor_specification(environment: str) -> str:
    """The CUSTOM monitor's Cost Explorer expression: spend tagged environment=<environment>."""
    return json.dumps({"Tags": {"Key": ENVIRONMENT_TAG, "Values": [environment], "MatchOptions": ["EQUALS"]}})


@dataclass(frozen=True)
class CostAnomalyAlertsArgs:
    environment: str
    """The `environment` tag value whose spend the monitor watches; part of every name."""
    account_id: pulumi.Input[str]
    """The account whose Cost Anomaly Detection publishes (from `aws.get_caller_identity_output`)."""
    threshold_usd: float
    """Report an anomaly once its total impact reaches this many dollars."""
    monthly_budget_usd: float
    """The environment's budget: the threshold may be at most `ANOMALY_THRESHOLD_MAX_SHARE` of it."""
    recipients: tuple[str, ...]
    """Email addresses subscribed to the topic (each confirms the subscription once)."""
    partition: str = "aws"
    protect: bool = False
    """Protect the key from `pulumi destroy`; true in prod, like every key."""

    def __post_init__(self) -> None:
        check_environment_name(self.environment)
        if isinstance(self.account_id, str):
            _check_account(self.account_id)
        if not 0 < self.threshold_usd <= ANOMALY_THRESHOLD_MAX_SHARE * self.monthly_budget_usd:
            raise ValueError(
                f"threshold_usd: must be > 0 and at most {ANOMALY_THRESHOLD_MAX_SHARE:.0%} of the monthly budget "
                f"(${ANOMALY_THRESHOLD_MAX_SHARE * self.monthly_budget_usd:,.0f}; got {self.threshold_usd})"
            )
        if not self.recipients:
            raise ValueError("recipients: at least one email address is required")


class CostAnomalyAlerts(pulumi.ComponentResource):
    """An anomaly monitor over the environment's tag, an IMMEDIATE subscription and its encrypted topic."""

    topic_arn: pulumi.Output[str]
    monitor_arn: pulumi.Output[str]

    def __init__(self, name: str, args: CostAnomalyAlertsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("llm-serving:cost:CostAnomalyAlerts", name, None, opts)
        account = pulumi.Output.from_input(args.account_id)
        topic = self._topic(name, args, account)
        monitor = aws.costexplorer.AnomalyMonitor(
            f"{name}-monitor",
            name=f"llm-serving-{args.environment}",
            monitor_type="CUSTOM",
            monitor_specification=monitor_specification(args.environment),
            tags={"component": "cost-anomaly"},
            opts=pulumi.ResourceOptions(parent=self),
        )
        aws.costexplorer.AnomalySubscription(
            f"{name}-subscription",
            name=f"llm-serving-{args.environment}-anomalies",
            # IMMEDIATE takes SNS subscribers only; the topic fans out to the recipients' email.
            frequency="IMMEDIATE",
            monitor_arn_lists=[monitor.arn],
            subscribers=[aws.costexplorer.AnomalySubscriptionSubscriberArgs(type="SNS", address=topic.arn)],
            threshold_expression=aws.costexplorer.AnomalySubscriptionThresholdExpressionArgs(
                dimension=aws.costexplorer.AnomalySubscriptionThresholdExpressionDimensionArgs(
                    key="ANOMALY_TOTAL_IMPACT_ABSOLUTE",
                    match_options=["GREATER_THAN_OR_EQUAL"],
                    values=[f"{args.threshold_usd:g}"],
                )
            ),
            tags={"component": "cost-anomaly"},
            # Cost Explorer checks that it may publish when the subscription is created.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self._topic_policy]),
        )
        self.topic_arn = topic.arn
        self.monitor_arn = monitor.arn
        self.register_outputs({"topic_arn": self.topic_arn, "monitor_arn": self.monitor_arn})

    def _topic(self, name: str, args: CostAnomalyAlertsArgs, account: pulumi.Output[str]) -> aws.sns.Topic:
        """The alerts topic, its key, the policy that lets Cost Anomaly Detection publish, and the recipients."""
        key = aws.kms.Key(
            f"{name}-key",
            description=f"llm-serving {args.environment} cost anomaly alerts (SNS topic)",
            key_usage="ENCRYPT_DECRYPT",
            customer_master_key_spec="SYMMETRIC_DEFAULT",
            enable_key_rotation=True,
            rotation_period_in_days=ROTATION_PERIOD_DAYS,
            deletion_window_in_days=DELETION_WINDOW_DAYS,
            policy=account.apply(lambda a: json.dumps(alerts_key_policy(a, args.partition))),
            tags={"Name": f"{name}-key", "component": "cost-anomaly"},
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
        )
        aws.kms.Alias(
            f"{name}-key-alias",
            name=f"alias/llm-serving/{args.environment}/cost-alerts",
            target_key_id=key.key_id,
            opts=pulumi.ResourceOptions(parent=self),
        )
        topic = aws.sns.Topic(
            f"{name}-topic",
            name=f"llm-serving-{args.environment}-cost-alerts",
            kms_master_key_id=key.arn,
            tags={"Name": f"{name}-topic", "component": "cost-anomaly"},
            opts=pulumi.ResourceOptions(parent=self),
        )
        self._topic_policy = aws.sns.TopicPolicy(
            f"{name}-topic-policy",
            arn=topic.arn,
            policy=pulumi.Output.all(topic.arn, account).apply(
                lambda values: json.dumps(alerts_topic_policy(values[0], values[1]))
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        for index, address in enumerate(args.recipients):
            aws.sns.TopicSubscription(
                f"{name}-email-{index}",
                topic=topic.arn,
                protocol="email",
                endpoint=address,
                opts=pulumi.ResourceOptions(parent=self),
            )
        return topic
