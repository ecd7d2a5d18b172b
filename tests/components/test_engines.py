"""Engine argument building (pure), with a golden file of the TGI command lines of the prod models."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from conftest import stack_values

from components import engines
from components.conventions import HTTP_PORT, METRICS_PORT
from policies.kubernetes.image_pinned_allowed_registry import EXACT_TAG
from stacks.config import parse_platform_config
from stacks.platform import model_spec

GOLDEN = Path(__file__).parent / "golden" / "tgi_args_prod.json"
SPEC = engines.ModelSpec(name="m", revision="r" * 40, parameters_billion=8, family="llama-3-8b", quantization="awq")


def prod_tgi_args() -> dict[str, list[str]]:
    config = parse_platform_config(stack_values("prod"))
    return {
        model.name: engines.tgi_args(
            model_spec(model), engines.model_dir("/models", model_spec(model)), HTTP_PORT, METRICS_PORT
        )
        for model in config.models
        if model.engine == "tgi"
    }


def test_tgi_args_of_prod_models_match_the_golden_file():
    rendered = prod_tgi_args()
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN.write_text(json.dumps(rendered, indent=2) + "\n")
    assert rendered == json.loads(GOLDEN.read_text())


def test_tgi_args_read_the_local_copy_and_set_every_limit():
    args = engines.tgi_args(SPEC, "/models/m/rev", 8080, 9000)
    assert args[:4] == ["--model-id", "/models/m/rev", "--num-shard", "1"]
    for flag in ("--quantize", "--max-input-tokens", "--max-total-tokens", "--max-batch-prefill-tokens", "--port"):
        assert flag in args
    assert args[args.index("--prometheus-port") + 1] == "9000"


def test_both_engines_cap_the_batch_at_the_size_sizing_and_the_scaler_assume():
    # TGI's --max-batch-size and vLLM's --max-num-seqs: the KEDA batch divisor is max_batch_size.
    tgi = engines.tgi_args(SPEC, "/models/m/rev", 8080, 9000)
    vllm = engines.vllm_args(SPEC, "/models/m/rev", 8080)
    assert tgi[tgi.index("--max-batch-size") + 1] == str(SPEC.max_batch_size)
    assert vllm[vllm.index("--max-num-seqs") + 1] == str(SPEC.max_batch_size)


def test_readiness_is_never_tgis_queue_sensitive_health():
    assert (engines.engine("tgi").readiness_path, engines.engine("tgi").liveness_path) == ("/info", "/info")
    assert (engines.engine("vllm").readiness_path, engines.engine("vllm").liveness_path) == ("/health", "/version")


@pytest.mark.parametrize(("quantization", "flags"), [("none", []), ("bf16", ["--dtype", "bfloat16"])])
def test_unquantized_models_pass_no_quantize_flag(quantization, flags):
    spec = engines.ModelSpec("m", "r", 8, "llama-3-8b", quantization=quantization)
    args = engines.tgi_args(spec, "/m", 8080, 9000)
    assert "--quantize" not in args
    assert all(flag in args for flag in flags)


def test_vllm_args_use_vllm_names_for_the_same_limits():
    args = engines.vllm_args(SPEC, "/models/m/rev", 8080)
    assert args[args.index("--max-model-len") + 1] == "8192"
    assert args[args.index("--max-num-seqs") + 1] == "8"
    assert args[args.index("--quantization") + 1] == "awq"


def test_engine_rejects_a_quantization_it_cannot_serve():
    spec = engines.ModelSpec("m", "r", 8, "llama-3-8b", quantization="eetq")
    with pytest.raises(ValueError, match=r"^quantization: vllm cannot serve 'eetq'; allowed: "):
        engines.vllm_args(spec, "/m", 8080)
    with pytest.raises(ValueError, match=r"^quantization: tgi cannot serve 'int8'; allowed: "):
        engines.tgi_args(engines.ModelSpec("m", "r", 8, "llama-3-8b", quantization="int8"), "/m", 8080, 9000)


def test_unknown_engine():
    with pytest.raises(ValueError, match=r"^engine: must be one of tgi, vllm \(got 'triton'\)$"):
        engines.engine("triton")


def test_default_images_are_pinned_to_exact_releases():
    for image in [spec.image for spec in engines.ENGINE_SPECS.values()] + [engines.WEIGHT_SYNC_IMAGE]:
        assert EXACT_TAG.fullmatch(image.rsplit(":", 1)[1]), image
