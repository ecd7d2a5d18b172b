"""aws-eks-cluster-disallow-creator-admin — the deploying identity is not made cluster admin where admins are named."""

from __future__ import annotations

from collections.abc import Mapping

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

CLUSTER_TYPE = "aws:eks/cluster:Cluster"


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type != CLUSTER_TYPE or args.get_config().get("allowClusterCreatorAdmin") is True:
        return
    access = args.props.get("accessConfig")
    bootstrap = access.get("bootstrapClusterCreatorAdminPermissions") if isinstance(access, Mapping) else None
    if bootstrap is None:
        # The EKS API's default (CreateAccessConfigRequest): the creator becomes cluster admin.
        report_violation(
            "accessConfig.bootstrapClusterCreatorAdminPermissions is not set: EKS makes the creator cluster admin.",
            None,
        )
    elif bootstrap is not False:
        report_violation(
            "accessConfig.bootstrapClusterCreatorAdminPermissions is true: the identity that runs `pulumi up` "
            "stays cluster admin besides the stack's admin roles.",
            None,
        )


policy = ResourceValidationPolicy(
    name="aws-eks-cluster-disallow-creator-admin",
    description=(
        "Where the environment names its admin roles (prod), EKS clusters must set "
        "bootstrapClusterCreatorAdminPermissions to false."
    ),
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    framework=PolicyComplianceFramework(name="CIS Amazon EKS Benchmark", reference="4.1.1", version="1.5.0"),
    config_schema=PolicyConfigSchema(properties={"allowClusterCreatorAdmin": {"type": "boolean"}}),
    remediation_steps=(
        "List the admin roles in `regions[].cluster.admin_role_arns` of the stack file (the cluster then sets "
        "bootstrapClusterCreatorAdminPermissions false) and deploy as one of them."
    ),
    validate=validate,
)

review = Review(
    area="identity",
    controls=Controls(cis_eks=("4.1.1",), nist_800_53=("AC-2", "AC-6"), soc2=("CC6.2", "CC6.3")),
    why=(
        "The CI role or laptop identity that created the cluster would keep cluster-admin forever, an "
        "access entry nobody reviewed, with every tenant's Secrets and the model servers in reach."
    ),
)
