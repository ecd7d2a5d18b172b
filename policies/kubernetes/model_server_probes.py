"""kubernetes-model-server-probes — model servers have startup and readiness probes, their liveness
probe never uses /health, and a TGI server's readiness probe does not either (TGI answers 503 there
when its queue is full: text-generation-inference issue 3241)."""

from pulumi_policy import (
    EnforcementLevel,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
)

from policies.review import Controls, Review
from policies.support import is_model_server, pod_spec

HEALTH_PATH = "/health"
TGI_IMAGE = "text-generation-inference"


def _path(probe: dict) -> str:
    return str((probe.get("httpGet") or {}).get("path") or "").split("?", 1)[0].rstrip("/")


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    pod = pod_spec(args.resource_type, args.props)
    if pod is None or not is_model_server(args.props):
        return
    for container in pod.get("containers") or []:
        label = f"container '{container.get('name', '?')}'"
        for probe in ("startupProbe", "readinessProbe"):
            if not container.get(probe):
                report_violation(f"{label} has no {probe}.", None)
        if _path(container.get("livenessProbe") or {}) == HEALTH_PATH:
            report_violation(
                f"{label} livenessProbe uses {HEALTH_PATH}, which fails under load: a busy server would be restarted.",
                None,
            )
        tgi = TGI_IMAGE in str(container.get("image") or "")
        if tgi and _path(container.get("readinessProbe") or {}) == HEALTH_PATH:
            report_violation(
                f"{label} readinessProbe uses {HEALTH_PATH}, which TGI answers 503 while its queue is full: "
                "saturated replicas would leave the Service at peak load (use /info).",
                None,
            )


policy = ResourceValidationPolicy(
    name="kubernetes-model-server-probes",
    description=(
        "Model server containers have a startupProbe (weights take minutes to load) and a readinessProbe; a "
        "livenessProbe, if any, does not use /health, nor does a TGI container's readinessProbe."
    ),
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.MEDIUM,
    remediation_steps=(
        "Use components.serving.ModelServer, or add a startupProbe sized from sizing.startup_seconds, a "
        "readinessProbe that means 'can serve' (TGI /info, vLLM /health), and a livenessProbe on a path that does "
        "not queue (TGI /info, vLLM /version)."
    ),
    validate=validate,
)

review = Review(
    area="compute",
    controls=Controls(soc2=("A1.2",)),
    why=(
        "Without a startup probe the kubelet kills replicas still loading tens of gigabytes of weights; without "
        "readiness, traffic reaches replicas that cannot answer; a liveness probe on /health restarts busy GPUs."
    ),
)
