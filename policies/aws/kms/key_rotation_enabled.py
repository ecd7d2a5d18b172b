"""aws-kms-key-rotation-enabled — customer-managed keys rotate their key material."""

from pulumi_policy import (
    EnforcementLevel,
    PolicyComplianceFramework,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
)

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
