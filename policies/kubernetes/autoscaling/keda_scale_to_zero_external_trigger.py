"""kubernetes-keda-scale-to-zero-needs-external-trigger — only a signal from outside the pods can wake zero pods,
and a request-count signal counts the model's own route, not every model's requests on the stage."""

from pulumi_policy import (
    EnforcementLevel,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
)

from components.conventions import GATEWAY_ROUTE_DIMENSIONS
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
    for trigger in (args.props.get("spec") or {}).get("triggers") or []:
        metadata = trigger.get("metadata") or {}
        if trigger.get("type") != "aws-cloudwatch" or metadata.get("namespace") != "AWS/ApiGateway":
            continue
        dimensions = str(metadata.get("dimensionName") or "").split(";")
        if "Resource" not in dimensions:
            report_violation(
                f"{scaler.label} trigger '{trigger.get('name', '?')}' counts the whole API stage's requests "
                f"({';'.join(dimensions)}): every model's traffic would wake this model's GPUs; count its own route "
                f"({';'.join(GATEWAY_ROUTE_DIMENSIONS)}).",
                None,
            )
    if all(trigger in IN_POD_TRIGGERS for trigger in scaler.triggers):
        kinds = ", ".join(sorted(set(scaler.triggers))) or "none"
        report_violation(
            f"{scaler.label} scales to zero but only has triggers fed by its own pods ({kinds}); "
            "nothing would scale it back up.",
            None,
        )


policy = ResourceValidationPolicy(
    name="kubernetes-keda-scale-to-zero-needs-external-trigger",
    description=(
        "A ScaledObject that may reach zero replicas has a trigger whose signal exists without its pods, and an API "
        "Gateway request-count trigger counts the model's own route."
    ),
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    remediation_steps=(
        "Set `autoscaling.scale_to_zero_signal: gateway-requests` (KEDA's aws-cloudwatch triggers on the API Gateway "
        "request count of the model's routes, ApiName;Method;Resource;Stage), or keep `autoscaling.min_replicas` >= 1."
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
