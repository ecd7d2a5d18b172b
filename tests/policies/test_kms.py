import json

from conftest import resource_violations

from policies.aws.kms import key_policy_no_wildcard_principal, key_rotation_enabled

ROOT_STATEMENT = {
    "Sid": "EnableRootAccountAdministration",
    "Effect": "Allow",
    "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
    "Action": "kms:*",
    "Resource": "*",
}


def key_policy(*extra):
    return json.dumps({"Version": "2012-10-17", "Statement": [ROOT_STATEMENT, *extra]})


# --- aws-kms-key-rotation-enabled ---------------------------------------------------------------


def test_rotation_compliant_key():
    assert resource_violations(key_rotation_enabled.policy, "aws:kms/key:Key", {"enableKeyRotation": True}) == []


def test_rotation_off_is_a_violation():
    assert resource_violations(key_rotation_enabled.policy, "aws:kms/key:Key", {"enableKeyRotation": False}) == [
        "enableKeyRotation is not true: the key material never rotates."
    ]


def test_rotation_unset_is_a_violation():
    assert resource_violations(key_rotation_enabled.policy, "aws:kms/key:Key", {}) == [
        "enableKeyRotation is not true: the key material never rotates."
    ]


def test_rotation_not_applicable_to_asymmetric_keys_and_other_types():
    assert (
        resource_violations(key_rotation_enabled.policy, "aws:kms/key:Key", {"customerMasterKeySpec": "RSA_2048"}) == []
    )
    assert resource_violations(key_rotation_enabled.policy, "aws:kms/replicaKey:ReplicaKey", {}) == []
    assert resource_violations(key_rotation_enabled.policy, "aws:s3/bucket:Bucket", {}) == []


# --- aws-kms-key-policy-disallow-wildcard-principal ----------------------------------------------

WILDCARD = key_policy_no_wildcard_principal.policy


def test_wildcard_compliant_policy():
    service = {
        "Sid": "AllowCloudWatchLogs",
        "Effect": "Allow",
        "Principal": {"Service": "logs.us-east-1.amazonaws.com"},
        "Action": ["kms:Encrypt*", "kms:Decrypt*"],
        "Resource": "*",
    }
    assert resource_violations(WILDCARD, "aws:kms/key:Key", {"policy": key_policy(service)}) == []


def test_wildcard_principal_string():
    statement = {"Sid": "Open", "Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*"}
    assert resource_violations(WILDCARD, "aws:kms/key:Key", {"policy": key_policy(statement)}) == [
        "statement Open allows a wildcard principal ('*')."
    ]


def test_wildcard_principal_in_aws_list_on_replica_key():
    statement = {"Effect": "Allow", "Principal": {"AWS": ["arn:aws:iam::123456789012:root", "*"]}, "Action": "kms:*"}
    assert resource_violations(WILDCARD, "aws:kms/replicaKey:ReplicaKey", {"policy": key_policy(statement)}) == [
        "statement #1 allows a wildcard principal ('*')."
    ]


def test_wildcard_in_deny_statement_is_fine():
    statement = {"Sid": "DenyAll", "Effect": "Deny", "Principal": "*", "Action": "kms:ScheduleKeyDeletion"}
    assert resource_violations(WILDCARD, "aws:kms/key:Key", {"policy": key_policy(statement)}) == []


def test_missing_key_policy():
    assert resource_violations(WILDCARD, "aws:kms/key:Key", {}) == [
        "no key policy: AWS applies its default policy; declare a least-privilege one."
    ]


def test_unreadable_key_policy():
    assert resource_violations(WILDCARD, "aws:kms/key:Key", {"policy": "{not json"}) == [
        "the key policy is not a JSON document."
    ]


def test_wildcard_not_applicable_to_other_types():
    assert resource_violations(WILDCARD, "aws:iam/role:Role", {"assumeRolePolicy": "{}"}) == []
