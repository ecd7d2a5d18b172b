"""Kubernetes workload policies, with the Deployment ModelServer renders as the compliant baseline."""

import copy

from conftest import policy_resource, resource_violations, stack_violations

from components import engines
from components.conventions import GPU_TOLERATION, model_labels
from components.serving import (
    ModelServer,
    ModelServerArgs,
    Placement,
    PodIdentityCredentials,
    ServedModel,
    WeightsSource,
    sizing_annotations,
)
from policies.kubernetes import (
    container_security_context,
    gpu_requests_equal_limits,
    image_pinned_allowed_registry,
    model_fits_gpus,
    model_server_has_pdb,
    model_server_probes,
)

DEPLOYMENT = "kubernetes:apps/v1:Deployment"
SPEC = engines.ModelSpec("llama", "r" * 40, 8.03, "llama-3-8b", quantization="awq")
ARGS = ModelServerArgs(
    environment="prod",
    served=ServedModel(SPEC, Placement("a10g", {}, (GPU_TOLERATION,)), cpu=6, memory_gib=27),
    namespace="llm-prod",
    weights=WeightsSource("bucket", "us-east-1", PodIdentityCredentials()),
)
REGISTRIES = {"allowedRegistries": ["ghcr.io/huggingface", "docker.io/vllm", "public.ecr.aws"]}


def deployment() -> dict:
    labels = {**model_labels("llama"), "llm-serving/engine": "tgi"}
    spec = ModelServer._deployment_spec(ARGS, engines.engine("tgi"), model_labels("llama"), labels, "llama")
    metadata = {"name": "llama", "namespace": "llm-prod", "annotations": sizing_annotations(SPEC, "a10g")}
    return {"metadata": metadata, "spec": spec}


def main_container(props):
    return props["spec"]["template"]["spec"]["containers"][0]


def init_container(props):
    return props["spec"]["template"]["spec"]["initContainers"][0]


def check(policy, props, config=None, type_token=DEPLOYMENT):
    return resource_violations(policy, type_token, props, config=config)


# --- security context ----------------------------------------------------------------------------------

SECURITY = container_security_context.policy


def test_security_context_compliant():
    assert check(SECURITY, deployment()) == []


def test_security_context_each_violation():
    props = deployment()
    del props["spec"]["template"]["spec"]["securityContext"]
    main = main_container(props)
    main["securityContext"] = {"privileged": True, "runAsUser": 0}
    assert check(SECURITY, props) == [
        "init container 'weight-sync': seccompProfile is not RuntimeDefault or Localhost.",
        "container 'tgi': runAsNonRoot is not true; runAsUser is 0 (root); privileged; allowPrivilegeEscalation is "
        "not false; capabilities do not drop ALL; seccompProfile is not RuntimeDefault or Localhost; "
        "readOnlyRootFilesystem is not true.",
    ]


def test_security_context_init_container_counts():
    props = deployment()
    init_container(props)["securityContext"]["readOnlyRootFilesystem"] = False
    assert check(SECURITY, props) == ["init container 'weight-sync': readOnlyRootFilesystem is not true."]


def test_security_context_applies_to_pods_and_cronjobs_not_services():
    pod_spec = deployment()["spec"]["template"]["spec"]
    pod_spec["containers"][0]["securityContext"]["allowPrivilegeEscalation"] = True
    assert check(SECURITY, {"spec": pod_spec}, type_token="kubernetes:core/v1:Pod") == [
        "container 'tgi': allowPrivilegeEscalation is not false."
    ]
    cron = {"spec": {"jobTemplate": {"spec": {"template": {"spec": pod_spec}}}}}
    assert len(check(SECURITY, cron, type_token="kubernetes:batch/v1:CronJob")) == 1
    assert check(SECURITY, {"spec": {}}, type_token="kubernetes:core/v1:Service") == []


# --- images --------------------------------------------------------------------------------------------

IMAGES = image_pinned_allowed_registry.policy


def with_image(image):
    props = deployment()
    main_container(props)["image"] = image
    return props


def test_images_compliant_tag_and_digest_and_docker_hub_shorthand():
    assert check(IMAGES, deployment(), REGISTRIES) == []
    assert check(IMAGES, with_image("ghcr.io/huggingface/tgi@sha256:" + "a" * 64), REGISTRIES) == []
    assert check(IMAGES, with_image("vllm/vllm-openai:v0.11.0"), REGISTRIES) == []


def test_image_from_another_registry():
    assert check(IMAGES, with_image("quay.io/evil/tgi:3.3.4"), REGISTRIES) == [
        "container 'tgi': image 'quay.io/evil/tgi:3.3.4' is not from an allowed registry "
        "(ghcr.io/huggingface, docker.io/vllm, public.ecr.aws)."
    ]


