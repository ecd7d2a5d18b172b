"""The host-access, exposure, RBAC and service-account policies never raise, whatever a plan holds."""

from conftest import policy_resource, provider, resource_violations, stack_violations
from hypothesis import given, settings
from hypothesis import strategies as st
from pulumi_policy import PolicyResource

from policies.kubernetes import (
    container_host_port,
    container_resources_bounded,
    manifest_bundle_crds_only,
    model_server_ingress_restricted,
    network_policy_open_peers,
    pod_host_namespaces,
    pod_host_path_restricted,
    pod_service_account_not_default,
    rbac_binding_no_broad_grants,
    rbac_role_no_escalation_verbs,
    rbac_role_no_pod_node_takeover,
    rbac_role_no_secret_read,
    rbac_role_no_wildcards,
    service_account_token_not_automounted,
    service_no_external_exposure,
)

RESOURCE_POLICIES = [
    module.policy
    for module in (
        container_host_port,
        container_resources_bounded,
        manifest_bundle_crds_only,
        network_policy_open_peers,
        pod_host_namespaces,
        pod_host_path_restricted,
        pod_service_account_not_default,
        rbac_binding_no_broad_grants,
        rbac_role_no_secret_read,
        rbac_role_no_escalation_verbs,
        rbac_role_no_pod_node_takeover,
        rbac_role_no_wildcards,
        service_account_token_not_automounted,
        service_no_external_exposure,
    )
]
TYPES = [
    "kubernetes:apps/v1:Deployment",
    "kubernetes:apps/v1:DaemonSet",
    "kubernetes:batch/v1:CronJob",
    "kubernetes:core/v1:Pod",
    "kubernetes:core/v1:PodTemplate",
    "kubernetes:core/v1:Service",
    "kubernetes:core/v1:ServiceAccount",
    "kubernetes:core/v1:PersistentVolume",
    "kubernetes:networking.k8s.io/v1:NetworkPolicy",
    "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole",
    "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding",
    "kubernetes:yaml/v2:ConfigGroup",
]
# Keys the policies read, so generated objects reach deep into them.
KEYS = st.sampled_from(
    [
        "spec", "template", "jobTemplate", "metadata", "name", "namespace", "labels", "containers",
        "initContainers", "ports", "hostPort", "volumes", "hostPath", "path", "hostNetwork", "resources",
        "limits", "requests", "cpu", "memory", "type", "externalIPs", "ingress", "egress", "from", "to",
        "ipBlock", "cidr", "podSelector", "namespaceSelector", "matchLabels", "matchExpressions", "key",
        "operator", "values", "policyTypes", "rules", "verbs", "resources", "apiGroups", "roleRef", "kind",
        "subjects", "serviceAccountName", "automountServiceAccountToken", "app.kubernetes.io/component",
        "yaml", "objs", "files",
    ]
)  # fmt: skip
SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8)
JSON = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(KEYS, inner, max_size=4))
CONFIGS = st.fixed_dictionaries(
    {},
    optional={
        "weightPaths": JSON,
        "nodeAgentHostPaths": JSON,
        "apiClients": JSON,
    },
)


@settings(max_examples=300, deadline=None)
@given(props=st.dictionaries(KEYS, JSON, max_size=4), type_token=st.sampled_from(TYPES), config=CONFIGS)
def test_resource_policies_never_raise(props, type_token, config):
    for policy in RESOURCE_POLICIES:
        assert isinstance(resource_violations(policy, type_token, props, config=config), list)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(TYPES), st.dictionaries(KEYS, JSON, max_size=4)), max_size=4))
def test_model_server_coverage_never_raises(objects):
    cluster = provider("cluster", type_="pulumi:providers:kubernetes")
    resources: list[PolicyResource] = [
        policy_resource(type_token, f"r{i}", props, provider_resource=cluster)
        for i, (type_token, props) in enumerate(objects)
    ]
    assert isinstance(stack_violations(model_server_ingress_restricted.policy, resources), list)
