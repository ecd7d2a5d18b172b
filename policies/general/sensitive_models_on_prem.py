"""data-residency-sensitive-models-on-prem — a sensitive model, its weights and its requests stay on
the on-prem targets that allow sensitive models.

The stack file names the sensitive models and the targets that may hold them (policy config, never
the plan). On the plan:
- nothing in AWS carries a sensitive model (policies/residency.py: its name as a word anywhere in a
  resource): no bucket rule or replication of its weights, no gateway route, no pod, no role;
- nothing in AWS is marked `llm-serving/data-classification: sensitive`;
- on a target, every object that carries a sensitive model is marked sensitive, and its pods read
  weights from the data centre's own store (`AWS_ENDPOINT_URL_S3`, not an AWS host);
- every model server workload carries a classification marker, so none is unmarked.
"""

from __future__ import annotations

from collections.abc import Mapping

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

from components.conventions import DATA_CLASSIFICATION_LABEL, INTERNAL, SENSITIVE, is_aws_endpoint
from policies.kubernetes.workloads import containers, mapping, mappings, pod_spec
from policies.residency import carries, classification, onprem_target, text_of, where
from policies.review import Controls, Review
from policies.support import as_list, is_model_server


def _weights_from_aws(pod: Mapping) -> bool:
    """Some container of the pod reads S3 without an endpoint of the data centre's (AWS_ENDPOINT_URL_S3)."""
    for _, container in containers(pod):
        env = {e.get("name"): e.get("value") for e in mappings(container.get("env"))}
        if "WEIGHTS_BUCKET" not in env:
            continue
        endpoint = env.get("AWS_ENDPOINT_URL_S3") or env.get("AWS_ENDPOINT_URL")
        if not isinstance(endpoint, str) or is_aws_endpoint(endpoint):
            return True
    return False


def _shown(resource: PolicyResource) -> str:
    kind = resource.resource_type.rsplit(":", 1)[-1]
    return f"{kind} '{resource.name}' ({where(resource)})"


def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    config = args.get_config() or {}
    sensitive = [str(m) for m in as_list(config.get("sensitiveModels"))]
    allowed_targets = {str(t) for t in as_list(config.get("sensitiveTargets"))}
    for resource in args.resources:
        if resource.resource_type.startswith("pulumi:") or resource.provider is None:
            # Providers, the stack and components hold nothing themselves; a resource without a provider
            # fails all-resources-explicit-provider.
            continue
        marker = classification(resource)
        text = text_of(resource) if sensitive else ""
        models = [m for m in sensitive if carries(resource, m, text)]
        target = onprem_target(resource)
        shown = _shown(resource)
        if marker is not None and marker not in (SENSITIVE, INTERNAL):
            report_violation(
                f"{shown} has {DATA_CLASSIFICATION_LABEL} '{marker}'; allowed: {SENSITIVE}, {INTERNAL}.", resource.urn
            )
        if target is None:
            for model in models:
                report_violation(
                    f"{shown} carries sensitive model '{model}': its weights, routes and pods stay on on-prem "
                    f"targets that allow sensitive models ({', '.join(sorted(allowed_targets)) or 'none'}).",
                    resource.urn,
                )
            if marker == SENSITIVE and not models:
                report_violation(f"{shown} is marked {SENSITIVE} but lands outside the data centre.", resource.urn)
            continue
        if (models or marker == SENSITIVE) and target not in allowed_targets:
            what = f"sensitive model '{models[0]}'" if models else f"an object marked {SENSITIVE}"
            report_violation(
                f"{shown} carries {what}, but target '{target}' does not allow sensitive models.", resource.urn
            )
            continue
        pod = pod_spec(resource.resource_type, resource.props)
        if models and "metadata" in resource.props and marker != SENSITIVE:
            report_violation(
                f"{shown} carries sensitive model '{models[0]}' but is not marked {DATA_CLASSIFICATION_LABEL}: "
                f"{SENSITIVE}.",
                resource.urn,
            )
        if (models or marker == SENSITIVE) and pod is not None and _weights_from_aws(pod):
            report_violation(
                f"{shown} serves a sensitive model but reads its weights from AWS S3 (no AWS_ENDPOINT_URL_S3 of the "
                "data centre's object store).",
                resource.urn,
            )
    for resource in args.resources:
        pod = pod_spec(resource.resource_type, resource.props)
        if pod is None or not is_model_server(resource.props):
            continue
        template_labels = mapping(mapping(mapping(resource.props.get("spec")).get("template")).get("metadata"))
        if classification(resource) is None or mapping(template_labels.get("labels")).get(
            DATA_CLASSIFICATION_LABEL
        ) != classification(resource):
            report_violation(
                f"{_shown(resource)} is a model server without a {DATA_CLASSIFICATION_LABEL} label on it and its pods.",
                resource.urn,
            )


policy = StackValidationPolicy(
    name="data-residency-sensitive-models-on-prem",
    description=(
        "Sensitive models (named by the stack file) appear in no AWS resource and only on on-prem targets that "
        "allow them, marked sensitive and with weights from the data centre's store; every model server is marked."
    ),
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.CRITICAL,
    framework=PolicyComplianceFramework(name="NIST SP 800-53", reference="AC-4, SC-7", version="5"),
    config_schema=PolicyConfigSchema(
        properties={
            "sensitiveModels": {
                "type": "array",
                "items": {"type": "string"},
                "default": [],
                "description": "models the stack file marks sensitive",
            },
            "sensitiveTargets": {
                "type": "array",
                "items": {"type": "string"},
                "default": [],
                "description": "on-prem targets whose allow_sensitive_models is true",
            },
        },
    ),
    remediation_steps=(
        "Place sensitive models only on targets with allow_sensitive_models (models[].targets, no regions, no "
        "gateway tenant); give the target a sensitive_weights object store; keep ModelServer's "
        "llm-serving/data-classification label (ServedModel.sensitive)."
    ),
    validate=validate,
)

review = Review(
    area="data",
    controls=Controls(nist_800_53=("AC-4", "SC-7", "SA-9"), soc2=("CC6.1", "C1.1")),
    why=(
        "A sensitive model is one whose weights or prompts may not leave the data centre (a bank's compliance "
        "model): one region in its config, one replication prefix or one gateway route would put them in AWS."
    ),
)
