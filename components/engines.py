"""Inference engines behind one ModelServer: pinned images, command lines, probe paths (pure).

TGI is the default; vLLM is the second engine because TGI is in maintenance mode upstream.
Everything engine-specific lives here as data and small functions, so `ModelServer` builds the
same Deployment for either engine and a golden file can pin the exact TGI command line.
"""

from __future__ import annotations

from dataclasses import dataclass

from components import sizing
from components.conventions import HTTP_PORT_NAME, METRICS_PORT_NAME

ENGINES = ("tgi", "vllm")


@dataclass(frozen=True)
class ModelSpec:
    """What an engine needs to know about a model; mirrors the model's stack config."""

    name: str
    revision: str
    """Pinned revision; weights live under models/<name>/<revision>/ in the weight bucket."""
    parameters_billion: float
    family: str
    """Architecture family from `sizing.families()` (KV cache shape)."""
    quantization: str = "none"
    shards: int = 1
    max_input_tokens: int = 4096
    max_total_tokens: int = 8192
    max_batch_prefill_tokens: int = 8192
    max_batch_size: int = 8

    def sizing_request(self, gpu: str) -> sizing.SizingRequest:
        return sizing.SizingRequest(
            parameters_billion=self.parameters_billion,
            quantization=self.quantization,
            architecture=sizing.architecture(self.family),
            max_total_tokens=self.max_total_tokens,
            max_batch_size=self.max_batch_size,
            gpu=gpu,
            shards=self.shards,
        )


@dataclass(frozen=True)
class Engine:
    name: str
    image: str
    """Default image, pinned to an exact release tag."""
    command: tuple[str, ...]
    """Empty: the image's entrypoint."""
    readiness_path: str
    """"Can serve": the kubelet's readiness probe and the NLB target group's health check. Never
    TGI's /health, which answers 503 while its queue is full (TGI issue 3241): saturated replicas
    would drop out of the Service and the target group exactly at peak load."""
    liveness_path: str
    """"Is alive": a path that never queues, so a busy server is not restarted."""
    separate_metrics_port: bool
    """True: /metrics on its own port; False: on the HTTP port."""
    drain_seconds: int
    """Time the engine needs after SIGTERM to finish in-flight generations."""
    queue_metric: str
    """Prometheus gauge of requests waiting for a batch slot, per server (the scalers' main signal)."""
    running_metric: str
    """Prometheus gauge of requests in the running batch, per server (batch occupancy)."""

    @property
    def metrics_port_name(self) -> str:
        """The container port /metrics is served on (scraped by the metrics agent)."""
        return METRICS_PORT_NAME if self.separate_metrics_port else HTTP_PORT_NAME

    @property
    def custom_queue_metric(self) -> str:
        """Name prometheus-adapter serves `queue_metric` under to HPAs.

        Without colons (Prometheus reserves them for recording rules; vLLM uses them as a namespace
        separator), so the HPA names a plain identifier: `vllm:num_requests_waiting` is served as
        `vllm_num_requests_waiting`.
        """
        return self.queue_metric.replace(":", "_")


ENGINE_SPECS: dict[str, Engine] = {
    "tgi": Engine(
        name="tgi",
        image="ghcr.io/huggingface/text-generation-inference:3.3.4",
        command=(),
        # The router serves /info from memory (router/src/server.rs `get_model_info`) and listens
        # only after the launcher has loaded and warmed up every shard, so it answers 200 exactly
        # when the model can serve, busy or not; /health runs `infer.health()` and fails under load.
        # A shard that dies takes the launcher down with it, so the container restarts.
        readiness_path="/info",
        liveness_path="/info",
        separate_metrics_port=True,
        drain_seconds=120,
        queue_metric="tgi_queue_size",
        running_metric="tgi_batch_current_size",
    ),
    "vllm": Engine(
        name="vllm",
        image="docker.io/vllm/vllm-openai:v0.11.0",
        command=("python3", "-m", "vllm.entrypoints.openai.api_server"),
        # vLLM's /health is 200 unless the engine is dead (entrypoints/openai/api_server.py:
        # `check_health()`, EngineDeadError → 503); it does not look at the queue.
        readiness_path="/health",
        liveness_path="/version",
        separate_metrics_port=False,
        drain_seconds=120,
        # vLLM's scheduler gauges (vllm/v1/metrics/loggers.py; the v0 engine used the same names).
        queue_metric="vllm:num_requests_waiting",
        running_metric="vllm:num_requests_running",
    ),
}

# `aws s3 sync` and `sha256sum` for the weight-sync init container (Amazon Linux based).
WEIGHT_SYNC_IMAGE = "public.ecr.aws/aws-cli/aws-cli:2.27.26"

# Our quantization names -> the engine's flag value; None: the checkpoint's own dtype, no flag.
_TGI_QUANTIZE = {
    "none": None,
    "fp16": None,
    "bf16": None,
    "fp8": "fp8",
    "eetq": "eetq",
    "bitsandbytes": "bitsandbytes",
    "bitsandbytes-nf4": "bitsandbytes-nf4",
    "bitsandbytes-fp4": "bitsandbytes-fp4",
    "awq": "awq",
    "gptq": "gptq",
}
_VLLM_QUANTIZATION = {
    "none": None,
    "fp16": None,
    "bf16": None,
    "fp8": "fp8",
    "bitsandbytes": "bitsandbytes",
    "bitsandbytes-nf4": "bitsandbytes",
    "bitsandbytes-fp4": "bitsandbytes",
    "awq": "awq",
    "gptq": "gptq",
}
_QUANTIZATION_FLAGS = {"tgi": _TGI_QUANTIZE, "vllm": _VLLM_QUANTIZATION}
_DTYPE = {"fp16": "float16", "bf16": "bfloat16"}


