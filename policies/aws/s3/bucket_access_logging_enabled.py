"""aws-s3-bucket-access-logging-enabled — buckets record server access logs in a log bucket."""

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

LOGGING_TYPE = "aws:s3/bucketLogging:BucketLogging"


def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    log_buckets = access_log_buckets(args.resources)
    for bucket in resources_of_type(args.resources, BUCKET_TYPE):
        if bucket.urn in log_buckets:
            continue  # a log bucket logging its own writes would log forever
        if not attached(args.resources, LOGGING_TYPE, bucket):
            report_violation(f"bucket '{bucket.name}' has no server access logging.", bucket.urn)


policy = StackValidationPolicy(
    name="aws-s3-bucket-access-logging-enabled",
    description=(
        "Every S3 bucket, except the access-log buckets themselves (tagged llm-serving/data=access-logs and named "
        "-s3-logs-), has server access logging."
    ),
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.MEDIUM,
    framework=PolicyComplianceFramework(name="AWS FSBP", reference="S3.9", version="1.0.0"),
    remediation_steps=(
        "Add an aws.s3.BucketLogging for the bucket with target_bucket=<a separate SSE-S3 log bucket> whose policy "
        "lets logging.s3.amazonaws.com write for this bucket (aws:SourceArn, aws:SourceAccount)."
    ),
    validate=validate,
)

review = Review(
    area="data",
    controls=Controls(fsbp=("S3.9",), nist_800_53=("AU-2", "AU-12"), soc2=("CC7.2",)),
    why=(
        "Server access logs are the record of who downloaded the weights; without them (CloudTrail data events are "
        "off by default) a model can be copied out and nobody can tell when or by whom."
    ),
)
