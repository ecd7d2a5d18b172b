"""The platform's own workloads that need more than a model server: Kubernetes API access or a
node directory.

Pure data (no Pulumi import). The components deploy these workloads under these names, and
llmstack/policy_config.py hands exactly these allowances to the policy pack
(kubernetes-service-account-token-not-automounted, kubernetes-pod-host-path-restricted), so an
allowance is a reviewed change to this file, never something a plan can claim for itself.
"""

from __future__ import annotations

from components.conventions import DCGM_EXPORTER_NAME, DCGM_NAMESPACE, MONITORING_NAMESPACE

DEVICE_PLUGIN_NAME = "nvidia-device-plugin"
DEVICE_PLUGIN_NAMESPACE = "kube-system"
# The kubelet's device-plugin registration directory: the plugin creates its socket there.
DEVICE_PLUGIN_DIR = "/var/lib/kubelet/device-plugins"
# The kubelet's pod-resources API socket: the DCGM exporter maps GPUs to the pods using them.
POD_RESOURCES_DIR = "/var/lib/kubelet/pod-resources"

CLUSTER_AUTOSCALER_NAME = "cluster-autoscaler"
CLUSTER_AUTOSCALER_NAMESPACE = "kube-system"
METRICS_AGENT_NAME = "prometheus-agent"
METRICS_AGENT_NAMESPACE = MONITORING_NAMESPACE


def workload_id(namespace: str, name: str) -> str:
    """`namespace/name`, as the policy config lists workloads."""
    return f"{namespace}/{name}"


# Workloads whose pods call the Kubernetes API (their pods opt in to a token), and why.
API_CLIENTS = {
    workload_id(CLUSTER_AUTOSCALER_NAMESPACE, CLUSTER_AUTOSCALER_NAME): (
        "watches pods, nodes and PodDisruptionBudgets, evicts pods, keeps its status ConfigMap and leader lease"
    ),
    workload_id(METRICS_AGENT_NAMESPACE, METRICS_AGENT_NAME): (
        "discovers model server and DCGM exporter pods (Prometheus kubernetes_sd_configs, role pod)"
    ),
}

# DaemonSets that mount a node directory (exactly these paths), and why.
NODE_AGENT_HOST_PATHS = {
    workload_id(DEVICE_PLUGIN_NAMESPACE, DEVICE_PLUGIN_NAME): (DEVICE_PLUGIN_DIR,),
    workload_id(DCGM_NAMESPACE, DCGM_EXPORTER_NAME): (POD_RESOURCES_DIR,),
}
