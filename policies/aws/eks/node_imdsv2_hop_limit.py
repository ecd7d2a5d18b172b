"""aws-eks-node-imdsv2-hop-limit-one — no pod on any node can reach the node role's credentials.

Every launch template of the stack requires IMDSv2 with a hop limit of 1, and every node group
(GPU or system: the system nodes run KEDA, the autoscaler and the LB controller) uses one of them.
"""

from collections.abc import Mapping
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyComplianceFramework,
    ReportViolation,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)

from policies.review import Controls, Review
from policies.support import LAUNCH_TEMPLATE_TYPE, NODE_GROUP_TYPE, launch_templates_of, number_text, resources_of_type

MAX_HOP_LIMIT = 1


def _problems(template_props: Mapping[str, Any]) -> list[str]:
    options = template_props.get("metadataOptions")
    options = options if isinstance(options, Mapping) else {}
    if options.get("httpEndpoint") == "disabled":
        return []  # no IMDS at all
    problems = []
    tokens = options.get("httpTokens")
    if tokens != "required":
        problems.append(f"does not require IMDSv2 (httpTokens is {tokens or 'unset'})")
    hops = options.get("httpPutResponseHopLimit")
    if hops is None:
        problems.append("sets no httpPutResponseHopLimit (AL2023 AMIs default to 2, which reaches pods)")
    elif isinstance(hops, bool) or not isinstance(hops, (int, float)):
        problems.append(f"sets httpPutResponseHopLimit to {hops!r}, not a number (must be <= {MAX_HOP_LIMIT})")
    elif hops > MAX_HOP_LIMIT:
        problems.append(f"allows an IMDS hop limit of {number_text(hops)} (must be <= {MAX_HOP_LIMIT})")
    return problems


def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    for template in resources_of_type(args.resources, LAUNCH_TEMPLATE_TYPE):
        for problem in _problems(template.props):
            report_violation(f"launch template '{template.name}' {problem}.", template.urn)
    for group in resources_of_type(args.resources, NODE_GROUP_TYPE):
        # The input decides: a stale dependency on a template is not a template in use.
        if not group.props.get("launchTemplate"):
            how = "no launch template"
        elif not launch_templates_of(args.resources, group):
            how = "a launch template not in this stack"
        else:
            continue
        report_violation(
            f"node group '{group.name}' uses {how}: its IMDS settings cannot be checked "
            "(EKS's default launch template uses hop limit 2).",
            group.urn,
        )


policy = StackValidationPolicy(
    name="aws-eks-node-imdsv2-hop-limit-one",
    description=(
        "Every EKS node group (GPU and system) uses a launch template of this stack, and every launch template "
        "requires IMDSv2 (httpTokens: required) with a PUT response hop limit of 1, so containers cannot fetch the "
        "node role's credentials from IMDS."
    ),
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    framework=PolicyComplianceFramework(name="AWS FSBP", reference="EC2.170", version="1.0.0"),
    remediation_steps=(
        "Give every node group an aws.ec2.LaunchTemplate with metadata_options http_tokens='required', "
        "http_put_response_hop_limit=1, http_endpoint='enabled' (components.gpu_nodes and components.cluster do); "
        "pods get AWS access through EKS Pod Identity, not the node role."
    ),
    validate=validate,
)

review = Review(
    area="compute",
    controls=Controls(fsbp=("EC2.8", "EC2.170"), nist_800_53=("AC-3", "AC-6"), soc2=("CC6.1",)),
    why=(
        "With hop limit 2 or IMDSv1 any pod (a model server running untrusted weights, or a compromised controller "
        "on a system node) can take the node role's credentials and read every model's weights or pull images."
    ),
)
