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


def load_plan(path: str) -> dict[str, Any]:
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: cannot read ({exc.__class__.__name__})") from None
    except json.JSONDecodeError as exc:
        raise UsageError(f"{path}:{exc.lineno}: not JSON: {exc.msg}") from None
    missing = [key for key in ("project", "stack", "resources") if key not in document]
    if not isinstance(document, dict) or missing:
        raise UsageError(f"{path}: not a plan.json (missing {', '.join(missing) or 'an object'})")
    for index, resource in enumerate(document["resources"]):
        absent = [k for k in ("urn", "type", "name", "inputs") if k not in resource]
        if absent:
            raise UsageError(f"{path}: resources[{index}] lacks {', '.join(absent)}")
    return document


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
