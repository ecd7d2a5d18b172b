"""RBAC: wildcards, escalation verbs, cluster-wide Secret reads, broad bindings; the Cluster
Autoscaler's upstream-derived roles are the compliant baseline."""

import pytest
from conftest import resource_violations

from components import cluster_autoscaler
from policies.kubernetes import (
    rbac_binding_no_broad_grants,
    rbac_role_no_escalation_verbs,
    rbac_role_no_pod_node_takeover,
    rbac_role_no_secret_read,
    rbac_role_no_wildcards,
)

RBAC = "kubernetes:rbac.authorization.k8s.io/v1"
ROLE, CLUSTER_ROLE = f"{RBAC}:Role", f"{RBAC}:ClusterRole"
BINDING, CLUSTER_BINDING = f"{RBAC}:RoleBinding", f"{RBAC}:ClusterRoleBinding"


def cluster_role(*extra_rules: dict) -> dict:
    return {
        "metadata": {"name": "cluster-autoscaler"},
        "rules": [*cluster_autoscaler.cluster_role_rules(), *extra_rules],
    }


def role(*extra_rules: dict) -> dict:
    rules = [*cluster_autoscaler.namespace_role_rules(), *extra_rules]
    return {"metadata": {"name": "cluster-autoscaler", "namespace": "kube-system"}, "rules": rules}


EXTRA = len(cluster_autoscaler.cluster_role_rules())  # index of the first added ClusterRole rule
EXTRA_NS = len(cluster_autoscaler.namespace_role_rules())


# --- wildcards ----------------------------------------------------------------------------------------

WILDCARDS = rbac_role_no_wildcards.policy


def test_wildcards_compliant():
    assert resource_violations(WILDCARDS, CLUSTER_ROLE, cluster_role()) == []
    assert resource_violations(WILDCARDS, ROLE, role()) == []


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({"apiGroups": [""], "resources": ["pods"], "verbs": ["*"]}, "wildcard verbs '*'."),
        ({"apiGroups": [""], "resources": ["*"], "verbs": ["get"]}, "wildcard resources '*'."),
        ({"apiGroups": ["*"], "resources": ["deployments"], "verbs": ["get"]}, "wildcard apiGroups '*'."),
        ({"apiGroups": ["apps"], "resources": ["*/scale", "pods"], "verbs": ["get"]}, "wildcard resources '*/scale'."),
    ],
    ids=["verbs", "resources", "apiGroups", "subresource"],
)
def test_each_wildcard_names_the_rule(rule, message):
    assert resource_violations(WILDCARDS, CLUSTER_ROLE, cluster_role(rule)) == [f"rules[{EXTRA}]: {message}"]
    assert resource_violations(WILDCARDS, ROLE, role(rule)) == [f"rules[{EXTRA_NS}]: {message}"]


