"""Names every component agrees on: node labels and taints, serving namespace, ports, paths.

Pure data (no Pulumi import): the cluster labels nodes with these, model servers select and
tolerate them, scalers and the gateway find model servers by them, and policies check them.
"""

from __future__ import annotations

import re

# --- GPU nodes ---------------------------------------------------------------------------------
GPU_LABEL = "llm-serving/gpu"  # value: catalog GPU key, e.g. "h100"
NODE_GROUP_LABEL = "llm-serving/node-group"  # value: node group name from the stack config
GPU_RESOURCE = "nvidia.com/gpu"
GPU_TAINT = {"key": "nvidia.com/gpu", "value": "true", "effect": "NoSchedule"}
GPU_TOLERATION = {"key": "nvidia.com/gpu", "operator": "Equal", "value": "true", "effect": "NoSchedule"}
# Cluster Autoscaler's AWS provider treats a node with this label as a GPU node and counts it as not
# ready until its GPUs are allocatable (cluster-autoscaler/cloudprovider/aws/aws_cloud_provider.go,
# `GPULabel`; utils/gpu checks the label's presence). Without it, CA sees a starting p5 as ready but
# unable to take the pending pod, and adds a second one. Values follow CA's `availableGPUTypes`
# naming (`nvidia-a10g`, `nvidia-tesla-a100`): `nvidia-<catalog key>`.
AUTOSCALER_GPU_LABEL = "k8s.amazonaws.com/accelerator"


def accelerator_label_value(gpu: str) -> str:
    return f"nvidia-{gpu}"


# EKS Hybrid Nodes: nodeadm labels every node it joins `eks.amazonaws.com/compute-type: hybrid`; the
# stack's kubelet flags add the target's name, so a model server selects one target's machines.
COMPUTE_TYPE_LABEL = "eks.amazonaws.com/compute-type"
HYBRID_COMPUTE_TYPE = "hybrid"
ONPREM_TARGET_LABEL = "llm-serving/onprem-target"  # value: the on-prem target's name
# Tags on a target's HYBRID_LINUX access entry: what EKS bills it for (machines x vCPUs, per hour).
HYBRID_NODES_TAG = "llm-serving/hybrid-nodes"
HYBRID_VCPUS_PER_NODE_TAG = "llm-serving/hybrid-vcpus-per-node"

# nodeadm's local-storage directory (`instance.localStorage.strategy: RAID0`). The RAID0 array of
# the instance-store NVMe is mounted at its `0` subdirectory (amazon-eks-ami setup-local-disks and
# nodeadm's local-disk aspect: `${MNT_DIR}/0`), beside the bind-mounted kubelet and containerd
# state; a directory directly under NVME_MOUNT would sit on the root EBS volume.
NVME_MOUNT = "/mnt/k8s-disks"
NVME_ARRAY_MOUNT = f"{NVME_MOUNT}/0"
# The hot tier of model weights, on the array.
NVME_MODELS_PATH = f"{NVME_ARRAY_MOUNT}/models"

# --- model servers -----------------------------------------------------------------------------
HTTP_PORT = 8080
METRICS_PORT = 9000
HTTP_PORT_NAME = "http"
METRICS_PORT_NAME = "metrics"
MODEL_LABEL = "llm-serving/model"
COMPONENT_LABEL = "app.kubernetes.io/component"
MODEL_SERVER_COMPONENT = "model-server"

# Weight objects: s3://<bucket>/models/<model>/<revision>/..., with manifest.json and SHA256SUMS.
WEIGHTS_PREFIX = "models"


def serving_namespace(environment: str) -> str:
    """The namespace model servers of an environment run in, on every cluster."""
    return f"llm-{environment}"


def model_server_name(model: str) -> str:
    """Deployment and Service name of a model's server (the scale target of its scaler)."""
    return model


# Data classification of what a resource holds or serves: a label on Kubernetes objects, a tag on AWS
# resources. `sensitive` stays on on-prem targets that allow it (data-residency-sensitive-models-on-prem).
DATA_CLASSIFICATION_LABEL = "llm-serving/data-classification"
SENSITIVE = "sensitive"
INTERNAL = "internal"


def data_classification(sensitive: bool) -> str:
    return SENSITIVE if sensitive else INTERNAL


def model_labels(model: str) -> dict[str, str]:
    """Labels on a model server's pods and Service; selectors use exactly these."""
    return {
        "app.kubernetes.io/name": model_server_name(model),
        COMPONENT_LABEL: MODEL_SERVER_COMPONENT,
        MODEL_LABEL: model,
    }


def weights_key(model: str, revision: str) -> str:
    return f"{WEIGHTS_PREFIX}/{model}/{revision}/"


# Model files on a node's hot tier are written by the weight-sync init container as this user;
# the node (nodeadm user data, or the on-prem platform team) creates NVME_MODELS_PATH owned by it,
# because a hostPath is never chowned by the kubelet.
MODEL_SERVER_UID = 1000

