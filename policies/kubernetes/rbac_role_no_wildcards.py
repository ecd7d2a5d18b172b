"""kubernetes-rbac-role-disallow-wildcards — Role and ClusterRole rules list their verbs, resources
and API groups.

A `*` grants whatever the API server learns to serve later (every CRD, every new verb);
`*/scale` grants the scale subresource of every workload kind. A controller that truly needs one
(KEDA scales any kind with a scale subresource) is waived per ClusterRole, with the reason.
"""

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

FIELDS = ("verbs", "resources", "apiGroups")


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type not in ROLE_TYPES:
        return
    for index, rule in enumerate(mappings(args.props.get("rules"))):
        for field in FIELDS:
            wildcards = [value for value in strings(rule.get(field)) if "*" in value]
            if wildcards:
                listed = ", ".join(f"'{value}'" for value in wildcards)
                report_violation(f"rules[{index}]: wildcard {field} {listed}.", None)


policy = ResourceValidationPolicy(
    name="kubernetes-rbac-role-disallow-wildcards",
    description="No Role or ClusterRole rule has a wildcard in its verbs, resources or apiGroups.",
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    framework=PolicyComplianceFramework(name="CIS EKS", reference="4.1.3", version="1.7.0"),
    remediation_steps=(
        "List the exact verbs (get, list, watch, ...), resources and API groups the controller calls, as the "
        "Cluster Autoscaler's ClusterRole does. A controller whose upstream role needs a wildcard gets a waiver "
        "for that one role and that exact violation, with its reason, owner and expiry."
    ),
    validate=validate,
)

review = Review(
    area="kubernetes",
    controls=Controls(cis_eks=("4.1.3",), nist_800_53=("AC-6", "AC-3"), soc2=("CC6.3",)),
    why=(
        "A wildcard role held by a controller's service account is cluster-admin in waiting: whoever takes over "
        "that pod can read tenants' secrets and rewrite model servers on every GPU node."
    ),
)
