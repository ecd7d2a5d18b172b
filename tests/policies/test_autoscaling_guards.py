"""The autoscaling guard policies: a compliant plan, each way to break each one, and what they ignore."""

from __future__ import annotations

from typing import Any

from conftest import policy_resource, provider, resource_violations, stack_violations

from components import conventions
from policies.kubernetes.autoscaling import (
    keda_scale_to_zero_external_trigger,
    scaler_fits_gpu_capacity,
    scaler_keeps_minimum_replicas,
    scaler_min_within_max,
    scaler_single_owner,
    scaler_target_exists,
)

HPA = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler"
SO = "kubernetes:keda.sh/v1alpha1:ScaledObject"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
K8S = "pulumi:providers:kubernetes"


def hpa(name="llama", target="llama", min_replicas=2, max_replicas=8, namespace="llm-prod") -> dict[str, Any]:
    return {
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": target},
            "minReplicas": min_replicas,
            "maxReplicas": max_replicas,
        },
    }


def scaled_object(name="llama", target="llama", min_count=1, max_count=4, triggers=("prometheus",), **extra):
    spec = {"scaleTargetRef": {"name": target}, "triggers": [{"type": t, "metadata": {}} for t in triggers], **extra}
    if min_count is not None:
        spec["minReplicaCount"] = min_count
    if max_count is not None:
        spec["maxReplicaCount"] = max_count
    return {"metadata": {"name": name, "namespace": "llm-prod"}, "spec": spec}


def deployment(name="llama", gpus=4, node_group="h100", namespace="llm-prod") -> dict[str, Any]:
    container = {"name": "tgi", "image": "tgi", "resources": {"limits": {conventions.GPU_RESOURCE: str(gpus)}}}
    return {
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "template": {
                "spec": {"nodeSelector": {conventions.NODE_GROUP_LABEL: node_group}, "containers": [container]}
            }
        },
    }


class Cluster:
    """An EKS cluster, its node groups and the Kubernetes provider built from it, as policy resources."""

    def __init__(self, max_nodes=2, instance="p5.48xlarge", label="h100"):
        self.cluster = policy_resource("aws:eks/cluster:Cluster", "eks", {"name": "llm-serving-prod"})
        self.node_group = policy_resource(
            "aws:eks/nodeGroup:NodeGroup",
            "eks-h100",
            {
                "instanceTypes": [instance],
                "scalingConfig": {"minSize": 1, "desiredSize": 1, "maxSize": max_nodes},
                "labels": {conventions.NODE_GROUP_LABEL: label, conventions.GPU_LABEL: "h100"},
            },
            dependencies=[self.cluster],
        )
        self.provider_resource = policy_resource(K8S, "eks-k8s", {}, dependencies=[self.cluster])
        self.provider = provider(name="eks-k8s", region="", type_=K8S)

    def on(self, type_: str, name: str, props: dict[str, Any]):
        return policy_resource(type_, name, props, provider_resource=self.provider)

    def resources(self, *extra):
        return [self.cluster, self.node_group, self.provider_resource, *extra]


# --- kubernetes-scaler-single-owner --------------------------------------------------------------------


def test_one_scaler_per_workload_is_compliant():
    c = Cluster()
    resources = c.resources(c.on(HPA, "a", hpa()), c.on(SO, "b", scaled_object(name="other", target="other")))
    assert stack_violations(scaler_single_owner.policy, resources) == []


def test_hpa_and_scaled_object_on_one_deployment():
    c = Cluster()
    h, s = c.on(HPA, "a", hpa()), c.on(SO, "b", scaled_object())
    assert stack_violations(scaler_single_owner.policy, c.resources(h, s)) == [
        (
            "Deployment llm-prod/llama is the scale target of 2 scalers (HorizontalPodAutoscaler llm-prod/llama, "
            "ScaledObject llm-prod/llama); they would overwrite each other's replica count.",
            h.urn,
        )
    ]


