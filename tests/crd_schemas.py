"""Strict validation of the custom resources the platform renders, against their CRDs' schemas.

The schemas live in tests/schemas: KEDA 2.x ScaledObject and TriggerAuthentication (the CRDs'
openAPIV3Schema) and the AWS Load Balancer Controller's v1beta1 TargetGroupBinding. Unknown fields
are rejected, the way the API server would prune them.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

SCHEMAS = Path(__file__).resolve().parent / "schemas"
FILES = {
    ("keda.sh", "ScaledObject"): SCHEMAS / "keda" / "scaledobject_v1alpha1.json",
    ("keda.sh", "TriggerAuthentication"): SCHEMAS / "keda" / "triggerauthentication_v1alpha1.json",
    ("elbv2.k8s.aws", "TargetGroupBinding"): SCHEMAS / "elbv2" / "targetgroupbinding_v1beta1.json",
}


def _strict(schema: Any) -> Any:
    """additionalProperties false on every object that lists its properties."""
    if isinstance(schema, dict):
        schema = {k: _strict(v) for k, v in schema.items()}
        if schema.get("type") == "object" and "properties" in schema and "additionalProperties" not in schema:
            schema["additionalProperties"] = False
        return schema
    if isinstance(schema, list):
        return [_strict(v) for v in schema]
    return schema


@cache
def _schema(group: str, kind: str) -> dict[str, Any]:
    return _strict(json.loads(FILES[(group, kind)].read_text()))


def is_custom_resource(body: dict[str, Any]) -> bool:
    return (body["apiVersion"].split("/")[0], body["kind"]) in FILES


def validate_custom_resource(body: dict[str, Any]) -> None:
    jsonschema.validate(body, _schema(body["apiVersion"].split("/")[0], body["kind"]))
    spec = body["spec"]
    if body["kind"] == "ScaledObject":  # the CRD's CEL rule, which jsonschema does not evaluate
        assert spec.get("minReplicaCount", 0) <= spec.get("maxReplicaCount", 100)


def keda_validate(kind: str, body: dict[str, Any]) -> None:
    assert body["kind"] == kind
    validate_custom_resource(body)
