"""The admission guard's CEL rules, evaluated as the API server would: every pod the stacks declare
passes, and each way a pod could take the node is refused by the rule that names it."""

from __future__ import annotations

import copy
from typing import Any

import celpy
import pytest
from celpy import celtypes
from celpy.adapter import json_to_cel
from conftest import run_stack

from components.conventions import NVME_MODELS_PATH
from components.pod_admission import pod_admission_policy_name, pod_admission_rules
from policies.kubernetes.workloads import pod_spec

ADMISSION_POLICY = "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy"
ADMISSION_BINDING = "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicyBinding"
_CEL = celpy.Environment()


def refused_by(validations: list[dict], spec: dict) -> list[str]:
    """Messages of the validations that refuse a pod with this spec (empty: admitted)."""
    pod = json_to_cel({"metadata": {"name": "p"}, "spec": spec})
    refused = []
    for validation in validations:
        result = _CEL.program(_CEL.compile(validation["expression"])).evaluate({"object": pod})
        # Anything but true (false, or an evaluation error) refuses the pod, as failurePolicy Fail does.
        if not (isinstance(result, celtypes.BoolType) and bool(result)):
            refused.append(validation["message"])
    return refused


@pytest.fixture(scope="module", params=["prod", "dev"])
def plan(request):
    return run_stack(request.param).resources


def test_every_privileged_namespace_of_the_stacks_has_its_guard_and_every_pod_in_it_passes(plan):
    policies = {(r.provider, r.inputs["metadata"]["name"]): r for r in plan if r.type == ADMISSION_POLICY}
    bindings = {(r.provider, r.inputs["metadata"]["name"]): r for r in plan if r.type == ADMISSION_BINDING}
    guarded = [
        r
        for r in plan
        if r.type == "kubernetes:core/v1:Namespace"
        and r.inputs["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "privileged"
    ]
    assert len(guarded) >= 2  # the serving and GPU telemetry namespaces of each cluster
    judged = 0
    for namespace in guarded:
        name = namespace.inputs["metadata"]["name"]
        key = (namespace.provider, pod_admission_policy_name(name))
        binding = bindings[key].inputs
        assert binding["spec"]["validationActions"] == ["Deny"]
        assert binding["spec"]["policyName"] == pod_admission_policy_name(name)
        assert binding["spec"]["matchResources"] == {
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": name}}
        }
        # The namespace waits for its guard: no pod is admitted into it unjudged.
        assert {policies[key].urn, bindings[key].urn} <= set(namespace.dependencies)
        validations = policies[key].inputs["spec"]["validations"]
        for resource in plan:
            spec = pod_spec(resource.type, resource.inputs or {})
            if spec is None or (resource.inputs.get("metadata") or {}).get("namespace") != name:
                continue
            if resource.provider != namespace.provider:
                continue
            assert refused_by(validations, spec) == [], resource.name
            judged += 1
    assert judged >= 2  # a model server and the DCGM exporter at least


COMPLIANT = {
    "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
    "containers": [
        {
            "name": "engine",
            "image": "ghcr.io/huggingface/text-generation-inference@sha256:" + "0" * 64,
            "ports": [{"containerPort": 8080}],
            "securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}},
        }
    ],
    "initContainers": [{"name": "sync", "image": "x", "securityContext": {"allowPrivilegeEscalation": False}}],
    "volumes": [{"name": "weights", "hostPath": {"path": f"{NVME_MODELS_PATH}/llama", "type": "Directory"}}],
}
MESSAGES = {key: message for key, _, message in pod_admission_rules((NVME_MODELS_PATH,))}
VALIDATIONS = [{"expression": e, "message": m} for _, e, m in pod_admission_rules((NVME_MODELS_PATH,))]


def broken(path: str, value) -> dict:
    spec = copy.deepcopy(COMPLIANT)
    *parents, last = path.split(".")
    node: Any = spec
    for part in parents:
        node = node[int(part)] if part.isdigit() else node.setdefault(part, {})
    node[last] = value
    return spec


def test_a_compliant_pod_and_a_minimal_one_are_admitted():
    assert refused_by(VALIDATIONS, COMPLIANT) == []
    minimal = {"containers": [{"name": "c", "image": "x", "securityContext": {"allowPrivilegeEscalation": False}}]}
    assert refused_by(VALIDATIONS, minimal) == []


@pytest.mark.parametrize(
    ("path", "value", "rule"),
    [
        ("hostNetwork", True, "host-namespaces"),
        ("hostPID", True, "host-namespaces"),
        ("hostIPC", True, "host-namespaces"),
        ("containers.0.securityContext.privileged", True, "privileged"),
        ("initContainers.0.securityContext.privileged", True, "privileged"),
        (
            "ephemeralContainers",
            [{"name": "debug", "securityContext": {"privileged": True, "allowPrivilegeEscalation": False}}],
            "privileged",
        ),
        ("containers.0.securityContext.allowPrivilegeEscalation", True, "privilege-escalation"),
        ("initContainers.0.securityContext", {}, "privilege-escalation"),
        ("containers.0.securityContext.capabilities.add", ["SYS_ADMIN"], "capabilities"),
        ("containers.0.ports.0.hostPort", 8080, "host-ports"),
        ("volumes.0.hostPath.path", "/", "host-path"),
        ("volumes.0.hostPath.path", "/var/run/containerd", "host-path"),
        ("volumes.0.hostPath.path", f"{NVME_MODELS_PATH}/../../../../etc", "host-path"),
        ("volumes.0.hostPath.path", f"{NVME_MODELS_PATH}-evil", "host-path"),
        ("securityContext.seccompProfile.type", "Unconfined", "seccomp"),
        ("containers.0.securityContext.seccompProfile", {"type": "Unconfined"}, "seccomp"),
        ("containers.0.securityContext.procMount", "Unmasked", "proc-mount"),
    ],
)
def test_each_breach_is_refused_by_its_rule_alone(path, value, rule):
    assert refused_by(VALIDATIONS, broken(path, value)) == [MESSAGES[rule]]


def test_net_bind_service_is_the_one_capability_a_container_may_add():
    assert refused_by(VALIDATIONS, broken("containers.0.securityContext.capabilities.add", ["NET_BIND_SERVICE"])) == []


def test_node_agent_guard_admits_exactly_its_paths():
    validations = [{"expression": e, "message": m} for _, e, m in pod_admission_rules((), ("/var/lib/kubelet/x",))]
    assert refused_by(validations, broken("volumes.0.hostPath.path", "/var/lib/kubelet/x")) == []
    assert refused_by(validations, broken("volumes.0.hostPath.path", "/var/lib/kubelet/x/y")) == [
        "hostPath volumes here must be /var/lib/kubelet/x"
    ]
    assert refused_by(validations, broken("volumes.0.hostPath.path", NVME_MODELS_PATH)) == [
        "hostPath volumes here must be /var/lib/kubelet/x"
    ]


def test_a_path_the_guard_cannot_state_is_refused():
    with pytest.raises(ValueError, match=r"^host path \"/mnt/x'\": must be absolute"):
        pod_admission_rules(("/mnt/x'",))
