"""aws-transit-gateway-datacentre-routes-only — the private path routes the data centre's networks
and nothing else, through a Transit Gateway no other attachment can join.

The data centre's CIDRs come from the stack file (policy config). A VPC route through a Transit
Gateway or a virtual private gateway (`gatewayId` of a VpnGateway) must be inside them (never a
default route: that would send every egress of the cluster to the data centre). A Transit Gateway
must not accept shared attachments on its own or put attachments in its default route table (any
attachment would then reach the VPC). A virtual private gateway must not propagate its routes into
the VPC's tables (then the data centre's BGP announcements, not the stack file, would decide what
goes there), and a Direct Connect gateway association advertises only the stack's VPC networks to
the data centre (a broad prefix would draw the data centre's other traffic into AWS).
"""

from __future__ import annotations

import ipaddress

from pulumi_policy import (
    EnforcementLevel,
    PolicyComplianceFramework,
    PolicyConfigSchema,
    PolicyResource,
    ReportViolation,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)

from policies.review import Controls, Review
from policies.support import DATACENTRE_CIDRS_PROPERTY, as_list, datacentre_networks

ROUTE = "aws:ec2/route:Route"
TRANSIT_GATEWAY = "aws:ec2transitgateway/transitGateway:TransitGateway"
VPN_GATEWAY = "aws:ec2/vpnGateway:VpnGateway"
ROUTE_PROPAGATION = "aws:ec2/vpnGatewayRoutePropagation:VpnGatewayRoutePropagation"
DX_ASSOCIATION = "aws:directconnect/gatewayAssociation:GatewayAssociation"
VPC = "aws:ec2/vpc:Vpc"
# Each must be "disable"; the provider's default for the two route-table options is "enable".
ISOLATION = ("autoAcceptSharedAttachments", "defaultRouteTableAssociation", "defaultRouteTablePropagation")


def _inside(cidr: object, networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network]) -> bool:
    try:
        network = ipaddress.ip_network(str(cidr), strict=False)
    except ValueError:
        return False
    return any(network.version == n.version and network.subnet_of(n) for n in networks)  # type: ignore[arg-type]


def _private_path(resource: PolicyResource) -> str | None:
    """Which property of a route points at the private path, if any."""
    props = resource.props
    if props.get("transitGatewayId"):
        return "transitGatewayId"
    gateway = props.get("gatewayId")
    through = resource.property_dependencies.get("gatewayId") or []
    # A preview may not know a new gateway's id yet; the property's dependency still names it.
    if str(gateway or "").startswith("vgw-") or any(d.resource_type == VPN_GATEWAY for d in through):
        return "gatewayId"
    return None


def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    networks = datacentre_networks(args.get_config() or {})
    allowed = ", ".join(str(n) for n in networks) or "none configured"
    vpc_networks = []
    for vpc in (r for r in args.resources if r.resource_type == VPC):
        try:
            vpc_networks.append(ipaddress.ip_network(str(vpc.props.get("cidrBlock")), strict=False))
        except ValueError:
            continue
    vpcs = ", ".join(str(n) for n in vpc_networks) or "none"
    for resource in args.resources:
        props = resource.props
        if resource.resource_type == ROUTE:
            via = _private_path(resource)
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
        elif resource.resource_type == ROUTE_PROPAGATION:
            report_violation(
                f"'{resource.name}' propagates the VPN gateway's routes into a VPC route table: the data centre's "
                f"BGP announcements would decide what goes there, not datacentre.cidrs ({allowed}).",
                resource.urn,
            )
        elif resource.resource_type == DX_ASSOCIATION:
            prefixes = as_list(props.get("allowedPrefixes"))
            outside = [str(p) for p in prefixes if not _inside(p, vpc_networks)]
            if not prefixes or outside:
                report_violation(
                    f"Direct Connect association '{resource.name}' advertises "
                    f"{', '.join(outside) if outside else 'no allowedPrefixes (AWS would pick them)'} to the data "
                    f"centre; only the stack's VPC networks go there ({vpcs}).",
                    resource.urn,
                )


policy = StackValidationPolicy(
    name="aws-transit-gateway-datacentre-routes-only",
    description=(
        "VPC routes through a Transit Gateway or VPN gateway go only to the data centre's CIDRs (stack file), "
        "Transit Gateways disable auto-accepted attachments and default route table association and propagation, "
        "VPN gateways propagate nothing into VPC route tables, and Direct Connect associations advertise only the "
        "stack's VPC networks."
    ),
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    framework=PolicyComplianceFramework(name="NIST SP 800-53", reference="SC-7, AC-4", version="5"),
    config_schema=PolicyConfigSchema(
        properties={
            "datacentreCidrs": DATACENTRE_CIDRS_PROPERTY,
        },
    ),
    remediation_steps=(
        "Route only datacentre.cidrs to the Transit Gateway or VPN gateway (components.datacentre_link), keep the "
        "Transit Gateway's auto_accept_shared_attachments and default route table association/propagation "
        "disabled, use static routes instead of VpnGatewayRoutePropagation, and set a Direct Connect "
        "association's allowed_prefixes to the VPC's CIDR."
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
