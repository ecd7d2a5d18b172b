"""Waivers: reviewed, expiring exceptions to one policy for one named resource and exact messages.

`policies/waivers.yaml` is the register a reviewer audits. Each waiver names the policy, the stacks
it applies to, the exact resource (its type token and logical name, or its URN; never a pattern, so a
renamed or re-typed resource leaves the waiver unmatched, never broader), the exact violation
messages it accepts (`violations`: each as the policy reports it, so another violation of the same
policy on the same resource is still reported), a reason, an owner and the last day it holds
(`expires`, ISO date, inclusive).

The CLI reads the file (`load_waivers`, every error one line naming file:line and key) and hands
each stack's waivers to the pack through its config, so `pulumi up --policy-pack-config` gets the
same ones: each waived policy's config carries its `waivers`, and `policy-waivers-valid` gets them
all. In the pack, `policies/guard.py` drops a violation whose policy, resource and message a live
waiver names, and `policy-waivers-valid` reports waivers that expired or whose messages are no
longer all reported.
"""

from __future__ import annotations

import os
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import yaml

WAIVERS_FILE = Path(__file__).with_name("waivers.yaml")
VALIDITY_POLICY = "policy-waivers-valid"
# LLMSTACK_TODAY=YYYY-MM-DD judges expiry as of a later day ("what lapses by then?"); it can move the
# date forward only, so it never revives an expired waiver.
TODAY_VARIABLE = "LLMSTACK_TODAY"

_TYPE_TOKEN = re.compile(r"^[A-Za-z0-9_.-]+:[A-Za-z0-9_./-]*:[A-Za-z0-9_]+$")
_STACK_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")
_KEYS = ("policy", "stacks", "resource", "violations", "reason", "owner", "expires")


class WaiverError(ValueError):
    """A malformed waivers file: the message is one line, `file:line: key: problem`."""


@dataclass(frozen=True)
class Waiver:
    source: str
    """Where a reviewer finds it: `policies/waivers.yaml:12`."""
    policy: str
    stacks: tuple[str, ...]
    resource_type: str | None
    resource_name: str | None
    urn: str | None
    violations: tuple[str, ...]
    """The exact messages it accepts (`one_line` form, as report.md prints them); nothing else."""
    reason: str
    owner: str
    expires: date

    @property
    def resource(self) -> str:
        """The resource as a reviewer reads it: `ClusterRole keda-operator`, or its URN."""
        if self.urn is not None:
            return self.urn
        return f"{str(self.resource_type).rsplit(':', 1)[-1]} {self.resource_name}"

    def names(self, urn: str | None) -> bool:
        """Whether this waiver names the resource with this URN (exactly; no patterns)."""
        if not urn:
            return False
        if self.urn is not None:
            return urn == self.urn
        return urn_type_and_name(urn) == (self.resource_type, self.resource_name)

    def accepts(self, urn: str | None, message: str) -> bool:
        """Whether this waiver accepts this violation: its resource, and one of its messages exactly."""
        return isinstance(message, str) and self.names(urn) and one_line(message) in self.violations

    def expired(self, today: date) -> bool:
        return today > self.expires

    def to_config(self) -> dict[str, Any]:
        """The waiver as the pack's config carries it (JSON; the stacks are already applied)."""
        if self.urn is not None:
            resource: dict[str, Any] = {"urn": self.urn}
        else:
            resource = {"type": self.resource_type, "name": self.resource_name}
        return {
            "source": self.source,
            "policy": self.policy,
            "resource": resource,
            "violations": list(self.violations),
            "reason": self.reason,
            "owner": self.owner,
            "expires": self.expires.isoformat(),
        }

    @classmethod
    def from_config(cls, value: Any) -> Waiver:
        """The inverse of `to_config`; ValueError (naming the field) when the entry is malformed."""
        if not isinstance(value, Mapping):
            raise ValueError("a waiver must be an object")
        fields: dict[str, str] = {}
        for key in ("source", "policy", "reason", "owner", "expires"):
            text = value.get(key)
            if not isinstance(text, str) or not text:
                raise ValueError(f"{key}: must be a non-empty string")
            fields[key] = text
        resource = value.get("resource")
        urn, type_, name = _resource_fields(resource)
        violations = value.get("violations")
        if (
            not isinstance(violations, list)
            or not violations
            or _violation_problem(violations) is not None
            or len(set(violations)) != len(violations)
        ):
            raise ValueError("violations: must be a non-empty list of distinct one-line messages")
        return cls(
            source=fields["source"],
            policy=fields["policy"],
            stacks=(),
            resource_type=type_,
            resource_name=name,
            urn=urn,
            violations=tuple(violations),
            reason=fields["reason"],
            owner=fields["owner"],
            expires=date.fromisoformat(fields["expires"]),
        )


