"""WeightStore: one region's model-weight bucket (the warm/cold tiers), its access logs, and the
read-only role model servers use.

Layout (written by `llmstack weights push`): `models/<model>/<revision>/...`, then `SHA256SUMS`
and `manifest.json`. Objects are SSE-KMS with the region's weights key and an S3 Bucket Key (one
KMS call per bucket and data key instead of per object). Lifecycle: noncurrent versions move to
Glacier Instant Retrieval, revisions the config lists as archived and objects tagged
`llm-serving/tier=cold` (`llmstack weights archive`) move to Glacier Flexible Retrieval.

Access logs go to a companion bucket encrypted with SSE-S3: S3 server access logging cannot
deliver to an SSE-KMS bucket. The policy documents are pure functions for tests and review.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components.arg_checks import check_environment_name, check_region
from components.conventions import (
    ACCESS_LOG_BUCKET_MARK,
    ACCESS_LOGS_DATA,
    DATA_CLASSIFICATION_LABEL,
    DATA_TAG,
    INTERNAL,
    MODEL_WEIGHTS_DATA,
    WEIGHTS_COLD_TIER,
    WEIGHTS_PREFIX,
    WEIGHTS_TIER_TAG,
)
from components.pod_identity import trust_policy as pod_identity_trust_policy

NONCURRENT_TO_GLACIER_IR_DAYS = 30  # time to roll a re-pushed file back from Standard
ABORT_MULTIPART_DAYS = 7
LOG_PREFIX = "weights/"

_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,62}$")


def weights_bucket_name(environment: str, region: str, suffix: str) -> str:
    return f"llm-serving-{environment}-weights-{region}-{suffix}"


def log_bucket_name(environment: str, region: str, suffix: str) -> str:
    # The name half of the access-log bucket contract (components.conventions.ACCESS_LOG_BUCKET_MARK).
    return f"llm-serving-{environment}{ACCESS_LOG_BUCKET_MARK}{region}-{suffix}"


def tls_only_statement(bucket_arn: str) -> dict[str, Any]:
    return {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "s3:*",
        "Resource": [bucket_arn, f"{bucket_arn}/*"],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


def weights_bucket_policy(bucket_arn: str) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": [tls_only_statement(bucket_arn)]}


def log_bucket_policy(log_bucket_arn: str, source_bucket_arn: str, account_id: str) -> dict[str, Any]:
    """S3's logging service may write under LOG_PREFIX, for the weights bucket of this account only."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            tls_only_statement(log_bucket_arn),
            {
                "Sid": "AllowServerAccessLogDelivery",
                "Effect": "Allow",
                "Principal": {"Service": "logging.s3.amazonaws.com"},
                "Action": "s3:PutObject",
                "Resource": f"{log_bucket_arn}/{LOG_PREFIX}*",
                "Condition": {
                    "ArnLike": {"aws:SourceArn": source_bucket_arn},
                    "StringEquals": {"aws:SourceAccount": account_id},
                },
            },
        ],
    }


