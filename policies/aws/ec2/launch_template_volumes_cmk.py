"""aws-ec2-launch-template-volumes-encrypted-with-cmk — node volumes are encrypted with our own key."""

from collections.abc import Mapping

from pulumi_policy import (
    EnforcementLevel,
    PolicyComplianceFramework,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
)

from policies.review import Controls, Review
from policies.support import LAUNCH_TEMPLATE_TYPE


def _encrypted(value: object) -> bool:
    # pulumi-aws types `encrypted` as a string ("true"); accept a boolean too.
    return value is True or str(value).lower() == "true"


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type != LAUNCH_TEMPLATE_TYPE:
        return
    # The pack hands over read-only Mapping proxies, not dicts.
    volumes = [m for m in args.props.get("blockDeviceMappings") or [] if isinstance(m, Mapping) and m.get("ebs")]
    if not volumes:
        report_violation(
            f"launch template '{args.name}' maps no EBS volume: the root volume takes the AMI's defaults, "
            "not encryption with a customer-managed key.",
            None,
        )
    for mapping in volumes:
        device, ebs = mapping.get("deviceName", "?"), mapping["ebs"]
        if not _encrypted(ebs.get("encrypted")):
            report_violation(f"launch template '{args.name}': volume {device} is not encrypted.", None)
        elif not ebs.get("kmsKeyId"):
            report_violation(
                f"launch template '{args.name}': volume {device} is encrypted with the AWS managed key (no kmsKeyId).",
                None,
            )


policy = ResourceValidationPolicy(
    name="aws-ec2-launch-template-volumes-encrypted-with-cmk",
    description=(
        "Every launch template maps its root (and any other EBS) volume explicitly, encrypted with a "
        "customer-managed KMS key (`encrypted: true` and `kmsKeyId`)."
    ),
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    framework=PolicyComplianceFramework(name="AWS FSBP", reference="EC2.3, EC2.7", version="1.0.0"),
    remediation_steps=(
        "Add block_device_mappings with device_name='/dev/xvda' (AL2023) and ebs={'encrypted': 'true', "
        "'kms_key_id': <the region's ebs key ARN>, 'volume_type': 'gp3', 'delete_on_termination': 'true'}."
    ),
    validate=validate,
)

review = Review(
    area="data",
    controls=Controls(fsbp=("EC2.3", "EC2.7", "EC2.181"), nist_800_53=("SC-12", "SC-28"), soc2=("CC6.1",)),
    why=(
        "Node volumes and their snapshots outlive the node and can hold node logs and pod data; with the default "
        "EBS key anyone allowed to copy a snapshot in the account can read them, with our key only those the key "
        "policy names."
    ),
)
