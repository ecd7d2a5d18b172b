"""aws-iam-role-trust-policy-restricted — only this account's principals, or conditioned federation, assume a role."""

from __future__ import annotations

from collections.abc import Mapping

from pulumi_policy import (
    EnforcementLevel,
    PolicyComplianceFramework,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
)

from policies.aws.iam.documents import (
    ACCOUNT_CONDITION_KEYS,
    Unreadable,
    account_of,
    allow_statements,
    aws_principals,
    conditions,
    is_negated,
    is_wildcard,
    trust_document,
)
from policies.review import Controls, Review
from policies.support import ACCOUNT_ID_PROPERTY, as_list


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    account = args.get_config().get("accountId")
    for where, document in trust_document(args.resource_type, args.props):
        if isinstance(document, Unreadable):
            report_violation(f"{where} is not a JSON policy document.", None)
            continue
        for sid, statement in allow_statements(document):
            for principal in aws_principals(statement):
                owner = account_of(principal)
                if is_wildcard(principal):
                    report_violation(f"{where}: statement {sid} trusts any principal ('{principal}').", None)
                elif owner is None:
                    report_violation(
                        f"{where}: statement {sid} trusts a principal the pack cannot place in an account "
                        f"('{principal}').",
                        None,
                    )
                elif account and owner != account:
                    report_violation(
                        f"{where}: statement {sid} trusts account {owner} ('{principal}'), "
                        f"not this stack's account {account}.",
                        None,
                    )
            if account:
                for operator, key, values in conditions(statement):
                    if key.lower() not in ACCOUNT_CONDITION_KEYS or is_negated(operator):
                        continue
                    for value in values:
                        if value != account:
                            report_violation(
                                f"{where}: statement {sid} trusts account {value} through its {key} condition, "
                                f"not this stack's account {account}.",
                                None,
                            )
            principal = statement.get("Principal")
            federated = as_list(principal.get("Federated")) if isinstance(principal, Mapping) else []
            condition = statement.get("Condition")
            if federated and not (isinstance(condition, Mapping) and condition):
                for provider in federated:
                    report_violation(
                        f"{where}: statement {sid} trusts the federated principal {provider} without a condition: "
                        "any identity it issues may assume the role.",
                        None,
                    )


policy = ResourceValidationPolicy(
    name="aws-iam-role-trust-policy-restricted",
    description=(
        "Role trust policies must not trust '*', an AWS principal (or a service acting for an account, "
        "aws:SourceAccount) of another account than the stack's, or a federated identity provider without "
        "a condition on the token's subject or audience."
    ),
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.CRITICAL,
    framework=PolicyComplianceFramework(name="NIST 800-53", reference="AC-3", version="rev5"),
    config_schema=PolicyConfigSchema(properties={"accountId": ACCOUNT_ID_PROPERTY}),
    remediation_steps=(
        "Trust a service principal (with aws:SourceAccount / aws:SourceArn), a role of this account "
        "(`llm-serving:aws_account_id`), or a federated provider with a StringEquals condition on its "
        "`:sub` and `:aud` keys."
    ),
    validate=validate,
)

review = Review(
    area="identity",
    controls=Controls(nist_800_53=("AC-3", "AC-2"), soc2=("CC6.1", "CC6.2")),
    why=(
        "Whoever can assume a model server's or a node's role reads the weights and the prompts those "
        "roles reach; a trust policy open to '*' or to another account hands them to a stranger with no "
        "credential of ours."
    ),
)
