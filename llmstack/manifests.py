"""Every Kubernetes object of a plan, as `kubectl apply -f` would take it, one folder per target."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

import yaml

# libyaml's emitter when PyYAML has it (the wheels do): the same YAML, ten times faster.
_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# Objects declared as YAML text (the controllers' CRDs), expanded into manifests/ like the others.
CONFIG_GROUP = "kubernetes:yaml/v2:ConfigGroup"

# Inputs the Pulumi Kubernetes SDK adds that are not part of the object itself.
_NOT_OBJECT_FIELDS = {"id", "urn"}

# Apply order for `kubectl apply -f <folder>` (files sort by name): what others refer to first.
_KIND_ORDER = [
    # A namespace's admission guard first: no pod is admitted before it can be refused.
    "ValidatingAdmissionPolicy",
    "ValidatingAdmissionPolicyBinding",
    "Namespace",
    "CustomResourceDefinition",
    "PriorityClass",
    "StorageClass",
    "ServiceAccount",
    "Secret",
    "ConfigMap",
    "ClusterRole",
    "ClusterRoleBinding",
    "Role",
    "RoleBinding",
    "Service",
    "DaemonSet",
    "Deployment",
    "StatefulSet",
    "PodDisruptionBudget",
    "HorizontalPodAutoscaler",
    "NetworkPolicy",
]


def _apply_rank(body: Mapping[str, Any]) -> int:
    kind = body.get("kind", "")
    return _KIND_ORDER.index(kind) if kind in _KIND_ORDER else len(_KIND_ORDER)


def _target(resource: Mapping[str, Any], by_urn: Mapping[str, Mapping[str, Any]]) -> str:
    provider = by_urn.get(resource.get("provider") or "")
    return provider["name"] if provider else "default"


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9.-]+", "-", text.lower()).strip("-")


def kubernetes_objects(resources: Iterable[Mapping[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Objects by target (the name of the Kubernetes provider that applies them), in plan order."""
    resources = list(resources)
    by_urn = {r["urn"]: r for r in resources}
    targets: dict[str, list[dict[str, Any]]] = {}
    for resource in resources:
        if resource["type"] == CONFIG_GROUP:
            targets.setdefault(_target(resource, by_urn), []).extend(config_group_objects(resource["inputs"]))
            continue
        if not resource["type"].startswith("kubernetes:") or "apiVersion" not in resource["inputs"]:
            continue
        body = {k: v for k, v in resource["inputs"].items() if k not in _NOT_OBJECT_FIELDS}
        targets.setdefault(_target(resource, by_urn), []).append(body)
    return targets


def config_group_objects(inputs: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The objects of a ConfigGroup's `yaml` text (the provider creates them at deploy time)."""
    text = inputs.get("yaml")
    if not isinstance(text, str):
        return []
    try:  # documents written as JSON (components.upstream.yaml_stream) parse ten times faster so
        docs = [json.loads(doc) for doc in text.split("\n---\n") if doc.strip()]
    except ValueError:
        docs = list(yaml.load_all(text, Loader=_LOADER))
    return [doc for doc in docs if isinstance(doc, dict)]


def manifest_files(resources: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """`manifests/<target>/<NNN>-<kind>-<namespace>-<name>.yaml` → YAML text."""
    files: dict[str, str] = {}
    for target, objects in kubernetes_objects(resources).items():
        for index, body in enumerate(sorted(objects, key=_apply_rank)):
            metadata = body.get("metadata") or {}
            parts = [body.get("kind", "object"), metadata.get("namespace", ""), metadata.get("name", "")]
            name = "-".join(_slug(p) for p in parts if p)
            path = f"manifests/{_slug(target)}/{index:03d}-{name}.yaml"
            files[path] = yaml.dump(body, Dumper=_DUMPER, sort_keys=False)
    return files
