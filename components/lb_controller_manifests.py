"""The AWS Load Balancer Controller's objects as the pinned chart renders them: no Helm anywhere.

Follows github.com/kubernetes-sigs/aws-load-balancer-controller, tag v2.14.0,
helm/aws-load-balancer-controller/templates/*.yaml and values.yaml (chart 1.14.0, app v2.14.0;
the same chart eks-charts publishes), for release `aws-load-balancer-controller` in `kube-system`
and the values `values()` returns (every key that differs from the chart's defaults). The CRDs
(IngressClassParams, TargetGroupBinding) come from the chart's crds/crds.yaml (description texts
removed), vendored in components/crds/aws-load-balancer-controller-1.14.0.json; the Gateway API CRDs of crds/ are left
out: the controller only watches them behind the ALBGatewayAPI/NLBGatewayAPI feature gates (off).

Webhook certificates: the controller always runs its webhook server (main.go registers the pod,
TargetGroupBinding, IngressClassParams and Ingress webhooks unconditionally) and needs a serving
certificate. The chart makes one with Helm's `genCA` unless `webhookTLS.{caCert,cert,key}` are
given; upstream's static manifest needs cert-manager, which this cluster does not run. Here the
certificate comes through `webhookTLS`, issued by Pulumi's TLS provider (components/private_path.py):
the same CA + serving certificate Helm would generate, its key kept (as a secret) in Pulumi's state
as Helm keeps it in the release.

Changes from the chart's defaults besides the stack's own settings, and why:
- webhookConfig.disableIngressValidation true: nothing here uses Ingress (no IngressClass), so
  no webhook that can block every Ingress in the cluster when the controller is down.
- securityContext adds capabilities.drop [ALL] and seccompProfile RuntimeDefault (restricted
  Pod Security); resources get requests and limits (the chart sets none); nodeSelector: system nodes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from components.upstream import vendored_crds

CHART_VERSION = "1.14.0"
APP_VERSION = "v2.14.0"
CRD_FILE = f"aws-load-balancer-controller-{CHART_VERSION}.json"
NAME = "aws-load-balancer-controller"  # release = chart name: the chart's fullname
NAME_PREFIX = "aws-load-balancer"  # namePrefix: the chart name without "-controller"
WEBHOOK_SERVICE = f"{NAME_PREFIX}-webhook-service"
WEBHOOK_SECRET = f"{NAME_PREFIX}-tls"
IMAGE_REPOSITORY = "public.ecr.aws/eks/aws-load-balancer-controller"
WEBHOOK_PORT = 9443
HEALTH_PORT = 61779
RBAC = "rbac.authorization.k8s.io/v1"
RESOURCES = {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"cpu": "500m", "memory": "512Mi"}}
SECURITY_CONTEXT = {
    "readOnlyRootFilesystem": True,
    "runAsNonRoot": True,
    "allowPrivilegeEscalation": False,
    "capabilities": {"drop": ["ALL"]},
    "seccompProfile": {"type": "RuntimeDefault"},
}


def values(
    cluster_name: str,
    region: str,
    vpc_id: str,
    replicas: int,
    affinity: Mapping[str, Any],
    node_selector: Mapping[str, str],
    default_tags: Mapping[str, str],
) -> dict[str, Any]:
    """The Helm values this rendering reproduces (everything else: the chart's defaults); webhookTLS
    carries the Pulumi-issued certificate."""
    return {
        "clusterName": cluster_name,
        "region": region,
        "vpcId": vpc_id,
        "replicaCount": replicas,
        "image": {"repository": IMAGE_REPOSITORY, "tag": APP_VERSION},
        "serviceAccount": {"create": True, "name": NAME},
        "createIngressClassResource": False,
        "enableServiceMutatorWebhook": False,
        "enableBackendSecurityGroup": False,
        "enableShield": False,
        "enableWaf": False,
        "enableWafv2": False,
        "webhookConfig": {"disableIngressValidation": True},
        "webhookTLS": {"caCert": "<pulumi tls>", "cert": "<pulumi tls>", "key": "<pulumi tls>"},
        "podDisruptionBudget": {"maxUnavailable": 1},
        "securityContext": SECURITY_CONTEXT,
        "resources": RESOURCES,
        "affinity": dict(affinity),
        "nodeSelector": dict(node_selector),
        "defaultTags": dict(default_tags),
    }


def webhook_dns_names(namespace: str) -> list[str]:
    """The serving certificate's names, as the chart's `webhookCerts` helper lists them."""
    return [
        f"{WEBHOOK_SERVICE}.{namespace}",
        f"{WEBHOOK_SERVICE}.{namespace}.svc",
        f"{WEBHOOK_SERVICE}.{namespace}.svc.cluster.local",
    ]


def labels(extra: Mapping[str, str]) -> dict[str, str]:
    """`aws-load-balancer-controller.labels` (managed-by says pulumi: Helm manages nothing here)."""
    return {
        "app.kubernetes.io/managed-by": "pulumi",
        "helm.sh/chart": f"{NAME}-{CHART_VERSION}",
        **selector(),
        "app.kubernetes.io/version": APP_VERSION,
        **extra,
    }


def selector() -> dict[str, str]:
    return {"app.kubernetes.io/name": NAME, "app.kubernetes.io/instance": NAME}


def crds() -> list[dict[str, Any]]:
    """IngressClassParams and TargetGroupBinding (the controller watches both)."""
    return vendored_crds(CRD_FILE)


def _meta(name: str, namespace: str | None, extra: Mapping[str, str]) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name, "labels": labels(extra)}
    if namespace is not None:
        metadata["namespace"] = namespace
    return metadata


def cluster_role_rules() -> list[dict[str, Any]]:
    """rbac.yaml's ClusterRole (clusterSecretsPermissions.allowAllSecrets false: no Secrets)."""
    read = ["get", "list", "watch"]
    gateway_configs = ["loadbalancerconfigurations", "targetgroupconfigurations", "listenerruleconfigurations"]
    routes = ["grpcroutes", "httproutes", "tcproutes", "tlsroutes", "udproutes"]
    return [
        {
            "apiGroups": ["elbv2.k8s.aws"],
            "resources": ["targetgroupbindings"],
            "verbs": ["create", "delete", "get", "list", "patch", "update", "watch"],
        },
        {"apiGroups": ["elbv2.k8s.aws"], "resources": ["ingressclassparams"], "verbs": read},
        {"apiGroups": [""], "resources": ["events"], "verbs": ["create", "patch"]},
        {"apiGroups": [""], "resources": ["pods"], "verbs": read},
        {"apiGroups": ["networking.k8s.io"], "resources": ["ingressclasses"], "verbs": read},
        {
            "apiGroups": ["", "extensions", "networking.k8s.io"],
            "resources": ["services", "ingresses"],
            "verbs": ["get", "list", "patch", "update", "watch"],
        },
        {"apiGroups": [""], "resources": ["nodes", "namespaces", "endpoints"], "verbs": read},
        {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "delete", "create", "update"]},
        {
            "apiGroups": ["elbv2.k8s.aws", "", "extensions", "networking.k8s.io"],
            "resources": ["targetgroupbindings/status", "pods/status", "services/status", "ingresses/status"],
            "verbs": ["update", "patch"],
        },
        {"apiGroups": ["discovery.k8s.io"], "resources": ["endpointslices"], "verbs": read},
        {"apiGroups": ["gateway.k8s.aws"], "resources": gateway_configs, "verbs": ["get", "list", "watch", "patch"]},
        {
            "apiGroups": ["gateway.k8s.aws"],
            "resources": [f"{r}/finalizers" for r in gateway_configs],
            "verbs": ["update", "patch"],
        },
        {
            "apiGroups": ["gateway.k8s.aws"],
            "resources": [f"{r}/status" for r in gateway_configs],
            "verbs": ["get", "patch", "watch"],
        },
        {
            "apiGroups": ["gateway.networking.k8s.io"],
            "resources": ["gatewayclasses", "gateways"],
            "verbs": ["get", "list", "watch", "patch"],
        },
        {"apiGroups": ["gateway.networking.k8s.io"], "resources": ["referencegrants"], "verbs": read},
        {
            "apiGroups": ["gateway.networking.k8s.io"],
            "resources": ["gatewayclasses/finalizers", "gateways/finalizers"],
            "verbs": ["update", "patch"],
        },
        {
            "apiGroups": ["gateway.networking.k8s.io"],
            "resources": ["gatewayclasses/status", "gateways/status"],
            "verbs": ["get", "patch", "update"],
        },
        {"apiGroups": ["gateway.networking.k8s.io"], "resources": routes, "verbs": read},
        {
            "apiGroups": ["gateway.networking.k8s.io"],
            "resources": [f"{r}/finalizers" for r in routes],
            "verbs": ["update"],
        },
        {
            "apiGroups": ["gateway.networking.k8s.io"],
            "resources": [f"{r}/status" for r in routes],
            "verbs": ["get", "patch", "update"],
        },
    ]


