"""kubernetes-keda-scale-to-zero-needs-external-trigger — only a signal from outside the pods can wake zero pods."""

from pulumi_policy import (
    EnforcementLevel,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
)

from policies.kubernetes.autoscaling.scalers import SCALED_OBJECT, scaler_of
from policies.review import Controls, Review

# Triggers whose value comes from the scaled pods themselves: silent once there are none.
IN_POD_TRIGGERS = {"prometheus", "cpu", "memory"}


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type != SCALED_OBJECT:
        return
    scaler = scaler_of(args.resource_type, args.props, "", args.urn)
    if scaler is None or scaler.min_replicas > 0:
        return
    if all(trigger in IN_POD_TRIGGERS for trigger in scaler.triggers):
        kinds = ", ".join(sorted(set(scaler.triggers))) or "none"
        report_violation(
            f"{scaler.label} scales to zero but only has triggers fed by its own pods ({kinds}); "
            "nothing would scale it back up.",
            None,
        )


policy = ResourceValidationPolicy(
    name="kubernetes-keda-scale-to-zero-needs-external-trigger",
    description="A ScaledObject that may reach zero replicas has a trigger whose signal exists without its pods.",
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    remediation_steps=(
        "Set `autoscaling.scale_to_zero_signal: gateway-requests` (KEDA's aws-cloudwatch trigger on the API Gateway "
        "request count), or keep `autoscaling.min_replicas` >= 1."
    ),
    validate=validate,
)

review = Review(
    area="compute",
    controls=Controls(nist_800_53=("SC-6",), soc2=("A1.1",)),
    why=(
        "A trigger fed by the model server's own metrics disappears at zero replicas, so the model never scales "
        "back up and every request fails until someone intervenes."
    ),
)
