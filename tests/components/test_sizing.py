"""Model-fits-GPU arithmetic: seed facts, one case by hand, invalid requests and properties."""

from __future__ import annotations

import dataclasses
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from components import catalog, sizing

GIB = 1024**3


def request(
    parameters_billion: float = 70,
    quantization: str = "none",
    family: str = "llama-3-70b",
    max_total_tokens: int = 4096,
    max_batch_size: int = 8,
    gpu: str = "h100",
    shards: int = 1,
) -> sizing.SizingRequest:
    return sizing.SizingRequest(
        parameters_billion=parameters_billion,
        quantization=quantization,
        architecture=sizing.architecture(family),
        max_total_tokens=max_total_tokens,
        max_batch_size=max_batch_size,
        gpu=gpu,
        shards=shards,
    )


# --- seed facts ----------------------------------------------------------------------------------


def test_70b_fp16_does_not_fit_one_h100() -> None:
    result = sizing.size(request())
    assert not result.fits
    assert 130 < result.weights_gib < 131  # 140 GB


def test_70b_fp16_fits_two_h100_at_a_modest_context() -> None:
    # 2 x 4096 tokens in flight: at 2 shards only ~1.7 GiB per GPU is left for the KV cache.
    assert sizing.size(request(max_total_tokens=4096, max_batch_size=2, shards=2)).fits


@pytest.mark.parametrize("shards", [4, 8])
def test_70b_fp16_fits_four_or_more_h100_at_4096_by_8(shards: int) -> None:
    assert sizing.size(request(shards=shards)).fits


def test_70b_fp16_at_4096_by_8_needs_four_h100() -> None:
    assert not sizing.size(request(shards=2)).fits
    assert sizing.minimum_shards(request(), max_shards=8) == 4


def test_70b_4bit_fits_one_h100() -> None:
    assert sizing.size(request(quantization="awq")).fits


def test_7b_4bit_fits_one_a10g() -> None:
    assert sizing.size(request(7.2, "awq", "mistral-7b", gpu="a10g")).fits


def test_13b_fp16_does_not_fit_one_a10g() -> None:
    result = sizing.size(request(13, "none", "llama-2-13b", max_batch_size=1, gpu="a10g"))
    assert not result.fits
    assert result.weights_gib > result.available_per_gpu_gib


def test_mixtral_counts_every_expert() -> None:
    assert sizing.architecture("mixtral-8x7b").parameters_billion == 46.7
    assert not sizing.size(request(46.7, "none", "mixtral-8x7b")).fits
    assert sizing.size(request(46.7, "none", "mixtral-8x7b", shards=2)).fits


# --- one case by hand ----------------------------------------------------------------------------


def test_llama_3_8b_fp16_on_one_a10g_by_hand() -> None:
    result = sizing.size(request(8, "fp16", "llama-3-8b", 4096, 4, "a10g"))
    weights = 8e9 * 2 / GIB  # 14.901 GiB
    kv = 2 * 32 * 8 * 128 * 2 * 4096 * 4 / GIB  # 131072 B per token x 16384 tokens = 2 GiB
    overhead = 1.5 + 0.05 * weights  # 2.245 GiB
    available = 23028 / 1024 * 0.9  # 20.239 GiB
    assert kv == 2.0
    assert result.weights_gib == pytest.approx(weights)
    assert result.kv_cache_gib == pytest.approx(kv)
    assert result.overhead_gib == pytest.approx(overhead)
    assert result.required_per_gpu_gib == pytest.approx(weights + kv + overhead)  # 19.146 GiB
    assert result.available_per_gpu_gib == pytest.approx(available)
    assert result.fits
    assert result.shards == 1
    assert result.reason == (
        "llama-3-8b (8B) fp16 on 1×a10g: needs 19.1 GiB per GPU (weights 14.9 + kv 2.0 + overhead 2.2), has 20.2 GiB"
    )


def test_sharding_splits_weights_and_kv_but_not_the_fixed_overhead() -> None:
    result = sizing.size(request(shards=4))
    weights, kv = 70e9 * 2 / GIB, 2 * 80 * 8 * 128 * 2 * 4096 * 8 / GIB
    assert kv == 10.0
    assert result.overhead_gib == pytest.approx(1.5 + 0.05 * weights / 4)
    assert result.required_per_gpu_gib == pytest.approx(weights / 4 + kv / 4 + 1.5 + 0.05 * weights / 4)


