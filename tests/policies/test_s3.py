"""S3 bucket stack policies: CMK encryption, versioning, public access block, TLS-only, access logging, ACLs
disabled, replication inside the stack, and the access-log bucket contract."""

import json

from conftest import policy_resource, provider, stack_violations

from policies.aws.s3 import (
    access_log_bucket_contract,
    bucket_access_logging_enabled,
    bucket_acls_disabled,
    bucket_encrypted_with_cmk,
    bucket_public_access_blocked,
    bucket_tls_only,
    bucket_versioning_enabled,
    replication_stays_in_stack,
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


# --- ACLs disabled -------------------------------------------------------------------------------------

ACLS = bucket_acls_disabled.policy


def ownership(target, value="BucketOwnerEnforced"):
    rule = {"objectOwnership": value} if value else {}
    return config("aws:s3/bucketOwnershipControls:BucketOwnershipControls", target, {"rule": rule}, "ownership")


def test_acls_disabled_compliant():
    weights, logs = bucket(), log_bucket()
    assert stack_violations(ACLS, [weights, logs, ownership(weights), ownership(logs)]) == []


def test_acls_no_ownership_controls():
    weights = bucket()
    assert stack_violations(ACLS, [weights]) == [
        (
            "bucket 'weights' has no ownership controls: ACLs stay enabled (objectOwnership must be "
            "BucketOwnerEnforced).",
            weights.urn,
        )
    ]


def test_acls_the_ownership_controls_of_another_bucket_do_not_count():
    weights, logs = bucket(), log_bucket()
    assert stack_violations(ACLS, [weights, logs, ownership(logs)]) == [
        (
            "bucket 'weights' has no ownership controls: ACLs stay enabled (objectOwnership must be "
            "BucketOwnerEnforced).",
            weights.urn,
        )
    ]


def test_acls_re_enabled_by_ownership_preferred():
    weights = bucket()
    controls = ownership(weights, "BucketOwnerPreferred")
    assert stack_violations(ACLS, [weights, controls]) == [
        (
            "ownership controls 'weights-ownership' of bucket 'weights' set objectOwnership to BucketOwnerPreferred: "
            "ACLs are enabled (must be BucketOwnerEnforced).",
            controls.urn,
        )
    ]


def test_acls_ownership_rule_without_a_value():
    weights = bucket()
    controls = ownership(weights, None)
    assert stack_violations(ACLS, [weights, controls]) == [
        (
            "ownership controls 'weights-ownership' of bucket 'weights' set objectOwnership to unset: ACLs are "
            "enabled (must be BucketOwnerEnforced).",
            controls.urn,
        )
    ]


def test_acls_a_bucket_acl_resource_is_a_violation():
    weights = bucket()
    for type_token in ("aws:s3/bucketAclV2:BucketAclV2", "aws:s3/bucketAcl:BucketAcl"):
        acl = config(type_token, weights, {"acl": "public-read"}, "acl")
        assert stack_violations(ACLS, [weights, ownership(weights), acl]) == [
            ("bucket ACL 'weights-acl' grants access by ACL; access is by bucket and IAM policy only.", acl.urn)
        ]


def test_acls_a_canned_acl_on_the_bucket():
    weights = policy_resource("aws:s3/bucket:Bucket", "weights", {"bucket": "weights", "acl": "public-read"})
    assert stack_violations(ACLS, [weights, ownership(weights)]) == [
        ("bucket 'weights' sets an ACL (acl); access is by policy only.", weights.urn)
    ]


def test_acls_not_applicable_without_buckets():
    assert stack_violations(ACLS, [policy_resource("aws:kms/key:Key", "k", {})]) == []


# --- replication stays in the stack --------------------------------------------------------------------

REPLICATION = replication_stays_in_stack.policy
REPLICATION_CONFIG = {"allowedRegions": ["us-east-1", "eu-west-1"], "accountId": "123456789012"}
EU_KEY = "arn:aws:kms:eu-west-1:123456789012:key/mrk-eu"


def regional_bucket(name, region):
    return policy_resource(
        "aws:s3/bucket:Bucket",
        name,
        {"bucket": f"llm-serving-test-{name}"},
        provider_resource=provider(f"aws-{region}", region),
    )


def replication(source, target, key_resource, **rule_changes):
    rule = {
        "id": "models-to-eu",
        "status": "Enabled",
        "filter": {"prefix": "models/"},
        "sourceSelectionCriteria": {"sseKmsEncryptedObjects": {"status": "Enabled"}},
        "destination": {
            "bucket": f"arn:aws:s3:::llm-serving-test-{target.name}",
            "encryptionConfiguration": {"replicaKmsKeyId": EU_KEY},
        },
        **rule_changes,
    }
    rule = {k: v for k, v in rule.items() if v is not None}
    rule_deps = [target] + ([key_resource] if key_resource else [])
    return policy_resource(
        "aws:s3/bucketReplicationConfig:BucketReplicationConfig",
        "replication",
        {"bucket": f"llm-serving-test-{source.name}", "role": "arn:aws:iam::123456789012:role/r", "rules": [rule]},
        dependencies=[source, *rule_deps],
        property_dependencies={"bucket": [source], "rules": rule_deps},
    )


def replicated(**rule_changes):
    source, target = regional_bucket("us", "us-east-1"), regional_bucket("eu", "eu-west-1")
    key = policy_resource("aws:kms/replicaKey:ReplicaKey", "eu-key", {})
    return [source, target, key, replication(source, target, key, **rule_changes)]


def replication_violations(resources, config=REPLICATION_CONFIG):
    return stack_violations(REPLICATION, resources, config)


def destination(**changes):
    value = {
        "bucket": "arn:aws:s3:::llm-serving-test-eu",
        "encryptionConfiguration": {"replicaKmsKeyId": EU_KEY},
        **changes,
    }
    return {k: v for k, v in value.items() if v is not None}


def test_replication_between_stack_buckets_complies():
    assert replication_violations(replicated()) == []
    assert replication_violations(replicated(destination=destination(account="123456789012"))) == []


def test_replication_to_a_bucket_outside_the_stack():
    resources = replicated(destination=destination(bucket="arn:aws:s3:::someone-elses-bucket"))
    assert replication_violations(resources) == [
        (
            "replication 'replication' rule 'models-to-eu' replicates to arn:aws:s3:::someone-elses-bucket, not a "
            "bucket of this stack.",
            resources[-1].urn,
        )
    ]


def test_replication_to_a_stack_bucket_in_a_region_not_allowed():
    resources = replicated()
    config = {**REPLICATION_CONFIG, "allowedRegions": ["us-east-1"]}
    assert replication_violations(resources, config) == [
        (
            "replication 'replication' rule 'models-to-eu' replicates to bucket 'eu' in eu-west-1, not an allowed "
            "region (us-east-1).",
            resources[-1].urn,
        )
    ]


def test_replication_to_another_account():
    resources = replicated(destination=destination(account="999999999999"))
    assert replication_violations(resources) == [
        (
            "replication 'replication' rule 'models-to-eu' replicates to account 999999999999, not this stack's "
            "account.",
            resources[-1].urn,
        )
    ]


def test_replication_names_an_account_when_the_stack_pins_none():
    resources = replicated(destination=destination(account="123456789012"))
    assert replication_violations(resources, {"allowedRegions": ["us-east-1", "eu-west-1"]}) == [
        (
            "replication 'replication' rule 'models-to-eu' replicates to account 123456789012, not this stack's "
            "account.",
            resources[-1].urn,
        )
    ]


def test_replication_skips_kms_encrypted_objects():
    resources = replicated(sourceSelectionCriteria=None)
    assert replication_violations(resources) == [
        (
            "replication 'replication' rule 'models-to-eu' does not replicate KMS-encrypted objects "
            "(sseKmsEncryptedObjects not Enabled).",
            resources[-1].urn,
        )
    ]


def test_replication_without_a_replica_key():
    resources = replicated(destination=destination(encryptionConfiguration=None))
    assert replication_violations(resources) == [
        (
            "replication 'replication' rule 'models-to-eu' sets no replicaKmsKeyId: replicas are not encrypted "
            "with the stack's key.",
            resources[-1].urn,
        )
    ]


def test_replication_with_a_key_outside_the_stack():
    source, target = regional_bucket("us", "us-east-1"), regional_bucket("eu", "eu-west-1")
    config_resource = replication(source, target, None)
    assert replication_violations([source, target, config_resource]) == [
        (
            f"replication 'replication' rule 'models-to-eu' encrypts replicas with {EU_KEY}, not a KMS key of this "
            "stack.",
            config_resource.urn,
        )
    ]


def test_replication_with_a_key_in_another_region():
    other = "arn:aws:kms:us-east-1:123456789012:key/mrk-us"
    resources = replicated(destination=destination(encryptionConfiguration={"replicaKmsKeyId": other}))
    assert replication_violations(resources) == [
        (
            f"replication 'replication' rule 'models-to-eu' encrypts replicas with {other}, not the stack's key in "
            "the destination region.",
            resources[-1].urn,
        )
    ]


def test_replication_not_applicable_to_other_types():
    assert replication_violations([regional_bucket("us", "us-east-1")]) == []


# --- access-log bucket contract ------------------------------------------------------------------------

CONTRACT = access_log_bucket_contract.policy


def test_contract_compliant():
    weights, logs = bucket(), log_bucket()
    assert stack_violations(CONTRACT, [weights, logs, logging(weights, logs)]) == []


def test_contract_marked_bucket_receives_no_logs():
    logs = log_bucket()
    assert stack_violations(CONTRACT, [logs]) == [
        ("access-log bucket 'logs' receives no server access logs.", logs.urn)
    ]


def test_contract_tagged_but_not_named():
    weights = log_bucket("weights", bucket_name="llm-serving-test-weights-us-east-1-0f1e")
    assert stack_violations(CONTRACT, [weights]) == [
        (
            "bucket 'weights' is tagged llm-serving/data=access-logs but its name "
            "'llm-serving-test-weights-us-east-1-0f1e' lacks '-s3-logs-': it gets no access-log exemption.",
            weights.urn,
        )
    ]


def test_contract_named_but_not_tagged():
    logs = log_bucket(tags={"llm-serving/data": "model-weights"})
    assert stack_violations(CONTRACT, [logs]) == [
        (
            "bucket 'logs' is named as an access-log bucket but tagged llm-serving/data=model-weights: it gets no "
            "access-log exemption.",
            logs.urn,
        )
    ]


def test_contract_logs_delivered_to_an_unmarked_bucket():
    # The evasion: one more BucketLogging that points at the weights bucket.
    weights, logs, other = bucket(), log_bucket(), bucket("other")
    extra = logging(other, weights)
    assert stack_violations(CONTRACT, [weights, logs, other, logging(weights, logs), extra]) == [
        (
            "server access logging 'other-logging' delivers to 'weights', not an access-log bucket (tagged "
            "llm-serving/data=access-logs and named with '-s3-logs-').",
            extra.urn,
        )
    ]


def test_contract_logs_delivered_outside_the_stack():
    weights = bucket()
    outside = policy_resource(
        "aws:s3/bucketLogging:BucketLogging",
        "weights-logging",
        {"bucket": "x", "targetBucket": "someone-elses-bucket"},
        property_dependencies={"bucket": [weights]},
    )
    assert stack_violations(CONTRACT, [weights, outside]) == [
        (
            "server access logging 'weights-logging' delivers to a bucket outside this stack, not an access-log "
            "bucket (tagged llm-serving/data=access-logs and named with '-s3-logs-').",
            outside.urn,
        )
    ]


def test_contract_marked_bucket_replicated():
    weights, logs = bucket(), log_bucket()
    copy = config("aws:s3/bucketReplicationConfig:BucketReplicationConfig", logs, {"rules": []}, "replication")
    assert stack_violations(CONTRACT, [weights, logs, logging(weights, logs), copy]) == [
        (
            "replication 'logs-replication' copies objects to or from access-log bucket 'logs': an access-log "
            "bucket holds only logs.",
            copy.urn,
        )
    ]


def test_contract_marked_bucket_with_a_lifecycle_of_model_weights():
    weights, logs = bucket(), log_bucket()
    rules = [{"id": "weights", "status": "Enabled", "filter": {"prefix": "models/llama/"}}]
    lifecycle = config(
        "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", logs, {"rules": rules}, "lifecycle"
    )
    assert stack_violations(CONTRACT, [weights, logs, logging(weights, logs), lifecycle]) == [
        (
            "lifecycle 'logs-lifecycle' manages 'models/' objects in access-log bucket 'logs': an access-log bucket "
            "holds only logs.",
            lifecycle.urn,
        )
    ]


def test_contract_log_expiry_lifecycle_is_fine():
    weights, logs = bucket(), log_bucket()
    rules = [{"id": "expire", "status": "Enabled", "filter": {"prefix": ""}, "expiration": {"days": 30}}]
    lifecycle = config(
        "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", logs, {"rules": rules}, "lifecycle"
    )
    assert stack_violations(CONTRACT, [weights, logs, logging(weights, logs), lifecycle]) == []


def test_contract_marked_bucket_in_an_iam_policy():
    weights, logs = bucket(), log_bucket()
    document = json.dumps(
        {
            "Statement": [
                {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{logs.props['bucket']}/*"}
            ]
        }
    )
    grant = policy_resource("aws:iam/rolePolicy:RolePolicy", "reader", {"policy": document})
    assert stack_violations(CONTRACT, [weights, logs, logging(weights, logs), grant]) == [
        ("IAM policy 'reader' grants access to access-log bucket 'logs': only S3 log delivery writes there.", grant.urn)
    ]


def test_contract_not_applicable_without_buckets():
    assert stack_violations(CONTRACT, [policy_resource("aws:kms/key:Key", "k", {})]) == []
