"""ClusterAutoscaler under mocks: IAM scoping, discovery args, pinned image, strict manifests."""

from __future__ import annotations

import json

import kubernetes_validate
import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s
import pytest
import yaml
from serving_harness import by_type, record

from components import cluster_autoscaler
from components.cluster_autoscaler import ClusterAutoscaler, ClusterAutoscalerArgs, iam_policy
from components.conventions import GPU_LABEL
from components.gpu_nodes import autoscaler_tags
from llmstack.manifests import manifest_files
from policies.kubernetes.image_pinned_allowed_registry import EXACT_TAG

CLUSTER = "llm-serving-prod"
CLUSTER_ARN = f"arn:aws:eks:us-east-1:123456789012:cluster/{CLUSTER}"


def args(**changes) -> ClusterAutoscalerArgs:
    values = {
        "environment": "prod",
        "region": "us-east-1",
        "cluster_name": CLUSTER,
        "cluster_arn": CLUSTER_ARN,
        "kubernetes_version": "1.33",
    }
    return ClusterAutoscalerArgs(**{**values, **changes})


def build(autoscaler_args: ClusterAutoscalerArgs):
    def program():
        providers = {
            "aws": aws.Provider("aws-us-east-1", region="us-east-1"),
            "kubernetes": k8s.Provider("test-cluster", kubeconfig="{}"),
        }
        ClusterAutoscaler("ca", autoscaler_args, opts=pulumi.ResourceOptions(providers=providers))

    return record(program)


def container(resources):
    (deployment,) = by_type(resources, "kubernetes:apps/v1:Deployment")
    (only,) = deployment.inputs["spec"]["template"]["spec"]["containers"]
    return only


def statement(policy, sid):
    (found,) = [s for s in policy["Statement"] if s["Sid"] == sid]
    return found


def test_scaling_is_allowed_only_on_groups_this_cluster_owns():
    scale = statement(iam_policy(CLUSTER_ARN), "ScaleOnlyThisClustersGroups")
    assert sorted(scale["Action"]) == [
        "autoscaling:SetDesiredCapacity",
        "autoscaling:TerminateInstanceInAutoScalingGroup",
    ]
    assert scale["Condition"] == {"StringEquals": {f"aws:ResourceTag/k8s.io/cluster-autoscaler/{CLUSTER}": "owned"}}
    # The tag the condition reads is the one every GpuNodeGroup puts on its Auto Scaling group.
    assert autoscaler_tags(CLUSTER, "h100", "h100", "p5.48xlarge")[f"k8s.io/cluster-autoscaler/{CLUSTER}"] == "owned"


def test_only_read_actions_are_unscoped():
    policy = iam_policy(CLUSTER_ARN)
    for found in policy["Statement"]:
        actions = found["Action"] if isinstance(found["Action"], list) else [found["Action"]]
        if found["Resource"] == "*" and "Condition" not in found:
            assert all(a.split(":")[1].startswith(("Describe", "Get")) for a in actions), actions
    node_groups = statement(policy, "ReadThisClustersNodeGroups")
    assert node_groups["Action"] == "eks:DescribeNodegroup"
    assert node_groups["Resource"] == f"arn:aws:eks:us-east-1:123456789012:nodegroup/{CLUSTER}/*/*"


def test_role_is_bound_by_pod_identity_to_the_service_account():
    resources = build(args())
    (association,) = by_type(resources, "aws:eks/podIdentityAssociation:PodIdentityAssociation")
    assert association.inputs["namespace"] == "kube-system"
    assert association.inputs["serviceAccount"] == "cluster-autoscaler"
    assert association.inputs["clusterName"] == CLUSTER
    (role,) = by_type(resources, "aws:iam/role:Role")
    trust = json.loads(role.inputs["assumeRolePolicy"])
    (trusted,) = trust["Statement"]
    assert trusted["Principal"] == {"Service": "pods.eks.amazonaws.com"}
    assert trusted["Action"] == ["sts:AssumeRole", "sts:TagSession"]
    assert trusted["Condition"]["ArnEquals"] == {"aws:SourceArn": CLUSTER_ARN}
    # The association and the trust name the same service account: another one cannot take the role.
    assert trusted["Condition"]["StringEquals"]["aws:RequestTag/kubernetes-namespace"] == "kube-system"
    assert trusted["Condition"]["StringEquals"]["aws:RequestTag/kubernetes-service-account"] == "cluster-autoscaler"
    (inline,) = by_type(resources, "aws:iam/rolePolicy:RolePolicy")
    assert json.loads(inline.inputs["policy"]) == iam_policy(CLUSTER_ARN)