def objects(namespace: str, extra: Mapping[str, str]) -> list[dict[str, Any]]:
    """ServiceAccount, RBAC, webhook Service and PDB: what the Deployment needs first."""
    leader = f"{NAME}-leader-election-role"
    subjects = [{"kind": "ServiceAccount", "name": NAME, "namespace": namespace}]
    return [
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": _meta(NAME, namespace, extra),
            # No token for every pod of the account: the controller's Deployment opts in on its pod spec.
            "automountServiceAccountToken": False,
        },
        {
            "apiVersion": RBAC,
            "kind": "Role",
            "metadata": _meta(leader, namespace, extra),
            "rules": [
                {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["create"]},
                {
                    "apiGroups": [""],
                    "resources": ["configmaps"],
                    "resourceNames": [f"{NAME}-leader"],
                    "verbs": ["get", "patch", "update"],
                },
                {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"], "verbs": ["create"]},
                {
                    "apiGroups": ["coordination.k8s.io"],
                    "resources": ["leases"],
                    "resourceNames": [f"{NAME}-leader"],
                    "verbs": ["get", "update", "patch"],
                },
            ],
        },
        {
            "apiVersion": RBAC,
            "kind": "RoleBinding",
            "metadata": _meta(f"{NAME}-leader-election-rolebinding", namespace, extra),
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": leader},
            "subjects": subjects,
        },
        {
            "apiVersion": RBAC,
            "kind": "ClusterRole",
            "metadata": _meta(f"{NAME}-role", None, extra),
            "rules": cluster_role_rules(),
        },
        {
            "apiVersion": RBAC,
            "kind": "ClusterRoleBinding",
            "metadata": _meta(f"{NAME}-rolebinding", None, extra),
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": f"{NAME}-role"},
            "subjects": subjects,
        },
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {
                "name": WEBHOOK_SERVICE,
                "namespace": namespace,
                "labels": {
                    **labels(extra),
                    "app.kubernetes.io/component": "webhook",
                    "prometheus.io/service-monitor": "false",
                },
            },
            "spec": {
                "ports": [{"port": 443, "name": "webhook-server", "targetPort": "webhook-server"}],
                "selector": selector(),
            },
        },
        {
            "apiVersion": "policy/v1",
            "kind": "PodDisruptionBudget",
            "metadata": _meta(NAME, namespace, extra),
            "spec": {"selector": {"matchLabels": selector()}, "maxUnavailable": 1},
        },
    ]