def _resource_fields(resource: Any) -> tuple[str | None, str | None, str | None]:
    """(urn, type, name) of a `resource` entry: exactly `{urn}` or `{type, name}`."""
    if not isinstance(resource, Mapping):
        raise ValueError("resource: must be a mapping with `type` and `name`, or `urn`")
    keys = set(resource)
    if keys == {"urn"}:
        urn = resource["urn"]
        if not isinstance(urn, str) or urn_type_and_name(urn) is None:
            raise ValueError("resource.urn: must be a URN (urn:pulumi:STACK::PROJECT::TYPE::NAME)")
        return urn, None, None
    if keys == {"type", "name"}:
        type_, name = resource["type"], resource["name"]
        if not isinstance(type_, str) or not _TYPE_TOKEN.match(type_):
            raise ValueError(f"resource.type: must be a type token such as aws:s3/bucket:Bucket (got {type_!r})")
        if not isinstance(name, str) or not name or any(c in name for c in "*?[]"):
            raise ValueError(f"resource.name: must be the resource's exact logical name (got {name!r})")
        return None, type_, name
    raise ValueError(f"resource: give `type` and `name`, or `urn` alone (got {', '.join(sorted(map(str, keys)))})")


def one_line(message: str) -> str:
    """A violation message as report.md and `llmstack plan` print it: runs of whitespace as one space."""
    return " ".join(message.split())


def _violation_problem(messages: list[Any]) -> tuple[int, str] | None:
    """(index, problem) of the first entry of `violations` that is not an exact one-line message."""
    for index, message in enumerate(messages):
        if not isinstance(message, str) or not message.strip():
            return index, f"must be the exact message the policy reports, a non-empty string (got {message!r})"
        if one_line(message) != message:
            return index, "must be the message on one line, as report.md prints it (no line breaks or extra spaces)"
    return None


def urn_type_and_name(urn: str) -> tuple[str, str] | None:
    """(type token, logical name) of a URN `urn:pulumi:STACK::PROJECT::PARENT$TYPE::NAME`."""
    parts = urn.split("::", 3)
    if len(parts) != 4 or not parts[0].startswith("urn:pulumi:") or not parts[2] or not parts[3]:
        return None
    return parts[2].rsplit("$", 1)[-1], parts[3]


def urn_stack(urn: str) -> str:
    return urn.split("::", 1)[0].removeprefix("urn:pulumi:")


def today() -> date:
    """Today in UTC, or LLMSTACK_TODAY when that is later (never earlier)."""
    real = datetime.now(timezone.utc).date()
    override = os.environ.get(TODAY_VARIABLE, "").strip()
    if not override:
        return real
    try:
        return max(real, date.fromisoformat(override))
    except ValueError:
        return real


def waivers_in(config: Mapping[str, Any] | None) -> list[Waiver]:
    """The well-formed waivers of a policy's config (a malformed one waives nothing)."""
    found = []
    for value in (config or {}).get("waivers") or []:
        try:
            found.append(Waiver.from_config(value))
        except (ValueError, TypeError):
            continue
    return found


# --- the register file ---------------------------------------------------------------------------


def load_waivers(path: Path, known_policies: Collection[str] | None, display: str | None = None) -> list[Waiver]:
    """Every waiver of the file, checked; WaiverError (one line, `file:line: key: problem`) otherwise.

    `known_policies`: the pack's policy names (None: left to the pack, which checks them when configured).
    """
    shown = display or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []  # no register: nothing is waived
    except (OSError, UnicodeDecodeError) as exc:
        raise WaiverError(f"{shown}: cannot read ({exc.__class__.__name__})") from None
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark else ""
        raise WaiverError(f"{shown}{where}: YAML syntax error: {getattr(exc, 'problem', None) or exc}") from None
    finally:
        loader.dispose()
    if root is None:
        return []
    if not isinstance(root, yaml.MappingNode) or _keys(root, shown) != ["waivers"]:
        raise WaiverError(f"{shown}:{root.start_mark.line + 1}: must be a mapping with one key, `waivers`")
    entries = root.value[0][1]
    if isinstance(entries, yaml.ScalarNode) and entries.tag == "tag:yaml.org,2002:null":
        return []
    if not isinstance(entries, yaml.SequenceNode):
        raise WaiverError(f"{shown}:{entries.start_mark.line + 1}: waivers: must be a list")
    waivers = [_waiver(node, shown, index, known_policies) for index, node in enumerate(entries.value)]
    seen: dict[tuple[str, str, str], str] = {}
    for waiver in waivers:
        for stack in waiver.stacks:
            key = (waiver.policy, stack, waiver.resource)
            if key in seen:
                raise WaiverError(
                    f"{waiver.source}: waivers: duplicates {seen[key]} "
                    f"({waiver.policy} on {waiver.resource} in {stack})"
                )
            seen[key] = waiver.source
    return waivers


