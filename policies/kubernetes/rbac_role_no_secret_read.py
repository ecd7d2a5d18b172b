"""kubernetes-rbac-role-disallow-secret-read — no role reads Secrets (get, list or watch, or `*`)
wholesale.

A ClusterRole's rules apply in every namespace once bound by a ClusterRoleBinding, so a
ClusterRole may not read Secrets at all. A namespaced Role may read only the Secrets it names
(`resourceNames`). Wildcards that happen to cover Secrets count (`resources: ['*']`,
`apiGroups: ['*']`, `verbs: ['*']`).
"""

from pulumi_policy import (
    EnforcementLevel,
    PolicyComplianceFramework,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
)

from policies.kubernetes.workloads import CLUSTER_ROLE, ROLE_TYPES, mappings, namespace_of, strings
from policies.review import Controls, Review

READ_VERBS = ("get", "list", "watch", "*")


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type not in ROLE_TYPES:
        return
    cluster_wide = args.resource_type == CLUSTER_ROLE
    for index, rule in enumerate(mappings(args.props.get("rules"))):
        core = any(group in ("", "*") for group in strings(rule.get("apiGroups")))
        secrets = any(resource in ("secrets", "*") for resource in strings(rule.get("resources")))
        verbs = [verb for verb in READ_VERBS if verb in strings(rule.get("verbs"))]
        if not (core and secrets and verbs):
            continue
        if cluster_wide:
            report_violation(f"rules[{index}]: {', '.join(verbs)} on Secrets in every namespace.", None)
        elif not strings(rule.get("resourceNames")):
            report_violation(
                f"rules[{index}]: {', '.join(verbs)} on every Secret in namespace '{namespace_of(args.props)}' "
                "(name them in resourceNames).",
                None,
            )


policy = ResourceValidationPolicy(
    name="kubernetes-rbac-role-disallow-secret-read",
    description=(
        "No ClusterRole rule lets its holder get, list or watch Secrets, and a Role only the Secrets it names "
        "(resourceNames); wildcards included."
    ),
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    framework=PolicyComplianceFramework(name="CIS EKS", reference="4.1.2", version="1.7.0"),
    remediation_steps=(
        "Grant Secret reads in a namespaced Role, limited with resourceNames to the Secrets the controller uses; "
        "prefer Pod Identity (no Secret at all) for AWS credentials. A controller whose upstream ClusterRole reads "
        "Secrets cluster-wide gets a waiver for that one role and that exact violation, with its reason, owner and "
        "expiry."
    ),
    validate=validate,
)

review = Review(
    area="kubernetes",
    controls=Controls(cis_eks=("4.1.2",), nist_800_53=("AC-6", "SC-28"), soc2=("CC6.1",)),
    why=(
        "Secrets hold the on-prem weight-reader credentials and tenant material; a wholesale read hands all of "
        "them to whoever compromises the one pod holding the role."
    ),
)
