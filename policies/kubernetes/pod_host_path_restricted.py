"""kubernetes-pod-host-path-restricted — a pod mounts a node directory only where the platform keeps
model weights, or where a named node agent must reach the kubelet.

Allowed, from the policy config (derived from the stack file, never from the plan):
- `weightPaths`: the weight tier (the NVMe array's models directory on EKS nodes, each on-prem
  target's `weights_path`) and anything below it, for model server pods only (any other writer
  could swap weights the model servers already verified);
- `nodeAgentHostPaths`: `namespace/name` of a DaemonSet -> the exact host paths it may mount
  (the device plugin's socket directory, the DCGM exporter's pod-resources directory).
Paths are compared as the node resolves them: `/mnt/k8s-disks/0/models/../../../etc` is `/etc`.
A PersistentVolume with a hostPath source is refused (any pod may claim it).
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

from components.conventions import COMPONENT_LABEL, MODEL_SERVER_COMPONENT
from policies.kubernetes.workloads import (
    DAEMON_SET,
    HOST_PATH_CONFIG,
    host_path,
    mapping,
    mappings,
    object_id,
    pod_labels,
    pod_spec,
    strings,
    within,
)
from policies.review import Controls, Review

PERSISTENT_VOLUME = "kubernetes:core/v1:PersistentVolume"


def _allowed(paths: Any) -> list[str]:
    """Normalised allowed paths; `/` (which would allow every path) and relative paths are dropped."""
    resolved = (host_path(path) for path in strings(paths))
    return [path for path in resolved if path is not None and path != "/"]


def _problem(raw: Any, weight_paths: list[str], agent_paths: list[str], model_server: bool) -> str | None:
    path = host_path(raw)
    if path is None:
        return f"hostPath '{raw}' is not an absolute path."
    shown = f"'{raw}'" if path == raw else f"'{raw}' ({path})"
    if path in agent_paths:
        return None
    if any(within(path, allowed) for allowed in weight_paths):
        return (
            None if model_server else f"hostPath {shown} is in the model weight tier, which only model servers mount."
        )
    tier = ", ".join(weight_paths) or "none configured"
    return f"hostPath {shown} is outside the model weight tier ({tier}) and not a host path allowed to this workload."


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    config = args.get_config() or {}
    weight_paths = _allowed(config.get("weightPaths"))
    if args.resource_type == PERSISTENT_VOLUME:
        source = mapping(args.props.get("spec")).get("hostPath")
        if source is not None:
            problem = _problem(mapping(source).get("path"), weight_paths, [], model_server=False)
            if problem:
                report_violation(problem, None)
        return
    pod = pod_spec(args.resource_type, args.props)
    if pod is None:
        return
    model_server = pod_labels(args.resource_type, args.props).get(COMPONENT_LABEL) == MODEL_SERVER_COMPONENT
    agent_paths: list[str] = []
    if args.resource_type == DAEMON_SET:
        agent_paths = _allowed(mapping(config.get("nodeAgentHostPaths")).get(object_id(args.props, args.name)))
    for volume in mappings(pod.get("volumes")):
        source = volume.get("hostPath")
        if source is None:
            continue
        problem = _problem(mapping(source).get("path"), weight_paths, agent_paths, model_server)
        if problem:
            report_violation(f"volume '{volume.get('name', '?')}': {problem}", None)


policy = ResourceValidationPolicy(
    name="kubernetes-pod-host-path-restricted",
    description=(
        "hostPath volumes are the model weight tier, mounted by model servers only; a node agent DaemonSet named "
        "in the policy config may mount exactly the host paths listed for it; no PersistentVolume is a hostPath."
    ),
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.CRITICAL,
    framework=PolicyComplianceFramework(name="NIST SP 800-53", reference="AC-6", version="5"),
    config_schema=PolicyConfigSchema(properties=HOST_PATH_CONFIG),
    remediation_steps=(
        "Mount only the weight tier (conventions.NVME_MODELS_PATH on EKS, the target's weights_path on-prem), and "
        "only in model servers (label app.kubernetes.io/component=model-server); use "
        "emptyDir, ConfigMap, Secret or a PersistentVolumeClaim for anything else. A node agent that must reach a "
        "kubelet directory is added to components/platform_workloads.py (NODE_AGENT_HOST_PATHS) after review."
    ),
    validate=validate,
)

review = Review(
    area="kubernetes",
    controls=Controls(nist_800_53=("AC-6", "CM-7"), soc2=("CC6.1",)),
    why=(
        "A hostPath of `/` or `/etc` hands a pod the node: the kubelet's credentials, containerd's socket and "
        "every co-located model server's files; the weight tier alone is what model servers need."
    ),
)
