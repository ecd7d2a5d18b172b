"""stateful-resources-protected — where the stack asks for it (prod), data stores cannot be deleted by a plan."""

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
)

from policies.review import Controls, Review

# Resources whose deletion loses data or the only means to read it.
STATEFUL_TYPES = {
    "aws:s3/bucket:Bucket": "bucket",
    "aws:kms/key:Key": "KMS key",
    "aws:kms/replicaKey:ReplicaKey": "KMS replica key",
}


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    kind = STATEFUL_TYPES.get(args.resource_type)
    if kind is None or not args.get_config().get("protectRequired"):
        return
    if not args.opts.protect:
        report_violation(f"{kind} '{args.name}' is not protect=True; a destroy or replacement would delete it.", None)


policy = ResourceValidationPolicy(
    name="stateful-resources-protected",
    description="In stacks that require it (prod), S3 buckets and KMS keys carry protect=True.",
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    remediation_steps=(
        "Pass `protect=args.protect` in the resource's ResourceOptions (the platform sets it from the stack's "
        "protect_stateful setting, true in prod)."
    ),
    config_schema=PolicyConfigSchema(properties={"protectRequired": {"type": "boolean", "default": False}}),
    validate=validate,
)

review = Review(
    area="data",
    controls=Controls(fsbp=("KMS.3",), nist_800_53=("CM-3", "CP-9"), soc2=("CC8.1", "A1.2")),
    why=(
        "In prod a rename or refactor makes Pulumi replace a bucket or key: deleting the weights, or scheduling "
        "deletion of the key without which no copy of them, or of the logs, can be decrypted."
    ),
)
