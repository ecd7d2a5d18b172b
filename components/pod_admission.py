"""What the API server itself refuses in a serving namespace: the pod admission guard's CEL rules.

The serving namespace can only enforce Pod Security `privileged` (model servers mount the NVMe
weight tier, a hostPath, which `baseline` forbids outright). This ValidatingAdmissionPolicy puts
back, inside the cluster, every `baseline` rule except that one, narrows hostPath to the weight
tier and adds `restricted`'s allowPrivilegeEscalation: so a `kubectl apply` or a compromised CI
token meets the same wall as the policy pack. Pure data: the program declares it
(`ServingNamespace`), the pack (kubernetes-serving-namespace-admission-guarded) compares the plan's
policy against it literally, so a weakened expression is a violation.

CEL as Kubernetes evaluates it (admissionregistration.k8s.io/v1, GA since 1.30): `object` is the
Pod; `has()` guards every optional field, so a pod that omits a field is judged by its default.
"""

from __future__ import annotations

import re
from typing import Any

# The containers of each list a pod spec has; init and ephemeral containers are optional lists.
_CONTAINER_LISTS = ("containers", "initContainers", "ephemeralContainers")


def _every_container(predicate: str) -> str:
    """`predicate` (over `c`) holds for every container of every list in the pod spec."""
    clauses = []
    for field in _CONTAINER_LISTS:
        each = f"object.spec.{field}.all(c, {predicate})"
        clauses.append(each if field == "containers" else f"(!has(object.spec.{field}) || {each})")
    return " && ".join(clauses)


def _unset_or(path: str, field: str, allowed: str) -> str:
    """`<path>.<field>` is absent (each level guarded) or satisfies `allowed` (over the field's value)."""
    parts = path.split(".")
    guards = [f"!has({'.'.join(parts[: i + 1])})" for i in range(1, len(parts))]
    return "(" + " || ".join([*guards, f"!has({path}.{field})", allowed]) + ")"


_SAFE_PATH = re.compile(r"^/[A-Za-z0-9._/-]*$")


def _host_path_rule(weight_tiers: tuple[str, ...], exact_paths: tuple[str, ...]) -> tuple[str, str]:
    """CEL admitting a hostPath only at `exact_paths` or in one of the weight tiers, and its message."""
    for path in (*weight_tiers, *exact_paths):
        if not _SAFE_PATH.match(path):
            raise ValueError(f"host path {path!r}: must be absolute, letters, digits and . _ / - only")
    allowed = [f"v.hostPath.path == '{path}'" for path in exact_paths]
    shown = list(exact_paths)
    for weight_tier in weight_tiers:
        tier = weight_tier.rstrip("/")
        allowed.append(
            f"((v.hostPath.path == '{tier}' || v.hostPath.path.startsWith('{tier}/')) && "
            "!v.hostPath.path.contains('/..') && !v.hostPath.path.contains('//'))"
        )
        shown.append(f"the model weight tier {tier} or below it")
    expression = "!has(object.spec.volumes) || object.spec.volumes.all(v, !has(v.hostPath) || "
    expression += (" || ".join(allowed) if allowed else "false") + ")"
    message = "hostPath volumes here must be " + (" or ".join(shown) if shown else "absent")
    return expression, message


# Each rule: a stable key (tests and the pack's messages name it), its CEL, and the message a
# refused pod gets back from the API server.
def pod_admission_rules(
    weight_tiers: tuple[str, ...] = (), exact_host_paths: tuple[str, ...] = ()
) -> list[tuple[str, str, str]]:
    """The guard's rules for a namespace whose pods may mount the weight tiers `weight_tiers` (model
    servers: the NVMe tier, a hybrid-nodes target's directory) or exactly `exact_host_paths` (a node
    agent's kubelet directories), nothing else."""
    host_path, host_path_message = _host_path_rule(tuple(sorted(set(weight_tiers))), tuple(sorted(exact_host_paths)))
    return [
        (
            "host-namespaces",
            " && ".join(
                _unset_or("object.spec", field, f"object.spec.{field} == false")
                for field in ("hostNetwork", "hostPID", "hostIPC")
            ),
            "pods here may not share the node's network, process or IPC namespace",
        ),
        (
            "privileged",
            _every_container(_unset_or("c.securityContext", "privileged", "c.securityContext.privileged == false")),
            "containers here may not run privileged",
        ),
        (
            "privilege-escalation",
            _every_container(
                "has(c.securityContext) && has(c.securityContext.allowPrivilegeEscalation) && "
                "c.securityContext.allowPrivilegeEscalation == false"
            ),
            "containers here must set securityContext.allowPrivilegeEscalation: false",
        ),
        (
            "capabilities",
            _every_container(
                "(!has(c.securityContext) || !has(c.securityContext.capabilities) || "
                "!has(c.securityContext.capabilities.add) || "
                "c.securityContext.capabilities.add.all(a, a == 'NET_BIND_SERVICE'))"
            ),
            "containers here may add no Linux capability but NET_BIND_SERVICE",
        ),
        (
            "host-ports",
            _every_container("(!has(c.ports) || c.ports.all(p, !has(p.hostPort) || p.hostPort == 0))"),
            "containers here may not bind a host port",
        ),
        ("host-path", host_path, host_path_message),
        (
            "seccomp",
            _unset_or(
                "object.spec.securityContext",
                "seccompProfile",
                "object.spec.securityContext.seccompProfile.type != 'Unconfined'",
            )
            + " && "
            + _every_container(
                _unset_or(
                    "c.securityContext", "seccompProfile", "c.securityContext.seccompProfile.type != 'Unconfined'"
                )
            ),
            "pods here may not run seccomp Unconfined",
        ),
        (
            "proc-mount",
            _every_container(_unset_or("c.securityContext", "procMount", "c.securityContext.procMount == 'Default'")),
            "containers here must use the Default /proc mount",
        ),
    ]


def pod_admission_validations(
    weight_tiers: tuple[str, ...] = (), exact_host_paths: tuple[str, ...] = ()
) -> list[dict[str, Any]]:
    """The rules as the ValidatingAdmissionPolicy's `spec.validations`."""
    return [
        {"expression": expression, "message": message, "reason": "Forbidden"}
        for _key, expression, message in pod_admission_rules(weight_tiers, exact_host_paths)
    ]


# What the policy admits: pods (and their ephemeral containers, added through a subresource).
POD_MATCH_CONSTRAINTS: dict[str, Any] = {
    "resourceRules": [
        {
            "apiGroups": [""],
            "apiVersions": ["v1"],
            "operations": ["CREATE", "UPDATE"],
            "resources": ["pods", "pods/ephemeralcontainers"],
        }
    ],
}


def pod_admission_policy_name(namespace: str) -> str:
    """The ValidatingAdmissionPolicy (and its binding) guarding `namespace`; cluster-scoped, so named by it."""
    return f"{namespace}-pod-guard"
