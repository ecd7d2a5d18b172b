"""kubernetes-namespace-admission-guarded — a namespace whose Pod Security level is below `baseline`
has an admission guard in its cluster that refuses what `baseline` would.

The serving namespace enforces Pod Security `privileged` (model servers mount the NVMe weight tier,
a hostPath), and so does the GPU telemetry namespace (the DCGM exporter reads a kubelet directory).
The pack's workload policies judge what the plan declares; this one asks that the cluster judges
everything else too (a `kubectl apply`, a leaked CI token): a ValidatingAdmissionPolicy bound with
Deny to the namespace by the label the API server sets on it, whose rules are
`components.pod_admission`'s, unchanged. The only rule that varies is the hostPath one: it may admit
configured weight tiers only (`weightPaths`: the NVMe tier, the on-prem targets' directories) and the
host paths of the node agents the config lists in that namespace (`nodeAgentHostPaths`), nothing wider.
"""

from __future__ import annotations

import itertools
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyComplianceFramework,
    PolicyConfigSchema,
    PolicyResource,
    ReportViolation,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)

from components.pod_admission import POD_MATCH_CONSTRAINTS, pod_admission_rules
from policies.kubernetes.workloads import HOST_PATH_CONFIG, mapping, mappings, plain, strings
from policies.review import Controls, Review

NAMESPACE = "kubernetes:core/v1:Namespace"
ADMISSION_POLICY = "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy"
ADMISSION_BINDING = "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicyBinding"
ENFORCE_LABEL = "pod-security.kubernetes.io/enforce"
NAME_LABEL = "kubernetes.io/metadata.name"
# Pod Security levels that already refuse host namespaces, privileged containers and hostPaths.
GUARDING_LEVELS = ("baseline", "restricted")


def _provider(resource: PolicyResource) -> str | None:
    return resource.provider.urn if resource.provider else None


def _name(resource: PolicyResource) -> Any:
    return mapping(resource.props.get("metadata")).get("name")


def _binds_namespace(binding: PolicyResource, namespace: str) -> bool:
    selector = mapping(mapping(mapping(binding.props.get("spec")).get("matchResources")).get("namespaceSelector"))
    return mapping(selector.get("matchLabels")).get(NAME_LABEL) == namespace


def _binding_problems(binding: PolicyResource) -> list[str]:
    spec = mapping(binding.props.get("spec"))
    shown = f"binding '{_name(binding)}'"
    problems = []
    if "Deny" not in strings(spec.get("validationActions")):
        actions = ", ".join(strings(spec.get("validationActions"))) or "none"
        problems.append(f"{shown} has validationActions [{actions}]: a refused pod is still admitted (use [Deny]).")
    match = mapping(spec.get("matchResources"))
    narrowing = [key for key in ("objectSelector", "excludeResourceRules") if match.get(key)]
    selector = mapping(match.get("namespaceSelector"))
    if len(mapping(selector.get("matchLabels"))) > 1 or selector.get("matchExpressions"):
        narrowing.append("namespaceSelector beyond its name label")
    if narrowing:
        problems.append(f"{shown} narrows what it judges ({', '.join(narrowing)}): pods it excludes are never judged.")
    if spec.get("paramRef") is not None:
        problems.append(f"{shown} sets paramRef: the guard's rules take no parameters.")
    return problems


def _expected_host_path_rules(namespace: str, config: dict[str, Any]) -> set[str]:
    """The hostPath rule as the guard of `namespace` may state it: configured weight tiers (or
    none), plus exactly the host paths of the configured node agents in that namespace."""
    agents = mapping(config.get("nodeAgentHostPaths"))
    exact = tuple(
        sorted(
            {path for agent, paths in agents.items() if agent.startswith(f"{namespace}/") for path in strings(paths)}
        )
    )
    configured = list(dict.fromkeys(strings(config.get("weightPaths"))))
    # Any set of the configured tiers (none; the NVMe tier; it and a hybrid-nodes target's directory).
    tier_sets = [tuple(c) for n in range(len(configured) + 1) for c in itertools.combinations(configured, n)]
    rules = set()
    for tiers in tier_sets:
        try:
            rules.update(expr for key, expr, _ in pod_admission_rules(tiers, exact) if key == "host-path")
        except ValueError:  # a path the guard cannot state is one it cannot admit
            continue
    return rules