def test_two_hpas_on_one_deployment():
    c = Cluster()
    resources = c.resources(c.on(HPA, "a", hpa(name="one")), c.on(HPA, "b", hpa(name="two")))
    ((message, _),) = stack_violations(scaler_single_owner.policy, resources)
    assert message.startswith("Deployment llm-prod/llama is the scale target of 2 scalers")


def test_same_name_on_different_clusters_is_not_a_conflict():
    c = Cluster()
    other = policy_resource(SO, "b", scaled_object(), provider_resource=provider(name="onprem-dc1", type_=K8S))
    assert stack_violations(scaler_single_owner.policy, c.resources(c.on(HPA, "a", hpa()), other)) == []


# --- kubernetes-scaler-min-within-max ------------------------------------------------------------------


def test_min_within_max_compliant():
    assert resource_violations(scaler_min_within_max.policy, HPA, hpa()) == []
    assert resource_violations(scaler_min_within_max.policy, SO, scaled_object(min_count=0, max_count=2)) == []


def test_hpa_min_above_max():
    assert resource_violations(scaler_min_within_max.policy, HPA, hpa(min_replicas=9)) == [
        "HorizontalPodAutoscaler llm-prod/llama: min replicas (9) exceed max replicas (8)."
    ]


def test_scaled_object_min_above_max():
    assert resource_violations(scaler_min_within_max.policy, SO, scaled_object(min_count=5, max_count=4)) == [
        "ScaledObject llm-prod/llama: min replicas (5) exceed max replicas (4)."
    ]


def test_scaled_object_min_above_keda_default_max():
    assert resource_violations(scaler_min_within_max.policy, SO, scaled_object(min_count=101, max_count=None)) == [
        "ScaledObject llm-prod/llama: min replicas (101) exceed max replicas (100)."
    ]


def test_max_below_one():
    assert resource_violations(scaler_min_within_max.policy, HPA, hpa(min_replicas=0, max_replicas=0)) == [
        "HorizontalPodAutoscaler llm-prod/llama: max replicas must be >= 1 (got 0)."
    ]


def test_min_within_max_ignores_other_types():
    assert resource_violations(scaler_min_within_max.policy, DEPLOYMENT, deployment()) == []


# --- kubernetes-scaler-keeps-minimum-replicas ------------------------------------------------------------

PROD = {"minReplicas": 1}
DEV = {"minReplicas": 0}


def test_replica_floor_compliant():
    assert resource_violations(scaler_keeps_minimum_replicas.policy, HPA, hpa(), config=PROD) == []
    assert resource_violations(scaler_keeps_minimum_replicas.policy, SO, scaled_object(), config=PROD) == []


def test_dev_may_scale_to_zero():
    props = scaled_object(min_count=0, triggers=("prometheus", "aws-cloudwatch"))
    assert resource_violations(scaler_keeps_minimum_replicas.policy, SO, props, config=DEV) == []


def test_prod_scaled_object_at_zero():
    props = scaled_object(min_count=0)
    assert resource_violations(scaler_keeps_minimum_replicas.policy, SO, props, config=PROD) == [
        "ScaledObject llm-prod/llama may scale to 0 replica(s) (min replicas); this stack keeps >= 1 per model "
        "per region."
    ]


def test_prod_scaled_object_without_min_uses_kedas_zero_default():
    props = scaled_object(min_count=None)
    (message,) = resource_violations(scaler_keeps_minimum_replicas.policy, SO, props, config=PROD)
    assert message.startswith("ScaledObject llm-prod/llama may scale to 0 replica(s) (min replicas)")


def test_prod_scaled_object_idle_at_zero():
    props = scaled_object(min_count=1, idleReplicaCount=0)
    assert resource_violations(scaler_keeps_minimum_replicas.policy, SO, props, config=PROD) == [
        "ScaledObject llm-prod/llama may scale to 0 replica(s) (idleReplicaCount); this stack keeps >= 1 per model "
        "per region."
    ]


