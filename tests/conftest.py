"""Shared fixtures: run the real program under recording mocks, and drive single policies.

Every test that runs the program gets a fresh mock engine (`run_program` resets the SDK's
settings), so no state leaks between tests.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
from pulumi_policy import (
    PolicyProviderResource,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    StackValidationArgs,
)
from pulumi_policy.policy import PolicyCustomTimeouts

from llmstack.offline import ProgramRun, run_program
from llmstack.stackfile import load_stack

ROOT = Path(__file__).resolve().parent.parent


def stack_values(stack: str) -> dict[str, Any]:
    """The `llm-serving:*` values of a committed stack file (namespace stripped), for mutation."""
    config = load_stack(stack, None, ROOT).config
    values = {k.split(":", 1)[1]: v for k, v in config.items() if k.startswith("llm-serving:")}
    return copy.deepcopy(values)


def error_of(stack: str, mutate: Callable[[dict[str, Any]], None]) -> str:
    """The one-line config error a committed stack's values give once `mutate` has changed them."""
    from stacks.config import ConfigError, parse_platform_config

    values = stack_values(stack)
    mutate(values)
    with pytest.raises(ConfigError) as caught:
        parse_platform_config(values)
    return str(caught.value)


def run_stack(stack: str, mutate: Callable[[dict[str, Any]], None] | None = None) -> ProgramRun:
    """Run the program for a committed stack, optionally after changing its config."""
    stackfile = load_stack(stack, None, ROOT)
    config = copy.deepcopy(stackfile.config)
    if mutate is not None:
        values = {k.split(":", 1)[1]: v for k, v in config.items() if k.startswith("llm-serving:")}
        mutate(values)
        config = {**{k: v for k, v in config.items() if not k.startswith("llm-serving:")}}
        config.update({f"llm-serving:{k}": v for k, v in values.items()})
    return run_program(config, project="llm-serving", stack=stack, secret_keys=list(stackfile.secret_keys))


@pytest.fixture
def dev_run() -> ProgramRun:
    return run_stack("dev")


@pytest.fixture
def prod_run() -> ProgramRun:
    return run_stack("prod")


def of_type(run: ProgramRun, type_token: str) -> list:
    return [r for r in run.resources if r.type == type_token]


# --- driving one policy directly -------------------------------------------------------------------


def _options(parent: str | None = None, protect: bool = False) -> PolicyResourceOptions:
    return PolicyResourceOptions(protect, [], None, [], PolicyCustomTimeouts(0, 0, 0), [], parent)


def provider(name: str = "aws-us-east-1", region: str = "us-east-1", type_: str = "pulumi:providers:aws"):
    return PolicyProviderResource(type_, {"region": region}, f"urn:pulumi:test::llm-serving::{type_}::{name}", name)


def resource_violations(
    policy: Any,
    resource_type: str,
    props: Mapping[str, Any],
    *,
    name: str = "subject",
    config: Mapping[str, Any] | None = None,
    provider_resource: PolicyProviderResource | None = None,
    protect: bool = False,
) -> list[str]:
    """Messages a resource policy reports for one resource (empty: compliant)."""
    messages: list[str] = []
    args = ResourceValidationArgs(
        resource_type,
        dict(props),
        f"urn:pulumi:test::llm-serving::{resource_type}::{name}",
        name,
        _options(protect=protect),
        provider_resource,
        dict(config or {}),
    )
    policy.validate(args, lambda message, urn=None: messages.append(message))
    return messages


def policy_resource(
    resource_type: str,
    name: str,
    props: Mapping[str, Any],
    *,
    parent: PolicyResource | None = None,
    dependencies: list[PolicyResource] | None = None,
    property_dependencies: dict[str, list[PolicyResource]] | None = None,
    provider_resource: PolicyProviderResource | None = None,
    protect: bool = False,
) -> PolicyResource:
    return PolicyResource(
        resource_type,
        dict(props),
        f"urn:pulumi:test::llm-serving::{resource_type}::{name}",
        name,
        _options(parent.urn if parent else None, protect),
        provider_resource,
        parent,
        dependencies or [],
        property_dependencies or {},
    )


def stack_violations(
    policy: Any, resources: list[PolicyResource], config: Mapping[str, Any] | None = None
) -> list[tuple[str, str | None]]:
    """(message, urn) pairs a stack policy reports (empty: compliant)."""
    found: list[tuple[str, str | None]] = []
    policy.validate(StackValidationArgs(resources, dict(config or {})), lambda m, urn=None: found.append((m, urn)))
    return found
