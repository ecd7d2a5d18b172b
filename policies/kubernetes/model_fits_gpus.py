"""model-fits-gpus — every model server provably fits the GPUs it requests.

The sizing question is read from the Deployment's `llm-serving/*` annotations (ModelServer sets
them) and answered by `components.sizing`, the same arithmetic the stack config uses.
"""

from pulumi_policy import (
    EnforcementLevel,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
)

from components import sizing
from components.conventions import GPU_RESOURCE, SIZING_ANNOTATION_PREFIX, SIZING_ANNOTATIONS
from policies.review import Controls, Review
from policies.support import is_model_server, pod_spec


def _request(annotations: dict[str, str]) -> sizing.SizingRequest:
    value = {key: annotations[SIZING_ANNOTATION_PREFIX + key] for key in SIZING_ANNOTATIONS}
    return sizing.SizingRequest(
        parameters_billion=float(value["parameters-billion"]),
        quantization=value["quantization"],
        architecture=sizing.architecture(value["family"]),
        max_total_tokens=int(value["max-total-tokens"]),
        max_batch_size=int(value["max-batch-size"]),
        gpu=value["gpu"],
        shards=int(value["shards"]),
    )


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    pod = pod_spec(args.resource_type, args.props)
    if pod is None or not is_model_server(args.props):
        return
    annotations = dict((args.props.get("metadata") or {}).get("annotations") or {})
    missing = [key for key in SIZING_ANNOTATIONS if SIZING_ANNOTATION_PREFIX + key not in annotations]
    if missing:
        names = ", ".join(SIZING_ANNOTATION_PREFIX + key for key in missing)
        report_violation(f"cannot prove the model fits its GPUs: missing annotations {names}.", None)
        return
    try:
        request = _request(annotations)
        result = sizing.size(request)
    except (ValueError, KeyError) as exc:
        report_violation(f"cannot size the model: {exc}.", None)
        return
    if not result.fits:
        report_violation(f"the model does not fit: {result.reason}.", None)
    gpus = [
        str(((c.get("resources") or {}).get("limits") or {}).get(GPU_RESOURCE, 0)) for c in pod.get("containers") or []
    ]
    if str(request.shards) not in gpus:
        report_violation(
            f"sized for {request.shards} shard(s) but no container is limited to {request.shards} {GPU_RESOURCE} "
            f"(limits: {', '.join(gpus) or 'none'}).",
            None,
        )


policy = ResourceValidationPolicy(
    name="model-fits-gpus",
    description=(
        "A model server's model (weights, KV cache for max_total_tokens x max_batch_size, overhead) fits the GPU "
        "memory of its shards, and its container requests exactly that many GPUs."
    ),
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.CRITICAL,
    remediation_steps=(
        "Add shards, pick a larger GPU, quantize (awq/gptq/eetq; fp8 on H100 only), or lower max_total_tokens or "
        "max_batch_size in the model's stack config; `llmstack plan` shows the numbers."
    ),
    validate=validate,
)

review = Review(
    area="compute",
    controls=Controls(nist_800_53=("SC-6",), soc2=("A1.1",)),
    why=(
        "A model that does not fit its GPUs crash-loops out of memory at full GPU price; one that asks for more "
        "GPUs than it needs pays for idle accelerators."
    ),
)
