"""CloudWatch log groups: a customer-managed key, and retention of at least the stack's minimum."""

import pytest
from conftest import policy_resource, provider, resource_violations, stack_violations

from policies.aws.cloudwatch import log_group_encrypted_with_cmk, log_group_retention

LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
KEY = "arn:aws:kms:us-east-1:123456789012:key/logs"
MINIMUM = {"logRetentionMinDays": 30}
STACK_KEY = policy_resource("aws:kms/key:Key", "logs-key", {})


def group(**changes):
    props = {"name": "/aws/apigateway/x", "kmsKeyId": KEY, "retentionInDays": 365, **changes}
    return {k: v for k, v in props.items() if v is not None}


def cmk(props, resource_type=LOG_GROUP, key_resource=STACK_KEY, config=None):
    deps = {"kmsKeyId": [key_resource]} if key_resource else {}
    group_resource = policy_resource(
        resource_type, "logs", props, property_dependencies=deps, provider_resource=provider()
    )
    found = stack_violations(log_group_encrypted_with_cmk.policy, [key_resource or STACK_KEY, group_resource], config)
    assert all(urn == group_resource.urn for _, urn in found)
    return [message for message, _ in found]


def retention(props, resource_type=LOG_GROUP):
    return resource_violations(log_group_retention.policy, resource_type, props, name="logs", config=MINIMUM)


def test_compliant_log_group():
    assert cmk(group()) == [] and retention(group()) == []
    assert retention(group(retentionInDays=30.0)) == []  # the engine sends numbers as floats


def test_no_kms_key():
    assert cmk(group(kmsKeyId=None)) == [
        "log group 'logs' sets no kmsKeyId: its logs (requests, WAF matches, flows) are encrypted with a key this "
        "stack does not control."
    ]


@pytest.mark.parametrize("key", ["alias/aws/logs", "arn:aws:kms:us-east-1:123456789012:alias/aws/logs", 42])
def test_key_that_is_not_a_customer_managed_key_arn(key):
    assert cmk(group(kmsKeyId=key)) == [f"log group 'logs' kmsKeyId {key!r} is not a customer-managed key ARN."]


def test_retention_below_the_minimum():
    assert retention(group(retentionInDays=1.0)) == [
        "log group 'logs' keeps logs 1 days, less than the stack's minimum of 30 (policy.log_retention_min_days)."
    ]


@pytest.mark.parametrize("days", [None, 0])
def test_retention_unset_never_expires(days):
    assert retention(group(retentionInDays=days)) == [
        "log group 'logs' sets no retentionInDays (logs never expire); set at least 30 days."
    ]


def test_retention_not_a_number():
    assert retention(group(retentionInDays="forever")) == [
        "log group 'logs' retentionInDays 'forever' is not a number of days."
    ]


def test_not_applicable_to_other_types():
    props = {"kmsKeyId": None, "retentionInDays": 1}
    assert cmk(props, "aws:ec2/flowLog:FlowLog") == [] and retention(props, "aws:ec2/flowLog:FlowLog") == []


def test_key_of_the_stack_account_in_the_log_group_region_complies():
    assert cmk(group(), config={"accountId": "123456789012"}) == []


@pytest.mark.parametrize(
    "key", ["arn:aws:kms:us-east-1:999999999999:key/logs", "arn:aws:kms:eu-west-1:123456789012:key/logs"]
)
def test_key_of_another_account_or_region(key):
    assert cmk(group(kmsKeyId=key), config={"accountId": "123456789012"}) == [
        f"log group 'logs' kmsKeyId {key} is not a KMS key of this stack in the log group's region."
    ]


def test_key_not_computed_from_a_key_of_this_stack():
    # Without an account to compare (dev pins none), the key must still be one the stack declares.
    assert cmk(group(), key_resource=None) == [
        f"log group 'logs' kmsKeyId {KEY} is not a KMS key of this stack in the log group's region."
    ]
