"""plan.json: the stable record of an offline plan, and the views every consumer derives from it.

Contract (DESIGN.md): project, stack, resources (urn, type, name, parent, provider, protect,
retain_on_delete, dependencies, inputs), outputs, policy (pack, violations), cost
(monthly_usd, budget_usd, by_region, by_component). Extra keys may be added, never removed.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from llmstack.errors import UsageError

PLAN_VERSION = 1


def placement(resources: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, str | None]]:
    """Region (or on-prem target) and component of every resource, by URN.

    Region comes from the resource's AWS provider, or the EKS cluster its Kubernetes provider
    connects to; an on-prem target from its Kubernetes provider's name; otherwise from the
    nearest ancestor that has one. The component is the
    nearest llm-serving component above the resource (RegionalPlatform is only a grouping).
    """
    by_urn = {r["urn"]: r for r in resources}
    result: dict[str, dict[str, str | None]] = {}

    def region_of(resource: Mapping[str, Any]) -> str | None:
        current: Mapping[str, Any] | None = resource
        while current is not None:
            if current["type"] == "pulumi:providers:aws":
                return current["inputs"].get("region")
            if current["type"] == "pulumi:providers:kubernetes":
                if current["name"].startswith("onprem-"):
                    return current["name"]
                # An EKS cluster's provider: the region of the cluster its kubeconfig is built from.
                for urn in (current.get("property_dependencies") or {}).get("kubeconfig") or []:
                    cluster = by_urn.get(urn)
                    if cluster is not None and cluster["type"] == "aws:eks/cluster:Cluster":
                        return region_of(cluster)
            provider = by_urn.get(current.get("provider") or "")
            if provider is not None:
                return region_of(provider)
            current = by_urn.get(current.get("parent") or "")
        return None

    def component_of(resource: Mapping[str, Any]) -> str:
        current = by_urn.get(resource.get("parent") or "")
        if resource["type"].startswith("llm-serving:") and not resource["type"].endswith(":RegionalPlatform"):
            current = resource
        while current is not None:
            package, _, rest = current["type"].partition(":")
            if package == "llm-serving" and not rest.endswith(":RegionalPlatform"):
                return rest.split(":", 1)[1]
            current = by_urn.get(current.get("parent") or "")
        return "Platform"

    for resource in by_urn.values():
        result[resource["urn"]] = {"region": region_of(resource), "component": component_of(resource)}

    def ancestors(resource: Mapping[str, Any]) -> Iterator[str]:
        parent = resource.get("parent")
        while isinstance(parent, str) and parent in by_urn:
            yield parent
            parent = by_urn[parent].get("parent")

    # A component has no provider of its own: it stands where all of its resources stand.
    below: dict[str, set[str | None]] = {}
    for resource in by_urn.values():
        if not resource["type"].startswith("llm-serving:"):
            for urn in ancestors(resource):
                below.setdefault(urn, set()).add(result[resource["urn"]]["region"])
    for urn, regions in below.items():
        if result[urn]["region"] is None and len(regions) == 1:
            result[urn]["region"] = next(iter(regions))
    # One with no resources of its own (a hostname without a zone) stands where its parent does.
    for resource in by_urn.values():
        if resource["type"].startswith("llm-serving:") and result[resource["urn"]]["region"] is None:
            placed = next((urn for urn in ancestors(resource) if result[urn]["region"] is not None), None)
            if placed is not None:
                result[resource["urn"]]["region"] = result[placed]["region"]
    return result


def cost_inputs(resources: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The provider-managed resources in the shape `components.cost.estimate` reads."""
    resources = list(resources)
    where = placement(resources)
    return [
        {
            "type": r["type"],
            "name": r["name"],
            "inputs": r["inputs"],
            "region": where[r["urn"]]["region"],
            "component": where[r["urn"]]["component"],
        }
        for r in resources
        if not r["type"].startswith(("llm-serving:", "pulumi:providers:"))
    ]


# Deeper JSON than this is not a plan: the pack's protobuf decoder stops at 100 levels, and each
# JSON level is two of them (Struct/ListValue, then Value). Real plans nest about 11 deep.
MAX_INPUT_DEPTH = 40
_RESOURCE_TEXT_KEYS = ("urn", "type", "name")


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    return {str: "a string", list: "a list", dict: "an object"}.get(type(value), type(value).__name__)


def load_plan(path: str) -> dict[str, Any]:
    """Read and check a plan.json; every problem is a UsageError naming the file and the JSON path.

    Checks what `check` and the pack read: the top level, each resource's fields and their types,
    unique URNs, an acyclic parent chain, and that every input value is one protobuf can carry.
    What a policy makes of an input's value is the policy's business (a violation, never a crash).
    """
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file") from None
    except UnicodeDecodeError as exc:
        raise UsageError(f"{path}: not UTF-8 (byte {exc.start})") from None
    except OSError as exc:
        raise UsageError(f"{path}: cannot read ({exc.strerror or exc.__class__.__name__})") from None
    except json.JSONDecodeError as exc:
        raise UsageError(f"{path}:{exc.lineno}: not JSON: {exc.msg}") from None
    except RecursionError:
        raise UsageError(f"{path}: not a plan.json (nested too deep)") from None
    check_plan(document, path)
    return document