def quantizations(engine_name: str) -> tuple[str, ...]:
    """The quantizations an engine can serve (our names)."""
    return tuple(sorted(_QUANTIZATION_FLAGS[engine_name]))


def engine(name: str) -> Engine:
    try:
        return ENGINE_SPECS[name]
    except KeyError:
        raise ValueError(f"engine: must be one of {', '.join(ENGINES)} (got {name!r})") from None


def model_dir(mount: str, spec: ModelSpec) -> str:
    """Where the model's files are inside the container."""
    return f"{mount}/{spec.name}/{spec.revision}"


def _flag_value(table: dict[str, str | None], engine_name: str, quantization: str) -> str | None:
    if quantization not in table:
        allowed = ", ".join(sorted(table))
        raise ValueError(f"quantization: {engine_name} cannot serve {quantization!r}; allowed: {allowed}")
    return table[quantization]


def tgi_args(spec: ModelSpec, model_path: str, http_port: int, metrics_port: int) -> list[str]:
    """text-generation-launcher arguments; the model is read from local disk, never the Hub."""
    args = ["--model-id", model_path, "--num-shard", str(spec.shards)]
    quantize = _flag_value(_TGI_QUANTIZE, "tgi", spec.quantization)
    if quantize:
        args += ["--quantize", quantize]
    if spec.quantization in _DTYPE:
        args += ["--dtype", _DTYPE[spec.quantization]]
    args += [
        "--max-input-tokens",
        str(spec.max_input_tokens),
        "--max-total-tokens",
        str(spec.max_total_tokens),
        "--max-batch-prefill-tokens",
        str(spec.max_batch_prefill_tokens),
        # The batch size sizing and the KEDA batch divisor assume (vLLM: --max-num-seqs); without
        # it TGI batches up to its token budget, and the scaler's "full batch" never happens.
        "--max-batch-size",
        str(spec.max_batch_size),
        "--hostname",
        "0.0.0.0",
        "--port",
        str(http_port),
        "--prometheus-port",
        str(metrics_port),
        "--json-output",
    ]
    return args


def vllm_args(spec: ModelSpec, model_path: str, http_port: int) -> list[str]:
    """vLLM OpenAI server arguments; the same limits as TGI under vLLM's names."""
    args = ["--model", model_path, "--served-model-name", spec.name, "--tensor-parallel-size", str(spec.shards)]
    quantization = _flag_value(_VLLM_QUANTIZATION, "vllm", spec.quantization)
    if quantization:
        args += ["--quantization", quantization]
    if spec.quantization in _DTYPE:
        args += ["--dtype", _DTYPE[spec.quantization]]
    args += [
        "--max-model-len",
        str(spec.max_total_tokens),
        "--max-num-batched-tokens",
        str(spec.max_batch_prefill_tokens),
        "--max-num-seqs",
        str(spec.max_batch_size),
        "--gpu-memory-utilization",
        str(sizing.GPU_MEMORY_UTILISATION),
        "--host",
        "0.0.0.0",
        "--port",
        str(http_port),
    ]
    return args


def engine_args(name: str, spec: ModelSpec, model_path: str, http_port: int, metrics_port: int) -> list[str]:
    if engine(name).name == "tgi":
        return tgi_args(spec, model_path, http_port, metrics_port)
    return vllm_args(spec, model_path, http_port)


def weight_sync_script() -> str:
    """The init container's shell script; its inputs come from the environment.

    `aws s3 sync` skips files already on the node (same size, not older). `SHA256SUMS` is the last
    object `llmstack weights push` writes, so a revision still being pushed fails the check and the
    pod retries. A `.verified` marker makes restarts on the same node skip both steps.
    """
    return """set -eu
if [ -n "${AWS_CREDENTIAL_PROCESS:-}" ]; then
  # IAM Roles Anywhere: short-lived credentials from the credential helper, none stored
  printf '[default]\\ncredential_process = %s\\n' "$AWS_CREDENTIAL_PROCESS" > /tmp/aws-config
  export AWS_CONFIG_FILE=/tmp/aws-config
fi
dest="$WEIGHTS_DIR"
if [ -f "$dest/.verified" ]; then
  echo "weights in $dest already verified"
  exit 0
fi
mkdir -p "$dest"
aws s3 sync "s3://$WEIGHTS_BUCKET/$WEIGHTS_PREFIX" "$dest" --only-show-errors --no-progress
cd "$dest"
if ! sha256sum --check --quiet --strict SHA256SUMS; then
  # sync skips same-size files: remove corrupt ones so the next attempt downloads them again
  sha256sum --check SHA256SUMS 2>/dev/null | sed -n 's/: FAILED.*$//p' | while IFS= read -r f; do rm -f -- "$f"; done
  exit 1
fi
touch .verified
"""
