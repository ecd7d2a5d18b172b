"""aws-ec2-vpc-flow-logs-enabled — every VPC records all of its traffic."""

from pulumi_policy import (
    EnforcementLevel,
    PolicyComplianceFramework,
    ReportViolation,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)

from policies.review import Controls, Review
from policies.support import depends_on, resources_of_type


def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    flow_logs = resources_of_type(args.resources, "aws:ec2/flowLog:FlowLog")
    for vpc in resources_of_type(args.resources, "aws:ec2/vpc:Vpc"):
        logs = [log for log in flow_logs if depends_on(log, "vpcId", vpc.urn)]
        if not logs:
            report_violation(f"VPC '{vpc.name}' has no flow log.", vpc.urn)
        elif not any(log.props.get("trafficType") == "ALL" for log in logs):
            report_violation(
                f"VPC '{vpc.name}' flow logs do not capture ALL traffic (only accepted or rejected).", vpc.urn
            )


policy = StackValidationPolicy(
    name="aws-ec2-vpc-flow-logs-enabled",
    description="Every VPC must have a flow log capturing ALL traffic.",
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.MEDIUM,
    framework=PolicyComplianceFramework(name="CIS AWS Foundations", reference="3.7", version="3.0.0"),
    remediation_steps="Add an aws.ec2.FlowLog with vpc_id=<the VPC>, traffic_type='ALL' and a KMS-encrypted log group.",
    validate=validate,
)

review = Review(
    area="network",
    controls=Controls(fsbp=("EC2.6",), nist_800_53=("AU-2", "AU-12", "SI-4"), soc2=("CC7.2",)),
    why=(
        "Flow logs are the only record of which node or pod talked to which address: weights copied out of a GPU "
        "node or a tenant probing another's model server leave no trace without them."
    ),
)