def test_floor_above_hpa_min():
    props = hpa(min_replicas=1)
    assert resource_violations(scaler_keeps_minimum_replicas.policy, HPA, props, config={"minReplicas": 2}) == [
        "HorizontalPodAutoscaler llm-prod/llama may scale to 1 replica(s) (min replicas); this stack keeps >= 2 per "
        "model per region."
    ]


def test_replica_floor_ignores_other_types():
    assert resource_violations(scaler_keeps_minimum_replicas.policy, DEPLOYMENT, deployment(), config=PROD) == []


# --- kubernetes-scaler-target-exists ---------------------------------------------------------------------


def test_target_declared_on_the_same_cluster():
    c = Cluster()
    resources = c.resources(c.on(DEPLOYMENT, "d", deployment()), c.on(SO, "s", scaled_object()))
    assert stack_violations(scaler_target_exists.policy, resources) == []


def test_target_missing():
    c = Cluster()
    s = c.on(SO, "s", scaled_object(target="llama-typo"))
    assert stack_violations(scaler_target_exists.policy, c.resources(c.on(DEPLOYMENT, "d", deployment()), s)) == [
        (
            "ScaledObject llm-prod/llama targets Deployment llm-prod/llama-typo, which this stack does not declare on "
            "the same cluster.",
            s.urn,
        )
    ]


def test_target_in_another_namespace():
    c = Cluster()
    h = c.on(HPA, "h", hpa())
    resources = c.resources(c.on(DEPLOYMENT, "d", deployment(namespace="llm-dev")), h)
    ((message, _),) = stack_violations(scaler_target_exists.policy, resources)
    assert "targets Deployment llm-prod/llama, which this stack does not declare" in message


def test_target_on_another_cluster():
    c = Cluster()
    elsewhere = policy_resource(DEPLOYMENT, "d", deployment(), provider_resource=provider(name="onprem-dc1", type_=K8S))
    ((message, _),) = stack_violations(scaler_target_exists.policy, c.resources(elsewhere, c.on(HPA, "h", hpa())))
    assert message.startswith("HorizontalPodAutoscaler llm-prod/llama targets Deployment llm-prod/llama")


def test_target_of_other_kind():
    c = Cluster()
    props = hpa()
    props["spec"]["scaleTargetRef"]["kind"] = "StatefulSet"
    resources = c.resources(c.on(DEPLOYMENT, "d", deployment()), c.on(HPA, "h", props))
    ((message, _),) = stack_violations(scaler_target_exists.policy, resources)
    assert "targets StatefulSet llm-prod/llama" in message


def test_no_scalers_nothing_to_check():
    c = Cluster()
    assert stack_violations(scaler_target_exists.policy, c.resources(c.on(DEPLOYMENT, "d", deployment()))) == []


# --- kubernetes-scaler-fits-gpu-capacity -------------------------------------------------------------------


def test_scalers_fit_the_node_group():
    c = Cluster(max_nodes=2)  # 2 x p5.48xlarge = 16 H100
    resources = c.resources(c.on(DEPLOYMENT, "d", deployment(gpus=4)), c.on(SO, "s", scaled_object(max_count=4)))
    assert stack_violations(scaler_fits_gpu_capacity.policy, resources) == []


def test_one_scaler_beyond_capacity():
    c = Cluster(max_nodes=2)
    s = c.on(SO, "s", scaled_object(max_count=5))
    resources = c.resources(c.on(DEPLOYMENT, "d", deployment(gpus=4)), s)
    assert stack_violations(scaler_fits_gpu_capacity.policy, resources) == [
        (
            "node group 'h100' of cluster 'eks' has 16 GPUs at max size (2 node(s)); its scalers may ask for 20 "
            "(ScaledObject llm-prod/llama 5 x 4): the rest would stay Pending.",
            s.urn,
        )
    ]


