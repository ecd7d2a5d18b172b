"""The vocabulary of the mutation catalogue: select resources of a plan by type and property, edit one.

Nothing here knows a resource name. A `Select` picks resources by type and conditions on their
`inputs`; a path such as `spec.template.spec.containers[0].resources` or
`metadata.labels["app.kubernetes.io/component"]` walks `inputs` (dict keys, list indices); an
operation changes one property (`Set`, `Delete`, `Append`, `Multiply`, `Sub`), a JSON document held in a
string property (`Doc`: IAM, key and bucket policies), a resource option (`Option`), or the
resource list (`Remove`, `AddClone`).
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

Resource = dict[str, Any]

_TOKEN = re.compile(r'\.?([A-Za-z0-9_$@-]+)|\[(\d+)\]|\["([^"]+)"\]')


class CatalogueError(Exception):
    """A catalogue entry that cannot apply to the plan (no match, a path that is not there)."""


def parse_path(path: str) -> list[str | int]:
    parts: list[str | int] = []
    position = 0
    while position < len(path):
        match = _TOKEN.match(path, position)
        if match is None or match.end() == position:
            raise CatalogueError(f"bad path {path!r} at {position}")
        key, index, quoted = match.groups()
        parts.append(int(index) if index is not None else (quoted if quoted is not None else key))
        position = match.end()
    return parts


_MISSING = object()


def get_path(document: Any, path: str) -> Any:
    """The value at `path`, or `_MISSING`."""
    current = document
    for part in parse_path(path):
        if isinstance(part, int):
            if not isinstance(current, list) or part >= len(current):
                return _MISSING
        elif not isinstance(current, dict) or part not in current:
            return _MISSING
        current = cast(Any, current)[part]
    return current


def _parent(document: Any, path: str, create: bool) -> tuple[Any, str | int]:
    parts = parse_path(path)
    current = document
    for part, following in zip(parts, parts[1:], strict=False):
        if isinstance(part, int):
            if not isinstance(current, list) or part >= len(current):
                raise CatalogueError(f"path {path!r}: no index {part}")
        elif not isinstance(current, dict):
            raise CatalogueError(f"path {path!r}: {part!r} is not in an object")
        elif part not in current:
            if not create:
                raise CatalogueError(f"path {path!r}: no {part!r}")
            current[part] = [] if isinstance(following, int) else {}
        current = cast(Any, current)[part]
    return current, parts[-1]


# --- conditions on a resource's inputs -----------------------------------------------------------


@dataclass(frozen=True)
class Eq:
    path: str
    value: Any

    def __call__(self, inputs: Mapping[str, Any]) -> bool:
        return get_path(inputs, self.path) == self.value


@dataclass(frozen=True)
class Contains:
    """The value at `path` (a string, or a list or object serialised) contains `text`."""

    path: str
    text: str

    def __call__(self, inputs: Mapping[str, Any]) -> bool:
        value = get_path(inputs, self.path)
        if value is _MISSING:
            return False
        return self.text in (value if isinstance(value, str) else json.dumps(value))


@dataclass(frozen=True)
class Has:
    path: str

    def __call__(self, inputs: Mapping[str, Any]) -> bool:
        return get_path(inputs, self.path) is not _MISSING


@dataclass(frozen=True)
class Not:
    condition: Callable[[Mapping[str, Any]], bool]

    def __call__(self, inputs: Mapping[str, Any]) -> bool:
        return not self.condition(inputs)


@dataclass(frozen=True)
class All:
    """Every condition holds (an RBAC rule on secrets that names no resource)."""

    conditions: tuple[Callable[[Mapping[str, Any]], bool], ...]

    def __call__(self, inputs: Mapping[str, Any]) -> bool:
        return all(condition(inputs) for condition in self.conditions)


@dataclass(frozen=True)
class Select:
    """Resources of `type` whose inputs meet every condition; `pick` the first (0), n-th, or "all"."""

    type: str
    where: tuple[Callable[[Mapping[str, Any]], bool], ...] = ()
    pick: int | str = 0

    def matches(self, resources: Sequence[Resource]) -> list[int]:
        found = [
            index
            for index, r in enumerate(resources)
            if r["type"] == self.type and isinstance(r.get("inputs"), dict) and all(c(r["inputs"]) for c in self.where)
        ]
        if self.pick == "all":
            return found
        return _pick(found, self.pick)


def where(type_: str, *conditions: Callable[[Mapping[str, Any]], bool], pick: int | str = 0) -> Select:
    return Select(type_, tuple(conditions), pick)


def _pick(found: list[int], pick: int | str) -> list[int]:
    return found if pick == "all" else found[int(pick) : int(pick) + 1]


@dataclass(frozen=True)
class Linked:
    """The resources that property `prop` of the `source` resources was computed from (a flow log's VPC)."""

    source: Selector
    prop: str
    pick: int | str = "all"

    def matches(self, resources: Sequence[Resource]) -> list[int]:
        urns = {
            urn
            for index in self.source.matches(resources)
            for urn in (resources[index].get("property_dependencies") or {}).get(self.prop) or []
        }
        return _pick([i for i, r in enumerate(resources) if r["urn"] in urns], self.pick)


@dataclass(frozen=True)
class Attached:
    """Resources of `type` whose property `prop` was computed from a `target` (a bucket's SSE config)."""

    type: str
    prop: str
    target: Selector
    pick: int | str = 0

    def matches(self, resources: Sequence[Resource]) -> list[int]:
        targets = {resources[i]["urn"] for i in self.target.matches(resources)}
        found = [
            index
            for index, r in enumerate(resources)
            if r["type"] == self.type and targets & set((r.get("property_dependencies") or {}).get(self.prop) or [])
        ]
        return _pick(found, self.pick)


WORKLOAD_TYPES = ("kubernetes:apps/v1:Deployment", "kubernetes:apps/v1:StatefulSet", "kubernetes:apps/v1:DaemonSet")


@dataclass(frozen=True)
class SelectedBy:
    """Workloads whose pods a NetworkPolicy, PodDisruptionBudget or Service selects (same cluster, namespace)."""

    source: Selector

    def matches(self, resources: Sequence[Resource]) -> list[int]:
        found = []
        for index in self.source.matches(resources):
            source = resources[index]
            spec = source["inputs"].get("spec") or {}
            selector = (spec.get("podSelector") or spec.get("selector") or {}).get("matchLabels") or spec.get(
                "selector"
            )
            namespace = (source["inputs"].get("metadata") or {}).get("namespace")
            for i, r in enumerate(resources):
                if r["type"] not in WORKLOAD_TYPES or r.get("provider") != source.get("provider"):
                    continue
                labels = get_path(r["inputs"], "spec.template.metadata.labels")
                if (r["inputs"].get("metadata") or {}).get("namespace") != namespace or not isinstance(labels, dict):
                    continue
                if isinstance(selector, dict) and selector and all(labels.get(k) == v for k, v in selector.items()):
                    found.append(i)
        return sorted(set(found))


Selector = Select | Linked | Attached | SelectedBy


@dataclass(frozen=True)
class From:
    """An input value of an added resource copied from another resource's inputs."""

    source: Selector
    path: str


# --- operations on one selected resource ---------------------------------------------------------


@dataclass
class Context:
    """What an operation may read or change besides its resource: the plan's resource list."""

    resources: list[Resource]
    touched: list[str] = field(default_factory=list)
    """URNs an operation changed, added or removed (a violation naming one of them kills)."""


@dataclass(frozen=True)
class Set:
    path: str
    value: Any

    def edit(self, document: Any) -> None:
        parent, key = _parent(document, self.path, create=True)
        if isinstance(key, int):
            if not isinstance(parent, list) or key >= len(parent):
                raise CatalogueError(f"path {self.path!r}: no index {key}")
        elif not isinstance(parent, dict):
            raise CatalogueError(f"path {self.path!r}: not an object")
        cast(Any, parent)[key] = copy.deepcopy(self.value)


@dataclass(frozen=True)
class Delete:
    path: str

    def edit(self, document: Any) -> None:
        parent, key = _parent(document, self.path, create=False)
        try:
            del parent[key]
        except (KeyError, IndexError, TypeError):
            raise CatalogueError(f"path {self.path!r}: nothing to delete") from None


@dataclass(frozen=True)
class Append:
    path: str
    value: Any

    def edit(self, document: Any) -> None:
        parent, key = _parent(document, self.path, create=True)
        if isinstance(parent, dict) and key not in parent:
            parent[key] = []
        target = parent[key]
        if not isinstance(target, list):
            raise CatalogueError(f"path {self.path!r}: not a list")
        target.append(copy.deepcopy(self.value))


@dataclass(frozen=True)
class Multiply:
    path: str
    factor: float

    def edit(self, document: Any) -> None:
        value = get_path(document, self.path)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise CatalogueError(f"path {self.path!r}: not a number")
        product = value * self.factor
        Set(self.path, int(product) if isinstance(value, int) and product == int(product) else product).edit(document)


@dataclass(frozen=True)
class Sub:
    """Rewrite the string at `path` with a regular expression (an image's registry or tag), whatever it is now."""

    path: str
    pattern: str
    replacement: str

    def edit(self, document: Any) -> None:
        value = get_path(document, self.path)
        if not isinstance(value, str):
            raise CatalogueError(f"path {self.path!r}: not a string")
        changed, count = re.subn(self.pattern, self.replacement, value, count=1)
        if not count:
            raise CatalogueError(f"path {self.path!r}: {value!r} does not match {self.pattern!r}")
        Set(self.path, changed).edit(document)


@dataclass(frozen=True)
class DropWhere:
    """Drop the items of the list at `path` that meet `condition` (KEDA triggers of one kind)."""

    path: str
    condition: Callable[[Mapping[str, Any]], bool]

    def edit(self, document: Any) -> None:
        items = get_path(document, self.path)
        if not isinstance(items, list):
            raise CatalogueError(f"path {self.path!r}: not a list")
        Set(self.path, [item for item in items if not (isinstance(item, dict) and self.condition(item))]).edit(document)


@dataclass(frozen=True)
class Each:
    """Apply `change` to every item of the list at `path` that meets `condition` (the rate-based WAF rule)."""

    path: str
    condition: Callable[[Mapping[str, Any]], bool]
    change: Set | Delete | Append | Multiply | Sub

    def edit(self, document: Any) -> None:
        items = get_path(document, self.path)
        if not isinstance(items, list):
            raise CatalogueError(f"path {self.path!r}: not a list")
        chosen = [item for item in items if isinstance(item, dict) and self.condition(item)]
        if not chosen:
            raise CatalogueError(f"path {self.path!r}: no item meets {self.condition}")
        for item in chosen:
            self.change.edit(item)


Edit = Set | Delete | Append | Multiply | Sub | DropWhere | Each


@dataclass(frozen=True)
class Doc:
    """Edit the JSON document held as a string in `inputs[field]` (an IAM or resource policy)."""

    field: str
    edits: tuple[Edit, ...]

    def edit(self, document: Any) -> None:
        raw = document.get(self.field) if isinstance(document, dict) else None
        if not isinstance(raw, str):
            raise CatalogueError(f"{self.field}: not a JSON string")
        inner = json.loads(raw)
        for edit in self.edits:
            edit.edit(inner)
        document[self.field] = json.dumps(inner)


def doc(field_name: str, *edits: Edit) -> Doc:
    return Doc(field_name, tuple(edits))


@dataclass(frozen=True)
class Option:
    """Set a resource option of plan.json (protect), not an input."""

    key: str
    value: Any


@dataclass(frozen=True)
class MoveTo:
    """Manage the resource with the provider of the first `source` resource (another cluster or region)."""

    source: Selector


@dataclass(frozen=True)
class Remove:
    """Remove the resource."""


@dataclass(frozen=True)
class AddClone:
    """Add a copy of the selected resource as a new resource (same provider and parent).

    `type` and `inputs` replace the copy's (inputs=None keeps them, then `edits` apply);
    `deps` points properties at other resources, {property: selector}: the dependency moves to
    the target and the input names it as it named the old one (its name or mock ID, `<name>-id`)
    unless `inputs` set it.
    """

    type: str | None = None
    inputs: Mapping[str, Any] | None = None
    edits: tuple[Edit | Doc, ...] = ()
    deps: Mapping[str, Selector] = field(default_factory=dict)
    suffix: str = "mutant"


Op = Edit | Doc | Option | MoveTo | Remove | AddClone


def _renamed_urn(urn: str, type_: str, name: str) -> str:
    head, _, _ = urn.rpartition("::")
    prefix, _, qualified = head.rpartition("::")
    parents = qualified.rsplit("$", 1)[0] + "$" if "$" in qualified else ""
    return f"{prefix}::{parents}{type_}::{name}"


def _resolve(value: Any, resources: Sequence[Resource]) -> Any:
    if not isinstance(value, From):
        return copy.deepcopy(value)
    found = value.source.matches(resources)
    if not found:
        raise CatalogueError(f"nothing matches {value.source} to copy {value.path!r} from")
    copied = get_path(resources[found[0]]["inputs"], value.path)
    if copied is _MISSING:
        raise CatalogueError(f"no {value.path!r} to copy")
    return copy.deepcopy(copied)


def _reference(value: Any, before: Sequence[Resource], target: Resource) -> str:
    """How an input refers to `target`, in the shape it referred to its old target: its name or its ID."""
    if len(before) == 1 and value == before[0]["name"]:
        return target["name"]
    return f"{target['name']}-id"  # the mock engine's ID of a resource


def _forget_dependency(resource: Resource, prop: str) -> None:
    """An input that is gone was computed from nothing: drop its dependencies (unless another input has them)."""
    deps = resource.get("property_dependencies") or {}
    dropped = set(deps.pop(prop, None) or [])
    still = {urn for urns in deps.values() for urn in urns}
    resource["dependencies"] = [u for u in resource.get("dependencies") or [] if u not in dropped or u in still]


def apply(op: Op, index: int, context: Context) -> None:
    resources = context.resources
    resource = resources[index]
    if isinstance(op, (Set, Delete, Append, Multiply, Sub, DropWhere, Each, Doc)):
        op.edit(resource["inputs"])
        parts = parse_path(op.path) if isinstance(op, Delete) else []
        if len(parts) == 1:
            _forget_dependency(resource, str(parts[0]))
        context.touched.append(resource["urn"])
    elif isinstance(op, Option):
        resource[op.key] = op.value
        context.touched.append(resource["urn"])
    elif isinstance(op, MoveTo):
        found = op.source.matches(resources)
        if not found:
            raise CatalogueError(f"nothing matches {op.source} to move to")
        resource["provider"] = resources[found[0]]["provider"]
        context.touched.append(resource["urn"])
    elif isinstance(op, Remove):
        context.touched.append(resource["urn"])
        del resources[index]
    elif isinstance(op, AddClone):
        clone = copy.deepcopy(resource)
        clone["type"] = op.type or resource["type"]
        clone["name"] = f"{resource['name']}-{op.suffix}"
        clone["urn"] = _renamed_urn(resource["urn"], clone["type"], clone["name"])
        if any(r["urn"] == clone["urn"] for r in resources):
            raise CatalogueError(f"added resource {clone['urn']} already exists")
        if op.inputs is not None:
            clone["inputs"] = {key: _resolve(value, resources) for key, value in op.inputs.items()}
            clone["property_dependencies"] = {}
            clone["dependencies"] = []
        for edit in op.edits:
            edit.edit(clone["inputs"])
        by_urn = {r["urn"]: r for r in resources}
        for prop, select in op.deps.items():
            targets = select.matches(resources)
            if not targets:
                raise CatalogueError(f"added {clone['type']}: nothing matches {select} for {prop}")
            target = resources[targets[0]]
            before = [by_urn[u] for u in (clone.get("property_dependencies") or {}).get(prop) or [] if u in by_urn]
            value = clone["inputs"].get(prop)
            _forget_dependency(clone, prop)
            clone.setdefault("property_dependencies", {})[prop] = [target["urn"]]
            clone["dependencies"] = [*clone["dependencies"], target["urn"]]
            if op.inputs is None or prop not in op.inputs:
                clone["inputs"][prop] = _reference(value, before, target)
        resources.insert(index + 1, clone)
        context.touched.append(clone["urn"])
    else:  # pragma: no cover - the Op union is closed
        raise CatalogueError(f"unknown operation {op!r}")
