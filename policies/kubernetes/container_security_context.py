"""kubernetes-container-restricted-security-context — every container runs as the restricted Pod
Security Standard requires, whatever the namespace enforces.

The one named exception: DaemonSets listed in the stack's `policy.root_node_agents` (node agents
such as the NVIDIA device plugin, which must create a socket in the root-owned kubelet directory)
may run as root with a writable root filesystem. Nothing else is relaxed for them: never
privileged, never escalating, all capabilities dropped and none added, a seccomp profile.
"""

from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyComplianceFramework,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
)

from policies.review import Controls, Review
from policies.support import containers, pod_spec

SECCOMP_TYPES = ("RuntimeDefault", "Localhost")
# The only capability the restricted standard lets a container add.
ADDABLE_CAPABILITIES = {"NET_BIND_SERVICE"}
ROOT_ONLY_PROBLEMS = {"runAsNonRoot is not true", "runAsUser is 0 (root)", "readOnlyRootFilesystem is not true"}


def _problems(pod: dict[str, Any], container: dict[str, Any]) -> list[str]:
    pod_context = pod.get("securityContext") or {}
    context = container.get("securityContext") or {}
    problems = []
    if not context.get("runAsNonRoot", pod_context.get("runAsNonRoot")):
        problems.append("runAsNonRoot is not true")
    if context.get("runAsUser", pod_context.get("runAsUser")) == 0:
        problems.append("runAsUser is 0 (root)")
    if context.get("privileged"):
        problems.append("privileged")
    if context.get("allowPrivilegeEscalation") is not False:
        problems.append("allowPrivilegeEscalation is not false")
    capabilities = context.get("capabilities") or {}
    if "ALL" not in (capabilities.get("drop") or []):
        problems.append("capabilities do not drop ALL")
    added = sorted(set(capabilities.get("add") or []) - ADDABLE_CAPABILITIES)
    if added:
        problems.append(f"capabilities add {', '.join(added)}")
    seccomp = (context.get("seccompProfile") or pod_context.get("seccompProfile") or {}).get("type")
    if seccomp not in SECCOMP_TYPES:
        problems.append("seccompProfile is not RuntimeDefault or Localhost")
    if context.get("readOnlyRootFilesystem") is not True:
        problems.append("readOnlyRootFilesystem is not true")
    return problems


def _workload_id(args: ResourceValidationArgs) -> str:
    metadata = args.props.get("metadata") or {}
    return f"{metadata.get('namespace', 'default')}/{metadata.get('name', args.name)}"


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    pod = pod_spec(args.resource_type, args.props)
    if pod is None:
        return
    root_agents = set((args.get_config() or {}).get("rootNodeAgents") or [])
    root_agent = args.resource_type == "kubernetes:apps/v1:DaemonSet" and _workload_id(args) in root_agents
    for label, container in containers(pod):
        problems = [p for p in _problems(pod, container) if not (root_agent and p in ROOT_ONLY_PROBLEMS)]
        if problems:
            report_violation(f"{label}: {'; '.join(problems)}.", None)


policy = ResourceValidationPolicy(
    name="kubernetes-container-restricted-security-context",
    description=(
        "Every container and init container runs as non-root, unprivileged, without privilege escalation, with all "
        "capabilities dropped, a RuntimeDefault (or Localhost) seccomp profile and a read-only root filesystem."
    ),
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    framework=PolicyComplianceFramework(name="CIS EKS", reference="4.2.1, 4.2.5", version="1.7.0"),
    config_schema=PolicyConfigSchema(
        properties={
            "rootNodeAgents": {
                "type": "array",
                "items": {"type": "string", "pattern": "^[a-z0-9-]+/[a-z0-9.-]+$"},
                "default": [],
                "description": "namespace/name of DaemonSets that may run as root with a writable root filesystem",
            }
        },
    ),
    remediation_steps=(
        "Set pod securityContext runAsNonRoot: true, runAsUser: <non-zero>, seccompProfile.type: RuntimeDefault; and "
        "per container allowPrivilegeEscalation: false, privileged: false, capabilities.drop: [ALL], "
        "readOnlyRootFilesystem: true, with emptyDir volumes where the process must write; add no capability but "
        "NET_BIND_SERVICE. A node agent that truly needs root goes in `llm-serving:policy.root_node_agents` "
        "after review."
    ),
    validate=validate,
)

review = Review(
    area="kubernetes",
    controls=Controls(cis_eks=("4.2.1", "4.2.5"), nist_800_53=("AC-6", "CM-7"), soc2=("CC6.8",)),
    why=(
        "Model servers parse untrusted prompts and run third-party weights and code; a root, privileged or "
        "escalating container turns one exploit into the GPU node and every tenant's traffic on it."
    ),
)