def test_image_without_tag():
    assert check(IMAGES, with_image("ghcr.io/huggingface/text-generation-inference"), REGISTRIES) == [
        "container 'tgi': image 'ghcr.io/huggingface/text-generation-inference' has no tag or digest "
        "(would pull latest)."
    ]


def test_image_with_floating_tag():
    for tag in ("latest", "3.3", "3"):
        assert check(IMAGES, with_image(f"ghcr.io/huggingface/tgi:{tag}"), REGISTRIES) == [
            f"container 'tgi': image 'ghcr.io/huggingface/tgi:{tag}' tag '{tag}' is not an exact release (x.y.z) "
            "or a sha256 digest."
        ]


def test_image_missing():
    props = deployment()
    del main_container(props)["image"]
    assert check(IMAGES, props, REGISTRIES) == ["container 'tgi': image '' has no image."]


# --- GPU requests == limits ----------------------------------------------------------------------------

GPUS = gpu_requests_equal_limits.policy


def test_gpu_compliant_and_cpu_only_containers_ignored():
    assert check(GPUS, deployment()) == []


def test_gpu_request_differs_from_limit():
    props = deployment()
    main_container(props)["resources"]["requests"]["nvidia.com/gpu"] = "2"
    assert check(GPUS, props) == ["container 'tgi': nvidia.com/gpu request 2 != limit 1."]


def test_gpu_request_without_limit():
    props = deployment()
    del main_container(props)["resources"]["limits"]["nvidia.com/gpu"]
    assert check(GPUS, props) == ["container 'tgi': requests 1 nvidia.com/gpu without a limit."]


# --- probes --------------------------------------------------------------------------------------------

PROBES = model_server_probes.policy


def test_probes_compliant():
    assert check(PROBES, deployment()) == []


def test_probes_missing():
    props = deployment()
    del main_container(props)["startupProbe"]
    del main_container(props)["readinessProbe"]
    assert check(PROBES, props) == ["container 'tgi' has no startupProbe.", "container 'tgi' has no readinessProbe."]


def test_liveness_on_health():
    props = deployment()
    main_container(props)["livenessProbe"]["httpGet"]["path"] = "/health"
    assert check(PROBES, props) == [
        "container 'tgi' livenessProbe uses /health, which fails under load: a busy server would be restarted."
    ]


def test_tgi_readiness_on_health():
    props = deployment()
    assert "text-generation-inference" in main_container(props)["image"]
    main_container(props)["readinessProbe"]["httpGet"]["path"] = "/health/"
    assert check(PROBES, props) == [
        "container 'tgi' readinessProbe uses /health, which TGI answers 503 while its queue is full: saturated "
        "replicas would leave the Service at peak load (use /info)."
    ]


def test_vllm_readiness_on_health_is_fine():
    props = deployment()
    main_container(props)["image"] = "docker.io/vllm/vllm-openai:v0.11.0"
    main_container(props)["readinessProbe"]["httpGet"]["path"] = "/health"
    assert check(PROBES, props) == []


def test_probes_not_applicable_to_other_workloads():
    props = deployment()
    props["spec"]["template"]["metadata"]["labels"] = {"app": "other"}
    del main_container(props)["startupProbe"]
    assert check(PROBES, props) == []


# --- PDB -----------------------------------------------------------------------------------------------

PDB = model_server_has_pdb.policy


def pdb(labels=None, namespace="llm-prod"):
    return policy_resource(
        "kubernetes:policy/v1:PodDisruptionBudget",
        "pdb",
        {
            "metadata": {"name": "llama", "namespace": namespace},
            "spec": {"selector": {"matchLabels": labels or model_labels("llama")}},
        },
    )


def test_pdb_compliant():
    assert stack_violations(PDB, [policy_resource(DEPLOYMENT, "d", deployment()), pdb()]) == []


def test_pdb_missing_or_elsewhere_or_selecting_other_pods():
    workload = policy_resource(DEPLOYMENT, "d", deployment())
    expected = [("model server 'llm-prod/llama' has no PodDisruptionBudget selecting its pods.", workload.urn)]
    assert stack_violations(PDB, [workload]) == expected
    assert stack_violations(PDB, [workload, pdb(namespace="other")]) == expected
    assert stack_violations(PDB, [workload, pdb(labels={"llm-serving/model": "other"})]) == expected


# --- model fits GPUs -----------------------------------------------------------------------------------

FITS = model_fits_gpus.policy


def test_fits_compliant():
    assert check(FITS, deployment()) == []