def test_models_sharing_a_node_group_add_up():
    c = Cluster(max_nodes=2)
    resources = c.resources(
        c.on(DEPLOYMENT, "d1", deployment(name="big", gpus=4)),
        c.on(SO, "s1", scaled_object(name="big", target="big", max_count=3)),
        c.on(DEPLOYMENT, "d2", deployment(name="small", gpus=1)),
        c.on(HPA, "h2", hpa(name="small", target="small", max_replicas=5)),
    )
    ((message, _),) = stack_violations(scaler_fits_gpu_capacity.policy, resources)
    assert "may ask for 17 (HorizontalPodAutoscaler llm-prod/small 5 x 1, ScaledObject llm-prod/big 3 x 4)" in message


def test_no_node_group_with_the_label_has_no_capacity():
    c = Cluster(label="a10g")
    scaler = c.on(HPA, "h", hpa(max_replicas=1, min_replicas=1))
    resources = c.resources(c.on(DEPLOYMENT, "d", deployment(gpus=1)), scaler)
    ((message, _),) = stack_violations(scaler_fits_gpu_capacity.policy, resources)
    assert message.startswith("node group 'h100' of cluster 'eks' has 0 GPUs at max size (0 node(s))")


def test_capacity_not_applicable_without_gpus():
    c = Cluster(max_nodes=1)
    resources = c.resources(
        c.on(DEPLOYMENT, "cpu", deployment(name="cpu", gpus=0)),
        c.on(HPA, "h", hpa(name="cpu", target="cpu", max_replicas=50)),
    )
    assert stack_violations(scaler_fits_gpu_capacity.policy, resources) == []


def hybrid_deployment(target="dc1-rack2", gpus=2) -> dict[str, Any]:
    """A model server pinned to an eks-hybrid-nodes target's machines (no node group label)."""
    workload = deployment(gpus=gpus)
    workload["spec"]["template"]["spec"]["nodeSelector"] = {
        conventions.COMPUTE_TYPE_LABEL: conventions.HYBRID_COMPUTE_TYPE,
        conventions.ONPREM_TARGET_LABEL: target,
    }
    return workload


def test_on_prem_scalers_fit_the_targets_gpus():
    c = Cluster(max_nodes=1)
    onprem = provider(name="onprem-dc1", type_=K8S)
    resources = c.resources(
        policy_resource(DEPLOYMENT, "d", deployment(gpus=4), provider_resource=onprem),
        policy_resource(SO, "s", scaled_object(max_count=4), provider_resource=onprem),
        c.on(DEPLOYMENT, "hd", hybrid_deployment(gpus=2)),
        c.on(SO, "hs", scaled_object(max_count=4)),
    )
    config = {"targetGpus": {"dc1": 16, "dc1-rack2": 8}}
    assert stack_violations(scaler_fits_gpu_capacity.policy, resources, config) == []


def test_an_on_prem_cluster_beyond_its_gpus():
    c = Cluster(max_nodes=1)
    onprem = provider(name="onprem-dc1", type_=K8S)
    scaler = policy_resource(SO, "s", scaled_object(max_count=5), provider_resource=onprem)
    resources = c.resources(policy_resource(DEPLOYMENT, "d", deployment(gpus=4), provider_resource=onprem), scaler)
    assert stack_violations(scaler_fits_gpu_capacity.policy, resources, {"targetGpus": {"dc1": 16}}) == [
        (
            "on-prem target 'dc1' has 16 GPUs (nodes x gpus_per_node); its scalers may ask for 20 "
            "(ScaledObject llm-prod/llama 5 x 4): the rest would stay Pending.",
            scaler.urn,
        )
    ]


