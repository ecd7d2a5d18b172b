"""aws-iam-policy-disallow-allow-with-not-elements — Allow statements list what they grant."""

from __future__ import annotations

from pulumi_policy import (
    EnforcementLevel,
    PolicyComplianceFramework,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
)

from policies.aws.iam.documents import Unreadable, allow_statements, identity_documents, trust_document
from policies.review import Controls, Review
from policies.support import json_document

# Resource policies: the document a key or a bucket carries.
RESOURCE_POLICY_TYPES = ("aws:kms/key:Key", "aws:kms/replicaKey:ReplicaKey", "aws:s3/bucketPolicy:BucketPolicy")

NOT_ELEMENTS = {
    "NotAction": "every action not listed is granted, including actions AWS adds later",
    "NotResource": "every resource not listed is covered, including ones created later",
    "NotPrincipal": "every principal not listed, in any account, is allowed",
}


def _documents(args: ResourceValidationArgs):
    yield from identity_documents(args.resource_type, args.props)
    yield from trust_document(args.resource_type, args.props)
    if args.resource_type in RESOURCE_POLICY_TYPES and args.props.get("policy") is not None:
        document = json_document(args.props.get("policy"))
        yield "policy", Unreadable("policy") if document is None else document


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    for where, document in _documents(args):
        if isinstance(document, Unreadable):
            continue  # the document's own policies report it
        for sid, statement in allow_statements(document):
            for element, consequence in NOT_ELEMENTS.items():
                if element in statement:
                    report_violation(f"{where}: statement {sid} allows with {element}: {consequence}.", None)


policy = ResourceValidationPolicy(
    name="aws-iam-policy-disallow-allow-with-not-elements",
    description=(
        "Allow statements of identity, trust, KMS key and bucket policies must not use NotAction, "
        "NotResource or NotPrincipal: they grant everything except a list."
    ),
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    framework=PolicyComplianceFramework(name="NIST 800-53", reference="AC-6", version="rev5"),
    remediation_steps=(
        "Rewrite the statement with Action, Resource and Principal listing what is granted; keep NotAction "
        "or NotResource for Deny statements only."
    ),
    validate=validate,
)

review = Review(
    area="identity",
    controls=Controls(fsbp=("IAM.21",), nist_800_53=("AC-6", "AC-3"), soc2=("CC6.3",)),
    why=(
        "An Allow with NotAction grants every action AWS ships later too (new Bedrock, SageMaker or EC2 "
        "GPU APIs); a reviewer cannot see from the document what a model-serving role can do."
    ),
)