def _keys(node: yaml.MappingNode, shown: str) -> list[str]:
    keys = []
    for key_node, _ in node.value:
        key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
        if key in keys:
            raise WaiverError(f"{shown}:{key_node.start_mark.line + 1}: {key}: given twice")
        keys.append(key)
    return keys


def _waiver(node: yaml.Node, shown: str, index: int, known_policies: Collection[str] | None) -> Waiver:
    line = node.start_mark.line + 1
    where = f"{shown}:{line}: waivers[{index}]"
    if not isinstance(node, yaml.MappingNode):
        raise WaiverError(f"{where}: must be a mapping with {', '.join(_KEYS)}")
    keys = _keys(node, shown)
    unknown = [k for k in keys if k not in _KEYS]
    if unknown:
        raise WaiverError(f"{where}.{unknown[0]}: unknown key; keys: {', '.join(_KEYS)}")
    missing = [k for k in _KEYS if k not in keys]
    if missing:
        raise WaiverError(f"{where}: lacks {', '.join(missing)}")
    values: dict[str, Any] = {}
    lines: dict[str, int] = {}
    item_lines: list[int] = []  # of each entry of `violations`
    loader = yaml.SafeLoader("")
    try:
        for key_node, value_node in node.value:
            values[key_node.value] = loader.construct_object(value_node, deep=True)
            lines[key_node.value] = key_node.start_mark.line + 1
            if key_node.value == "violations" and isinstance(value_node, yaml.SequenceNode):
                item_lines = [item.start_mark.line + 1 for item in value_node.value]
    except yaml.YAMLError as exc:
        raise WaiverError(f"{where}: {getattr(exc, 'problem', None) or exc}") from None
    finally:
        loader.dispose()

    def fail(key: str, problem: str) -> WaiverError:
        return WaiverError(f"{shown}:{lines[key]}: waivers[{index}].{key}: {problem}")

    policy = values["policy"]
    if not isinstance(policy, str) or not policy:
        raise fail("policy", "must be a policy name")
    if known_policies is not None and policy not in known_policies:
        raise fail("policy", f"no policy {policy!r} in the pack")
    if policy == VALIDITY_POLICY:
        raise fail("policy", f"{VALIDITY_POLICY} cannot be waived")
    stacks = values["stacks"]
    if (
        not isinstance(stacks, list)
        or not stacks
        or not all(isinstance(s, str) and _STACK_NAME.match(s) for s in stacks)
        or len(set(stacks)) != len(stacks)
    ):
        raise fail("stacks", "must be a list of distinct stack names, e.g. [prod]")
    try:
        urn, type_, name = _resource_fields(values["resource"])
    except ValueError as exc:  # its message starts with `resource`
        raise WaiverError(f"{shown}:{lines['resource']}: waivers[{index}].{exc}") from None
    if urn is not None and urn_stack(urn) not in stacks:
        raise fail("resource", f"the URN is of stack '{urn_stack(urn)}', not of {', '.join(stacks)}")
    violations = _violations(values["violations"], item_lines, lines["violations"], shown, index)
    for key in ("reason", "owner"):
        if not isinstance(values[key], str) or len(values[key].strip()) < 3:
            raise fail(key, "must say who or why, in words")
    expires = values["expires"]
    if isinstance(expires, str):
        try:
            expires = date.fromisoformat(expires)
        except ValueError:
            raise fail("expires", f"must be an ISO date such as 2027-01-31 (got {expires!r})") from None
    if isinstance(expires, datetime):
        raise fail("expires", f"must be a day, without a time (got {expires.isoformat()})")
    if not isinstance(expires, date):
        raise fail("expires", f"must be an ISO date such as 2027-01-31 (got {expires!r})")
    return Waiver(
        source=f"{shown}:{line}",
        policy=policy,
        stacks=tuple(stacks),
        resource_type=type_,
        resource_name=name,
        urn=urn,
        violations=violations,
        reason=" ".join(values["reason"].split()),
        owner=values["owner"].strip(),
        expires=expires,
    )


def _violations(value: Any, item_lines: list[int], line: int, shown: str, index: int) -> tuple[str, ...]:
    """The waiver's accepted messages: a non-empty list of distinct, exact one-line strings."""
    where = f"{shown}:{line}: waivers[{index}].violations"
    if not isinstance(value, list) or not value:
        raise WaiverError(
            f"{where}: must be a non-empty list of the exact messages the policy reports on the resource "
            "(as report.md shows them)"
        )
    problem = _violation_problem(value)
    if problem is not None:
        item, text = problem
        raise WaiverError(f"{shown}:{item_lines[item]}: waivers[{index}].violations[{item}]: {text}")
    for item, message in enumerate(value):
        first = value.index(message)
        if first != item:
            raise WaiverError(
                f"{shown}:{item_lines[item]}: waivers[{index}].violations[{item}]: duplicates violations[{first}]"
            )
    return tuple(value)


def for_stack(waivers: list[Waiver], stack: str) -> list[Waiver]:
    return [w for w in waivers if stack in w.stacks]
