"""aws-s3-bucket-tls-only — bucket policies deny every request that does not use TLS."""

from pulumi_policy import (
    EnforcementLevel,
    PolicyComplianceFramework,
    ReportViolation,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)

from policies.review import Controls, Review
from policies.support import BUCKET_TYPE, as_list, attached, json_document, principals, resources_of_type, statements

POLICY_TYPE = "aws:s3/bucketPolicy:BucketPolicy"


def _denies_insecure_transport(statement: dict) -> bool:
    condition = (statement.get("Condition") or {}).get("Bool") or {}
    return (
        statement.get("Effect") == "Deny"
        and "*" in principals(statement)
        and any(action in ("s3:*", "*") for action in as_list(statement.get("Action")))
        and str(condition.get("aws:SecureTransport")).lower() == "false"
    )


def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    for bucket in resources_of_type(args.resources, BUCKET_TYPE):
        documents = [json_document(p.props.get("policy")) for p in attached(args.resources, POLICY_TYPE, bucket)]
        if not documents:
            report_violation(f"bucket '{bucket.name}' has no bucket policy, so plain HTTP is allowed.", bucket.urn)
        elif not any(_denies_insecure_transport(s) for doc in documents if doc for s in statements(doc)):
            report_violation(
                f"bucket '{bucket.name}' policy does not deny s3:* when aws:SecureTransport is false.", bucket.urn
            )


policy = StackValidationPolicy(
    name="aws-s3-bucket-tls-only",
    description="Every S3 bucket's policy denies all actions to all principals when aws:SecureTransport is false.",
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.MEDIUM,
    framework=PolicyComplianceFramework(name="AWS FSBP", reference="S3.5", version="1.0.0"),
    remediation_steps=(
        "Add an aws.s3.BucketPolicy with a statement Effect=Deny, Principal='*', Action='s3:*', Resource=[bucket ARN, "
        "bucket ARN/*], Condition {'Bool': {'aws:SecureTransport': 'false'}}."
    ),
    validate=validate,
)

review = Review(
    area="data",
    controls=Controls(fsbp=("S3.5",), nist_800_53=("SC-8", "SC-13"), soc2=("CC6.7",)),
    why=(
        "Nodes download gigabytes of weights on every scale-up; without the deny a misconfigured client can fetch "
        "them over plain HTTP, readable and alterable on the way to the GPU."
    ),
)
