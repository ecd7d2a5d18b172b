"""ModelServer and the regional serving wiring, under mocks, on a test Kubernetes provider."""

from __future__ import annotations

import math

import kubernetes_validate
import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s
import pytest
import yaml
from serving_harness import by_type, record

from components import engines
from components.catalog import instance_type
from components.conventions import GPU_TOLERATION, NVME_MODELS_PATH, model_labels
from components.regional import RegionalPlatform, RegionalPlatformArgs
from components.serving import (
    ModelServer,
    ModelServerArgs,
    Placement,
    PodIdentityCredentials,
    SecretCredentials,
    ServedModel,
    WeightsSource,
    resources_for,
)
from llmstack.manifests import manifest_files

KUBERNETES_VERSION = "1.33.0"  # the clusters' version (Pulumi.<stack>.yaml cluster.kubernetes_version)
SPEC = engines.ModelSpec(
    name="llama-3-8b-instruct",
    revision="5a1a8e0d2e0b61c4a04ee5e0d4f4bce1e5c1e2a9",
    parameters_billion=8.03,
    family="llama-3-8b",
    quantization="awq",
)
PLACEMENT = Placement(gpu="a10g", node_selector={"llm-serving/gpu": "a10g"}, tolerations=(GPU_TOLERATION,))


def served(**changes) -> ServedModel:
    values = {"model": SPEC, "placement": PLACEMENT, "cpu": 6, "memory_gib": 27, "replicas": 2}
    return ServedModel(**{**values, **changes})


