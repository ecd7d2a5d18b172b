"""What the Kubernetes host-access, RBAC and service-account policies read from an object.

Every reader tolerates odd input (null, a list where a mapping belongs, a string where a list
belongs): an unreadable part reads as absent, so the policy decides whether absence is the breach.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from policies.support import as_list

POD = "kubernetes:core/v1:Pod"
CRON_JOB = "kubernetes:batch/v1:CronJob"
POD_TEMPLATE = "kubernetes:core/v1:PodTemplate"
DAEMON_SET = "kubernetes:apps/v1:DaemonSet"
TEMPLATE_KINDS = {
    "kubernetes:apps/v1:Deployment",
    "kubernetes:apps/v1:StatefulSet",
    DAEMON_SET,
    "kubernetes:apps/v1:ReplicaSet",
    "kubernetes:batch/v1:Job",
    "kubernetes:core/v1:ReplicationController",
}
NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
ROLE_TYPES = ("kubernetes:rbac.authorization.k8s.io/v1:Role", "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole")
CLUSTER_ROLE = "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole"
BINDING_TYPES = (
    "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding",
    "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding",
)

# The host directories the policy config allows (kubernetes-pod-host-path-restricted reads them for
# workloads, kubernetes-namespace-admission-guarded for the guards that refuse the rest in the cluster).
HOST_PATH_CONFIG: dict[str, Any] = {
    "weightPaths": {
        "type": "array",
        "items": {"type": "string", "pattern": "^/"},
        "default": [],
        "description": "host directories holding model weights; model servers may mount them or below them",
    },
    "nodeAgentHostPaths": {
        "type": "object",
        "additionalProperties": {"type": "array", "items": {"type": "string", "pattern": "^/"}},
        "default": {},
        "description": "namespace/name of a DaemonSet -> the exact host paths it may mount",
    },
}


def mapping(value: Any) -> dict[str, Any]:
    return dict(value) if isinstance(value, Mapping) else {}


def mappings(value: Any) -> list[dict[str, Any]]:
    """The mappings of a list (anything else in it, or a non-list, is dropped)."""
    return [dict(item) for item in as_list(value) if isinstance(item, Mapping)]


def plain(value: Any) -> Any:
    """`value` as plain dicts and lists (the pack hands policies read-only proxies), for comparing
    whole structures with a literal."""
    if isinstance(value, Mapping):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, Sequence) and not isinstance(value, (str, bytes)):
        return [plain(item) for item in value]
    return value


def strings(value: Any) -> list[str]:
    return [str(item) for item in as_list(value)]


def pod_spec(resource_type: str, props: Mapping[str, Any]) -> dict[str, Any] | None:
    """The pod spec of a Pod or of a workload's pod template; None for other types."""
    spec = mapping(props.get("spec"))
    if resource_type == POD:
        return spec
    if resource_type == POD_TEMPLATE:  # the template is at the top level, beside metadata
        return mapping(mapping(props.get("template")).get("spec"))
    if resource_type == CRON_JOB:
        spec = mapping(mapping(spec.get("jobTemplate")).get("spec"))
    elif resource_type not in TEMPLATE_KINDS:
        return None
    return mapping(mapping(spec.get("template")).get("spec"))


def pod_labels(resource_type: str, props: Mapping[str, Any]) -> dict[str, str]:
    """Labels of the pods a workload creates (a Pod's own labels)."""
    if resource_type == POD:
        return mapping(mapping(props.get("metadata")).get("labels"))
    if resource_type == POD_TEMPLATE:
        return mapping(mapping(mapping(props.get("template")).get("metadata")).get("labels"))
    spec = mapping(props.get("spec"))
    if resource_type == CRON_JOB:
        spec = mapping(mapping(spec.get("jobTemplate")).get("spec"))
    return mapping(mapping(mapping(spec.get("template")).get("metadata")).get("labels"))


def containers(pod: Mapping[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(`container 'x'` or `init container 'x'`, container) for every container of a pod spec."""
    for key, label in (("initContainers", "init container"), ("containers", "container")):
        for container in mappings(pod.get(key)):
            yield f"{label} '{container.get('name', '?')}'", container


def namespace_of(props: Mapping[str, Any]) -> str:
    return str(mapping(props.get("metadata")).get("namespace") or "default")


def object_id(props: Mapping[str, Any], fallback: str) -> str:
    """`namespace/name` of a namespaced object, as the policy config lists them."""
    name = mapping(props.get("metadata")).get("name") or fallback
    return f"{namespace_of(props)}/{name}"


def host_path(path: Any) -> str | None:
    """A host path as the node resolves it (`/mnt/k8s-disks/../etc` is `/etc`); None if not absolute."""
    if not isinstance(path, str) or not path.startswith("/"):
        return None
    # normpath keeps a leading `//` (POSIX leaves its meaning open); Linux reads it as `/`.
    return "/" + posixpath.normpath(path).lstrip("/")


def within(path: str, directory: str) -> bool:
    """Whether normalised `path` is `directory` or below it."""
    return path == directory or path.startswith(directory.rstrip("/") + "/")


def selects(selector: Any, labels: Mapping[str, str]) -> bool:
    """Kubernetes label-selector matching (matchLabels and matchExpressions; `{}` selects everything).

    An unreadable selector selects nothing.
    """
    if not isinstance(selector, Mapping):
        return False
    match_labels = selector.get("matchLabels") or {}
    if not isinstance(match_labels, Mapping):
        return False
    if any(labels.get(str(key)) != value for key, value in match_labels.items()):
        return False
    for expression in as_list(selector.get("matchExpressions")):
        if not isinstance(expression, Mapping):
            return False
        key, operator, values = (
            str(expression.get("key")),
            expression.get("operator"),
            strings(expression.get("values")),
        )
        if operator == "In" and labels.get(key) not in values:
            return False
        if operator == "NotIn" and key in labels and labels[key] in values:
            return False
        if operator == "Exists" and key not in labels:
            return False
        if operator == "DoesNotExist" and key in labels:
            return False
        if operator not in ("In", "NotIn", "Exists", "DoesNotExist"):
            return False
    return True
