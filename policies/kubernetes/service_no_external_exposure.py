"""kubernetes-service-disallow-external-exposure — Services stay inside the cluster; the only way in
is the gateway (API Gateway, WAF, authorizer) and its private path.

A LoadBalancer Service makes a cloud load balancer, a NodePort one opens a port on every node,
and externalIPs make every node accept traffic for those addresses: each bypasses the gateway.
"""

from pulumi_policy import (
    EnforcementLevel,
    PolicyComplianceFramework,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
)

from policies.kubernetes.workloads import mapping, strings
from policies.review import Controls, Review

SERVICE = "kubernetes:core/v1:Service"
# Service types that keep traffic in the cluster (ExternalName is a DNS alias, no listener).
INTERNAL_TYPES = (None, "ClusterIP", "ExternalName")
EXPOSURE = {
    "LoadBalancer": "a cloud load balancer",
    "NodePort": "a port on every node",
}


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type != SERVICE:
        return
    spec = mapping(args.props.get("spec"))
    service_type = spec.get("type")
    if service_type not in INTERNAL_TYPES:
        exposure = EXPOSURE.get(str(service_type), "a listener outside the cluster")
        report_violation(
            f"type {service_type}: the Service is reachable through {exposure}, bypassing the gateway and WAF.", None
        )
    external_ips = strings(spec.get("externalIPs"))
    if external_ips:
        report_violation(
            f"externalIPs {', '.join(external_ips)}: nodes accept the Service's traffic on these addresses, "
            "bypassing the gateway and WAF.",
            None,
        )


policy = ResourceValidationPolicy(
    name="kubernetes-service-disallow-external-exposure",
    description="Services are ClusterIP (or ExternalName): no LoadBalancer, no NodePort, no externalIPs.",
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.CRITICAL,
    framework=PolicyComplianceFramework(name="NIST SP 800-53", reference="SC-7", version="5"),
    remediation_steps=(
        "Use type ClusterIP and no externalIPs. Traffic from outside reaches model servers only through the "
        "gateway's private path (the internal NLB and its TargetGroupBinding), which PrivatePath declares."
    ),
    validate=validate,
)

review = Review(
    area="network",
    controls=Controls(nist_800_53=("SC-7", "AC-4"), soc2=("CC6.6",)),
    why=(
        "The gateway is where tenants are authenticated, rate-limited, metered and filtered by the WAF; a model "
        "server behind its own load balancer or node port serves anyone who finds it, with no quota on GPU time."
    ),
)
