"""aws-iam-policy-passrole-scoped — iam:PassRole names the roles and the service they go to."""

from __future__ import annotations

from fnmatch import fnmatchcase

from pulumi_policy import (
    EnforcementLevel,
    PolicyComplianceFramework,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
)

from policies.aws.iam.documents import (
    Unreadable,
    allow_statements,
    conditions,
    covers_every_resource,
    identity_documents,
    is_negated,
    strings,
)
from policies.review import Controls, Review


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    for where, document in identity_documents(args.resource_type, args.props):
        if isinstance(document, Unreadable):
            continue  # aws-iam-policy-disallow-wildcard-action-resource reports it
        for sid, statement in allow_statements(document):
            if not any(fnmatchcase("iam:passrole", action.lower()) for action in strings(statement, "Action")):
                continue
            broad = [r for r in strings(statement, "Resource") if covers_every_resource(r)]
            if broad or "NotResource" in statement:
                shown = broad[0] if broad else "NotResource"
                report_violation(
                    f"{where}: statement {sid} allows iam:PassRole on every role ('{shown}'); name the roles.", None
                )
            if not any(
                key.lower() == "iam:passedtoservice" and not is_negated(operator)
                for operator, key, _values in conditions(statement)
            ):
                report_violation(
                    f"{where}: statement {sid} allows iam:PassRole without an iam:PassedToService condition.", None
                )


policy = ResourceValidationPolicy(
    name="aws-iam-policy-passrole-scoped",
    description=(
        "Identity policies may allow iam:PassRole only on named roles and only with an iam:PassedToService "
        "condition naming the service that receives them."
    ),
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    framework=PolicyComplianceFramework(name="NIST 800-53", reference="AC-6", version="rev5"),
    remediation_steps=(
        "Set Resource to the ARNs of the roles the principal hands over and add "
        '"Condition": {"StringEquals": {"iam:PassedToService": "<service>.amazonaws.com"}}.'
    ),
    validate=validate,
)

review = Review(
    area="identity",
    controls=Controls(nist_800_53=("AC-6",), soc2=("CC6.3",)),
    why=(
        "PassRole on '*' lets a controller's credentials launch a Lambda, an EC2 GPU instance or an EKS "
        "node group under any role of the account, including an admin one: privilege escalation in one call."
    ),
)
