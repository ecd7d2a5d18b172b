"""kubernetes-pod-disallow-default-service-account — every pod runs as a service account of its own.

The namespace's `default` account is shared by every pod that names none: a Role or Pod Identity
association meant for one workload would reach them all, and no audit entry says which one acted.
"""

from pulumi_policy import (
    EnforcementLevel,
    PolicyComplianceFramework,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
)

from policies.kubernetes.workloads import pod_spec
from policies.review import Controls, Review


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    pod = pod_spec(args.resource_type, args.props)
    if pod is None:
        return
    # serviceAccount is the deprecated alias the API server still honours when serviceAccountName is unset.
    account = pod.get("serviceAccountName") or pod.get("serviceAccount")
    if not isinstance(account, str) or account in ("", "default"):
        report_violation(
            "the pod runs as its namespace's 'default' service account: give the workload one of its own.", None
        )


policy = ResourceValidationPolicy(
    name="kubernetes-pod-disallow-default-service-account",
    description="Every pod (of any workload kind) names a serviceAccountName other than 'default'.",
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.MEDIUM,
    framework=PolicyComplianceFramework(name="CIS EKS", reference="4.1.5", version="1.7.0"),
    remediation_steps=(
        "Declare a ServiceAccount for the workload (automountServiceAccountToken: false) in its namespace and set "
        "spec.template.spec.serviceAccountName to it, as ModelServer and the node agents do."
    ),
    validate=validate,
)

review = Review(
    area="identity",
    controls=Controls(cis_eks=("4.1.5", "5.2.1"), nist_800_53=("AC-6", "AC-2"), soc2=("CC6.1",)),
    why=(
        "Pod Identity roles and RBAC bind to a service account: on the shared default account, the weights "
        "reader's S3 access or the agent's pod reads would silently extend to every other pod of the namespace."
    ),
)
