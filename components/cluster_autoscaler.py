"""Cluster Autoscaler on one EKS cluster: scales the GPU managed node groups, from zero and back.

Plain manifests (ServiceAccount, RBAC as upstream's AWS auto-discovery example, Deployment) rather
than the Helm chart: every object is reviewable in `llmstack plan` output and validated against the
Kubernetes 1.33 schema. The controller finds its node groups by the Auto Scaling group tags
`GpuNodeGroup` sets (`k8s.io/cluster-autoscaler/enabled` and `k8s.io/cluster-autoscaler/<cluster>`)
and, for a group at zero nodes, builds the would-be node from its `node-template` tags.

AWS access is an IAM role bound by EKS Pod Identity to `kube-system/cluster-autoscaler`: reads on
`*` (the Describe APIs have no resource-level permissions), `eks:DescribeNodegroup` on this
cluster's node groups, and the two mutating calls only on Auto Scaling groups tagged as owned by
this cluster.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi

from components.arg_checks import check_cluster_name, check_environment, check_region
from components.conventions import GPU_LABEL, METRICS_PORT_NAME
from components.gpu_nodes import AUTOSCALER_TAG_PREFIX, owner_tag_key
from components.kube import KubernetesObject
from components.platform_workloads import CLUSTER_AUTOSCALER_NAME, CLUSTER_AUTOSCALER_NAMESPACE
from components.pod_identity import PodIdentityRole, PodIdentityRoleArgs

NAME = CLUSTER_AUTOSCALER_NAME
NAMESPACE = CLUSTER_AUTOSCALER_NAMESPACE
# A Cluster Autoscaler minor release per Kubernetes minor (upstream tests them only as pairs).
# Patch releases from https://github.com/kubernetes/autoscaler/releases (cluster-autoscaler-1.x.y).
IMAGES = {
    "1.32": "registry.k8s.io/autoscaling/cluster-autoscaler:v1.32.3",
    "1.33": "registry.k8s.io/autoscaling/cluster-autoscaler:v1.33.6",
    "1.34": "registry.k8s.io/autoscaling/cluster-autoscaler:v1.34.5",
    "1.35": "registry.k8s.io/autoscaling/cluster-autoscaler:v1.35.2",
}
METRICS_PORT = 8085  # the controller's --address default: /metrics and /health-check
RUN_AS_USER = 65534  # nobody, as upstream's example

_CLUSTER_ARN = re.compile(
    r"^arn:(?P<partition>[a-z-]+):eks:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):cluster/(?P<name>.+)$"
)

READ_ACTIONS = (
    "autoscaling:DescribeAutoScalingGroups",
    "autoscaling:DescribeAutoScalingInstances",
    "autoscaling:DescribeLaunchConfigurations",
    "autoscaling:DescribeScalingActivities",
    "autoscaling:DescribeTags",
    "ec2:DescribeImages",
    "ec2:DescribeInstanceTypes",
    "ec2:DescribeLaunchTemplateVersions",
    "ec2:GetInstanceTypesFromInstanceRequirements",
)
SCALE_ACTIONS = ("autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup")


def iam_policy(cluster_arn: str) -> dict[str, Any]:
    """The controller's permissions: reads, this cluster's node groups, and scaling of owned groups only."""
    match = _CLUSTER_ARN.fullmatch(cluster_arn)
    if not match:
        raise ValueError(f"cluster_arn: must be an EKS cluster ARN (got {cluster_arn!r})")
    nodegroups = f"arn:{match['partition']}:eks:{match['region']}:{match['account']}:nodegroup/{match['name']}/*/*"
    return {
        "Version": "2012-10-17",
        "Statement": [
            # Describe/Get calls support no resource-level permissions.
            {"Sid": "DiscoverGroupsAndInstanceTypes", "Effect": "Allow", "Action": list(READ_ACTIONS), "Resource": "*"},
            # Labels, taints and resources of managed node groups at zero nodes.
            {
                "Sid": "ReadThisClustersNodeGroups",
                "Effect": "Allow",
                "Action": "eks:DescribeNodegroup",
                "Resource": nodegroups,
            },
            {
                "Sid": "ScaleOnlyThisClustersGroups",
                "Effect": "Allow",
                "Action": list(SCALE_ACTIONS),
                "Resource": "*",
                "Condition": {"StringEquals": {f"aws:ResourceTag/{owner_tag_key(match['name'])}": "owned"}},
            },
        ],
    }


def command_args(cluster_name: str) -> list[str]:
    """Flags of the controller (see upstream FAQ "What are the parameters to CA?")."""
    discovery = f"asg:tag={AUTOSCALER_TAG_PREFIX}/enabled,{owner_tag_key(cluster_name)}"
    return [
        "--cloud-provider=aws",
        f"--node-group-auto-discovery={discovery}",
        # Same-shape groups in several zones grow together instead of piling into one zone.
        "--balance-similar-node-groups",
        # Cheapest fit for the pending pods: a g5.xlarge rather than a g5.48xlarge for one GPU.
        "--expander=least-waste",
        # kube-system pods on GPU nodes are DaemonSets; model servers use emptyDir (/dev/shm, /tmp):
        # neither may pin an idle GPU node.
        "--skip-nodes-with-system-pods=false",
        "--skip-nodes-with-local-storage=false",
        "--ignore-daemonsets-utilization=true",
        "--scale-down-unneeded-time=10m",
        "--scale-down-delay-after-add=10m",
        # A p5 boots, loads drivers and RAIDs eight NVMe disks before it is Ready.
        "--max-node-provision-time=25m",
        "--leader-elect=true",
        "--stderrthreshold=info",
        "--v=2",
    ]


def _labels(environment: str) -> dict[str, str]:
    return {
        "app.kubernetes.io/name": NAME,
        "app.kubernetes.io/part-of": "llm-serving",
        "component": "cluster",
        "llm-serving/environment": environment,
    }


def cluster_role_rules() -> list[Any]:
    """Upstream's ClusterRole rules for the AWS provider (auto-discovery example and chart)."""
    read = ["watch", "list", "get"]
    return [
        {"apiGroups": [""], "resources": ["events", "endpoints"], "verbs": ["create", "patch"]},
        {"apiGroups": [""], "resources": ["pods/eviction"], "verbs": ["create"]},
        {"apiGroups": [""], "resources": ["pods/status"], "verbs": ["update"]},
        {"apiGroups": [""], "resources": ["endpoints"], "resourceNames": [NAME], "verbs": ["get", "update"]},
        {"apiGroups": [""], "resources": ["nodes"], "verbs": ["watch", "list", "get", "update"]},
        {
            "apiGroups": [""],
            "resources": [
                "namespaces",
                "pods",
                "services",
                "replicationcontrollers",
                "persistentvolumeclaims",
                "persistentvolumes",
            ],
            "verbs": read,
        },
        {"apiGroups": ["extensions"], "resources": ["replicasets", "daemonsets"], "verbs": read},
        {"apiGroups": ["policy"], "resources": ["poddisruptionbudgets"], "verbs": ["watch", "list"]},
        {"apiGroups": ["apps"], "resources": ["statefulsets", "replicasets", "daemonsets"], "verbs": read},
        {
            "apiGroups": ["storage.k8s.io"],
            "resources": ["storageclasses", "csinodes", "csidrivers", "csistoragecapacities", "volumeattachments"],
            "verbs": read,
        },
        {"apiGroups": ["batch"], "resources": ["jobs", "cronjobs"], "verbs": read},
        {"apiGroups": ["batch", "extensions"], "resources": ["jobs"], "verbs": ["get", "list", "watch", "patch"]},
        {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": ["create"]},
        {
            "apiGroups": ["coordination.k8s.io"],
            "resources": ["leases"],
            "resourceNames": [NAME],
            "verbs": ["get", "update"],
        },
    ]


def namespace_role_rules() -> list[Any]:
    """Upstream's Role in kube-system: its status and priority-expander ConfigMaps."""
    return [
        {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["create", "list", "watch"]},
        {
            "apiGroups": [""],
            "resources": ["configmaps"],
            "resourceNames": ["cluster-autoscaler-status", "cluster-autoscaler-priority-expander"],
            "verbs": ["delete", "get", "update", "watch"],
        },
    ]


def deployment(
    environment: str, region: str, cluster_name: str, image: str, node_selector: Mapping[str, str]
) -> dict[str, Any]:
    """The controller's Deployment (apiVersion, kind, metadata, spec)."""
    labels = _labels(environment)
    # Never on a GPU node: the controller must keep running while it scales those to zero.
    affinity = {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [{"matchExpressions": [{"key": GPU_LABEL, "operator": "DoesNotExist"}]}]
            }
        }
    }
    pod_spec: dict[str, Any] = {
        "serviceAccountName": NAME,
        # The controller calls the Kubernetes API (platform_workloads.API_CLIENTS); its account mounts no token.
        "automountServiceAccountToken": True,
        "priorityClassName": "system-cluster-critical",
        "affinity": affinity,
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": RUN_AS_USER,
            "runAsGroup": RUN_AS_USER,
            "fsGroup": RUN_AS_USER,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "containers": [
            {
                "name": NAME,
                "image": image,
                "command": ["./cluster-autoscaler"],
                "args": command_args(cluster_name),
                "env": [{"name": "AWS_REGION", "value": region}],
                "ports": [{"name": METRICS_PORT_NAME, "containerPort": METRICS_PORT, "protocol": "TCP"}],
                "livenessProbe": {
                    "httpGet": {"path": "/health-check", "port": METRICS_PORT},
                    "initialDelaySeconds": 30,
                    "periodSeconds": 30,
                },
                "resources": {
                    "requests": {"cpu": "100m", "memory": "600Mi"},
                    "limits": {"cpu": "1", "memory": "1Gi"},
                },
                "securityContext": {
                    "allowPrivilegeEscalation": False,
                    "privileged": False,
                    "readOnlyRootFilesystem": True,
                    "capabilities": {"drop": ["ALL"]},
                },
            }
        ],
    }
    if node_selector:
        pod_spec["nodeSelector"] = dict(node_selector)
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": NAME, "namespace": NAMESPACE, "labels": labels},
        "spec": {
            # One active controller (it elects a leader anyway); it restarts in seconds if lost.
            "replicas": 1,
            "selector": {"matchLabels": {"app.kubernetes.io/name": NAME}},
            "template": {"metadata": {"labels": labels}, "spec": pod_spec},
        },
    }


