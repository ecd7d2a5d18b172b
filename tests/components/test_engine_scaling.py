"""Scalers read the metrics of the model's engine: TGI's or vLLM's.

The expected names are written out here (from TGI's and vLLM's metrics documentation), not read
from `components.engines`, so a wrong name in the engine table fails these tests.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from crd_schemas import keda_validate

from components import engines
from components.autoscaling import ModelAutoscaling
from components.prometheus_adapter import PrometheusAdapterArgs, adapter_rules
from components.scaling import ModelScalerArgs, horizontal_pod_autoscaler, scaled_object

QUERY_URL = "https://aps-workspaces.us-east-1.amazonaws.com/workspaces/ws-0123"
SELECTOR = '{namespace="llm-prod",model="llama-3-8b-instruct"}'
# engine -> (queue gauge, running-batch gauge, name prometheus-adapter serves the queue under)
SIGNALS = {
    "tgi": ("tgi_queue_size", "tgi_batch_current_size", "tgi_queue_size"),
    "vllm": ("vllm:num_requests_waiting", "vllm:num_requests_running", "vllm_num_requests_waiting"),
}


def scaler(engine: str, **overrides: Any) -> ModelScalerArgs:
    values: dict[str, Any] = dict(
        model="llama-3-8b-instruct",
        environment="prod",
        mode="keda",
        min_replicas=1,
        max_replicas=4,
        queue_size_threshold=4.0,
        max_batch_size=16,
        prometheus_url=QUERY_URL,
        engine=engine,
    )
    values.update(overrides)
    return ModelScalerArgs(**values)


def test_every_engine_has_its_signals_listed_here():
    assert sorted(SIGNALS) == sorted(engines.ENGINES)


@pytest.mark.parametrize("engine", sorted(SIGNALS))
def test_engine_table_names_the_engines_gauges(engine):
    queue, running, served_as = SIGNALS[engine]
    spec = engines.engine(engine)
    assert (spec.queue_metric, spec.running_metric, spec.custom_queue_metric) == (queue, running, served_as)


@pytest.mark.parametrize("engine", sorted(SIGNALS))
def test_scaled_object_queries_the_engines_metrics_and_validates(engine):
    queue, running, _ = SIGNALS[engine]
    body = scaled_object(scaler(engine), QUERY_URL)
    keda_validate("ScaledObject", body)
    queries = {t["name"]: t["metadata"]["query"] for t in body["spec"]["triggers"]}
    assert queries == {
        "queue-size": f"sum({queue}{SELECTOR})",
        "batch-occupancy": f"sum({running}{SELECTOR}) / 16",
    }


def test_vllm_queries_name_no_tgi_metric():
    body = scaled_object(scaler("vllm"), QUERY_URL)
    assert not any("tgi_" in t["metadata"]["query"] for t in body["spec"]["triggers"])


def kubernetes_validate(body: dict[str, Any], tmp_path: Path) -> subprocess.CompletedProcess:
    manifest = tmp_path / "hpa.yaml"
    manifest.write_text(yaml.safe_dump(body))
    tool = Path(sys.executable).with_name("kubernetes-validate")
    return subprocess.run(
        [str(tool), "--strict", "-k", "1.33.0", str(manifest)], capture_output=True, text=True, check=False
    )


@pytest.mark.parametrize("engine", sorted(SIGNALS))
def test_hpa_references_the_name_the_adapter_serves_for_the_engine(engine, tmp_path):
    _, _, served_as = SIGNALS[engine]
    body = horizontal_pod_autoscaler(scaler(engine, mode="hpa", prometheus_url=None))
    result = kubernetes_validate(body, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    (metric,) = body["spec"]["metrics"]
    assert metric["pods"]["metric"] == {"name": served_as}
    (rule,) = adapter_rules([engine])
    assert rule["name"]["as"] == served_as


@pytest.mark.parametrize("engine", sorted(SIGNALS))
def test_adapter_rule_selects_the_engines_queue_series(engine):
    queue, _, served_as = SIGNALS[engine]
    (rule,) = adapter_rules([engine])
    assert rule["seriesQuery"] == f'{queue}{{namespace!="",pod!=""}}'
    assert rule["name"] == {"matches": f"^{queue}$", "as": served_as}
    assert rule["resources"] == {"overrides": {"namespace": {"resource": "namespace"}, "pod": {"resource": "pod"}}}


def test_two_engines_on_one_cluster_get_one_rule_each_under_distinct_names():
    rules = adapter_rules(["vllm", "tgi", "vllm"])
    assert [r["name"]["as"] for r in rules] == ["vllm_num_requests_waiting", "tgi_queue_size"]


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: scaler("triton"), "engine: must be one of tgi, vllm (got 'triton')"),
        (
            lambda: ModelAutoscaling("m", "keda", 1, 2, 4.0, 0.8, 8, engine="sglang"),
            "engine: must be one of tgi, vllm (got 'sglang')",
        ),
        (
            lambda: PrometheusAdapterArgs("us-east-1", "c", "arn", "arn", "ws", engines=()),
            "engines: at least one of tgi, vllm (the hpa-mode models' engines)",
        ),
        (
            lambda: PrometheusAdapterArgs("us-east-1", "c", "arn", "arn", "ws", engines=("tgi", "onnx")),
            "engine: must be one of tgi, vllm (got 'onnx')",
        ),
    ],
)
def test_unknown_engines_are_rejected(build, message):
    with pytest.raises(ValueError) as caught:
        build()
    assert str(caught.value) == message
