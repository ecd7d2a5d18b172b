"""aws-s3-bucket-public-access-blocked — all four public access blocks are on for every bucket."""

from pulumi_policy import (
    EnforcementLevel,
    PolicyComplianceFramework,
    ReportViolation,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)

from policies.review import Controls, Review
from policies.support import BUCKET_TYPE, attached, resources_of_type

BLOCK_TYPE = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
SETTINGS = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")


def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    for bucket in resources_of_type(args.resources, BUCKET_TYPE):
        blocks = attached(args.resources, BLOCK_TYPE, bucket)
        if not blocks:
            report_violation(f"bucket '{bucket.name}' has no public access block.", bucket.urn)
            continue
        off = [s for s in SETTINGS if not any(block.props.get(s) is True for block in blocks)]
        if off:
            report_violation(f"bucket '{bucket.name}' public access block leaves off: {', '.join(off)}.", bucket.urn)


policy = StackValidationPolicy(
    name="aws-s3-bucket-public-access-blocked",
    description="Every S3 bucket has a public access block with all four settings true.",
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.CRITICAL,
    framework=PolicyComplianceFramework(name="AWS FSBP", reference="S3.8", version="1.0.0"),
    remediation_steps=(
        "Add an aws.s3.BucketPublicAccessBlock for the bucket with block_public_acls, block_public_policy, "
        "ignore_public_acls and restrict_public_buckets all True."
    ),
    validate=validate,
)

review = Review(
    area="data",
    controls=Controls(fsbp=("S3.8",), nist_800_53=("AC-3", "SC-7"), soc2=("CC6.1", "CC6.6")),
    why=(
        "One public ACL or bucket policy publishes the weights, or the access logs that record tenants' requests; "
        "the block makes S3 refuse both."
    ),
)
