"""cost-anomaly-alerts-configured and aws-sns-topic-encrypted-with-cmk: the compliant alerts of
components/cost_anomaly.py, then each way to break them, with the exact violation."""

import json

import pytest
from conftest import policy_resource, provider, stack_violations

from components.cost_anomaly import alerts_key_policy, alerts_topic_policy, monitor_specification
from policies.aws.sns import topic_encrypted_with_cmk
from policies.cost import anomaly_alerts_configured

ACCOUNT = "123456789012"
KEY_ARN = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/0d1e2f3a-4b5c-6d7e-8f90-a1b2c3d4e5f6"
TOPIC_ARN = f"arn:aws:sns:us-east-1:{ACCOUNT}:llm-serving-prod-cost-alerts"
CONFIG = {"monthlyBudgetUsd": 125000.0, "environment": "prod"}
AWS = provider()


def alerts(
    *,
    key_policy=None,
    topic_props=None,
    topic_policy=None,
    emails=1,
    monitor_props=None,
    subscription_props=None,
    subscribe_topic=True,
    link_monitor=True,
):
    """The component's resources as the pack sees them; each argument replaces one part."""
    key = policy_resource(
        "aws:kms/key:Key",
        "alerts-key",
        {"policy": json.dumps(key_policy or alerts_key_policy(ACCOUNT))},
        provider_resource=AWS,
    )
    topic = policy_resource(
        "aws:sns/topic:Topic",
        "alerts-topic",
        topic_props if topic_props is not None else {"name": "llm-serving-prod-cost-alerts", "kmsMasterKeyId": KEY_ARN},
        property_dependencies={"kmsMasterKeyId": [key]},
        provider_resource=AWS,
    )
    policy = policy_resource(
        "aws:sns/topicPolicy:TopicPolicy",
        "alerts-topic-policy",
        {"arn": TOPIC_ARN, "policy": json.dumps(topic_policy or alerts_topic_policy(TOPIC_ARN, ACCOUNT))},
        property_dependencies={"arn": [topic]},
        provider_resource=AWS,
    )
    readers = [
        policy_resource(
            "aws:sns/topicSubscription:TopicSubscription",
            f"alerts-email-{i}",
            {"topic": TOPIC_ARN, "protocol": "email", "endpoint": "oncall@example.com"},
            property_dependencies={"topic": [topic]},
            provider_resource=AWS,
        )
        for i in range(emails)
    ]
    monitor = policy_resource(
        "aws:costexplorer/anomalyMonitor:AnomalyMonitor",
        "alerts-monitor",
        monitor_props
        if monitor_props is not None
        else {"monitorType": "CUSTOM", "monitorSpecification": monitor_specification("prod")},
        provider_resource=AWS,
    )
    subscription_defaults = {
        "frequency": "IMMEDIATE",
        "monitorArnLists": ["arn:aws:ce::123456789012:anomalymonitor/x"],
        "subscribers": [{"type": "SNS", "address": TOPIC_ARN}],
        "thresholdExpression": {
            "dimension": {
                "key": "ANOMALY_TOTAL_IMPACT_ABSOLUTE",
                "matchOptions": ["GREATER_THAN_OR_EQUAL"],
                "values": ["500"],
            }
        },
    }
    subscription = policy_resource(
        "aws:costexplorer/anomalySubscription:AnomalySubscription",
        "alerts-subscription",
        {**subscription_defaults, **(subscription_props or {})},
        property_dependencies={
            **({"monitorArnLists": [monitor]} if link_monitor else {}),
            **({"subscribers": [topic]} if subscribe_topic else {}),
        },
        provider_resource=AWS,
    )
    return {"key": key, "topic": topic, "policy": policy, "monitor": monitor, "subscription": subscription}, [
        key,
        topic,
        policy,
        *readers,
        monitor,
        subscription,
    ]


def check(resources, config=CONFIG):
    return stack_violations(anomaly_alerts_configured.policy, resources, config)


def test_the_components_alerts_comply():
    _, resources = alerts()
    assert check(resources) == []


def test_an_account_wide_service_monitor_also_watches_the_environment():
    _, resources = alerts(monitor_props={"monitorType": "DIMENSIONAL", "monitorDimension": "SERVICE"})
    assert check(resources) == []


def test_no_monitor():
    assert check([]) == [
        (
            "the stack declares no aws:costexplorer/anomalyMonitor:AnomalyMonitor over this environment's spend "
            "(CUSTOM on tag user:environment = prod): a spend spike is heard of only when the budget's thresholds "
            "pass.",
            None,
        )
    ]


