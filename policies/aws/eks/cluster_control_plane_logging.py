"""aws-eks-cluster-control-plane-logging-enabled — every control-plane log type goes to CloudWatch Logs."""

from pulumi_policy import (
    EnforcementLevel,
    PolicyComplianceFramework,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
)

from policies.review import Controls, Review
from policies.support import as_list

CLUSTER_TYPE = "aws:eks/cluster:Cluster"
LOG_TYPES = ("api", "audit", "authenticator", "controllerManager", "scheduler")


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type != CLUSTER_TYPE:
        return
    enabled = set(as_list(args.props.get("enabledClusterLogTypes")))
    missing = [log_type for log_type in LOG_TYPES if log_type not in enabled]
    if missing:
        report_violation(f"EKS cluster '{args.name}' does not log {', '.join(missing)} (enabledClusterLogTypes).", None)


policy = ResourceValidationPolicy(
    name="aws-eks-cluster-control-plane-logging-enabled",
    description="EKS clusters enable all five control-plane log types: " + ", ".join(LOG_TYPES) + ".",
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.MEDIUM,
    framework=PolicyComplianceFramework(name="CIS EKS", reference="2.1.1", version="1.5.0"),
    remediation_steps=(
        "Set enabled_cluster_log_types to all of " + ", ".join(LOG_TYPES) + ", with the log group "
        "/aws/eks/<cluster>/cluster created first (KMS key, retention)."
    ),
    validate=validate,
)

review = Review(
    area="kubernetes",
    controls=Controls(cis_eks=("2.1.1",), fsbp=("EKS.8",), nist_800_53=("AU-2", "AU-12"), soc2=("CC7.2",)),
    why=(
        "The audit and authenticator logs are the only record of who exec'd into a model server, read a Secret or "
        "scaled a GPU deployment; without them an incident on a serving cluster cannot be reconstructed."
    ),
)
