"""aws-s3-bucket-versioning-enabled — buckets keep every version of their objects."""

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

VERSIONING_TYPE = "aws:s3/bucketVersioning:BucketVersioning"


def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    log_buckets = access_log_buckets(args.resources)
    for bucket in resources_of_type(args.resources, BUCKET_TYPE):
        if bucket.urn in log_buckets:
            continue  # append-only logs that expire: versions would outlive the expiry
        configs = attached(args.resources, VERSIONING_TYPE, bucket)
        statuses = [(c.props.get("versioningConfiguration") or {}).get("status") for c in configs]
        if not statuses:
            report_violation(f"bucket '{bucket.name}' has no versioning configuration.", bucket.urn)
        elif "Enabled" not in statuses:
            report_violation(f"bucket '{bucket.name}' versioning is {statuses[0]}, not Enabled.", bucket.urn)


policy = StackValidationPolicy(
    name="aws-s3-bucket-versioning-enabled",
    description=(
        "Every S3 bucket except the access-log buckets (tagged llm-serving/data=access-logs and named -s3-logs-) "
        "has versioning Enabled."
    ),
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.MEDIUM,
    framework=PolicyComplianceFramework(name="AWS FSBP", reference="S3.14", version="1.0.0"),
    remediation_steps="Add an aws.s3.BucketVersioning for the bucket with versioning_configuration status='Enabled'.",
    validate=validate,
)

review = Review(
    area="data",
    controls=Controls(fsbp=("S3.14",), nist_800_53=("CP-9", "SI-7"), soc2=("A1.2",)),
    why=(
        "An overwritten or deleted weights object is gone: a bad sync or a malicious write swaps the model every "
        "replica loads next; versioning keeps the previous weights to roll back to."
    ),
)
