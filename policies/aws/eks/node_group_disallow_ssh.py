"""aws-eks-node-group-disallow-ssh — managed node groups open no SSH access to their nodes."""

from pulumi_policy import (
    EnforcementLevel,
    PolicyComplianceFramework,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
)

from policies.review import Controls, Review
from policies.support import NODE_GROUP_TYPE


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type != NODE_GROUP_TYPE:
        return
    remote_access = args.props.get("remoteAccess")
    if remote_access:
        report_violation(
            f"node group '{args.name}' opens SSH to its nodes (remoteAccess is set); use SSM Session Manager.", None
        )


policy = ResourceValidationPolicy(
    name="aws-eks-node-group-disallow-ssh",
    description=(
        "EKS managed node groups set no `remoteAccess`: no EC2 key pair on the nodes and no security group "
        "opening port 22 (EKS opens it to 0.0.0.0/0 when no source security group is given)."
    ),
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    framework=PolicyComplianceFramework(
        name="Amazon EKS Best Practices Guide", reference="Security: Infrastructure - minimize access to worker nodes"
    ),
    remediation_steps=(
        "Remove `remote_access` from the aws.eks.NodeGroup (and any `key_name` from its launch template); reach "
        "nodes with SSM Session Manager, which the node role's AmazonSSMManagedInstanceCore policy allows."
    ),
    validate=validate,
)

review = Review(
    area="compute",
    controls=Controls(fsbp=("EC2.13",), nist_800_53=("AC-17", "CM-7"), soc2=("CC6.1", "CC6.6")),
    why=(
        "SSH on a GPU node is root next to the weights on local NVMe and every tenant's in-flight prompts, outside "
        "Kubernetes RBAC and its audit log; EKS opens port 22 to the internet when no source group is named."
    ),
)