def test_kv_heads_are_replicated_when_shards_outnumber_them() -> None:
    # qwen2.5-7b has 4 KV heads: on 8 GPUs each still holds one head, a quarter of the cache.
    result = sizing.size(request(7.6, "none", "qwen2.5-7b", shards=8))
    weights_per_gpu = 7.6e9 * 2 / GIB / 8
    expected = weights_per_gpu + result.kv_cache_gib / 4 + 1.5 + 0.05 * weights_per_gpu
    assert result.required_per_gpu_gib == pytest.approx(expected)


def test_an_explicit_architecture_is_accepted() -> None:
    custom = sizing.Architecture(layers=24, kv_heads=16, head_dim=64)
    result = sizing.size(dataclasses.replace(request(1.3, gpu="a10g"), architecture=custom))
    assert result.kv_cache_gib == pytest.approx(2 * 24 * 16 * 64 * 2 * 4096 * 8 / GIB)
    assert result.reason.startswith("custom (1.3B) none on 1×a10g: ")


# --- tables and errors ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("quantization", "expected"),
    [
        ("none", 2),
        ("fp16", 2),
        ("bf16", 2),
        ("fp8", 1),
        ("int8", 1),
        ("eetq", 1),
        ("bitsandbytes", 1),
        ("awq", 0.5),
        ("gptq", 0.5),
        ("bitsandbytes-nf4", 0.5),
        ("bitsandbytes-fp4", 0.5),
    ],
)
def test_bytes_per_parameter(quantization: str, expected: float) -> None:
    assert sizing.bytes_per_parameter(quantization) == expected


def test_quantizations_are_exactly_the_priced_ones() -> None:
    assert len(sizing.QUANTIZATIONS) == 11
    assert all(sizing.bytes_per_parameter(q) > 0 for q in sizing.QUANTIZATIONS)


@pytest.mark.parametrize(
    ("family", "shape"),
    [
        ("llama-3-8b", (32, 8, 128)),
        ("llama-3-70b", (80, 8, 128)),
        ("llama-2-7b", (32, 32, 128)),
        ("llama-2-13b", (40, 40, 128)),
        ("mistral-7b", (32, 8, 128)),
        ("mixtral-8x7b", (32, 8, 128)),
        ("qwen2.5-7b", (28, 4, 128)),
        ("qwen2.5-72b", (80, 8, 128)),
    ],
)
def test_architectures(family: str, shape: tuple[int, int, int]) -> None:
    found = sizing.architecture(family)
    assert (found.layers, found.kv_heads, found.head_dim) == shape
    assert found.name == family


def test_unknown_family_lists_the_known_ones() -> None:
    with pytest.raises(KeyError) as raised:
        sizing.architecture("gpt-2")
    assert isinstance(raised.value, catalog.UnknownCatalogEntry)
    assert str(raised.value) == "unknown model family 'gpt-2'; allowed: " + ", ".join(sizing.families())


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"quantization": "fp8", "gpu": "a10g"}, "fp8 needs a GPU with FP8 support (h100); a10g has none"),
        ({"shards": 3}, "shards must be one of 1, 2, 4, 8 on h100, got 3"),
        ({"shards": 16}, "shards must be one of 1, 2, 4, 8 on h100, got 16"),
        ({"parameters_billion": 0}, "parameters_billion must be > 0, got 0"),
        ({"parameters_billion": -7}, "parameters_billion must be > 0, got -7"),
        ({"max_total_tokens": 0}, "max_total_tokens and max_batch_size must be > 0"),
        ({"max_batch_size": 0}, "max_total_tokens and max_batch_size must be > 0"),
        ({"quantization": "int4"}, "unknown quantization 'int4'; allowed: none, fp16"),
        ({"gpu": "a100"}, "unknown GPU 'a100'; allowed: a10g, h100"),
    ],
)
def test_invalid_requests_raise_sizing_error(changes: dict[str, object], message: str) -> None:
    with pytest.raises(sizing.SizingError) as raised:
        sizing.size(dataclasses.replace(request(), **changes))
    assert isinstance(raised.value, ValueError)
    assert str(raised.value).startswith(message)


