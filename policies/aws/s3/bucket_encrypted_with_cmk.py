"""aws-s3-bucket-encrypted-with-cmk — buckets encrypt by default with a customer-managed KMS key."""

from pulumi_policy import (
    EnforcementLevel,
    PolicyComplianceFramework,
    ReportViolation,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)

from policies.review import Controls, Review
from policies.support import BUCKET_TYPE, access_log_buckets, attached, resources_of_type

SSE_TYPE = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"


def _defaults(config) -> list[dict]:
    return [
        dict((rule or {}).get("applyServerSideEncryptionByDefault") or {}) for rule in config.props.get("rules") or []
    ]


def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    log_buckets = access_log_buckets(args.resources)
    for bucket in resources_of_type(args.resources, BUCKET_TYPE):
        defaults = [d for config in attached(args.resources, SSE_TYPE, bucket) for d in _defaults(config)]
        if not defaults:
            report_violation(f"bucket '{bucket.name}' has no default encryption configuration.", bucket.urn)
            continue
        if bucket.urn in log_buckets:
            continue  # S3 server access logging cannot deliver to SSE-KMS buckets: SSE-S3 is the most it allows
        for default in defaults:
            algorithm, key = default.get("sseAlgorithm"), default.get("kmsMasterKeyId")
            if algorithm not in ("aws:kms", "aws:kms:dsse"):
                report_violation(f"bucket '{bucket.name}' encrypts with {algorithm}, not a KMS key.", bucket.urn)
            elif not key or str(key).startswith("alias/aws/"):
                report_violation(
                    f"bucket '{bucket.name}' uses the AWS-managed S3 key; name a customer-managed key.", bucket.urn
                )


policy = StackValidationPolicy(
    name="aws-s3-bucket-encrypted-with-cmk",
    description=(
        "Every S3 bucket has default encryption with a customer-managed KMS key (the access-log buckets, tagged "
        "llm-serving/data=access-logs and named -s3-logs-: "
        "default encryption of any kind, since server access logging cannot write to SSE-KMS buckets)."
    ),
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    framework=PolicyComplianceFramework(name="AWS FSBP", reference="S3.17", version="1.0.0"),
    remediation_steps=(
        "Add an aws.s3.BucketServerSideEncryptionConfiguration for the bucket with sse_algorithm='aws:kms', "
        "kms_master_key_id=<the customer-managed key ARN> and bucket_key_enabled=True."
    ),
    validate=validate,
)

review = Review(
    area="data",
    controls=Controls(fsbp=("S3.17",), nist_800_53=("SC-12", "SC-28"), soc2=("CC6.1",)),
    why=(
        "The weights buckets hold the models we serve (licensed or fine-tuned, often the most valuable asset); "
        "with our key every read also needs the key policy and leaves a KMS record, with SSE-S3 s3:GetObject alone "
        "is enough."
    ),
)
