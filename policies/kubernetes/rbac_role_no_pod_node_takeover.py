"""kubernetes-rbac-role-disallow-pod-and-node-takeover — no role may run commands in other pods, reach
the kubelet, or mint tokens for other service accounts.

Each permission below is a privilege-escalation path the Kubernetes RBAC good-practices guide lists
("Access to proxy subresource of Nodes", "Token request") or an equivalent of running in the pod
(exec, attach, port-forward, ephemeral containers): none needs `escalate`, `bind` or a wildcard, so
the other RBAC policies do not see them. Rules of every API group that could serve the core
subresources (`""` or `*`) count; a resource wildcard is kubernetes-rbac-role-disallow-wildcards'
finding.
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

# core subresource -> (verbs that use it, what its holder can then do)
TAKEOVER = {
    "pods/exec": (("create", "get"), "run commands in any pod it covers (model servers hold weights and prompts)"),
    "pods/attach": (("create", "get"), "attach to the processes of any pod it covers"),
    "pods/portforward": (("create", "get"), "reach any pod it covers around its NetworkPolicy"),
    "pods/ephemeralcontainers": (("patch", "update"), "add a container, privileged if it likes, to a running pod"),
    "nodes/proxy": (
        ("get", "create", "patch", "update", "delete"),
        "call the kubelet API: exec in every pod on a node",
    ),
    "serviceaccounts/token": (("create",), "mint API tokens for any service account it covers"),
}


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type not in ROLE_TYPES:
        return
    for index, rule in enumerate(mappings(args.props.get("rules"))):
        if not any(group in ("", "*") for group in strings(rule.get("apiGroups"))):
            continue
        granted = strings(rule.get("verbs"))
        for resource in strings(rule.get("resources")):
            if resource not in TAKEOVER:
                continue
            verbs, consequence = TAKEOVER[resource]
            used = [verb for verb in granted if verb == "*" or verb in verbs]
            if used:
                report_violation(
                    f"rules[{index}]: {', '.join(used)} on {resource} lets the holder {consequence}.", None
                )


policy = ResourceValidationPolicy(
    name="kubernetes-rbac-role-disallow-pod-and-node-takeover",
    description=(
        "No Role or ClusterRole grants exec, attach or port-forward into pods, ephemeral containers, the nodes' "
        "kubelet proxy, or service-account token requests."
    ),
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.CRITICAL,
    framework=PolicyComplianceFramework(name="CIS EKS", reference="4.1.8", version="1.7.0"),
    remediation_steps=(
        "Remove the rule. Debugging access to model servers goes through a reviewed break-glass EKS access entry, "
        "not a controller's role; a controller that needs a token for another identity uses its own Pod Identity."
    ),
    validate=validate,
)

review = Review(
    area="kubernetes",
    controls=Controls(cis_eks=("4.1.8", "4.1.4"), nist_800_53=("AC-6", "AC-3"), soc2=("CC6.3",)),
    why=(
        "A controller role that may exec into pods, proxy to the kubelet or mint tokens turns one compromised "
        "scaler or metrics pod into a reader of every tenant's prompts and the model weights on every GPU node."
    ),
)