def _policy_problems(policy: PolicyResource, namespace: str, config: dict[str, Any]) -> list[str]:
    spec = mapping(policy.props.get("spec"))
    shown = f"ValidatingAdmissionPolicy '{_name(policy)}'"
    problems = []
    if spec.get("failurePolicy") not in (None, "Fail"):
        problems.append(f"{shown} has failurePolicy '{spec.get('failurePolicy')}': a pod it cannot judge is admitted.")
    if plain(spec.get("matchConstraints")) != POD_MATCH_CONSTRAINTS:
        problems.append(
            f"{shown} does not judge exactly every pod CREATE and UPDATE "
            "(matchConstraints must be components.pod_admission.POD_MATCH_CONSTRAINTS)."
        )
    if spec.get("matchConditions"):
        problems.append(f"{shown} has matchConditions: pods they exclude are never judged.")
    if spec.get("paramKind") is not None:
        problems.append(f"{shown} sets paramKind: the guard's rules take no parameters.")
    stated = {str(v.get("expression")) for v in mappings(spec.get("validations"))}
    missing = [key for key, expression, _ in pod_admission_rules() if key != "host-path" and expression not in stated]
    if not stated & _expected_host_path_rules(namespace, config):
        missing.append("host-path")
    if missing:
        problems.append(
            f"{shown} lacks the guard's rules: {', '.join(missing)} "
            "(each must be components.pod_admission's expression, unchanged)."
        )
    return problems


def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    config = dict(args.get_config() or {})
    bindings = [r for r in args.resources if r.resource_type == ADMISSION_BINDING]
    policies = [r for r in args.resources if r.resource_type == ADMISSION_POLICY]
    for namespace in (r for r in args.resources if r.resource_type == NAMESPACE):
        level = mapping(mapping(namespace.props.get("metadata")).get("labels")).get(ENFORCE_LABEL)
        if level in GUARDING_LEVELS:
            continue
        name = _name(namespace)
        shown_level = f"Pod Security '{level}'" if level else "no Pod Security level (privileged)"
        candidates = sorted(
            (b for b in bindings if _provider(b) == _provider(namespace) and _binds_namespace(b, str(name))),
            key=lambda b: str(_name(b)),
        )
        if not candidates:
            report_violation(
                f"namespace '{name}' enforces {shown_level} and no ValidatingAdmissionPolicyBinding on its cluster "
                f"selects it by {NAME_LABEL}: nothing in the cluster refuses host access there.",
                namespace.urn,
            )
            continue
        # Each problem is reported on the resource to mend (binding or policy); one sound binding suffices.
        findings: list[list[tuple[str, str]]] = []
        for binding in candidates:
            problems = [(problem, binding.urn) for problem in _binding_problems(binding)]
            policy_name = mapping(binding.props.get("spec")).get("policyName")
            bound = [p for p in policies if _provider(p) == _provider(binding) and _name(p) == policy_name]
            if not bound:
                problems.append(
                    (
                        f"binding '{_name(binding)}' names ValidatingAdmissionPolicy '{policy_name}', which the plan "
                        "does not declare on this cluster.",
                        binding.urn,
                    )
                )
            else:
                problems.extend((problem, bound[0].urn) for problem in _policy_problems(bound[0], str(name), config))
            if not problems:
                break
            findings.append(problems)
        else:
            for problem, urn in findings[0]:
                report_violation(f"namespace '{name}' ({shown_level}): {problem}", urn)


policy = StackValidationPolicy(
    name="kubernetes-namespace-admission-guarded",
    description=(
        "A namespace below Pod Security baseline is guarded in its cluster: a ValidatingAdmissionPolicy with the "
        "pack's pod rules (host namespaces, privileged, privilege escalation, capabilities, host ports, hostPath "
        "outside the weight tier, seccomp, /proc), failurePolicy Fail, bound with Deny to that namespace."
    ),
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    framework=PolicyComplianceFramework(name="CIS EKS", reference="4.2.1", version="1.7.0"),
    config_schema=PolicyConfigSchema(properties=HOST_PATH_CONFIG),
    remediation_steps=(
        "Declare the namespace through ServingNamespace, or call components.pod_admission_guard.pod_admission_guard "
        "for it, and make the namespace depend on the guard; or raise its Pod Security enforce level to baseline."
    ),
    validate=validate,
)

review = Review(
    area="kubernetes",
    controls=Controls(cis_eks=("4.2.1", "4.2.2", "4.2.3", "4.2.4"), nist_800_53=("AC-6", "CM-7"), soc2=("CC6.1",)),
    why=(
        "The pack sees only what a reviewed plan declares; a pod applied by hand or by a stolen deploy token "
        "into the serving namespace would otherwise get the node (host network, a hostPath of /) beside other "
        "tenants' model servers and their prompts."
    ),
)
