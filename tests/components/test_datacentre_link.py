"""DataCentreLink: a Transit Gateway and Site-to-Site VPN per region, routes for the data centre only."""

from __future__ import annotations

import json
import re
from typing import Any

import pulumi_aws as aws
import pytest
from conftest import error_of, run_stack

from components.datacentre_link import DataCentreLinkArgs, DirectConnectGatewayArgs
from components.vpn_tunnels import (
    STRONG_DH_GROUPS,
    STRONG_ENCRYPTION,
    STRONG_INTEGRITY,
    TUNNEL_OPTIONS,
)


def documented_values(argument: str) -> set[str]:
    """The valid values pulumi-aws documents for a VpnConnection argument ("Valid values are `a | b`")."""
    doc = aws.ec2.VpnConnectionArgs.__init__.__doc__ or ""
    match = re.search(rf":param [^:]*? {argument}: (.*?)(?=:param|\Z)", doc, re.S)
    assert match, argument
    valid = re.search(r"Valid values? (?:are|is) `([^`]*)`", match.group(1))
    assert valid, (argument, match.group(1))
    return {value.strip() for value in valid.group(1).split("|")}


@pytest.mark.parametrize("option", sorted(TUNNEL_OPTIONS))
def test_every_tunnel_option_is_a_value_the_provider_documents(option):
    value = TUNNEL_OPTIONS[option]
    if option == "dpd_timeout_seconds":
        doc = aws.ec2.VpnConnectionArgs.__init__.__doc__ or ""
        assert "tunnel1_dpd_timeout_seconds: Number of seconds after which a DPD timeout occurs" in doc
        found = re.search(r"tunnel1_dpd_timeout_seconds:.*?equal or higher than `(\d+)`", doc, re.S)
        assert found
        minimum = int(found.group(1))
        assert value >= minimum == 30
        return
    valid = documented_values(f"tunnel1_{option}")
    values = value if isinstance(value, list) else [value]
    assert {str(v) for v in values} <= valid, (option, values, valid)


def test_the_strong_sets_are_documented_values():
    assert {str(g) for g in STRONG_DH_GROUPS} <= documented_values("tunnel1_phase1_dh_group_numbers")
    assert {str(g) for g in STRONG_DH_GROUPS} <= documented_values("tunnel1_phase2_dh_group_numbers")
    assert documented_values("tunnel1_phase1_encryption_algorithms") >= STRONG_ENCRYPTION
    assert documented_values("tunnel1_phase2_integrity_algorithms") >= STRONG_INTEGRITY


@pytest.fixture(scope="module")
def prod():
    return run_stack("prod").resources


def of(resources, type_, region):
    return [r for r in resources if r.type == type_ and r.name.startswith(f"{region}-datacentre")]


@pytest.mark.parametrize(("region", "asn"), [("us-east-1", 64512), ("eu-west-1", 64513)])
def test_each_region_has_its_transit_gateway_vpn_and_routes(prod, region, asn):
    (gateway,) = of(prod, "aws:ec2transitgateway/transitGateway:TransitGateway", region)
    assert gateway.inputs["amazonSideAsn"] == asn
    assert {gateway.inputs[k] for k in ("autoAcceptSharedAttachments", "defaultRouteTableAssociation")} == {"disable"}
    (vpn,) = of(prod, "aws:ec2/vpnConnection:VpnConnection", region)
    assert vpn.inputs["staticRoutesOnly"] is False and vpn.inputs["type"] == "ipsec.1"
    for tunnel in ("tunnel1", "tunnel2"):
        assert vpn.inputs[f"{tunnel}IkeVersions"] == ["ikev2"]
        assert vpn.inputs[f"{tunnel}Phase1DhGroupNumbers"] == [20]
        assert vpn.inputs[f"{tunnel}DpdTimeoutAction"] == "restart"
        logs = vpn.inputs[f"{tunnel}LogOptions"]["cloudwatchLogOptions"]
        assert logs["logEnabled"] is True and logs["logGroupArn"].endswith(f"/aws/vpn/llm-serving-prod-{region}-dc1")
    (customer,) = of(prod, "aws:ec2/customerGateway:CustomerGateway", region)
    assert customer.inputs == {
        "bgpAsn": "65010",
        "ipAddress": "203.0.113.10",
        "type": "ipsec.1",
        "deviceName": "dc1-vpn",
        "tags": customer.inputs["tags"],
    }
    (log_group,) = of(prod, "aws:cloudwatch/logGroup:LogGroup", region)
    assert (
        log_group.inputs["kmsKeyId"].startswith(f"arn:aws:kms:{region}:") and log_group.inputs["retentionInDays"] == 365
    )
    routes = of(prod, "aws:ec2/route:Route", region)
    assert len(routes) == 3  # one per private route table (zone), for the one data centre network
    assert {r.inputs["destinationCidrBlock"] for r in routes} == {"10.100.0.0/16"}
    (attachment,) = of(prod, "aws:ec2transitgateway/vpcAttachment:VpcAttachment", region)
    assert len(attachment.inputs["subnetIds"]) == 3
    assert all(attachment.urn in r.dependencies for r in routes)
    associations = of(prod, "aws:ec2transitgateway/routeTableAssociation:RouteTableAssociation", region)
    propagations = of(prod, "aws:ec2transitgateway/routeTablePropagation:RouteTablePropagation", region)
    assert len(associations) == len(propagations) == 2  # the VPC and the VPN attachment


