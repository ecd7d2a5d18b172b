"""aws-codebuild-project-in-vpc — a CodeBuild project runs in the stack's VPC, behind its own security group."""

from __future__ import annotations

from pulumi_policy import (
    EnforcementLevel,
    PolicyComplianceFramework,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
)

from policies.aws.codebuild.support import PROJECT_TYPE, mapping, sequence
from policies.review import Controls, Review


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type != PROJECT_TYPE:
        return
    vpc = mapping(args.props.get("vpcConfig"))
    if not vpc:
        report_violation(
            f"CodeBuild project '{args.name}' sets no vpcConfig: its builds run on AWS's network, outside the VPC "
            "and its security groups.",
            None,
        )
        return
    vpc_id = vpc.get("vpcId")
    missing = [] if isinstance(vpc_id, str) and vpc_id else ["vpcId"]
    missing += [key for key in ("subnets", "securityGroupIds") if not sequence(vpc.get(key))]
    if missing:
        report_violation(
            f"CodeBuild project '{args.name}' vpcConfig sets no {', '.join(missing)}: builds need the VPC, its "
            "private subnets and a security group of their own.",
            None,
        )


policy = ResourceValidationPolicy(
    name="aws-codebuild-project-in-vpc",
    description=(
        "Every CodeBuild project sets vpcConfig with a vpcId, at least one subnet and at least one security group: "
        "its builds run inside the stack's VPC, under a security group the stack declares."
    ),
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    framework=PolicyComplianceFramework(name="NIST SP 800-53", reference="SC-7", version="rev5"),
    remediation_steps=(
        "Set `vpc_config` on the aws.codebuild.Project (components.deploy_runner): the region's VPC id, its "
        "private subnets and the runner's own security group (HTTPS out only)."
    ),
    validate=validate,
)

review = Review(
    area="network",
    controls=Controls(nist_800_53=("SC-7", "AC-4"), soc2=("CC6.6",)),
    why=(
        "The deploy runner applies the Kubernetes half of the platform with cluster-admin rights: outside the VPC "
        "it would need a public API endpoint, and its egress would follow no security group the stack reviews."
    ),
)
