"""Host access: host namespaces, hostPath, hostPort, and CPU/memory bounds, on the program's own pods."""

import copy

import pytest
from conftest import resource_violations

from components import device_plugin, engines
from components.conventions import GPU_TOLERATION, NVME_MODELS_PATH, model_labels
from components.platform_workloads import NODE_AGENT_HOST_PATHS
from components.serving import (
    ModelServer,
    ModelServerArgs,
    Placement,
    PodIdentityCredentials,
    ServedModel,
    WeightsSource,
)
from policies.kubernetes import (
    container_host_port,
    container_resources_bounded,
    pod_host_namespaces,
    pod_host_path_restricted,
)

DEPLOYMENT = "kubernetes:apps/v1:Deployment"
DAEMON_SET = "kubernetes:apps/v1:DaemonSet"
SPEC = engines.ModelSpec("llama", "r" * 40, 8.03, "llama-3-8b", quantization="awq")
ARGS = ModelServerArgs(
    environment="prod",
    served=ServedModel(SPEC, Placement("a10g", {}, (GPU_TOLERATION,)), cpu=6, memory_gib=27),
    namespace="llm-prod",
    weights=WeightsSource("bucket", "us-east-1", PodIdentityCredentials()),
)
HOST_PATHS = {
    "weightPaths": [NVME_MODELS_PATH, "/mnt/models"],
    "nodeAgentHostPaths": {agent: list(paths) for agent, paths in NODE_AGENT_HOST_PATHS.items()},
}


def model_server() -> dict:
    """The Deployment ModelServer renders (hostPath on the NVMe weight tier)."""
    spec = ModelServer._deployment_spec(ARGS, engines.engine("tgi"), model_labels("llama"), model_labels("llama"), "x")
    return {"metadata": {"name": "llama", "namespace": "llm-prod"}, "spec": copy.deepcopy(spec)}


def pod(props: dict) -> dict:
    return props["spec"]["template"]["spec"]


def plugin() -> dict:
    return device_plugin.daemonset("prod")


# --- host namespaces ---------------------------------------------------------------------------------

NAMESPACES = pod_host_namespaces.policy


def test_host_namespaces_compliant():
    assert resource_violations(NAMESPACES, DEPLOYMENT, model_server()) == []
    assert resource_violations(NAMESPACES, DAEMON_SET, plugin()) == []
    props = model_server()
    pod(props).update(hostNetwork=False, hostPID=False, hostIPC=False)
    assert resource_violations(NAMESPACES, DEPLOYMENT, props) == []


@pytest.mark.parametrize(
    ("field", "message"),
    [
        (
            "hostNetwork",
            "hostNetwork is set: the pod shares the node's network namespace (its interfaces, node-local ports "
            "and the instance metadata endpoint).",
        ),
        (
            "hostPID",
            "hostPID is set: the pod shares the node's process namespace (every process on the node, other pods' "
            "included).",
        ),
        (
            "hostIPC",
            "hostIPC is set: the pod shares the node's IPC namespace (shared memory of every process on the node).",
        ),
    ],
)
def test_each_host_namespace(field, message):
    props = model_server()
    pod(props)[field] = True
    assert resource_violations(NAMESPACES, DEPLOYMENT, props) == [message]


def test_host_namespace_as_a_string_still_counts():
    props = model_server()
    pod(props)["hostNetwork"] = "true"
    assert len(resource_violations(NAMESPACES, DEPLOYMENT, props)) == 1


@pytest.mark.parametrize(
    ("type_token", "wrap"),
    [
        ("kubernetes:core/v1:Pod", lambda spec: {"spec": spec}),
        ("kubernetes:batch/v1:CronJob", lambda spec: {"spec": {"jobTemplate": {"spec": {"template": {"spec": spec}}}}}),
        ("kubernetes:batch/v1:Job", lambda spec: {"spec": {"template": {"spec": spec}}}),
        ("kubernetes:apps/v1:StatefulSet", lambda spec: {"spec": {"template": {"spec": spec}}}),
        ("kubernetes:apps/v1:ReplicaSet", lambda spec: {"spec": {"template": {"spec": spec}}}),
        ("kubernetes:core/v1:ReplicationController", lambda spec: {"spec": {"template": {"spec": spec}}}),
        ("kubernetes:core/v1:PodTemplate", lambda spec: {"template": {"spec": spec}}),
    ],
)
def test_host_namespaces_every_workload_kind(type_token, wrap):
    assert len(resource_violations(NAMESPACES, type_token, wrap({"hostPID": True}))) == 1


