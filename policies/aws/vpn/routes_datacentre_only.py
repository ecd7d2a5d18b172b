"""aws-transit-gateway-datacentre-routes-only — the private path routes the data centre's networks
and nothing else, through a Transit Gateway no other attachment can join.

The data centre's CIDRs come from the stack file (policy config). A VPC route through a Transit
Gateway or a virtual private gateway must be inside them (never a default route: that would send
every egress of the cluster to the data centre). A Transit Gateway must not accept shared
attachments on its own or put attachments in its default route table (any attachment would then
reach the VPC).
"""

from __future__ import annotations

import ipaddress

from pulumi_policy import (
    EnforcementLevel,
    PolicyComplianceFramework,
    PolicyConfigSchema,
    ReportViolation,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)

from policies.review import Controls, Review
from policies.support import as_list

ROUTE = "aws:ec2/route:Route"
TRANSIT_GATEWAY = "aws:ec2transitgateway/transitGateway:TransitGateway"
# Each must be "disable"; the provider's default for the two route-table options is "enable".
ISOLATION = ("autoAcceptSharedAttachments", "defaultRouteTableAssociation", "defaultRouteTablePropagation")


def _inside(cidr: object, networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network]) -> bool:
    try:
        network = ipaddress.ip_network(str(cidr), strict=False)
    except ValueError:
        return False
    return any(network.version == n.version and network.subnet_of(n) for n in networks)  # type: ignore[arg-type]


def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    config = args.get_config() or {}
    networks = []
    for cidr in as_list(config.get("datacentreCidrs")):
        try:
            networks.append(ipaddress.ip_network(str(cidr), strict=False))
        except ValueError:
            continue
    allowed = ", ".join(str(n) for n in networks) or "none configured"
    for resource in args.resources:
        props = resource.props
        if resource.resource_type == ROUTE:
            via = next((key for key in ("transitGatewayId", "vpnGatewayId") if props.get(key)), None)
            if via is None:
                continue
            destination = props.get("destinationCidrBlock") or props.get("destinationIpv6CidrBlock")
            if destination is None or not _inside(destination, networks):
                report_violation(
                    f"route '{resource.name}' sends {destination or 'a prefix list'} over the private path "
                    f"({via}); only the data centre's networks go there ({allowed}).",
                    resource.urn,
                )
        elif resource.resource_type == TRANSIT_GATEWAY:
            for option in ISOLATION:
                if props.get(option) != "disable":
                    report_violation(
                        f"Transit Gateway '{resource.name}' has {option} {props.get(option) or 'unset (enable)'}: "
                        "attachments would join its routes without a reviewed association.",
                        resource.urn,
                    )


policy = StackValidationPolicy(
    name="aws-transit-gateway-datacentre-routes-only",
    description=(
        "VPC routes through a Transit Gateway or VPN gateway go only to the data centre's CIDRs (stack file), and "
        "Transit Gateways disable auto-accepted attachments and default route table association and propagation."
    ),
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    framework=PolicyComplianceFramework(name="NIST SP 800-53", reference="SC-7, AC-4", version="5"),
    config_schema=PolicyConfigSchema(
        properties={
            "datacentreCidrs": {
                "type": "array",
                "items": {"type": "string"},
                "default": [],
                "description": "datacentre.cidrs of the stack file",
            },
        },
    ),
    remediation_steps=(
        "Route only datacentre.cidrs to the Transit Gateway (components.datacentre_link), and keep its "
        "auto_accept_shared_attachments and default route table association/propagation disabled."
    ),
    validate=validate,
)

review = Review(
    area="network",
    controls=Controls(nist_800_53=("SC-7", "AC-4"), soc2=("CC6.6",)),
    why=(
        "A default route to the data centre, or a Transit Gateway that admits any attachment into its routes, "
        "joins networks nobody reviewed to the GPU clusters and the weights."
    ),
)