def test_the_primary_region_exposes_s3_to_the_data_centre_over_the_link(prod):
    endpoints = {e.inputs["serviceName"]: e for e in of(prod, "aws:ec2/vpcEndpoint:VpcEndpoint", "us-east-1")}
    # S3 for the weights, AMP's data plane for remote writes, Roles Anywhere for CreateSession
    # (each service's user guide names its PrivateLink service, com.amazonaws.<region>.<name>).
    assert sorted(endpoints) == [
        "com.amazonaws.us-east-1.aps-workspaces",
        "com.amazonaws.us-east-1.rolesanywhere",
        "com.amazonaws.us-east-1.s3",
    ]
    endpoint = endpoints["com.amazonaws.us-east-1.s3"]
    assert endpoint.inputs["vpcEndpointType"] == "Interface" and endpoint.inputs["privateDnsEnabled"] is False
    assert len(endpoint.inputs["subnetIds"]) == 3
    rules = {r.name: r for r in of(prod, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", "us-east-1")}
    assert sorted(rules) == [
        f"us-east-1-datacentre-{service}-endpoint-https-{network}"
        for service in ("aps-workspaces", "rolesanywhere", "s3")
        for network in ("dc1-rack1-nodes", "dc1-rack2-pods")
    ]
    for rule in rules.values():
        network = rule.name.split("-https-")[1]
        cidr = {"dc1-rack1-nodes": "10.100.4.0/22", "dc1-rack2-pods": "10.100.64.0/18"}[network]
        assert (rule.inputs["cidrIpv4"], rule.inputs["fromPort"], rule.inputs["toPort"]) == (cidr, 443, 443)
        assert rule.inputs["description"] == f"HTTPS from {network} ({cidr}) in data centre dc1"
    assert not of(prod, "aws:ec2/vpcEndpoint:VpcEndpoint", "eu-west-1")  # the data centre uses the primary only


def test_dev_has_no_data_centre():
    assert not [r for r in run_stack("dev").resources if "transitgateway" in r.type or "vpnConnection" in r.type]


def link_args(**changes):
    values: dict[str, Any] = dict(
        environment="prod",
        region="us-east-1",
        vpc_id="vpc-1",
        private_subnet_ids=("subnet-1",),
        private_route_table_ids=("rtb-1",),
        datacentre="dc1",
        datacentre_cidrs=("10.100.0.0/16",),
        customer_gateway_ip="203.0.113.10",
        customer_gateway_asn=65010,
        amazon_side_asn=64512,
        logs_key_arn="arn:aws:kms:us-east-1:123456789012:key/k",
    )
    values.update(changes)
    return DataCentreLinkArgs(**values)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"private_route_table_ids": ()}, r"^private_subnet_ids, private_route_table_ids: one subnet and route table"),
        ({"datacentre_cidrs": ()}, r"^datacentre_cidrs: at least one network"),
        ({"amazon_side_asn": 65535}, r"^amazon_side_asn: 65535 is not a private ASN"),
        ({"customer_gateway_asn": 64512}, r"^customer_gateway_asn: must differ"),
        ({"gateway": "direct-connect"}, r"^gateway: must be one of transit-gateway, vpn-gateway"),
        ({"customer_gateway_asn": None}, r"^customer_gateway_ip, customer_gateway_asn: both \(a VPN\) or neither$"),
        (
            {"customer_gateway_ip": None, "customer_gateway_asn": None},
            r"^customer_gateway_ip, direct_connect_gateway_id: a VPN, a Direct Connect gateway or both$",
        ),
        ({"direct_connect_gateway_id": "gw-1"}, r"^vpc_cidr: required with a Direct Connect gateway"),
    ],
)
def test_bad_args_name_the_field(changes, message):
    with pytest.raises(ValueError, match=message):
        link_args(**changes)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"gateway": "x"}, r"^gateway: must be one of transit-gateway, vpn-gateway \(got 'x'\)$"),
        ({"amazon_side_asn": 7224}, r"^amazon_side_asn: 7224 is not a private ASN"),
        ({"bgp_asn": 64600}, r"^bgp_asn: must differ from the Direct Connect gateway's amazon_side_asn$"),
        ({"vlan": 0}, r"^vlan: must be 1-4094 \(got 0\)$"),
    ],
)
def test_bad_direct_connect_args_name_the_field(changes, message):
    values: dict[str, Any] = {
        "environment": "prod", "datacentre": "dc1", "connection_id": "dxcon-fgq9nnsm", "vlan": 101,
        "bgp_asn": 65010, "amazon_side_asn": 64600, **changes,
    }  # fmt: skip
    with pytest.raises(ValueError, match=message):
        DirectConnectGatewayArgs(**values)


