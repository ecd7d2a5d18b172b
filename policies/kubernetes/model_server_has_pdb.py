"""kubernetes-model-server-has-pdb — every model server has a PodDisruptionBudget, so node drains
and upgrades take its replicas down one at a time."""

from pulumi_policy import (
    EnforcementLevel,
    ReportViolation,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)

from policies.review import Controls, Review
from policies.support import is_model_server, pod_spec, pod_template_labels

PDB_TYPE = "kubernetes:policy/v1:PodDisruptionBudget"


def _namespace(props) -> str:
    return (props.get("metadata") or {}).get("namespace") or "default"


def _provider(resource) -> str | None:
    return resource.provider.urn if resource.provider else None


def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    pdbs = [r for r in args.resources if r.resource_type == PDB_TYPE]
    for workload in args.resources:
        if pod_spec(workload.resource_type, workload.props) is None or not is_model_server(workload.props):
            continue
        labels = pod_template_labels(workload.props)
        namespace = _namespace(workload.props)
        covered = any(
            _provider(pdb) == _provider(workload)
            and _namespace(pdb.props) == namespace
            and (selector := ((pdb.props.get("spec") or {}).get("selector") or {}).get("matchLabels"))
            and all(labels.get(key) == value for key, value in selector.items())
            for pdb in pdbs
        )
        if not covered:
            name = (workload.props.get("metadata") or {}).get("name") or workload.name
            report_violation(
                f"model server '{namespace}/{name}' has no PodDisruptionBudget selecting its pods.", workload.urn
            )


policy = StackValidationPolicy(
    name="kubernetes-model-server-has-pdb",
    description="Every model server workload is selected by a PodDisruptionBudget in its namespace and cluster.",
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.MEDIUM,
    remediation_steps=(
        "Add a policy/v1 PodDisruptionBudget in the same namespace with selector.matchLabels = the model's labels "
        "(conventions.model_labels) and maxUnavailable: 1 (ModelServer does)."
    ),
    validate=validate,
)

review = Review(
    area="compute",
    controls=Controls(soc2=("A1.1",)),
    why=(
        "A node drain or upgrade can evict every replica of a model at once, and each takes minutes to reload "
        "weights: tenants see an outage instead of a rollout."
    ),
)