def test_model_that_does_not_fit():
    props = deployment()
    props["metadata"]["annotations"]["llm-serving/parameters-billion"] = "70"
    (message,) = check(FITS, props)
    assert message.startswith("the model does not fit: llama-3-8b (70B) awq on 1×a10g: needs ")
    assert "GiB per GPU (weights " in message and message.endswith(" GiB.")


def test_fp8_on_a10g_cannot_be_sized():
    props = deployment()
    props["metadata"]["annotations"]["llm-serving/quantization"] = "fp8"
    assert check(FITS, props) == ["cannot size the model: fp8 needs a GPU with FP8 support (h100); a10g has none."]


def test_missing_annotations():
    props = deployment()
    del props["metadata"]["annotations"]["llm-serving/gpu"]
    assert check(FITS, props) == ["cannot prove the model fits its GPUs: missing annotations llm-serving/gpu."]


def test_gpu_limit_differs_from_shards():
    props = deployment()
    main_container(props)["resources"]["limits"]["nvidia.com/gpu"] = "2"
    assert check(FITS, props) == ["sized for 1 shard(s) but no container is limited to 1 nvidia.com/gpu (limits: 2)."]


def test_fits_not_applicable_to_other_workloads():
    props = copy.deepcopy(deployment())
    props["spec"]["template"]["metadata"]["labels"] = {}
    props["metadata"]["annotations"] = {}
    assert check(FITS, props) == []


# --- security context: added capabilities and the named root node agents ----------------------------

ROOT_AGENTS = {"rootNodeAgents": ["gpu-metrics/dcgm-exporter"]}


def node_agent(name: str = "dcgm-exporter", namespace: str = "gpu-metrics", **context: object) -> dict:
    """A DaemonSet running as root with a writable root filesystem, otherwise locked down."""
    security = {
        "runAsUser": 0,
        "runAsNonRoot": False,
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
        **context,
    }
    return {
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"template": {"spec": {"containers": [{"name": name, "securityContext": security}]}}},
    }


def agent_violations(props: dict, config: dict | None = None) -> list[str]:
    return resource_violations(SECURITY, "kubernetes:apps/v1:DaemonSet", props, config=config or {})


def test_security_context_listed_root_node_agent_may_run_as_root():
    assert agent_violations(node_agent(), ROOT_AGENTS) == []


def test_security_context_unlisted_root_daemonset_is_refused():
    assert agent_violations(node_agent(name="other-agent"), ROOT_AGENTS) == [
        "container 'other-agent': runAsNonRoot is not true; runAsUser is 0 (root); readOnlyRootFilesystem is not true."
    ]
    assert agent_violations(node_agent()) == [
        "container 'dcgm-exporter': runAsNonRoot is not true; runAsUser is 0 (root); "
        "readOnlyRootFilesystem is not true."
    ]


def test_security_context_root_node_agent_gets_nothing_else():
    props = node_agent(privileged=True, allowPrivilegeEscalation=True, capabilities={"add": ["SYS_ADMIN"]})
    del props["spec"]["template"]["spec"]["containers"][0]["securityContext"]["seccompProfile"]
    assert agent_violations(props, ROOT_AGENTS) == [
        "container 'dcgm-exporter': privileged; allowPrivilegeEscalation is not false; capabilities do not drop ALL; "
        "capabilities add SYS_ADMIN; seccompProfile is not RuntimeDefault or Localhost."
    ]


def test_security_context_the_exemption_is_for_daemonsets_only():
    daemonset = node_agent()
    assert resource_violations(SECURITY, "kubernetes:apps/v1:Deployment", daemonset, config=ROOT_AGENTS) == [
        "container 'dcgm-exporter': runAsNonRoot is not true; runAsUser is 0 (root); "
        "readOnlyRootFilesystem is not true."
    ]


def test_security_context_only_net_bind_service_may_be_added():
    props = deployment()
    main_container(props)["securityContext"]["capabilities"] = {"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]}
    assert check(SECURITY, props) == []
    main_container(props)["securityContext"]["capabilities"]["add"] = ["NET_ADMIN", "NET_BIND_SERVICE", "SYS_PTRACE"]
    assert check(SECURITY, props) == ["container 'tgi': capabilities add NET_ADMIN, SYS_PTRACE."]


def test_default_root_node_agents_name_the_platforms_own_agents():
    from components import conventions, device_plugin
    from stacks.config import PolicySettings

    defaults = PolicySettings(allowed_regions=["us-east-1"], allowed_gpu_types=["a10g"]).root_node_agents
    assert sorted(defaults) == sorted(
        [
            f"{device_plugin.NAMESPACE}/{device_plugin.NAME}",
            f"{conventions.DCGM_NAMESPACE}/{conventions.DCGM_EXPORTER_NAME}",
        ]
    )
