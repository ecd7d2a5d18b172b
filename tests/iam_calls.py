"""The AWS calls a module makes, read from its source, and the IAM actions they need.

A read-only command ships the IAM policy it needs; its test derives the calls from the code (the
services it asks `client(...)` for, and each called name that is one of their operations) rather
than from a second hand-kept list, and checks the policy allows exactly those actions.
"""

from __future__ import annotations

import ast
import inspect
from collections.abc import Mapping
from types import ModuleType
from typing import Any

import botocore.session
from botocore import xform_name

# Operations IAM authorizes under another action's name (each service's API reference, "Permissions").
IAM_ACTION_OF = {
    ("s3", "HeadObject"): "s3:GetObject",  # S3 API Reference, HeadObject
    ("s3", "GetBucketEncryption"): "s3:GetEncryptionConfiguration",  # S3 API Reference, GetBucketEncryption
    ("s3", "GetBucketReplication"): "s3:GetReplicationConfiguration",  # S3 API Reference, GetBucketReplication
    ("s3", "GetPublicAccessBlock"): "s3:GetBucketPublicAccessBlock",  # S3 API Reference, GetPublicAccessBlock
    ("budgets", "DescribeBudget"): "budgets:ViewBudget",  # Budgets API Reference, "Permissions"
    ("budgets", "DescribeNotificationsForBudget"): "budgets:ViewBudget",
    ("apigateway", "GetStage"): "apigateway:GET",  # API Gateway: one action per HTTP verb
    ("apigateway", "GetMethod"): "apigateway:GET",
}


def calls_in_code(module: ModuleType) -> set[tuple[str, str]]:
    """(client service, operation) for every client method the module calls or paginates."""
    tree = ast.parse(inspect.getsource(module))
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)]
    names = {c.func.attr for c in calls}  # type: ignore[union-attr]
    names |= {
        c.args[0].value
        for c in calls
        if c.func.attr == "get_paginator" and c.args and isinstance(c.args[0], ast.Constant)  # type: ignore[union-attr]
    }
    services = {
        c.args[0].value
        for c in calls
        if c.func.attr == "client" and c.args and isinstance(c.args[0], ast.Constant)  # type: ignore[union-attr]
    }
    session = botocore.session.get_session()
    found = set()
    for service in services:
        operations = {xform_name(op): op for op in session.get_service_model(service).operation_names}
        found |= {(service, operations[name]) for name in names if name in operations}
    return found


def iam_action(service: str, operation: str) -> str:
    prefix = botocore.session.get_session().get_service_model(service).signing_name
    return IAM_ACTION_OF.get((service, operation), f"{prefix}:{operation}")


def allowed_actions(document: Mapping[str, Any]) -> set[str]:
    return {
        action
        for statement in document["Statement"]
        if statement["Effect"] == "Allow"
        for action in ([statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"])
    }
