"""The platform's own workloads that need more than a model server: Kubernetes API access or a
node directory.

Pure data (no Pulumi import). The components deploy these workloads under these names, and
llmstack/policy_config.py hands exactly these allowances to the policy pack
(kubernetes-service-account-token-not-automounted, kubernetes-pod-host-path-restricted), so an
allowance is a reviewed change to this file, never something a plan can claim for itself.
"""

from __future__ import annotations

from components import keda_manifests, lb_controller_manifests, prometheus_adapter_manifests
from components.conventions import DCGM_EXPORTER_NAME, DCGM_NAMESPACE, KEDA_NAMESPACE, MONITORING_NAMESPACE

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
LB_CONTROLLER_NAMESPACE = "kube-system"


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
    workload_id(KEDA_NAMESPACE, keda_manifests.OPERATOR): (
        "watches ScaledObjects and their targets, scales Deployments, rotates its certificates, leader election"
    ),
    workload_id(KEDA_NAMESPACE, keda_manifests.METRICS_APISERVER): (
        "serves external.metrics.k8s.io: delegated authentication and authorization of the API server's calls"
    ),
    workload_id(MONITORING_NAMESPACE, prometheus_adapter_manifests.NAME): (
        "serves custom.metrics.k8s.io: delegated authentication, reads the objects its metric rules name"
    ),
    workload_id(LB_CONTROLLER_NAMESPACE, lb_controller_manifests.NAME): (
        "keeps each TargetGroupBinding's target group equal to its Service's ready endpoints, leader election"
    ),
}

# DaemonSets that mount a node directory (exactly these paths), and why.
NODE_AGENT_HOST_PATHS = {
    workload_id(DEVICE_PLUGIN_NAMESPACE, DEVICE_PLUGIN_NAME): (DEVICE_PLUGIN_DIR,),
    workload_id(DCGM_NAMESPACE, DCGM_EXPORTER_NAME): (POD_RESOURCES_DIR,),
}
