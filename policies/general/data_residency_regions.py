"""data-residency-regions — a model or tenant restricted to some AWS regions (policy.data_residency)
appears in no other region: no pods, routes, keys or usage plans there, and no replication of the
model's weights to a bucket there.

Rules come from the stack file (policy config). A resource carries a model when the model's name is
a word of its name or inputs (policies/residency.py); it carries a tenant when it is tagged with the
tenant, or the tenant's name is a word of its logical name, its `name` input or a Lambda function's
environment (the authorizer's tenant table). A replication rule copies a model when its prefix
filter covers `models/<model>/` (no filter, or `models/`, covers every model). The primary region's
weight buckets receive every model's weights (`llmstack weights push`), so a rule that restricts a
model must include the primary region. On-prem targets are outside this policy: they are the
operator's own premises.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyComplianceFramework,
    PolicyConfigSchema,
    PolicyResource,
    ReportViolation,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)

from components.conventions import DATA_TAG, MODEL_WEIGHTS_DATA, WEIGHTS_PREFIX, name_as_word
from policies.residency import aws_region, carries, in_aws, strings, text_of, where
from policies.review import Controls, Review
from policies.support import BUCKET_TYPE, as_list, replication_destination_bucket, resources_of_type, tag

REPLICATION_TYPE = "aws:s3/bucketReplicationConfig:BucketReplicationConfig"
LAMBDA_TYPE = "aws:lambda/function:Function"


def _carries_tenant(resource: PolicyResource, tenant: str) -> bool:
    pattern = name_as_word(tenant)
    if tag(resource, "tenant") == tenant or pattern.search(resource.name):
        return True
    name = resource.props.get("name")
    if isinstance(name, str) and pattern.search(name):
        return True
    if resource.resource_type == LAMBDA_TYPE:
        return any(pattern.search(text) for text in strings(resource.props.get("environment")))
    return False


def _rule_prefix(rule: Any) -> str:
    """The key prefix a replication rule copies ('' for every object)."""
    if not isinstance(rule, Mapping):
        return ""
    filter_ = rule.get("filter")
    if isinstance(filter_, Mapping):
        prefix = filter_.get("prefix")
        if prefix is None and isinstance(filter_.get("and"), Mapping):
            prefix = filter_["and"].get("prefix")
        return prefix if isinstance(prefix, str) else ""
    prefix = rule.get("prefix")
    return prefix if isinstance(prefix, str) else ""


def _copies(prefix: str, model: str) -> bool:
    home = f"{WEIGHTS_PREFIX}/{model}/"
    return home.startswith(prefix) or prefix.startswith(home)


def _rules(config: Mapping[str, Any]) -> list[tuple[str, set[str], list[str], list[str]]]:
    rules = []
    for rule in as_list(config.get("rules")):
        if isinstance(rule, Mapping):
            rules.append(
                (
                    str(rule.get("name", "?")),
                    {str(r) for r in as_list(rule.get("regions"))},
                    [str(m) for m in as_list(rule.get("models"))],
                    [str(t) for t in as_list(rule.get("tenants"))],
                )
            )
    return rules


def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    config = args.get_config() or {}
    primary = config.get("primaryRegion")
    buckets = resources_of_type(args.resources, BUCKET_TYPE)
    for name, regions, models, tenants in _rules(config):
        allowed = ", ".join(sorted(regions)) or "none"
        for resource in args.resources:
            if resource.resource_type.startswith("pulumi:") or not in_aws(resource):
                continue
            region = aws_region(resource)
            if region in regions:
                continue
            place = f"{resource.resource_type.rsplit(':', 1)[-1]} '{resource.name}' ({where(resource)})"
            text = text_of(resource) if models else ""
            for model in models:
                if carries(resource, model, text):
                    report_violation(
                        f"{place} carries model '{model}', which data residency rule '{name}' keeps in {allowed}.",
                        resource.urn,
                    )
            for tenant in tenants:
                if _carries_tenant(resource, tenant):
                    report_violation(
                        f"{place} serves tenant '{tenant}', which data residency rule '{name}' keeps in {allowed}.",
                        resource.urn,
                    )
        if models and primary not in regions:
            for bucket in buckets:
                if tag(bucket, DATA_TAG) == MODEL_WEIGHTS_DATA and aws_region(bucket) == primary:
                    report_violation(
                        f"Bucket '{bucket.name}' ({primary}) receives every model's weights, including "
                        f"{', '.join(models)}, which data residency rule '{name}' keeps in {allowed}.",
                        bucket.urn,
                    )
        for replication in resources_of_type(args.resources, REPLICATION_TYPE):
            for index, rule in enumerate(as_list(replication.props.get("rules"))):
                prefix = _rule_prefix(rule)
                copied = [m for m in models if _copies(prefix, m)]
                if not copied:
                    continue
                destination = rule.get("destination") if isinstance(rule, Mapping) else None
                target = destination.get("bucket") if isinstance(destination, Mapping) else None
                bucket = replication_destination_bucket(replication, target, buckets)
                region = aws_region(bucket) if bucket is not None else None
                if region in regions:
                    continue
                rule_id = rule.get("id") if isinstance(rule, Mapping) and rule.get("id") else f"rules[{index}]"
                report_violation(
                    f"replication '{replication.name}' rule '{rule_id}' copies the weights of "
                    f"{', '.join(copied)} to {region or 'a bucket of no known region'}; data residency rule "
                    f"'{name}' keeps them in {allowed}.",
                    replication.urn,
                )


policy = StackValidationPolicy(
    name="data-residency-regions",
    description=(
        "Models and tenants that policy.data_residency restricts appear only in its regions: no resource carries "
        "them elsewhere and no replication rule copies a restricted model's weights out."
    ),
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    framework=PolicyComplianceFramework(name="NIST SP 800-53", reference="AC-4", version="5"),
    config_schema=PolicyConfigSchema(
        properties={
            "rules": {
                "type": "array",
                "default": [],
                "items": {
                    "type": "object",
                    "properties": {
                        "name": {"type": "string"},
                        "regions": {"type": "array", "items": {"type": "string"}},
                        "models": {"type": "array", "items": {"type": "string"}},
                        "tenants": {"type": "array", "items": {"type": "string"}},
                    },
                },
                "description": "policy.data_residency of the stack file",
            },
            "primaryRegion": {"type": "string", "description": "where weights are pushed (the primary region)"},
        },
    ),
    remediation_steps=(
        "Serve a restricted model only in its rule's regions (models[].regions), give a restricted tenant only "
        "models served there (its key and usage plan then exist only there), and keep WeightReplication's "
        "per-model prefixes."
    ),
    validate=validate,
)

review = Review(
    area="data",
    controls=Controls(nist_800_53=("AC-4", "SA-9"), soc2=("C1.1", "CC6.1")),
    why=(
        "EU customers' prompts, or a model licensed for one jurisdiction, must not be processed or stored in "
        "another region: one node group, replication rule or usage plan in the wrong region breaks the promise."
    ),
)
