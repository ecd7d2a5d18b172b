"""aws-s3-bucket-policy-same-account — bucket policies grant nothing to another account."""

from __future__ import annotations

from pulumi_policy import (
    EnforcementLevel,
    PolicyComplianceFramework,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
)

from policies.aws.iam.documents import foreign_grants
from policies.review import Controls, Review
from policies.support import ACCOUNT_ID_PROPERTY, json_document

BUCKET_POLICY_TYPE = "aws:s3/bucketPolicy:BucketPolicy"


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    account = args.get_config().get("accountId")
    if args.resource_type != BUCKET_POLICY_TYPE or not account or args.props.get("policy") is None:
        return
    document = json_document(args.props.get("policy"))
    if document is None:
        report_violation("the bucket policy is not a JSON document.", None)
        return
    for grant in foreign_grants(document, str(account)):
        report_violation(f"bucket policy: {grant}, not this stack's account {account}.", None)


policy = ResourceValidationPolicy(
    name="aws-s3-bucket-policy-same-account",
    description="S3 bucket policies must allow only principals of the stack's own AWS account.",
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.CRITICAL,
    framework=PolicyComplianceFramework(name="AWS FSBP", reference="S3.6", version="1.0.0"),
    config_schema=PolicyConfigSchema(properties={"accountId": ACCOUNT_ID_PROPERTY}),
    remediation_steps=(
        "Allow only principals of `llm-serving:aws_account_id`, and service principals pinned with "
        "aws:SourceAccount to it; replicate to a bucket the other account owns instead of granting it ours."
    ),
    validate=validate,
)

review = Review(
    area="identity",
    controls=Controls(fsbp=("S3.6",), nist_800_53=("AC-3", "AC-21"), soc2=("CC6.1",)),
    why=(
        "The weights buckets hold licensed and fine-tuned model weights and the log buckets every request's "
        "metadata; a grant to another account copies them out without touching our roles."
    ),
)
