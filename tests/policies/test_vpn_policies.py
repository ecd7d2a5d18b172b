"""aws-vpn-tunnels-strong and aws-transit-gateway-datacentre-routes-only."""

from __future__ import annotations

import copy

import pytest
from conftest import policy_resource, provider, resource_violations, stack_violations

from policies.aws.vpn import routes_datacentre_only, tunnels_strong

VPN = "aws:ec2/vpnConnection:VpnConnection"
STRONG_TUNNEL = {
    "IkeVersions": ["ikev2"],
    "Phase1EncryptionAlgorithms": ["AES256-GCM-16"],
    "Phase1IntegrityAlgorithms": ["SHA2-384"],
    "Phase1DhGroupNumbers": [20],
    "Phase2EncryptionAlgorithms": ["AES256-GCM-16", "AES256"],
    "Phase2IntegrityAlgorithms": ["SHA2-384"],
    "Phase2DhGroupNumbers": [20, 14],
    "DpdTimeoutAction": "restart",
    "LogOptions": {"cloudwatchLogOptions": {"logEnabled": True, "logGroupArn": "arn:aws:logs:us-east-1:1:log-group:v"}},
}


def vpn(**tunnel1):
    props = {f"{t}{k}": copy.deepcopy(v) for t in ("tunnel1", "tunnel2") for k, v in STRONG_TUNNEL.items()}
    props.update({f"tunnel1{k}": v for k, v in tunnel1.items()})
    return {k: v for k, v in props.items() if v is not None}


def tunnels(props):
    return resource_violations(tunnels_strong.policy, VPN, props)


def test_tunnels_compliant():
    assert tunnels(vpn()) == []
    assert resource_violations(tunnels_strong.policy, "aws:ec2/vpc:Vpc", {}) == []


@pytest.mark.parametrize(
    ("option", "weak", "strong"),
    [
        ("IkeVersions", ["ikev2", "ikev1"], "ikev2"),
        ("Phase1EncryptionAlgorithms", ["AES128"], "AES256, AES256-GCM-16"),
        ("Phase1IntegrityAlgorithms", ["SHA1"], "SHA2-256, SHA2-384, SHA2-512"),
        ("Phase1DhGroupNumbers", [2], "14, 15, 16, 17, 18, 19, 20, 21"),
        ("Phase2EncryptionAlgorithms", ["AES128-GCM-16"], "AES256, AES256-GCM-16"),
        ("Phase2IntegrityAlgorithms", ["SHA1", "SHA2-256"], "SHA2-256, SHA2-384, SHA2-512"),
        ("Phase2DhGroupNumbers", [5, 24], "14, 15, 16, 17, 18, 19, 20, 21"),
    ],
)
def test_tunnel_allowing_a_weak_algorithm(option, weak, strong):
    found = [v for v in weak if str(v) not in strong.split(", ")]
    shown = ", ".join(str(v) for v in sorted(found, key=str))
    assert tunnels(vpn(**{option: weak})) == [f"tunnel1{option} allows {shown}; strong: {strong}."]


def test_tunnel_option_unset_permits_the_weak_defaults():
    assert tunnels(vpn(Phase1DhGroupNumbers=None)) == [
        "tunnel1Phase1DhGroupNumbers is unset: AWS then permits its weak defaults too (14, 15, 16, 17, 18, 19, 20, 21 "
        "only)."
    ]


@pytest.mark.parametrize(("action", "shown"), [("none", "none"), ("clear", "clear"), (None, "unset (clear)")])
def test_tunnel_dead_peer_detection(action, shown):
    assert tunnels(vpn(DpdTimeoutAction=action)) == [
        f"tunnel1DpdTimeoutAction is {shown}: a dead peer must restart the negotiation (restart)."
    ]


@pytest.mark.parametrize(
    "log_options",
    [None, {"cloudwatchLogOptions": {"logEnabled": False, "logGroupArn": "x"}}, {"cloudwatchLogOptions": {}}, "on"],
)
def test_tunnel_not_logged(log_options):
    assert tunnels(vpn(LogOptions=log_options)) == [
        "tunnel1LogOptions does not log the tunnel's activity to CloudWatch Logs."
    ]


def test_second_tunnel_is_checked_too():
    props = vpn()
    props["tunnel2IkeVersions"] = ["ikev1"]
    assert tunnels(props) == ["tunnel2IkeVersions allows ikev1; strong: ikev2."]


CONFIG = {"datacentreCidrs": ["10.100.0.0/16", "10.200.0.0/24"]}
US = provider()


def route(destination, via="transitGatewayId", name="r", target="tgw-1", depends_on=None):
    props = {"routeTableId": "rtb-1", "destinationCidrBlock": destination, via: target}
    return policy_resource(
        "aws:ec2/route:Route",
        name,
        props,
        provider_resource=US,
        property_dependencies={via: [depends_on]} if depends_on else None,
    )


VGW = policy_resource("aws:ec2/vpnGateway:VpnGateway", "vgw", {"vpcId": "vpc-1"}, provider_resource=US)
VPC = policy_resource("aws:ec2/vpc:Vpc", "vpc", {"cidrBlock": "10.20.0.0/16"}, provider_resource=US)


