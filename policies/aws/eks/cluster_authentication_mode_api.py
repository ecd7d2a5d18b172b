"""aws-eks-cluster-authentication-mode-api — cluster access through access entries only, no aws-auth ConfigMap."""

from __future__ import annotations

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

CLUSTER_TYPE = "aws:eks/cluster:Cluster"


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type != CLUSTER_TYPE:
        return
    access = args.props.get("accessConfig")
    mode = access.get("authenticationMode") if isinstance(access, Mapping) else None
    if mode is None:
        # The EKS API's default for a cluster created without accessConfig (CreateAccessConfigRequest).
        report_violation("accessConfig.authenticationMode is not set: EKS defaults to CONFIG_MAP.", None)
    elif mode != "API":
        report_violation(
            f"accessConfig.authenticationMode is {mode}: the aws-auth ConfigMap can grant cluster access.", None
        )


policy = ResourceValidationPolicy(
    name="aws-eks-cluster-authentication-mode-api",
    description="EKS clusters must use authentication mode API (access entries), not CONFIG_MAP or API_AND_CONFIG_MAP.",
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    framework=PolicyComplianceFramework(name="CIS Amazon EKS Benchmark", reference="5.5.1", version="1.5.0"),
    remediation_steps=(
        "Set accessConfig.authenticationMode to API and grant access with aws.eks.AccessEntry and "
        "AccessPolicyAssociation; the mode can only move towards API, never back."
    ),
    validate=validate,
)

review = Review(
    area="identity",
    controls=Controls(cis_eks=("5.5.1",), nist_800_53=("AC-2", "AC-3"), soc2=("CC6.2",)),
    why=(
        "With the aws-auth ConfigMap anyone who can edit one object in kube-system maps any IAM principal "
        "to system:masters, outside IAM and CloudTrail; access entries keep who reaches the GPU cluster "
        "in the plan this pack reviews."
    ),
)
