"""kubernetes-namespace-admission-guarded: a namespace below Pod Security baseline has its guard."""

from __future__ import annotations

import copy

import pytest
from conftest import policy_resource, provider, stack_violations

from components.pod_admission import POD_MATCH_CONSTRAINTS, pod_admission_rules, pod_admission_validations
from policies.kubernetes import namespace_admission_guarded

POLICY = namespace_admission_guarded.policy
CLUSTER = provider("cluster-k8s", type_="pulumi:providers:kubernetes")
OTHER_CLUSTER = provider("onprem-dc1", type_="pulumi:providers:kubernetes")
TIER = "/mnt/k8s-disks/0/models"
AGENT_PATH = "/var/lib/kubelet/pod-resources"
CONFIG = {"weightPaths": [TIER, "/mnt/models"], "nodeAgentHostPaths": {"gpu-metrics/dcgm-exporter": [AGENT_PATH]}}
NAMESPACE_URN = "urn:pulumi:test::llm-serving::kubernetes:core/v1:Namespace::ns"
POLICY_URN = "urn:pulumi:test::llm-serving::kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy::guard"
BINDING_URN = (
    "urn:pulumi:test::llm-serving::kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicyBinding::"
    "guard-binding"
)


def namespace(name="llm-prod", level: str | None = "privileged", cluster=CLUSTER):
    labels = {"pod-security.kubernetes.io/enforce": level} if level else {}
    return policy_resource(
        "kubernetes:core/v1:Namespace",
        "ns",
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}},
        provider_resource=cluster,
    )


def guard_policy(name="llm-prod-pod-guard", validations=None, cluster=CLUSTER, **spec):
    body = {
        "failurePolicy": "Fail",
        "matchConstraints": copy.deepcopy(POD_MATCH_CONSTRAINTS),
        "validations": validations if validations is not None else pod_admission_validations((TIER,)),
        **spec,
    }
    return policy_resource(
        "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy",
        "guard",
        {"metadata": {"name": name}, "spec": body},
        provider_resource=cluster,
    )


