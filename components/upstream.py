"""Controllers declared from their pinned upstream manifests: helpers the rendering modules share.

A provider-side Helm release renders nothing at plan time, so neither the offline plan, its
manifests nor the policy pack would see a chart's workloads, RBAC or webhooks. Instead each
controller's module reproduces what `helm template` renders for the chart version and values it
records (`keda_manifests.py`, `prometheus_adapter_manifests.py`, `lb_controller_manifests.py`),
and the CustomResourceDefinitions, too large to write out, are vendored as data under
`components/crds/` (one JSON file per chart version, with its source and retrieval date) and
declared as one `kubernetes:yaml/v2:ConfigGroup` per controller: as separate objects they cost the
offline plan about 25 ms each (their schemas are deep), and no policy reads a CRD.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from components.conventions import GPU_LABEL

CRD_DIR = Path(__file__).resolve().parent / "crds"


@cache
def _vendored(filename: str) -> str:
    return (CRD_DIR / filename).read_text()


def vendored_crds(filename: str) -> list[dict[str, Any]]:
    """The CRDs of one vendored file, a fresh copy per call (callers add labels)."""
    return json.loads(_vendored(filename))["objects"]


def vendored_source(filename: str) -> str:
    """Where the vendored file's objects come from (repository, tag, path)."""
    return json.loads(_vendored(filename))["source"]


def yaml_stream(objects: list[dict[str, Any]]) -> str:
    """Objects as one YAML stream (each document compact JSON, which is YAML) for a ConfigGroup."""
    return "\n---\n".join(json.dumps(o, separators=(",", ":"), sort_keys=True) for o in objects) + "\n"


def off_gpu_affinity() -> dict[str, Any]:
    """Controllers never run on GPU nodes: they must keep running while those scale to zero."""
    return {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [{"matchExpressions": [{"key": GPU_LABEL, "operator": "DoesNotExist"}]}]
            }
        }
    }


def name_of(manifest: dict[str, Any]) -> str:
    """`Kind/name` of a manifest: how tests and reports name one object."""
    return f"{manifest['kind']}/{manifest['metadata']['name']}"
