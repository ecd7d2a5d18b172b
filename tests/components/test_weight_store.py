"""WeightStore and WeightReplication: bucket hardening, lifecycle, least-privilege IAM documents."""

from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws
import pytest
from serving_harness import by_type, record

from components.weight_replication import (
    ReplicaBucket,
    WeightReplication,
    WeightReplicationArgs,
    replication_policy,
)
from components.weights import WeightStore, WeightStoreArgs, model_server_policy

KEY = "arn:aws:kms:us-east-1:123456789012:key/mrk-1"
BUCKET = "arn:aws:s3:::llm-serving-prod-weights-us-east-1-abcd"


def store_args(**changes) -> WeightStoreArgs:
    values = {
        "environment": "prod",
        "region": "us-east-1",
        "suffix": "abcd",
        "kms_key_arn": KEY,
        "account_id": "123456789012",
        "cluster_arn": "arn:aws:eks:us-east-1:123456789012:cluster/llm-serving-prod",
        "namespace": "serving",
        "service_accounts": ("llama", "mistral"),
        "archived_revisions": (("llama", "a" * 40),),
        "protect": True,
    }
    return WeightStoreArgs(**{**values, **changes})


def build_store(args: WeightStoreArgs):
    def build():
        provider = aws.Provider("aws-us-east-1", region="us-east-1")
        WeightStore("w", args, opts=pulumi.ResourceOptions(providers={"aws": provider}))

    return record(build)


def test_buckets_are_named_globally_unique_and_protected():
    buckets = {b.name: b for b in by_type(build_store(store_args()), "aws:s3/bucket:Bucket")}
    assert buckets["w-bucket"].inputs["bucket"] == "llm-serving-prod-weights-us-east-1-abcd"
    assert buckets["w-logs"].inputs["bucket"] == "llm-serving-prod-s3-logs-us-east-1-abcd"
    assert all(b.protect for b in buckets.values())
    assert not any(b.protect for b in by_type(build_store(store_args(protect=False)), "aws:s3/bucket:Bucket"))


