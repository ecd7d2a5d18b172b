"""DataCentreLink: the private path between one region's VPC and the data centre.

The region's end is a Transit Gateway (its own route table: no default association or
propagation, no auto-accepted attachments) with the VPC attached through its private subnets, or,
where a stack chooses it (`datacentre.gateway: vpn-gateway`), a virtual private gateway on the
VPC. The data centre reaches it over a Site-to-Site VPN to its customer gateway (two tunnels,
dynamic routing (BGP), IKEv2 and the strong options of `components.vpn_tunnels`, dead peer
detection, tunnel activity logged to a CMK-encrypted log group), a Direct Connect gateway
association (`DirectConnectGateway`: a virtual interface on an existing connection), or both.
The VPC's private route tables send the data centre's CIDRs to the gateway and nothing else
(static routes: what the data centre advertises over BGP never reaches the VPC's tables); the
data centre learns the VPC's CIDR. In the primary region, interface endpoints for S3, AMP and IAM
Roles Anywhere let on-prem targets reach those services over the link only.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.arg_checks import check_environment, check_region
from components.named_networks import NamedNetwork, inside_any
from components.vpn_tunnels import TUNNEL_OPTIONS, TUNNELS

# Private ASNs (RFC 6996) a Transit Gateway's, VPN gateway's or Direct Connect gateway's Amazon side may use.
PRIVATE_ASN_RANGES = ((64512, 65534), (4200000000, 4294967294))
GATEWAY_KINDS = ("transit-gateway", "vpn-gateway")


def _private_asn(asn: int) -> bool:
    return any(low <= asn <= high for low, high in PRIVATE_ASN_RANGES)


@dataclass(frozen=True)
class DataCentreLinkArgs:
    environment: str
    region: str
    vpc_id: pulumi.Input[str]
    private_subnet_ids: tuple[pulumi.Input[str], ...]
    """One per zone: the attachment's network interfaces."""
    private_route_table_ids: tuple[pulumi.Input[str], ...]
    datacentre: str
    """The data centre's name (resource names and tags)."""
    datacentre_cidrs: tuple[str, ...]
    """The networks routed over the link, and only these."""
    customer_gateway_ip: str | None
    """Static public IPv4 address of the data centre's VPN device; None: no VPN (Direct Connect only)."""
    customer_gateway_asn: int | None
    amazon_side_asn: int
    """The region's gateway's ASN."""
    logs_key_arn: pulumi.Input[str]
    log_retention_days: int = 365
    service_endpoints: bool = False
    """Interface endpoints the data centre reaches over the link (the primary region): S3 for the
    weights, AMP for remote-written metrics and IAM Roles Anywhere for their credentials, so an
    on-prem target never calls AWS over the internet."""
    gateway: str = "transit-gateway"
    """transit-gateway, or vpn-gateway (a virtual private gateway on the VPC)."""
    vpc_cidr: str | None = None
    """The VPC's network: what a Direct Connect association advertises to the data centre."""
    direct_connect_gateway_id: pulumi.Input[str] | None = None
    """A Direct Connect gateway (`DirectConnectGateway`) to associate this region's gateway with."""
    endpoint_clients: tuple[NamedNetwork, ...] = ()
    """With `service_endpoints`: the data centre networks (inside `datacentre_cidrs`) the endpoints
    admit, each by name; never the data centre's whole range."""

    def __post_init__(self) -> None:
        check_environment(self.environment)
        check_region(self.region)
        if self.gateway not in GATEWAY_KINDS:
            raise ValueError(f"gateway: must be one of {', '.join(GATEWAY_KINDS)} (got {self.gateway!r})")
        if not self.private_subnet_ids or len(self.private_subnet_ids) != len(self.private_route_table_ids):
            raise ValueError("private_subnet_ids, private_route_table_ids: one subnet and route table per zone")
        if not self.datacentre_cidrs:
            raise ValueError("datacentre_cidrs: at least one network of the data centre")
        for cidr in self.datacentre_cidrs:
            ipaddress.ip_network(cidr, strict=True)  # raises ValueError naming the value
        if not _private_asn(self.amazon_side_asn):
            raise ValueError(f"amazon_side_asn: {self.amazon_side_asn} is not a private ASN (64512-65534)")
        if (self.customer_gateway_ip is None) != (self.customer_gateway_asn is None):
            raise ValueError("customer_gateway_ip, customer_gateway_asn: both (a VPN) or neither")
        if self.customer_gateway_ip is None and self.direct_connect_gateway_id is None:
            raise ValueError("customer_gateway_ip, direct_connect_gateway_id: a VPN, a Direct Connect gateway or both")
        if self.amazon_side_asn == self.customer_gateway_asn:
            raise ValueError("customer_gateway_asn: must differ from the gateway's amazon_side_asn")
        for network in self.endpoint_clients:
            if not inside_any(network.cidr, self.datacentre_cidrs):
                raise ValueError(f"endpoint_clients: {network.label} is not inside datacentre_cidrs")
        if self.direct_connect_gateway_id is not None and self.vpc_cidr is None:
            raise ValueError("vpc_cidr: required with a Direct Connect gateway (the prefix it advertises)")