def tls_secret(namespace: str, data: Any, extra: Mapping[str, str]) -> dict[str, Any]:
    """webhook.yaml's Secret: `data` holds base64 ca.crt, tls.crt, tls.key (an Output)."""
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": _meta(WEBHOOK_SECRET, namespace, extra),
        "type": "kubernetes.io/tls",
        "data": data,
    }


def controller_args(cluster_name: str, region: str, vpc_id: str, default_tags: Mapping[str, str]) -> list[str]:
    """The container's args for these values (the chart's order)."""
    return [
        f"--cluster-name={cluster_name}",
        "--ingress-class=alb",
        f"--aws-region={region}",
        f"--aws-vpc-id={vpc_id}",
        "--enable-shield=false",
        "--enable-waf=false",
        "--enable-wafv2=false",
        "--default-tags=" + ",".join(f"{k}={v}" for k, v in sorted(default_tags.items())),
        "--enable-backend-security-group=false",
    ]


def deployment(
    namespace: str,
    replicas: int,
    args: Any,
    affinity: Mapping[str, Any],
    node_selector: Mapping[str, str],
    extra: Mapping[str, str],
) -> dict[str, Any]:
    """deployment.yaml; `args` from controller_args (may be an Output: the VPC id)."""
    pod_labels = selector()
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _meta(NAME, namespace, extra),
        "spec": {
            "replicas": replicas,
            "revisionHistoryLimit": 10,
            "selector": {"matchLabels": selector()},
            "template": {
                "metadata": {
                    "labels": pod_labels,
                    "annotations": {"prometheus.io/scrape": "true", "prometheus.io/port": "8080"},
                },
                "spec": {
                    "serviceAccountName": NAME,
                    # It watches Services, endpoints and TargetGroupBindings: it needs its API token.
                    "automountServiceAccountToken": True,
                    "volumes": [{"name": "cert", "secret": {"defaultMode": 420, "secretName": WEBHOOK_SECRET}}],
                    "securityContext": {"fsGroup": 65534},
                    "containers": [
                        {
                            "name": NAME,
                            "args": args,
                            "securityContext": SECURITY_CONTEXT,
                            "image": f"{IMAGE_REPOSITORY}:{APP_VERSION}",
                            "imagePullPolicy": "IfNotPresent",
                            "volumeMounts": [
                                {"mountPath": "/tmp/k8s-webhook-server/serving-certs", "name": "cert", "readOnly": True}
                            ],
                            "ports": [
                                {"name": "webhook-server", "containerPort": WEBHOOK_PORT, "protocol": "TCP"},
                                {"name": "metrics-server", "containerPort": 8080, "protocol": "TCP"},
                            ],
                            "resources": RESOURCES,
                            "livenessProbe": {
                                "failureThreshold": 2,
                                "httpGet": {"path": "/healthz", "port": HEALTH_PORT, "scheme": "HTTP"},
                                "initialDelaySeconds": 30,
                                "timeoutSeconds": 10,
                            },
                            "readinessProbe": {
                                "failureThreshold": 2,
                                "httpGet": {"path": "/readyz", "port": HEALTH_PORT, "scheme": "HTTP"},
                                "successThreshold": 1,
                                "initialDelaySeconds": 10,
                                "timeoutSeconds": 10,
                            },
                        }
                    ],
                    "terminationGracePeriodSeconds": 10,
                    "nodeSelector": dict(node_selector),
                    "affinity": dict(affinity),
                    "priorityClassName": "system-cluster-critical",
                },
            },
        },
    }