def association(prefixes, name="dx"):
    props = {"dxGatewayId": "gw-1", "associatedGatewayId": "tgw-1", "allowedPrefixes": prefixes}
    return policy_resource("aws:directconnect/gatewayAssociation:GatewayAssociation", name, props, provider_resource=US)


def gateway(**changes):
    props = {
        "autoAcceptSharedAttachments": "disable",
        "defaultRouteTableAssociation": "disable",
        "defaultRouteTablePropagation": "disable",
        **changes,
    }
    return policy_resource("aws:ec2transitgateway/transitGateway:TransitGateway", "tgw", props, provider_resource=US)


def routes(*resources, config=CONFIG):
    return [m for m, _ in stack_violations(routes_datacentre_only.policy, list(resources), config)]


def test_routes_compliant():
    nat = policy_resource(
        "aws:ec2/route:Route",
        "nat",
        {"destinationCidrBlock": "0.0.0.0/0", "natGatewayId": "nat-1"},
        provider_resource=US,
    )
    assert routes(route("10.100.0.0/16"), route("10.100.4.0/24"), route("10.200.0.0/24"), nat, gateway()) == []
    # A virtual private gateway instead, known by its id or (in a preview, id unknown) by what the route names.
    vgw_routes = [
        route("10.100.0.0/16", "gatewayId", "v", "vgw-0123456789abcdef0"),
        route("10.200.0.0/24", "gatewayId", "w", "", depends_on=VGW),
    ]
    internet = policy_resource(
        "aws:ec2/route:Route", "igw", {"destinationCidrBlock": "0.0.0.0/0", "gatewayId": "igw-1"}, provider_resource=US
    )
    assert routes(*vgw_routes, internet, VGW, VPC, association(["10.20.0.0/16"]), association(["10.20.4.0/24"])) == []


@pytest.mark.parametrize(
    ("destination", "via"),
    [("0.0.0.0/0", "transitGatewayId"), ("10.101.0.0/16", "transitGatewayId"), ("10.0.0.0/8", "gatewayId")],
)
def test_route_outside_the_data_centre(destination, via):
    target = "tgw-1" if via == "transitGatewayId" else "vgw-1"
    assert routes(route(destination, via, target=target)) == [
        f"route 'r' sends {destination} over the private path ({via}); only the data centre's networks go there "
        "(10.100.0.0/16, 10.200.0.0/24)."
    ]


def test_route_without_config_or_destination():
    assert routes(route("10.100.0.0/16"), config={}) == [
        "route 'r' sends 10.100.0.0/16 over the private path (transitGatewayId); only the data centre's networks go "
        "there (none configured)."
    ]
    prefix_list = policy_resource(
        "aws:ec2/route:Route",
        "p",
        {"destinationPrefixListId": "pl-1", "transitGatewayId": "tgw-1"},
        provider_resource=US,
    )
    assert routes(prefix_list)[0].startswith("route 'p' sends a prefix list over the private path")


@pytest.mark.parametrize("option", routes_datacentre_only.ISOLATION)
def test_transit_gateway_that_admits_attachments(option):
    assert routes(gateway(**{option: "enable"})) == [
        f"Transit Gateway 'tgw' has {option} enable: attachments would join its routes without a reviewed association."
    ]
    assert routes(gateway(**{option: None})) == [
        f"Transit Gateway 'tgw' has {option} unset (enable): attachments would join its routes without a reviewed "
        "association."
    ]


def test_route_to_the_vpn_gateway_by_dependency_outside_the_data_centre():
    assert routes(route("0.0.0.0/0", "gatewayId", target="", depends_on=VGW)) == [
        "route 'r' sends 0.0.0.0/0 over the private path (gatewayId); only the data centre's networks go there "
        "(10.100.0.0/16, 10.200.0.0/24)."
    ]


def test_vpn_gateway_route_propagation():
    propagation = policy_resource(
        "aws:ec2/vpnGatewayRoutePropagation:VpnGatewayRoutePropagation",
        "prop",
        {"vpnGatewayId": "vgw-1", "routeTableId": "rtb-1"},
        provider_resource=US,
    )
    assert routes(propagation) == [
        "'prop' propagates the VPN gateway's routes into a VPC route table: the data centre's BGP announcements "
        "would decide what goes there, not datacentre.cidrs (10.100.0.0/16, 10.200.0.0/24)."
    ]


@pytest.mark.parametrize(
    ("prefixes", "shown"),
    [
        (["0.0.0.0/0"], "0.0.0.0/0"),
        (["10.20.0.0/16", "10.0.0.0/8"], "10.0.0.0/8"),
        ([], "no allowedPrefixes (AWS would pick them)"),
        (None, "no allowedPrefixes (AWS would pick them)"),
    ],
)
def test_direct_connect_association_advertising_more_than_the_vpcs(prefixes, shown):
    assert routes(VPC, association(prefixes)) == [
        f"Direct Connect association 'dx' advertises {shown} to the data centre; only the stack's VPC networks go "
        "there (10.20.0.0/16)."
    ]
