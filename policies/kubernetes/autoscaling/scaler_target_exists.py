"""kubernetes-scaler-target-exists — every scaler targets a workload declared on the same cluster."""

from pulumi_policy import (
    EnforcementLevel,
    ReportViolation,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)

from policies.kubernetes.autoscaling.scalers import scalers, workloads
from policies.review import Controls, Review


def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    declared = workloads(args.resources)
    for scaler in scalers(args.resources):
        if scaler.target_key not in declared:
            report_violation(
                f"{scaler.label} targets {scaler.target_kind or 'an unnamed kind'} "
                f"{scaler.namespace}/{scaler.target_name}, which this stack does not declare on the same cluster.",
                scaler.urn,
            )


policy = StackValidationPolicy(
    name="kubernetes-scaler-target-exists",
    description=(
        "The scale target of every HPA and ScaledObject is a Deployment or StatefulSet in the same plan and cluster."
    ),
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.MEDIUM,
    remediation_steps=(
        "Scale `model_server_name(model)` in `serving_namespace(environment)` through the same Kubernetes provider "
        "as the model server, and build the scaler only for models served on that cluster."
    ),
    validate=validate,
)

review = Review(
    area="compute",
    controls=Controls(nist_800_53=("SC-6",), soc2=("A1.1",)),
    why=(
        "A scaler whose target is missing scales nothing: the model stays at its static replica count, overloaded "
        "at peak or idle on billed GPUs."
    ),
)
