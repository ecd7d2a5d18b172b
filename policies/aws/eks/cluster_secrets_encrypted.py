"""aws-eks-cluster-secrets-encrypted-with-cmk — Kubernetes Secrets are envelope-encrypted with our own KMS key."""

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
    config = args.props.get("encryptionConfig")
    if not config:
        report_violation(
            f"EKS cluster '{args.name}' has no encryptionConfig: Secrets are not envelope-encrypted.", None
        )
        return
    if "secrets" not in as_list(config.get("resources")):
        report_violation(f"EKS cluster '{args.name}' encryptionConfig does not cover 'secrets'.", None)
    key = str((config.get("provider") or {}).get("keyArn") or "")
    if not key:
        report_violation(f"EKS cluster '{args.name}' encryptionConfig names no KMS key (provider.keyArn).", None)
    elif ":alias/aws/" in key:
        report_violation(
            f"EKS cluster '{args.name}' encrypts Secrets with an AWS-managed key; name a customer-managed key.", None
        )


policy = ResourceValidationPolicy(
    name="aws-eks-cluster-secrets-encrypted-with-cmk",
    description=(
        "EKS clusters envelope-encrypt Kubernetes Secrets (encryptionConfig resources include 'secrets') with a "
        "customer-managed KMS key."
    ),
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    framework=PolicyComplianceFramework(name="CIS EKS", reference="5.3.1", version="1.5.0"),
    remediation_steps=(
        "Set encryption_config=aws.eks.ClusterEncryptionConfigArgs(resources=['secrets'], "
        "provider=...(key_arn=<the region's eks-secrets key>)) — GpuCluster does this with Encryption's key."
    ),
    validate=validate,
)

review = Review(
    area="data",
    controls=Controls(cis_eks=("5.3.1",), fsbp=("EKS.3",), nist_800_53=("SC-12", "SC-28"), soc2=("CC6.1",)),
    why=(
        "etcd holds every Secret the clusters carry (service-account tokens, registry and service credentials); "
        "envelope encryption with our key keeps an etcd copy or backup unreadable without the key policy."
    ),
)