def test_host_namespaces_not_applicable_and_odd_input():
    assert resource_violations(NAMESPACES, "kubernetes:core/v1:Service", {"spec": {"hostNetwork": True}}) == []
    for props in ({}, {"spec": None}, {"spec": []}, {"spec": {"template": "x"}}, {"spec": {"template": {"spec": []}}}):
        assert resource_violations(NAMESPACES, DEPLOYMENT, props) == []


# --- hostPath ----------------------------------------------------------------------------------------

HOST_PATH = pod_host_path_restricted.policy


def with_weights_path(path: str) -> dict:
    props = model_server()
    pod(props)["volumes"][0]["hostPath"]["path"] = path
    return props


def test_host_path_compliant_weight_tier_and_below():
    assert resource_violations(HOST_PATH, DEPLOYMENT, model_server(), config=HOST_PATHS) == []
    props = with_weights_path(f"{NVME_MODELS_PATH}/llama")
    assert resource_violations(HOST_PATH, DEPLOYMENT, props, config=HOST_PATHS) == []
    assert resource_violations(HOST_PATH, DEPLOYMENT, with_weights_path("/mnt/models"), config=HOST_PATHS) == []


def test_host_path_compliant_listed_node_agents():
    assert resource_violations(HOST_PATH, DAEMON_SET, plugin(), config=HOST_PATHS) == []


@pytest.mark.parametrize(
    ("path", "shown"),
    [
        ("/", "'/'"),
        ("/etc", "'/etc'"),
        ("/mnt/k8s-disks/../etc", "'/mnt/k8s-disks/../etc' (/mnt/etc)"),
        (f"{NVME_MODELS_PATH}/../../../../etc", f"'{NVME_MODELS_PATH}/../../../../etc' (/etc)"),
        ("//etc", "'//etc' (/etc)"),
        ("/mnt/k8s-disks/0", "'/mnt/k8s-disks/0'"),
        ("/mnt/k8s-disks/0/models-other", "'/mnt/k8s-disks/0/models-other'"),
    ],
)
def test_host_path_outside_the_weight_tier(path, shown):
    assert resource_violations(HOST_PATH, DEPLOYMENT, with_weights_path(path), config=HOST_PATHS) == [
        f"volume 'weights': hostPath {shown} is outside the model weight tier ({NVME_MODELS_PATH}, /mnt/models) and "
        "not a host path allowed to this workload."
    ]


def test_host_path_relative_or_unreadable():
    assert resource_violations(HOST_PATH, DEPLOYMENT, with_weights_path("models"), config=HOST_PATHS) == [
        "volume 'weights': hostPath 'models' is not an absolute path."
    ]
    props = model_server()
    pod(props)["volumes"][0]["hostPath"] = "/"
    assert resource_violations(HOST_PATH, DEPLOYMENT, props, config=HOST_PATHS) == [
        "volume 'weights': hostPath 'None' is not an absolute path."
    ]


def test_host_path_without_config_allows_nothing():
    assert resource_violations(HOST_PATH, DEPLOYMENT, model_server()) == [
        f"volume 'weights': hostPath '{NVME_MODELS_PATH}' is outside the model weight tier (none configured) and "
        "not a host path allowed to this workload."
    ]


def test_host_path_config_root_is_ignored():
    config = {"weightPaths": ["/", "//", "/mnt/.."]}
    assert resource_violations(HOST_PATH, DEPLOYMENT, with_weights_path("/etc"), config=config) == [
        "volume 'weights': hostPath '/etc' is outside the model weight tier (none configured) and not a host path "
        "allowed to this workload."
    ]


def test_node_agent_path_is_exact_and_for_that_daemonset_only():
    props = plugin()
    pod(props)["volumes"][0]["hostPath"]["path"] = "/var/lib/kubelet"
    assert resource_violations(HOST_PATH, DAEMON_SET, props, config=HOST_PATHS) == [
        f"volume 'device-plugin': hostPath '/var/lib/kubelet' is outside the model weight tier ({NVME_MODELS_PATH}, "
        "/mnt/models) and not a host path allowed to this workload."
    ]
    # The same DaemonSet as a Deployment, or under another name, gets no node-agent path.
    for type_token, name in ((DEPLOYMENT, "nvidia-device-plugin"), (DAEMON_SET, "other-agent")):
        props = plugin()
        props["metadata"]["name"] = name
        assert len(resource_violations(HOST_PATH, type_token, props, config=HOST_PATHS)) == 1