def test_weights_bucket_uses_the_kms_key_with_a_bucket_key_and_logs_use_sse_s3():
    sse = {
        r.name: r.inputs["rules"][0]
        for r in by_type(
            build_store(store_args()),
            "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        )
    }
    assert sse["w-bucket-sse"]["applyServerSideEncryptionByDefault"] == {
        "sseAlgorithm": "aws:kms",
        "kmsMasterKeyId": KEY,
    }
    assert sse["w-bucket-sse"]["bucketKeyEnabled"] is True
    assert sse["w-logs-sse"]["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "AES256"


def test_lifecycle_tiers_noncurrent_archived_and_cold_tagged_objects():
    (lifecycle,) = [r for r in build_store(store_args()) if r.name == "w-lifecycle"]
    rules = {rule["id"]: rule for rule in lifecycle.inputs["rules"]}
    assert rules["noncurrent-to-glacier-ir"]["noncurrentVersionTransitions"][0]["storageClass"] == "GLACIER_IR"
    assert rules["abort-incomplete-multipart"]["abortIncompleteMultipartUpload"] == {"daysAfterInitiation": 7}
    assert rules["cold-tagged-to-glacier"]["filter"] == {"tag": {"key": "llm-serving/tier", "value": "cold"}}
    archived = rules[f"archived-llama-{'a' * 40}"]
    assert archived["filter"] == {"prefix": f"models/llama/{'a' * 40}/"}
    assert archived["transitions"] == [{"days": 0, "storageClass": "GLACIER"}]


def test_access_logs_go_to_the_log_bucket_which_only_s3_logging_may_write():
    resources = build_store(store_args())
    (logging,) = by_type(resources, "aws:s3/bucketLogging:BucketLogging")
    assert (
        logging.inputs["targetBucket"] == "llm-serving-prod-s3-logs-us-east-1-abcd"
        and logging.inputs["targetPrefix"] == "weights/"
    )
    policies = {p.name: json.loads(p.inputs["policy"]) for p in by_type(resources, "aws:s3/bucketPolicy:BucketPolicy")}
    delivery = policies["w-logs-policy"]["Statement"][1]
    assert delivery["Principal"] == {"Service": "logging.s3.amazonaws.com"}
    assert delivery["Condition"]["StringEquals"] == {"aws:SourceAccount": "123456789012"}
    for document in policies.values():
        assert document["Statement"][0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_model_server_role_reads_models_only():
    policy = model_server_policy(BUCKET, KEY, "us-east-1")
    by_sid = {s["Sid"]: s for s in policy["Statement"]}
    assert by_sid["ReadModelObjects"]["Resource"] == f"{BUCKET}/models/*"
    assert by_sid["ListModelPrefix"]["Condition"] == {"StringLike": {"s3:prefix": "models/*"}}
    assert by_sid["DecryptModelObjects"] == {
        "Sid": "DecryptModelObjects",
        "Effect": "Allow",
        "Action": "kms:Decrypt",
        "Resource": KEY,
        "Condition": {"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}},
    }
    (role,) = by_type(build_store(store_args()), "aws:iam/role:Role")
    (trust,) = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
    assert trust["Principal"] == {"Service": "pods.eks.amazonaws.com"}
    assert trust["Action"] == ["sts:AssumeRole", "sts:TagSession"]
    # Pods of this one cluster running as a model server, not any pod of any cluster in the account.
    assert trust["Condition"] == {
        "StringEquals": {
            "aws:SourceAccount": "123456789012",
            "aws:RequestTag/kubernetes-namespace": "serving",
            "aws:RequestTag/kubernetes-service-account": ["llama", "mistral"],
        },
        "ArnEquals": {"aws:SourceArn": "arn:aws:eks:us-east-1:123456789012:cluster/llm-serving-prod"},
    }


def test_the_model_server_role_needs_a_service_account():
    with pytest.raises(ValueError, match="service_accounts: at least one model server's service account"):
        store_args(service_accounts=())


def test_replication_policy_scopes_every_statement():
    dest = ("eu-west-1", "arn:aws:s3:::dest", "arn:aws:kms:eu-west-1:123456789012:key/mrk-1", ("m1", "m2"))
    policy = replication_policy("us-east-1", BUCKET, KEY, [dest])
    for statement in policy["Statement"]:
        assert "*" not in json.dumps(statement["Resource"]).replace("/models/*", "").replace("/*", "")
    # Replicas may be written only under the models the destination serves.
    (write,) = [s for s in policy["Statement"] if s["Sid"] == "WriteReplicas"]
    assert write["Resource"] == ["arn:aws:s3:::dest/models/m1/*", "arn:aws:s3:::dest/models/m2/*"]
    encrypt = policy["Statement"][-1]
    assert encrypt["Sid"] == "EncryptReplicasEuWest1" and encrypt["Resource"] == dest[2]
    assert encrypt["Condition"]["StringEquals"] == {"kms:ViaService": "s3.eu-west-1.amazonaws.com"}


def test_replication_rule_per_destination_and_model_with_the_replica_key():
    def build():
        provider = aws.Provider("aws-us-east-1", region="us-east-1")
        WeightReplication(
            "r",
            WeightReplicationArgs(
                environment="prod",
                source_region="us-east-1",
                source_bucket_name="src",
                source_bucket_arn="arn:aws:s3:::src",
                source_kms_key_arn=KEY,
                account_id="123456789012",
                destinations=(
                    ReplicaBucket("eu-west-1", "arn:aws:s3:::dst", "arn:aws:kms:eu-west-1:1:key/mrk-1", ("m1", "m2")),
                ),
            ),
            opts=pulumi.ResourceOptions(providers={"aws": provider}),
        )

    (config,) = by_type(record(build), "aws:s3/bucketReplicationConfig:BucketReplicationConfig")
    rules = config.inputs["rules"]
    assert [(r["id"], r["priority"], r["filter"]) for r in rules] == [
        ("m1-to-eu-west-1", 0, {"prefix": "models/m1/"}),
        ("m2-to-eu-west-1", 1, {"prefix": "models/m2/"}),
    ]
    rule = rules[0]
    assert rule["destination"]["encryptionConfiguration"] == {"replicaKmsKeyId": "arn:aws:kms:eu-west-1:1:key/mrk-1"}
    assert rule["sourceSelectionCriteria"] == {"sseKmsEncryptedObjects": {"status": "Enabled"}}


def test_bad_args_name_the_field():
    with pytest.raises(ValueError, match=r"^region: must be an AWS region name"):
        store_args(region="nowhere")
    with pytest.raises(ValueError, match=r"^archived_revisions: \('Bad', 'r'\) is not a model name and revision$"):
        store_args(archived_revisions=(("Bad", "r"),))
    with pytest.raises(ValueError, match=r"^models: the eu-west-1 replica needs at least one model it serves$"):
        ReplicaBucket("eu-west-1", "arn:aws:s3:::dst", KEY, ())
    with pytest.raises(ValueError, match=r"^destinations: at least one replica bucket is required$"):
        WeightReplicationArgs("prod", "us-east-1", "b", "arn", KEY, "1", ())


def test_weight_store_keeps_the_access_log_contract_and_passes_the_s3_policies():
    from conftest import policy_resource, stack_violations

    from policies.aws.s3 import (
        access_log_bucket_contract,
        bucket_access_logging_enabled,
        bucket_acls_disabled,
        bucket_encrypted_with_cmk,
        bucket_versioning_enabled,
    )
    from policies.support import access_log_buckets

    by_urn = {}
    for resource in build_store(store_args()):
        deps = {k: [by_urn[u] for u in urns if u in by_urn] for k, urns in resource.property_dependencies.items()}
        by_urn[resource.urn] = policy_resource(
            resource.type, resource.name, resource.inputs, property_dependencies=deps
        )
    resources = list(by_urn.values())
    # The log bucket, and only it, is marked as the access-log bucket.
    assert [r.name for r in resources if r.urn in access_log_buckets(resources)] == ["w-logs"]
    for policy in (
        access_log_bucket_contract,
        bucket_access_logging_enabled,
        bucket_acls_disabled,
        bucket_encrypted_with_cmk,
        bucket_versioning_enabled,
    ):
        assert stack_violations(policy.policy, resources) == [], policy.policy.name
