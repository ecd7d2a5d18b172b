"""DataCentreLink: the private path between one region's VPC and the data centre.

A Transit Gateway (its own route table: no default association or propagation, no auto-accepted
attachments) with the VPC attached through its private subnets, and a Site-to-Site VPN to the data
centre's customer gateway: two tunnels, dynamic routing (BGP), IKEv2 and the strong options of
`components.vpn_tunnels`, dead peer detection, tunnel activity logged to a CMK-encrypted log group.
The VPC's private route tables send the data centre's CIDRs to the Transit Gateway and nothing
else; BGP propagates the VPC's CIDR to the data centre. In the primary region, interface endpoints
for S3, AMP and IAM Roles Anywhere let on-prem targets reach those services over the link only.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.arg_checks import check_environment, check_region
from components.vpn_tunnels import TUNNEL_OPTIONS, TUNNELS

# Private ASNs (RFC 6996) a Transit Gateway's Amazon side may use.
PRIVATE_ASN_RANGES = ((64512, 65534), (4200000000, 4294967294))


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
    customer_gateway_ip: str
    """Static public IPv4 address of the data centre's VPN device."""
    customer_gateway_asn: int
    amazon_side_asn: int
    logs_key_arn: pulumi.Input[str]
    log_retention_days: int = 365
    service_endpoints: bool = False
    """Interface endpoints the data centre reaches over the link (the primary region): S3 for the
    weights, AMP for remote-written metrics and IAM Roles Anywhere for their credentials, so an
    on-prem target never calls AWS over the internet."""

    def __post_init__(self) -> None:
        check_environment(self.environment)
        check_region(self.region)
        if not self.private_subnet_ids or len(self.private_subnet_ids) != len(self.private_route_table_ids):
            raise ValueError("private_subnet_ids, private_route_table_ids: one subnet and route table per zone")
        if not self.datacentre_cidrs:
            raise ValueError("datacentre_cidrs: at least one network of the data centre")
        for cidr in self.datacentre_cidrs:
            ipaddress.ip_network(cidr, strict=True)  # raises ValueError naming the value
        if not any(low <= self.amazon_side_asn <= high for low, high in PRIVATE_ASN_RANGES):
            raise ValueError(f"amazon_side_asn: {self.amazon_side_asn} is not a private ASN (64512-65534)")
        if self.amazon_side_asn == self.customer_gateway_asn:
            raise ValueError("customer_gateway_asn: must differ from the Transit Gateway's amazon_side_asn")


class DataCentreLink(pulumi.ComponentResource):
    """Transit Gateway + VPC attachment + Site-to-Site VPN to the data centre; routes for its CIDRs."""

    transit_gateway_id: pulumi.Output[str]
    vpn_connection_id: pulumi.Output[str]
    weights_endpoint_url: pulumi.Output[str] | None
    """`https://bucket.<endpoint DNS name>`: the AWS CLI's S3 endpoint for callers in the data centre."""
    metrics_endpoint_host: pulumi.Output[str] | None
    """`vpce-<id>-<suffix>.aps-workspaces.<region>.vpce.amazonaws.com`: AMP's remote-write host for them."""
    credentials_endpoint_url: pulumi.Output[str] | None
    """`https://vpce-...rolesanywhere...`: the credential helper's `--endpoint` for CreateSession."""

    def __init__(self, name: str, args: DataCentreLinkArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("llm-serving:network:DataCentreLink", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags = {"component": "datacentre-link", "llm-serving/datacentre": args.datacentre}
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
        vpn = self._vpn(name, args, gateway, tags, child)
        # Both attachments use the link's table: the VPC learns the data centre's routes over BGP, and
        # the data centre learns the VPC's CIDR.
        attachments = {"vpc": attachment.id, "vpn": vpn.transit_gateway_attachment_id}
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
        for index, table_id in enumerate(args.private_route_table_ids):
            for cidr in args.datacentre_cidrs:
                aws.ec2.Route(
                    f"{name}-route-{index}-{cidr.replace('/', '-')}",
                    route_table_id=table_id,
                    destination_cidr_block=cidr,
                    transit_gateway_id=gateway.id,
                    # A route to a gateway the VPC is not attached to yet is refused.
                    opts=pulumi.ResourceOptions(parent=self, depends_on=[attachment]),
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
        self.transit_gateway_id = gateway.id
        self.vpn_connection_id = vpn.id
        self.register_outputs({"transit_gateway_id": gateway.id, "vpn_connection_id": vpn.id})

    def _interface_endpoint(
        self, name: str, args: DataCentreLinkArgs, tags: dict[str, str], service: str
    ) -> pulumi.Output[str]:
        """An interface endpoint for `service` in the private subnets, admitting HTTPS from the data
        centre's networks only; returns its regional DNS name (`vpce-<id>-<suffix>.<service>...`)."""
        child = pulumi.ResourceOptions(parent=self)
        prefix = f"{name}-{service}-endpoint"
        group = aws.ec2.SecurityGroup(
            f"{prefix}-sg",
            description=f"HTTPS to the {service} interface endpoint from data centre {args.datacentre}",
            vpc_id=args.vpc_id,
            tags={**tags, "Name": f"{prefix}-sg"},
            opts=child,
        )
        for index, cidr in enumerate(args.datacentre_cidrs):
            aws.vpc.SecurityGroupIngressRule(
                f"{prefix}-https-{index}",
                security_group_id=group.id,
                description=f"HTTPS from data centre {args.datacentre} ({cidr})",
                cidr_ipv4=cidr,
                ip_protocol="tcp",
                from_port=443,
                to_port=443,
                tags={**tags, "Name": f"{prefix}-https-{index}"},
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
        gateway: aws.ec2transitgateway.TransitGateway,
        tags: dict[str, str],
        opts: pulumi.ResourceOptions,
    ) -> aws.ec2.VpnConnection:
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
            transit_gateway_id=gateway.id,
            type="ipsec.1",
            static_routes_only=False,  # BGP: routes follow the tunnels that are up
            tags={**tags, "Name": f"{name}-vpn"},
            opts=opts,
            **tunnels,  # type: ignore[arg-type]
        )
