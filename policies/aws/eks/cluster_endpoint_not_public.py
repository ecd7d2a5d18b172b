"""aws-eks-cluster-disallow-public-endpoint — the Kubernetes API is private unless the stack names who may reach it."""

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


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type != CLUSTER_TYPE:
        return
    vpc_config = args.props.get("vpcConfig") or {}
    if vpc_config.get("endpointPrivateAccess") is not True:
        report_violation(f"EKS cluster '{args.name}' has no private API endpoint (endpointPrivateAccess).", None)
    # EKS turns the public endpoint on when the flag is absent.
    if vpc_config.get("endpointPublicAccess", True) is False:
        return
    cidrs = [str(cidr) for cidr in as_list(vpc_config.get("publicAccessCidrs"))]
    if not cidrs:
        report_violation(
            f"EKS cluster '{args.name}' has a public API endpoint open to the internet (no publicAccessCidrs).", None
        )
    elif open_cidrs := [cidr for cidr in cidrs if cidr.endswith("/0")]:
        report_violation(
            f"EKS cluster '{args.name}' allows its public API endpoint from {', '.join(open_cidrs)}.", None
        )


policy = ResourceValidationPolicy(
    name="aws-eks-cluster-disallow-public-endpoint",
    description=(
        "EKS clusters keep a private API endpoint; a public endpoint is allowed only with publicAccessCidrs "
        "that never include 0.0.0.0/0 (or ::/0)."
    ),
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    framework=PolicyComplianceFramework(name="CIS EKS", reference="5.4.2", version="1.5.0"),
    remediation_steps=(
        "Leave `regions[].cluster.public_endpoint` off (reach the API from inside the VPC), or set it with "
        "`public_access_cidrs` listing only your networks."
    ),
    validate=validate,
)

review = Review(
    area="network",
    controls=Controls(cis_eks=("5.4.1", "5.4.2"), fsbp=("EKS.1",), nist_800_53=("AC-3", "SC-7"), soc2=("CC6.6",)),
    why=(
        "The API server controls every model server, Secret and GPU node group; reachable from the whole internet, "
        "one leaked token is enough to read weights, tap prompts or launch GPU pods on our bill."
    ),
)