def model_server_policy(bucket_arn: str, kms_key_arn: str, region: str) -> dict[str, Any]:
    """Read `models/` and decrypt with the weights key through S3: nothing else."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ReadModelObjects",
                "Effect": "Allow",
                "Action": "s3:GetObject",
                "Resource": f"{bucket_arn}/{WEIGHTS_PREFIX}/*",
            },
            {
                "Sid": "ListModelPrefix",
                "Effect": "Allow",
                "Action": "s3:ListBucket",
                "Resource": bucket_arn,
                "Condition": {"StringLike": {"s3:prefix": f"{WEIGHTS_PREFIX}/*"}},
            },
            {
                "Sid": "DecryptModelObjects",
                "Effect": "Allow",
                "Action": "kms:Decrypt",
                "Resource": kms_key_arn,
                "Condition": {"StringEquals": {"kms:ViaService": f"s3.{region}.amazonaws.com"}},
            },
        ],
    }


def lifecycle_rules(archived: tuple[tuple[str, str], ...]) -> list[aws.s3.BucketLifecycleConfigurationRuleArgs]:
    whole_bucket = aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix="")
    rules = [
        aws.s3.BucketLifecycleConfigurationRuleArgs(
            id="noncurrent-to-glacier-ir",
            status="Enabled",
            filter=whole_bucket,
            noncurrent_version_transitions=[
                aws.s3.BucketLifecycleConfigurationRuleNoncurrentVersionTransitionArgs(
                    noncurrent_days=NONCURRENT_TO_GLACIER_IR_DAYS, storage_class="GLACIER_IR"
                )
            ],
        ),
        aws.s3.BucketLifecycleConfigurationRuleArgs(
            id="abort-incomplete-multipart",
            status="Enabled",
            filter=whole_bucket,
            abort_incomplete_multipart_upload=aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
                days_after_initiation=ABORT_MULTIPART_DAYS
            ),
        ),
        aws.s3.BucketLifecycleConfigurationRuleArgs(
            id="cold-tagged-to-glacier",
            status="Enabled",
            filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(
                tag=aws.s3.BucketLifecycleConfigurationRuleFilterTagArgs(key=WEIGHTS_TIER_TAG, value=WEIGHTS_COLD_TIER)
            ),
            transitions=[aws.s3.BucketLifecycleConfigurationRuleTransitionArgs(days=0, storage_class="GLACIER")],
        ),
    ]
    for model, revision in archived:
        rules.append(
            aws.s3.BucketLifecycleConfigurationRuleArgs(
                id=f"archived-{model}-{revision}",
                status="Enabled",
                filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(
                    prefix=f"{WEIGHTS_PREFIX}/{model}/{revision}/"
                ),
                transitions=[aws.s3.BucketLifecycleConfigurationRuleTransitionArgs(days=0, storage_class="GLACIER")],
            )
        )
    return rules


@dataclass(frozen=True)
class WeightStoreArgs:
    environment: str
    region: str
    """Region of the provider in `opts`; part of the bucket names and the KMS ViaService condition."""
    suffix: pulumi.Input[str]
    """Random hex shared by all regions (`random.RandomId`): bucket names are global."""
    kms_key_arn: pulumi.Input[str]
    """The region's weights key (`Encryption.weights_key_arn`)."""
    account_id: pulumi.Input[str]
    cluster_arn: pulumi.Input[str]
    """The EKS cluster whose model servers read the weights: the role trusts its pods only."""
    namespace: str
    """Namespace of the model servers (`conventions.serving_namespace`)."""
    service_accounts: tuple[str, ...]
    """Service accounts of the model servers: only pods running as one of them get the role."""
    archived_revisions: tuple[tuple[str, str], ...] = ()
    """(model, revision) pairs moved to the cold tier by lifecycle."""
    log_retention_days: int = 365
    """Expiry of access-log objects."""
    protect: bool = False
    """Protect both buckets from deletion (prod)."""

    def __post_init__(self) -> None:
        check_environment_name(self.environment)
        check_region(self.region)
        if not self.service_accounts:
            raise ValueError("service_accounts: at least one model server's service account is required")
        if self.log_retention_days < 1:
            raise ValueError(f"log_retention_days: must be >= 1 (got {self.log_retention_days})")
        for model, revision in self.archived_revisions:
            if not (_NAME.fullmatch(model) and _NAME.fullmatch(revision)):
                raise ValueError(f"archived_revisions: ({model!r}, {revision!r}) is not a model name and revision")


