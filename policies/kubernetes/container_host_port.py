"""kubernetes-container-disallow-host-port — no container binds a port on its node's address.

A hostPort is reachable by anything that can reach the node (other VPC hosts, the NLB subnets),
around the Service, the NetworkPolicies and the gateway.
"""

from pulumi_policy import (
    EnforcementLevel,
    PolicyComplianceFramework,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
)

from policies.kubernetes.workloads import containers, mappings, pod_spec
from policies.review import Controls, Review
from policies.support import number_text


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    pod = pod_spec(args.resource_type, args.props)
    if pod is None:
        return
    for label, container in containers(pod):
        for port in mappings(container.get("ports")):
            # 0 (or absent) means no host port.
            if port.get("hostPort") not in (None, 0):
                report_violation(
                    f"{label}: hostPort {number_text(port.get('hostPort'))} opens the container on the node's "
                    "own address.",
                    None,
                )


policy = ResourceValidationPolicy(
    name="kubernetes-container-disallow-host-port",
    description="No container or init container declares a hostPort.",
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    framework=PolicyComplianceFramework(name="NIST SP 800-53", reference="SC-7", version="5"),
    remediation_steps=(
        "Remove hostPort; expose the containerPort through a ClusterIP Service that the gateway's private path "
        "(or the metrics agent) reaches under a NetworkPolicy."
    ),
    validate=validate,
)

review = Review(
    area="kubernetes",
    controls=Controls(nist_800_53=("SC-7", "CM-7"), soc2=("CC6.6",)),
    why=(
        "A model server on a host port answers anyone who can reach the GPU node, without the gateway's tenant "
        "key, authorizer, WAF or quota, and outside the NetworkPolicy that admits only the gateway's path."
    ),
)