def _webhook(
    name: str, path: str, ca_bundle: Any, namespace: str, failure: str, rules: list[dict[str, Any]], **selectors: Any
) -> dict[str, Any]:
    hook: dict[str, Any] = {
        "clientConfig": {
            "caBundle": ca_bundle,
            "service": {"name": WEBHOOK_SERVICE, "namespace": namespace, "path": path},
        },
        "failurePolicy": failure,
        "name": name,
        "admissionReviewVersions": ["v1beta1"],
        **selectors,
        "rules": rules,
        "sideEffects": "None",
    }
    return hook


def _rule(group: str, version: str, resource: str, operations: list[str]) -> list[dict[str, Any]]:
    return [{"apiGroups": [group], "apiVersions": [version], "operations": operations, "resources": [resource]}]


def webhook_configurations(namespace: str, ca_bundle: Any, extra: Mapping[str, str]) -> list[dict[str, Any]]:
    """webhook.yaml with enableServiceMutatorWebhook and Ingress validation off."""
    not_self = {"matchExpressions": [{"key": "app.kubernetes.io/name", "operator": "NotIn", "values": [NAME]}]}
    write = ["CREATE", "UPDATE"]
    tgb = ("elbv2.k8s.aws", "v1beta1", "targetgroupbindings")
    return [
        {
            "apiVersion": "admissionregistration.k8s.io/v1",
            "kind": "MutatingWebhookConfiguration",
            "metadata": _meta(f"{NAME_PREFIX}-webhook", None, extra),
            "webhooks": [
                # Readiness gates only in namespaces labelled elbv2.k8s.aws/pod-readiness-gate-inject=enabled.
                _webhook(
                    "mpod.elbv2.k8s.aws",
                    "/mutate-v1-pod",
                    ca_bundle,
                    namespace,
                    "Ignore",
                    _rule("", "v1", "pods", ["CREATE"]),
                    namespaceSelector={
                        "matchExpressions": [
                            {"key": "elbv2.k8s.aws/pod-readiness-gate-inject", "operator": "In", "values": ["enabled"]}
                        ]
                    },
                    objectSelector=not_self,
                ),
                _webhook(
                    "mtargetgroupbinding.elbv2.k8s.aws",
                    "/mutate-elbv2-k8s-aws-v1beta1-targetgroupbinding",
                    ca_bundle,
                    namespace,
                    "Fail",
                    _rule(*tgb, write),
                ),
            ],
        },
        {
            "apiVersion": "admissionregistration.k8s.io/v1",
            "kind": "ValidatingWebhookConfiguration",
            "metadata": _meta(f"{NAME_PREFIX}-webhook", None, extra),
            "webhooks": [
                _webhook(
                    "vingressclassparams.elbv2.k8s.aws",
                    "/validate-elbv2-k8s-aws-v1beta1-ingressclassparams",
                    ca_bundle,
                    namespace,
                    "Fail",
                    _rule("elbv2.k8s.aws", "v1beta1", "ingressclassparams", write),
                    objectSelector=not_self,
                ),
                _webhook(
                    "vtargetgroupbinding.elbv2.k8s.aws",
                    "/validate-elbv2-k8s-aws-v1beta1-targetgroupbinding",
                    ca_bundle,
                    namespace,
                    "Fail",
                    _rule(*tgb, write),
                ),
            ],
        },
    ]