@dataclass(frozen=True)
class ClusterAutoscalerArgs:
    environment: str
    region: str
    """Region of the cluster (AWS_REGION of the controller)."""
    cluster_name: str
    """The EKS cluster name, known from config (e.g. llm-serving-prod): auto-discovery and IAM use it."""
    cluster_arn: pulumi.Input[str]
    """The cluster's ARN: the Pod Identity trust and the node-group read scope."""
    kubernetes_version: str
    """Kubernetes minor version of the cluster; picks the matching controller release (IMAGES)."""
    node_selector: Mapping[str, str] = field(default_factory=dict)
    """Labels of the system node group the controller should run on (it never runs on GPU nodes)."""

    def __post_init__(self) -> None:
        check_environment(self.environment)
        check_region(self.region)
        check_cluster_name(self.cluster_name)
        if self.kubernetes_version not in IMAGES:
            raise ValueError(
                f"kubernetes_version: no Cluster Autoscaler release pinned for {self.kubernetes_version!r}; "
                f"allowed: {', '.join(IMAGES)}"
            )
        if GPU_LABEL in self.node_selector:
            raise ValueError(f"node_selector: must not select GPU nodes ({GPU_LABEL})")

    @property
    def image(self) -> str:
        return IMAGES[self.kubernetes_version]