def test_every_wildcard_field_of_one_rule():
    rule = {"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}
    assert resource_violations(WILDCARDS, ROLE, {"rules": [rule]}) == [
        "rules[0]: wildcard verbs '*'.",
        "rules[0]: wildcard resources '*'.",
        "rules[0]: wildcard apiGroups '*'.",
    ]


def test_wildcards_not_applicable_and_odd_input():
    assert resource_violations(WILDCARDS, BINDING, {"rules": [{"verbs": ["*"]}]}) == []
    assert resource_violations(WILDCARDS, ROLE, {"rules": None}) == []
    assert resource_violations(WILDCARDS, ROLE, {"rules": ["*"]}) == []
    # A string where a list belongs is read as a one-item list.
    assert resource_violations(WILDCARDS, ROLE, {"rules": [{"verbs": "*"}]}) == ["rules[0]: wildcard verbs '*'."]


# --- escalation verbs ----------------------------------------------------------------------------------

ESCALATION = rbac_role_no_escalation_verbs.policy


def test_escalation_compliant():
    assert resource_violations(ESCALATION, CLUSTER_ROLE, cluster_role()) == []


@pytest.mark.parametrize("verb", ["bind", "escalate", "impersonate"])
def test_each_escalation_verb(verb):
    rule = {"apiGroups": ["rbac.authorization.k8s.io"], "resources": ["clusterroles"], "verbs": ["get", verb]}
    assert resource_violations(ESCALATION, CLUSTER_ROLE, cluster_role(rule)) == [
        f"rules[{EXTRA}]: verbs {verb} let the holder gain permissions it was not granted."
    ]


def test_escalation_verbs_together_in_a_role():
    rule = {"apiGroups": [""], "resources": ["users", "groups"], "verbs": ["impersonate", "bind", "escalate"]}
    assert resource_violations(ESCALATION, ROLE, role(rule)) == [
        f"rules[{EXTRA_NS}]: verbs bind, escalate, impersonate let the holder gain permissions it was not granted."
    ]


def test_escalation_not_applicable():
    assert resource_violations(ESCALATION, BINDING, {"rules": [{"verbs": ["bind"]}]}) == []


# --- cluster-wide Secret reads ---------------------------------------------------------------------------

SECRETS = rbac_role_no_secret_read.policy


def test_secrets_compliant():
    assert resource_violations(SECRETS, CLUSTER_ROLE, cluster_role()) == []
    # Writing a Secret is not reading one; another group's `secrets` is not the core resource.
    writes = {"apiGroups": [""], "resources": ["secrets"], "verbs": ["create"]}
    other_group = {"apiGroups": ["example.com"], "resources": ["secrets"], "verbs": ["get"]}
    assert resource_violations(SECRETS, CLUSTER_ROLE, cluster_role(writes, other_group)) == []


@pytest.mark.parametrize(
    ("rule", "verbs"),
    [
        ({"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]}, "get"),
        ({"apiGroups": [""], "resources": ["configmaps", "secrets"], "verbs": ["list", "watch"]}, "list, watch"),
        ({"apiGroups": ["*"], "resources": ["secrets"], "verbs": ["watch"]}, "watch"),
        ({"apiGroups": [""], "resources": ["*"], "verbs": ["list"]}, "list"),
        ({"apiGroups": [""], "resources": ["secrets"], "verbs": ["*"]}, "*"),
    ],
    ids=["get", "list-watch", "any-group", "any-resource", "any-verb"],
)
def test_cluster_role_reads_secrets(rule, verbs):
    assert resource_violations(SECRETS, CLUSTER_ROLE, cluster_role(rule)) == [
        f"rules[{EXTRA}]: {verbs} on Secrets in every namespace."
    ]


def test_a_role_may_read_the_secrets_it_names():
    rule = {"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"], "resourceNames": ["weights-reader"]}
    assert resource_violations(SECRETS, ROLE, role(rule)) == []


def test_a_role_reads_every_secret_of_its_namespace():
    rule = {"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "list"]}
    assert resource_violations(SECRETS, ROLE, role(rule)) == [
        f"rules[{EXTRA_NS}]: get, list on every Secret in namespace 'kube-system' (name them in resourceNames)."
    ]


def test_a_cluster_role_may_not_read_named_secrets_either():
    rule = {"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"], "resourceNames": ["weights-reader"]}
    assert resource_violations(SECRETS, CLUSTER_ROLE, cluster_role(rule)) == [
        f"rules[{EXTRA}]: get on Secrets in every namespace."
    ]


def test_secrets_not_applicable():
    rule = {"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]}
    assert resource_violations(SECRETS, BINDING, {"rules": [rule]}) == []


# --- bindings -------------------------------------------------------------------------------------------

BINDINGS = rbac_binding_no_broad_grants.policy


def binding(role_name="cluster-autoscaler", role_kind="ClusterRole", *extra_subjects: dict) -> dict:
    subjects = [{"kind": "ServiceAccount", "name": "cluster-autoscaler", "namespace": "kube-system"}, *extra_subjects]
    return {
        "metadata": {"name": "cluster-autoscaler"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": role_kind, "name": role_name},
        "subjects": subjects,
    }


def test_bindings_compliant():
    assert resource_violations(BINDINGS, CLUSTER_BINDING, binding()) == []
    assert resource_violations(BINDINGS, BINDING, binding(role_kind="Role")) == []
    # A Role that happens to be called cluster-admin is not the ClusterRole.
    assert resource_violations(BINDINGS, BINDING, binding("cluster-admin", "Role")) == []


@pytest.mark.parametrize("kind", [CLUSTER_BINDING, BINDING])
def test_binding_to_cluster_admin(kind):
    assert resource_violations(BINDINGS, kind, binding("cluster-admin")) == [
        "roleRef: binds ClusterRole 'cluster-admin' (every verb on every resource)."
    ]


@pytest.mark.parametrize(
    ("subject", "who"),
    [
        ({"kind": "User", "name": "system:anonymous"}, "every unauthenticated request"),
        ({"kind": "Group", "name": "system:unauthenticated"}, "every unauthenticated request"),
        ({"kind": "Group", "name": "system:authenticated"}, "every identity the API server authenticates"),
        ({"kind": "Group", "name": "system:masters"}, "a group that bypasses RBAC altogether"),
    ],
)
def test_binding_to_broad_subjects(subject, who):
    assert resource_violations(BINDINGS, BINDING, binding("cluster-autoscaler", "Role", subject)) == [
        f"subjects[1]: {subject['kind']} '{subject['name']}' is {who}."
    ]


def test_bindings_not_applicable_and_odd_input():
    assert resource_violations(BINDINGS, CLUSTER_ROLE, binding("cluster-admin")) == []
    assert resource_violations(BINDINGS, BINDING, {"roleRef": None, "subjects": "system:authenticated"}) == []


# --- pod and node takeover ------------------------------------------------------------------------

TAKEOVER = rbac_role_no_pod_node_takeover.policy


def test_takeover_compliant():
    assert resource_violations(TAKEOVER, CLUSTER_ROLE, cluster_role()) == []
    assert resource_violations(TAKEOVER, ROLE, role()) == []
    reads_pods = {"apiGroups": [""], "resources": ["pods", "pods/log"], "verbs": ["get", "list", "watch"]}
    other_group = {"apiGroups": ["metrics.k8s.io"], "resources": ["pods/exec"], "verbs": ["create"]}
    assert resource_violations(TAKEOVER, CLUSTER_ROLE, cluster_role(reads_pods, other_group)) == []


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        (
            {"apiGroups": [""], "resources": ["pods/exec"], "verbs": ["create"]},
            "create on pods/exec lets the holder run commands in any pod it covers (model servers hold weights "
            "and prompts).",
        ),
        (
            {"apiGroups": ["*"], "resources": ["pods/attach"], "verbs": ["get", "list"]},
            "get on pods/attach lets the holder attach to the processes of any pod it covers.",
        ),
        (
            {"apiGroups": [""], "resources": ["pods/portforward"], "verbs": ["*"]},
            "* on pods/portforward lets the holder reach any pod it covers around its NetworkPolicy.",
        ),
        (
            {"apiGroups": [""], "resources": ["pods/ephemeralcontainers"], "verbs": ["patch"]},
            "patch on pods/ephemeralcontainers lets the holder add a container, privileged if it likes, to a "
            "running pod.",
        ),
        (
            {"apiGroups": [""], "resources": ["nodes/proxy"], "verbs": ["get"]},
            "get on nodes/proxy lets the holder call the kubelet API: exec in every pod on a node.",
        ),
        (
            {"apiGroups": [""], "resources": ["serviceaccounts/token"], "verbs": ["create"]},
            "create on serviceaccounts/token lets the holder mint API tokens for any service account it covers.",
        ),
    ],
    ids=["exec", "attach", "portforward", "ephemeral", "nodes-proxy", "token"],
)
def test_each_takeover_path_names_the_rule(rule, message):
    assert resource_violations(TAKEOVER, CLUSTER_ROLE, cluster_role(rule)) == [f"rules[{EXTRA}]: {message}"]
    assert resource_violations(TAKEOVER, ROLE, role(rule)) == [f"rules[{EXTRA_NS}]: {message}"]


def test_takeover_reads_odd_rules_and_ignores_other_types():
    odd = {"rules": [{"apiGroups": "", "resources": "nodes/proxy", "verbs": "get"}, {"verbs": ["create"]}, None]}
    assert resource_violations(TAKEOVER, CLUSTER_ROLE, odd) == [
        "rules[0]: get on nodes/proxy lets the holder call the kubelet API: exec in every pod on a node."
    ]
    assert resource_violations(TAKEOVER, BINDING, {"roleRef": {"name": "x"}}) == []
