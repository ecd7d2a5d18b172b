"""KMS key policies and S3 bucket policies grant nothing to another account."""

import json

import pytest
from conftest import resource_violations

from policies.aws.kms import key_policy_same_account
from policies.aws.s3 import bucket_policy_same_account

KEY = key_policy_same_account.policy
BUCKET = bucket_policy_same_account.policy
ACCOUNT = {"accountId": "123456789012"}

ROOT = {
    "Sid": "EnableRootAccountAdministration",
    "Effect": "Allow",
    "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
    "Action": "kms:*",
    "Resource": "*",
}
VIA_AMP = {
    "Sid": "AllowAccountUseViaAmp",
    "Effect": "Allow",
    "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
    "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
    "Resource": "*",
    "Condition": {
        "StringEquals": {"kms:ViaService": "aps.us-east-1.amazonaws.com", "kms:CallerAccount": "123456789012"}
    },
}
SLR = {
    "Sid": "AllowAutoScalingServiceLinkedRoleUse",
    "Effect": "Allow",
    "Principal": {
        "AWS": "arn:aws:iam::123456789012:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling"
    },
    "Action": "kms:Decrypt",
    "Resource": "*",
}
TLS_ONLY = {
    "Sid": "DenyInsecureTransport",
    "Effect": "Deny",
    "Principal": "*",
    "Action": "s3:*",
    "Resource": ["arn:aws:s3:::logs", "arn:aws:s3:::logs/*"],
    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
}
LOG_DELIVERY = {
    "Sid": "AllowServerAccessLogDelivery",
    "Effect": "Allow",
    "Principal": {"Service": "logging.s3.amazonaws.com"},
    "Action": "s3:PutObject",
    "Resource": "arn:aws:s3:::logs/weights/*",
    "Condition": {
        "ArnLike": {"aws:SourceArn": "arn:aws:s3:::weights"},
        "StringEquals": {"aws:SourceAccount": "123456789012"},
    },
}


def policy(*statements):
    return {"policy": json.dumps({"Version": "2012-10-17", "Statement": list(statements)})}


# --- aws-kms-key-policy-same-account -------------------------------------------------------------


def test_key_compliant_policies_of_the_plan():
    assert resource_violations(KEY, "aws:kms/key:Key", policy(ROOT, VIA_AMP, SLR), config=ACCOUNT) == []
    assert resource_violations(KEY, "aws:kms/replicaKey:ReplicaKey", policy(ROOT), config=ACCOUNT) == []


def test_key_grants_another_account_root():
    other = {**VIA_AMP, "Principal": {"AWS": ["arn:aws:iam::123456789012:root", "arn:aws:iam::210987654321:root"]}}
    assert resource_violations(KEY, "aws:kms/key:Key", policy(ROOT, other), config=ACCOUNT) == [
        "key policy: statement AllowAccountUseViaAmp allows account 210987654321 ('arn:aws:iam::210987654321:root'), "
        "not this stack's account 123456789012."
    ]


def test_key_grants_another_account_by_id_on_a_replica_key():
    other = {**SLR, "Principal": {"AWS": "210987654321"}}
    assert resource_violations(KEY, "aws:kms/replicaKey:ReplicaKey", policy(ROOT, other), config=ACCOUNT) == [
        "key policy: statement AllowAutoScalingServiceLinkedRoleUse allows account 210987654321 ('210987654321'), "
        "not this stack's account 123456789012."
    ]


def test_key_caller_account_condition_of_another_account():
    other = {**VIA_AMP, "Condition": {"StringEquals": {"kms:CallerAccount": "210987654321"}}}
    assert resource_violations(KEY, "aws:kms/key:Key", policy(other), config=ACCOUNT) == [
        "key policy: statement AllowAccountUseViaAmp allows account 210987654321 through its kms:CallerAccount "
        "condition, not this stack's account 123456789012."
    ]


