"""cost-anomaly-alerts-configured — Cost Anomaly Detection watches this environment and its alerts reach people."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    PolicyResource,
    ReportViolation,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)

from components import cost
from components.conventions import ANOMALY_THRESHOLD_MAX_SHARE
from policies.review import Controls, Review
from policies.support import as_list, depends_on, json_document, principals, resources_of_type, statements

MONITOR_TYPE = "aws:costexplorer/anomalyMonitor:AnomalyMonitor"
SUBSCRIPTION_TYPE = "aws:costexplorer/anomalySubscription:AnomalySubscription"
TOPIC_TYPE = "aws:sns/topic:Topic"
TOPIC_POLICY_TYPE = "aws:sns/topicPolicy:TopicPolicy"
TOPIC_SUBSCRIPTION_TYPE = "aws:sns/topicSubscription:TopicSubscription"
KEY_TYPES = ("aws:kms/key:Key", "aws:kms/replicaKey:ReplicaKey")
SERVICE = "costalerts.amazonaws.com"
TAG_KEY = "user:environment"
THRESHOLD_KEY = "ANOMALY_TOTAL_IMPACT_ABSOLUTE"


def _actions(statement: Mapping[str, Any]) -> set[str]:
    return {str(a).lower() for a in as_list(statement.get("Action"))}


def _allows_service(document: Any, wanted: tuple[str, ...]) -> bool:
    """Whether a policy document has Allow statements for the Cost Anomaly Detection service that
    together cover every action in `wanted` (lower case; `x*` in the document covers `x...`)."""
    document = json_document(document)
    if document is None:
        return False
    granted: set[str] = set()
    for statement in statements(document):
        if statement.get("Effect") == "Allow" and SERVICE in principals(statement):
            granted |= _actions(statement)

    def covered(action: str) -> bool:
        return any(g == action or (g.endswith("*") and action.startswith(g[:-1])) for g in granted)

    return all(covered(action) for action in wanted)


def _watches(monitor: PolicyResource, environment: str) -> bool:
    """A monitor over every service of the account, or CUSTOM over spend tagged with this environment."""
    props = monitor.props
    if props.get("monitorType") == "DIMENSIONAL":
        return props.get("monitorDimension") == "SERVICE"
    spec = json_document(props.get("monitorSpecification")) or {}
    raw_tags = spec.get("Tags")
    tags: Mapping[str, Any] = raw_tags if isinstance(raw_tags, Mapping) else {}
    match = [str(m) for m in as_list(tags.get("MatchOptions"))] or ["EQUALS"]
    return (
        set(spec) <= {"Tags", "And", "Or", "Not", "Dimensions", "CostCategories"}
        and not any(spec.get(k) for k in ("And", "Or", "Not", "Dimensions", "CostCategories"))
        and tags.get("Key") == TAG_KEY
        and environment in [str(v) for v in as_list(tags.get("Values"))]
        and match == ["EQUALS"]
    )


def _threshold(subscription: PolicyResource) -> float | None:
    """The absolute impact (USD) at which the subscription alerts, or None when it names none."""
    expression = subscription.props.get("thresholdExpression")
    dimension = expression.get("dimension") if isinstance(expression, Mapping) else None
    if not isinstance(dimension, Mapping) or dimension.get("key") != THRESHOLD_KEY:
        return None
    if [str(m) for m in as_list(dimension.get("matchOptions"))] != ["GREATER_THAN_OR_EQUAL"]:
        return None
    values = as_list(dimension.get("values"))
    try:
        return float(values[0]) if len(values) == 1 else None
    except (TypeError, ValueError):
        return None


def _check_topic(topic: PolicyResource, resources: list[PolicyResource], report: Any) -> None:
    """The topic lets Cost Anomaly Detection publish, its key lets it encrypt, and someone subscribes."""
    topic_policies = [p for p in resources_of_type(resources, TOPIC_POLICY_TYPE) if depends_on(p, "arn", topic.urn)]
    if not any(_allows_service(p.props.get("policy"), ("sns:publish",)) for p in topic_policies):
        report(
            f"topic '{topic.name}' has no topic policy that lets {SERVICE} sns:Publish: AWS refuses the "
            "subscription, or its alerts are dropped.",
            topic.urn,
        )
    keys = [k for k in resources_of_type(resources, *KEY_TYPES) if depends_on(topic, "kmsMasterKeyId", k.urn)]
    for key in keys:
        if not _allows_service(key.props.get("policy"), ("kms:generatedatakey", "kms:decrypt")):
            report(
                f"key '{key.name}' of topic '{topic.name}' does not let {SERVICE} use it (kms:GenerateDataKey*, "
                "kms:Decrypt): every alert to the encrypted topic is dropped.",
                key.urn,
            )
    readers = [s for s in resources_of_type(resources, TOPIC_SUBSCRIPTION_TYPE) if depends_on(s, "topic", topic.urn)]
    if not readers:
        report(f"topic '{topic.name}' has no subscriptions: its alerts reach nobody.", topic.urn)


def _check_subscription(
    subscription: PolicyResource, resources: list[PolicyResource], limit_usd: float, report: Any
) -> None:
    name = subscription.name
    threshold = _threshold(subscription)
    ceiling = ANOMALY_THRESHOLD_MAX_SHARE * limit_usd
    if threshold is None:
        report(
            f"anomaly subscription '{name}' names no absolute threshold (thresholdExpression.dimension "
            f"{THRESHOLD_KEY} GREATER_THAN_OR_EQUAL one value in USD).",
            subscription.urn,
        )
    elif not 0 < threshold <= ceiling:
        report(
            f"anomaly subscription '{name}' alerts at {cost.dollars(threshold)}, not within (0, "
            f"{cost.dollars(ceiling)}], {ANOMALY_THRESHOLD_MAX_SHARE:.0%} of the {cost.dollars(limit_usd)} budget: an "
            "anomaly would have spent that before anyone hears.",
            subscription.urn,
        )
    subscribers = [s for s in as_list(subscription.props.get("subscribers")) if isinstance(s, Mapping)]
    if not subscribers:
        report(f"anomaly subscription '{name}' has no subscribers.", subscription.urn)
    kinds = {str(s.get("type")) for s in subscribers}
    if subscription.props.get("frequency") == "IMMEDIATE" and kinds - {"SNS"}:
        report(
            f"anomaly subscription '{name}' sends IMMEDIATE alerts to {', '.join(sorted(kinds - {'SNS'}))} "
            "subscribers: AWS accepts only SNS subscribers for IMMEDIATE (subscribe the emails to the topic).",
            subscription.urn,
        )
    topics = [t for t in resources_of_type(resources, TOPIC_TYPE) if depends_on(subscription, "subscribers", t.urn)]
    if "SNS" in kinds and not topics:
        report(
            f"anomaly subscription '{name}' publishes to an SNS topic that is not this stack's: nothing here shows "
            "that it is encrypted or that anyone reads it.",
            subscription.urn,
        )
    for topic in topics:
        _check_topic(topic, resources, report)


def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    config = args.get_config()
    limit_usd = float(config["monthlyBudgetUsd"])
    environment = str(config["environment"])
    monitors = resources_of_type(args.resources, MONITOR_TYPE)
    watching = [m for m in monitors if _watches(m, environment)]
    for monitor in monitors:
        if monitor not in watching:
            report_violation(
                f"anomaly monitor '{monitor.name}' watches something other than this environment's spend "
                f"(CUSTOM on tag {TAG_KEY} EQUALS {environment}, or DIMENSIONAL SERVICE).",
                monitor.urn,
            )
    if not watching:
        report_violation(
            f"the stack declares no {MONITOR_TYPE} over this environment's spend (CUSTOM on tag {TAG_KEY} = "
            f"{environment}): a spend spike is heard of only when the budget's thresholds pass.",
            None,
        )
    subscriptions = resources_of_type(args.resources, SUBSCRIPTION_TYPE)
    for monitor in watching:
        mine = [s for s in subscriptions if depends_on(s, "monitorArnLists", monitor.urn)]
        if not mine:
            report_violation(
                f"anomaly monitor '{monitor.name}' has no subscription: the anomalies it finds reach nobody.",
                monitor.urn,
            )
        for subscription in mine:
            _check_subscription(subscription, args.resources, limit_usd, report_violation)


policy = StackValidationPolicy(
    name="cost-anomaly-alerts-configured",
    description=(
        "An AWS Cost Anomaly Detection monitor watches this environment's spend (CUSTOM on the environment "
        f"cost-allocation tag), with a subscription that alerts at most {ANOMALY_THRESHOLD_MAX_SHARE:.0%} of the "
        "budget into an SNS topic of this stack that Cost Anomaly Detection may publish to, whose key it may use, "
        "and that someone subscribes to."
    ),
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    config_schema=PolicyConfigSchema(
        properties={
            "monthlyBudgetUsd": {"type": "number", "exclusiveMinimum": 0},
            "environment": {"type": "string"},
        },
        required=["monthlyBudgetUsd", "environment"],
    ),
    remediation_steps=(
        "Keep components.cost_anomaly.CostAnomalyAlerts: its monitor, IMMEDIATE subscription at "
        "`llm-serving:budget.anomaly_alert_usd`, topic policy and key policy for costalerts.amazonaws.com, and the "
        "recipients' email subscriptions."
    ),
    validate=validate,
)

review = Review(
    area="cost",
    controls=Controls(nist_800_53=("SI-4", "SA-2"), soc2=("CC7.2", "A1.1")),
    why=(
        "A budget hears of a runaway GPU bill when the month's total passes a threshold, possibly weeks in; the "
        "anomaly monitor hears of the jump the day it happens. Silenced by a topic or key policy that AWS "
        "rejects, it fails without a sound."
    ),
)
