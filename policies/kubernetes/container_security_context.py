"""kubernetes-container-restricted-security-context — every container runs as the restricted Pod
Security Standard requires, whatever the namespace enforces."""

from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyComplianceFramework,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
)

from policies.support import containers, pod_spec

SECCOMP_TYPES = ("RuntimeDefault", "Localhost")


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
    if "ALL" not in ((context.get("capabilities") or {}).get("drop") or []):
        problems.append("capabilities do not drop ALL")
    seccomp = (context.get("seccompProfile") or pod_context.get("seccompProfile") or {}).get("type")
    if seccomp not in SECCOMP_TYPES:
        problems.append("seccompProfile is not RuntimeDefault or Localhost")
    if context.get("readOnlyRootFilesystem") is not True:
        problems.append("readOnlyRootFilesystem is not true")
    return problems


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    pod = pod_spec(args.resource_type, args.props)
    if pod is None:
        return
    for label, container in containers(pod):
        problems = _problems(pod, container)
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
    framework=PolicyComplianceFramework(name="CIS EKS", reference="4.2.1-4.2.8, 4.6.2", version="1.5.0"),
    remediation_steps=(
        "Set pod securityContext runAsNonRoot: true, runAsUser: <non-zero>, seccompProfile.type: RuntimeDefault; and "
        "per container allowPrivilegeEscalation: false, privileged: false, capabilities.drop: [ALL], "
        "readOnlyRootFilesystem: true, with emptyDir volumes where the process must write."
    ),
    validate=validate,
)
