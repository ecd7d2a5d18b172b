"""The mutation catalogue: single-property regressions a careless change or an attacker would make.

Each entry selects resources by type and property (never by name), changes one thing, and says
which resources a mandatory violation must name for the mutation to count as killed: always the
resource it changed, added or removed, plus the `names` selectors (the bucket a changed SSE
configuration guards, the VPC a removed flow log covered). `missing` is only for removals whose
finding is "X is missing": a mandatory violation whose message names that type also kills.

`cls` is the issue-10 class (or `policy:<name>` for a regression of an existing policy); `stacks`
limits an entry to the stacks where its regression is one (dev may scale to zero, prod may not).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from tests.mutation.ops import (
    AddClone,
    All,
    Append,
    Attached,
    Contains,
    Delete,
    Doc,
    DropWhere,
    Each,
    Edit,
    Eq,
    From,
    Has,
    Linked,
    MoveTo,
    Multiply,
    Not,
    Op,
    Option,
    Remove,
    SelectedBy,
    Selector,
    Set,
    Sub,
    doc,
    where,
)

STACKS = ("prod", "dev")
FOREIGN_ACCOUNT = "210987654321"
FOREIGN_ROOT = f"arn:aws:iam::{FOREIGN_ACCOUNT}:root"


@dataclass(frozen=True)
class Mutation:
    id: str
    cls: str
    description: str
    steps: tuple[tuple[Selector, Op], ...]
    names: tuple[Selector, ...] = ()
    missing: str | None = None
    stacks: tuple[str, ...] = STACKS


def one(
    id: str,
    cls: str,
    description: str,
    select: Selector,
    *ops: Op,
    names: tuple[Selector, ...] = (),
    missing: str | None = None,
    stacks: tuple[str, ...] = STACKS,
) -> Mutation:
    """A mutation of one selected resource (several ops on it count as one regression)."""
    return Mutation(id, cls, description, tuple((select, op) for op in ops), names, missing, stacks)


# --- resource types ------------------------------------------------------------------------------

ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
KEY = "aws:kms/key:Key"
REPLICA_KEY = "aws:kms/replicaKey:ReplicaKey"
BUCKET = "aws:s3/bucket:Bucket"
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
SSE = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
VERSIONING = "aws:s3/bucketVersioning:BucketVersioning"
PUBLIC_BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
LOGGING = "aws:s3/bucketLogging:BucketLogging"
OWNERSHIP = "aws:s3/bucketOwnershipControls:BucketOwnershipControls"
REPLICATION = "aws:s3/bucketReplicationConfig:BucketReplicationConfig"
LAMBDA = "aws:lambda/function:Function"
PERMISSION = "aws:lambda/permission:Permission"
CLUSTER = "aws:eks/cluster:Cluster"
NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
ACCESS_ENTRY = "aws:eks/accessEntry:AccessEntry"
ACCESS_POLICY = "aws:eks/accessPolicyAssociation:AccessPolicyAssociation"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
BUDGET = "aws:budgets/budget:Budget"
USAGE_PLAN = "aws:apigateway/usagePlan:UsagePlan"
METHOD = "aws:apigateway/method:Method"
METHOD_SETTINGS = "aws:apigateway/methodSettings:MethodSettings"
STAGE = "aws:apigateway/stage:Stage"
REST_API = "aws:apigateway/restApi:RestApi"
INTEGRATION = "aws:apigateway/integration:Integration"
GATEWAY_RESPONSE = "aws:apigateway/response:Response"
WEB_ACL = "aws:wafv2/webAcl:WebAcl"
WEB_ACL_ASSOCIATION = "aws:wafv2/webAclAssociation:WebAclAssociation"
WEB_ACL_LOGGING = "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration"
VPC = "aws:ec2/vpc:Vpc"
FLOW_LOG = "aws:ec2/flowLog:FlowLog"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
LOAD_BALANCER = "aws:lb/loadBalancer:LoadBalancer"
AWS_PROVIDER = "pulumi:providers:aws"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
DAEMON_SET = "kubernetes:apps/v1:DaemonSet"
SERVICE = "kubernetes:core/v1:Service"
SERVICE_ACCOUNT = "kubernetes:core/v1:ServiceAccount"
NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
PDB = "kubernetes:policy/v1:PodDisruptionBudget"
CLUSTER_ROLE = "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole"
ROLE_K8S = "kubernetes:rbac.authorization.k8s.io/v1:Role"
CLUSTER_ROLE_BINDING = "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding"
ROLE_BINDING = "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding"
FUNCTION_URL = "aws:lambda/functionUrl:FunctionUrl"
HPA = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler"
SCALED_OBJECT = "kubernetes:keda.sh/v1alpha1:ScaledObject"

# --- selections by property ----------------------------------------------------------------------

COMPONENT = 'spec.template.metadata.labels["app.kubernetes.io/component"]'
MODEL_SERVER = where(DEPLOYMENT, Eq(COMPONENT, "model-server"))
OTHER_DEPLOYMENT = where(DEPLOYMENT, Not(Eq(COMPONENT, "model-server")))
GPU_NODE_GROUP = where(NODE_GROUP, Contains("amiType", "NVIDIA"))
SYSTEM_NODE_GROUP = where(NODE_GROUP, Not(Contains("amiType", "NVIDIA")))
GPU_TEMPLATE = Linked(GPU_NODE_GROUP, "launchTemplate")
SYSTEM_TEMPLATE = Linked(SYSTEM_NODE_GROUP, "launchTemplate")
WEIGHTS_BUCKET = where(BUCKET, Eq('tags["llm-serving/data"]', "model-weights"))
LOG_BUCKET = where(BUCKET, Eq('tags["llm-serving/data"]', "access-logs"))
WEIGHTS_SSE = Attached(SSE, "bucket", WEIGHTS_BUCKET)
WEIGHTS_POLICY = Attached(BUCKET_POLICY, "bucket", WEIGHTS_BUCKET)
WEIGHTS_LOGGING = Attached(LOGGING, "bucket", WEIGHTS_BUCKET)
POD_IDENTITY_ROLE = where(ROLE, Contains("assumeRolePolicy", "pods.eks.amazonaws.com"))
NODE_ROLE = where(ROLE, Contains("assumeRolePolicy", "ec2.amazonaws.com"))
AUTHORIZER_ROLE = where(ROLE, Contains("assumeRolePolicy", "lambda.amazonaws.com"))
NODE_ATTACHMENT = Attached(ATTACHMENT, "role", NODE_ROLE)
WEIGHTS_READ_POLICY = where(ROLE_POLICY, Contains("policy", "s3:GetObject"))
AUTOSCALER_POLICY = where(ROLE_POLICY, Contains("policy", "autoscaling:DescribeAutoScalingGroups"))
STREAMING_INTEGRATION = where(INTEGRATION, Eq("responseTransferMode", "STREAM"))
MODEL_SCALED_OBJECT = where(SCALED_OBJECT)
POD = "spec.template.spec"
CONTAINER = f"{POD}.containers[0]"
MODEL_PDB = where(PDB, Eq('spec.selector.matchLabels["app.kubernetes.io/component"]', "model-server"))
MODEL_SERVICE = where(SERVICE, Eq('spec.selector["app.kubernetes.io/component"]', "model-server"))
MODEL_NETWORK_POLICY = where(
    NETWORK_POLICY, Eq('spec.podSelector.matchLabels["app.kubernetes.io/component"]', "model-server")
)
# Objects declared from an upstream Helm chart (KEDA, prometheus-adapter, the AWS LB controller)
# carry the chart's helm.sh/chart label; the program's own objects do not.
CHART = 'metadata.labels["helm.sh/chart"]'
CONTROLLER_DEPLOYMENT = where(DEPLOYMENT, Has(CHART))
CONTROLLER_SERVICE_ACCOUNT = where(SERVICE_ACCOUNT, Has(CHART))
CONTROLLER_CLUSTER_ROLE = where(CLUSTER_ROLE, Has(CHART), Not(Contains("rules", '"*"')))
CONTROLLER_BINDING = where(CLUSTER_ROLE_BINDING, Has(CHART))
CONTROLLER_ROLE_BINDING = where(ROLE_BINDING, Has(CHART))
WEBHOOK_SERVICE = where(SERVICE, Has(CHART), Eq('metadata.labels["app.kubernetes.io/component"]', "webhook"))
# A controller Role that reads Secrets of its namespace without naming them: waived (policies/waivers.yaml).
BROAD_SECRETS_RULE = All((Contains("resources", '"secrets"'), Not(Has("resourceNames"))))
SECRET_READING_ROLE = where(ROLE_K8S, Has(CHART), Contains("rules", '"secrets"'))
OWN_ROLE = where(ROLE_K8S, Not(Has(CHART)))
OWN_CLUSTER_ROLE = where(CLUSTER_ROLE, Not(Has(CHART)))
OWN_BINDING = where(CLUSTER_ROLE_BINDING, Not(Has(CHART)))
OWN_SERVICE_ACCOUNT = where(SERVICE_ACCOUNT, Not(Has(CHART)))
IMAGE = f"{CONTAINER}.image"


def _statement(effect: str, action: object, resource: object = "*", principal: object | None = None) -> dict:
    statement: dict = {"Effect": effect, "Action": action, "Resource": resource}
    if principal is not None:
        statement["Principal"] = principal
    return statement


def _iam(*edits: Edit) -> Doc:
    return doc("policy", *edits)


# --- regressions of the issue's classes ----------------------------------------------------------

ISSUE_CLASSES: list[Mutation] = [
    # IAM wildcards
    one(
        "iam-action-star",
        "iam-wildcard",
        "a role policy's first statement allows Action '*'",
        where(ROLE_POLICY),
        _iam(Set("Statement[0].Action", "*")),
    ),
    one(
        "iam-resource-star",
        "iam-wildcard",
        "the weights read policy's s3:GetObject applies to Resource '*'",
        WEIGHTS_READ_POLICY,
        _iam(Set("Statement[0].Resource", "*")),
    ),
    one(
        "iam-service-star",
        "iam-wildcard",
        "the weights read policy allows s3:* on the bucket",
        WEIGHTS_READ_POLICY,
        _iam(Set("Statement[0].Action", "s3:*")),
    ),
    one(
        "iam-admin-statement",
        "iam-wildcard",
        "a role policy gains Allow * on *",
        where(ROLE_POLICY, pick=1),
        _iam(Append("Statement", _statement("Allow", "*"))),
    ),
    one(
        "iam-notaction",
        "iam-wildcard",
        "a role policy gains Allow NotAction iam:* on * (everything but IAM)",
        where(ROLE_POLICY),
        _iam(Append("Statement", {"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"})),
    ),
    one(
        "iam-passrole-star",
        "iam-passrole",
        "the cluster autoscaler's policy may pass any role",
        AUTOSCALER_POLICY,
        _iam(Append("Statement", _statement("Allow", "iam:PassRole"))),
    ),
    one(
        "iam-passrole-wildcard-action",
        "iam-passrole",
        "a Pod Identity policy allows iam:Pass* on *",
        where(ROLE_POLICY, Contains("policy", "aps:")),
        _iam(Append("Statement", _statement("Allow", ["iam:Pass*"]))),
    ),
    one(
        "iam-admin-managed-node",
        "iam-admin-managed-policy",
        "the node role gets AdministratorAccess",
        NODE_ATTACHMENT,
        Set("policyArn", "arn:aws:iam::aws:policy/AdministratorAccess"),
        names=(NODE_ROLE,),
    ),
    one(
        "iam-poweruser-managed-node",
        "iam-admin-managed-policy",
        "the node role gets PowerUserAccess",
        NODE_ATTACHMENT,
        Set("policyArn", "arn:aws:iam::aws:policy/PowerUserAccess"),
        names=(NODE_ROLE,),
    ),
    one(
        "iam-admin-managed-authorizer",
        "iam-admin-managed-policy",
        "the authorizer's role gets an AdministratorAccess attachment",
        where(ATTACHMENT),
        AddClone(
            edits=(Set("policyArn", "arn:aws:iam::aws:policy/AdministratorAccess"),), deps={"role": AUTHORIZER_ROLE}
        ),
        names=(AUTHORIZER_ROLE,),
    ),
    one(
        "iam-iamfull-managed-pod-role",
        "iam-admin-managed-policy",
        "a Pod Identity role gets IAMFullAccess",
        where(ATTACHMENT),
        AddClone(
            suffix="iam-full",
            edits=(Set("policyArn", "arn:aws:iam::aws:policy/IAMFullAccess"),),
            deps={"role": POD_IDENTITY_ROLE},
        ),
        names=(POD_IDENTITY_ROLE,),
    ),
    # trust policies
    one(
        "trust-principal-aws-star",
        "iam-trust-wildcard",
        "a Pod Identity role trusts Principal {AWS: '*'}",
        POD_IDENTITY_ROLE,
        doc("assumeRolePolicy", Set("Statement[0].Principal", {"AWS": "*"})),
    ),
    one(
        "trust-principal-star",
        "iam-trust-wildcard",
        "the node role trusts Principal '*'",
        NODE_ROLE,
        doc("assumeRolePolicy", Set("Statement[0].Principal", "*")),
    ),
    one(
        "trust-foreign-account",
        "iam-trust-wildcard",
        "the authorizer role also trusts another account's root",
        AUTHORIZER_ROLE,
        doc(
            "assumeRolePolicy",
            Append("Statement", _statement("Allow", "sts:AssumeRole", principal={"AWS": FOREIGN_ROOT})),
        ),
    ),
    # cross-account principals in resource policies
    one(
        "kms-foreign-account-statement",
        "cross-account-principal",
        "a key policy lets another account decrypt",
        where(KEY),
        doc(
            "policy",
            Append(
                "Statement",
                _statement("Allow", ["kms:Decrypt", "kms:GenerateDataKey"], principal={"AWS": FOREIGN_ROOT}),
            ),
        ),
    ),
    one(
        "kms-foreign-admin",
        "cross-account-principal",
        "a key policy's root administration goes to another account",
        where(KEY, pick=1),
        doc("policy", Set("Statement[0].Principal", {"AWS": FOREIGN_ROOT})),
    ),
    one(
        "kms-replica-foreign",
        "cross-account-principal",
        "the weights key policy lets another account decrypt",
        where(KEY, Contains("policy", "s3.")),
        doc("policy", Append("Statement", _statement("Allow", "kms:Decrypt", principal={"AWS": FOREIGN_ROOT}))),
    ),
    one(
        "bucket-foreign-read",
        "cross-account-principal",
        "the weights bucket policy lets another account read",
        WEIGHTS_POLICY,
        _iam(
            Append(
                "Statement", _statement("Allow", "s3:GetObject", "arn:aws:s3:::*/*", principal={"AWS": FOREIGN_ROOT})
            )
        ),
        names=(WEIGHTS_BUCKET,),
    ),
    one(
        "bucket-public-read",
        "cross-account-principal",
        "the weights bucket policy allows Principal '*' to read",
        WEIGHTS_POLICY,
        _iam(Append("Statement", _statement("Allow", "s3:GetObject", "arn:aws:s3:::*/*", principal="*"))),
        names=(WEIGHTS_BUCKET,),
    ),
    # Lambda
    one(
        "lambda-url-auth-none",
        "lambda-url-auth-none",
        "the authorizer gets a function URL with authorizationType NONE",
        where(LAMBDA),
        AddClone(
            type="aws:lambda/functionUrl:FunctionUrl",
            suffix="url",
            inputs={"functionName": From(where(LAMBDA), "name"), "authorizationType": "NONE"},
            deps={"functionName": where(LAMBDA)},
        ),
    ),
    one(
        "lambda-permission-no-source-arn",
        "lambda-permission-no-source-arn",
        "the authorizer's invoke permission loses its sourceArn (any API Gateway API may invoke it)",
        where(PERMISSION),
        Delete("sourceArn"),
    ),
    one(
        "lambda-permission-any-principal",
        "lambda-permission-no-source-arn",
        "the authorizer's invoke permission is granted to principal '*'",
        where(PERMISSION),
        Set("principal", "*"),
    ),
    # Kubernetes host access
    one(
        "k8s-host-network",
        "k8s-host-namespaces",
        "a model server pod sets hostNetwork",
        MODEL_SERVER,
        Set(f"{POD}.hostNetwork", True),
    ),
    one(
        "k8s-host-pid",
        "k8s-host-namespaces",
        "a model server pod sets hostPID",
        MODEL_SERVER,
        Set(f"{POD}.hostPID", True),
    ),
    one(
        "k8s-host-ipc",
        "k8s-host-namespaces",
        "a model server pod sets hostIPC",
        MODEL_SERVER,
        Set(f"{POD}.hostIPC", True),
    ),
    one(
        "k8s-host-network-controller",
        "k8s-host-namespaces",
        "a controller Deployment sets hostNetwork",
        OTHER_DEPLOYMENT,
        Set(f"{POD}.hostNetwork", True),
    ),
    one(
        "k8s-host-pid-daemonset",
        "k8s-host-namespaces",
        "a node agent DaemonSet sets hostPID",
        where(DAEMON_SET),
        Set(f"{POD}.hostPID", True),
    ),
    one(
        "k8s-hostpath-root",
        "k8s-hostpath",
        "the model server's weights volume mounts hostPath /",
        MODEL_SERVER,
        Set(f"{POD}.volumes[0].hostPath.path", "/"),
    ),
    one(
        "k8s-hostpath-docker-sock",
        "k8s-hostpath",
        "a controller gains a hostPath volume of the container runtime socket",
        OTHER_DEPLOYMENT,
        Append(f"{POD}.volumes", {"name": "runtime", "hostPath": {"path": "/run/containerd/containerd.sock"}}),
    ),
    one(
        "k8s-hostpath-daemonset-root",
        "k8s-hostpath",
        "a node agent DaemonSet's hostPath volume points at /",
        where(DAEMON_SET),
        Set(f"{POD}.volumes[0].hostPath.path", "/"),
    ),
    one(
        "k8s-service-loadbalancer",
        "k8s-service-exposed",
        "the model Service becomes type LoadBalancer",
        where(SERVICE),
        Set("spec.type", "LoadBalancer"),
    ),
    one(
        "k8s-service-nodeport",
        "k8s-service-exposed",
        "the model Service becomes type NodePort",
        where(SERVICE),
        Set("spec.type", "NodePort"),
    ),
    one(
        "k8s-service-external-ips",
        "k8s-service-exposed",
        "the model Service gains externalIPs",
        where(SERVICE),
        Set("spec.externalIPs", ["203.0.113.10"]),
    ),
    one(
        "k8s-networkpolicy-removed",
        "k8s-network-policy",
        "the model server's NetworkPolicy is removed",
        MODEL_NETWORK_POLICY,
        Remove(),
        names=(SelectedBy(MODEL_NETWORK_POLICY),),
    ),
    one(
        "k8s-networkpolicy-any-source",
        "k8s-network-policy",
        "the NetworkPolicy admits 0.0.0.0/0",
        MODEL_NETWORK_POLICY,
        Set("spec.ingress[0].from", [{"ipBlock": {"cidr": "0.0.0.0/0"}}]),
    ),
    one(
        "k8s-networkpolicy-no-from",
        "k8s-network-policy",
        "the NetworkPolicy's first rule drops `from` (any source)",
        MODEL_NETWORK_POLICY,
        Delete("spec.ingress[0].from"),
    ),
    one(
        "k8s-networkpolicy-empty-selector",
        "k8s-network-policy",
        "the NetworkPolicy's first rule admits every pod of every namespace",
        MODEL_NETWORK_POLICY,
        Set("spec.ingress[0].from", [{"namespaceSelector": {}}]),
    ),
    one(
        "k8s-clusterrole-star-verbs",
        "k8s-rbac-wildcard",
        "a ClusterRole rule grants verbs '*'",
        where(CLUSTER_ROLE),
        Set("rules[0].verbs", ["*"]),
    ),
    one(
        "k8s-clusterrole-star-resources",
        "k8s-rbac-wildcard",
        "a ClusterRole rule covers resources '*'",
        where(CLUSTER_ROLE),
        Set("rules[0].resources", ["*"]),
    ),
    one(
        "k8s-clusterrole-secrets",
        "k8s-rbac-wildcard",
        "a ClusterRole gains read of every Secret",
        where(CLUSTER_ROLE),
        Append("rules", {"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "list"]}),
    ),
    one(
        "k8s-role-star",
        "k8s-rbac-wildcard",
        "a namespaced Role grants '*' on '*'",
        where(ROLE_K8S),
        Set("rules[0]", {"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}),
    ),
    one(
        "k8s-automount-true",
        "k8s-token-automount",
        "the model server mounts its service-account token",
        MODEL_SERVER,
        Set(f"{POD}.automountServiceAccountToken", True),
    ),
    one(
        "k8s-automount-default",
        "k8s-token-automount",
        "the model server no longer opts out of the token (default: mounted)",
        MODEL_SERVER,
        Delete(f"{POD}.automountServiceAccountToken"),
    ),
    one(
        "k8s-automount-daemonset",
        "k8s-token-automount",
        "a node agent DaemonSet mounts a token it does not need",
        where(DAEMON_SET),
        Set(f"{POD}.automountServiceAccountToken", True),
    ),
    one(
        "k8s-default-sa-unset",
        "k8s-default-service-account",
        "the model server's pods run as the default service account",
        MODEL_SERVER,
        Delete(f"{POD}.serviceAccountName"),
    ),
    one(
        "k8s-default-sa-named",
        "k8s-default-service-account",
        "a controller's pods name serviceAccountName 'default'",
        OTHER_DEPLOYMENT,
        Set(f"{POD}.serviceAccountName", "default"),
    ),
    one(
        "k8s-no-memory-limit",
        "k8s-resource-limits",
        "a controller container loses its memory limit",
        OTHER_DEPLOYMENT,
        Delete(f"{CONTAINER}.resources.limits.memory"),
    ),
    one(
        "k8s-no-limits",
        "k8s-resource-limits",
        "the model server container loses all limits but the GPU",
        MODEL_SERVER,
        Set(f"{CONTAINER}.resources.limits", {"nvidia.com/gpu": "1"}),
    ),
    one(
        "k8s-no-resources",
        "k8s-resource-limits",
        "a node agent container has no resources at all",
        where(DAEMON_SET),
        Delete(f"{CONTAINER}.resources"),
    ),
    one(
        "k8s-no-cpu-limit-init",
        "k8s-resource-limits",
        "the model server's init container loses its limits",
        MODEL_SERVER,
        Delete(f"{POD}.initContainers[0].resources.limits"),
    ),
    # node groups and launch templates
    one(
        "system-imds-optional",
        "imdsv2-system-nodes",
        "system nodes' launch template allows IMDSv1",
        SYSTEM_TEMPLATE,
        Set("metadataOptions.httpTokens", "optional"),
        names=(SYSTEM_NODE_GROUP,),
    ),
    one(
        "system-imds-hops",
        "imdsv2-system-nodes",
        "system nodes' IMDS hop limit is 2 (pods reach the node role)",
        SYSTEM_TEMPLATE,
        Set("metadataOptions.httpPutResponseHopLimit", 2),
        names=(SYSTEM_NODE_GROUP,),
    ),
    one(
        "system-imds-unset",
        "imdsv2-system-nodes",
        "system nodes' launch template drops metadataOptions",
        SYSTEM_TEMPLATE,
        Delete("metadataOptions"),
        names=(SYSTEM_NODE_GROUP,),
    ),
    one(
        "lt-key-name-gpu",
        "launch-template-key-name",
        "the GPU launch template sets an SSH keyName",
        GPU_TEMPLATE,
        Set("keyName", "ops-break-glass"),
        names=(GPU_NODE_GROUP,),
    ),
    one(
        "lt-key-name-system",
        "launch-template-key-name",
        "the system launch template sets an SSH keyName",
        SYSTEM_TEMPLATE,
        Set("keyName", "ops-break-glass"),
        names=(SYSTEM_NODE_GROUP,),
    ),
    # API Gateway
    one(
        "method-no-authorizer",
        "apigw-method-auth",
        "a method keeps its API key but drops the authorizer",
        where(METHOD, Eq("authorization", "CUSTOM")),
        Set("authorization", "NONE"),
        Delete("authorizerId"),
    ),
    one(
        "method-no-api-key",
        "apigw-method-auth",
        "a method keeps the authorizer but stops requiring an API key",
        where(METHOD, Eq("apiKeyRequired", True)),
        Set("apiKeyRequired", False),
    ),
    one(
        "method-iam-instead",
        "apigw-method-auth",
        "a method swaps the tenant authorizer for AWS_IAM",
        where(METHOD, Eq("authorization", "CUSTOM")),
        Set("authorization", "AWS_IAM"),
        Delete("authorizerId"),
    ),
    one(
        "usage-plan-no-throttle",
        "usage-plan-limits",
        "a tenant usage plan has no throttle",
        where(USAGE_PLAN),
        Delete("throttleSettings"),
    ),
    one(
        "usage-plan-no-quota",
        "usage-plan-limits",
        "a tenant usage plan has no quota",
        where(USAGE_PLAN),
        Delete("quotaSettings"),
    ),
    # cost
    one(
        "cost-ceiling-x10",
        "cost-ceiling",
        "a GPU node group's maxSize x10",
        GPU_NODE_GROUP,
        Multiply("scalingConfig.maxSize", 10),
    ),
    one(
        "gpu-type-disallowed",
        "gpu-type-allowed",
        "a GPU node group runs A100s (p4d.24xlarge), not an allowed GPU type",
        GPU_NODE_GROUP,
        Set("instanceTypes", ["p4d.24xlarge"]),
    ),
    one(
        "gpu-type-label-disallowed",
        "gpu-type-allowed",
        "a GPU node group is labelled and sized for l4 (g6.xlarge)",
        GPU_NODE_GROUP,
        Set("instanceTypes", ["g6.xlarge"]),
        Set('labels["llm-serving/gpu"]', "l4"),
    ),
    one(
        "instance-type-unknown",
        "instance-type-unknown",
        "a GPU node group uses an instance type missing from the catalog",
        GPU_NODE_GROUP,
        Set("instanceTypes", ["g9.48xlarge"]),
    ),
    one(
        "instance-type-unknown-system",
        "instance-type-unknown",
        "the system node group uses an unknown instance type",
        SYSTEM_NODE_GROUP,
        Set("instanceTypes", ["m99i.metal"]),
    ),
    one("budget-removed", "budget", "the AWS Budget is removed", where(BUDGET), Remove(), missing="Budget"),
    one(
        "budget-no-notifications",
        "budget",
        "the AWS Budget loses its notifications",
        where(BUDGET),
        Delete("notifications"),
    ),
    one(
        "budget-empty-notifications",
        "budget",
        "the AWS Budget's notifications are emptied",
        where(BUDGET),
        Set("notifications", []),
    ),
    one(
        "budget-no-subscribers",
        "budget",
        "the first budget notification has no subscriber",
        where(BUDGET),
        Set("notifications[0].subscriberEmailAddresses", []),
    ),
    one(
        "budget-limit-raised",
        "budget",
        "the AWS Budget's limit is raised to $10,000,000",
        where(BUDGET),
        Set("limitAmount", "10000000.00"),
    ),
    # data
    one(
        "replication-foreign-account",
        "replication-scope",
        "weights replicate to a bucket of another account",
        where(REPLICATION),
        Set("rules[0].destination.account", FOREIGN_ACCOUNT),
        Set("rules[0].destination.bucket", "arn:aws:s3:::exfil-weights"),
        stacks=("prod",),
    ),
    one(
        "replication-foreign-region",
        "replication-scope",
        "weights replicate with a key of a region outside the stack",
        where(REPLICATION),
        Set(
            "rules[0].destination.encryptionConfiguration.replicaKmsKeyId",
            "arn:aws:kms:ap-southeast-1:123456789012:key/mrk-elsewhere",
        ),
        stacks=("prod",),
    ),
    one(
        "replication-unknown-bucket",
        "replication-scope",
        "weights replicate to a bucket this stack does not declare",
        where(REPLICATION),
        Set("rules[0].destination.bucket", "arn:aws:s3:::someone-elses-bucket"),
        stacks=("prod",),
    ),
    one(
        "eks-config-map-auth",
        "eks-auth-mode",
        "the cluster authenticates through the aws-auth ConfigMap",
        where(CLUSTER),
        Set("accessConfig.authenticationMode", "CONFIG_MAP"),
    ),
    one(
        "eks-api-and-config-map",
        "eks-auth-mode",
        "the cluster also accepts the aws-auth ConfigMap",
        where(CLUSTER),
        Set("accessConfig.authenticationMode", "API_AND_CONFIG_MAP"),
    ),
    one(
        "eks-bootstrap-admin",
        "eks-bootstrap-admin",
        "prod makes the cluster creator a permanent cluster admin",
        where(CLUSTER),
        Set("accessConfig.bootstrapClusterCreatorAdminPermissions", True),
        stacks=("prod",),
    ),
    Mutation(
        "eks-foreign-cluster-admin",
        "eks-access-entry-foreign",
        "an access entry and cluster-admin policy for another account's role",
        (
            (
                where(ACCESS_ENTRY),
                AddClone(
                    suffix="foreign",
                    edits=(
                        Set("principalArn", f"arn:aws:iam::{FOREIGN_ACCOUNT}:role/contractor"),
                        Set("type", "STANDARD"),
                    ),
                ),
            ),
            (
                where(ACCESS_ENTRY),
                AddClone(
                    type=ACCESS_POLICY,
                    suffix="foreign-admin",
                    inputs={
                        "clusterName": From(where(CLUSTER), "name"),
                        "principalArn": f"arn:aws:iam::{FOREIGN_ACCOUNT}:role/contractor",
                        "policyArn": "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy",
                        "accessScope": {"type": "cluster"},
                    },
                    deps={"clusterName": where(CLUSTER)},
                ),
            ),
        ),
    ),
    one(
        "eks-admin-policy-foreign",
        "eks-access-entry-foreign",
        "the cluster-admin association moves to another account",
        where(ACCESS_POLICY),
        Set("principalArn", f"arn:aws:iam::{FOREIGN_ACCOUNT}:role/platform-admin"),
        stacks=("prod",),
    ),
    one(
        "log-group-no-cmk",
        "log-group",
        "a log group loses its customer-managed key",
        where(LOG_GROUP),
        Delete("kmsKeyId"),
    ),
    one("log-group-1-day", "log-group", "a log group keeps 1 day", where(LOG_GROUP, pick=1), Set("retentionInDays", 1)),
    one(
        "log-group-aws-key",
        "log-group",
        "a log group names an AWS-managed key alias",
        where(LOG_GROUP, pick=2),
        Set("kmsKeyId", "alias/aws/logs"),
    ),
    one(
        "s3-acls-bucket-owner-preferred",
        "s3-ownership-acls",
        "the weights bucket re-enables ACLs (BucketOwnerPreferred)",
        Attached(OWNERSHIP, "bucket", WEIGHTS_BUCKET),
        Set("rule.objectOwnership", "BucketOwnerPreferred"),
        names=(WEIGHTS_BUCKET,),
    ),
    one(
        "s3-acls-object-writer",
        "s3-ownership-acls",
        "the log bucket re-enables ACLs (ObjectWriter)",
        Attached(OWNERSHIP, "bucket", LOG_BUCKET),
        Set("rule.objectOwnership", "ObjectWriter"),
        names=(LOG_BUCKET,),
    ),
    one(
        "s3-ownership-removed",
        "s3-ownership-acls",
        "the weights bucket's ownership controls are removed",
        Attached(OWNERSHIP, "bucket", WEIGHTS_BUCKET),
        Remove(),
        names=(WEIGHTS_BUCKET,),
    ),
    one(
        "s3-acl-public-read",
        "s3-ownership-acls",
        "the weights bucket gains a public-read ACL",
        Attached(OWNERSHIP, "bucket", WEIGHTS_BUCKET),
        AddClone(
            type="aws:s3/bucketAclV2:BucketAclV2",
            suffix="acl",
            inputs={"acl": "public-read"},
            deps={"bucket": WEIGHTS_BUCKET},
        ),
        names=(WEIGHTS_BUCKET,),
    ),
    # evasion: a forged access-log destination exempts the weights bucket from SSE-KMS
    Mutation(
        "evasion-bucket-logging-aes256",
        "evasion-bucket-logging",
        "an added BucketLogging targets the weights bucket, whose SSE then drops to AES256",
        (
            (WEIGHTS_LOGGING, AddClone(suffix="forged", deps={"targetBucket": WEIGHTS_BUCKET})),
            (WEIGHTS_SSE, Set("rules[0].applyServerSideEncryptionByDefault", {"sseAlgorithm": "AES256"})),
        ),
        names=(WEIGHTS_BUCKET,),
    ),
]


def _policy(name: str) -> str:
    return f"policy:{name}"


# --- regressions of each existing policy ---------------------------------------------------------

EXISTING_POLICIES: list[Mutation] = [
    one(
        "provider-removed",
        _policy("all-resources-explicit-provider"),
        "a bucket loses its explicit provider",
        where(BUCKET),
        Option("provider", ""),
    ),
    one(
        "provider-region",
        _policy("aws-provider-region-allowed"),
        "an AWS provider targets ap-southeast-1",
        where(AWS_PROVIDER),
        Set("region", "ap-southeast-1"),
    ),
    one(
        "resource-region-override",
        _policy("aws-provider-region-allowed"),
        "a bucket overrides its region to sa-east-1",
        WEIGHTS_BUCKET,
        Set("region", "sa-east-1"),
    ),
    one(
        "kms-no-rotation",
        _policy("aws-kms-key-rotation-enabled"),
        "a key stops rotating",
        where(KEY),
        Set("enableKeyRotation", False),
    ),
    one(
        "kms-wildcard-principal",
        _policy("aws-kms-key-policy-disallow-wildcard-principal"),
        "a key policy statement allows Principal {AWS: '*'}",
        where(KEY),
        doc("policy", Set("Statement[1].Principal", {"AWS": "*"})),
    ),
    one(
        "kms-no-policy",
        _policy("aws-kms-key-policy-disallow-wildcard-principal"),
        "a key has no key policy",
        where(KEY, pick=1),
        Delete("policy"),
    ),
    one(
        "replica-key-wildcard",
        _policy("aws-kms-key-policy-disallow-wildcard-principal"),
        "the replica key policy allows Principal '*'",
        where(REPLICA_KEY),
        doc("policy", Set("Statement[1].Principal", "*")),
        stacks=("prod",),
    ),
    one(
        "flow-log-removed",
        _policy("aws-ec2-vpc-flow-logs-enabled"),
        "a VPC's flow log is removed",
        where(FLOW_LOG),
        Remove(),
        names=(Linked(where(FLOW_LOG), "vpcId"),),
    ),
    one(
        "flow-log-reject-only",
        _policy("aws-ec2-vpc-flow-logs-enabled"),
        "a VPC's flow log records REJECT only",
        where(FLOW_LOG),
        Set("trafficType", "REJECT"),
        names=(Linked(where(FLOW_LOG), "vpcId"),),
    ),
    one(
        "eks-public-endpoint",
        _policy("aws-eks-cluster-disallow-public-endpoint"),
        "the cluster API endpoint becomes public with no CIDR list",
        where(CLUSTER),
        Set("vpcConfig.endpointPublicAccess", True),
    ),
    one(
        "eks-public-endpoint-any",
        _policy("aws-eks-cluster-disallow-public-endpoint"),
        "the cluster API endpoint becomes public to 0.0.0.0/0",
        where(CLUSTER),
        Set("vpcConfig.endpointPublicAccess", True),
        Set("vpcConfig.publicAccessCidrs", ["0.0.0.0/0"]),
    ),
    one(
        "eks-no-private-endpoint",
        _policy("aws-eks-cluster-disallow-public-endpoint"),
        "the cluster has no private endpoint",
        where(CLUSTER),
        Set("vpcConfig.endpointPrivateAccess", False),
    ),
    one(
        "eks-no-encryption",
        _policy("aws-eks-cluster-secrets-encrypted-with-cmk"),
        "the cluster drops encryptionConfig",
        where(CLUSTER),
        Delete("encryptionConfig"),
    ),
    one(
        "eks-aws-managed-key",
        _policy("aws-eks-cluster-secrets-encrypted-with-cmk"),
        "the cluster encrypts Secrets with the AWS-managed key",
        where(CLUSTER),
        Set("encryptionConfig.provider.keyArn", "arn:aws:kms:us-east-1:123456789012:alias/aws/eks"),
    ),
    one(
        "eks-logging-api-only",
        _policy("aws-eks-cluster-control-plane-logging-enabled"),
        "the cluster logs only the api log type",
        where(CLUSTER),
        Set("enabledClusterLogTypes", ["api"]),
    ),
    one(
        "eks-old-version",
        _policy("aws-eks-cluster-kubernetes-version-allowed"),
        "the cluster runs Kubernetes 1.29",
        where(CLUSTER),
        Set("version", "1.29"),
    ),
    one(
        "eks-no-version",
        _policy("aws-eks-cluster-kubernetes-version-allowed"),
        "the cluster pins no version",
        where(CLUSTER),
        Delete("version"),
    ),
    one(
        "sg-rule-internet",
        _policy("aws-ec2-security-group-no-public-ingress"),
        "an ingress rule admits 0.0.0.0/0 instead of a security group",
        # A rule that references a group (the selector holds until its last step removes the reference).
        where(INGRESS_RULE, Has("referencedSecurityGroupId")),
        Set("cidrIpv4", "0.0.0.0/0"),
        Delete("referencedSecurityGroupId"),
    ),
    one(
        "sg-inline-internet",
        _policy("aws-ec2-security-group-no-public-ingress"),
        "a security group gains an inline ingress from ::/0 on all ports",
        where(SECURITY_GROUP),
        Append("ingress", {"protocol": "-1", "fromPort": 0, "toPort": 0, "ipv6CidrBlocks": ["::/0"]}),
    ),
    one(
        "lb-internet-facing",
        _policy("aws-elb-load-balancer-internal"),
        "the NLB becomes internet-facing",
        where(LOAD_BALANCER),
        Set("internal", False),
    ),
    one(
        "nlb-no-security-groups",
        _policy("aws-elb-network-load-balancer-has-security-groups"),
        "the NLB has no security groups",
        where(LOAD_BALANCER),
        Delete("securityGroups"),
    ),
    one(
        "node-group-ssh",
        _policy("aws-eks-node-group-disallow-ssh"),
        "a GPU node group opens SSH (remoteAccess)",
        GPU_NODE_GROUP,
        Set("remoteAccess", {"ec2SshKey": "ops-break-glass"}),
    ),
    one(
        "gpu-imds-optional",
        _policy("aws-eks-node-imdsv2-hop-limit-one"),
        "GPU nodes allow IMDSv1",
        GPU_TEMPLATE,
        Set("metadataOptions.httpTokens", "optional"),
        names=(GPU_NODE_GROUP,),
    ),
    one(
        "gpu-imds-hops",
        _policy("aws-eks-node-imdsv2-hop-limit-one"),
        "GPU nodes' IMDS hop limit is 2",
        GPU_TEMPLATE,
        Set("metadataOptions.httpPutResponseHopLimit", 2),
        names=(GPU_NODE_GROUP,),
    ),
    one(
        "gpu-no-launch-template",
        _policy("aws-eks-node-imdsv2-hop-limit-one"),
        "a GPU node group drops its launch template",
        GPU_NODE_GROUP,
        Delete("launchTemplate"),
    ),
    one(
        "lt-unencrypted",
        _policy("aws-ec2-launch-template-volumes-encrypted-with-cmk"),
        "a launch template's root volume is not encrypted",
        where(LAUNCH_TEMPLATE),
        Set("blockDeviceMappings[0].ebs.encrypted", "false"),
    ),
    one(
        "lt-aws-managed-key",
        _policy("aws-ec2-launch-template-volumes-encrypted-with-cmk"),
        "a launch template's root volume uses the AWS-managed EBS key",
        where(LAUNCH_TEMPLATE, pick=1),
        Delete("blockDeviceMappings[0].ebs.kmsKeyId"),
    ),
    one(
        "lt-no-volumes",
        _policy("aws-ec2-launch-template-volumes-encrypted-with-cmk"),
        "a launch template maps no volume",
        GPU_TEMPLATE,
        Delete("blockDeviceMappings"),
    ),
    one(
        "gpu-untainted",
        _policy("aws-eks-gpu-node-group-tainted"),
        "a GPU node group loses its taint",
        GPU_NODE_GROUP,
        Delete("taints"),
    ),
    one(
        "gpu-taint-prefer",
        _policy("aws-eks-gpu-node-group-tainted"),
        "a GPU node group's taint only prefers",
        GPU_NODE_GROUP,
        Set("taints[0].effect", "PREFER_NO_SCHEDULE"),
    ),
    one(
        "cost-over-budget",
        _policy("cost-estimate-within-budget"),
        "a GPU node group runs 40 nodes",
        GPU_NODE_GROUP,
        Set("scalingConfig.desiredSize", 40),
        Set("scalingConfig.minSize", 40),
        Set("scalingConfig.maxSize", 40),
    ),
    one(
        "bucket-sse-aes256",
        _policy("aws-s3-bucket-encrypted-with-cmk"),
        "the weights bucket encrypts with AES256",
        WEIGHTS_SSE,
        Set("rules[0].applyServerSideEncryptionByDefault", {"sseAlgorithm": "AES256"}),
        names=(WEIGHTS_BUCKET,),
    ),
    one(
        "bucket-sse-aws-key",
        _policy("aws-s3-bucket-encrypted-with-cmk"),
        "the weights bucket uses the AWS-managed S3 key",
        WEIGHTS_SSE,
        Delete("rules[0].applyServerSideEncryptionByDefault.kmsMasterKeyId"),
        names=(WEIGHTS_BUCKET,),
    ),
    one(
        "bucket-sse-removed",
        _policy("aws-s3-bucket-encrypted-with-cmk"),
        "the log bucket loses default encryption",
        Attached(SSE, "bucket", LOG_BUCKET),
        Remove(),
        names=(LOG_BUCKET,),
    ),
    one(
        "bucket-versioning-suspended",
        _policy("aws-s3-bucket-versioning-enabled"),
        "weights versioning is Suspended",
        Attached(VERSIONING, "bucket", WEIGHTS_BUCKET),
        Set("versioningConfiguration.status", "Suspended"),
        names=(WEIGHTS_BUCKET,),
    ),
    one(
        "bucket-versioning-removed",
        _policy("aws-s3-bucket-versioning-enabled"),
        "weights versioning is removed",
        Attached(VERSIONING, "bucket", WEIGHTS_BUCKET),
        Remove(),
        names=(WEIGHTS_BUCKET,),
    ),
    one(
        "bucket-public-policy",
        _policy("aws-s3-bucket-public-access-blocked"),
        "the weights bucket's public access block allows public policies",
        Attached(PUBLIC_BLOCK, "bucket", WEIGHTS_BUCKET),
        Set("blockPublicPolicy", False),
        names=(WEIGHTS_BUCKET,),
    ),
    one(
        "bucket-public-block-removed",
        _policy("aws-s3-bucket-public-access-blocked"),
        "the log bucket's public access block is removed",
        Attached(PUBLIC_BLOCK, "bucket", LOG_BUCKET),
        Remove(),
        names=(LOG_BUCKET,),
    ),
    one(
        "bucket-policy-removed",
        _policy("aws-s3-bucket-tls-only"),
        "the weights bucket policy is removed",
        WEIGHTS_POLICY,
        Remove(),
        names=(WEIGHTS_BUCKET,),
    ),
    one(
        "bucket-tls-condition-dropped",
        _policy("aws-s3-bucket-tls-only"),
        "the TLS-only statement of the log bucket's policy is dropped",
        Attached(BUCKET_POLICY, "bucket", LOG_BUCKET),
        _iam(Delete("Statement[0]")),
        names=(LOG_BUCKET,),
    ),
    one(
        "bucket-logging-removed",
        _policy("aws-s3-bucket-access-logging-enabled"),
        "the weights bucket's access logging is removed",
        WEIGHTS_LOGGING,
        Remove(),
        names=(WEIGHTS_BUCKET,),
    ),
    one(
        "key-unprotected",
        _policy("stateful-resources-protected"),
        "a KMS key loses protect",
        where(KEY),
        Option("protect", False),
        stacks=("prod",),
    ),
    one(
        "bucket-unprotected",
        _policy("stateful-resources-protected"),
        "the weights bucket loses protect",
        WEIGHTS_BUCKET,
        Option("protect", False),
        stacks=("prod",),
    ),
    one(
        "rest-api-edge",
        _policy("aws-apigateway-rest-api-no-edge-endpoint"),
        "the REST API becomes EDGE",
        where(REST_API),
        Set("endpointConfiguration.types", "EDGE"),
    ),
    one(
        "rest-api-no-endpoint-config",
        _policy("aws-apigateway-rest-api-no-edge-endpoint"),
        "the REST API drops endpointConfiguration",
        where(REST_API),
        Delete("endpointConfiguration"),
    ),
    one(
        "stage-waf-removed",
        _policy("aws-apigateway-stage-waf-associated"),
        "the stage's WAF association is removed",
        where(WEB_ACL_ASSOCIATION),
        Remove(),
        names=(Linked(where(WEB_ACL_ASSOCIATION), "resourceArn"),),
    ),
    one(
        "unavailable-response-removed",
        _policy("aws-apigateway-unavailable-retry-after"),
        "the API's INTEGRATION_FAILURE response (503, Retry-After) is removed",
        where(GATEWAY_RESPONSE, Eq("responseType", "INTEGRATION_FAILURE")),
        Remove(),
        names=(Linked(where(GATEWAY_RESPONSE, Eq("responseType", "INTEGRATION_FAILURE")), "restApiId"),),
    ),
    one(
        "unavailable-response-no-retry-after",
        _policy("aws-apigateway-unavailable-retry-after"),
        "a waking model's timeout answers a bare 504 without Retry-After",
        where(GATEWAY_RESPONSE, Eq("responseType", "INTEGRATION_TIMEOUT")),
        Set("statusCode", "504"),
        Delete("responseParameters"),
    ),
    one(
        "stage-no-access-log",
        _policy("aws-apigateway-stage-access-logging"),
        "the stage keeps no access log",
        where(STAGE),
        Delete("accessLogSettings"),
    ),
    one(
        "stage-access-log-text",
        _policy("aws-apigateway-stage-access-logging"),
        "the stage's access log format is text",
        where(STAGE),
        Set("accessLogSettings.format", "$context.requestId $context.status"),
    ),
    one(
        "stage-no-xray",
        _policy("aws-apigateway-stage-tracing-enabled"),
        "the stage stops X-Ray tracing",
        where(STAGE),
        Set("xrayTracingEnabled", False),
    ),
    one(
        "method-data-trace",
        _policy("aws-apigateway-method-settings-no-data-trace"),
        "method settings log full requests",
        where(METHOD_SETTINGS),
        Set("settings.dataTraceEnabled", True),
    ),
    one(
        "method-open",
        _policy("aws-apigateway-method-requires-auth"),
        "a method needs neither key nor authorizer",
        where(METHOD),
        Set("authorization", "NONE"),
        Set("apiKeyRequired", False),
        Delete("authorizerId"),
    ),
    one(
        "streaming-buffered",
        _policy("aws-apigateway-streaming-routes-stream"),
        "a streaming route is BUFFERED",
        STREAMING_INTEGRATION,
        Set("responseTransferMode", "BUFFERED"),
    ),
    one(
        "waf-group-counts",
        _policy("aws-wafv2-web-acl-baseline-rules"),
        "a managed rule group only counts",
        where(WEB_ACL),
        Set("rules[0].overrideAction", {"count": {}}),
    ),
    one(
        "waf-rate-rule-counts",
        _policy("aws-wafv2-web-acl-baseline-rules"),
        "the rate-based rule only counts",
        where(WEB_ACL),
        Each("rules", Has("statement.rateBasedStatement"), Set("action", {"count": {}})),
    ),
    one(
        "waf-rate-rule-removed",
        _policy("aws-wafv2-web-acl-baseline-rules"),
        "the rate-based rule is removed",
        where(WEB_ACL),
        DropWhere("rules", Has("statement.rateBasedStatement")),
    ),
    one(
        "waf-managed-group-removed",
        _policy("aws-wafv2-web-acl-baseline-rules"),
        "the known-bad-inputs managed rule group is removed",
        where(WEB_ACL),
        DropWhere("rules", Contains("statement", "AWSManagedRulesKnownBadInputsRuleSet")),
    ),
    one(
        "waf-log-unredacted",
        _policy("aws-wafv2-web-acl-logging-redacted"),
        "WAF logs keep the x-api-key header",
        where(WEB_ACL_LOGGING),
        DropWhere("redactedFields", Contains("singleHeader", "x-api-key")),
    ),
    one(
        "waf-logging-removed",
        _policy("aws-wafv2-web-acl-logging-redacted"),
        "the web ACL's logging is removed",
        where(WEB_ACL_LOGGING),
        Remove(),
        names=(Linked(where(WEB_ACL_LOGGING), "resourceArn"),),
    ),
    one(
        "pod-privileged",
        _policy("kubernetes-container-restricted-security-context"),
        "the model server is privileged",
        MODEL_SERVER,
        Set(f"{CONTAINER}.securityContext.privileged", True),
    ),
    one(
        "pod-escalation",
        _policy("kubernetes-container-restricted-security-context"),
        "a controller allows privilege escalation",
        OTHER_DEPLOYMENT,
        Set(f"{CONTAINER}.securityContext.allowPrivilegeEscalation", True),
    ),
    one(
        "pod-root",
        _policy("kubernetes-container-restricted-security-context"),
        "the model server runs as root",
        MODEL_SERVER,
        Set(f"{CONTAINER}.securityContext.runAsUser", 0),
        Set(f"{CONTAINER}.securityContext.runAsNonRoot", False),
    ),
    one(
        "pod-cap-sys-admin",
        _policy("kubernetes-container-restricted-security-context"),
        "a node agent adds CAP_SYS_ADMIN",
        where(DAEMON_SET),
        Set(f"{CONTAINER}.securityContext.capabilities.add", ["SYS_ADMIN"]),
    ),
    one(
        "pod-writable-root",
        _policy("kubernetes-container-restricted-security-context"),
        "the model server's root filesystem is writable",
        MODEL_SERVER,
        Set(f"{CONTAINER}.securityContext.readOnlyRootFilesystem", False),
    ),
    one(
        "image-foreign-registry",
        _policy("kubernetes-image-pinned-from-allowed-registry"),
        "the model server pulls from an unreviewed registry",
        MODEL_SERVER,
        Set(f"{CONTAINER}.image", "registry.example.net/tgi:3.3.4"),
    ),
    one(
        "image-latest",
        _policy("kubernetes-image-pinned-from-allowed-registry"),
        "a controller image is :latest",
        OTHER_DEPLOYMENT,
        Set(f"{CONTAINER}.image", "registry.k8s.io/autoscaling/cluster-autoscaler:latest"),
    ),
    one(
        "gpu-request-mismatch",
        _policy("kubernetes-gpu-requests-equal-limits"),
        "the model server requests 16 GPUs, more than its limit",
        MODEL_SERVER,
        Set(f'{CONTAINER}.resources.requests["nvidia.com/gpu"]', "16"),
    ),
    one(
        "gpu-no-limit",
        _policy("kubernetes-gpu-requests-equal-limits"),
        "the model server's GPU limit is dropped",
        MODEL_SERVER,
        Delete(f'{CONTAINER}.resources.limits["nvidia.com/gpu"]'),
    ),
    one(
        "probe-no-readiness",
        _policy("kubernetes-model-server-probes"),
        "the model server has no readiness probe",
        MODEL_SERVER,
        Delete(f"{CONTAINER}.readinessProbe"),
    ),
    one(
        "probe-liveness-health",
        _policy("kubernetes-model-server-probes"),
        "the liveness probe uses /health",
        MODEL_SERVER,
        Set(f"{CONTAINER}.livenessProbe", {"httpGet": {"path": "/health", "port": "http"}}),
    ),
    one(
        "probe-tgi-readiness-health",
        _policy("kubernetes-model-server-probes"),
        "a TGI server's readiness probe uses /health (503 while its queue is full)",
        MODEL_SERVER,
        Set(f"{CONTAINER}.readinessProbe.httpGet.path", "/health"),
    ),
    one(
        "pdb-removed",
        _policy("kubernetes-model-server-has-pdb"),
        "a model server's PodDisruptionBudget is removed",
        MODEL_PDB,
        Remove(),
        names=(SelectedBy(MODEL_PDB),),
    ),
    one(
        "model-too-big",
        _policy("model-fits-gpus"),
        "a model server is annotated 700B parameters",
        MODEL_SERVER,
        Set('metadata.annotations["llm-serving/parameters-billion"]', "700"),
    ),
    one(
        "model-annotation-missing",
        _policy("model-fits-gpus"),
        "a model server loses its shards annotation",
        MODEL_SERVER,
        Delete('metadata.annotations["llm-serving/shards"]'),
    ),
    one(
        "scaler-second-owner",
        _policy("kubernetes-scaler-single-owner"),
        "a second ScaledObject targets the same Deployment",
        MODEL_SCALED_OBJECT,
        AddClone(suffix="twin", edits=(Set("metadata.name", "twin-scaler"),)),
        names=(MODEL_SCALED_OBJECT,),
    ),
    one(
        "scaler-min-over-max",
        _policy("kubernetes-scaler-min-within-max"),
        "a ScaledObject's min exceeds its max",
        MODEL_SCALED_OBJECT,
        Set("spec.minReplicaCount", 50),
    ),
    one(
        "hpa-min-zero",
        _policy("kubernetes-scaler-keeps-minimum-replicas"),
        "prod lets an HPA scale to 0",
        where(HPA),
        Set("spec.minReplicas", 0),
        stacks=("prod",),
    ),
    one(
        "keda-idle-zero",
        _policy("kubernetes-scaler-keeps-minimum-replicas"),
        "prod lets a ScaledObject idle at 0",
        MODEL_SCALED_OBJECT,
        Set("spec.idleReplicaCount", 0),
        stacks=("prod",),
    ),
    one(
        "scaler-target-ghost",
        _policy("kubernetes-scaler-target-exists"),
        "a ScaledObject targets a missing Deployment",
        MODEL_SCALED_OBJECT,
        Set("spec.scaleTargetRef.name", "ghost-model"),
    ),
    one(
        "scaler-over-capacity",
        _policy("kubernetes-scaler-fits-gpu-capacity"),
        "a ScaledObject may ask for 100 replicas",
        MODEL_SCALED_OBJECT,
        Set("spec.maxReplicaCount", 100),
    ),
    one(
        "keda-zero-in-pod-only",
        _policy("kubernetes-keda-scale-to-zero-needs-external-trigger"),
        "a ScaledObject scales to zero with only Prometheus triggers",
        MODEL_SCALED_OBJECT,
        Set("spec.minReplicaCount", 0),
        DropWhere("spec.triggers", Not(Eq("type", "prometheus"))),
    ),
    one(
        "keda-zero-wakes-on-stage",
        _policy("kubernetes-keda-scale-to-zero-needs-external-trigger"),
        "a scaled-to-zero model wakes on the whole API stage's request count, not its own route",
        MODEL_SCALED_OBJECT,
        Set("spec.triggers[2].metadata.dimensionName", "ApiName;Stage"),
        Set("spec.triggers[2].metadata.dimensionValue", "llm-serving-dev-us-east-1;v1"),
        stacks=("dev",),  # prod has no model that scales to zero
    ),
]

# --- the controllers declared from upstream charts, held to the policies of the program's own -----

CONFIG_GROUP = "kubernetes:yaml/v2:ConfigGroup"
# A privileged node agent smuggled into a controller's CRD bundle, where no object policy reads it.
SMUGGLED_DAEMON_SET = json.dumps(
    {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": "node-shell", "namespace": "kube-system"},
        "spec": {
            "selector": {"matchLabels": {"app": "node-shell"}},
            "template": {
                "metadata": {"labels": {"app": "node-shell"}},
                "spec": {
                    "hostPID": True,
                    "hostNetwork": True,
                    "containers": [
                        {"name": "shell", "image": "docker.io/library/busybox", "securityContext": {"privileged": True}}
                    ],
                },
            },
        },
    },
    separators=(",", ":"),
)

CONTROLLERS: list[Mutation] = [
    one(
        "ctl-crd-bundle-smuggles-workload",
        "controllers",
        "a controller's CRD bundle (ConfigGroup) also carries a privileged host-namespace DaemonSet",
        where(CONFIG_GROUP, Contains("yaml", "CustomResourceDefinition")),
        Sub("yaml", r"\Z", f"---\n{SMUGGLED_DAEMON_SET}\n"),
    ),
    one(
        "ctl-host-network",
        "controllers",
        "a chart-declared controller Deployment sets hostNetwork",
        CONTROLLER_DEPLOYMENT,
        Set(f"{POD}.hostNetwork", True),
    ),
    one(
        "ctl-host-pid",
        "controllers",
        "another chart-declared controller Deployment sets hostPID",
        where(DEPLOYMENT, Has(CHART), pick=1),
        Set(f"{POD}.hostPID", True),
    ),
    one(
        "ctl-no-limits",
        "controllers",
        "a chart-declared controller container loses its limits",
        CONTROLLER_DEPLOYMENT,
        Delete(f"{CONTAINER}.resources.limits"),
    ),
    one(
        "ctl-no-memory-limit-lb",
        "controllers",
        "the controller pulled from public.ecr.aws loses its memory limit",
        where(DEPLOYMENT, Has(CHART), Contains(IMAGE, "public.ecr.aws/")),
        Delete(f"{CONTAINER}.resources.limits.memory"),
    ),
    one(
        "ctl-hostpath-kubelet",
        "controllers",
        "a chart-declared controller mounts the kubelet's directory from the host",
        CONTROLLER_DEPLOYMENT,
        Append(f"{POD}.volumes", {"name": "kubelet", "hostPath": {"path": "/var/lib/kubelet"}}),
    ),
    one(
        "ctl-privileged",
        "controllers",
        "a chart-declared controller container runs privileged",
        CONTROLLER_DEPLOYMENT,
        Set(f"{CONTAINER}.securityContext.privileged", True),
    ),
    one(
        "ctl-image-untagged",
        "controllers",
        "a chart-declared controller image loses its version tag",
        CONTROLLER_DEPLOYMENT,
        Sub(IMAGE, r":[^:/@]+$", ""),
    ),
    one(
        "ctl-image-foreign-registry",
        "controllers",
        "a chart-declared controller image comes from an unreviewed registry",
        where(DEPLOYMENT, Has(CHART), pick=1),
        Sub(IMAGE, r"^[^/]+", "registry.example.net"),
    ),
    one(
        "ctl-default-service-account",
        "controllers",
        "a chart-declared controller runs as the default service account",
        CONTROLLER_DEPLOYMENT,
        Delete(f"{POD}.serviceAccountName"),
    ),
    one(
        "ctl-host-port",
        "controllers",
        "a chart-declared controller binds its first port on the node",
        CONTROLLER_DEPLOYMENT,
        Set(f"{CONTAINER}.ports[0].hostPort", 9443),
    ),
    one(
        "ctl-sa-automount",
        "controllers",
        "a chart-declared controller's ServiceAccount automounts its token",
        CONTROLLER_SERVICE_ACCOUNT,
        Set("automountServiceAccountToken", True),
    ),
    one(
        "ctl-sa-automount-default",
        "controllers",
        "a chart-declared controller's ServiceAccount stops opting out of the token (default: mounted)",
        where(SERVICE_ACCOUNT, Has(CHART), pick=1),
        Delete("automountServiceAccountToken"),
    ),
    one(
        "ctl-clusterrole-star-verbs",
        "controllers",
        "a chart-declared ClusterRole's first rule grants verbs '*'",
        CONTROLLER_CLUSTER_ROLE,
        Set("rules[0].verbs", ["*"]),
    ),
    one(
        "ctl-waived-role-second-secret-read",
        "controllers",
        "the Role whose Secret watch is waived also reads Secrets in a new rule (the waiver must not cover it)",
        SECRET_READING_ROLE,
        Append("rules", {"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]}),
    ),
    one(
        "ctl-clusterrole-escalate",
        "controllers",
        "a chart-declared ClusterRole may escalate and bind roles",
        CONTROLLER_CLUSTER_ROLE,
        Append(
            "rules",
            {"apiGroups": ["rbac.authorization.k8s.io"], "resources": ["clusterroles"], "verbs": ["escalate", "bind"]},
        ),
    ),
    one(
        "ctl-clusterrole-secrets",
        "controllers",
        "a chart-declared ClusterRole reads every Secret",
        where(CLUSTER_ROLE, Has(CHART), Not(Contains("rules", '"*"')), pick=1),
        Append("rules", {"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "list", "watch"]}),
    ),
    one(
        "ctl-role-secrets",
        "controllers",
        "a chart-declared Role that reads no Secret starts listing them",
        where(ROLE_K8S, Has(CHART), Not(Contains("rules", '"secrets"'))),
        Append("rules", {"apiGroups": [""], "resources": ["secrets"], "verbs": ["list"]}),
    ),
    one(
        "ctl-clusterrole-pods-exec",
        "controllers",
        "a chart-declared ClusterRole may exec into every pod",
        CONTROLLER_CLUSTER_ROLE,
        Append("rules", {"apiGroups": [""], "resources": ["pods/exec"], "verbs": ["create"]}),
    ),
    one(
        "ctl-role-token-request",
        "controllers",
        "a chart-declared Role may mint tokens for the service accounts of its namespace",
        where(ROLE_K8S, Has(CHART)),
        Append("rules", {"apiGroups": [""], "resources": ["serviceaccounts/token"], "verbs": ["create"]}),
    ),
    one(
        "ctl-binding-cluster-admin",
        "controllers",
        "a chart-declared ClusterRoleBinding binds cluster-admin",
        CONTROLLER_BINDING,
        Set("roleRef.name", "cluster-admin"),
    ),
    one(
        "ctl-rolebinding-authenticated",
        "controllers",
        "a chart-declared RoleBinding grants its role to every authenticated identity",
        CONTROLLER_ROLE_BINDING,
        Append("subjects", {"kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": "system:authenticated"}),
    ),
    one(
        "ctl-webhook-nodeport",
        "controllers",
        "the LB controller's webhook Service becomes NodePort",
        WEBHOOK_SERVICE,
        Set("spec.type", "NodePort"),
    ),
    one(
        "ctl-webhook-loadbalancer",
        "controllers",
        "the LB controller's webhook Service becomes LoadBalancer",
        WEBHOOK_SERVICE,
        Set("spec.type", "LoadBalancer"),
    ),
    one(
        "ctl-service-nodeport",
        "controllers",
        "a chart-declared metrics API Service becomes NodePort",
        where(SERVICE, Has(CHART), Eq("spec.type", "ClusterIP")),
        Set("spec.type", "NodePort"),
    ),
]


# --- one regression per registered policy, tagged with its name ---------------------------------

POLICY_COVERAGE: list[Mutation] = [
    one(
        "helm-chart-added",
        _policy("kubernetes-manifest-bundle-crds-only"),
        "a Helm v4 Chart is added beside a controller's CRD bundle (its objects never reach the pack)",
        where(CONFIG_GROUP),
        AddClone(
            type="kubernetes:helm.sh/v4:Chart",
            suffix="chart",
            inputs={"chart": "oci://registry.example.net/charts/node-agent", "version": "1.0.0"},
        ),
    ),
    one(
        "kms-foreign-role-grant",
        _policy("aws-kms-key-policy-same-account"),
        "a key policy lets another account's role generate data keys",
        where(KEY, pick=2),
        doc(
            "policy",
            Append(
                "Statement",
                _statement(
                    "Allow",
                    "kms:GenerateDataKey",
                    principal={"AWS": f"arn:aws:iam::{FOREIGN_ACCOUNT}:role/analytics"},
                ),
            ),
        ),
    ),
    one(
        "iam-star-in-action-list",
        _policy("aws-iam-policy-disallow-wildcard-action-resource"),
        "a role policy hides '*' among its first statement's actions",
        where(ROLE_POLICY, pick=2),
        _iam(Set("Statement[0].Action", ["sts:GetCallerIdentity", "*"])),
    ),
    one(
        "iam-passrole-no-service-condition",
        _policy("aws-iam-policy-passrole-scoped"),
        "a role policy may pass a named role to any service (no iam:PassedToService)",
        where(ROLE_POLICY, pick=1),
        _iam(Append("Statement", _statement("Allow", "iam:PassRole", "arn:aws:iam::123456789012:role/ml-batch"))),
    ),
    one(
        "iam-not-resource",
        _policy("aws-iam-policy-disallow-allow-with-not-elements"),
        "the weights read policy allows s3:GetObject on everything but one bucket (NotResource)",
        WEIGHTS_READ_POLICY,
        _iam(Append("Statement", {"Effect": "Allow", "Action": "s3:GetObject", "NotResource": "arn:aws:s3:::x/*"})),
    ),
    one(
        "iam-managed-not-allowed",
        _policy("aws-iam-managed-policy-allowed"),
        "the node role attaches AmazonS3ReadOnlyAccess, which the stack does not allow",
        NODE_ATTACHMENT,
        Set("policyArn", "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"),
        names=(NODE_ROLE,),
    ),
    one(
        "trust-foreign-role",
        _policy("aws-iam-role-trust-policy-restricted"),
        "the node role trusts another account's role",
        NODE_ROLE,
        doc("assumeRolePolicy", Set("Statement[0].Principal", {"AWS": f"arn:aws:iam::{FOREIGN_ACCOUNT}:role/ci"})),
    ),
    one(
        "pod-identity-no-session-tags",
        _policy("aws-iam-pod-identity-trust-scoped-to-service-account"),
        "a Pod Identity role drops its namespace and service-account session-tag conditions",
        POD_IDENTITY_ROLE,
        doc(
            "assumeRolePolicy",
            Delete('Statement[0].Condition.StringEquals["aws:RequestTag/kubernetes-namespace"]'),
            Delete('Statement[0].Condition.StringEquals["aws:RequestTag/kubernetes-service-account"]'),
        ),
    ),
    one(
        "pod-identity-sa-pattern",
        _policy("aws-iam-pod-identity-trust-scoped-to-service-account"),
        "a Pod Identity role trusts any service account of its namespace ('*')",
        where(ROLE, Contains("assumeRolePolicy", "pods.eks.amazonaws.com"), pick=1),
        doc(
            "assumeRolePolicy",
            Set('Statement[0].Condition.StringEquals["aws:RequestTag/kubernetes-service-account"]', "*"),
        ),
    ),
    one(
        "eks-auth-mode-unset",
        _policy("aws-eks-cluster-authentication-mode-api"),
        "the cluster leaves authenticationMode to EKS's default (CONFIG_MAP)",
        where(CLUSTER),
        Delete("accessConfig.authenticationMode"),
    ),
    one(
        "eks-bootstrap-admin-unset",
        _policy("aws-eks-cluster-disallow-creator-admin"),
        "prod leaves bootstrapClusterCreatorAdminPermissions to EKS's default (true)",
        where(CLUSTER),
        Delete("accessConfig.bootstrapClusterCreatorAdminPermissions"),
        stacks=("prod",),
    ),
    one(
        "eks-admin-policy-same-account-role",
        _policy("aws-eks-access-policy-admin-principals-allowed"),
        "the cluster-admin association moves to a role of the stack's account that is not an admin role",
        where(ACCESS_POLICY),
        Set("principalArn", "arn:aws:iam::123456789012:role/ml-engineer"),
        stacks=("prod",),
    ),
    one(
        "system-node-max-x50",
        _policy("cost-ceiling-within-budget"),
        "the system node group may grow to 50x its maximum",
        SYSTEM_NODE_GROUP,
        Multiply("scalingConfig.maxSize", 50),
    ),
    one(
        "model-node-selector-gpu",
        _policy("gpu-types-allowed"),
        "a model server is steered to a100 nodes, a GPU the stack does not allow",
        MODEL_SERVER,
        Set(f'{POD}.nodeSelector["llm-serving/gpu"]', "a100"),
    ),
    one(
        "budget-annual",
        _policy("aws-budgets-monthly-cost-budget"),
        "the AWS Budget becomes annual",
        where(BUDGET),
        Set("timeUnit", "ANNUALLY"),
    ),
    one(
        "log-bucket-foreign-write",
        _policy("aws-s3-bucket-policy-same-account"),
        "the log bucket policy lets another account's role write",
        Attached(BUCKET_POLICY, "bucket", LOG_BUCKET),
        _iam(
            Append(
                "Statement",
                _statement(
                    "Allow",
                    "s3:PutObject",
                    "arn:aws:s3:::*/*",
                    principal={"AWS": f"arn:aws:iam::{FOREIGN_ACCOUNT}:role/collector"},
                ),
            )
        ),
        names=(LOG_BUCKET,),
    ),
    one(
        "log-bucket-untagged",
        _policy("aws-s3-access-log-bucket-contract"),
        "the access-log bucket loses its data tag (named as one, no longer tagged)",
        LOG_BUCKET,
        Delete('tags["llm-serving/data"]'),
    ),
    one(
        "log-bucket-ownership-removed",
        _policy("aws-s3-bucket-acls-disabled"),
        "the log bucket's ownership controls are removed",
        Attached(OWNERSHIP, "bucket", LOG_BUCKET),
        Remove(),
        names=(LOG_BUCKET,),
    ),
    one(
        "replication-skips-kms-objects",
        _policy("aws-s3-replication-destination-in-stack"),
        "weights replication stops copying KMS-encrypted objects",
        where(REPLICATION),
        Set("rules[0].sourceSelectionCriteria.sseKmsEncryptedObjects.status", "Disabled"),
        stacks=("prod",),
    ),
    one(
        "log-group-foreign-key",
        _policy("aws-cloudwatch-log-group-encrypted-with-cmk"),
        "a log group is encrypted with another account's key",
        where(LOG_GROUP, pick=3),
        Set("kmsKeyId", f"arn:aws:kms:us-east-1:{FOREIGN_ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"),
    ),
    one(
        "log-group-never-expires",
        _policy("aws-cloudwatch-log-group-retention-minimum"),
        "a log group drops retentionInDays (logs never expire)",
        where(LOG_GROUP, pick=3),
        Delete("retentionInDays"),
    ),
    one(
        "waived-role-narrowed",
        _policy("policy-waivers-valid"),
        "the waived controller Role stops reading unnamed Secrets: its waiver now waives nothing",
        SECRET_READING_ROLE,
        DropWhere("rules", BROAD_SECRETS_RULE),
    ),
    one(
        "waived-role-removed",
        _policy("policy-waivers-valid"),
        "the waived controller Role is removed: its waiver names no resource",
        SECRET_READING_ROLE,
        Remove(),
        missing="Role",
    ),
    one(
        "lambda-url-unknown-auth",
        _policy("aws-lambda-function-url-disallow-auth-none"),
        "the authorizer gets a function URL whose authorizationType is not AWS_IAM",
        where(LAMBDA),
        AddClone(
            type=FUNCTION_URL,
            suffix="url-custom",
            inputs={"functionName": From(where(LAMBDA), "name"), "authorizationType": "CUSTOM"},
            deps={"functionName": where(LAMBDA)},
        ),
    ),
    one(
        "lambda-permission-any-api",
        _policy("aws-lambda-permission-source-scoped"),
        "the authorizer's invoke permission covers every API of every account",
        where(PERMISSION),
        Set("sourceArn", "arn:aws:execute-api:us-east-1:*:*"),
    ),
    one(
        "usage-plan-zero-quota",
        _policy("aws-apigateway-usage-plan-throttle-and-quota"),
        "a tenant usage plan's quota limit is 0 (no cap)",
        where(USAGE_PLAN),
        Set("quotaSettings.limit", 0),
    ),
    one(
        "lambda-env-default-key",
        _policy("aws-lambda-function-environment-encrypted-with-cmk"),
        "the authorizer's environment falls back to the default Lambda key (kmsKeyArn dropped)",
        where(LAMBDA, Has("environment")),
        Delete("kmsKeyArn"),
    ),
    one(
        "daemonset-host-ipc",
        _policy("kubernetes-pod-disallow-host-namespaces"),
        "a node agent DaemonSet sets hostIPC",
        where(DAEMON_SET, pick=1),
        Set(f"{POD}.hostIPC", True),
    ),
    one(
        "hostpath-etc",
        _policy("kubernetes-pod-host-path-restricted"),
        "a model server gains a hostPath volume of /etc",
        MODEL_SERVER,
        Append(f"{POD}.volumes", {"name": "host-etc", "hostPath": {"path": "/etc"}}),
    ),
    one(
        "model-host-port",
        _policy("kubernetes-container-disallow-host-port"),
        "a model server binds its serving port on the GPU node",
        MODEL_SERVER,
        Set(f"{CONTAINER}.ports[0].hostPort", 8080),
    ),
    one(
        "daemonset-no-cpu-limit",
        _policy("kubernetes-container-cpu-memory-bounded"),
        "a node agent container loses its CPU limit",
        where(DAEMON_SET, pick=1),
        Delete(f"{CONTAINER}.resources.limits.cpu"),
    ),
    one(
        "daemonset-default-sa",
        _policy("kubernetes-pod-disallow-default-service-account"),
        "a node agent DaemonSet names serviceAccountName 'default'",
        where(DAEMON_SET),
        Set(f"{POD}.serviceAccountName", "default"),
    ),
    one(
        "own-sa-automount",
        _policy("kubernetes-service-account-token-not-automounted"),
        "one of the program's ServiceAccounts automounts its token",
        OWN_SERVICE_ACCOUNT,
        Set("automountServiceAccountToken", True),
    ),
    one(
        "own-role-star-verbs",
        _policy("kubernetes-rbac-role-disallow-wildcards"),
        "one of the program's Roles grants verbs '*'",
        OWN_ROLE,
        Set("rules[0].verbs", ["*"]),
    ),
    one(
        "own-clusterrole-impersonate",
        _policy("kubernetes-rbac-role-disallow-escalation-verbs"),
        "one of the program's ClusterRoles may impersonate service accounts",
        OWN_CLUSTER_ROLE,
        Append("rules", {"apiGroups": [""], "resources": ["serviceaccounts"], "verbs": ["impersonate"]}),
    ),
    one(
        "own-clusterrole-nodes-proxy",
        _policy("kubernetes-rbac-role-disallow-pod-and-node-takeover"),
        "one of the program's ClusterRoles may call every kubelet through nodes/proxy",
        OWN_CLUSTER_ROLE,
        Append("rules", {"apiGroups": [""], "resources": ["nodes/proxy"], "verbs": ["get"]}),
    ),
    one(
        "own-role-secrets",
        _policy("kubernetes-rbac-role-disallow-secret-read"),
        "one of the program's Roles reads the Secrets of its namespace",
        OWN_ROLE,
        Append("rules", {"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "list"]}),
    ),
    one(
        "own-binding-cluster-admin",
        _policy("kubernetes-rbac-binding-disallow-broad-grants"),
        "one of the program's ClusterRoleBindings binds cluster-admin",
        OWN_BINDING,
        Set("roleRef.name", "cluster-admin"),
    ),
    one(
        "own-binding-anonymous",
        _policy("kubernetes-rbac-binding-disallow-broad-grants"),
        "one of the program's ClusterRoleBindings also grants system:anonymous",
        OWN_BINDING,
        Append("subjects", {"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": "system:anonymous"}),
    ),
    one(
        "model-service-loadbalancer",
        _policy("kubernetes-service-disallow-external-exposure"),
        "a model Service becomes type LoadBalancer",
        MODEL_SERVICE,
        Set("spec.type", "LoadBalancer"),
    ),
    one(
        "model-networkpolicy-selects-nothing",
        _policy("kubernetes-model-server-ingress-restricted"),
        "a model server's NetworkPolicy selects pods that do not exist",
        MODEL_NETWORK_POLICY,
        Set("spec.podSelector", {"matchLabels": {"app.kubernetes.io/name": "no-such-model"}}),
        names=(SelectedBy(MODEL_NETWORK_POLICY),),
    ),
    one(
        "networkpolicy-any-ipv6",
        _policy("kubernetes-network-policy-disallow-open-peers"),
        "a model server's NetworkPolicy admits ::/0",
        MODEL_NETWORK_POLICY,
        Set("spec.ingress[0].from", [{"ipBlock": {"cidr": "::/0"}}]),
    ),
]

# The admission guards of the namespaces Pod Security holds only at `privileged`.
NAMESPACE = "kubernetes:core/v1:Namespace"
ADMISSION_POLICY = "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy"
ADMISSION_BINDING = "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicyBinding"
PRIVILEGED_NAMESPACES = where(
    NAMESPACE, Eq('metadata.labels["pod-security.kubernetes.io/enforce"]', "privileged"), pick="all"
)
GUARD = where(ADMISSION_POLICY, Eq('metadata.labels["app.kubernetes.io/component"]', "admission-guard"))
GUARD_BINDING = where(ADMISSION_BINDING, Eq('metadata.labels["app.kubernetes.io/component"]', "admission-guard"))
ALL_GUARD_BINDINGS = where(ADMISSION_BINDING, pick="all")
_GUARDED = _policy("kubernetes-namespace-admission-guarded")

ADMISSION_GUARDS: list[Mutation] = [
    one(
        "guard-binding-removed",
        _GUARDED,
        "a privileged namespace's admission guard binding is removed",
        GUARD_BINDING,
        Remove(),
        names=(PRIVILEGED_NAMESPACES,),
    ),
    one(
        "guard-binding-warn-only",
        _GUARDED,
        "the guard's binding only warns (validationActions [Warn])",
        GUARD_BINDING,
        Set("spec.validationActions", ["Warn"]),
    ),
    one(
        "guard-binding-object-selector",
        _GUARDED,
        "the guard's binding judges only pods with an opt-in label",
        GUARD_BINDING,
        Set("spec.matchResources.objectSelector", {"matchLabels": {"llm-serving/guarded": "true"}}),
    ),
    one(
        "guard-binding-other-namespace",
        _GUARDED,
        "the guard's binding selects a namespace that does not exist",
        GUARD_BINDING,
        Set('spec.matchResources.namespaceSelector.matchLabels["kubernetes.io/metadata.name"]', "llm-none"),
        names=(PRIVILEGED_NAMESPACES,),
    ),
    one(
        "guard-policy-removed",
        _GUARDED,
        "the guard's ValidatingAdmissionPolicy is removed (its binding names nothing)",
        GUARD,
        Remove(),
        names=(ALL_GUARD_BINDINGS,),
    ),
    one(
        "guard-policy-fails-open",
        _GUARDED,
        "the guard admits a pod it cannot judge (failurePolicy Ignore)",
        GUARD,
        Set("spec.failurePolicy", "Ignore"),
    ),
    one(
        "guard-policy-create-only",
        _GUARDED,
        "the guard judges pod creation only, not updates",
        GUARD,
        Set("spec.matchConstraints.resourceRules[0].operations", ["CREATE"]),
    ),
    one(
        "guard-policy-match-condition",
        _GUARDED,
        "the guard skips pods by a match condition",
        GUARD,
        Set(
            "spec.matchConditions", [{"name": "skip-debug", "expression": "!object.metadata.name.startsWith('debug-')"}]
        ),
    ),
    one(
        "guard-policy-host-namespaces-rule-dropped",
        _GUARDED,
        "the guard's host-namespace rule is dropped",
        GUARD,
        DropWhere("spec.validations", Contains("expression", "hostNetwork")),
    ),
    one(
        "guard-policy-host-path-opened",
        _GUARDED,
        "the guard's hostPath rule admits any path",
        GUARD,
        Each("spec.validations", Contains("expression", "hostPath"), Set("expression", "true")),
    ),
]

# Data residency: only prod places a sensitive model (on dc1).
CLASSIFICATION = 'metadata.labels["llm-serving/data-classification"]'
SENSITIVE_SERVER = where(DEPLOYMENT, Eq(CLASSIFICATION, "sensitive"))
# On an EKS node group (its pods select one); on-prem model servers select the target's own labels.
EKS_MODEL_SERVER = where(
    DEPLOYMENT,
    Eq(COMPONENT, "model-server"),
    Eq(CLASSIFICATION, "internal"),
    Has('spec.template.spec.nodeSelector["llm-serving/node-group"]'),
)
_ON_PREM = _policy("data-residency-sensitive-models-on-prem")

RESIDENCY: list[Mutation] = [
    one(
        "sensitive-model-moved-to-eks",
        _ON_PREM,
        "the sensitive model's Deployment is applied to an EKS cluster",
        SENSITIVE_SERVER,
        MoveTo(EKS_MODEL_SERVER),
        stacks=("prod",),
    ),
    one(
        "sensitive-marker-dropped",
        _ON_PREM,
        "the sensitive model's Deployment loses its data-classification label",
        SENSITIVE_SERVER,
        Delete(CLASSIFICATION),
        stacks=("prod",),
    ),
    one(
        "sensitive-weights-from-aws",
        _ON_PREM,
        "the sensitive model's weight sync drops the data centre's endpoint (reads AWS S3)",
        SENSITIVE_SERVER,
        DropWhere("spec.template.spec.initContainers[0].env", Eq("name", "AWS_ENDPOINT_URL_S3")),
        stacks=("prod",),
    ),
    one(
        "aws-bucket-marked-sensitive",
        _ON_PREM,
        "the weights bucket is tagged as holding sensitive data",
        WEIGHTS_BUCKET,
        Set('tags["llm-serving/data-classification"]', "sensitive"),
    ),
    one(
        "model-server-unmarked",
        _ON_PREM,
        "a model server in AWS loses its data-classification label",
        EKS_MODEL_SERVER,
        Delete(CLASSIFICATION),
    ),
    one(
        "classification-unknown-value",
        _ON_PREM,
        "a model server is classified 'public', a level the platform does not know",
        EKS_MODEL_SERVER,
        Set(CLASSIFICATION, "public"),
    ),
    one(
        "restricted-tenant-plan-moved",
        _policy("data-residency-regions"),
        "the EU-only tenant's usage plan is created in us-east-1",
        where(USAGE_PLAN, Eq('tags["tenant"]', "eu-support")),
        MoveTo(where(USAGE_PLAN, Contains("name", "-us-east-1-"))),
        stacks=("prod",),
    ),
]

# The private path to the data centre (prod only: dev declares none).
VPN_CONNECTION = "aws:ec2/vpnConnection:VpnConnection"
TRANSIT_GATEWAY = "aws:ec2transitgateway/transitGateway:TransitGateway"
PRIVATE_PATH_ROUTE = where("aws:ec2/route:Route", Has("transitGatewayId"))
_TUNNELS = _policy("aws-vpn-tunnels-strong")
_ROUTES = _policy("aws-transit-gateway-datacentre-routes-only")


def _prod(id: str, cls: str, description: str, select: Selector, *ops: Op) -> Mutation:
    return one(id, cls, description, select, *ops, stacks=("prod",))


PRIVATE_PATH: list[Mutation] = [
    _prod(
        "vpn-aes128",
        _TUNNELS,
        "a tunnel also accepts AES128 in phase 1",
        where(VPN_CONNECTION),
        Append("tunnel1Phase1EncryptionAlgorithms", "AES128"),
    ),
    _prod(
        "vpn-ikev1",
        _TUNNELS,
        "a tunnel also accepts IKEv1",
        where(VPN_CONNECTION),
        Append("tunnel2IkeVersions", "ikev1"),
    ),
    _prod(
        "vpn-dh-group-2",
        _TUNNELS,
        "a tunnel's phase 2 uses DH group 2",
        where(VPN_CONNECTION),
        Set("tunnel1Phase2DhGroupNumbers", [2]),
    ),
    _prod(
        "vpn-integrity-unset",
        _TUNNELS,
        "a tunnel states no phase 1 integrity (AWS allows SHA1)",
        where(VPN_CONNECTION),
        Delete("tunnel1Phase1IntegrityAlgorithms"),
    ),
    _prod(
        "vpn-dpd-none",
        _TUNNELS,
        "a tunnel ignores dead peers",
        where(VPN_CONNECTION),
        Set("tunnel2DpdTimeoutAction", "none"),
    ),
    _prod(
        "vpn-logs-off",
        _TUNNELS,
        "a tunnel stops logging its activity",
        where(VPN_CONNECTION),
        Set("tunnel1LogOptions.cloudwatchLogOptions.logEnabled", False),
    ),
    _prod(
        "tgw-default-association",
        _ROUTES,
        "the Transit Gateway associates attachments with its default table",
        where(TRANSIT_GATEWAY),
        Set("defaultRouteTableAssociation", "enable"),
    ),
    _prod(
        "tgw-auto-accept",
        _ROUTES,
        "the Transit Gateway accepts shared attachments on its own",
        where(TRANSIT_GATEWAY),
        Set("autoAcceptSharedAttachments", "enable"),
    ),
    _prod(
        "route-default-to-datacentre",
        _ROUTES,
        "a private subnet's default route goes to the data centre",
        PRIVATE_PATH_ROUTE,
        Set("destinationCidrBlock", "0.0.0.0/0"),
    ),
    _prod(
        "route-wider-than-datacentre",
        _ROUTES,
        "the route to the data centre widens to 10.0.0.0/8",
        PRIVATE_PATH_ROUTE,
        Set("destinationCidrBlock", "10.0.0.0/8"),
    ),
]

# On-prem machines as EKS Hybrid Nodes, and every role IAM Roles Anywhere vends (prod only).
RA_NODES_ROLE = where(ROLE, Contains("assumeRolePolicy", "sts:RoleSessionName"))
RA_WEIGHTS_ROLE = where(ROLE, Contains("assumeRolePolicy", "llm-weights-"))
HYBRID_CLUSTER = where(CLUSTER, Has("remoteNetworkConfig"))
REMOTE_NETWORK_RULE = where(INGRESS_RULE, Contains("description", ", hybrid nodes"))
_RA_TRUST = _policy("aws-iam-roles-anywhere-trust-scoped")
_REMOTE = _policy("aws-eks-remote-networks-in-datacentre")
_CAPACITY = _policy("kubernetes-scaler-fits-gpu-capacity")

HYBRID: list[Mutation] = [
    _prod(
        "roles-anywhere-any-anchor",
        _RA_TRUST,
        "the hybrid nodes role drops its trust anchor condition (any anchor of the account vends it)",
        RA_NODES_ROLE,
        doc("assumeRolePolicy", Delete("Statement[1].Condition.ArnEquals")),
    ),
    _prod(
        "roles-anywhere-anchor-pattern",
        _RA_TRUST,
        "the weights role trusts any trust anchor by pattern",
        RA_WEIGHTS_ROLE,
        doc("assumeRolePolicy", Set('Statement[0].Condition.ArnEquals["aws:SourceArn"]', "arn:aws:rolesanywhere:*")),
    ),
    _prod(
        "roles-anywhere-any-certificate",
        _RA_TRUST,
        "the weights role takes any certificate of the data centre's CA (no CN condition)",
        RA_WEIGHTS_ROLE,
        doc("assumeRolePolicy", Delete("Statement[0].Condition.StringEquals")),
    ),
    _prod(
        "roles-anywhere-cn-wildcard",
        _RA_TRUST,
        "the hybrid nodes role takes any CN ('*')",
        RA_NODES_ROLE,
        doc("assumeRolePolicy", Set('Statement[0].Condition.StringLike["aws:PrincipalTag/x509Subject/CN"]', "*")),
    ),
    _prod(
        "remote-node-network-outside-datacentre",
        _REMOTE,
        "the cluster expects hybrid nodes from a network outside the data centre's",
        HYBRID_CLUSTER,
        Set("remoteNetworkConfig.remoteNodeNetworks.cidrs", ["192.168.0.0/16"]),
    ),
    _prod(
        "remote-pod-network-public",
        _REMOTE,
        "the cluster's remote pod network is a public range",
        HYBRID_CLUSTER,
        Set("remoteNetworkConfig.remotePodNetworks.cidrs", ["100.0.0.0/16"]),
    ),
    _prod(
        "remote-network-all-ports",
        _REMOTE,
        "the cluster security group admits the hybrid nodes on every port",
        REMOTE_NETWORK_RULE,
        Set("ipProtocol", "-1"),
        Delete("fromPort"),
        Delete("toPort"),
    ),
    _prod(
        "hybrid-nodes-unpriced",
        _policy("cost-estimate-within-budget"),
        "the hybrid nodes' access entry loses the machine count the estimate prices",
        where("aws:eks/accessEntry:AccessEntry", Eq("type", "HYBRID_LINUX")),
        Delete('tags["llm-serving/hybrid-nodes"]'),
    ),
    _prod(
        "hybrid-scaler-beyond-target",
        _CAPACITY,
        "the hybrid nodes' model may scale to more replicas than the target's machines hold",
        where("kubernetes:keda.sh/v1alpha1:ScaledObject", Eq("spec.scaleTargetRef.name", "llama-3-8b-batch")),
        Set("spec.maxReplicaCount", 5),
    ),
]

# The data centre's ingress networks, admitted by name only (network-ingress-from-named-networks).
_NAMED = _policy("network-ingress-from-named-networks")
ENDPOINT_RULE = where(INGRESS_RULE, Contains("description", "in data centre"))
NAMED_NETWORK_POLICY = where(NETWORK_POLICY, Has('metadata.annotations["llm-serving/ingress-networks"]'))

NAMED_NETWORKS: list[Mutation] = [
    _prod(
        "endpoint-admits-whole-datacentre",
        _NAMED,
        "an interface endpoint's rule admits the data centre's whole /16 instead of a named network",
        ENDPOINT_RULE,
        Set("cidrIpv4", "10.100.0.0/16"),
    ),
    _prod(
        "endpoint-rule-unnamed",
        _NAMED,
        "an interface endpoint's rule no longer says which network it admits",
        ENDPOINT_RULE,
        Set("description", "HTTPS from the data centre"),
    ),
    _prod(
        "remote-network-rule-unnamed",
        _NAMED,
        "the cluster's rule for the hybrid nodes no longer names their network",
        REMOTE_NETWORK_RULE,
        Set("description", "Kubernetes API from the data centre"),
    ),
    _prod(
        "networkpolicy-admits-whole-datacentre",
        _NAMED,
        "an on-prem model server's NetworkPolicy admits the whole data centre instead of its ingress",
        NAMED_NETWORK_POLICY,
        Set("spec.ingress[0].from[0].ipBlock.cidr", "10.100.0.0/16"),
    ),
    _prod(
        "networkpolicy-annotation-dropped",
        _NAMED,
        "a NetworkPolicy admits the data centre's ingress without naming it",
        NAMED_NETWORK_POLICY,
        Delete('metadata.annotations["llm-serving/ingress-networks"]'),
    ),
    one(
        "networkpolicy-admits-unnamed-network",
        _NAMED,
        "a model server's NetworkPolicy also admits a /24 from outside the VPCs that nobody named",
        MODEL_NETWORK_POLICY,
        Append("spec.ingress[0].from", {"ipBlock": {"cidr": "192.168.10.0/24"}}),
    ),
]

# A tenant's limits are global (components/tenant_limits.py): the regions' plans share them.
_TENANT_LIMITS = _policy("aws-apigateway-tenant-limits-global")

TENANT_LIMITS: list[Mutation] = [
    _prod(
        "usage-plan-full-quota-in-each-region",
        _TENANT_LIMITS,
        "one region's plan for a tenant served in two regions gets the tenant's whole monthly quota",
        where(USAGE_PLAN, Contains("name", "-search")),
        Set("quotaSettings.limit", 20_000_000),
    ),
    one(
        "usage-plan-rate-above-the-tenant",
        _TENANT_LIMITS,
        "a tenant's usage plan allows more requests per second than the stack file gives the tenant",
        where(USAGE_PLAN),
        Set("throttleSettings.rateLimit", 1000),
    ),
    one(
        "stage-throttle-caps-tenants",
        _TENANT_LIMITS,
        "the stage's default throttle is set below what its usage plans allow together",
        where(METHOD_SETTINGS),
        Set("settings.throttlingRateLimit", 1),
    ),
    _prod(
        "latency-record-for-every-model",
        _policy("aws-route53-latency-records-serve-model"),
        "a hand-added latency record sends one name for every model to eu-west-1, which does not serve all of them",
        where(USAGE_PLAN, Contains("name", "eu-west-1")),
        AddClone(
            type="aws:route53/record:Record",
            inputs={
                "zoneId": "Z0123456789ABCDEFGHIJ",
                "name": "llm.example.com",
                "type": "A",
                "setIdentifier": "eu-west-1",
                "latencyRoutingPolicies": [{"region": "eu-west-1"}],
                "aliases": [
                    {
                        "name": "d-x.execute-api.eu-west-1.amazonaws.com",
                        "zoneId": "ZLY8HYME6SFDD",
                        "evaluateTargetHealth": True,
                    }
                ],
            },
            suffix="latency",
        ),
    ),
]

# Cost anomaly alerts (components/cost_anomaly.py): the monitor, its subscription and the encrypted topic.
ANOMALY_MONITOR = "aws:costexplorer/anomalyMonitor:AnomalyMonitor"
ANOMALY_SUBSCRIPTION = "aws:costexplorer/anomalySubscription:AnomalySubscription"
SNS_TOPIC = "aws:sns/topic:Topic"
ALERTS_TOPIC = where(SNS_TOPIC, Contains("name", "cost-alerts"))
ALERTS_KEY = where("aws:kms/key:Key", Contains("policy", "costalerts.amazonaws.com"))
_ANOMALY = _policy("cost-anomaly-alerts-configured")
_TOPIC_CMK = _policy("aws-sns-topic-encrypted-with-cmk")

COST_ANOMALY: list[Mutation] = [
    one(
        "anomaly-monitor-removed",
        _ANOMALY,
        "the Cost Anomaly Detection monitor is removed",
        where(ANOMALY_MONITOR),
        Remove(),
        missing="aws:costexplorer/anomalyMonitor:AnomalyMonitor",
    ),
    one(
        "anomaly-monitor-other-environment",
        _ANOMALY,
        "the monitor watches spend tagged with another environment",
        where(ANOMALY_MONITOR),
        Set("monitorSpecification", '{"Tags": {"Key": "user:environment", "Values": ["staging"]}}'),
    ),
    one(
        "anomaly-threshold-above-a-tenth-of-the-budget",
        _ANOMALY,
        "the subscription alerts only once an anomaly has cost a million dollars",
        where(ANOMALY_SUBSCRIPTION),
        Set("thresholdExpression.dimension.values", ["1000000"]),
    ),
    one(
        "anomaly-threshold-removed",
        _ANOMALY,
        "the subscription loses its threshold expression",
        where(ANOMALY_SUBSCRIPTION),
        Delete("thresholdExpression"),
    ),
    one(
        "anomaly-immediate-email",
        _ANOMALY,
        "the IMMEDIATE subscription sends to an email address (AWS accepts only SNS for IMMEDIATE)",
        where(ANOMALY_SUBSCRIPTION),
        Set("subscribers", [{"type": "EMAIL", "address": "oncall@example.com"}]),
    ),
    one(
        "anomaly-topic-policy-removed",
        _ANOMALY,
        "the topic policy that lets costalerts.amazonaws.com publish is removed",
        where("aws:sns/topicPolicy:TopicPolicy"),
        Remove(),
        names=(ALERTS_TOPIC,),
    ),
    one(
        "anomaly-key-policy-drops-cost-alerts",
        _ANOMALY,
        "the alerts key's policy no longer lets Cost Anomaly Detection encrypt",
        ALERTS_KEY,
        doc("policy", DropWhere("Statement", lambda s: s.get("Principal") == {"Service": "costalerts.amazonaws.com"})),
    ),
    one(
        "anomaly-topic-nobody-reads",
        _ANOMALY,
        "the only email subscription to the alerts topic is removed",
        where("aws:sns/topicSubscription:TopicSubscription"),
        Remove(),
        names=(ALERTS_TOPIC,),
        stacks=("dev",),
    ),
    one(
        "sns-topic-unencrypted",
        _TOPIC_CMK,
        "the alerts topic loses its kmsMasterKeyId",
        ALERTS_TOPIC,
        Delete("kmsMasterKeyId"),
    ),
    one(
        "sns-topic-aws-managed-key",
        _TOPIC_CMK,
        "the alerts topic encrypts with the AWS-managed alias/aws/sns key",
        ALERTS_TOPIC,
        Set("kmsMasterKeyId", "alias/aws/sns"),
    ),
]

# The deploy runner (components/deploy_runner.py) and its path to the secondary regions (deploy_path.py).
CODEBUILD_PROJECT = "aws:codebuild/project:Project"
RUNNER = where(CODEBUILD_PROJECT)
RUNNER_ROLE = where(ROLE, Contains("assumeRolePolicy", "codebuild.amazonaws.com"))
RUNNER_POLICY = where(ROLE_POLICY, Contains("policy", "ec2:CreateNetworkInterfacePermission"))
DEPLOY_PATH_RULE = where(INGRESS_RULE, Contains("description", "from the deploy runner's subnet"))

DEPLOY_RUNNER: list[Mutation] = [
    one(
        "codebuild-outside-vpc",
        _policy("aws-codebuild-project-in-vpc"),
        "the deploy runner's project loses its vpcConfig (builds on AWS's network)",
        RUNNER,
        Delete("vpcConfig"),
    ),
    one(
        "codebuild-no-security-group",
        _policy("aws-codebuild-project-in-vpc"),
        "the deploy runner's project names no security group",
        RUNNER,
        Set("vpcConfig.securityGroupIds", []),
    ),
    one(
        "codebuild-privileged",
        _policy("aws-codebuild-project-disallow-privileged-mode"),
        "the deploy runner's builds run privileged",
        RUNNER,
        Set("environment.privilegedMode", True),
    ),
    one(
        "codebuild-plaintext-token",
        _policy("aws-codebuild-project-no-plaintext-secrets"),
        "the deploy runner gets a Pulumi access token as a PLAINTEXT environment variable",
        RUNNER,
        Append("environment.environmentVariables", {"name": "PULUMI_ACCESS_TOKEN", "value": "pul-0123456789"}),
    ),
    one(
        "codebuild-plaintext-aws-key",
        _policy("aws-codebuild-project-no-plaintext-secrets"),
        "the deploy runner gets an AWS access key id under an innocent name",
        RUNNER,
        Append(
            "environment.environmentVariables", {"name": "KEY", "value": "AKIAIOSFODNN7EXAMPLE", "type": "PLAINTEXT"}
        ),
    ),
    one(
        "codebuild-logs-disabled",
        _policy("aws-codebuild-project-logs-encrypted"),
        "the deploy runner's CloudWatch logs are switched off",
        RUNNER,
        Set("logsConfig.cloudwatchLogs.status", "DISABLED"),
    ),
    one(
        "codebuild-logs-elsewhere",
        _policy("aws-codebuild-project-logs-encrypted"),
        "the deploy runner logs to a group the stack does not declare (CodeBuild would create it unencrypted)",
        RUNNER,
        Set("logsConfig.cloudwatchLogs.groupName", "/aws/codebuild/elsewhere"),
    ),
    one(
        "codebuild-s3-logs-unencrypted",
        _policy("aws-codebuild-project-logs-encrypted"),
        "the deploy runner also writes unencrypted S3 logs",
        RUNNER,
        Set("logsConfig.s3Logs", {"status": "ENABLED", "location": "logs-bucket/runner", "encryptionDisabled": True}),
    ),
    one(
        "runner-eni-permission-unconditioned",
        "iam-wildcard",
        "the runner's role may hand any network interface of the account to any service",
        RUNNER_POLICY,
        _iam(Delete("Statement[4].Condition")),
    ),
    one(
        "runner-eni-any-subnet",
        "iam-wildcard",
        "the runner's role may create network interfaces in any subnet",
        RUNNER_POLICY,
        _iam(Set("Statement[2].Resource", "arn:aws:ec2:us-east-1:*:network-interface/*")),
    ),
    one(
        "runner-any-connection",
        "iam-wildcard",
        "the runner's role may use every connection of the account",
        RUNNER_POLICY,
        _iam(Set("Statement[5].Resource", "*")),
    ),
    one(
        "runner-trust-foreign-account",
        _policy("aws-iam-role-trust-policy-restricted"),
        "the runner's role trusts CodeBuild building another account's project",
        RUNNER_ROLE,
        doc("assumeRolePolicy", Set('Statement[0].Condition.StringEquals["aws:SourceAccount"]', FOREIGN_ACCOUNT)),
    ),
    _prod(
        "deploy-path-api-from-internet",
        _policy("aws-ec2-security-group-no-public-ingress"),
        "the secondary cluster's deploy-path rule admits the Kubernetes API from anywhere",
        DEPLOY_PATH_RULE,
        Set("cidrIpv4", "0.0.0.0/0"),
    ),
]

CATALOGUE: list[Mutation] = (
    ISSUE_CLASSES
    + EXISTING_POLICIES
    + CONTROLLERS
    + POLICY_COVERAGE
    + ADMISSION_GUARDS
    + RESIDENCY
    + PRIVATE_PATH
    + HYBRID
    + NAMED_NETWORKS
    + TENANT_LIMITS
    + DEPLOY_RUNNER
    + COST_ANOMALY
)
