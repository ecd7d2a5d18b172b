"""aws-eks-node-group-disallow-ssh — no SSH access to nodes: no node group remoteAccess, no launch template key."""

from pulumi_policy import (
    EnforcementLevel,
    PolicyComplianceFramework,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
)

from policies.review import Controls, Review
from policies.support import LAUNCH_TEMPLATE_TYPE, NODE_GROUP_TYPE


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type == NODE_GROUP_TYPE and args.props.get("remoteAccess"):
        report_violation(
            f"node group '{args.name}' opens SSH to its nodes (remoteAccess is set); use SSM Session Manager.", None
        )
    # A key pair in a launch template puts an SSH key on every node a node group starts from it.
    if args.resource_type == LAUNCH_TEMPLATE_TYPE and args.props.get("keyName"):
        report_violation(
            f"launch template '{args.name}' puts SSH key pair '{args.props.get('keyName')}' on its nodes (keyName "
            "is set); use SSM Session Manager.",
            None,
        )


policy = ResourceValidationPolicy(
    name="aws-eks-node-group-disallow-ssh",
    description=(
        "EKS managed node groups set no `remoteAccess` and launch templates set no `keyName`: no EC2 key pair on the "
        "nodes and no security group opening port 22 (EKS opens it to 0.0.0.0/0 when no source security group is "
        "given)."
    ),
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    framework=PolicyComplianceFramework(
        name="Amazon EKS Best Practices Guide", reference="Security: Infrastructure - minimize access to worker nodes"
    ),
    remediation_steps=(
        "Remove `remote_access` from the aws.eks.NodeGroup and `key_name` from its launch template; reach "
        "nodes with SSM Session Manager, which the node role's AmazonSSMManagedInstanceCore policy allows."
    ),
    validate=validate,
)

review = Review(
    area="compute",
    controls=Controls(nist_800_53=("AC-17", "CM-7"), soc2=("CC6.1", "CC6.6")),
    why=(
        "An SSH key on a GPU node gives a shell beside the model weights on local NVMe, the node role and every "
        "tenant's prompts in memory, outside the audit trail Session Manager keeps."
    ),
)