def binding(namespace_name="llm-prod", policy_name="llm-prod-pod-guard", cluster=CLUSTER, **spec):
    body = {
        "policyName": policy_name,
        "validationActions": ["Deny"],
        "matchResources": {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": namespace_name}}},
        **spec,
    }
    return policy_resource(
        "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicyBinding",
        "guard-binding",
        {"metadata": {"name": policy_name}, "spec": body},
        provider_resource=cluster,
    )


def violations(*resources, config=CONFIG):
    return stack_violations(POLICY, list(resources), config)


def prefixed(message, name="llm-prod", level="Pod Security 'privileged'"):
    """The finding, on the resource to mend: the binding or the policy its message names first."""
    urn = BINDING_URN if message.startswith("binding") else POLICY_URN
    return [(f"namespace '{name}' ({level}): {message}", urn)]


def test_compliant():
    assert violations(namespace(), guard_policy(), binding()) == []


def test_compliant_node_agent_namespace():
    """The telemetry namespace's guard admits exactly its agent's kubelet directory."""
    agents = guard_policy("gpu-metrics-pod-guard", pod_admission_validations((), (AGENT_PATH,)))
    assert violations(namespace("gpu-metrics"), agents, binding("gpu-metrics", "gpu-metrics-pod-guard")) == []


def test_compliant_guard_that_admits_no_host_path_at_all():
    strict = guard_policy(validations=pod_admission_validations(()))
    assert violations(namespace(), strict, binding()) == []


def test_compliant_on_prem_weight_tier():
    onprem = guard_policy(validations=pod_admission_validations(("/mnt/models",)))
    assert violations(namespace(), onprem, binding()) == []


def test_compliant_guard_of_a_cluster_with_hybrid_nodes_admits_both_tiers():
    both = guard_policy(validations=pod_admission_validations((TIER, "/mnt/models")))
    assert violations(namespace(), both, binding()) == []


def test_a_second_tier_that_is_not_configured():
    wide = guard_policy(validations=pod_admission_validations((TIER, "/srv")))
    assert violations(namespace(), wide, binding()) == prefixed(
        "ValidatingAdmissionPolicy 'llm-prod-pod-guard' lacks the guard's rules: host-path "
        "(each must be components.pod_admission's expression, unchanged)."
    )


@pytest.mark.parametrize("level", ["baseline", "restricted"])
def test_namespaces_pod_security_already_guards_need_none(level):
    assert violations(namespace(level=level)) == []


def test_no_binding():
    assert violations(namespace(), guard_policy()) == [
        (
            "namespace 'llm-prod' enforces Pod Security 'privileged' and no ValidatingAdmissionPolicyBinding on its "
            "cluster selects it by kubernetes.io/metadata.name: nothing in the cluster refuses host access there.",
            NAMESPACE_URN,
        )
    ]


def test_namespace_without_a_level_is_privileged():
    assert violations(namespace(level=None)) == [
        (
            "namespace 'llm-prod' enforces no Pod Security level (privileged) and no ValidatingAdmissionPolicyBinding "
            "on its cluster selects it by kubernetes.io/metadata.name: nothing in the cluster refuses host access "
            "there.",
            NAMESPACE_URN,
        )
    ]


def test_binding_on_another_cluster_or_namespace_does_not_count():
    found = violations(namespace(), guard_policy(cluster=OTHER_CLUSTER), binding(cluster=OTHER_CLUSTER))
    assert [m for m, _ in found] == [
        "namespace 'llm-prod' enforces Pod Security 'privileged' and no ValidatingAdmissionPolicyBinding on its "
        "cluster selects it by kubernetes.io/metadata.name: nothing in the cluster refuses host access there."
    ]
    assert len(violations(namespace(), guard_policy(), binding("llm-dev"))) == 1


def test_binding_that_only_warns():
    assert violations(namespace(), guard_policy(), binding(validationActions=["Warn", "Audit"])) == prefixed(
        "binding 'llm-prod-pod-guard' has validationActions [Warn, Audit]: a refused pod is still admitted "
        "(use [Deny])."
    )


@pytest.mark.parametrize(
    ("match_resources", "shown"),
    [
        (
            {
                "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "llm-prod"}},
                "objectSelector": {"matchLabels": {"guarded": "yes"}},
            },
            "objectSelector",
        ),
        (
            {
                "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "llm-prod"}},
                "excludeResourceRules": [{"apiGroups": [""], "apiVersions": ["v1"], "resources": ["pods"]}],
            },
            "excludeResourceRules",
        ),
        (
            {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "llm-prod", "guarded": "yes"}}},
            "namespaceSelector beyond its name label",
        ),
    ],
)
def test_binding_that_narrows(match_resources, shown):
    assert violations(namespace(), guard_policy(), binding(matchResources=match_resources)) == prefixed(
        f"binding 'llm-prod-pod-guard' narrows what it judges ({shown}): pods it excludes are never judged."
    )


def test_binding_with_params():
    assert violations(namespace(), guard_policy(), binding(paramRef={"name": "x"})) == prefixed(
        "binding 'llm-prod-pod-guard' sets paramRef: the guard's rules take no parameters."
    )


def test_binding_names_an_undeclared_policy():
    assert violations(namespace(), guard_policy("other"), binding()) == prefixed(
        "binding 'llm-prod-pod-guard' names ValidatingAdmissionPolicy 'llm-prod-pod-guard', which the plan does not "
        "declare on this cluster."
    )


def test_policy_that_fails_open():
    assert violations(namespace(), guard_policy(failurePolicy="Ignore"), binding()) == prefixed(
        "ValidatingAdmissionPolicy 'llm-prod-pod-guard' has failurePolicy 'Ignore': a pod it cannot judge is admitted."
    )


@pytest.mark.parametrize(
    "rules",
    [
        [{**POD_MATCH_CONSTRAINTS["resourceRules"][0], "operations": ["CREATE"]}],
        [{**POD_MATCH_CONSTRAINTS["resourceRules"][0], "resources": ["pods"]}],
        [{**POD_MATCH_CONSTRAINTS["resourceRules"][0], "apiGroups": ["apps"]}],
    ],
)
def test_policy_that_judges_fewer_requests(rules):
    found = violations(namespace(), guard_policy(matchConstraints={"resourceRules": rules}), binding())
    assert found == prefixed(
        "ValidatingAdmissionPolicy 'llm-prod-pod-guard' does not judge exactly every pod CREATE and UPDATE "
        "(matchConstraints must be components.pod_admission.POD_MATCH_CONSTRAINTS)."
    )