# Annotations on a model server's Deployment: the sizing question the model-fits-gpus policy re-asks.
SIZING_ANNOTATION_PREFIX = "llm-serving/"
SIZING_ANNOTATIONS = (
    "parameters-billion",
    "family",
    "quantization",
    "gpu",
    "shards",
    "max-total-tokens",
    "max-batch-size",
)

# S3 object tag `llmstack weights archive` sets; the weight buckets' lifecycle moves tagged objects to GLACIER.
WEIGHTS_TIER_TAG = "llm-serving/tier"
WEIGHTS_COLD_TIER = "cold"
# --- metrics and autoscaling -------------------------------------------------------------------
MONITORING_NAMESPACE = "monitoring"  # metrics agent, prometheus-adapter
KEDA_NAMESPACE = "keda"
DCGM_METRICS_PORT = 9400  # NVIDIA DCGM exporter's default listen port; port name METRICS_PORT_NAME
DCGM_EXPORTER_NAME = "dcgm-exporter"
# The DCGM exporter needs host access (root for the pod-resources socket):
# it gets a namespace of its own so `monitoring` keeps the restricted Pod Security level.
DCGM_NAMESPACE = "gpu-metrics"
# The Prometheus metrics the scalers act on are per engine: components/engines.py.
# Pod annotation naming the container port a model server serves /metrics on (TGI: METRICS_PORT_NAME,
# vLLM: HTTP_PORT_NAME); the metrics agent scrapes that port and no other.
METRICS_PORT_ANNOTATION = "llm-serving/metrics-port"
# NetworkPolicy annotation naming the data centre networks its ipBlocks admit (`name=cidr,...`,
# components/named_networks.py): network-ingress-from-named-networks checks it.
INGRESS_NETWORKS_ANNOTATION = "llm-serving/ingress-networks"

# --- API Gateway -------------------------------------------------------------------------------
GATEWAY_STAGE = "v1"
# Dimensions of a stage's per-method metrics (detailed metrics on): what a model scaled to zero
# wakes on, its own route's request count. Without Resource, a Count is every model's.
GATEWAY_ROUTE_DIMENSIONS = ("ApiName", "Method", "Resource", "Stage")
# Gateway response types API Gateway answers when the VPC link reaches no ready replica; both are
# 503 with this header (the GatewayResponseType enum, checked against botocore's model in a test).
UNAVAILABLE_RESPONSE_TYPES = ("INTEGRATION_FAILURE", "INTEGRATION_TIMEOUT")
RETRY_AFTER_PARAMETER = "gatewayresponse.header.Retry-After"


def gateway_api_name(environment: str, region: str) -> str:
    """REST API name of a region's front door (the `ApiName` dimension its metrics carry)."""
    return f"llm-serving-{environment}-{region}"


# --- logs --------------------------------------------------------------------------------------
# The values CloudWatch Logs accepts for retentionInDays (0, "never expire", is left out on purpose).
# fmt: off
LOG_RETENTION_DAYS = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
)
# fmt: on

# --- S3 data roles -----------------------------------------------------------------------------
# Every bucket says what it holds with this tag. The access-log bucket is the one bucket some S3
# controls cannot apply to (server access logging cannot write to SSE-KMS or versioned-only
# destinations): the pack grants that exemption only to a bucket that is tagged ACCESS_LOGS_DATA
# AND named with ACCESS_LOG_BUCKET_MARK, and checks the contract both ways
# (policies/aws/s3/access_log_bucket_contract.py). Renaming a protected bucket replaces it, so
# the name cannot be changed in place to claim the exemption.
DATA_TAG = "llm-serving/data"
ACCESS_LOGS_DATA = "access-logs"
MODEL_WEIGHTS_DATA = "model-weights"
ACCESS_LOG_BUCKET_MARK = "-s3-logs-"


# --- data residency ------------------------------------------------------------------------------
# Config and the policy pack recognise a model's resources by its name standing as a whole word, and
# AWS by its endpoint hosts, in one way each.
_AWS_ENDPOINT_HOST = re.compile(r"(^|\.)(amazonaws\.com(\.cn)?|on\.aws|api\.aws)$")


def name_as_word(name: str) -> re.Pattern[str]:
    """`name` touching no letter or digit on either side (mistral-7b in mistral-7b-chat, not in mistral-7bx)."""
    return re.compile(rf"(?<![A-Za-z0-9]){re.escape(name)}(?![A-Za-z0-9])")


def is_aws_endpoint(url: str) -> bool:
    """Whether an endpoint URL (or bare host) is one of AWS's: *.amazonaws.com(.cn), *.on.aws, *.api.aws."""
    host = re.sub(r"^[a-z]+://", "", url.strip(), flags=re.IGNORECASE).split("/", 1)[0].split(":", 1)[0].lower()
    return bool(_AWS_ENDPOINT_HOST.search(host))


ANOMALY_THRESHOLD_MAX_SHARE = 0.10
"""A cost anomaly must be reported before it has cost a tenth of the month's budget (config and the pack)."""