class DataCentreLink(pulumi.ComponentResource):
    """The region's gateway to the data centre (Transit Gateway or VPN gateway), its VPN and/or
    Direct Connect association, and routes for the data centre's CIDRs."""

    transit_gateway_id: pulumi.Output[str] | None
    vpn_gateway_id: pulumi.Output[str] | None
    vpn_connection_id: pulumi.Output[str] | None
    weights_endpoint_url: pulumi.Output[str] | None
    """`https://bucket.<endpoint DNS name>`: the AWS CLI's S3 endpoint for callers in the data centre."""
    metrics_endpoint_host: pulumi.Output[str] | None
    """`vpce-<id>-<suffix>.aps-workspaces.<region>.vpce.amazonaws.com`: AMP's remote-write host for them."""
    credentials_endpoint_url: pulumi.Output[str] | None
    """`https://vpce-...rolesanywhere...`: the credential helper's `--endpoint` for CreateSession."""

    def __init__(self, name: str, args: DataCentreLinkArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("llm-serving:network:DataCentreLink", name, None, opts)
        tags = {"component": "datacentre-link", "llm-serving/datacentre": args.datacentre}
        self.transit_gateway_id = self.vpn_gateway_id = self.vpn_connection_id = None
        if args.gateway == "transit-gateway":
            route_to, ready = self._link_transit_gateway(name, args, tags)
        else:
            route_to, ready = self._link_vpn_gateway(name, args, tags)
        for index, table_id in enumerate(args.private_route_table_ids):
            for cidr in args.datacentre_cidrs:
                aws.ec2.Route(
                    f"{name}-route-{index}-{cidr.replace('/', '-')}",
                    route_table_id=table_id,
                    destination_cidr_block=cidr,
                    **route_to,
                    # A route to a gateway the VPC is not attached to yet is refused.
                    opts=pulumi.ResourceOptions(parent=self, depends_on=[ready]),
                )
        self.weights_endpoint_url = self.metrics_endpoint_host = self.credentials_endpoint_url = None
        if args.service_endpoints:
            # S3 user guide, "AWS PrivateLink for Amazon S3": the CLI addresses `https://bucket.vpce-...`.
            s3 = self._interface_endpoint(name, args, tags, "s3")
            self.weights_endpoint_url = s3.apply(lambda host: f"https://bucket.{host}")
            # AMP user guide, "Using Amazon Managed Service for Prometheus with interface VPC endpoints".
            self.metrics_endpoint_host = self._interface_endpoint(name, args, tags, "aps-workspaces")
            # IAM Roles Anywhere user guide, "IAM Roles Anywhere and interface VPC endpoints".
            roles_anywhere = self._interface_endpoint(name, args, tags, "rolesanywhere")
            self.credentials_endpoint_url = roles_anywhere.apply(lambda host: f"https://{host}")
        self.register_outputs(
            {
                "transit_gateway_id": self.transit_gateway_id,
                "vpn_gateway_id": self.vpn_gateway_id,
                "vpn_connection_id": self.vpn_connection_id,
            }
        )

    def _link_transit_gateway(
        self, name: str, args: DataCentreLinkArgs, tags: dict[str, str]
    ) -> tuple[dict[str, pulumi.Input[str]], pulumi.Resource]:
        """Transit Gateway, its route table, the VPC attachment and the data centre's attachments."""
        child = pulumi.ResourceOptions(parent=self)
        gateway = self._transit_gateway(name, args, tags, child)
        route_table = aws.ec2transitgateway.RouteTable(
            f"{name}-tgw-rt", transit_gateway_id=gateway.id, tags={**tags, "Name": f"{name}-tgw-rt"}, opts=child
        )
        attachment = aws.ec2transitgateway.VpcAttachment(
            f"{name}-vpc-attachment",
            transit_gateway_id=gateway.id,
            vpc_id=args.vpc_id,
            subnet_ids=list(args.private_subnet_ids),
            dns_support="enable",
            # Routes come from this link's own route table, never the gateway's defaults.
            transit_gateway_default_route_table_association=False,
            transit_gateway_default_route_table_propagation=False,
            tags={**tags, "Name": f"{name}-vpc-attachment"},
            opts=child,
        )
        # Every attachment uses the link's table: the VPC learns the data centre's routes over BGP, and
        # the data centre learns the VPC's CIDR.
        attachments: dict[str, pulumi.Input[str]] = {"vpc": attachment.id}
        if args.customer_gateway_ip is not None:
            vpn = self._vpn(name, args, {"transit_gateway_id": gateway.id}, tags, child)
            attachments["vpn"] = vpn.transit_gateway_attachment_id
            self.vpn_connection_id = vpn.id
        if args.direct_connect_gateway_id is not None:
            association = self._direct_connect_association(name, args, gateway.id, tags)
            attachments["dx"] = association.transit_gateway_attachment_id
        for kind, attachment_id in attachments.items():
            aws.ec2transitgateway.RouteTableAssociation(
                f"{name}-{kind}-association",
                transit_gateway_attachment_id=attachment_id,
                transit_gateway_route_table_id=route_table.id,
                opts=child,
            )
            aws.ec2transitgateway.RouteTablePropagation(
                f"{name}-{kind}-propagation",
                transit_gateway_attachment_id=attachment_id,
                transit_gateway_route_table_id=route_table.id,
                opts=child,
            )
        self.transit_gateway_id = gateway.id
        return {"transit_gateway_id": gateway.id}, attachment

    def _link_vpn_gateway(
        self, name: str, args: DataCentreLinkArgs, tags: dict[str, str]
    ) -> tuple[dict[str, pulumi.Input[str]], pulumi.Resource]:
        """A virtual private gateway attached to the VPC, with the VPN and/or Direct Connect on it.
        No route propagation: the VPC's tables hold only the static routes to the data centre."""
        child = pulumi.ResourceOptions(parent=self)
        gateway = aws.ec2.VpnGateway(
            f"{name}-vgw",
            vpc_id=args.vpc_id,
            amazon_side_asn=str(args.amazon_side_asn),
            tags={**tags, "Name": f"{name}-vgw"},
            opts=child,
        )
        if args.customer_gateway_ip is not None:
            self.vpn_connection_id = self._vpn(name, args, {"vpn_gateway_id": gateway.id}, tags, child).id
        if args.direct_connect_gateway_id is not None:
            self._direct_connect_association(name, args, gateway.id, tags)
        self.vpn_gateway_id = gateway.id
        return {"gateway_id": gateway.id}, gateway

    def _direct_connect_association(
        self, name: str, args: DataCentreLinkArgs, gateway_id: pulumi.Input[str], tags: dict[str, str]
    ) -> aws.directconnect.GatewayAssociation:
        """Associate the region's gateway with the Direct Connect gateway, advertising the VPC's CIDR only."""
        assert args.direct_connect_gateway_id is not None and args.vpc_cidr is not None  # checked by the args
        return aws.directconnect.GatewayAssociation(
            f"{name}-dx-gateway-association",
            dx_gateway_id=args.direct_connect_gateway_id,
            associated_gateway_id=gateway_id,
            allowed_prefixes=[args.vpc_cidr],
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _interface_endpoint(
        self, name: str, args: DataCentreLinkArgs, tags: dict[str, str], service: str
    ) -> pulumi.Output[str]:
        """An interface endpoint for `service` in the private subnets, admitting HTTPS from the data
        centre's endpoint clients only, each by name; returns its regional DNS name
        (`vpce-<id>-<suffix>.<service>...`)."""
        child = pulumi.ResourceOptions(parent=self)
        prefix = f"{name}-{service}-endpoint"
        group = aws.ec2.SecurityGroup(
            f"{prefix}-sg",
            description=f"HTTPS to the {service} interface endpoint from data centre {args.datacentre}",
            vpc_id=args.vpc_id,
            tags={**tags, "Name": f"{prefix}-sg"},
            opts=child,
        )
        for network in args.endpoint_clients:
            aws.vpc.SecurityGroupIngressRule(
                f"{prefix}-https-{network.name}",
                security_group_id=group.id,
                description=f"HTTPS from {network.label} in data centre {args.datacentre}",
                cidr_ipv4=network.cidr,
                ip_protocol="tcp",
                from_port=443,
                to_port=443,
                tags={**tags, "Name": f"{prefix}-https-{network.name}"},
                opts=child,
            )
        endpoint = aws.ec2.VpcEndpoint(
            prefix,
            vpc_id=args.vpc_id,
            service_name=f"com.amazonaws.{args.region}.{service}",
            vpc_endpoint_type="Interface",
            # Callers name the endpoint explicitly: the VPC's own workloads keep the public names
            # (and S3 its gateway endpoint), which this security group would not admit.
            private_dns_enabled=False,
            subnet_ids=list(args.private_subnet_ids),
            security_group_ids=[group.id],
            tags={**tags, "Name": prefix},
            opts=child,
        )
        # The first entry is the regional name; S3's is a wildcard (`*.vpce-<id>.s3.<region>...`).
        return endpoint.dns_entries.apply(lambda entries: entries[0]["dns_name"].removeprefix("*."))

    @staticmethod
    def _transit_gateway(
        name: str, args: DataCentreLinkArgs, tags: dict[str, str], opts: pulumi.ResourceOptions
    ) -> aws.ec2transitgateway.TransitGateway:
        return aws.ec2transitgateway.TransitGateway(
            f"{name}-tgw",
            description=f"llm-serving {args.environment}: {args.region} to data centre {args.datacentre}",
            amazon_side_asn=args.amazon_side_asn,
            auto_accept_shared_attachments="disable",
            default_route_table_association="disable",
            default_route_table_propagation="disable",
            dns_support="enable",
            # Both tunnels carry traffic (equal-cost multipath over BGP).
            vpn_ecmp_support="enable",
            tags={**tags, "Name": f"{name}-tgw"},
            opts=opts,
        )

    @staticmethod
    def _vpn(
        name: str,
        args: DataCentreLinkArgs,
        attach_to: dict[str, pulumi.Input[str]],
        tags: dict[str, str],
        opts: pulumi.ResourceOptions,
    ) -> aws.ec2.VpnConnection:
        """The Site-to-Site VPN on `attach_to` (transit_gateway_id or vpn_gateway_id)."""
        customer_gateway = aws.ec2.CustomerGateway(
            f"{name}-cgw",
            bgp_asn=str(args.customer_gateway_asn),
            ip_address=args.customer_gateway_ip,
            type="ipsec.1",
            device_name=f"{args.datacentre}-vpn",
            tags={**tags, "Name": f"{name}-cgw"},
            opts=opts,
        )
        log_group = aws.cloudwatch.LogGroup(
            f"{name}-vpn-logs",
            name=f"/aws/vpn/llm-serving-{args.environment}-{args.region}-{args.datacentre}",
            retention_in_days=args.log_retention_days,
            kms_key_id=args.logs_key_arn,
            tags={**tags, "Name": f"{name}-vpn-logs"},
            opts=opts,
        )
        tunnels: dict[str, object] = {}
        for tunnel in TUNNELS:
            log_options = getattr(aws.ec2, f"VpnConnection{tunnel.capitalize()}LogOptionsArgs")
            cloudwatch = getattr(aws.ec2, f"VpnConnection{tunnel.capitalize()}LogOptionsCloudwatchLogOptionsArgs")
            tunnels.update({f"{tunnel}_{key}": value for key, value in TUNNEL_OPTIONS.items()})
            tunnels[f"{tunnel}_log_options"] = log_options(
                cloudwatch_log_options=cloudwatch(
                    log_enabled=True, log_group_arn=log_group.arn, log_output_format="json"
                )
            )
        return aws.ec2.VpnConnection(
            f"{name}-vpn",
            customer_gateway_id=customer_gateway.id,
            type="ipsec.1",
            static_routes_only=False,  # BGP: routes follow the tunnels that are up
            tags={**tags, "Name": f"{name}-vpn"},
            opts=opts,
            **attach_to,  # type: ignore[arg-type]
            **tunnels,  # type: ignore[arg-type]
        )


@dataclass(frozen=True)
class DirectConnectGatewayArgs:
    environment: str
    datacentre: str
    connection_id: str
    """The data centre's existing Direct Connect connection or LAG (dxcon-... / dxlag-...)."""
    vlan: int
    bgp_asn: int
    """The data centre router's ASN on the virtual interface."""
    amazon_side_asn: int
    gateway: str = "transit-gateway"
    """The regions' gateway kind: a transit virtual interface for Transit Gateways, a private one
    for VPN gateways (a Direct Connect gateway takes one kind of association)."""

    def __post_init__(self) -> None:
        check_environment(self.environment)
        if self.gateway not in GATEWAY_KINDS:
            raise ValueError(f"gateway: must be one of {', '.join(GATEWAY_KINDS)} (got {self.gateway!r})")
        if not _private_asn(self.amazon_side_asn):
            raise ValueError(f"amazon_side_asn: {self.amazon_side_asn} is not a private ASN (64512-65534)")
        if self.bgp_asn == self.amazon_side_asn:
            raise ValueError("bgp_asn: must differ from the Direct Connect gateway's amazon_side_asn")
        if not 1 <= self.vlan <= 4094:
            raise ValueError(f"vlan: must be 1-4094 (got {self.vlan})")


class DirectConnectGateway(pulumi.ComponentResource):
    """A Direct Connect gateway (global) and the virtual interface from the data centre's connection
    to it; each region's DataCentreLink associates its gateway with `gateway_id`."""

    gateway_id: pulumi.Output[str]

    def __init__(self, name: str, args: DirectConnectGatewayArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("llm-serving:network:DirectConnectGateway", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags = {"component": "datacentre-link", "llm-serving/datacentre": args.datacentre}
        gateway = aws.directconnect.Gateway(
            f"{name}-dx-gateway",
            name=f"llm-serving-{args.environment}-{args.datacentre}",
            amazon_side_asn=str(args.amazon_side_asn),
            tags={**tags, "Name": f"{name}-dx-gateway"},
            opts=child,
        )
        interface = (
            aws.directconnect.TransitVirtualInterface
            if args.gateway == "transit-gateway"
            else aws.directconnect.PrivateVirtualInterface
        )
        interface(
            f"{name}-dx-vif",
            connection_id=args.connection_id,
            dx_gateway_id=gateway.id,
            name=f"llm-serving-{args.environment}-{args.datacentre}",
            vlan=args.vlan,
            address_family="ipv4",
            bgp_asn=args.bgp_asn,
            tags={**tags, "Name": f"{name}-dx-vif"},
            opts=child,
        )
        self.gateway_id = gateway.id
        self.register_outputs({"gateway_id": gateway.id})