def check_plan(document: Any, path: str) -> None:
    if not isinstance(document, dict):
        raise UsageError(f"{path}: not a plan.json (the top level is {_kind(document)}, not an object)")
    missing = [key for key in ("project", "stack", "resources") if key not in document]
    if missing:
        raise UsageError(f"{path}: not a plan.json (missing {', '.join(missing)})")
    for key in ("project", "stack"):
        if not isinstance(document[key], str) or not document[key]:
            raise UsageError(f"{path}: {key}: must be a non-empty string (got {_kind(document[key])})")
    resources = document["resources"]
    if not isinstance(resources, list):
        raise UsageError(f"{path}: resources: must be a list (got {_kind(resources)})")
    first_index: dict[str, int] = {}
    for index, resource in enumerate(resources):
        where = f"resources[{index}]"
        _check_resource(resource, f"{path}: {where}")
        urn = resource["urn"]
        if urn in first_index:
            raise UsageError(f"{path}: {where}.urn: duplicates resources[{first_index[urn]}].urn ({urn})")
        first_index[urn] = index
    _check_parent_chains(resources, first_index, path)


def _check_resource(resource: Any, where: str) -> None:
    if not isinstance(resource, dict):
        raise UsageError(f"{where}: must be an object (got {_kind(resource)})")
    absent = [key for key in (*_RESOURCE_TEXT_KEYS, "inputs") if key not in resource]
    if absent:
        raise UsageError(f"{where}: lacks {', '.join(absent)}")
    for key in _RESOURCE_TEXT_KEYS:
        if not isinstance(resource[key], str) or not resource[key]:
            raise UsageError(f"{where}.{key}: must be a non-empty string (got {_kind(resource[key])})")
    for key in ("parent", "provider"):
        value = resource.get(key)
        if value is not None and not isinstance(value, str):
            raise UsageError(f"{where}.{key}: must be a URN or null (got {_kind(value)})")
    for key in ("protect", "retain_on_delete"):
        value = resource.get(key)
        if value is not None and not isinstance(value, bool):
            raise UsageError(f"{where}.{key}: must be true or false (got {_kind(value)})")
    _check_urn_list(resource.get("dependencies"), f"{where}.dependencies")
    property_dependencies = resource.get("property_dependencies")
    if property_dependencies is not None:
        if not isinstance(property_dependencies, dict):
            raise UsageError(f"{where}.property_dependencies: must be an object (got {_kind(property_dependencies)})")
        for key, urns in property_dependencies.items():
            _check_urn_list(urns, f"{where}.property_dependencies.{key}")
    if not isinstance(resource["inputs"], dict):
        raise UsageError(f"{where}.inputs: must be an object (got {_kind(resource['inputs'])})")
    _check_values(resource["inputs"], f"{where}.inputs")


def _check_urn_list(value: Any, where: str) -> None:
    if value is None:
        return
    if not isinstance(value, list):
        raise UsageError(f"{where}: must be a list of URNs (got {_kind(value)})")
    for index, item in enumerate(value):
        if not isinstance(item, str):
            raise UsageError(f"{where}[{index}]: must be a URN (got {_kind(item)})")


def _check_values(root: dict[str, Any], where: str) -> None:
    """Every value is one protobuf's Struct carries, nested no deeper than MAX_INPUT_DEPTH (iterative)."""
    stack: list[tuple[Any, str, int]] = [(root, where, 1)]
    while stack:
        value, at, depth = stack.pop()
        if isinstance(value, (dict, list)) and depth > MAX_INPUT_DEPTH:
            raise UsageError(f"{at}: nested deeper than {MAX_INPUT_DEPTH} levels")
        if isinstance(value, dict):
            stack.extend((v, f"{at}.{k}", depth + 1) for k, v in value.items())
        elif isinstance(value, list):
            stack.extend((v, f"{at}[{i}]", depth + 1) for i, v in enumerate(value))
        elif isinstance(value, int) and not isinstance(value, bool) and abs(value) > 2**1023:
            raise UsageError(f"{at}: number too large")


def _check_parent_chains(resources: list[dict[str, Any]], index_of: Mapping[str, int], path: str) -> None:
    """A parent chain must end (at a URN outside the plan, such as the stack's, or at null)."""
    done: set[str] = set()
    for resource in resources:
        seen: list[str] = []
        urn: str | None = resource["urn"]
        while urn is not None and urn in index_of and urn not in done:
            if urn in seen:
                raise UsageError(f"{path}: resources[{index_of[urn]}].parent: the parent chain loops back to {urn}")
            seen.append(urn)
            urn = resources[index_of[urn]].get("parent")
        done.update(seen)


def prepare_out_dir(out: Path) -> None:
    """Fail early, before any work, when the output folder cannot be written."""
    target = out if out.exists() else next((p for p in out.parents if p.exists()), Path("."))
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out}: exists and is not a directory")
    if not os.access(target, os.W_OK | os.X_OK):
        raise UsageError(f"--out {out}: not writable")


def write_atomically(out: Path, files: Mapping[str, str]) -> None:
    """Write every file into a sibling temp folder, then swap it in: never a half-written plan."""
    out = out.resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    try:
        for relative, content in files.items():
            path = staging / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content, encoding="utf-8")
        if out.exists():
            retired = out.with_name(f".{out.name}-old-{os.getpid()}")
            out.rename(retired)
            staging.rename(out)
            shutil.rmtree(retired, ignore_errors=True)
        else:
            staging.rename(out)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise UsageError(f"--out {out}: cannot write ({exc.strerror or exc})") from None
