"""aws-elb-network-load-balancer-has-security-groups — NLBs are created with security groups."""

from pulumi_policy import (
    EnforcementLevel,
    PolicyComplianceFramework,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
)

from policies.aws.elb.load_balancer_internal import LOAD_BALANCER_TYPES
from policies.review import Controls, Review


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type not in LOAD_BALANCER_TYPES or args.props.get("loadBalancerType") != "network":
        return
    if not args.props.get("securityGroups"):
        report_violation(
            "network load balancer has no security groups: anything that can route to it reaches every "
            "listener, and groups cannot be added after creation.",
            None,
        )


policy = ResourceValidationPolicy(
    name="aws-elb-network-load-balancer-has-security-groups",
    description=(
        "Every Network Load Balancer has at least one security group, so its listeners take traffic only from "
        "the sources its rules name and its targets can admit the load balancer by group, not by address. "
        "AWS attaches security groups to an NLB only at creation."
    ),
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    framework=PolicyComplianceFramework(name="NIST SP 800-53", reference="SC-7(5)", version="5"),
    remediation_steps=(
        "Create the NLB with `security_groups=[...]` (a group allowing only the listener ports from the VPC CIDR); "
        "replacing an existing NLB is required to add them."
    ),
    validate=validate,
)

review = Review(
    area="network",
    controls=Controls(nist_800_53=("AC-4", "SC-7"), soc2=("CC6.6",)),
    why=(
        "Without a security group on the NLB, model servers must admit it by address range, which admits "
        "everything else in those ranges too; AWS cannot add groups to an NLB after creation, so the gap needs a "
        "replacement."
    ),
)