def server_args(**changes) -> ModelServerArgs:
    values = {
        "environment": "prod",
        "served": served(),
        "namespace": "llm-prod",
        "weights": WeightsSource(bucket="weights-bucket", region="us-east-1", credentials=PodIdentityCredentials()),
        "gateway_peers": ({"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "gateway"}}},),
    }
    return ModelServerArgs(**{**values, **changes})


def build_server(args: ModelServerArgs):
    def build():
        provider = k8s.Provider("test-cluster", kubeconfig="{}")
        ModelServer("m", args, opts=pulumi.ResourceOptions(providers={"kubernetes": provider}))

    return record(build)


def deployment_of(resources):
    (deployment,) = by_type(resources, "kubernetes:apps/v1:Deployment")
    return deployment.inputs


def test_every_object_passes_strict_schema_validation():
    resources = build_server(server_args())
    files = manifest_files([r.to_json() for r in resources])
    kinds = sorted(yaml.safe_load(text)["kind"] for text in files.values())
    assert kinds == ["Deployment", "NetworkPolicy", "PodDisruptionBudget", "Service", "ServiceAccount"]
    for path, text in files.items():
        kubernetes_validate.validate(yaml.safe_load(text), KUBERNETES_VERSION, strict=True)
        assert "test-cluster" in path


def test_objects_use_the_given_provider_and_explicit_names():
    resources = build_server(server_args())
    for resource in resources:
        if resource.type.startswith("kubernetes:"):
            assert resource.provider and resource.provider.endswith("::test-cluster"), resource.urn
            assert resource.inputs["metadata"]["name"] == "llama-3-8b-instruct"
            assert resource.inputs["metadata"]["namespace"] == "llm-prod"


def test_pod_runs_restricted_with_gpu_shm_probes_and_placement():
    pod = deployment_of(build_server(server_args()))["spec"]["template"]["spec"]
    (main,) = pod["containers"]
    assert main["resources"]["requests"]["nvidia.com/gpu"] == main["resources"]["limits"]["nvidia.com/gpu"] == "1"
    assert main["startupProbe"]["failureThreshold"] * main["startupProbe"]["periodSeconds"] >= 180
    # TGI: /info for both (its /health answers 503 while the queue is full: TGI issue 3241).
    assert main["readinessProbe"]["httpGet"]["path"] == "/info"
    assert main["livenessProbe"]["httpGet"]["path"] == "/info"
    for container in [main, *pod["initContainers"]]:
        context = container["securityContext"]
        assert context["readOnlyRootFilesystem"] is True and context["allowPrivilegeEscalation"] is False
        assert context["capabilities"] == {"drop": ["ALL"]}
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert volumes["dshm"]["emptyDir"] == {"medium": "Memory", "sizeLimit": "16Gi"}
    assert volumes["weights"]["hostPath"]["path"] == NVME_MODELS_PATH
    assert pod["nodeSelector"] == {"llm-serving/gpu": "a10g"} and pod["tolerations"] == [GPU_TOLERATION]
    assert pod["terminationGracePeriodSeconds"] > engines.ENGINE_SPECS["tgi"].drain_seconds
    assert {c["topologyKey"] for c in pod["topologySpreadConstraints"]} >= {"topology.kubernetes.io/zone"}


def test_init_container_syncs_the_revision_and_verifies_checksums():
    pod = deployment_of(build_server(server_args()))["spec"]["template"]["spec"]
    (sync,) = pod["initContainers"]
    env = {e["name"]: e.get("value") for e in sync["env"]}
    assert env["WEIGHTS_BUCKET"] == "weights-bucket"
    assert env["WEIGHTS_PREFIX"] == f"models/{SPEC.name}/{SPEC.revision}/"
    assert env["WEIGHTS_DIR"] == f"/models/{SPEC.name}/{SPEC.revision}"
    script = sync["command"][-1]
    assert "aws s3 sync" in script and "sha256sum --check" in script and "SHA256SUMS" in script


def test_onprem_credentials_come_from_the_named_secret():
    args = server_args(
        weights=WeightsSource("b", "us-east-1", SecretCredentials("weights-reader"), host_path="/mnt/models")
    )
    pod = deployment_of(build_server(args))["spec"]["template"]["spec"]
    refs = {
        e["name"]: e["valueFrom"]["secretKeyRef"]["name"] for e in pod["initContainers"][0]["env"] if "valueFrom" in e
    }
    assert refs == {n: "weights-reader" for n in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")}
    assert pod["volumes"][0]["hostPath"]["path"] == "/mnt/models"
    assert "env" not in pod["containers"][0] or all("valueFrom" not in e for e in pod["containers"][0]["env"])


def test_network_policy_admits_only_the_named_peers():
    resources = build_server(server_args(metrics_peers=()))
    (policy,) = by_type(resources, "kubernetes:networking.k8s.io/v1:NetworkPolicy")
    rules = policy.inputs["spec"]["ingress"]
    assert [rule["ports"] for rule in rules] == [[{"protocol": "TCP", "port": 8080}]]
    assert policy.inputs["spec"]["podSelector"] == {"matchLabels": model_labels(SPEC.name)}


def test_deployment_carries_the_sizing_question():
    annotations = deployment_of(build_server(server_args()))["metadata"]["annotations"]
    assert annotations["llm-serving/gpu"] == "a10g"
    assert annotations["llm-serving/parameters-billion"] == "8.03"
    assert annotations["llm-serving/shards"] == "1"


def test_a_model_that_does_not_fit_is_rejected():
    big = engines.ModelSpec("big", "r", 70, "llama-3-70b")
    with pytest.raises(ValueError, match=r"^served.model: does not fit: llama-3-70b \(70B\) none on 1×a10g: needs"):
        server_args(served=served(model=big))


def test_memory_must_leave_room_for_shm():
    with pytest.raises(ValueError, match=r"^served.memory_gib: must be > shm_size_gib \(16\)"):
        server_args(served=served(memory_gib=16))


def test_resources_are_a_share_of_the_node():
    assert resources_for(instance_type("g5.2xlarge"), 1) == (6, 27)
    assert resources_for(instance_type("p5.48xlarge"), 4) == (81, 870)
    assert resources_for(None, 2) == (8, 64)


def test_regional_serving_binds_each_model_to_the_read_only_role():
    def build():
        # The platform serves its models on its own cluster, from __init__.
        aws_provider = aws.Provider("aws-us-east-1", region="us-east-1")
        RegionalPlatform(
            "us-east-1",
            RegionalPlatformArgs(
                environment="prod",
                region="us-east-1",
                primary=True,
                availability_zones=("us-east-1a", "us-east-1b"),
                vpc_cidr="10.20.0.0/16",
                nat_mode="one",
                cluster_name="llm-serving-prod",
                account_id="123456789012",
                weights_bucket_suffix="0f1e2d3c",
                models=(served(),),
            ),
            opts=pulumi.ResourceOptions(providers={"aws": aws_provider}),
        )

    resources = record(build)
    (association,) = by_type(resources, "aws:eks/podIdentityAssociation:PodIdentityAssociation")
    assert association.inputs["namespace"] == "llm-prod"
    assert association.inputs["serviceAccount"] == "llama-3-8b-instruct"
    assert association.inputs["clusterName"] == "llm-serving-prod"
    assert association.inputs["roleArn"].endswith(":role/us-east-1-weights-model-server")
    (namespace,) = by_type(resources, "kubernetes:core/v1:Namespace")
    assert namespace.inputs["metadata"]["labels"]["pod-security.kubernetes.io/audit"] == "restricted"
    env = deployment_of(resources)["spec"]["template"]["spec"]["initContainers"][0]["env"]
    assert {"name": "WEIGHTS_BUCKET", "value": "llm-serving-prod-weights-us-east-1-0f1e2d3c"} in env
    for text in manifest_files([r.to_json() for r in resources]).values():
        kubernetes_validate.validate(yaml.safe_load(text), KUBERNETES_VERSION, strict=True)
    assert not any("valueFrom" in e for e in env)  # Pod Identity: no credentials in the pod spec


def test_cold_start_is_the_wake_signal_the_weight_sync_and_the_load():
    from components import sizing
    from components.serving import (
        WAKE_SIGNAL_SECONDS,
        WEIGHT_SYNC_MIB_PER_SECOND,
        cold_start_seconds,
        rollout_deadline_seconds,
    )

    model = server_args().served.model
    weights_gib = sizing.size(model.sizing_request("a10g")).weights_gib
    expected = (
        WAKE_SIGNAL_SECONDS + weights_gib * 1024 / WEIGHT_SYNC_MIB_PER_SECOND + sizing.startup_seconds(weights_gib)
    )
    assert cold_start_seconds(model, "a10g") == math.ceil(expected)
    # Within what the rollout allows, and longer than the load alone.
    assert (
        sizing.startup_seconds(weights_gib)
        < cold_start_seconds(model, "a10g")
        < rollout_deadline_seconds(model, "a10g")
    )


def test_the_dev_gateway_tells_callers_to_wait_for_its_scaled_to_zero_model(dev_run):
    from conftest import of_type, stack_values

    from components.serving import cold_start_seconds
    from stacks.config import parse_platform_config
    from stacks.platform import model_spec

    config = parse_platform_config(stack_values("dev"))
    (model,) = [m for m in config.models if m.autoscaling.min_replicas == 0]
    gpu = next(g.gpu for r in config.regions for g in r.node_groups if g.name == model.node_group)
    responses = {r.inputs["responseType"]: r.inputs for r in of_type(dev_run, "aws:apigateway/response:Response")}
    for kind in ("INTEGRATION_FAILURE", "INTEGRATION_TIMEOUT"):
        header = responses[kind]["responseParameters"]["gatewayresponse.header.Retry-After"]
        assert header == f"'{cold_start_seconds(model_spec(model), gpu)}'"
    assert cold_start_seconds(model_spec(model), gpu) > 300  # minutes to wake, sync and load, not the 30 s default
