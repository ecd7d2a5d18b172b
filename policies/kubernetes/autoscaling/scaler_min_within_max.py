"""kubernetes-scaler-min-within-max — a scaler's minimum replicas never exceed its maximum."""

from pulumi_policy import (
    EnforcementLevel,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
)

from policies.kubernetes.autoscaling.scalers import scaler_of
from policies.review import Controls, Review


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    scaler = scaler_of(args.resource_type, args.props, "", args.urn)
    if scaler is None:
        return
    if scaler.max_replicas < 1:
        report_violation(f"{scaler.label}: max replicas must be >= 1 (got {scaler.max_replicas}).", None)
    elif scaler.declared_min > scaler.max_replicas:
        report_violation(
            f"{scaler.label}: min replicas ({scaler.declared_min}) exceed max replicas ({scaler.max_replicas}).", None
        )


policy = ResourceValidationPolicy(
    name="kubernetes-scaler-min-within-max",
    description="HPA minReplicas / ScaledObject minReplicaCount must be <= the maximum (and the maximum >= 1).",
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.MEDIUM,
    remediation_steps="Set `autoscaling.min_replicas` <= `autoscaling.max_replicas` for the model in the stack file.",
    validate=validate,
)

review = Review(
    area="compute",
    controls=Controls(nist_800_53=("SC-6",), soc2=("A1.1",)),
    why=("A minimum above the maximum is rejected or pins the scaler, so replicas and GPU spend stop following load."),
)
