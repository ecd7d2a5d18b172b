"""The pack's Kubernetes allowances come from the stack and the program's own workloads, and are
exactly what the program uses: every API client and node-agent host path is needed, none is missing."""

import pytest
from conftest import stack_values

from components import engines
from components.conventions import GPU_TOLERATION, NVME_MODELS_PATH
from components.platform_workloads import API_CLIENTS, NODE_AGENT_HOST_PATHS
from components.serving import ModelServerArgs, Placement, PodIdentityCredentials, ServedModel, WeightsSource
from llmstack.policy_config import policy_config_for
from policies.kubernetes.workloads import pod_spec
from stacks.config import ConfigError, parse_platform_config


def workload_id(resource) -> str:
    metadata = resource.inputs["metadata"]
    return f"{metadata.get('namespace', 'default')}/{metadata['name']}"


def pods(run):
    for resource in run.resources:
        spec = pod_spec(resource.type, resource.inputs)
        if spec is not None:
            yield resource, spec


def test_policy_config_of_the_prod_stack():
    config = policy_config_for(parse_platform_config(stack_values("prod")))
    assert config["kubernetes-pod-host-path-restricted"] == {
        "weightPaths": [NVME_MODELS_PATH, "/mnt/models"],
        "nodeAgentHostPaths": {
            "kube-system/nvidia-device-plugin": ["/var/lib/kubelet/device-plugins"],
            "gpu-metrics/dcgm-exporter": ["/var/lib/kubelet/pod-resources"],
        },
    }
    assert config["kubernetes-service-account-token-not-automounted"] == {
        "apiClients": [
            "keda/keda-operator",
            "keda/keda-operator-metrics-apiserver",
            "kube-system/aws-load-balancer-controller",
            "kube-system/cluster-autoscaler",
            "monitoring/prometheus-adapter",
            "monitoring/prometheus-agent",
        ]
    }


def token_mounting_workloads(run) -> set[str]:
    return {workload_id(r) for r, spec in pods(run) if spec.get("automountServiceAccountToken") is not False}


def host_path_users(run) -> dict[str, set[str]]:
    """Workloads mounting a hostPath outside the weight tiers, with those paths."""
    mounted: dict[str, set[str]] = {}
    for resource, spec in pods(run):
        for volume in spec.get("volumes") or []:
            path = (volume.get("hostPath") or {}).get("path")
            if path is not None and not path.startswith(NVME_MODELS_PATH) and path != "/mnt/models":
                mounted.setdefault(workload_id(resource), set()).add(path)
    return mounted


def test_api_clients_are_the_pods_that_mount_a_token(dev_run, prod_run):
    dev, prod = token_mounting_workloads(dev_run), token_mounting_workloads(prod_run)
    assert dev <= set(API_CLIENTS) and prod <= set(API_CLIENTS)
    assert dev | prod == set(API_CLIENTS), "an API client no stack deploys: remove it"


def test_node_agent_host_paths_are_what_the_agents_mount(dev_run, prod_run):
    allowed = {agent: set(paths) for agent, paths in NODE_AGENT_HOST_PATHS.items()}
    dev, prod = host_path_users(dev_run), host_path_users(prod_run)
    for used in (dev, prod):
        assert all(paths <= allowed.get(agent, set()) for agent, paths in used.items()), used
    assert {agent: dev.get(agent, set()) | prod.get(agent, set()) for agent in allowed} == allowed


@pytest.mark.parametrize("path", ["/mnt/models/..", "/mnt/./models", "//mnt/models", "/.", "/mnt/models/"])
def test_onprem_weights_path_must_be_a_plain_directory(path):
    values = stack_values("prod")
    values["onprem_targets"][0]["weights_path"] = path
    with pytest.raises(ConfigError, match=r"onprem_targets\[0\]\.weights_path: .*must be a normalised directory"):
        parse_platform_config(values)


@pytest.mark.parametrize("path", ["/mnt/k8s-disks/../etc", "//etc", "/", "models"])
def test_model_server_host_path_must_be_a_plain_directory(path):
    model = engines.ModelSpec("llama", "r" * 40, 8.03, "llama-3-8b", quantization="awq")
    with pytest.raises(ValueError, match=r"^weights.host_path: must be an absolute, normalised directory"):
        ModelServerArgs(
            environment="prod",
            served=ServedModel(model, Placement("a10g", {}, (GPU_TOLERATION,)), cpu=6, memory_gib=27),
            namespace="llm-prod",
            weights=WeightsSource("bucket", "us-east-1", PodIdentityCredentials(), host_path=path),
        )
