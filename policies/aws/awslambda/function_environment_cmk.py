"""aws-lambda-function-environment-encrypted-with-cmk — a function's environment is encrypted with a customer key."""

from __future__ import annotations

import re
from collections.abc import Mapping

from pulumi_policy import (
    EnforcementLevel,
    PolicyComplianceFramework,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
)

from policies.review import Controls, Review

FUNCTION_TYPE = "aws:lambda/function:Function"
# A customer-managed key is named by its key ARN; an alias may point at the AWS-managed aws/lambda key.
_KEY_ARN = re.compile(r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/[A-Za-z0-9-]+$")


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type != FUNCTION_TYPE:
        return
    environment = args.props.get("environment")
    variables = environment.get("variables") if isinstance(environment, Mapping) else None
    if not variables:
        return  # nothing stored: Lambda encrypts no environment
    key = args.props.get("kmsKeyArn")
    if key is None or key == "":
        report_violation(
            "environment variables are encrypted with the AWS-managed aws/lambda key: set kmsKeyArn to a "
            "customer-managed key.",
            None,
        )
    elif not isinstance(key, str) or not _KEY_ARN.fullmatch(key):
        report_violation(f"kmsKeyArn is not the ARN of a customer-managed KMS key (got {key!r}).", None)


policy = ResourceValidationPolicy(
    name="aws-lambda-function-environment-encrypted-with-cmk",
    description=(
        "A Lambda function with environment variables must encrypt them with a customer-managed KMS key "
        "(kmsKeyArn), not the AWS-managed aws/lambda key."
    ),
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    framework=PolicyComplianceFramework(name="NIST 800-53", reference="SC-28", version="rev5"),
    remediation_steps=(
        "Set kmsKeyArn to the region's customer-managed key for Lambda environments "
        "(Encryption.lambda_key_arn, alias/llm-serving/<environment>/lambda); its key policy lets principals "
        "of the account use it only through Lambda."
    ),
    validate=validate,
)

review = Review(
    area="data",
    controls=Controls(nist_800_53=("SC-28", "SC-12"), soc2=("CC6.1",)),
    why=(
        "The tenant authorizer's environment holds the table that maps API-key digests to tenants and "
        "their models; under the AWS-managed key anyone in the account with lambda:GetFunctionConfiguration "
        "reads it, and its use cannot be audited, restricted or revoked in a key policy."
    ),
)
