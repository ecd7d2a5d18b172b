"""aws-eks-access-policy-admin-principals-allowed — only the stack's admin roles get admin access policies."""

from __future__ import annotations

from pulumi_policy import (
    EnforcementLevel,
    PolicyComplianceFramework,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
)

from policies.review import Controls, Review
from policies.support import as_list

ASSOCIATION_TYPE = "aws:eks/accessPolicyAssociation:AccessPolicyAssociation"

# EKS access policies that administer the cluster or read its Secrets, from the EKS User Guide's
# "Review access policy permissions" (cluster-admin, admin, edit and admin-view equivalents).
ADMIN_ACCESS_POLICIES = (
    "AmazonEKSClusterAdminPolicy",
    "AmazonEKSAdminPolicy",
    "AmazonEKSEditPolicy",
    "AmazonEKSAdminViewPolicy",
)


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type != ASSOCIATION_TYPE:
        return
    policy_arn = str(args.props.get("policyArn") or "")
    name = policy_arn.rsplit("/", 1)[-1]
    if ":cluster-access-policy/" not in policy_arn or name not in ADMIN_ACCESS_POLICIES:
        return
    admins = {str(arn) for arn in as_list(args.get_config().get("adminRoleArns"))}
    principal = args.props.get("principalArn")
    if principal is not None and str(principal) not in admins:  # None: computed, known at `pulumi up`
        report_violation(
            f"grants {name} to {principal}, which is not one of the stack's admin roles "
            f"({', '.join(sorted(admins)) or 'none configured'}).",
            None,
        )


policy = ResourceValidationPolicy(
    name="aws-eks-access-policy-admin-principals-allowed",
    description=(
        "EKS admin access policies (cluster-admin, admin, edit, admin-view) may be associated only with the "
        "stack's configured admin roles."
    ),
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.CRITICAL,
    framework=PolicyComplianceFramework(name="CIS Amazon EKS Benchmark", reference="4.1.1", version="1.5.0"),
    config_schema=PolicyConfigSchema(
        properties={"adminRoleArns": {"type": "array", "items": {"type": "string"}}}, required=["adminRoleArns"]
    ),
    remediation_steps=(
        "Add the role to `regions[].cluster.admin_role_arns` in the stack file after review, or grant it "
        "AmazonEKSViewPolicy or namespaced Kubernetes RBAC instead."
    ),
    validate=validate,
)

review = Review(
    area="identity",
    controls=Controls(cis_eks=("4.1.1",), nist_800_53=("AC-2", "AC-6"), soc2=("CC6.2", "CC6.3")),
    why=(
        "Cluster admin on the serving cluster reads every Secret (tenant keys, weight credentials), execs "
        "into model servers that hold prompts in memory and schedules anything on the GPU nodes."
    ),
)
