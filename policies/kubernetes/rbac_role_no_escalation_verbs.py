"""kubernetes-rbac-role-disallow-escalation-verbs — no Role or ClusterRole grants `escalate`, `bind`
or `impersonate`: each lets its holder act beyond the permissions it was given (write a role with
more, bind any role, or act as another user, group or service account)."""

from pulumi_policy import (
    EnforcementLevel,
    PolicyComplianceFramework,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
)

from policies.kubernetes.workloads import ROLE_TYPES, mappings, strings
from policies.review import Controls, Review

ESCALATION_VERBS = ("bind", "escalate", "impersonate")


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type not in ROLE_TYPES:
        return
    for index, rule in enumerate(mappings(args.props.get("rules"))):
        verbs = [verb for verb in ESCALATION_VERBS if verb in strings(rule.get("verbs"))]
        if verbs:
            report_violation(
                f"rules[{index}]: verbs {', '.join(verbs)} let the holder gain permissions it was not granted.", None
            )


policy = ResourceValidationPolicy(
    name="kubernetes-rbac-role-disallow-escalation-verbs",
    description="No Role or ClusterRole rule grants the bind, escalate or impersonate verbs.",
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.CRITICAL,
    framework=PolicyComplianceFramework(name="CIS EKS", reference="4.1.8", version="1.7.0"),
    remediation_steps=(
        "Remove bind, escalate and impersonate. Grant the permissions a controller needs directly in its own "
        "role; role management stays with the cluster administrators (EKS access entries)."
    ),
    validate=validate,
)

review = Review(
    area="kubernetes",
    controls=Controls(cis_eks=("4.1.8",), nist_800_53=("AC-6", "AC-3"), soc2=("CC6.3",)),
    why=(
        "Any of these verbs turns a narrowly scoped controller into cluster-admin: a compromised scaler or metrics "
        "pod could bind itself to cluster-admin and reach every tenant's model server and secret."
    ),
)