# --- the other shapes a stack may choose: a VPN gateway, Direct Connect -------------------------------

DIRECT_CONNECT = {"connection_id": "dxcon-fgq9nnsm", "vlan": 101, "bgp_asn": 65010, "amazon_side_asn": 64600}


def pack_mandatory(resources) -> list[str]:
    """The whole pack on a plan of the prod stack's shape (its policy config and waivers)."""
    from llmstack import analyzer
    from tests.mutation.harness import stack_config

    plan = [json.loads(json.dumps(r.to_json())) for r in resources]
    with analyzer.PlanEvaluator(project="llm-serving", stack="prod", user_config=stack_config("prod")) as evaluator:
        return [f"{v.policy}: {v.message}" for v in evaluator.evaluate(plan).mandatory]


@pytest.fixture(scope="module")
def vpn_gateway_stack():
    return run_stack("prod", lambda v: v["datacentre"].update(gateway="vpn-gateway")).resources


def test_a_vpn_gateway_instead_of_a_transit_gateway(vpn_gateway_stack):
    resources = vpn_gateway_stack
    assert not [r for r in resources if r.type.startswith("aws:ec2transitgateway/")]
    assert not [r for r in resources if r.type == "aws:ec2/vpnGatewayRoutePropagation:VpnGatewayRoutePropagation"]
    for region, asn in (("us-east-1", "64512"), ("eu-west-1", "64513")):
        (gateway,) = of(resources, "aws:ec2/vpnGateway:VpnGateway", region)
        assert gateway.inputs["amazonSideAsn"] == asn and gateway.inputs["vpcId"].startswith("vpc-")
        (vpn,) = of(resources, "aws:ec2/vpnConnection:VpnConnection", region)
        assert vpn.inputs["vpnGatewayId"].startswith("vgw-") and "transitGatewayId" not in vpn.inputs
        assert vpn.inputs["staticRoutesOnly"] is False and vpn.inputs["tunnel1IkeVersions"] == ["ikev2"]
        routes = of(resources, "aws:ec2/route:Route", region)
        assert len(routes) == 3  # one per private route table, to 10.100.0.0/16
        for r in routes:
            assert r.inputs["destinationCidrBlock"] == "10.100.0.0/16"
            assert r.inputs["gatewayId"] == vpn.inputs["vpnGatewayId"] and "transitGatewayId" not in r.inputs
    assert pack_mandatory(resources) == []