def test_hybrid_nodes_count_against_their_target_not_the_node_group():
    c = Cluster(max_nodes=4)  # 32 H100 in the node group: plenty, and not where the pods go
    scaler = c.on(SO, "hs", scaled_object(max_count=5))
    resources = c.resources(c.on(DEPLOYMENT, "hd", hybrid_deployment(gpus=2)), scaler)
    assert stack_violations(scaler_fits_gpu_capacity.policy, resources, {"targetGpus": {"dc1-rack2": 8}}) == [
        (
            "on-prem target 'dc1-rack2' has 8 GPUs (nodes x gpus_per_node); its scalers may ask for 10 "
            "(ScaledObject llm-prod/llama 5 x 2): the rest would stay Pending.",
            scaler.urn,
        )
    ]


def test_a_target_without_a_gpu_count_is_not_assumed_to_fit():
    c = Cluster()
    scaler = c.on(SO, "hs", scaled_object(max_count=1))
    resources = c.resources(c.on(DEPLOYMENT, "hd", hybrid_deployment(gpus=2)), scaler)
    assert stack_violations(scaler_fits_gpu_capacity.policy, resources) == [
        (
            "on-prem target 'dc1-rack2' has no GPU count in the policy config (targetGpus); its scalers may ask "
            "for 2 (ScaledObject llm-prod/llama 1 x 2).",
            scaler.urn,
        )
    ]


# --- kubernetes-keda-scale-to-zero-needs-external-trigger ----------------------------------------------------


def test_scale_to_zero_with_an_outside_signal():
    props = scaled_object(min_count=0, triggers=("prometheus", "prometheus", "aws-cloudwatch"))
    assert resource_violations(keda_scale_to_zero_external_trigger.policy, SO, props) == []


def test_scale_to_zero_on_pod_metrics_only():
    props = scaled_object(min_count=0, triggers=("prometheus", "prometheus"))
    assert resource_violations(keda_scale_to_zero_external_trigger.policy, SO, props) == [
        "ScaledObject llm-prod/llama scales to zero but only has triggers fed by its own pods (prometheus); "
        "nothing would scale it back up."
    ]


def test_idle_at_zero_on_pod_metrics_only():
    props = scaled_object(min_count=1, triggers=("cpu",), idleReplicaCount=0)
    (message,) = resource_violations(keda_scale_to_zero_external_trigger.policy, SO, props)
    assert "only has triggers fed by its own pods (cpu)" in message


def _gateway_trigger(dimensions: str, values: str) -> dict[str, Any]:
    metadata = {"namespace": "AWS/ApiGateway", "metricName": "Count", "dimensionName": dimensions}
    return {"type": "aws-cloudwatch", "name": "gateway-requests-0", "metadata": {**metadata, "dimensionValue": values}}


def test_scale_to_zero_on_the_models_own_route():
    props = scaled_object(min_count=0, triggers=("prometheus",))
    route = "llm-serving-prod-us-east-1;POST;/v1/models/llama/generate;v1"
    props["spec"]["triggers"].append(_gateway_trigger("ApiName;Method;Resource;Stage", route))
    assert resource_violations(keda_scale_to_zero_external_trigger.policy, SO, props) == []


def test_scale_to_zero_on_the_whole_stage():
    props = scaled_object(min_count=0, triggers=("prometheus",))
    props["spec"]["triggers"].append(_gateway_trigger("ApiName;Stage", "llm-serving-prod-us-east-1;v1"))
    assert resource_violations(keda_scale_to_zero_external_trigger.policy, SO, props) == [
        "ScaledObject llm-prod/llama trigger 'gateway-requests-0' counts the whole API stage's requests "
        "(ApiName;Stage): every model's traffic would wake this model's GPUs; count its own route "
        "(ApiName;Method;Resource;Stage)."
    ]


def test_scale_to_zero_rule_not_applicable():
    assert resource_violations(keda_scale_to_zero_external_trigger.policy, SO, scaled_object(min_count=1)) == []
    assert resource_violations(keda_scale_to_zero_external_trigger.policy, HPA, hpa(min_replicas=0)) == []