def test_fp8_is_accepted_on_h100() -> None:
    assert sizing.size(request(8, "fp8", "llama-3-8b")).fits
    assert sizing.size(request(quantization="fp8", shards=2)).fits


def test_an_architecture_needs_positive_dimensions() -> None:
    with pytest.raises(sizing.SizingError, match="must be > 0"):
        sizing.Architecture(layers=0, kv_heads=8, head_dim=128)


def test_minimum_shards() -> None:
    assert sizing.minimum_shards(request(quantization="awq", shards=8), max_shards=8) == 1
    assert sizing.minimum_shards(request(), max_shards=2) is None
    assert sizing.minimum_shards(request(405), max_shards=8) is None
    assert sizing.minimum_shards(request(gpu="a10g", max_batch_size=4), max_shards=8) == 8


def test_startup_seconds() -> None:
    assert sizing.startup_seconds(0) == 180
    assert sizing.startup_seconds(70e9 * 2 / GIB) == math.ceil(180 + 4 * 70e9 * 2 / GIB) == 702
    assert sizing.startup_seconds(10_000) == 3600
    with pytest.raises(sizing.SizingError):
        sizing.startup_seconds(-1)


# --- properties ----------------------------------------------------------------------------------

parameters = st.floats(min_value=0.1, max_value=1000, allow_nan=False)
families = st.sampled_from(sizing.families())
tokens = st.integers(min_value=1, max_value=262_144)
batches = st.integers(min_value=1, max_value=512)
gpus = st.sampled_from(catalog.gpu_keys())
quantizations = st.sampled_from(sizing.QUANTIZATIONS)
shard_counts = st.sampled_from(sizing.SHARD_COUNTS)
shard_pairs = st.tuples(shard_counts, shard_counts).map(sorted)


def _valid_quantization(quantization: str, gpu: str) -> str:
    return "fp16" if quantization == "fp8" and not catalog.gpu(gpu).supports_fp8 else quantization


@given(parameters, quantizations, families, tokens, batches, gpus, shard_pairs)
def test_more_shards_never_stop_a_model_fitting(p, q, family, t, b, gpu, pair) -> None:
    fewer, more = pair
    base = request(p, _valid_quantization(q, gpu), family, t, b, gpu)
    small = sizing.size(dataclasses.replace(base, shards=fewer))
    large = sizing.size(dataclasses.replace(base, shards=more))
    assert large.required_per_gpu_gib <= small.required_per_gpu_gib + 1e-9
    assert large.fits or not small.fits


@given(parameters, quantizations, quantizations, families, tokens, batches, shard_counts)
def test_lower_precision_never_needs_more_memory(p, q1, q2, family, t, b, shards) -> None:
    low, high = sorted((q1, q2), key=sizing.bytes_per_parameter)
    needs_low = sizing.size(request(p, low, family, t, b, "h100", shards)).required_per_gpu_gib
    needs_high = sizing.size(request(p, high, family, t, b, "h100", shards)).required_per_gpu_gib
    assert needs_low <= needs_high


@given(parameters, families, tokens, tokens, batches, batches, gpus)
def test_required_memory_grows_with_tokens_and_batch(p, family, t1, t2, b1, b2, gpu) -> None:
    (t_low, t_high), (b_low, b_high) = sorted((t1, t2)), sorted((b1, b2))
    low = sizing.size(request(p, "none", family, t_low, b_low, gpu)).required_per_gpu_gib
    more_tokens = sizing.size(request(p, "none", family, t_high, b_low, gpu)).required_per_gpu_gib
    more_batch = sizing.size(request(p, "none", family, t_low, b_high, gpu)).required_per_gpu_gib
    assert low <= more_tokens
    assert low <= more_batch


@given(st.floats(min_value=0, max_value=2000), st.floats(min_value=0, max_value=2000))
def test_startup_seconds_never_shrinks_with_bigger_weights(w1: float, w2: float) -> None:
    low, high = sorted((w1, w2))
    assert 180 <= sizing.startup_seconds(low) <= sizing.startup_seconds(high) <= 3600
