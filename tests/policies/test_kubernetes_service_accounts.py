"""Service accounts: no pod on the `default` account; API tokens only in the stack's API clients."""

import pytest
from conftest import resource_violations

from components import cluster_autoscaler, device_plugin
from components.platform_workloads import API_CLIENTS
from policies.kubernetes import pod_service_account_not_default, service_account_token_not_automounted

DEPLOYMENT = "kubernetes:apps/v1:Deployment"
DAEMON_SET = "kubernetes:apps/v1:DaemonSet"
SERVICE_ACCOUNT = "kubernetes:core/v1:ServiceAccount"
CLIENTS = {"apiClients": sorted(API_CLIENTS)}


def autoscaler() -> dict:
    return cluster_autoscaler.deployment("prod", "us-east-1", "llm-serving-prod", "registry.k8s.io/x:v1.0.0", {})


def plugin() -> dict:
    return device_plugin.daemonset("prod")


def pod(props: dict) -> dict:
    return props["spec"]["template"]["spec"]


# --- default service account -----------------------------------------------------------------------

DEFAULT_ACCOUNT = pod_service_account_not_default.policy
ON_DEFAULT = "the pod runs as its namespace's 'default' service account: give the workload one of its own."


def test_own_service_account_compliant():
    assert resource_violations(DEFAULT_ACCOUNT, DEPLOYMENT, autoscaler()) == []
    assert resource_violations(DEFAULT_ACCOUNT, DAEMON_SET, plugin()) == []
    props = plugin()
    del pod(props)["serviceAccountName"]
    pod(props)["serviceAccount"] = "nvidia-device-plugin"  # the deprecated alias still names the account
    assert resource_violations(DEFAULT_ACCOUNT, DAEMON_SET, props) == []


@pytest.mark.parametrize("account", [None, "", "default", 7], ids=["unset", "empty", "default", "not-a-string"])
def test_pod_on_the_default_account(account):
    props = plugin()
    if account is None:
        del pod(props)["serviceAccountName"]
    else:
        pod(props)["serviceAccountName"] = account
    assert resource_violations(DEFAULT_ACCOUNT, DAEMON_SET, props) == [ON_DEFAULT]


def test_default_account_every_workload_kind_and_not_applicable():
    assert resource_violations(DEFAULT_ACCOUNT, "kubernetes:core/v1:Pod", {"spec": {"containers": []}}) == [ON_DEFAULT]
    assert resource_violations(DEFAULT_ACCOUNT, "kubernetes:batch/v1:CronJob", {"spec": {}}) == [ON_DEFAULT]
    assert resource_violations(DEFAULT_ACCOUNT, SERVICE_ACCOUNT, {"metadata": {"name": "default"}}) == []


# --- token automount -----------------------------------------------------------------------------------

TOKENS = service_account_token_not_automounted.policy


def test_tokens_compliant():
    assert resource_violations(TOKENS, DAEMON_SET, plugin(), config=CLIENTS) == []
    assert resource_violations(TOKENS, DEPLOYMENT, autoscaler(), config=CLIENTS) == []
    account = {"metadata": {"name": "x", "namespace": "llm-prod"}, "automountServiceAccountToken": False}
    assert resource_violations(TOKENS, SERVICE_ACCOUNT, account) == []


@pytest.mark.parametrize("value", [None, True, "false"], ids=["unset", "true", "string"])
def test_service_account_that_mounts_tokens(value):
    account = {"metadata": {"name": "x", "namespace": "llm-prod"}}
    if value is not None:
        account["automountServiceAccountToken"] = value
    assert resource_violations(TOKENS, SERVICE_ACCOUNT, account) == [
        "automountServiceAccountToken is not false: every pod using this account gets an API token; opt in on the "
        "pods that call the API instead."
    ]


@pytest.mark.parametrize("value", [None, True], ids=["unset", "true"])
def test_pod_that_is_not_an_api_client(value):
    props = plugin()
    if value is None:
        del pod(props)["automountServiceAccountToken"]
    else:
        pod(props)["automountServiceAccountToken"] = value
    assert resource_violations(TOKENS, DAEMON_SET, props, config=CLIENTS) == [
        "the pod may mount an API token but 'kube-system/nvidia-device-plugin' is not a Kubernetes API client of "
        "this stack: set automountServiceAccountToken: false."
    ]


def test_api_client_must_be_listed_by_namespace_and_name():
    assert len(resource_violations(TOKENS, DEPLOYMENT, autoscaler())) == 1
    moved = autoscaler()
    moved["metadata"]["namespace"] = "default"
    assert resource_violations(TOKENS, DEPLOYMENT, moved, config=CLIENTS) == [
        "the pod may mount an API token but 'default/cluster-autoscaler' is not a Kubernetes API client of this "
        "stack: set automountServiceAccountToken: false."
    ]


def test_tokens_not_applicable():
    assert resource_violations(TOKENS, "kubernetes:core/v1:Service", {"spec": {}}) == []
    assert resource_violations(TOKENS, "kubernetes:core/v1:Secret", {"automountServiceAccountToken": True}) == []
