"""aws-kms-key-rotation-enabled — customer-managed keys rotate their key material."""

from pulumi_policy import (
    EnforcementLevel,
    PolicyComplianceFramework,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
)

from policies.review import Controls, Review

SYMMETRIC = "SYMMETRIC_DEFAULT"


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type != "aws:kms/key:Key":
        return
    # Automatic rotation exists only for symmetric encryption keys; others cannot comply.
    if (args.props.get("customerMasterKeySpec") or SYMMETRIC) != SYMMETRIC:
        return
    if args.props.get("enableKeyRotation") is not True:
        report_violation("enableKeyRotation is not true: the key material never rotates.", None)


policy = ResourceValidationPolicy(
    name="aws-kms-key-rotation-enabled",
    description="Symmetric customer-managed KMS keys must have automatic key rotation enabled.",
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    framework=PolicyComplianceFramework(name="AWS FSBP", reference="KMS.4", version="1.0.0"),
    remediation_steps="Set `enable_key_rotation=True` (and a `rotation_period_in_days`) on the aws.kms.Key.",
    validate=validate,
)

review = Review(
    area="data",
    controls=Controls(fsbp=("KMS.4",), nist_800_53=("SC-12", "SC-28"), soc2=("CC6.1",)),
    why=(
        "These keys encrypt the model weights, the EKS secrets, the node volumes and the logs that carry tenants' "
        "request metadata; yearly rotation bounds what one exposed key version can decrypt."
    ),
)
