"""gpu-types-allowed — the plan runs only GPU types the stack allows, on instance types the catalog knows.

Reads what the plan itself says: node groups' `instanceTypes` and GPU label, launch templates'
`instanceType`, and the GPU every model server is sized for (the `llm-serving/gpu` annotation and
node selector), which is how an on-prem target's GPU appears in the plan.
"""

from collections.abc import Mapping
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyComplianceFramework,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
)

from components import catalog
from components.conventions import GPU_LABEL, SIZING_ANNOTATION_PREFIX
from policies.review import Controls, Review
from policies.support import LAUNCH_TEMPLATE_TYPE, NODE_GROUP_TYPE, as_list, pod_spec

GPU_ANNOTATION = f"{SIZING_ANNOTATION_PREFIX}gpu"


def _instance_type_problems(what: str, name: Any, allowed: list[str]) -> list[str]:
    try:
        instance = catalog.instance_type(str(name))
    except catalog.UnknownCatalogEntry:
        return [f"{what} '{name}' is not in the catalog (components/catalog.py): its GPU and price are unknown."]
    if instance.gpu is not None and instance.gpu not in allowed:
        return [f"{what} '{name}' carries GPU '{instance.gpu}', not in allowedGpuTypes ({', '.join(allowed)})."]
    return []


def _catalog_gpu(name: Any) -> str | None:
    try:
        return catalog.instance_type(str(name)).gpu
    except catalog.UnknownCatalogEntry:
        return None


def _gpu_problem(where: str, gpu: Any, allowed: list[str]) -> list[str]:
    if gpu is None or gpu in allowed:
        return []
    return [f"{where} names GPU '{gpu}', not in allowedGpuTypes ({', '.join(allowed)})."]


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    allowed = [str(gpu) for gpu in as_list(args.get_config().get("allowedGpuTypes"))]
    props = args.props
    problems: list[str] = []
    if args.resource_type == NODE_GROUP_TYPE:
        types = as_list(props.get("instanceTypes"))
        if not types:
            problems.append("node group sets no instanceTypes (EKS would pick t3.medium): its GPU is unknown.")
        for name in types:
            problems += _instance_type_problems("instance type", name, allowed)
        label = _mapping(props.get("labels")).get(GPU_LABEL)
        problems += _gpu_problem(f"label {GPU_LABEL}", label, allowed)
        # The label steers model servers onto these nodes: it must name the GPU the nodes really have.
        for name in types:
            carried = _catalog_gpu(name)
            if label is not None and carried is not None and label != carried:
                problems.append(f"label {GPU_LABEL} says '{label}' but instance type '{name}' carries GPU '{carried}'.")
    elif args.resource_type == LAUNCH_TEMPLATE_TYPE and props.get("instanceType") is not None:
        problems += _instance_type_problems("launch template instance type", props.get("instanceType"), allowed)
    else:
        try:
            spec = pod_spec(args.resource_type, props)
        except (AttributeError, TypeError, ValueError):
            spec = None  # a malformed workload: other policies report it; nothing to read here
        if not isinstance(spec, Mapping):
            return
        annotations = _mapping(_mapping(props.get("metadata")).get("annotations"))
        problems += _gpu_problem(f"annotation {GPU_ANNOTATION}", annotations.get(GPU_ANNOTATION), allowed)
        selector = _mapping(spec.get("nodeSelector"))
        problems += _gpu_problem(f"nodeSelector {GPU_LABEL}", selector.get(GPU_LABEL), allowed)
    for problem in problems:
        report_violation(problem, None)


policy = ResourceValidationPolicy(
    name="gpu-types-allowed",
    description=(
        "Node groups and launch templates use instance types from the catalog whose GPU is in the stack's "
        "allowedGpuTypes (policy.allowed_gpu_types), a node group's GPU label names the GPU its instances carry, "
        "and every workload sized for or scheduled on a GPU (on EKS or "
        "an on-prem target) names an allowed GPU."
    ),
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    framework=PolicyComplianceFramework(name="NIST 800-53", reference="CM-7", version="rev5"),
    config_schema=PolicyConfigSchema(
        properties={"allowedGpuTypes": {"type": "array", "items": {"type": "string"}, "minItems": 1}},
        required=["allowedGpuTypes"],
    ),
    remediation_steps=(
        "Pick an instance type from components/catalog.py whose GPU is in `llm-serving:policy.allowed_gpu_types`, "
        "or add the GPU to that list with the budget owner's approval (and the type to the catalog with its price)."
    ),
    validate=validate,
)

review = Review(
    area="cost",
    controls=Controls(nist_800_53=("CM-7", "SA-2"), soc2=("CC8.1",)),
    why=(
        "GPU types differ tenfold in price (g5 at $1/h, p5 at $55/h) and in where they may run; a type the catalog "
        "cannot price is invisible to the budget checks, and one the stack does not allow was never approved."
    ),
)