def test_policy_with_match_conditions_or_params():
    conditions = [{"name": "skip", "expression": "object.metadata.name != 'x'"}]
    assert violations(namespace(), guard_policy(matchConditions=conditions), binding()) == prefixed(
        "ValidatingAdmissionPolicy 'llm-prod-pod-guard' has matchConditions: pods they exclude are never judged."
    )
    assert violations(namespace(), guard_policy(paramKind={"kind": "ConfigMap"}), binding()) == prefixed(
        "ValidatingAdmissionPolicy 'llm-prod-pod-guard' sets paramKind: the guard's rules take no parameters."
    )


@pytest.mark.parametrize("key", [key for key, _, _ in pod_admission_rules((TIER,))])
def test_policy_missing_or_weakening_a_rule(key):
    """Each rule dropped, or its expression changed by one clause, is named."""
    keyed = list(zip((k for k, _, _ in pod_admission_rules((TIER,))), pod_admission_validations((TIER,)), strict=True))
    kept = [v for k, v in keyed if k != key]
    expected = prefixed(
        f"ValidatingAdmissionPolicy 'llm-prod-pod-guard' lacks the guard's rules: {key} "
        "(each must be components.pod_admission's expression, unchanged)."
    )
    assert violations(namespace(), guard_policy(validations=kept), binding()) == expected
    weakened = [{**v, "expression": f"true || ({v['expression']})"} if k == key else v for k, v in keyed]
    assert violations(namespace(), guard_policy(validations=weakened), binding()) == expected


@pytest.mark.parametrize(
    ("tier", "exact"),
    [("/", ()), ("/mnt", ()), ("/mnt/k8s-disks/0/models", ("/var/run/containerd",)), (None, ("/etc",))],
)
def test_policy_whose_host_path_rule_is_not_a_configured_tier(tier, exact):
    wide = guard_policy(validations=pod_admission_validations((tier,) if tier else (), exact))
    assert violations(namespace(), wide, binding()) == prefixed(
        "ValidatingAdmissionPolicy 'llm-prod-pod-guard' lacks the guard's rules: host-path "
        "(each must be components.pod_admission's expression, unchanged)."
    )


def test_node_agent_namespace_guard_may_not_admit_another_agents_path():
    other = guard_policy("gpu-metrics-pod-guard", pod_admission_validations((), ("/var/lib/kubelet/device-plugins",)))
    assert violations(namespace("gpu-metrics"), other, binding("gpu-metrics", "gpu-metrics-pod-guard")) == prefixed(
        "ValidatingAdmissionPolicy 'gpu-metrics-pod-guard' lacks the guard's rules: host-path "
        "(each must be components.pod_admission's expression, unchanged).",
        name="gpu-metrics",
    )


def test_one_compliant_binding_is_enough():
    warn_only = binding(validationActions=["Warn"])
    assert violations(namespace(), guard_policy(), warn_only, binding()) == []


def test_odd_input():
    """Unreadable parts read as absent: the finding names what is missing, never a crash."""
    odd_policy = policy_resource(
        "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy",
        "guard",
        {"metadata": {"name": "llm-prod-pod-guard"}, "spec": {"validations": "all", "matchConstraints": None}},
        provider_resource=CLUSTER,
    )
    found = violations(namespace(), odd_policy, binding(validationActions=None), config={"weightPaths": "x"})
    assert [m for m, _ in found][0] == (
        "namespace 'llm-prod' (Pod Security 'privileged'): binding 'llm-prod-pod-guard' has validationActions [none]: "
        "a refused pod is still admitted (use [Deny])."
    )
    assert len(found) == 3
    odd_namespace = policy_resource("kubernetes:core/v1:Namespace", "ns", {"metadata": None}, provider_resource=CLUSTER)
    assert len(violations(odd_namespace)) == 1
