"""aws-eks-cluster-kubernetes-version-allowed — clusters run a pinned, reviewed Kubernetes version."""

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
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
    allowed = [str(v) for v in args.get_config().get("allowedKubernetesVersions") or []]
    version = args.props.get("version")
    if not version:
        report_violation(
            f"EKS cluster '{args.name}' pins no Kubernetes version: EKS would pick its current default.", None
        )
    elif str(version) not in allowed:
        report_violation(
            f"EKS cluster '{args.name}' runs Kubernetes {version}; allowed: {', '.join(allowed) or 'none configured'}.",
            None,
        )


policy = ResourceValidationPolicy(
    name="aws-eks-cluster-kubernetes-version-allowed",
    description="EKS clusters pin a Kubernetes version from the environment's allowlist.",
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.MEDIUM,
    config_schema=PolicyConfigSchema(
        properties={"allowedKubernetesVersions": {"type": "array", "items": {"type": "string"}, "minItems": 1}},
        required=["allowedKubernetesVersions"],
    ),
    remediation_steps=(
        "Set `regions[].cluster.kubernetes_version` to a version in `llm-serving:policy.allowed_kubernetes_versions` "
        "(and give it a row of pinned add-on versions in components/eks_addons.py ADDON_VERSIONS)."
    ),
    validate=validate,
)

review = Review(
    area="kubernetes",
    controls=Controls(fsbp=("EKS.2",), nist_800_53=("CM-2", "SI-2"), soc2=("CC7.1", "CC8.1")),
    why=(
        "A version outside the allowlist either stops receiving security fixes (and costs extended-support fees "
        "per cluster hour) or has not been tested with the GPU device plugin, KEDA and the autoscaler the serving "
        "path needs."
    ),
)