@pytest.mark.parametrize(
    "spec",
    [
        monitor_specification("dev"),
        json.dumps({"Tags": {"Key": "environment", "Values": ["prod"]}}),
        json.dumps({"Tags": {"Key": "user:environment", "Values": ["prod"], "MatchOptions": ["STARTS_WITH"]}}),
        json.dumps({"Dimensions": {"Key": "LINKED_ACCOUNT", "Values": ["210987654321"]}}),
    ],
    ids=["other-environment", "tag-without-user-prefix", "prefix-match", "other-account"],
)
def test_a_monitor_of_something_else(spec):
    parts, resources = alerts(monitor_props={"monitorType": "CUSTOM", "monitorSpecification": spec})
    assert check(resources) == [
        (
            "anomaly monitor 'alerts-monitor' watches something other than this environment's spend (CUSTOM on tag "
            "user:environment EQUALS prod, or DIMENSIONAL SERVICE).",
            parts["monitor"].urn,
        ),
        (
            "the stack declares no aws:costexplorer/anomalyMonitor:AnomalyMonitor over this environment's spend "
            "(CUSTOM on tag user:environment = prod): a spend spike is heard of only when the budget's thresholds "
            "pass.",
            None,
        ),
    ]


def test_a_monitor_without_subscription():
    parts, resources = alerts(link_monitor=False)
    assert check(resources) == [
        (
            "anomaly monitor 'alerts-monitor' has no subscription: the anomalies it finds reach nobody.",
            parts["monitor"].urn,
        )
    ]


@pytest.mark.parametrize(
    "expression",
    [
        None,
        {
            "dimension": {
                "key": "ANOMALY_TOTAL_IMPACT_PERCENTAGE",
                "matchOptions": ["GREATER_THAN_OR_EQUAL"],
                "values": ["5"],
            }
        },
        {"dimension": {"key": "ANOMALY_TOTAL_IMPACT_ABSOLUTE", "matchOptions": ["LESS_THAN"], "values": ["500"]}},
        {
            "dimension": {
                "key": "ANOMALY_TOTAL_IMPACT_ABSOLUTE",
                "matchOptions": ["GREATER_THAN_OR_EQUAL"],
                "values": ["lots"],
            }
        },
    ],
    ids=["none", "percentage", "less-than", "not-a-number"],
)
def test_a_subscription_without_an_absolute_threshold(expression):
    parts, resources = alerts(subscription_props={"thresholdExpression": expression})
    assert check(resources) == [
        (
            "anomaly subscription 'alerts-subscription' names no absolute threshold (thresholdExpression.dimension "
            "ANOMALY_TOTAL_IMPACT_ABSOLUTE GREATER_THAN_OR_EQUAL one value in USD).",
            parts["subscription"].urn,
        )
    ]


def test_a_threshold_above_a_tenth_of_the_budget():
    expression = {
        "dimension": {
            "key": "ANOMALY_TOTAL_IMPACT_ABSOLUTE",
            "matchOptions": ["GREATER_THAN_OR_EQUAL"],
            "values": ["12501"],
        }
    }
    parts, resources = alerts(subscription_props={"thresholdExpression": expression})
    assert check(resources) == [
        (
            "anomaly subscription 'alerts-subscription' alerts at $12,501, not within (0, $12,500], 10% of the "
            "$125,000 budget: an anomaly would have spent that before anyone hears.",
            parts["subscription"].urn,
        )
    ]


def test_immediate_alerts_to_email():
    parts, resources = alerts(
        subscription_props={"subscribers": [{"type": "EMAIL", "address": "oncall@example.com"}]}, subscribe_topic=False
    )
    assert check(resources) == [
        (
            "anomaly subscription 'alerts-subscription' sends IMMEDIATE alerts to EMAIL subscribers: AWS accepts "
            "only SNS subscribers for IMMEDIATE (subscribe the emails to the topic).",
            parts["subscription"].urn,
        )
    ]


def test_daily_alerts_to_email_are_accepted():
    _, resources = alerts(
        subscription_props={"frequency": "DAILY", "subscribers": [{"type": "EMAIL", "address": "oncall@example.com"}]},
        subscribe_topic=False,
    )
    assert check(resources) == []


def test_no_subscribers():
    parts, resources = alerts(subscription_props={"subscribers": []}, subscribe_topic=False)
    assert check(resources) == [
        ("anomaly subscription 'alerts-subscription' has no subscribers.", parts["subscription"].urn)
    ]


def test_a_topic_of_someone_else():
    parts, resources = alerts(subscribe_topic=False)
    assert check(resources) == [
        (
            "anomaly subscription 'alerts-subscription' publishes to an SNS topic that is not this stack's: nothing "
            "here shows that it is encrypted or that anyone reads it.",
            parts["subscription"].urn,
        )
    ]