# --- ways to break them that the cases above do not reach ------------------------------------------------


def test_scale_to_zero_without_any_trigger():
    props = scaled_object(min_count=0, triggers=())
    assert resource_violations(keda_scale_to_zero_external_trigger.policy, SO, props) == [
        "ScaledObject llm-prod/llama scales to zero but only has triggers fed by its own pods (none); "
        "nothing would scale it back up."
    ]


def test_scale_to_zero_lists_each_in_pod_trigger_kind_once_sorted():
    props = scaled_object(min_count=None, triggers=("memory", "cpu", "memory"))
    assert resource_violations(keda_scale_to_zero_external_trigger.policy, SO, props) == [
        "ScaledObject llm-prod/llama scales to zero but only has triggers fed by its own pods (cpu, memory); "
        "nothing would scale it back up."
    ]


def test_hpa_target_without_a_kind():
    c = Cluster()
    props = hpa()
    del props["spec"]["scaleTargetRef"]["kind"]
    h = c.on(HPA, "h", props)
    assert stack_violations(scaler_target_exists.policy, c.resources(c.on(DEPLOYMENT, "d", deployment()), h)) == [
        (
            "HorizontalPodAutoscaler llm-prod/llama targets an unnamed kind llm-prod/llama, which this stack does not "
            "declare on the same cluster.",
            h.urn,
        )
    ]


def test_autoscaling_v1_hpa_is_a_scaler_too():
    props = hpa(min_replicas=3, max_replicas=2)
    v1 = "kubernetes:autoscaling/v1:HorizontalPodAutoscaler"
    assert resource_violations(scaler_min_within_max.policy, v1, props) == [
        "HorizontalPodAutoscaler llm-prod/llama: min replicas (3) exceed max replicas (2)."
    ]


def test_hpa_without_max_replicas():
    props = hpa(min_replicas=1)
    del props["spec"]["maxReplicas"]
    assert resource_violations(scaler_min_within_max.policy, HPA, props) == [
        "HorizontalPodAutoscaler llm-prod/llama: max replicas must be >= 1 (got 0)."
    ]


def pinned_by_affinity(gpus=4, node_group="h100") -> dict[str, Any]:
    props = deployment(gpus=gpus)
    pod = props["spec"]["template"]["spec"]
    del pod["nodeSelector"]
    expression = {"key": conventions.NODE_GROUP_LABEL, "operator": "In", "values": [node_group]}
    required = {"nodeSelectorTerms": [{"matchExpressions": [expression]}]}
    pod["affinity"] = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": required}}
    return props


def test_workload_pinned_by_node_affinity_counts_against_its_node_group():
    c = Cluster(max_nodes=1)
    s = c.on(SO, "s", scaled_object(max_count=3))
    resources = c.resources(c.on(DEPLOYMENT, "d", pinned_by_affinity(gpus=4)), s)
    assert stack_violations(scaler_fits_gpu_capacity.policy, resources) == [
        (
            "node group 'h100' of cluster 'eks' has 8 GPUs at max size (1 node(s)); its scalers may ask for 12 "
            "(ScaledObject llm-prod/llama 3 x 4): the rest would stay Pending.",
            s.urn,
        )
    ]


def test_node_group_of_an_unknown_instance_type_has_no_gpus():
    c = Cluster(max_nodes=4, instance="x9.unknown")
    s = c.on(SO, "s", scaled_object(max_count=1))
    resources = c.resources(c.on(DEPLOYMENT, "d", deployment(gpus=1)), s)
    assert stack_violations(scaler_fits_gpu_capacity.policy, resources) == [
        (
            "node group 'h100' of cluster 'eks' has 0 GPUs at max size (4 node(s)); its scalers may ask for 1 "
            "(ScaledObject llm-prod/llama 1 x 1): the rest would stay Pending.",
            s.urn,
        )
    ]
