"""kubernetes-model-server-ingress-restricted — every model server is selected by a NetworkPolicy
that governs its ingress, in its own namespace and cluster.

Without one, every pod in the cluster (and every host that can route to the pod network) reaches
the model server's HTTP port directly. Whether the selecting policy's rules are narrow enough is
kubernetes-network-policy-disallow-open-peers' question; this one asks that a policy exists.
"""

from pulumi_policy import (
    EnforcementLevel,
    PolicyComplianceFramework,
    PolicyResource,
    ReportViolation,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)

from components.conventions import COMPONENT_LABEL, MODEL_SERVER_COMPONENT
from policies.kubernetes.workloads import NETWORK_POLICY, mapping, namespace_of, pod_labels, pod_spec, selects, strings
from policies.review import Controls, Review


def _provider(resource: PolicyResource) -> str | None:
    return resource.provider.urn if resource.provider else None


def _governs_ingress(network_policy: PolicyResource) -> bool:
    spec = mapping(network_policy.props.get("spec"))
    # Without policyTypes, Kubernetes always includes Ingress.
    return spec.get("policyTypes") is None or "Ingress" in strings(spec.get("policyTypes"))


def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    network_policies = [r for r in args.resources if r.resource_type == NETWORK_POLICY]
    for workload in args.resources:
        if pod_spec(workload.resource_type, workload.props) is None:
            continue
        labels = pod_labels(workload.resource_type, workload.props)
        if labels.get(COMPONENT_LABEL) != MODEL_SERVER_COMPONENT:
            continue
        namespace = namespace_of(workload.props)
        covered = any(
            _provider(policy_) == _provider(workload)
            and namespace_of(policy_.props) == namespace
            and _governs_ingress(policy_)
            and selects(mapping(policy_.props.get("spec")).get("podSelector"), labels)
            for policy_ in network_policies
        )
        if not covered:
            name = mapping(workload.props.get("metadata")).get("name") or workload.name
            report_violation(
                f"model server '{namespace}/{name}' has no NetworkPolicy restricting ingress to its pods.",
                workload.urn,
            )


policy = StackValidationPolicy(
    name="kubernetes-model-server-ingress-restricted",
    description=(
        "Every model server workload is selected by a NetworkPolicy of type Ingress in its namespace and cluster."
    ),
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    framework=PolicyComplianceFramework(name="CIS EKS", reference="4.3.2", version="1.7.0"),
    remediation_steps=(
        "Keep ModelServer's NetworkPolicy: podSelector = the model's labels (conventions.model_labels), "
        "policyTypes [Ingress], the HTTP port from the gateway's private path (or the target's client_networks) only "
        "and the metrics port from the metrics agent only."
    ),
    validate=validate,
)

review = Review(
    area="network",
    controls=Controls(cis_eks=("4.3.2", "5.4.4"), nist_800_53=("SC-7", "AC-4"), soc2=("CC6.6",)),
    why=(
        "The NetworkPolicy is what makes the gateway the only way to a model server inside the cluster: "
        "without it any compromised pod sends prompts straight to the GPUs, unauthenticated and unmetered."
    ),
)
