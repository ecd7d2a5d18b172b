"""aws-s3-bucket-acls-disabled — object ownership is enforced by the bucket owner, so no ACL grants access."""

from collections.abc import Mapping

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

OWNERSHIP_TYPE = "aws:s3/bucketOwnershipControls:BucketOwnershipControls"
ACL_TYPES = ("aws:s3/bucketAclV2:BucketAclV2", "aws:s3/bucketAcl:BucketAcl")
ENFORCED = "BucketOwnerEnforced"


def _ownership(config) -> object:
    rule = config.props.get("rule")
    return rule.get("objectOwnership") if isinstance(rule, Mapping) else None


def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    for bucket in resources_of_type(args.resources, BUCKET_TYPE):
        controls = attached(args.resources, OWNERSHIP_TYPE, bucket)
        if not controls:
            report_violation(
                f"bucket '{bucket.name}' has no ownership controls: ACLs stay enabled (objectOwnership must be "
                f"{ENFORCED}).",
                bucket.urn,
            )
        for config in controls:
            if _ownership(config) != ENFORCED:
                report_violation(
                    f"ownership controls '{config.name}' of bucket '{bucket.name}' set objectOwnership to "
                    f"{_ownership(config) or 'unset'}: ACLs are enabled (must be {ENFORCED}).",
                    config.urn,
                )
        for prop in ("acl", "grants"):
            if bucket.props.get(prop):
                report_violation(f"bucket '{bucket.name}' sets an ACL ({prop}); access is by policy only.", bucket.urn)
    for acl in resources_of_type(args.resources, *ACL_TYPES):
        report_violation(
            f"bucket ACL '{acl.name}' grants access by ACL; access is by bucket and IAM policy only.", acl.urn
        )


policy = StackValidationPolicy(
    name="aws-s3-bucket-acls-disabled",
    description=(
        f"Every S3 bucket has ownership controls with objectOwnership {ENFORCED} (ACLs disabled), sets no ACL "
        "itself, and the stack declares no BucketAcl/BucketAclV2."
    ),
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    framework=PolicyComplianceFramework(name="AWS FSBP", reference="S3.12", version="1.0.0"),
    remediation_steps=(
        "Add an aws.s3.BucketOwnershipControls with rule object_ownership='BucketOwnerEnforced' for the bucket "
        "(components.weights does) and remove any BucketAclV2; grant access with the bucket policy and IAM."
    ),
    validate=validate,
)

review = Review(
    area="data",
    controls=Controls(fsbp=("S3.12",), nist_800_53=("AC-3", "AC-6"), soc2=("CC6.1",)),
    why=(
        "An ACL grant bypasses the bucket policy's TLS-only and account checks: re-enabled ACLs let one object "
        "grant, say, a model's weights to another account or to everyone."
    ),
)
