"""Which input changes force a resource's REPLACEMENT, per resource type, from the providers' own sources.

The table is `llmstack/data/force_new.json`: for every type this stack's plans use, the dotted Pulumi
input paths (no list indices) whose change makes the provider plan a replace - Terraform's `ForceNew` /
`RequiresReplace` for the bridged AWS, random and TLS providers, pulumi-kubernetes's `forceNewProperties`
for Kubernetes kinds. Each entry names the source file and commit it was read from. Changes the
providers only sometimes turn into a replacement (CustomizeDiff rules) are listed under `conditional`:
`may_replace` names the rule a change falls under, and a diff shows it as "may replace", never as a
certain one.
"""

from __future__ import annotations

import functools
import json
import re
from importlib import resources
from typing import Any

_INDEX = re.compile(r"\[\d+\]")


@functools.cache
def table() -> dict[str, Any]:
    """The whole data file: `sources` (repo, ref, commit per provider) and `types`."""
    return json.loads(resources.files("llmstack").joinpath("data/force_new.json").read_text())


@functools.cache
def replace_on(type_token: str) -> tuple[str, ...]:
    """The force-new input paths of a type; () for a type the table does not list."""
    entry = table()["types"].get(type_token)
    return tuple(entry["replace_on"]) if entry else ()


@functools.cache
def known_types() -> frozenset[str]:
    return frozenset(table()["types"])


def forces_replacement(type_token: str, path: str) -> str | None:
    """The listed path a changed input path falls at or below, or None.

    `path` is a flattened input path such as `vpcConfig.subnetIds[1]` or `spec.selector.matchLabels.app`;
    list indices are dropped and whole segments compared, so `name` matches `name` and `name.x` but
    not `namePrefix`.
    """
    segments = tuple(s for s in _INDEX.sub("", path).split(".") if s)
    for listed in replace_on(type_token):
        head = tuple(listed.split("."))
        if segments[: len(head)] == head:
            return listed
    return None


@functools.cache
def _conditional(type_token: str) -> tuple[tuple[str, str], ...]:
    entry = table()["types"].get(type_token) or {}
    return tuple((rule["path"], rule["when"]) for rule in entry.get("conditional", ()))


def may_replace(type_token: str, path: str) -> str | None:
    """When a changed input path falls at or below a conditional (CustomizeDiff) rule's path: the rule,
    as "`path`: when"; otherwise None. Matched by whole segments, as `forces_replacement` is."""
    segments = tuple(s for s in _INDEX.sub("", path).split(".") if s)
    for listed, when in _conditional(type_token):
        head = tuple(listed.split("."))
        if segments[: len(head)] == head:
            return f"`{listed}`: {when}"
    return None
