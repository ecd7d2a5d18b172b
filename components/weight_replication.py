"""WeightReplication: the primary weight bucket replicates each model's weights (`models/<model>/`)
to the secondary regions that serve it, and nowhere else, re-encrypted with that region's replica of
the weights key, so each region reads weights locally and no region holds a model it does not serve
(data residency: a model restricted to some regions never reaches the others). Declared after both
ends exist (versioning on), under the primary region's provider.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components.conventions import WEIGHTS_PREFIX
from components.depends import inherited_depends_on


@dataclass(frozen=True)
class ReplicaBucket:
    region: str
    bucket_arn: pulumi.Input[str]
    kms_key_arn: pulumi.Input[str]
    """The destination region's weights key (a replica of the primary multi-Region key)."""
    models: tuple[str, ...]
    """The models the region serves: only their prefixes replicate there."""

    def __post_init__(self) -> None:
        if not self.models:
            raise ValueError(f"models: the {self.region} replica needs at least one model it serves")


@dataclass(frozen=True)
class WeightReplicationArgs:
    environment: str
    source_region: str
    source_bucket_name: pulumi.Input[str]
    source_bucket_arn: pulumi.Input[str]
    source_kms_key_arn: pulumi.Input[str]
    account_id: pulumi.Input[str]
    destinations: tuple[ReplicaBucket, ...]

    def __post_init__(self) -> None:
        if not self.destinations:
            raise ValueError("destinations: at least one replica bucket is required")
        regions = [d.region for d in self.destinations]
        if self.source_region in regions or len(set(regions)) != len(regions):
            raise ValueError(f"destinations: regions must be distinct and not {self.source_region} (got {regions})")


def replication_trust_policy(account_id: str, source_bucket_arn: str) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AllowS3ReplicationOfTheWeightsBucket",
                "Effect": "Allow",
                "Principal": {"Service": "s3.amazonaws.com"},
                "Action": "sts:AssumeRole",
                "Condition": {
                    "StringEquals": {"aws:SourceAccount": account_id},
                    "ArnLike": {"aws:SourceArn": source_bucket_arn},
                },
            }
        ],
    }


def _kms_statement(sid: str, actions: list[str], key_arn: str, region: str, bucket_arn: str) -> dict[str, Any]:
    # With an S3 Bucket Key the encryption context is the bucket ARN; without, the object ARN.
    return {
        "Sid": sid,
        "Effect": "Allow",
        "Action": actions,
        "Resource": key_arn,
        "Condition": {
            "StringEquals": {"kms:ViaService": f"s3.{region}.amazonaws.com"},
            "StringLike": {"kms:EncryptionContext:aws:s3:arn": [bucket_arn, f"{bucket_arn}/{WEIGHTS_PREFIX}/*"]},
        },
    }


def replication_policy(
    source_region: str,
    source_bucket_arn: str,
    source_kms_key_arn: str,
    destinations: list[tuple[str, str, str, tuple[str, ...]]],
) -> dict[str, Any]:
    """Least privilege for S3 replication of SSE-KMS objects; destinations are (region, bucket ARN,
    key ARN, models): replicas may be written only under the prefixes of the models a region serves."""
    statements: list[dict[str, Any]] = [
        {
            "Sid": "ReadReplicationConfiguration",
            "Effect": "Allow",
            "Action": ["s3:GetReplicationConfiguration", "s3:ListBucket"],
            "Resource": source_bucket_arn,
        },
        {
            "Sid": "ReadSourceVersions",
            "Effect": "Allow",
            "Action": ["s3:GetObjectVersionForReplication", "s3:GetObjectVersionAcl", "s3:GetObjectVersionTagging"],
            "Resource": f"{source_bucket_arn}/{WEIGHTS_PREFIX}/*",
        },
        {
            "Sid": "WriteReplicas",
            "Effect": "Allow",
            "Action": ["s3:ReplicateObject", "s3:ReplicateDelete", "s3:ReplicateTags"],
            "Resource": [
                f"{bucket}/{WEIGHTS_PREFIX}/{model}/*" for _, bucket, _, models in destinations for model in models
            ],
        },
        _kms_statement("DecryptSource", ["kms:Decrypt"], source_kms_key_arn, source_region, source_bucket_arn),
    ]
    for region, bucket, key, _models in destinations:
        sid = "EncryptReplicas" + "".join(part.capitalize() for part in region.split("-"))
        statements.append(_kms_statement(sid, ["kms:Encrypt", "kms:GenerateDataKey"], key, region, bucket))
    return {"Version": "2012-10-17", "Statement": statements}


class WeightReplication(pulumi.ComponentResource):
    """A replication role and one replication rule per destination region."""

    role_arn: pulumi.Output[str]

    def __init__(self, name: str, args: WeightReplicationArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("llm-serving:storage:WeightReplication", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        role = aws.iam.Role(
            f"{name}-role",
            description=f"llm-serving {args.environment}: S3 replication of model weights from {args.source_region}",
            assume_role_policy=pulumi.Output.all(args.account_id, args.source_bucket_arn).apply(
                lambda v: json.dumps(replication_trust_policy(v[0], v[1]))
            ),
            tags={"Name": f"{name}-role", "component": "weights"},
            opts=child,
        )
        destinations = pulumi.Output.all(
            *[pulumi.Output.all(d.region, d.bucket_arn, d.kms_key_arn, d.models) for d in args.destinations]
        )
        policy = aws.iam.RolePolicy(
            f"{name}-policy",
            role=role.id,
            policy=pulumi.Output.all(args.source_bucket_arn, args.source_kms_key_arn, destinations).apply(
                lambda v: json.dumps(
                    replication_policy(args.source_region, v[0], v[1], [(*d[:3], tuple(d[3])) for d in v[2]])
                )
            ),
            opts=child,
        )
        aws.s3.BucketReplicationConfig(
            f"{name}-config",
            bucket=args.source_bucket_name,
            role=role.arn,
            rules=[
                aws.s3.BucketReplicationConfigRuleArgs(
                    id=f"{model}-to-{destination.region}",
                    priority=index,
                    status="Enabled",
                    filter=aws.s3.BucketReplicationConfigRuleFilterArgs(prefix=f"{WEIGHTS_PREFIX}/{model}/"),
                    delete_marker_replication=aws.s3.BucketReplicationConfigRuleDeleteMarkerReplicationArgs(
                        status="Enabled"
                    ),
                    source_selection_criteria=aws.s3.BucketReplicationConfigRuleSourceSelectionCriteriaArgs(
                        sse_kms_encrypted_objects=aws.s3.BucketReplicationConfigRuleSourceSelectionCriteriaSseKmsEncryptedObjectsArgs(
                            status="Enabled"
                        )
                    ),
                    destination=aws.s3.BucketReplicationConfigRuleDestinationArgs(
                        bucket=destination.bucket_arn,
                        storage_class="STANDARD",
                        encryption_configuration=aws.s3.BucketReplicationConfigRuleDestinationEncryptionConfigurationArgs(
                            replica_kms_key_id=destination.kms_key_arn
                        ),
                    ),
                )
                for index, (destination, model) in enumerate(
                    (destination, model) for destination in args.destinations for model in destination.models
                )
            ],
            # S3 rejects the configuration until both ends are versioned. The caller's depends_on (the
            # buckets' versioning) holds the component only: a child does not inherit it, so pass it on.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[policy, *inherited_depends_on(opts)]),
        )
        self.role_arn = role.arn
        self.register_outputs({"role_arn": self.role_arn})
