"""kubernetes-scaler-keeps-minimum-replicas — every model keeps the environment's replica floor."""

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
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
    floor = int(args.get_config()["minReplicas"])
    if scaler.min_replicas < floor:
        how = "idleReplicaCount" if scaler.min_replicas < scaler.declared_min else "min replicas"
        report_violation(
            f"{scaler.label} may scale to {scaler.min_replicas} replica(s) ({how}); this stack keeps >= {floor} "
            "per model per region.",
            None,
        )


policy = ResourceValidationPolicy(
    name="kubernetes-scaler-keeps-minimum-replicas",
    description="Scalers keep at least the stack's replica floor (1 in prod: a cold GPU replica takes minutes).",
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    config_schema=PolicyConfigSchema(
        properties={"minReplicas": {"type": "integer", "minimum": 0, "default": 1}}, required=["minReplicas"]
    ),
    remediation_steps=(
        "Raise `autoscaling.min_replicas`, or, where scale to zero is wanted (dev), set "
        "`policy.min_replicas_per_model: 0` in that stack file."
    ),
    validate=validate,
)

review = Review(
    area="compute",
    controls=Controls(nist_800_53=("SC-6",), soc2=("A1.1",)),
    why=(
        "Below the stack's floor a model can scale to zero in prod, and the next request waits minutes for a GPU "
        "node and its weights."
    ),
)