class WeightStore(pulumi.ComponentResource):
    """The weights bucket, its access-log bucket and the model servers' read-only role."""

    bucket_name: pulumi.Output[str]
    bucket_arn: pulumi.Output[str]
    kms_key_arn: pulumi.Output[str]
    model_server_role_arn: pulumi.Output[str]
    versioning: aws.s3.BucketVersioning
    """Replication must wait for versioning on both ends."""

    def __init__(self, name: str, args: WeightStoreArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("llm-serving:storage:WeightStore", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        stateful = pulumi.ResourceOptions(parent=self, protect=args.protect)
        suffix = pulumi.Output.from_input(args.suffix)

        log_bucket = aws.s3.Bucket(
            f"{name}-logs",
            bucket=suffix.apply(lambda s: log_bucket_name(args.environment, args.region, s)),
            force_destroy=False,
            tags=self._tags(f"{name}-logs", ACCESS_LOGS_DATA),
            opts=stateful,
        )
        # Unversioned: logs are append-only and expire; versions would outlive the expiry.
        log_access_block = self._harden(f"{name}-logs", log_bucket, "AES256", None)
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-logs-lifecycle",
            bucket=log_bucket.id,
            rules=[
                aws.s3.BucketLifecycleConfigurationRuleArgs(
                    id="expire-access-logs",
                    status="Enabled",
                    filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
                    expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(days=args.log_retention_days),
                    abort_incomplete_multipart_upload=aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
                        days_after_initiation=ABORT_MULTIPART_DAYS
                    ),
                )
            ],
            opts=child,
        )

        bucket = aws.s3.Bucket(
            f"{name}-bucket",
            bucket=suffix.apply(lambda s: weights_bucket_name(args.environment, args.region, s)),
            force_destroy=False,
            tags=self._tags(f"{name}-bucket", MODEL_WEIGHTS_DATA),
            opts=stateful,
        )
        self._harden(f"{name}-bucket", bucket, "aws:kms", args.kms_key_arn)
        self.versioning = aws.s3.BucketVersioning(
            f"{name}-bucket-versioning",
            bucket=bucket.id,
            versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(status="Enabled"),
            opts=child,
        )
        aws.s3.BucketLifecycleConfiguration(
            f"{name}-lifecycle",
            bucket=bucket.id,
            rules=lifecycle_rules(args.archived_revisions),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.versioning]),
        )
        log_policy = aws.s3.BucketPolicy(
            f"{name}-logs-policy",
            bucket=log_bucket.id,
            policy=pulumi.Output.all(log_bucket.arn, bucket.arn, args.account_id).apply(
                lambda v: json.dumps(log_bucket_policy(v[0], v[1], v[2]))
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[log_access_block]),
        )
        aws.s3.BucketLogging(
            f"{name}-logging",
            bucket=bucket.id,
            target_bucket=log_bucket.id,
            target_prefix=LOG_PREFIX,
            target_object_key_format=aws.s3.BucketLoggingTargetObjectKeyFormatArgs(
                partitioned_prefix=aws.s3.BucketLoggingTargetObjectKeyFormatPartitionedPrefixArgs(
                    partition_date_source="EventTime"
                )
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[log_policy]),
        )

        role = aws.iam.Role(
            f"{name}-model-server",
            description=f"llm-serving {args.environment} model servers in {args.region}: read model weights",
            assume_role_policy=pulumi.Output.from_input(args.cluster_arn).apply(
                lambda arn: json.dumps(pod_identity_trust_policy(arn, args.namespace, args.service_accounts))
            ),
            max_session_duration=3600,
            tags=self._tags(f"{name}-model-server", MODEL_WEIGHTS_DATA),
            opts=child,
        )
        aws.iam.RolePolicy(
            f"{name}-model-server-read",
            role=role.id,
            policy=pulumi.Output.all(bucket.arn, args.kms_key_arn).apply(
                lambda v: json.dumps(model_server_policy(v[0], v[1], args.region))
            ),
            opts=child,
        )

        self.bucket_name = bucket.bucket
        self.bucket_arn = bucket.arn
        self.kms_key_arn = pulumi.Output.from_input(args.kms_key_arn)
        self.model_server_role_arn = role.arn
        self.register_outputs(
            {
                "bucket_name": self.bucket_name,
                "bucket_arn": self.bucket_arn,
                "log_bucket_name": log_bucket.bucket,
                "kms_key_arn": self.kms_key_arn,
                "model_server_role_arn": self.model_server_role_arn,
            }
        )

    def _harden(
        self, name: str, bucket: aws.s3.Bucket, algorithm: str, key: pulumi.Input[str] | None
    ) -> aws.s3.BucketPublicAccessBlock:
        """Default encryption, all four public access blocks, bucket-owner-only objects, TLS-only (KMS buckets)."""
        child = pulumi.ResourceOptions(parent=self)
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{name}-sse",
            bucket=bucket.id,
            rules=[
                aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                    apply_server_side_encryption_by_default=aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                        sse_algorithm=algorithm, kms_master_key_id=key
                    ),
                    bucket_key_enabled=key is not None,
                )
            ],
            opts=child,
        )
        access_block = aws.s3.BucketPublicAccessBlock(
            f"{name}-public-access-block",
            bucket=bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=child,
        )
        aws.s3.BucketOwnershipControls(
            f"{name}-ownership",
            bucket=bucket.id,
            rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"),
            opts=child,
        )
        if algorithm == "aws:kms":
            # The log bucket's policy (with its own TLS-only statement) is set by the caller.
            aws.s3.BucketPolicy(
                f"{name}-policy",
                bucket=bucket.id,
                policy=bucket.arn.apply(lambda arn: json.dumps(weights_bucket_policy(arn))),
                opts=pulumi.ResourceOptions(parent=self, depends_on=[access_block]),
            )
        return access_block

    @staticmethod
    def _tags(name: str, data: str) -> dict[str, str]:
        # No sensitive model's weights ever enter a bucket (data-residency-sensitive-models-on-prem).
        return {"Name": name, "component": "weights", DATA_TAG: data, DATA_CLASSIFICATION_LABEL: INTERNAL}
