"""aws-route53-latency-records-serve-model — a latency-routed name answers only from regions that
serve its model, and a restricted tenant's name only from regions its rules allow.

The gateway's global names (components/model_hostnames.py) are `<model>.<domain>` and, for a tenant
that policy.data_residency restricts, `<model>.<tenant>.<domain>`; each region adds a latency record
for the names it answers. The models' regions, the restricted tenants' regions and the domain come
from the stack file (policy config), so a hand-edited plan that adds a record in a region without
the model, or a tenant name in a region without its key, fails.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyComplianceFramework,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
)

from policies.review import Controls, Review
from policies.support import as_list

RECORD = "aws:route53/record:Record"


def _regions(value: Any) -> dict[str, set[str]]:
    return {str(k): {str(r) for r in as_list(v)} for k, v in value.items()} if isinstance(value, Mapping) else {}


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type != RECORD:
        return
    policies = as_list(args.props.get("latencyRoutingPolicies"))
    if not policies:
        return
    config = args.get_config() or {}
    domain = str(config.get("domain") or "")
    serving, tenants = _regions(config.get("servingRegions")), _regions(config.get("tenantRegions"))
    name = str(args.props.get("name") or "").rstrip(".")
    first = policies[0] if isinstance(policies[0], Mapping) else {}
    region = str(first.get("region") or "")
    labels = name.removesuffix(f".{domain}").split(".") if domain and name.endswith(f".{domain}") else None
    model, tenant = (
        (labels[0], labels[1] if len(labels) == 2 else None) if labels and len(labels) <= 2 else (None, None)
    )
    if model not in serving or (tenant is not None and tenant not in tenants):
        where = f"under {domain}" if domain else "while the stack file sets no gateway.domain_name"
        report_violation(
            f"latency record '{args.name}' routes {name!r}, which is no model hostname of the stack {where}: "
            "nothing says which regions may answer it.",
            None,
        )
        return
    if region not in serving[model]:
        report_violation(
            f"latency record '{args.name}' answers {name} from {region or 'no region'}, which does not serve "
            f"{model} (served in {', '.join(sorted(serving[model]))}).",
            None,
        )
    if tenant is not None and region not in tenants[tenant]:
        report_violation(
            f"latency record '{args.name}' answers {name} from {region or 'no region'}, where tenant '{tenant}' has "
            f"no key (policy.data_residency allows {', '.join(sorted(tenants[tenant]))}).",
            None,
        )


policy = ResourceValidationPolicy(
    name="aws-route53-latency-records-serve-model",
    description=(
        "A latency-routed Route 53 record names a model hostname of the stack and answers only from a region "
        "that serves the model, and for a restricted tenant's hostname only from a region its rules allow."
    ),
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.MEDIUM,
    framework=PolicyComplianceFramework(name="NIST 800-53", reference="SC-5", version="rev5"),
    config_schema=PolicyConfigSchema(
        properties={
            "domain": {"type": ["string", "null"], "default": None, "description": "gateway.domain_name"},
            "servingRegions": {"type": "object", "default": {}, "description": "per gateway model its regions"},
            "tenantRegions": {
                "type": "object",
                "default": {},
                "description": "per tenant restricted by policy.data_residency the regions it may use",
            },
        },
    ),
    remediation_steps=(
        "Let RegionalHostname add records only for `model_hostnames.hostnames_by_region` of its region; serve "
        "the model in the region (models[].regions) before routing to it."
    ),
    validate=validate,
)

review = Review(
    area="network",
    controls=Controls(nist_800_53=("SC-5", "AC-4"), soc2=("A1.1",)),
    why=(
        "A latency record in a region that does not serve the model turns every nearby client's request into a "
        "403; one for a restricted tenant outside its regions sends its prompts where its key does not exist."
    ),
)