def test_key_wildcard_principal_unless_pinned_to_the_account():
    anyone = {**VIA_AMP, "Principal": {"AWS": "*"}, "Condition": {"StringEquals": {"kms:ViaService": "x"}}}
    assert resource_violations(KEY, "aws:kms/key:Key", policy(anyone), config=ACCOUNT) == [
        "key policy: statement AllowAccountUseViaAmp allows any account ('*'), not this stack's account 123456789012."
    ]
    assert resource_violations(KEY, "aws:kms/key:Key", policy({**VIA_AMP, "Principal": "*"}), config=ACCOUNT) == []


def test_key_principal_in_no_account():
    odd = {**SLR, "Principal": {"AWS": "AIDAEXAMPLE"}}
    assert resource_violations(KEY, "aws:kms/key:Key", policy(odd), config=ACCOUNT) == [
        "key policy: statement AllowAutoScalingServiceLinkedRoleUse allows a principal the pack cannot place in an "
        "account ('AIDAEXAMPLE'), not this stack's account 123456789012."
    ]


def test_key_not_applicable():
    other = {**ROOT, "Principal": {"AWS": "arn:aws:iam::210987654321:root"}}
    assert resource_violations(KEY, "aws:kms/key:Key", policy(other)) == []  # no account pinned
    assert resource_violations(KEY, "aws:kms/key:Key", policy({**other, "Effect": "Deny"}), config=ACCOUNT) == []
    assert resource_violations(KEY, "aws:kms/key:Key", {"policy": "nope"}, config=ACCOUNT) == []
    assert resource_violations(KEY, "aws:kms/key:Key", {}, config=ACCOUNT) == []
    assert resource_violations(KEY, "aws:s3/bucketPolicy:BucketPolicy", policy(other), config=ACCOUNT) == []


# --- aws-s3-bucket-policy-same-account -----------------------------------------------------------

BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"


def test_bucket_compliant_policies_of_the_plan():
    assert resource_violations(BUCKET, BUCKET_POLICY, policy(TLS_ONLY, LOG_DELIVERY), config=ACCOUNT) == []


@pytest.mark.parametrize(
    ("principal", "shown"),
    [
        (
            {"AWS": "arn:aws:iam::210987654321:role/reader"},
            "account 210987654321 ('arn:aws:iam::210987654321:role/reader')",
        ),
        ({"AWS": "*"}, "any account ('*')"),
        ("*", "any account ('*')"),
    ],
)
def test_bucket_grants_another_account(principal, shown):
    reader = {
        "Sid": "Read",
        "Effect": "Allow",
        "Principal": principal,
        "Action": "s3:GetObject",
        "Resource": "arn:aws:s3:::weights/*",
    }
    assert resource_violations(BUCKET, BUCKET_POLICY, policy(TLS_ONLY, reader), config=ACCOUNT) == [
        f"bucket policy: statement Read allows {shown}, not this stack's account 123456789012."
    ]


def test_bucket_service_delivery_for_another_account():
    other = {**LOG_DELIVERY, "Condition": {"StringEquals": {"aws:SourceAccount": "210987654321"}}}
    assert resource_violations(BUCKET, BUCKET_POLICY, policy(other), config=ACCOUNT) == [
        "bucket policy: statement AllowServerAccessLogDelivery allows account 210987654321 through its "
        "aws:SourceAccount condition, not this stack's account 123456789012."
    ]


def test_bucket_policy_unreadable():
    assert resource_violations(BUCKET, BUCKET_POLICY, {"policy": "{"}, config=ACCOUNT) == [
        "the bucket policy is not a JSON document."
    ]


def test_bucket_not_applicable():
    reader = {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::210987654321:root"}, "Action": "s3:GetObject"}
    assert resource_violations(BUCKET, BUCKET_POLICY, policy(reader)) == []  # no account pinned
    assert resource_violations(BUCKET, BUCKET_POLICY, {"policy": None}, config=ACCOUNT) == []
    assert resource_violations(BUCKET, "aws:s3/bucket:Bucket", policy(reader), config=ACCOUNT) == []
    assert resource_violations(BUCKET, "aws:kms/key:Key", policy(reader), config=ACCOUNT) == []
