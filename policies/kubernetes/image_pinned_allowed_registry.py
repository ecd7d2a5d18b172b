"""kubernetes-image-pinned-from-allowed-registry — images come from a reviewed registry, pinned to
a digest or an exact release tag, so a deployment runs the bytes that were reviewed."""

import re

from pulumi_policy import (
    EnforcementLevel,
    PolicyComplianceFramework,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
)

from policies.review import Controls, Review
from policies.support import containers, pod_spec

DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")
# An exact release: 1.2.3 or v1.2.3, optionally with a build suffix (3.3.4-rocm); never latest, 3 or 3.3.
EXACT_TAG = re.compile(r"^v?\d+\.\d+\.\d+(?:[.+-][0-9A-Za-z.+-]+)?$")


def normalize(image: str) -> str:
    """Docker Hub shorthand spelled out: `vllm/vllm-openai` -> `docker.io/vllm/vllm-openai`."""
    first = image.split("/", 1)[0]
    if "/" not in image:
        return f"docker.io/library/{image}"
    if "." not in first and ":" not in first and first != "localhost":
        return f"docker.io/{image}"
    return image


def _problem(image: str, allowed: list[str]) -> str | None:
    full = normalize(image)
    if not any(full.startswith(registry.rstrip("/") + "/") for registry in allowed):
        return f"is not from an allowed registry ({', '.join(allowed) or 'none configured'})"
    if DIGEST.search(full):
        return None
    name = full.rsplit("/", 1)[-1]
    tag = name.split(":", 1)[1] if ":" in name else None
    if tag is None:
        return "has no tag or digest (would pull latest)"
    if not EXACT_TAG.fullmatch(tag):
        return f"tag '{tag}' is not an exact release (x.y.z) or a sha256 digest"
    return None


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    pod = pod_spec(args.resource_type, args.props)
    if pod is None:
        return
    allowed = list(args.get_config().get("allowedRegistries") or [])
    for label, container in containers(pod):
        image = str(container.get("image") or "")
        problem = "has no image" if not image else _problem(image, allowed)
        if problem:
            report_violation(f"{label}: image '{image}' {problem}.", None)


policy = ResourceValidationPolicy(
    name="kubernetes-image-pinned-from-allowed-registry",
    description="Container images come from an allowed registry and are pinned by sha256 digest or exact x.y.z tag.",
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    framework=PolicyComplianceFramework(name="CIS EKS", reference="5.1.4", version="1.7.0"),
    config_schema=PolicyConfigSchema(
        properties={"allowedRegistries": {"type": "array", "items": {"type": "string"}, "minItems": 1}},
        required=["allowedRegistries"],
    ),
    remediation_steps=(
        "Use an image from `llm-serving:policy.allowed_registries` with an exact release tag (e.g. 3.3.4) or "
        "`@sha256:<digest>`; extend the registry list in the stack file only after review."
    ),
    validate=validate,
)

review = Review(
    area="kubernetes",
    controls=Controls(cis_eks=("5.1.4",), nist_800_53=("CM-2", "SI-7"), soc2=("CC6.8", "CC8.1")),
    why=(
        "A moving tag lets a registry push change the code that sees every prompt without a review, and an "
        "unapproved registry puts anyone's image on GPU nodes next to the weights."
    ),
)
