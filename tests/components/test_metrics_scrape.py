"""The metrics agent scrapes every model server exactly once, on the port that serves /metrics.

Targets are derived from the real pods ModelServer renders (TGI: separate `metrics` port; vLLM:
/metrics on `http`) the way Prometheus' Kubernetes pod discovery does: one target per declared
container port, one per container that declares none (init containers included), with the pod's
labels and annotations as sanitized `__meta_kubernetes_pod_*` labels. The agent's real
`relabel_configs` then run through a small evaluator of the actions they use.
"""

from __future__ import annotations

import re
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pytest
import yaml
from serving_harness import by_type, record

from components import engines
from components.conventions import GPU_TOLERATION, METRICS_PORT_NAME
from components.metrics_collector import scrape_config
from components.serving import (
    ModelServer,
    ModelServerArgs,
    Placement,
    PodIdentityCredentials,
    ServedModel,
    WeightsSource,
)

SPEC = engines.ModelSpec(
    name="llama-3-8b-instruct",
    revision="5a1a8e0d2e0b61c4a04ee5e0d4f4bce1e5c1e2a9",
    parameters_billion=8.03,
    family="llama-3-8b",
    quantization="awq",
)
AGENT = {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "prometheus-agent"}}}
POD_IP = "10.0.3.7"


def render(engine: str) -> dict[str, Any]:
    """Deployment and NetworkPolicy inputs of one model server on `engine`."""
    served = ServedModel(
        model=SPEC,
        placement=Placement(gpu="a10g", node_selector={"llm-serving/gpu": "a10g"}, tolerations=(GPU_TOLERATION,)),
        cpu=6,
        memory_gib=27,
        replicas=1,
        engine=engine,
    )
    args = ModelServerArgs(
        environment="prod",
        served=served,
        namespace="llm-prod",
        weights=WeightsSource(bucket="weights-bucket", region="us-east-1", credentials=PodIdentityCredentials()),
        metrics_peers=(AGENT,),
    )

    def build():
        provider = k8s.Provider("test-cluster", kubeconfig="{}")
        ModelServer("m", args, opts=pulumi.ResourceOptions(providers={"kubernetes": provider}))

    resources = record(build)
    (deployment,) = by_type(resources, "kubernetes:apps/v1:Deployment")
    (policy,) = by_type(resources, "kubernetes:networking.k8s.io/v1:NetworkPolicy")
    return {"deployment": deployment.inputs, "policy": policy.inputs}


