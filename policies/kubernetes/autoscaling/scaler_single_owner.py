"""kubernetes-scaler-single-owner — a workload has one scaler: never an HPA and a ScaledObject together."""

from pulumi_policy import (
    EnforcementLevel,
    ReportViolation,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)

from policies.kubernetes.autoscaling.scalers import Scaler, scalers
from policies.review import Controls, Review


def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    by_target: dict[tuple[str, str, str, str], list[Scaler]] = {}
    for scaler in scalers(args.resources):
        by_target.setdefault(scaler.target_key, []).append(scaler)
    for (_, namespace, kind, name), owners in sorted(by_target.items()):
        if len(owners) > 1:
            labels = ", ".join(sorted(s.label for s in owners))
            report_violation(
                f"{kind} {namespace}/{name} is the scale target of {len(owners)} scalers ({labels}); "
                "they would overwrite each other's replica count.",
                owners[0].urn,
            )


policy = StackValidationPolicy(
    name="kubernetes-scaler-single-owner",
    description="No workload is the scale target of more than one HPA or KEDA ScaledObject.",
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    remediation_steps=(
        "Give the model one `autoscaling.mode` (keda or hpa); a ScaledObject already manages an HPA of its own, "
        "so delete any HorizontalPodAutoscaler that targets the same Deployment."
    ),
    validate=validate,
)

review = Review(
    area="compute",
    controls=Controls(nist_800_53=("SC-6",), soc2=("A1.1",)),
    why=(
        "Two scalers on one workload fight over its replica count: GPU replicas flap, each start reloads weights, "
        "and the nodes under them scale up and down with them."
    ),
)