def test_direct_connect_beside_the_vpn_on_transit_gateways():
    resources = run_stack("prod", lambda v: v["datacentre"].update(direct_connect=DIRECT_CONNECT)).resources
    (gateway,) = [r for r in resources if r.type == "aws:directconnect/gateway:Gateway"]
    assert gateway.inputs["amazonSideAsn"] == "64600" and gateway.inputs["name"] == "llm-serving-prod-dc1"
    assert "us-east-1" in gateway.provider  # global, managed through the primary region
    (interface,) = [r for r in resources if r.type.startswith("aws:directconnect/") and "VirtualInterface" in r.type]
    assert interface.type == "aws:directconnect/transitVirtualInterface:TransitVirtualInterface"
    assert {k: interface.inputs[k] for k in ("connectionId", "vlan", "bgpAsn", "addressFamily")} == {
        "connectionId": "dxcon-fgq9nnsm",
        "vlan": 101,
        "bgpAsn": 65010,
        "addressFamily": "ipv4",
    }
    for region, vpc_cidr in (("us-east-1", "10.20.0.0/16"), ("eu-west-1", "10.21.0.0/16")):
        (association,) = of(resources, "aws:directconnect/gatewayAssociation:GatewayAssociation", region)
        (tgw,) = of(resources, "aws:ec2transitgateway/transitGateway:TransitGateway", region)
        assert association.inputs["associatedGatewayId"].startswith("tgw-")
        assert association.inputs["allowedPrefixes"] == [vpc_cidr]
        names = {
            r.name for r in of(resources, "aws:ec2transitgateway/routeTableAssociation:RouteTableAssociation", region)
        }
        assert names == {f"{region}-datacentre-{kind}-association" for kind in ("vpc", "vpn", "dx")}
        assert tgw.inputs["amazonSideAsn"] != 64600
    assert pack_mandatory(resources) == []


def test_direct_connect_only_on_vpn_gateways():
    def direct_only(values):
        values["datacentre"].pop("vpn")
        values["datacentre"].update(gateway="vpn-gateway", direct_connect=DIRECT_CONNECT)

    resources = run_stack("prod", direct_only).resources
    assert not [
        r
        for r in resources
        if r.type in ("aws:ec2/vpnConnection:VpnConnection", "aws:ec2/customerGateway:CustomerGateway")
    ]
    (interface,) = [r for r in resources if "VirtualInterface" in r.type]
    assert interface.type == "aws:directconnect/privateVirtualInterface:PrivateVirtualInterface"
    (association,) = of(resources, "aws:directconnect/gatewayAssociation:GatewayAssociation", "eu-west-1")
    assert association.inputs["associatedGatewayId"].startswith("vgw-")
    assert pack_mandatory(resources) == []


def test_config_refuses_a_data_centre_without_a_link_or_with_clashing_asns():
    assert error_of("prod", lambda v: v["datacentre"].pop("vpn")) == (
        "datacentre: needs vpn, direct_connect or both (how the data centre reaches the regions)"
    )
    clash = {**DIRECT_CONNECT, "amazon_side_asn": 64513}
    assert error_of("prod", lambda v: v["datacentre"].update(direct_connect=clash)) == (
        "datacentre.direct_connect.amazon_side_asn: 64513 is eu-west-1's Transit Gateway ASN (64512 onwards, one per "
        "region); choose another"
    )
    same = {**DIRECT_CONNECT, "bgp_asn": 64600}
    assert error_of("prod", lambda v: v["datacentre"].update(direct_connect=same)) == (
        "datacentre.direct_connect.bgp_asn: 64600 is the Direct Connect gateway's ASN too"
    )
    assert error_of(
        "prod", lambda v: v["datacentre"].update(direct_connect={**DIRECT_CONNECT, "connection_id": "dx-1"})
    ).startswith("datacentre.direct_connect.connection_id: ")
    assert (
        error_of("prod", lambda v: v["datacentre"].update(direct_connect={**DIRECT_CONNECT, "amazon_side_asn": 7224}))
        == "datacentre.direct_connect.amazon_side_asn: must be a private ASN: 64512-65534 or 4200000000-4294967294"
    )
    assert error_of("prod", lambda v: v["datacentre"].update(gateway="direct")).startswith("datacentre.gateway: ")
