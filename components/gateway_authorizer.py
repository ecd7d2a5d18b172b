"""Lambda REQUEST authorizer of the front door: which tenant holds this API key, and which models it may call.

Shipped verbatim as the Lambda's `index.py` (standard library only) and imported by the tests.
The environment variable TENANTS maps the SHA-256 of each tenant's API key to its name and
model allowlist; key values themselves never reach the function. The returned policy allows
every route of the tenant's models and nothing else, so API Gateway can cache it per key for all
routes: a model outside the list is not allowed, which API Gateway answers with 403. An unknown or
missing key raises "Unauthorized" (401). API Gateway still checks the key against the usage plan
(rate, burst, quota) after the authorizer.
"""

from __future__ import annotations

import hashlib
import json
import os
from typing import Any

API_KEY_HEADER = "x-api-key"
MODELS_PREFIX = "v1/models"


def key_digest(api_key: str) -> str:
    return hashlib.sha256(api_key.encode("utf-8")).hexdigest()


def _tenants() -> dict[str, dict[str, Any]]:
    return json.loads(os.environ.get("TENANTS", "{}"))


def _header(event: dict[str, Any], name: str) -> str | None:
    for key, value in (event.get("headers") or {}).items():
        if key.lower() == name:
            return value
    return None


def model_routes(method_arn: str, models: list[str]) -> list[str]:
    """execute-api ARNs of every route under /v1/models/<model>/ for the stage of `method_arn`.

    methodArn: arn:aws:execute-api:<region>:<account>:<api-id>/<stage>/<VERB>/<resource path>
    """
    prefix, _, path = method_arn.partition("/")
    stage = path.split("/", 1)[0]
    return [f"{prefix}/{stage}/*/{MODELS_PREFIX}/{model}/*" for model in sorted(models)]


def handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    api_key = _header(event, API_KEY_HEADER)
    tenant = _tenants().get(key_digest(api_key)) if api_key else None
    if tenant is None:
        raise Exception("Unauthorized")  # API Gateway's contract for a 401
    method_arn = event["methodArn"]
    routes = model_routes(method_arn, tenant["models"])
    statement: dict[str, Any] = {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": routes}
    if not routes:
        statement = {"Action": "execute-api:Invoke", "Effect": "Deny", "Resource": [method_arn]}
    return {
        "principalId": tenant["tenant"],
        "policyDocument": {"Version": "2012-10-17", "Statement": [statement]},
        # Cached with the policy for every route of this key: only per-key facts belong here.
        "context": {"tenant": tenant["tenant"]},
    }


def tenant_table(digests: dict[str, str], models: dict[str, list[str]]) -> dict[str, dict[str, Any]]:
    """TENANTS value: key digest -> tenant and its models (`digests`: tenant -> digest)."""
    return {digest: {"tenant": tenant, "models": sorted(models[tenant])} for tenant, digest in digests.items()}


TABLE_MAX_BYTES = 4000  # Lambda allows 4 KB of environment variables in total


def table_bytes(models: dict[str, list[str]]) -> int:
    """Size of TENANTS for these tenants (tenant -> models); a digest is 64 hex characters."""
    digests = {tenant: f"{i:064x}" for i, tenant in enumerate(models)}
    return len(json.dumps(tenant_table(digests, models), sort_keys=True))
