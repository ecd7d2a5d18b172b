"""aws-iam-managed-policy-allowed — roles, users and groups get only the AWS-managed policies the stack allows."""

from __future__ import annotations

import re

from pulumi_policy import (
    EnforcementLevel,
    PolicyComplianceFramework,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
)

from policies.review import Controls, Review
from policies.support import as_list

ATTACHMENT_TYPES = (
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
    "aws:iam/userPolicyAttachment:UserPolicyAttachment",
    "aws:iam/groupPolicyAttachment:GroupPolicyAttachment",
    "aws:iam/policyAttachment:PolicyAttachment",
)
ROLE_TYPE = "aws:iam/role:Role"
# Authoritative lists of a role's, user's or group's managed policies (`policyArns`).
EXCLUSIVE_TYPES = (
    "aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive",
    "aws:iam/userPolicyAttachmentsExclusive:UserPolicyAttachmentsExclusive",
    "aws:iam/groupPolicyAttachmentsExclusive:GroupPolicyAttachmentsExclusive",
)

# arn:<partition>:iam::<aws | account>:policy/<path/>name
_POLICY_ARN = re.compile(r"^arn:aws[a-z-]*:iam::(aws|\d{12}):policy/(.+)$")
# Admin-like by AWS's own naming (AdministratorAccess*, PowerUserAccess, IAMFullAccess, AmazonS3FullAccess,
# job-function/...): refused even if someone adds one to the allowlist.
_ADMIN_LIKE = re.compile(r"(^|/)(AdministratorAccess|PowerUserAccess)|FullAccess$")


def _attached(args: ResourceValidationArgs) -> list[tuple[str, object]]:
    if args.resource_type in ATTACHMENT_TYPES:
        return [("policyArn", args.props.get("policyArn"))]
    key = "managedPolicyArns" if args.resource_type == ROLE_TYPE else "policyArns"
    if args.resource_type == ROLE_TYPE or args.resource_type in EXCLUSIVE_TYPES:
        return [(f"{key}[{i}]", arn) for i, arn in enumerate(as_list(args.props.get(key)))]
    return []


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    allowed = {str(name) for name in as_list(args.get_config().get("allowedManagedPolicies"))}
    for where, arn in _attached(args):
        if arn is None:
            continue  # computed: a policy this stack creates, whose document is checked where it is declared
        match = _POLICY_ARN.match(str(arn))
        if match is None:
            report_violation(f"{where} is not an IAM policy ARN ('{arn}').", None)
        elif match.group(1) == "aws" and _ADMIN_LIKE.search(match.group(2)):
            report_violation(f"{where} attaches the admin-like AWS-managed policy {match.group(2)}.", None)
        elif match.group(1) == "aws" and match.group(2) not in allowed:
            report_violation(
                f"{where} attaches the AWS-managed policy {match.group(2)}, which the stack does not allow "
                f"(allowed: {', '.join(sorted(allowed)) or 'none configured'}).",
                None,
            )


policy = ResourceValidationPolicy(
    name="aws-iam-managed-policy-allowed",
    description=(
        "Roles, users and groups may be attached only the AWS-managed policies on the stack's reviewed "
        "allowlist; admin-like ones (AdministratorAccess, PowerUserAccess, IAMFullAccess, *FullAccess) never are."
    ),
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.CRITICAL,
    framework=PolicyComplianceFramework(name="NIST 800-53", reference="AC-6", version="rev5"),
    config_schema=PolicyConfigSchema(
        properties={"allowedManagedPolicies": {"type": "array", "items": {"type": "string"}}},
        required=["allowedManagedPolicies"],
    ),
    remediation_steps=(
        "Attach a policy on the allowlist (`ALLOWED_MANAGED_POLICIES` in llmstack/policy_config.py), or write a "
        "least-privilege RolePolicy; extending the allowlist is a security review of that policy's document."
    ),
    validate=validate,
)

review = Review(
    area="identity",
    controls=Controls(fsbp=("IAM.1",), nist_800_53=("AC-6", "AC-2"), soc2=("CC6.3",)),
    why=(
        "AWS-managed policies are broad and change without review; AdministratorAccess on the node role "
        "hands every pod on a GPU node the account, and AmazonS3FullAccess on a model server every "
        "tenant's data and all the weights."
    ),
)
