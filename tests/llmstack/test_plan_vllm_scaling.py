"""The dev stack with its model on vLLM plans cleanly and scales on vLLM's metrics, keda and hpa.

Runs `llmstack plan --config` on a written stack file (the whole program and the real policy pack)
and reads the plan the way a reviewer would.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import ROOT

from llmstack.cli import main

MODEL = "llama-3-8b-instruct"


@pytest.fixture(autouse=True)
def in_project(monkeypatch):
    monkeypatch.chdir(ROOT)


def on_vllm(mode: str):
    def mutate(config: dict[str, Any]) -> None:
        (model,) = config["llm-serving:models"]
        model["engine"] = "vllm"
        if mode == "hpa":
            # An HPA cannot scale from zero: one warm replica, no gateway signal.
            model["autoscaling"] = {"mode": "hpa", "min_replicas": 1, "max_replicas": 2}

    return mutate


def plan(tmp_path: Path, mode: str) -> tuple[int, dict[str, Any]]:
    document = yaml.safe_load((ROOT / "Pulumi.dev.yaml").read_text())
    on_vllm(mode)(document["config"])
    stack = tmp_path / "Pulumi.dev.yaml"
    stack.write_text(yaml.safe_dump(document))
    out = tmp_path / "plan"
    code = main(["plan", "--config", str(stack), "--out", str(out)])
    return code, json.loads((out / "plan.json").read_text())


def of_type(document: dict[str, Any], type_token: str) -> list[dict[str, Any]]:
    return [r["inputs"] for r in document["resources"] if r["type"] == type_token]


def mandatory(document: dict[str, Any]) -> list[str]:
    return [v["message"] for v in document["policy"]["violations"] if v["enforcement"] == "mandatory"]


def scrape_jobs(document: dict[str, Any]) -> dict[str, Any]:
    (config,) = [
        c for c in of_type(document, "kubernetes:core/v1:ConfigMap") if c["metadata"]["name"] == "prometheus-agent"
    ]
    return {job["job_name"]: job for job in yaml.safe_load(config["data"]["prometheus.yml"])["scrape_configs"]}


def test_vllm_with_keda_plans_cleanly_and_queries_vllm_gauges(tmp_path):
    code, document = plan(tmp_path, "keda")
    assert (code, mandatory(document)) == (0, [])
    (deployment,) = [d for d in of_type(document, "kubernetes:apps/v1:Deployment") if d["metadata"]["name"] == MODEL]
    template = deployment["spec"]["template"]
    assert template["spec"]["containers"][0]["name"] == "vllm"
    assert template["metadata"]["annotations"]["llm-serving/metrics-port"] == "http"
    (scaled,) = of_type(document, "kubernetes:keda.sh/v1alpha1:ScaledObject")
    queries = {t["name"]: t["metadata"].get("query") for t in scaled["spec"]["triggers"]}
    assert queries["queue-size"] == f'sum(vllm:num_requests_waiting{{namespace="llm-dev",model="{MODEL}"}})'
    assert queries["batch-occupancy"] == f'sum(vllm:num_requests_running{{namespace="llm-dev",model="{MODEL}"}}) / 8'
    # Still wakes from zero on the API Gateway count of its one route (vLLM: chat/completions only).
    assert [name for name in queries if name.startswith("gateway-requests")] == ["gateway-requests-0"]
    # The agent keeps the port the pod names; the NetworkPolicy admits it on vLLM's HTTP port.
    relabels = scrape_jobs(document)["model-servers"]["relabel_configs"]
    assert {
        "source_labels": ["__meta_kubernetes_pod_container_port_name"],
        "target_label": "__meta_kubernetes_pod_annotation_llm_serving_metrics_port",
        "action": "keepequal",
    } in relabels
    (policy,) = [
        p for p in of_type(document, "kubernetes:networking.k8s.io/v1:NetworkPolicy") if p["metadata"]["name"] == MODEL
    ]
    agent = {"app.kubernetes.io/name": "prometheus-agent"}
    (agent_rule,) = [
        r
        for r in policy["spec"]["ingress"]
        if any(p.get("podSelector", {}).get("matchLabels") == agent for p in r["from"])
    ]
    assert agent_rule["ports"] == [{"protocol": "TCP", "port": 8080}]


def test_vllm_with_hpa_plans_cleanly_and_the_adapter_serves_vllms_queue(tmp_path):
    code, document = plan(tmp_path, "hpa")
    assert (code, mandatory(document)) == (0, [])
    assert of_type(document, "kubernetes:keda.sh/v1alpha1:ScaledObject") == []
    (hpa,) = of_type(document, "kubernetes:autoscaling/v2:HorizontalPodAutoscaler")
    assert hpa["spec"]["metrics"][0]["pods"]["metric"] == {"name": "vllm_num_requests_waiting"}
    (config,) = [
        r for r in of_type(document, "kubernetes:core/v1:ConfigMap") if r["metadata"]["name"] == "prometheus-adapter"
    ]
    (rule,) = yaml.safe_load(config["data"]["config.yaml"])["rules"]
    assert rule["seriesQuery"] == 'vllm:num_requests_waiting{namespace!="",pod!=""}'
    assert rule["name"]["as"] == "vllm_num_requests_waiting"