@pytest.mark.parametrize(
    "statement",
    [
        {
            "Effect": "Allow",
            "Principal": {"Service": "budgets.amazonaws.com"},
            "Action": "sns:Publish",
            "Resource": "*",
        },
        {
            "Effect": "Deny",
            "Principal": {"Service": "costalerts.amazonaws.com"},
            "Action": "sns:Publish",
            "Resource": "*",
        },
        {
            "Effect": "Allow",
            "Principal": {"Service": "costalerts.amazonaws.com"},
            "Action": "sns:Subscribe",
            "Resource": "*",
        },
    ],
    ids=["other-service", "deny", "other-action"],
)
def test_a_topic_policy_that_does_not_let_cost_anomaly_detection_publish(statement):
    parts, resources = alerts(topic_policy={"Version": "2012-10-17", "Statement": [statement]})
    assert check(resources) == [
        (
            "topic 'alerts-topic' has no topic policy that lets costalerts.amazonaws.com sns:Publish: AWS refuses "
            "the subscription, or its alerts are dropped.",
            parts["topic"].urn,
        )
    ]


@pytest.mark.parametrize("keep", ["kms:Decrypt", "kms:GenerateDataKey*"])
def test_a_key_that_cost_anomaly_detection_cannot_use(keep):
    document = alerts_key_policy(ACCOUNT)
    document["Statement"][1]["Action"] = [keep]
    parts, resources = alerts(key_policy=document)
    assert check(resources) == [
        (
            "key 'alerts-key' of topic 'alerts-topic' does not let costalerts.amazonaws.com use it "
            "(kms:GenerateDataKey*, kms:Decrypt): every alert to the encrypted topic is dropped.",
            parts["key"].urn,
        )
    ]


def test_a_topic_nobody_subscribes_to():
    parts, resources = alerts(emails=0)
    assert check(resources) == [
        ("topic 'alerts-topic' has no subscriptions: its alerts reach nobody.", parts["topic"].urn)
    ]


# --- aws-sns-topic-encrypted-with-cmk ---------------------------------------------------------------


def check_topic(resources, config=None):
    return stack_violations(topic_encrypted_with_cmk.policy, resources, config or {"accountId": ACCOUNT})


def test_a_topic_with_the_stacks_key_complies():
    _, resources = alerts()
    assert check_topic(resources) == []


def test_a_topic_without_a_key():
    parts, resources = alerts(topic_props={"name": "t"})
    assert check_topic(resources) == [
        (
            "SNS topic 'alerts-topic' sets no kmsMasterKeyId: its messages (cost and alert details) are stored "
            "unencrypted.",
            parts["topic"].urn,
        )
    ]


@pytest.mark.parametrize("key", ["alias/aws/sns", "arn:aws:kms:us-east-1:123456789012:alias/aws/sns"])
def test_a_topic_with_the_aws_managed_key(key):
    parts, resources = alerts(topic_props={"kmsMasterKeyId": key})
    assert check_topic(resources) == [
        (
            f"SNS topic 'alerts-topic' kmsMasterKeyId {key!r} is an AWS-managed key: services cannot be granted its "
            "use.",
            parts["topic"].urn,
        )
    ]


@pytest.mark.parametrize(
    "key",
    [
        "arn:aws:kms:us-east-1:210987654321:key/0d1e2f3a-4b5c-6d7e-8f90-a1b2c3d4e5f6",  # another account
        "arn:aws:kms:eu-west-1:123456789012:key/0d1e2f3a-4b5c-6d7e-8f90-a1b2c3d4e5f6",  # another region
        "alias/someone-elses",  # not an ARN
    ],
    ids=["other-account", "other-region", "alias"],
)
def test_a_topic_with_a_key_that_is_not_the_stacks(key):
    parts, resources = alerts(topic_props={"kmsMasterKeyId": key})
    assert check_topic(resources) == [
        (
            f"SNS topic 'alerts-topic' kmsMasterKeyId {key} is not the ARN of a KMS key of this stack in the topic's "
            "region.",
            parts["topic"].urn,
        )
    ]


def test_a_key_arn_the_topic_was_not_computed_from():
    parts, resources = alerts()
    topic = parts["topic"]
    unlinked = policy_resource("aws:sns/topic:Topic", "alerts-topic", dict(topic.props), provider_resource=AWS)
    resources = [unlinked if r is topic else r for r in resources]
    assert check_topic(resources) == [
        (
            f"SNS topic 'alerts-topic' kmsMasterKeyId {KEY_ARN} is not the ARN of a KMS key of this stack in the "
            "topic's region.",
            unlinked.urn,
        )
    ]
