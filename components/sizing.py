"""Does a model fit its GPUs? The memory arithmetic behind every placement decision.

Per GPU, a served model needs

    weights / shards + KV cache / shards + overhead

and has `usable_gib x GPU_MEMORY_UTILISATION` of the GPU (see `components.catalog`). Weights and
KV cache are split evenly by tensor parallelism; the overhead is paid on every GPU.

- Weights: parameters x bytes per parameter of the quantization. Mixture-of-experts models
  count all experts (Mixtral 8x7B: 46.7B), because every expert is resident.
- KV cache: 2 (K and V) x layers x kv_heads x head_dim x 2 bytes (16-bit cache) per token, for
  `max_total_tokens x max_batch_size` tokens, the worst case the server admits at once. When
  there are more shards than KV heads, vLLM and TGI replicate heads, so a GPU never holds less
  than one head's share.
- Overhead: `CUDA_RESERVED_GIB_PER_GPU` (CUDA context, cuBLAS/NCCL workspaces, CUDA graphs) plus
  `ACTIVATION_FRACTION` of the GPU's weights for activations and temporary buffers, which grow
  with the model's width. Both are rules of thumb, on the safe side of what vLLM logs for
  Llama-class models.
- Budget: vLLM reserves `--gpu-memory-utilization` (default 0.9) of the GPU and fails at
  start-up if weights, activations and KV cache do not fit in it; we use the same fraction of
  the usable memory for both engines (TGI's `--cuda-memory-fraction` defaults to 1.0, so 0.9
  leaves it headroom for fragmentation).

The verdict is deliberately conservative: a false "does not fit" costs a config change, a false
"fits" costs a crash-looping pod on a GPU node billed by the hour.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

from components import catalog

GIB = 1024**3

_BYTES_PER_PARAMETER: dict[str, float] = {
    "none": 2,
    "fp16": 2,
    "bf16": 2,
    "fp8": 1,
    "int8": 1,
    "eetq": 1,
    "bitsandbytes": 1,
    "bitsandbytes-nf4": 0.5,
    "bitsandbytes-fp4": 0.5,
    "awq": 0.5,
    "gptq": 0.5,
}

QUANTIZATIONS: tuple[str, ...] = tuple(_BYTES_PER_PARAMETER)

SHARD_COUNTS: tuple[int, ...] = (1, 2, 4, 8)

KV_CACHE_BYTES_PER_VALUE = 2
CUDA_RESERVED_GIB_PER_GPU = 1.5
ACTIVATION_FRACTION = 0.05
GPU_MEMORY_UTILISATION = 0.9

# Start-up budget: CUDA and NCCL init, CUDA graph capture and the warm-up prefill, plus reading
# the weights from local NVMe into GPU memory at an assumed 256 MiB/s (4 s per GiB): a 4x margin
# under one instance-store NVMe disk's ~1 GiB/s, for a cold page cache and per-tensor copies.
STARTUP_BASE_SECONDS = 180
STARTUP_SECONDS_PER_WEIGHT_GIB = 4
STARTUP_MAX_SECONDS = 3600


class SizingError(ValueError):
    """A sizing request that cannot be answered (fp8 without FP8 hardware, bad shard count...)."""


@dataclass(frozen=True)
class Architecture:
    """The transformer shape that determines the KV cache size."""

    layers: int
    kv_heads: int
    head_dim: int
    name: str = "custom"
    parameters_billion: float | None = None  # published total, for reference

    def __post_init__(self) -> None:
        if min(self.layers, self.kv_heads, self.head_dim) <= 0:
            raise SizingError(f"architecture '{self.name}': layers, kv_heads and head_dim must be > 0")

    @property
    def kv_bytes_per_token(self) -> int:
        return 2 * self.layers * self.kv_heads * self.head_dim * KV_CACHE_BYTES_PER_VALUE


# From each model's config.json on Hugging Face (num_hidden_layers, num_key_value_heads,
# hidden_size / num_attention_heads).
_ARCHITECTURES: dict[str, Architecture] = {
    a.name: a
    for a in (
        Architecture(32, 8, 128, "llama-3-8b", 8.0),
        Architecture(80, 8, 128, "llama-3-70b", 70.6),
        Architecture(32, 32, 128, "llama-2-7b", 6.7),
        Architecture(40, 40, 128, "llama-2-13b", 13.0),
        Architecture(32, 8, 128, "mistral-7b", 7.2),
        Architecture(32, 8, 128, "mixtral-8x7b", 46.7),
        Architecture(28, 4, 128, "qwen2.5-7b", 7.6),
        Architecture(80, 8, 128, "qwen2.5-72b", 72.7),
    )
}


def architecture(family: str) -> Architecture:
    """The architecture of a known model family; raises `catalog.UnknownCatalogEntry` otherwise."""
    try:
        return _ARCHITECTURES[family]
    except KeyError:
        raise catalog.UnknownCatalogEntry("model family", family, families()) from None


def families() -> tuple[str, ...]:
    return tuple(sorted(_ARCHITECTURES))


def bytes_per_parameter(quantization: str) -> float:
    try:
        return _BYTES_PER_PARAMETER[quantization]
    except KeyError:
        allowed = ", ".join(QUANTIZATIONS)
        raise SizingError(f"unknown quantization '{quantization}'; allowed: {allowed}") from None


@dataclass(frozen=True)
class SizingRequest:
    parameters_billion: float
    quantization: str
    architecture: Architecture
    max_total_tokens: int
    max_batch_size: int
    gpu: str
    shards: int = 1


@dataclass(frozen=True)
class SizingResult:
    """The verdict with its numbers. Weights and KV cache are model totals; the rest is per GPU."""

    fits: bool
    weights_gib: float
    kv_cache_gib: float
    overhead_gib: float
    required_per_gpu_gib: float
    available_per_gpu_gib: float
    shards: int
    reason: str


def size(request: SizingRequest) -> SizingResult:
    """Whether the request fits, and the arithmetic that says so."""
    gpu = _validate(request)
    weights_gib = request.parameters_billion * 1e9 * bytes_per_parameter(request.quantization) / GIB
    tokens = request.max_total_tokens * request.max_batch_size
    kv_cache_gib = request.architecture.kv_bytes_per_token * tokens / GIB
    weights_per_gpu = weights_gib / request.shards
    # Each GPU holds kv_heads / shards heads, but at least one (heads are replicated, not split).
    kv_per_gpu = kv_cache_gib * max(1 / request.shards, 1 / request.architecture.kv_heads)
    overhead = CUDA_RESERVED_GIB_PER_GPU + ACTIVATION_FRACTION * weights_per_gpu
    required = weights_per_gpu + kv_per_gpu + overhead
    available = gpu.usable_gib * GPU_MEMORY_UTILISATION
    reason = (
        f"{request.architecture.name} ({request.parameters_billion:g}B) {request.quantization} on "
        f"{request.shards}×{gpu.key}: needs {required:.1f} GiB per GPU (weights {weights_per_gpu:.1f} "
        f"+ kv {kv_per_gpu:.1f} + overhead {overhead:.1f}), has {available:.1f} GiB"
    )
    return SizingResult(
        fits=required <= available,
        weights_gib=weights_gib,
        kv_cache_gib=kv_cache_gib,
        overhead_gib=overhead,
        required_per_gpu_gib=required,
        available_per_gpu_gib=available,
        shards=request.shards,
        reason=reason,
    )


def minimum_shards(request: SizingRequest, max_shards: int) -> int | None:
    """The fewest shards (from `SHARD_COUNTS`, up to `max_shards`) that fit; None if none do.

    The request's own `shards` is ignored.
    """
    for shards in SHARD_COUNTS:
        if shards > max_shards:
            break
        if size(dataclasses.replace(request, shards=shards)).fits:
            return shards
    return None


def startup_seconds(weights_gib: float) -> int:
    """A conservative time to load `weights_gib` of weights from local NVMe and warm up.

    The model server's startupProbe budget derives from it: too short and the kubelet kills a
    pod that is still loading, in a loop; too long only delays noticing a stuck one.
    """
    if weights_gib < 0:
        raise SizingError(f"weights_gib must be >= 0, got {weights_gib}")
    seconds = STARTUP_BASE_SECONDS + STARTUP_SECONDS_PER_WEIGHT_GIB * weights_gib
    return min(math.ceil(seconds), STARTUP_MAX_SECONDS)


def _validate(request: SizingRequest) -> catalog.GpuModel:
    try:
        gpu = catalog.gpu(request.gpu)
    except catalog.UnknownCatalogEntry as exc:
        raise SizingError(str(exc)) from None
    bytes_per_parameter(request.quantization)
    if request.parameters_billion <= 0:
        raise SizingError(f"parameters_billion must be > 0, got {request.parameters_billion:g}")
    if request.max_total_tokens <= 0 or request.max_batch_size <= 0:
        raise SizingError("max_total_tokens and max_batch_size must be > 0")
    if request.quantization == "fp8" and not gpu.supports_fp8:
        with_fp8 = ", ".join(k for k in catalog.gpu_keys() if catalog.gpu(k).supports_fp8)
        raise SizingError(f"fp8 needs a GPU with FP8 support ({with_fp8}); {gpu.key} has none")
    max_gpus = max(i.gpu_count for i in catalog.instance_types_for(gpu.key))
    if request.shards not in SHARD_COUNTS or request.shards > max_gpus:
        allowed = ", ".join(str(s) for s in SHARD_COUNTS if s <= max_gpus)
        raise SizingError(f"shards must be one of {allowed} on {gpu.key}, got {request.shards}")
    return gpu
