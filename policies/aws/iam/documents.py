"""Reading IAM policy documents wherever a resource carries one, and placing principals in accounts.

Identity policies live in `policy` (RolePolicy, Policy, UserPolicy, GroupPolicy) and in a Role's
`inlinePolicies[].policy`; a Role's trust policy is `assumeRolePolicy`. Values the engine does not
know yet (computed at preview) arrive as None and are skipped: they are checked once known.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from policies.support import as_list, json_document

POLICY_PROPERTY_TYPES = (
    "aws:iam/rolePolicy:RolePolicy",
    "aws:iam/policy:Policy",
    "aws:iam/userPolicy:UserPolicy",
    "aws:iam/groupPolicy:GroupPolicy",
)
ROLE_TYPE = "aws:iam/role:Role"

# arn:<partition>:iam::<account>:... or arn:<partition>:sts::<account>:...
_PRINCIPAL_ARN = re.compile(r"^arn:aws[a-z-]*:(?:iam|sts)::(\d{12}|\*|[^:]*):")
_ACCOUNT_ID = re.compile(r"^\d{12}$")

# Services whose ARNs start with the resource's name, not its type (bucket/key, api-id/stage/...).
_NAME_FIRST_SERVICES = ("s3", "execute-api")

# Condition keys whose values name the account a grant is for.
ACCOUNT_CONDITION_KEYS = ("aws:sourceaccount", "aws:principalaccount", "aws:sourceowner", "kms:calleraccount")


class Unreadable:
    """A document that is present but not a JSON policy document."""

    def __init__(self, where: str) -> None:
        self.where = where


# (where in the resource, the parsed document or Unreadable)
Located = tuple[str, "dict[str, Any] | Unreadable"]


def identity_documents(resource_type: str, props: Mapping[str, Any]) -> Iterator[Located]:
    """(where, document) for every identity policy a resource declares."""
    if resource_type in POLICY_PROPERTY_TYPES:
        yield from _document("policy", props.get("policy"))
    elif resource_type == ROLE_TYPE:
        for index, inline in enumerate(as_list(props.get("inlinePolicies"))):
            if not isinstance(inline, Mapping):
                continue
            name = inline.get("name")
            yield from _document(f"inlinePolicies[{name or index}]", inline.get("policy"))


def trust_document(resource_type: str, props: Mapping[str, Any]) -> Iterator[Located]:
    if resource_type == ROLE_TYPE:
        yield from _document("assumeRolePolicy", props.get("assumeRolePolicy"))


def _document(where: str, raw: Any) -> Iterator[Located]:
    if raw is None or raw == "":
        return
    document = json_document(raw)
    yield where, Unreadable(where) if document is None else document


def allow_statements(document: Mapping[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(label, statement) for each Allow statement; the label is its Sid, or #index without one."""
    # as_list, not support.statements: `"Statement": null` or a number must not crash the pack.
    for index, statement in enumerate(as_list(document.get("Statement"))):
        if isinstance(statement, Mapping) and statement.get("Effect") == "Allow":
            yield str(statement.get("Sid") or f"#{index}"), dict(statement)


def strings(statement: Mapping[str, Any], key: str) -> list[str]:
    return [str(v) for v in as_list(statement.get(key))]


def is_wildcard(value: str) -> bool:
    """`*` and its spellings that match everything (`**`, `*:*`)."""
    return value.replace(":", "").strip("*") == ""


def covers_every_resource(resource: str) -> bool:
    """`*`, and ARNs that match every resource of their type: any account (`arn:aws:kms:*:*:key/x`),
    or only wildcards after the type (`arn:aws:kms:us-east-1:123456789012:key/*`, `arn:aws:s3:::*`)."""
    if is_wildcard(resource):
        return True
    parts = resource.split(":", 5)
    if len(parts) < 6:
        return False
    service, account, path = parts[2], parts[4], parts[5]
    if "*" in account:
        return True
    if service in _NAME_FIRST_SERVICES:
        return is_wildcard(path.split("/", 1)[0])
    kind, separator, rest = path.partition("/")
    if not separator:
        kind, separator, rest = path.partition(":")
    return is_wildcard(rest if separator and "*" not in kind else path)


def conditions(statement: Mapping[str, Any]) -> Iterator[tuple[str, str, list[str]]]:
    """(operator, key, values) for every condition of a statement, as written."""
    block = statement.get("Condition")
    if not isinstance(block, Mapping):
        return
    for operator, entries in block.items():
        if isinstance(entries, Mapping):
            for key, values in entries.items():
                yield str(operator), str(key), [str(v) for v in as_list(values)]


def is_negated(operator: str) -> bool:
    """StringNotEquals, ArnNotLike, ...: the listed values are excluded, not granted."""
    return "Not" in operator.split(":")[-1]


def aws_principals(statement: Mapping[str, Any]) -> list[str]:
    """The AWS principals of a statement; `Principal: "*"` counts as the AWS principal `*`."""
    principal = statement.get("Principal")
    if isinstance(principal, str):
        return [principal]
    if isinstance(principal, Mapping):
        return [str(v) for v in as_list(principal.get("AWS"))]
    return []


def account_of(principal: str) -> str | None:
    """The account an AWS principal belongs to (`123456789012`, `arn:aws:iam::123456789012:role/x`)."""
    if _ACCOUNT_ID.match(principal):
        return principal
    match = _PRINCIPAL_ARN.match(principal)
    return match.group(1) if match else None


def foreign_grants(document: Mapping[str, Any], account: str) -> Iterator[str]:
    """What each Allow statement grants outside `account`, as message fragments.

    A principal of another account, `*` (any account) unless a condition pins it to `account`,
    and an account condition (aws:SourceAccount, kms:CallerAccount, ...) naming another account.
    """
    for sid, statement in allow_statements(document):
        account_conditions = [
            (key, values)
            for operator, key, values in conditions(statement)
            if key.lower() in ACCOUNT_CONDITION_KEYS and not is_negated(operator)
        ]
        pinned = any(values == [account] for _key, values in account_conditions)
        for principal in aws_principals(statement):
            owner = account_of(principal)
            if is_wildcard(principal):
                if not pinned:
                    yield f"statement {sid} allows any account ('{principal}')"
            elif owner is None:
                yield f"statement {sid} allows a principal the pack cannot place in an account ('{principal}')"
            elif owner != account:
                yield f"statement {sid} allows account {owner} ('{principal}')"
        for key, values in account_conditions:
            for value in values:
                if value != account:
                    yield f"statement {sid} allows account {value} through its {key} condition"
