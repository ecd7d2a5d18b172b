"""kubernetes-rbac-binding-disallow-broad-grants — no RoleBinding or ClusterRoleBinding grants
cluster-admin, and none grants anything to anonymous or to every authenticated caller.

Cluster administrators get their access from EKS access entries, reviewed in the cluster's own
policies; nothing the program binds in-cluster needs cluster-admin.
"""

from pulumi_policy import (
    EnforcementLevel,
    PolicyComplianceFramework,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
)

from policies.kubernetes.workloads import BINDING_TYPES, mapping, mappings
from policies.review import Controls, Review

# (subject kind, name) -> who that is.
BROAD_SUBJECTS = {
    ("User", "system:anonymous"): "every unauthenticated request",
    ("Group", "system:unauthenticated"): "every unauthenticated request",
    ("Group", "system:authenticated"): "every identity the API server authenticates",
    ("Group", "system:masters"): "a group that bypasses RBAC altogether",
}


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type not in BINDING_TYPES:
        return
    role = mapping(args.props.get("roleRef"))
    if role.get("kind") == "ClusterRole" and role.get("name") == "cluster-admin":
        report_violation("roleRef: binds ClusterRole 'cluster-admin' (every verb on every resource).", None)
    for index, subject in enumerate(mappings(args.props.get("subjects"))):
        kind, name = subject.get("kind"), subject.get("name")
        who = BROAD_SUBJECTS.get((str(kind), str(name)))
        if who:
            report_violation(f"subjects[{index}]: {kind} '{name}' is {who}.", None)


policy = ResourceValidationPolicy(
    name="kubernetes-rbac-binding-disallow-broad-grants",
    description=(
        "No RoleBinding or ClusterRoleBinding binds cluster-admin or names system:anonymous, "
        "system:unauthenticated, system:authenticated or system:masters as a subject."
    ),
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.CRITICAL,
    framework=PolicyComplianceFramework(name="CIS EKS", reference="4.1.1", version="1.7.0"),
    remediation_steps=(
        "Bind a role with the permissions the subject needs to that subject's own service account; give human "
        "administrators access through EKS access entries, not in-cluster bindings."
    ),
    validate=validate,
)

review = Review(
    area="kubernetes",
    controls=Controls(cis_eks=("4.1.1",), nist_800_53=("AC-6", "AC-3"), soc2=("CC6.3",)),
    why=(
        "A binding to system:authenticated hands the role to any IAM principal mapped into the cluster, and one to "
        "cluster-admin hands a single pod every tenant's model server, secret and GPU node."
    ),
)
