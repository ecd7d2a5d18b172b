"""Autoscaling on one cluster, built with a Kubernetes provider the test creates, under the plan mocks.

ScaledObject and TriggerAuthentication manifests validate against KEDA's CRD schemas made strict
(unknown fields rejected); HPAs pass `kubernetes-validate --strict`.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s
import pytest
import yaml
from crd_schemas import keda_validate
from pulumi.runtime import settings as pulumi_settings
from pulumi.runtime.stack import wait_for_rpcs
from pulumi.runtime.sync_await import _sync_await

from components import conventions
from components.autoscaling import Autoscaling, AutoscalingArgs, InClusterSignals, ModelAutoscaling, RegionWorkspace
from components.keda import CHART_VERSION as KEDA_CHART_VERSION
from components.keda import operator_policy, trigger_authentication
from components.metrics_collector import DCGM_EXPORTER_IMAGE, PROMETHEUS_IMAGE, scrape_config
from components.metrics_workspace import MetricsWorkspaceArgs, workspace_key_policy
from components.pod_identity import trust_policy
from components.prometheus_adapter import CHART_VERSION as ADAPTER_CHART_VERSION
from components.routes import resource_paths
from components.scaling import GatewaySignal, ModelScalerArgs, horizontal_pod_autoscaler, scaled_object
from llmstack.mock_ids import mock_identity
from llmstack.offline import PlanMocks, RecordedResource, RecordingMonitor

ACCOUNT = "123456789012"
CLUSTER_ARN = f"arn:aws:eks:us-east-1:{ACCOUNT}:cluster/llm-serving-prod"
WORKSPACE_ARN = f"arn:aws:aps:us-east-1:{ACCOUNT}:workspace/ws-0123"
QUERY_URL = "https://aps-workspaces.us-east-1.amazonaws.com/workspaces/ws-0123"
GATEWAY = GatewaySignal(api_name="llm-serving-prod", stage="v1")

# Kinds without a namespace (their metadata names none).
CLUSTER_SCOPED = (
    ":Namespace",
    ":CustomResourceDefinition",
    ":ClusterRole",
    ":ClusterRoleBinding",
    ":APIService",
    ":MutatingWebhookConfiguration",
    ":ValidatingWebhookConfiguration",
    ":ValidatingAdmissionPolicy",
    ":ValidatingAdmissionPolicyBinding",
)

MODELS = (
    ModelAutoscaling("llama-3-70b-instruct", "keda", 1, 4, 8.0, 0.8, 16),
    ModelAutoscaling("llama-3-8b-instruct", "hpa", 2, 8, 4.0, 0.8, 8),
    ModelAutoscaling("mistral-7b", "none", 2, 2, 4.0, 0.8, 8),
    ModelAutoscaling("phi-mini", "keda", 0, 2, 4.0, 0.8, 8, scale_to_zero=True),
)


def kubernetes_validate(body: dict[str, Any], tmp_path: Path) -> subprocess.CompletedProcess:
    manifest = tmp_path / f"{body['metadata']['name']}.yaml"
    manifest.write_text(yaml.safe_dump(body))
    tool = Path(sys.executable).with_name("kubernetes-validate")
    return subprocess.run(
        [str(tool), "--strict", "-k", "1.33.0", str(manifest)], capture_output=True, text=True, check=False
    )


def scaler_args(**overrides: Any) -> ModelScalerArgs:
    values: dict[str, Any] = dict(
        model="llama-3-70b-instruct",
        environment="prod",
        mode="keda",
        min_replicas=1,
        max_replicas=4,
        queue_size_threshold=8.0,
        max_batch_size=16,
        prometheus_url=QUERY_URL,
    )
    values.update(overrides)
    return ModelScalerArgs(**values)


def test_scaled_object_validates_against_the_strict_keda_schema():
    body = scaled_object(scaler_args(), QUERY_URL)
    keda_validate("ScaledObject", body)
    spec = body["spec"]
    assert spec["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "llama-3-70b-instruct"}
    assert (spec["minReplicaCount"], spec["maxReplicaCount"], spec["cooldownPeriod"]) == (1, 4, 600)
    queue, batch = spec["triggers"]
    assert queue["metadata"]["query"] == 'sum(tgi_queue_size{namespace="llm-prod",model="llama-3-70b-instruct"})'
    assert queue["metadata"]["threshold"] == "8"
    assert queue["metadata"]["serverAddress"] == QUERY_URL and queue["metadata"]["awsRegion"] == "us-east-1"
    assert batch["metadata"]["query"].endswith(") / 16") and batch["metadata"]["threshold"] == "0.8"
    assert {t["authenticationRef"]["name"] for t in spec["triggers"]} == {"keda-aws"}
    behavior = spec["advanced"]["horizontalPodAutoscalerConfig"]["behavior"]
    assert behavior["scaleUp"]["stabilizationWindowSeconds"] == 0
    assert behavior["scaleDown"]["stabilizationWindowSeconds"] == 600
    assert behavior["scaleDown"]["policies"] == [{"type": "Pods", "value": 1, "periodSeconds": 300}]


ROUTED = dataclasses.replace(GATEWAY, routes=resource_paths("llama", "tgi"))


def test_scale_to_zero_adds_a_request_count_trigger_per_route_of_the_model():
    body = scaled_object(scaler_args(min_replicas=0, gateway=ROUTED), QUERY_URL)
    keda_validate("ScaledObject", body)
    wakes = [t for t in body["spec"]["triggers"] if t["type"] == "aws-cloudwatch"]
    assert [t["name"] for t in wakes] == ["gateway-requests-0", "gateway-requests-1", "gateway-requests-2"]
    assert [t["metadata"]["dimensionValue"] for t in wakes] == [
        "llm-serving-prod;POST;/v1/models/llama/generate;v1",
        "llm-serving-prod;POST;/v1/models/llama/generate_stream;v1",
        "llm-serving-prod;POST;/v1/models/llama/chat/completions;v1",
    ]
    assert wakes[0]["metadata"] | {} == {
        "namespace": "AWS/ApiGateway",
        "metricName": "Count",
        "dimensionName": "ApiName;Method;Resource;Stage",
        "dimensionValue": "llm-serving-prod;POST;/v1/models/llama/generate;v1",
        "metricStat": "Sum",
        "metricStatPeriod": "60",
        "metricCollectionTime": "300",
        "targetMetricValue": "600",
        "activationTargetMetricValue": "0",
        "minMetricValue": "0",
        "awsRegion": "us-east-1",
    }


def test_a_gateway_signal_without_the_models_routes_is_refused():
    with pytest.raises(ValueError, match="gateway: needs the model's routes"):
        scaled_object(scaler_args(min_replicas=0, gateway=GATEWAY), QUERY_URL)
    with pytest.raises(ValueError, match="routes: must be the model's resource paths"):
        dataclasses.replace(GATEWAY, routes=("/v1/chat/completions",))


def test_the_strict_schema_rejects_unknown_fields_and_the_cel_rule_is_checked():
    body = scaled_object(scaler_args(), QUERY_URL)
    typo = copy.deepcopy(body)
    typo["spec"]["minReplicas"] = 1
    with pytest.raises(jsonschema.ValidationError, match="minReplicas"):
        keda_validate("ScaledObject", typo)
    inverted = copy.deepcopy(body)
    inverted["spec"]["minReplicaCount"] = 5
    with pytest.raises(AssertionError):
        keda_validate("ScaledObject", inverted)


def test_trigger_authentication_validates_and_uses_aws_pod_identity():
    body = trigger_authentication("llm-prod")
    keda_validate("TriggerAuthentication", body)
    assert body["spec"] == {"podIdentity": {"provider": "aws", "identityOwner": "keda"}}


def test_hpa_passes_kubernetes_validate_strict(tmp_path):
    body = horizontal_pod_autoscaler(scaler_args(model="llama-3-8b-instruct", mode="hpa", prometheus_url=None))
    result = kubernetes_validate(body, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    metric = body["spec"]["metrics"][0]
    assert metric == {
        "type": "Pods",
        "pods": {"metric": {"name": "tgi_queue_size"}, "target": {"type": "AverageValue", "averageValue": "8"}},
    }
    broken = copy.deepcopy(body)
    broken["spec"]["minReplica"] = 1
    assert kubernetes_validate(broken, tmp_path).returncode != 0


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"mode": "none"}, "mode: must be one of keda, hpa (got 'none'); mode none needs no scaler"),
        ({"min_replicas": 5}, "min_replicas: must be <= max_replicas (4) (got 5)"),
        ({"queue_size_threshold": 0}, "queue_size_threshold: must be > 0 (got 0)"),
        ({"batch_occupancy_threshold": 1.5}, "batch_occupancy_threshold: must be in (0, 1] (got 1.5)"),
        (
            {"min_replicas": 0},
            "min_replicas: 0 needs mode keda and a gateway signal (nothing inside a stopped pod wakes it)",
        ),
        ({"mode": "hpa", "gateway": GATEWAY, "prometheus_url": None}, "gateway: only used with mode keda"),
        ({"prometheus_url": None}, "prometheus_url: required with mode keda (MetricsWorkspace.query_url)"),
    ],
)
def test_scaler_args_are_validated(overrides, message):
    with pytest.raises(ValueError) as caught:
        scaler_args(**overrides)
    assert str(caught.value) == message


# --- IAM documents ----------------------------------------------------------------------------------


def test_pod_identity_trust_is_pinned_to_the_cluster_and_account():
    (statement,) = trust_policy(CLUSTER_ARN, "keda", "keda-operator")["Statement"]
    assert statement["Principal"] == {"Service": "pods.eks.amazonaws.com"}
    assert statement["Action"] == ["sts:AssumeRole", "sts:TagSession"]
    assert statement["Condition"] == {
        "StringEquals": {
            "aws:SourceAccount": ACCOUNT,
            "aws:RequestTag/kubernetes-namespace": "keda",
            "aws:RequestTag/kubernetes-service-account": "keda-operator",
        },
        "ArnEquals": {"aws:SourceArn": CLUSTER_ARN},
    }
    with pytest.raises(ValueError, match="cluster_arn: must be an EKS cluster ARN"):
        trust_policy("arn:aws:iam::123456789012:role/x", "keda", "keda-operator")
    with pytest.raises(ValueError, match="service_accounts: must be Kubernetes names"):
        trust_policy(CLUSTER_ARN, "keda", [])
    with pytest.raises(ValueError, match="namespace: must be Kubernetes names"):
        trust_policy(CLUSTER_ARN, "Keda!", "keda-operator")


def test_keda_may_only_query_the_workspace_and_reads_cloudwatch_only_for_scale_to_zero():
    assert operator_policy(WORKSPACE_ARN, "us-east-1", cloudwatch=False)["Statement"] == [
        {"Sid": "QueryTheRegionsWorkspace", "Effect": "Allow", "Action": "aps:QueryMetrics", "Resource": WORKSPACE_ARN}
    ]
    cloudwatch = operator_policy(WORKSPACE_ARN, "us-east-1", cloudwatch=True)["Statement"][1]
    assert cloudwatch["Action"] == "cloudwatch:GetMetricData"
    assert cloudwatch["Condition"] == {"StringEquals": {"aws:RequestedRegion": "us-east-1"}}


def test_workspace_key_is_usable_only_through_amp():
    document = workspace_key_policy(ACCOUNT, "eu-west-1")
    via = document["Statement"][1]
    assert via["Condition"]["StringEquals"] == {
        "kms:ViaService": "aps.eu-west-1.amazonaws.com",
        "kms:CallerAccount": ACCOUNT,
    }
    assert all(s["Principal"] != "*" for s in document["Statement"])


def test_scrape_config_keeps_model_servers_and_dcgm_and_writes_with_sigv4():
    config = scrape_config("llm-serving-prod", "llm-prod", f"{QUERY_URL}/api/v1/remote_write", "us-east-1")
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert jobs["model-servers"]["kubernetes_sd_configs"] == [{"role": "pod", "namespaces": {"names": ["llm-prod"]}}]
    keep = jobs["model-servers"]["relabel_configs"][0]
    assert keep["source_labels"] == ["__meta_kubernetes_pod_label_app_kubernetes_io_component"]
    assert keep["regex"] == "model-server" and keep["action"] == "keep"
    assert {"source_labels": ["__meta_kubernetes_pod_label_llm_serving_model"], "target_label": "model"} in jobs[
        "model-servers"
    ]["relabel_configs"]
    assert jobs["dcgm-exporter"]["kubernetes_sd_configs"][0]["namespaces"]["names"] == ["gpu-metrics"]
    assert config["remote_write"][0]["sigv4"] == {"region": "us-east-1"}
    assert config["global"]["external_labels"] == {"cluster": "llm-serving-prod", "__replica__": "${POD_NAME}"}


# --- the component tree under mocks -------------------------------------------------------------------


def build(models=MODELS, gateway: GatewaySignal | None = GATEWAY) -> list[RecordedResource]:
    pulumi_settings.reset_options()
    monitor = RecordingMonitor(PlanMocks())
    pulumi.runtime.set_mocks(monitor.mocks, project="llm-serving", stack="test", preview=False, monitor=monitor)
    aws_provider = aws.Provider("aws-us-east-1", region="us-east-1")
    provider = k8s.Provider("eks-test", kubeconfig="{}", enable_server_side_apply=True)
    deployments = {
        m.model: k8s.apps.v1.Deployment(
            f"{m.model}-server",
            metadata={"name": m.model, "namespace": "llm-prod"},
            spec={
                "selector": {"matchLabels": conventions.model_labels(m.model)},
                "template": {
                    "metadata": {"labels": conventions.model_labels(m.model)},
                    "spec": {
                        "containers": [{"name": "tgi", "image": "ghcr.io/huggingface/text-generation-inference:3.3.4"}]
                    },
                },
            },
            opts=pulumi.ResourceOptions(provider=provider),
        )
        for m in models
    }
    Autoscaling(
        "us-east-1-autoscaling",
        AutoscalingArgs(
            environment="prod",
            region="us-east-1",
            cluster_name="llm-serving-prod",
            signals=RegionWorkspace(
                cluster_arn=CLUSTER_ARN,
                workspace_arn=WORKSPACE_ARN,
                workspace_id="ws-0123",
                query_url=QUERY_URL,
                remote_write_url=f"{QUERY_URL}/api/v1/remote_write",
            ),
            models=models,
            deployments=deployments,
            gateway=gateway,
        ),
        opts=pulumi.ResourceOptions(providers={"aws": aws_provider, "kubernetes": provider}),
    )
    _sync_await(wait_for_rpcs())
    return monitor.recorded


@pytest.fixture(scope="module")
def tree() -> list[RecordedResource]:
    return build()


def of(tree, type_token):
    return [r for r in tree if r.type == type_token]


def test_one_scaler_per_scaled_model_and_none_for_mode_none(tree, tmp_path):
    scaled = of(tree, "kubernetes:keda.sh/v1alpha1:ScaledObject")
    hpas = of(tree, "kubernetes:autoscaling/v2:HorizontalPodAutoscaler")
    assert sorted(s.inputs["metadata"]["name"] for s in scaled) == ["llama-3-70b-instruct", "phi-mini"]
    assert [h.inputs["metadata"]["name"] for h in hpas] == ["llama-3-8b-instruct"]
    for body in scaled:
        keda_validate("ScaledObject", {k: v for k, v in body.inputs.items() if k != "id"})
    assert kubernetes_validate(hpas[0].inputs, tmp_path).returncode == 0
    (auth,) = [r for r in tree if r.type == "kubernetes:keda.sh/v1alpha1:TriggerAuthentication"]
    keda_validate("TriggerAuthentication", auth.inputs)


def test_scalers_depend_on_their_deployment(tree):
    urns = {r.name: r.urn for r in tree}
    scaler = next(r for r in tree if r.name == "us-east-1-autoscaling-llama-3-8b-instruct")
    assert urns["llama-3-8b-instruct-server"] in scaler.dependencies


def test_scalers_themselves_wait_for_their_deployment_and_metrics_api(tree):
    # A component's depends_on does not reach its children: the objects that need the CRDs, the
    # metrics API must carry those dependencies themselves.
    urns = {r.name: r.urn for r in tree}
    by_name = {r.name: r for r in tree}
    scaled_object = by_name["us-east-1-autoscaling-llama-3-70b-instruct-scaledobject"]
    keda = "us-east-1-autoscaling-keda"
    assert urns[f"{keda}-crds"] in scaled_object.dependencies  # the ConfigGroup of KEDA's CRDs
    assert urns[f"{keda}-deployment-keda-operator"] in scaled_object.dependencies
    assert urns[f"{keda}-apiservice-v1beta1.external.metrics.k8s.io"] in scaled_object.dependencies
    assert urns["llama-3-70b-instruct-server"] in scaled_object.dependencies
    hpa = by_name["us-east-1-autoscaling-llama-3-8b-instruct-hpa"]
    adapter = "us-east-1-autoscaling-prometheus-adapter"
    assert urns[f"{adapter}-deployment-prometheus-adapter"] in hpa.dependencies
    assert urns[f"{adapter}-apiservice-v1beta1.custom.metrics.k8s.io"] in hpa.dependencies
    assert urns["llama-3-8b-instruct-server"] in hpa.dependencies


def test_the_adapters_objects_wait_for_the_monitoring_namespace(tree):
    # They go into the collector's namespace without creating it.
    urns = {r.name: r.urn for r in tree}
    adapter = [
        r for r in tree if r.name.startswith("us-east-1-autoscaling-prometheus-adapter-") and "apiVersion" in r.inputs
    ]
    assert adapter and all(
        r.inputs["metadata"].get("namespace") in ("monitoring", "kube-system", None) for r in adapter
    )
    account = next(r for r in adapter if r.inputs["kind"] == "ServiceAccount")
    assert account.inputs["metadata"]["namespace"] == "monitoring"
    assert urns["us-east-1-autoscaling-metrics-monitoring-ns"] in account.dependencies


def kinds_and_names(tree, prefix: str) -> list[str]:
    return [
        f"{r.inputs['kind']}/{r.inputs['metadata']['name']}"
        for r in tree
        if r.name.startswith(prefix) and r.type.startswith("kubernetes:") and "kind" in r.inputs
    ]


def test_charts_are_pinned_and_their_objects_declared(tree):
    keda = {
        r.inputs["metadata"]["name"]: r.inputs
        for r in of(tree, "kubernetes:apps/v1:Deployment")
        if r.inputs["metadata"]["namespace"] == "keda"
    }
    assert sorted(keda) == ["keda-operator", "keda-operator-metrics-apiserver"]
    assert keda["keda-operator"]["metadata"]["labels"]["helm.sh/chart"] == f"keda-{KEDA_CHART_VERSION}"
    (adapter,) = [
        r.inputs
        for r in of(tree, "kubernetes:apps/v1:Deployment")
        if r.inputs["metadata"]["name"] == "prometheus-adapter"
    ]
    assert adapter["metadata"]["labels"]["helm.sh/chart"] == f"prometheus-adapter-{ADAPTER_CHART_VERSION}"
    (config,) = [
        r.inputs
        for r in of(tree, "kubernetes:core/v1:ConfigMap")
        if r.inputs["metadata"]["name"] == "prometheus-adapter"
    ]
    rules = yaml.safe_load(config["data"]["config.yaml"])
    # Only the custom rules: no default rules, no external or resource metrics.
    assert list(rules) == ["rules"] and rules["rules"][0]["name"]["as"] == "tgi_queue_size"
    proxy = adapter["spec"]["template"]["spec"]["containers"][1]
    assert proxy["name"] == "aws-sigv4-proxy" and "127.0.0.1:8005" in proxy["args"]
    assert (
        "--prometheus-url=http://127.0.0.1:8005/workspaces/"
        in adapter["spec"]["template"]["spec"]["containers"][0]["args"][3]
    )


def test_no_adapter_without_hpa_models():
    tree = build(models=(MODELS[0],), gateway=None)
    assert kinds_and_names(tree, "us-east-1-autoscaling-prometheus-adapter") == []
    assert "Deployment/keda-operator" in kinds_and_names(tree, "us-east-1-autoscaling-keda")
    (policy,) = [r for r in of(tree, "aws:iam/rolePolicy:RolePolicy") if "operator" in r.name]
    assert "cloudwatch" not in policy.inputs["policy"]


def test_the_adapter_serves_the_queue_of_each_engine_its_hpas_use():
    models = (MODELS[1], ModelAutoscaling("qwen-7b", "hpa", 1, 4, 4.0, 0.8, 8, engine="vllm"))
    tree = build(models=models, gateway=None)
    (config,) = [
        r.inputs
        for r in of(tree, "kubernetes:core/v1:ConfigMap")
        if r.inputs["metadata"]["name"] == "prometheus-adapter"
    ]
    served = [rule["name"]["as"] for rule in yaml.safe_load(config["data"]["config.yaml"])["rules"]]
    assert served == ["tgi_queue_size", "vllm_num_requests_waiting"]
    hpa_metric = {
        h.inputs["metadata"]["name"]: h.inputs["spec"]["metrics"][0]["pods"]["metric"]["name"]
        for h in of(tree, "kubernetes:autoscaling/v2:HorizontalPodAutoscaler")
    }
    assert hpa_metric == {"llama-3-8b-instruct": "tgi_queue_size", "qwen-7b": "vllm_num_requests_waiting"}


def test_a_vllm_keda_model_queries_vllm_metrics_and_needs_no_adapter():
    tree = build(models=(ModelAutoscaling("qwen-7b", "keda", 1, 4, 4.0, 0.8, 8, engine="vllm"),), gateway=None)
    assert kinds_and_names(tree, "us-east-1-autoscaling-prometheus-adapter") == []
    (scaled,) = of(tree, "kubernetes:keda.sh/v1alpha1:ScaledObject")
    queries = [t["metadata"]["query"] for t in scaled.inputs["spec"]["triggers"]]
    assert queries == [
        'sum(vllm:num_requests_waiting{namespace="llm-prod",model="qwen-7b"})',
        'sum(vllm:num_requests_running{namespace="llm-prod",model="qwen-7b"}) / 8',
    ]


def test_pod_identity_roles_are_least_privilege(tree):
    policies = {r.name: json.loads(r.inputs["policy"]) for r in of(tree, "aws:iam/rolePolicy:RolePolicy")}
    actions = {name: [s["Action"] for s in doc["Statement"]] for name, doc in policies.items()}
    assert actions["us-east-1-autoscaling-metrics-agent-identity-policy"] == ["aps:RemoteWrite"]
    assert actions["us-east-1-autoscaling-keda-operator-identity-policy"] == [
        "aps:QueryMetrics",
        "cloudwatch:GetMetricData",
    ]
    for doc in policies.values():
        for statement in doc["Statement"]:
            if statement["Action"] != "cloudwatch:GetMetricData":
                assert statement["Resource"] == WORKSPACE_ARN
    associations = {
        (a.inputs["namespace"], a.inputs["serviceAccount"])
        for a in of(tree, "aws:eks/podIdentityAssociation:PodIdentityAssociation")
    }
    assert associations == {
        ("monitoring", "prometheus-agent"),
        ("keda", "keda-operator"),
        ("monitoring", "prometheus-adapter"),
    }


def test_dcgm_exporter_runs_on_gpu_nodes_only_with_a_pinned_image(tree):
    (daemonset,) = of(tree, "kubernetes:apps/v1:DaemonSet")
    pod = daemonset.inputs["spec"]["template"]["spec"]
    assert pod["tolerations"] == [conventions.GPU_TOLERATION]
    terms = pod["affinity"]["nodeAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]["nodeSelectorTerms"]
    assert terms == [{"matchExpressions": [{"key": conventions.GPU_LABEL, "operator": "Exists"}]}]
    assert pod["containers"][0]["image"] == DCGM_EXPORTER_IMAGE
    assert pod["containers"][0]["ports"] == [{"name": "metrics", "containerPort": 9400}]


def test_images_are_pinned(tree):
    for resource in tree:
        pod = ((resource.inputs.get("spec") or {}).get("template") or {}).get("spec") or {}
        for container in pod.get("containers", []):
            image = container["image"]
            assert ":" in image.rsplit("/", 1)[-1] and not image.endswith(":latest"), image
    assert PROMETHEUS_IMAGE.endswith(":v3.5.0")


def test_every_kubernetes_object_has_a_name_and_namespace_and_uses_the_provider(tree):
    provider = next(r.urn for r in tree if r.type == "pulumi:providers:kubernetes")
    for resource in tree:
        if resource.type == "kubernetes:yaml/v2:ConfigGroup":  # KEDA's CRDs, as YAML text
            assert resource.provider == provider, resource.urn
        elif resource.type.startswith("kubernetes:"):
            metadata = resource.inputs["metadata"]
            assert metadata["name"], resource.urn
            if not resource.type.endswith(CLUSTER_SCOPED):
                assert metadata["namespace"], resource.urn
            assert resource.provider == provider, resource.urn


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"deployments": {}},
            "deployments: no Deployment for model 'llama-3-70b-instruct' (the scale target); got: none",
        ),
        ({"gateway": None}, "gateway: model 'phi-mini' scales to zero and needs the API Gateway signal"),
        (
            {"signals": InClusterSignals(), "models": MODELS[:1]},
            "gateway: the API Gateway signal needs KEDA's AWS identity (an EKS cluster)",
        ),
    ],
)
def test_autoscaling_args_are_validated(change, message):
    values: dict[str, Any] = dict(
        environment="prod",
        region="us-east-1",
        cluster_name="c",
        signals=RegionWorkspace(CLUSTER_ARN, WORKSPACE_ARN, "ws", QUERY_URL, QUERY_URL),
        models=MODELS,
        deployments={m.model: object() for m in MODELS},
        gateway=GATEWAY,
    )
    values.update(change)
    with pytest.raises(ValueError) as caught:
        AutoscalingArgs(**values)
    assert str(caught.value) == message


def test_metrics_workspace_args_are_validated():
    with pytest.raises(ValueError, match=r"log_retention_days: must be one of 1, 3, .* \(got 10\)"):
        MetricsWorkspaceArgs(
            environment="prod", region="us-east-1", account_id=ACCOUNT, logs_key_arn="k", log_retention_days=10
        )


def test_every_region_gets_a_kms_encrypted_logged_workspace(prod_run):
    workspaces = [r for r in prod_run.resources if r.type == "aws:amp/workspace:Workspace"]
    assert sorted(w.name for w in workspaces) == ["eu-west-1-metrics-workspace", "us-east-1-metrics-workspace"]
    keys = {r.name: r for r in prod_run.resources if r.type == "aws:kms/key:Key"}
    for workspace in workspaces:
        region = workspace.name.removesuffix("-metrics-workspace")
        assert workspace.protect
        key_arn = mock_identity("aws:kms/key:Key", f"{region}-metrics-key", region=region)[1]["arn"]
        assert workspace.inputs["kmsKeyArn"] == key_arn
        assert keys[f"{region}-metrics-key"].inputs["enableKeyRotation"] is True
        log_group_arn = workspace.inputs["loggingConfiguration"]["logGroupArn"]
        assert log_group_arn.endswith(":log-group:/aws/vendedlogs/prometheus/llm-serving-prod:*")
    (log_group,) = {r.inputs["kmsKeyId"] for r in prod_run.resources if r.name == "us-east-1-metrics-logs"}
    assert log_group == mock_identity("aws:kms/key:Key", "us-east-1-encryption-logs")[1]["arn"]
