"""S3 bucket stack policies: CMK encryption, versioning, public access block, TLS-only, access logging."""

import json

from conftest import policy_resource, stack_violations

from policies.aws.s3 import (
    bucket_access_logging_enabled,
    bucket_encrypted_with_cmk,
    bucket_public_access_blocked,
    bucket_tls_only,
    bucket_versioning_enabled,
)

KEY = "arn:aws:kms:us-east-1:123456789012:key/mrk-1"


def bucket(name="weights"):
    return policy_resource("aws:s3/bucket:Bucket", name, {"bucket": name})


def log_bucket(name="logs", tags=None, bucket_name="llm-serving-test-s3-logs-us-east-1-0f1e"):
    """An access-log bucket by the program's contract: tagged llm-serving/data=access-logs, named -s3-logs-."""
    tags = {"llm-serving/data": "access-logs"} if tags is None else tags
    return policy_resource("aws:s3/bucket:Bucket", name, {"bucket": bucket_name, "tags": tags})


def config(type_token, target, props, name="cfg", prop="bucket"):
    return policy_resource(
        type_token,
        f"{target.name}-{name}",
        {prop: f"{target.name}-id", **props},
        dependencies=[target],
        property_dependencies={prop: [target]},
    )


def sse(target, algorithm="aws:kms", key=KEY):
    default = {"sseAlgorithm": algorithm, **({"kmsMasterKeyId": key} if key else {})}
    return config(
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        target,
        {"rules": [{"applyServerSideEncryptionByDefault": default, "bucketKeyEnabled": True}]},
        "sse",
    )


def logging(source, destination):
    return policy_resource(
        "aws:s3/bucketLogging:BucketLogging",
        f"{source.name}-logging",
        {"bucket": "x", "targetBucket": "y"},
        dependencies=[source, destination],
        property_dependencies={"bucket": [source], "targetBucket": [destination]},
    )


def versioning(target, status="Enabled"):
    return config(
        "aws:s3/bucketVersioning:BucketVersioning", target, {"versioningConfiguration": {"status": status}}, "v"
    )


def block(target, **off):
    settings = {s: True for s in bucket_public_access_blocked.SETTINGS}
    settings.update(off)
    return config("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", target, settings, "pab")


TLS = {
    "Effect": "Deny",
    "Principal": "*",
    "Action": "s3:*",
    "Resource": ["arn", "arn/*"],
    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
}


def bucket_policy(target, *statements):
    document = json.dumps({"Version": "2012-10-17", "Statement": list(statements)})
    return config("aws:s3/bucketPolicy:BucketPolicy", target, {"policy": document}, "policy")


# --- CMK ---------------------------------------------------------------------------------------------

CMK = bucket_encrypted_with_cmk.policy


def test_cmk_compliant_and_log_bucket_may_use_sse_s3():
    weights, logs = bucket(), log_bucket()
    resources = [weights, logs, sse(weights), sse(logs, "AES256", None), logging(weights, logs)]
    assert stack_violations(CMK, resources) == []


def test_cmk_missing_encryption_configuration():
    weights = bucket()
    assert stack_violations(CMK, [weights]) == [
        ("bucket 'weights' has no default encryption configuration.", weights.urn)
    ]


def test_cmk_sse_s3_on_a_data_bucket():
    weights = bucket()
    assert stack_violations(CMK, [weights, sse(weights, "AES256", None)]) == [
        ("bucket 'weights' encrypts with AES256, not a KMS key.", weights.urn)
    ]


def test_cmk_aws_managed_key():
    weights = bucket()
    for key in (None, "alias/aws/s3"):
        assert stack_violations(CMK, [weights, sse(weights, key=key)]) == [
            ("bucket 'weights' uses the AWS-managed S3 key; name a customer-managed key.", weights.urn)
        ]


def test_cmk_log_bucket_still_needs_some_encryption():
    weights, logs = bucket(), log_bucket()
    assert stack_violations(CMK, [weights, logs, sse(weights), logging(weights, logs)]) == [
        ("bucket 'logs' has no default encryption configuration.", logs.urn)
    ]