def test_discovery_args_name_this_cluster():
    args_ = container(build(args()))["args"]
    assert (
        f"--node-group-auto-discovery=asg:tag=k8s.io/cluster-autoscaler/enabled,k8s.io/cluster-autoscaler/{CLUSTER}"
        in args_
    )
    for flag in (
        "--cloud-provider=aws",
        "--balance-similar-node-groups",
        "--skip-nodes-with-system-pods=false",
        "--skip-nodes-with-local-storage=false",
        "--expander=least-waste",
        "--scale-down-unneeded-time=10m",
    ):
        assert flag in args_


@pytest.mark.parametrize("version", sorted(cluster_autoscaler.IMAGES))
def test_image_is_pinned_to_the_matching_minor_release(version):
    image = container(build(args(kubernetes_version=version)))["image"]
    repository, tag = image.rsplit(":", 1)
    assert repository == "registry.k8s.io/autoscaling/cluster-autoscaler"
    assert EXACT_TAG.fullmatch(tag)
    assert tag.startswith(f"v{version}.")


def test_unknown_kubernetes_version_is_refused():
    with pytest.raises(
        ValueError, match=r"kubernetes_version: no Cluster Autoscaler release pinned for '1.30'; allowed"
    ):
        args(kubernetes_version="1.30")


def test_every_object_passes_strict_schema_validation():
    files = manifest_files([r.to_json() for r in build(args())])
    kinds = []
    for text in files.values():
        manifest = yaml.safe_load(text)
        kubernetes_validate.validate(manifest, "1.33.0", strict=True)
        kinds.append(manifest["kind"])
        assert manifest["metadata"]["name"] == "cluster-autoscaler"
        if manifest["kind"] not in ("ClusterRole", "ClusterRoleBinding"):
            assert manifest["metadata"]["namespace"] == "kube-system"
    assert sorted(kinds) == ["ClusterRole", "ClusterRoleBinding", "Deployment", "Role", "RoleBinding", "ServiceAccount"]


def test_pod_is_hardened_and_stays_off_gpu_nodes():
    resources = build(args(node_selector={"llm-serving/node-group": "system"}))
    (deployment,) = by_type(resources, "kubernetes:apps/v1:Deployment")
    spec = deployment.inputs["spec"]["template"]["spec"]
    assert spec["securityContext"]["runAsNonRoot"] is True
    assert spec["securityContext"]["runAsUser"] != 0
    assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    context = spec["containers"][0]["securityContext"]
    assert context["allowPrivilegeEscalation"] is False
    assert context["readOnlyRootFilesystem"] is True
    assert context["capabilities"] == {"drop": ["ALL"]}
    assert spec["priorityClassName"] == "system-cluster-critical"
    terms = spec["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
    assert terms == [{"matchExpressions": [{"key": GPU_LABEL, "operator": "DoesNotExist"}]}]
    assert spec["nodeSelector"] == {"llm-serving/node-group": "system"}
    assert "tolerations" not in spec
    assert spec["containers"][0]["env"] == [{"name": "AWS_REGION", "value": "us-east-1"}]


def test_deployment_waits_for_its_identity_and_rbac():
    resources = build(args())
    (deployment,) = by_type(resources, "kubernetes:apps/v1:Deployment")
    urns = {r.type: r.urn for r in resources}
    for type_token in (
        "aws:eks/podIdentityAssociation:PodIdentityAssociation",  # a component dependency means its children
        "kubernetes:core/v1:ServiceAccount",
        "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding",
        "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding",
    ):
        assert urns[type_token] in deployment.dependencies, type_token


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"cluster_name": "bad name"}, "cluster_name: must be an EKS cluster name"),
        ({"region": "useast1"}, "region: must be an AWS region name"),
        ({"node_selector": {GPU_LABEL: "h100"}}, "node_selector: must not select GPU nodes"),
    ],
)
def test_bad_args_name_the_field(changes, message):
    with pytest.raises(ValueError, match=message):
        args(**changes)


def test_bad_cluster_arn_is_refused():
    with pytest.raises(ValueError, match="cluster_arn: must be an EKS cluster ARN"):
        iam_policy("arn:aws:iam::123456789012:role/x")
