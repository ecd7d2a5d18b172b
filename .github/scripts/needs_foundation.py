"""Whether a stack's deploy starts with the foundation phase: `true` or `false` on stdout.

    pulumi stack export --stack S | needs_foundation.py

The clusters' API endpoints are private, so a stack's first `pulumi up` declares only the AWS half
(`llm-serving:deploy_phase=foundation`, stacks/platform.py) from outside the VPC; the full `up` runs
on the runner inside it. Once the state holds any Kubernetes resource, a full `up` has run: another
foundation-only `up` would delete every Kubernetes object, so it must not run again. A stack that
does not exist yet (empty input) or holds no Kubernetes resource needs the foundation.
"""

from __future__ import annotations

import json
import sys
from typing import Any


def needs_foundation(export: Any) -> bool:
    deployment = (export or {}).get("deployment") or {}
    resources = deployment.get("resources") or []
    return not any(str(resource.get("type", "")).startswith("kubernetes:") for resource in resources)


def main() -> int:
    text = sys.stdin.read()
    try:
        export = json.loads(text) if text.strip() else {}
    except ValueError as exc:
        print(f"needs_foundation: stdin is not `pulumi stack export` JSON: {exc}", file=sys.stderr)
        return 2
    if not isinstance(export, dict):
        print("needs_foundation: stdin is not `pulumi stack export` JSON: not an object", file=sys.stderr)
        return 2
    needed = needs_foundation(export)
    count = len((export.get("deployment") or {}).get("resources") or [])
    reason = "no Kubernetes resource in the state" if needed else "the state holds Kubernetes resources"
    print(f"foundation {'needed' if needed else 'not needed'}: {reason} ({count} resources)", file=sys.stderr)
    print("true" if needed else "false")
    return 0


if __name__ == "__main__":
    sys.exit(main())
