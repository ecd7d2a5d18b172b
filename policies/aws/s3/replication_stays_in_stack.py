"""aws-s3-replication-destination-in-stack — weights replicate only to this stack's buckets, in allowed
regions of the stack's account, re-encrypted with the stack's KMS key."""

from collections.abc import Mapping
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyComplianceFramework,
    PolicyConfigSchema,
    ReportViolation,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)

from policies.review import Controls, Review
from policies.support import (
    ACCOUNT_ID_PROPERTY,
    BUCKET_TYPE,
    as_list,
    depends_on,
    region_of,
    replication_destination_bucket,
    resources_of_type,
)

REPLICATION_TYPE = "aws:s3/bucketReplicationConfig:BucketReplicationConfig"
KEY_TYPES = ("aws:kms/key:Key", "aws:kms/replicaKey:ReplicaKey")


def _get(value: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def _arn_parts(arn: Any) -> tuple[str, str] | None:
    """(region, account) of an ARN string; None when it is not one."""
    parts = arn.split(":") if isinstance(arn, str) else []
    return (parts[3], parts[4]) if len(parts) >= 6 and parts[0] == "arn" else None


def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    config_values = args.get_config()
    allowed = [str(r) for r in as_list(config_values.get("allowedRegions"))]
    account = config_values.get("accountId")
    buckets = resources_of_type(args.resources, BUCKET_TYPE)
    keys = resources_of_type(args.resources, *KEY_TYPES)
    for config in resources_of_type(args.resources, REPLICATION_TYPE):

        def report(message: str, config=config) -> None:
            report_violation(f"replication '{config.name}' {message}", config.urn)

        for index, rule in enumerate(as_list(config.props.get("rules"))):
            rule_id = _get(rule, "id") or f"rules[{index}]"
            destination = _get(rule, "destination") or {}
            target = _get(destination, "bucket")
            bucket = replication_destination_bucket(config, target, buckets)
            if bucket is None:
                report(f"rule '{rule_id}' replicates to {target or 'no bucket'}, not a bucket of this stack.")
            elif region_of(bucket) not in allowed:
                report(
                    f"rule '{rule_id}' replicates to bucket '{bucket.name}' in {region_of(bucket) or 'no region'}, "
                    f"not an allowed region ({', '.join(allowed)})."
                )
            other_account = _get(destination, "account")
            if other_account is not None and str(other_account) != str(account):
                report(f"rule '{rule_id}' replicates to account {other_account}, not this stack's account.")
            if _get(rule, "sourceSelectionCriteria", "sseKmsEncryptedObjects", "status") != "Enabled":
                report(
                    f"rule '{rule_id}' does not replicate KMS-encrypted objects (sseKmsEncryptedObjects not Enabled)."
                )
            replica_key = _get(destination, "encryptionConfiguration", "replicaKmsKeyId")
            parts = _arn_parts(replica_key)
            if not replica_key:
                report(f"rule '{rule_id}' sets no replicaKmsKeyId: replicas are not encrypted with the stack's key.")
            elif not any(depends_on(config, "rules", key.urn) for key in keys):
                report(f"rule '{rule_id}' encrypts replicas with {replica_key}, not a KMS key of this stack.")
            elif parts is not None and (
                (bucket is not None and parts[0] != region_of(bucket)) or (account and parts[1] != account)
            ):
                report(
                    f"rule '{rule_id}' encrypts replicas with {replica_key}, not the stack's key in the destination "
                    "region."
                )


policy = StackValidationPolicy(
    name="aws-s3-replication-destination-in-stack",
    description=(
        "Every S3 replication rule copies to a bucket of this stack (destination.bucket computed from it) in an "
        "allowed region, names no other account, replicates KMS-encrypted objects and re-encrypts replicas with a "
        "KMS key of this stack in the destination region."
    ),
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.CRITICAL,
    framework=PolicyComplianceFramework(name="NIST 800-53", reference="AC-4", version="rev5"),
    config_schema=PolicyConfigSchema(
        properties={
            "allowedRegions": {"type": "array", "items": {"type": "string"}, "minItems": 1},
            "accountId": ACCOUNT_ID_PROPERTY,
        },
        required=["allowedRegions"],
    ),
    remediation_steps=(
        "Replicate only between the WeightStore buckets of the stack's regions (components.weight_replication), "
        "with source_selection_criteria.sse_kms_encrypted_objects Enabled and the destination region's weights "
        "key as replica_kms_key_id; never set destination.account."
    ),
    validate=validate,
)

review = Review(
    area="data",
    controls=Controls(fsbp=("S3.7",), nist_800_53=("AC-4", "SC-28"), soc2=("CC6.7",)),
    why=(
        "A replication rule copies every model's weights continuously: pointed at another account's bucket or "
        "a region outside the allowed list, it exfiltrates them (and a sensitive model's data residency) silently."
    ),
)