def test_weight_tier_is_for_model_servers_only():
    props = model_server()
    props["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/component"] = "controller"
    assert resource_violations(HOST_PATH, DEPLOYMENT, props, config=HOST_PATHS) == [
        f"volume 'weights': hostPath '{NVME_MODELS_PATH}' is in the model weight tier, which only model servers mount."
    ]
    agent = plugin()
    pod(agent)["volumes"].append({"name": "models", "hostPath": {"path": f"{NVME_MODELS_PATH}/x/.."}})
    assert resource_violations(HOST_PATH, DAEMON_SET, agent, config=HOST_PATHS) == [
        f"volume 'models': hostPath '{NVME_MODELS_PATH}/x/..' ({NVME_MODELS_PATH}) is in the model weight tier, "
        "which only model servers mount."
    ]


def test_host_path_persistent_volume():
    pv = "kubernetes:core/v1:PersistentVolume"
    assert resource_violations(
        HOST_PATH, pv, {"spec": {"hostPath": {"path": NVME_MODELS_PATH}}}, config=HOST_PATHS
    ) == [f"hostPath '{NVME_MODELS_PATH}' is in the model weight tier, which only model servers mount."]
    assert resource_violations(HOST_PATH, pv, {"spec": {"hostPath": {"path": "/var"}}}, config=HOST_PATHS) == [
        f"hostPath '/var' is outside the model weight tier ({NVME_MODELS_PATH}, /mnt/models) and not a host path "
        "allowed to this workload."
    ]
    assert resource_violations(HOST_PATH, pv, {"spec": {"csi": {}}}, config=HOST_PATHS) == []


def test_host_path_not_applicable():
    assert resource_violations(HOST_PATH, "kubernetes:core/v1:ConfigMap", {"data": {"hostPath": "/"}}) == []
    props = model_server()
    pod(props)["volumes"] = "not a list"
    assert resource_violations(HOST_PATH, DEPLOYMENT, props, config=HOST_PATHS) == []


# --- hostPort ----------------------------------------------------------------------------------------

HOST_PORT = container_host_port.policy


def test_host_port_compliant():
    assert resource_violations(HOST_PORT, DEPLOYMENT, model_server()) == []
    props = model_server()
    pod(props)["containers"][0]["ports"][0]["hostPort"] = 0
    assert resource_violations(HOST_PORT, DEPLOYMENT, props) == []


def test_host_port_on_container_and_init_container():
    props = model_server()
    pod(props)["containers"][0]["ports"][0]["hostPort"] = 8080.0
    pod(props)["initContainers"][0]["ports"] = [{"containerPort": 9999, "hostPort": 9999}]
    assert resource_violations(HOST_PORT, DEPLOYMENT, props) == [
        "init container 'weight-sync': hostPort 9999 opens the container on the node's own address.",
        "container 'tgi': hostPort 8080 opens the container on the node's own address.",
    ]


def test_host_port_not_applicable():
    assert resource_violations(HOST_PORT, "kubernetes:core/v1:Service", {"spec": {"ports": [{"hostPort": 1}]}}) == []


# --- CPU and memory bounds ---------------------------------------------------------------------------

BOUNDED = container_resources_bounded.policy


def test_bounded_compliant():
    assert resource_violations(BOUNDED, DEPLOYMENT, model_server()) == []
    assert resource_violations(BOUNDED, DAEMON_SET, plugin()) == []


@pytest.mark.parametrize(
    ("kind", "resource", "missing"),
    [
        ("requests", "cpu", "cpu request"),
        ("requests", "memory", "memory request"),
        ("limits", "cpu", "cpu limit"),
        ("limits", "memory", "memory limit"),
    ],
)
def test_each_missing_bound(kind, resource, missing):
    props = model_server()
    del pod(props)["containers"][0]["resources"][kind][resource]
    assert resource_violations(BOUNDED, DEPLOYMENT, props) == [f"container 'tgi': no {missing}."]


def test_init_container_without_resources():
    props = model_server()
    del pod(props)["initContainers"][0]["resources"]
    assert resource_violations(BOUNDED, DEPLOYMENT, props) == [
        "init container 'weight-sync': no cpu request, memory request, cpu limit, memory limit."
    ]


def test_bounded_empty_value_and_odd_input():
    props = model_server()
    pod(props)["containers"][0]["resources"]["limits"]["memory"] = ""
    pod(props)["initContainers"][0]["resources"] = ["not", "a", "mapping"]
    assert resource_violations(BOUNDED, DEPLOYMENT, props) == [
        "init container 'weight-sync': no cpu request, memory request, cpu limit, memory limit.",
        "container 'tgi': no memory limit.",
    ]


def test_bounded_not_applicable():
    assert resource_violations(BOUNDED, "kubernetes:core/v1:Service", {"spec": {"containers": [{}]}}) == []