def _sanitize(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", name)


def discovered_targets(pod_template: dict[str, Any], namespace: str, pod_name: str) -> list[dict[str, str]]:
    """Prometheus `role: pod` targets of one running pod built from `pod_template`."""
    meta = pod_template["metadata"]
    base = {
        "__meta_kubernetes_namespace": namespace,
        "__meta_kubernetes_pod_name": pod_name,
        "__meta_kubernetes_pod_ip": POD_IP,
        "__meta_kubernetes_pod_node_name": "ip-10-0-3-1",
        **{f"__meta_kubernetes_pod_label_{_sanitize(k)}": v for k, v in meta.get("labels", {}).items()},
        **{f"__meta_kubernetes_pod_labelpresent_{_sanitize(k)}": "true" for k in meta.get("labels", {})},
        **{f"__meta_kubernetes_pod_annotation_{_sanitize(k)}": v for k, v in meta.get("annotations", {}).items()},
        **{f"__meta_kubernetes_pod_annotationpresent_{_sanitize(k)}": "true" for k in meta.get("annotations", {})},
    }
    spec = pod_template["spec"]
    targets = []
    for init, containers in (("false", spec["containers"]), ("true", spec.get("initContainers", []))):
        for container in containers:
            common = {
                **base,
                "__meta_kubernetes_pod_container_name": container["name"],
                "__meta_kubernetes_pod_container_init": init,
            }
            if not container.get("ports"):
                targets.append({**common, "__address__": POD_IP})
            for port in container.get("ports", []):
                targets.append(
                    {
                        **common,
                        "__address__": f"{POD_IP}:{port['containerPort']}",
                        "__meta_kubernetes_pod_container_port_name": port.get("name", ""),
                        "__meta_kubernetes_pod_container_port_number": str(port["containerPort"]),
                        "__meta_kubernetes_pod_container_port_protocol": port.get("protocol", "TCP"),
                    }
                )
    return targets


def relabel(target: dict[str, str], configs: list[dict[str, Any]]) -> dict[str, str] | None:
    """Prometheus target relabelling for the actions the agent uses; None: the target is dropped."""
    labels = dict(target)
    for config in configs:
        action = config.get("action", "replace")
        value = config.get("separator", ";").join(labels.get(s, "") for s in config.get("source_labels", []))
        regex = config.get("regex", "(.*)")
        if action == "keep":
            if not re.fullmatch(regex, value):
                return None
        elif action == "drop":
            if re.fullmatch(regex, value):
                return None
        elif action == "keepequal":
            if value != labels.get(config["target_label"], ""):
                return None
        elif action == "replace":
            match = re.fullmatch(regex, value)
            if match:
                replacement = config.get("replacement", "$1")
                labels[config["target_label"]] = match.expand(re.sub(r"\$\{?(\d+)\}?", r"\\g<\1>", replacement))
        else:
            raise AssertionError(f"the evaluator does not know relabel action {action!r}")
    return labels


def scraped(job_name: str, pod_template: dict[str, Any], namespace: str = "llm-prod") -> list[dict[str, str]]:
    config = scrape_config("llm-serving-prod", "llm-prod", "https://example/api/v1/remote_write", "us-east-1")
    (job,) = [j for j in config["scrape_configs"] if j["job_name"] == job_name]
    if namespace not in job["kubernetes_sd_configs"][0]["namespaces"]["names"]:
        return []
    kept = (relabel(t, job["relabel_configs"]) for t in discovered_targets(pod_template, namespace, "p-0"))
    return [t for t in kept if t is not None]


@pytest.mark.parametrize(("engine", "port"), [("tgi", 9000), ("vllm", 8080)])
def test_each_model_server_is_scraped_once_on_its_metrics_port(engine, port):
    template = render(engine)["deployment"]["spec"]["template"]
    (target,) = scraped("model-servers", template)
    assert target["__address__"] == f"{POD_IP}:{port}"
    assert {k: target[k] for k in ("namespace", "pod", "model")} == {
        "namespace": "llm-prod",
        "pod": "p-0",
        "model": "llama-3-8b-instruct",
    }
    assert scraped("dcgm-exporter", template, namespace="llm-prod") == []


@pytest.mark.parametrize(("engine", "port"), [("tgi", 9000), ("vllm", 8080)])
def test_the_network_policy_admits_the_agent_on_the_scraped_port(engine, port):
    rendered = render(engine)
    rules = rendered["policy"]["spec"]["ingress"]
    assert {"from": [AGENT], "ports": [{"protocol": "TCP", "port": port}]} in rules
    (target,) = scraped("model-servers", rendered["deployment"]["spec"]["template"])
    assert target["__address__"].endswith(f":{port}")


def test_a_model_server_pod_without_the_annotation_is_not_scraped():
    template = render("tgi")["deployment"]["spec"]["template"]
    template = {**template, "metadata": {"labels": template["metadata"]["labels"]}}
    assert scraped("model-servers", template) == []


def test_the_dcgm_exporter_is_still_scraped_on_its_metrics_port():
    template = {
        "metadata": {"labels": {"app.kubernetes.io/name": "dcgm-exporter"}},
        "spec": {"containers": [{"name": "exporter", "ports": [{"name": METRICS_PORT_NAME, "containerPort": 9400}]}]},
    }
    (target,) = scraped("dcgm-exporter", template, namespace="gpu-metrics")
    assert target["__address__"] == f"{POD_IP}:9400"


def test_the_agents_config_is_plain_yaml_without_anchors_or_aliases():
    # Shared relabel dicts once came out as &id001 / *id001: valid, but not what a reviewer expects to read.
    config = scrape_config("llm-serving-prod", "llm-prod", "https://example/api/v1/remote_write", "us-east-1")
    text = yaml.safe_dump(config, sort_keys=False)
    assert "&id" not in text and "*id" not in text
    assert yaml.safe_load(text) == config