def test_cmk_evasion_an_extra_logging_into_the_weights_bucket_does_not_exempt_it():
    # The attack: point one more BucketLogging at the weights bucket, then drop it to AES256.
    weights, logs, other = bucket(), log_bucket(), bucket("other")
    resources = [
        weights,
        logs,
        other,
        sse(weights, "AES256", None),
        sse(logs, "AES256", None),
        sse(other),
        logging(weights, logs),
        logging(other, weights),
    ]
    assert stack_violations(CMK, resources) == [("bucket 'weights' encrypts with AES256, not a KMS key.", weights.urn)]


def test_cmk_a_bucket_tagged_as_logs_without_the_name_gets_no_exemption():
    weights = log_bucket("weights", bucket_name="llm-serving-test-weights-us-east-1-0f1e")
    assert stack_violations(CMK, [weights, sse(weights, "AES256", None)]) == [
        ("bucket 'weights' encrypts with AES256, not a KMS key.", weights.urn)
    ]


def test_cmk_not_applicable_without_buckets():
    assert stack_violations(CMK, [policy_resource("aws:kms/key:Key", "k", {})]) == []


# --- versioning ----------------------------------------------------------------------------------------

VERSIONING = bucket_versioning_enabled.policy


def test_versioning_compliant_and_log_bucket_exempt():
    weights, logs = bucket(), log_bucket()
    assert stack_violations(VERSIONING, [weights, logs, versioning(weights), logging(weights, logs)]) == []


def test_versioning_missing():
    weights = bucket()
    assert stack_violations(VERSIONING, [weights]) == [
        ("bucket 'weights' has no versioning configuration.", weights.urn)
    ]


def test_versioning_suspended():
    weights = bucket()
    assert stack_violations(VERSIONING, [weights, versioning(weights, "Suspended")]) == [
        ("bucket 'weights' versioning is Suspended, not Enabled.", weights.urn)
    ]


def test_versioning_of_another_bucket_does_not_count():
    weights, other = bucket(), bucket("other")
    assert stack_violations(VERSIONING, [weights, other, versioning(other)]) == [
        ("bucket 'weights' has no versioning configuration.", weights.urn)
    ]


# --- public access -------------------------------------------------------------------------------------

PUBLIC = bucket_public_access_blocked.policy


def test_public_access_compliant():
    weights = bucket()
    assert stack_violations(PUBLIC, [weights, block(weights)]) == []


def test_public_access_block_missing():
    weights = bucket()
    assert stack_violations(PUBLIC, [weights]) == [("bucket 'weights' has no public access block.", weights.urn)]


def test_public_access_block_partly_off():
    weights = bucket()
    assert stack_violations(PUBLIC, [weights, block(weights, blockPublicPolicy=False, ignorePublicAcls=None)]) == [
        ("bucket 'weights' public access block leaves off: blockPublicPolicy, ignorePublicAcls.", weights.urn)
    ]


# --- TLS only ------------------------------------------------------------------------------------------

TLS_ONLY = bucket_tls_only.policy


def test_tls_compliant():
    weights = bucket()
    assert stack_violations(TLS_ONLY, [weights, bucket_policy(weights, TLS)]) == []


def test_tls_no_bucket_policy():
    weights = bucket()
    assert stack_violations(TLS_ONLY, [weights]) == [
        ("bucket 'weights' has no bucket policy, so plain HTTP is allowed.", weights.urn)
    ]


def test_tls_policy_without_the_deny():
    weights = bucket()
    allow = {**TLS, "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}}
    for statement in (allow, {**TLS, "Action": "s3:GetObject"}, {**TLS, "Condition": {}}):
        assert stack_violations(TLS_ONLY, [weights, bucket_policy(weights, statement)]) == [
            ("bucket 'weights' policy does not deny s3:* when aws:SecureTransport is false.", weights.urn)
        ]


# --- access logging ------------------------------------------------------------------------------------

LOGGED = bucket_access_logging_enabled.policy


def test_logging_compliant_and_the_log_bucket_is_exempt():
    weights, logs = bucket(), log_bucket()
    assert stack_violations(LOGGED, [weights, logs, logging(weights, logs)]) == []


def test_logging_missing():
    weights = bucket()
    assert stack_violations(LOGGED, [weights]) == [("bucket 'weights' has no server access logging.", weights.urn)]


def test_logging_not_applicable_without_buckets():
    assert stack_violations(LOGGED, []) == []