class ClusterAutoscaler(pulumi.ComponentResource):
    """Pod Identity role, ServiceAccount, RBAC and Deployment; the Kubernetes provider comes from `opts`."""

    role_arn: pulumi.Output[str]

    def __init__(self, name: str, args: ClusterAutoscalerArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("llm-serving:cluster:ClusterAutoscaler", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        labels = _labels(args.environment)
        # Plain dicts with the Kubernetes (camelCase) field names, as the API takes them.
        meta: Any = {"name": NAME, "namespace": NAMESPACE, "labels": labels}
        cluster_meta: Any = {"name": NAME, "labels": labels}

        identity = PodIdentityRole(
            f"{name}-identity",
            PodIdentityRoleArgs(
                cluster_name=args.cluster_name,
                cluster_arn=args.cluster_arn,
                namespace=NAMESPACE,
                service_account=NAME,
                policy=pulumi.Output.from_input(args.cluster_arn).apply(lambda arn: json.dumps(iam_policy(arn))),
                component="cluster",
            ),
            opts=child,
        )
        rbac = "rbac.authorization.k8s.io/v1"
        account = KubernetesObject(
            f"{name}-sa",
            {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta, "automountServiceAccountToken": False},
            child,
        )
        cluster_role = KubernetesObject(
            f"{name}-clusterrole",
            {"apiVersion": rbac, "kind": "ClusterRole", "metadata": cluster_meta, "rules": cluster_role_rules()},
            child,
        )
        role = KubernetesObject(
            f"{name}-role",
            {"apiVersion": rbac, "kind": "Role", "metadata": meta, "rules": namespace_role_rules()},
            child,
        )
        subjects = [{"kind": "ServiceAccount", "name": NAME, "namespace": NAMESPACE}]
        bindings = [
            KubernetesObject(
                f"{name}-{kind.lower()}binding",
                {
                    "apiVersion": rbac,
                    "kind": f"{kind}Binding",
                    "metadata": metadata,
                    "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": kind, "name": NAME},
                    "subjects": subjects,
                },
                pulumi.ResourceOptions(parent=self, depends_on=[granted]),
            )
            for kind, metadata, granted in (("ClusterRole", cluster_meta, cluster_role), ("Role", meta, role))
        ]
        KubernetesObject(
            f"{name}-deployment",
            deployment(args.environment, args.region, args.cluster_name, args.image, args.node_selector),
            # Credentials (the association) and permissions must exist before the pod starts.
            pulumi.ResourceOptions(parent=self, depends_on=[identity, account, *bindings]),
        )
        self.role_arn = identity.role_arn
        self.image = args.image
        self.register_outputs({"role_arn": self.role_arn, "image": self.image})
