"""Small helpers the policies share: reading JSON documents, providers and config.

Kept free of policy decisions so each policy file reads on its own.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from pulumi_policy import PolicyResource

# Type tokens whose package is a real provider (not a component or the stack).
PROVIDER_PACKAGES = ("aws", "kubernetes", "random")


def is_custom_resource(resource_type: str) -> bool:
    """Resources a provider manages; components and providers themselves are not."""
    return resource_type.split(":", 1)[0] in PROVIDER_PACKAGES


def json_document(value: Any) -> dict[str, Any] | None:
    """IAM/KMS policies arrive as JSON strings (or already parsed); None when unreadable."""
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, str):
        try:
            parsed = json.loads(value)
        except ValueError:
            return None
        return parsed if isinstance(parsed, dict) else None
    return None


def statements(document: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    raw = document.get("Statement", [])
    for statement in [raw] if isinstance(raw, Mapping) else raw:
        if isinstance(statement, Mapping):
            yield dict(statement)


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def principals(statement: Mapping[str, Any]) -> list[str]:
    """Every principal a statement names, whatever the form (`"*"`, {"AWS": [...]}, ...)."""
    principal = statement.get("Principal")
    if principal is None:
        return []
    if isinstance(principal, str):
        return [principal]
    found: list[str] = []
    for value in principal.values():
        found.extend(str(v) for v in as_list(value))
    return found


def resources_of_type(resources: Iterable[PolicyResource], *types: str) -> list[PolicyResource]:
    return [r for r in resources if r.resource_type in types]


def depends_on(resource: PolicyResource, prop: str, target_urn: str) -> bool:
    """Whether `resource.prop` was computed from `target_urn` (e.g. a flow log's vpcId)."""
    deps = resource.property_dependencies.get(prop) or []
    if any(dep.urn == target_urn for dep in deps):
        return True
    return any(dep.urn == target_urn for dep in resource.dependencies) and not deps


def component_of(resource: PolicyResource) -> str:
    """The nearest llm-serving component above a resource (`Network`), skipping the regional grouping."""
    parent = resource.parent
    while parent is not None:
        package, _, rest = parent.resource_type.partition(":")
        if package == "llm-serving" and not rest.endswith(":RegionalPlatform"):
            return rest.split(":", 1)[1]
        parent = parent.parent
    return "Platform"


def region_of(resource: PolicyResource) -> str | None:
    """The AWS region (or on-prem target) a resource lands in, from its provider."""
    provider = resource.provider
    if provider is not None:
        if provider.resource_type == "pulumi:providers:aws":
            return provider.props.get("region")
        if provider.resource_type == "pulumi:providers:kubernetes" and provider.name.startswith("onprem-"):
            return provider.name
    return None


def cost_inputs(resources: Iterable[PolicyResource]) -> list[dict[str, Any]]:
    """Provider-managed resources in the shape `components.cost.estimate` reads.

    The same shape `llmstack plan` builds from plan.json, so the report and this pack agree.
    """
    return [
        {
            "type": r.resource_type,
            "name": r.name,
            "inputs": r.props,
            "region": region_of(r),
            "component": component_of(r),
        }
        for r in resources
        if is_custom_resource(r.resource_type)
    ]
