"""Network: VPC, subnets, NAT, routes, endpoints and flow logs, under the SDK's mock engine."""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pytest
from pulumi.runtime.mocks import MockMonitor

from components.network import Network, NetworkArgs

ACCOUNT = "123456789012"
LOGS_KEY_ARN = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
ZONES = ("us-east-1a", "us-east-1b", "us-east-1c")
NAME = "prod-use1-network"
GROUP = "/llm-serving/prod/us-east-1/vpc-flow-logs"

# Every type here takes tags; Route, RouteTableAssociation and RolePolicy do not.
TAGGABLE = {
    "aws:ec2/vpc:Vpc",
    "aws:ec2/internetGateway:InternetGateway",
    "aws:ec2/subnet:Subnet",
    "aws:ec2/eip:Eip",
    "aws:ec2/natGateway:NatGateway",
    "aws:ec2/routeTable:RouteTable",
    "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup",
    "aws:ec2/vpcEndpoint:VpcEndpoint",
    "aws:ec2/securityGroup:SecurityGroup",
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
    "aws:cloudwatch/logGroup:LogGroup",
    "aws:iam/role:Role",
    "aws:ec2/flowLog:FlowLog",
}


# --- a small mock engine that records registrations -----------------------------------------------


class _Mocks(pulumi.runtime.Mocks):
    def __init__(self) -> None:
        self.resources: dict[tuple[str, str], dict[str, Any]] = {}

    def new_resource(self, args: pulumi.runtime.MockResourceArgs):
        self.resources[(args.typ, args.name)] = args.inputs
        state = dict(args.inputs)
        if args.typ == "aws:cloudwatch/logGroup:LogGroup":
            state["arn"] = f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:{args.inputs['name']}"
        elif args.typ == "aws:iam/role:Role":
            state["arn"] = f"arn:aws:iam::{ACCOUNT}:role/{args.name}-1a2b3c4"
            state["name"] = f"{args.name}-1a2b3c4"
        return f"{args.name}-id", state

    def call(self, args: pulumi.runtime.MockCallArgs):
        if args.token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {
                "accountId": ACCOUNT,
                "arn": f"arn:aws:iam::{ACCOUNT}:user/test",
                "userId": "AIDA",
                "id": ACCOUNT,
            }
        if args.token == "aws:index/getPartition:getPartition":
            return {
                "partition": "aws",
                "dnsSuffix": "amazonaws.com",
                "reverseDnsPrefix": "com.amazonaws",
                "id": "aws",
            }
        return {}


class _Monitor(MockMonitor):
    """Also keeps the resource options the mocks don't see (parent, dependencies)."""

    def __init__(self, mocks: _Mocks) -> None:
        super().__init__(mocks)
        self.options: dict[str, dict[str, Any]] = {}

    def RegisterResource(self, request):  # noqa: N802 - gRPC method name
        response = super().RegisterResource(request)
        self.options[f"{request.type}::{request.name}"] = {
            "urn": response.urn,
            "parent": request.parent,
            "dependencies": list(request.dependencies),
        }
        return response


class Deployment:
    def __init__(self, mocks: _Mocks, monitor: _Monitor, outputs: dict[str, Any]) -> None:
        self.mocks, self.monitor, self.outputs = mocks, monitor, outputs

    def of_type(self, typ: str) -> dict[str, dict[str, Any]]:
        return {name: inputs for (t, name), inputs in self.mocks.resources.items() if t == typ}

    def one(self, typ: str, name: str) -> dict[str, Any]:
        return self.mocks.resources[(typ, name)]

    def urn(self, typ: str, name: str) -> str:
        return self.monitor.options[f"{typ}::{name}"]["urn"]


def deploy(args: NetworkArgs, name: str = NAME) -> Deployment:
    """Build the component under mocks, wait for every registration, resolve its outputs."""
    mocks = _Mocks()
    monitor = _Monitor(mocks)
    pulumi.runtime.set_mocks(mocks, project="llm-serving", stack="test", preview=False, monitor=monitor)
    outputs: dict[str, Any] = {}

    @pulumi.runtime.test
    def program():
        network = Network(name, args)
        return pulumi.Output.all(
            vpc_id=network.vpc_id,
            vpc_cidr=network.vpc_cidr,
            private_subnet_ids=pulumi.Output.all(*network.private_subnet_ids),
            public_subnet_ids=pulumi.Output.all(*network.public_subnet_ids),
            private_route_table_ids=pulumi.Output.all(*network.private_route_table_ids),
            endpoint_security_group_id=network.endpoint_security_group_id,
            flow_log_group_name=network.flow_log_group_name,
        ).apply(outputs.update)

    program()
    return Deployment(mocks, monitor, outputs)


def make_args(**overrides: Any) -> NetworkArgs:
    values: dict[str, Any] = {
        "environment": "prod",
        "region": "us-east-1",
        "vpc_cidr": "10.20.0.0/16",
        "availability_zones": ZONES,
        "nat_mode": "per-az",
        "cluster_name": "prod-use1",
        "flow_logs_kms_key_arn": LOGS_KEY_ARN,
    }
    return NetworkArgs(**{**values, **overrides})


@pytest.fixture(scope="module")
def prod() -> Deployment:
    return deploy(make_args())


# --- VPC, subnets, gateways -------------------------------------------------------------------------


def test_vpc_has_dns_support_and_hostnames(prod: Deployment):
    assert prod.one("aws:ec2/vpc:Vpc", f"{NAME}-vpc") == {
        "cidrBlock": "10.20.0.0/16",
        "enableDnsSupport": True,
        "enableDnsHostnames": True,
        "tags": {"Name": f"{NAME}-vpc", "component": "network"},
    }


def test_internet_gateway_is_attached_to_the_vpc(prod: Deployment):
    assert prod.one("aws:ec2/internetGateway:InternetGateway", f"{NAME}-igw")["vpcId"] == f"{NAME}-vpc-id"


def test_default_security_group_is_adopted_with_no_rules(prod: Deployment):
    default_sg = prod.one("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup", f"{NAME}-default-sg")
    assert default_sg["vpcId"] == f"{NAME}-vpc-id"
    assert not default_sg.get("ingress")
    assert not default_sg.get("egress")


def test_subnets_follow_the_cidr_plan_with_kubernetes_tags(prod: Deployment):
    subnets = prod.of_type("aws:ec2/subnet:Subnet")
    assert len(subnets) == 6
    private = ["10.20.0.0/19", "10.20.32.0/19", "10.20.64.0/19"]
    public = ["10.20.224.0/24", "10.20.225.0/24", "10.20.226.0/24"]
    for zone, private_cidr, public_cidr in zip(ZONES, private, public, strict=True):
        assert subnets[f"{NAME}-private-{zone}"] == {
            "vpcId": f"{NAME}-vpc-id",
            "cidrBlock": private_cidr,
            "availabilityZone": zone,
            "mapPublicIpOnLaunch": False,
            "tags": {
                "Name": f"{NAME}-private-{zone}",
                "component": "network",
                "kubernetes.io/cluster/prod-use1": "shared",
                "kubernetes.io/role/internal-elb": "1",
            },
        }
        assert subnets[f"{NAME}-public-{zone}"] == {
            "vpcId": f"{NAME}-vpc-id",
            "cidrBlock": public_cidr,
            "availabilityZone": zone,
            "mapPublicIpOnLaunch": False,
            "tags": {
                "Name": f"{NAME}-public-{zone}",
                "component": "network",
                "kubernetes.io/cluster/prod-use1": "shared",
                "kubernetes.io/role/elb": "1",
            },
        }


def test_per_az_mode_puts_a_nat_gateway_in_every_zone(prod: Deployment):
    nats = prod.of_type("aws:ec2/natGateway:NatGateway")
    assert len(nats) == 3
    eips = prod.of_type("aws:ec2/eip:Eip")
    assert len(eips) == 3
    assert all(eip["domain"] == "vpc" for eip in eips.values())
    igw_urn = prod.urn("aws:ec2/internetGateway:InternetGateway", f"{NAME}-igw")
    for zone in ZONES:
        nat = nats[f"{NAME}-nat-{zone}"]
        assert nat["subnetId"] == f"{NAME}-public-{zone}-id"
        assert nat["allocationId"] == f"{NAME}-nat-eip-{zone}-id"
        assert nat["connectivityType"] == "public"
        assert igw_urn in prod.monitor.options[f"aws:ec2/natGateway:NatGateway::{NAME}-nat-{zone}"]["dependencies"]
    routes = prod.of_type("aws:ec2/route:Route")
    for zone in ZONES:
        assert routes[f"{NAME}-private-default-route-{zone}"] == {
            "routeTableId": f"{NAME}-private-rt-{zone}-id",
            "destinationCidrBlock": "0.0.0.0/0",
            "natGatewayId": f"{NAME}-nat-{zone}-id",
        }


def test_one_mode_shares_a_single_nat_gateway_from_the_first_zone():
    run = deploy(make_args(environment="dev", nat_mode="one"), name="dev-use1-network")
    nats = run.of_type("aws:ec2/natGateway:NatGateway")
    assert list(nats) == ["dev-use1-network-nat-us-east-1a"]
    assert nats["dev-use1-network-nat-us-east-1a"]["subnetId"] == "dev-use1-network-public-us-east-1a-id"
    assert len(run.of_type("aws:ec2/eip:Eip")) == 1
    routes = run.of_type("aws:ec2/route:Route")
    private_routes = [routes[f"dev-use1-network-private-default-route-{zone}"] for zone in ZONES]
    assert [route["natGatewayId"] for route in private_routes] == ["dev-use1-network-nat-us-east-1a-id"] * 3
    assert len(run.of_type("aws:ec2/routeTable:RouteTable")) == 4  # one public, one private per zone


def test_public_subnets_route_to_the_internet_gateway(prod: Deployment):
    assert prod.one("aws:ec2/route:Route", f"{NAME}-public-default-route") == {
        "routeTableId": f"{NAME}-public-rt-id",
        "destinationCidrBlock": "0.0.0.0/0",
        "gatewayId": f"{NAME}-igw-id",
    }
    associations = prod.of_type("aws:ec2/routeTableAssociation:RouteTableAssociation")
    assert len(associations) == 6
    for zone in ZONES:
        assert associations[f"{NAME}-public-rta-{zone}"] == {
            "subnetId": f"{NAME}-public-{zone}-id",
            "routeTableId": f"{NAME}-public-rt-id",
        }
        assert associations[f"{NAME}-private-rta-{zone}"] == {
            "subnetId": f"{NAME}-private-{zone}-id",
            "routeTableId": f"{NAME}-private-rt-{zone}-id",
        }


# --- VPC endpoints ----------------------------------------------------------------------------------


def test_s3_gateway_endpoint_serves_the_private_route_tables(prod: Deployment):
    endpoint = prod.one("aws:ec2/vpcEndpoint:VpcEndpoint", f"{NAME}-vpce-s3")
    assert endpoint["serviceName"] == "com.amazonaws.us-east-1.s3"
    assert endpoint["vpcEndpointType"] == "Gateway"
    assert endpoint["routeTableIds"] == [f"{NAME}-private-rt-{zone}-id" for zone in ZONES]


def test_interface_endpoints_use_private_dns_in_the_private_subnets(prod: Deployment):
    endpoints = {
        inputs["serviceName"]: inputs
        for inputs in prod.of_type("aws:ec2/vpcEndpoint:VpcEndpoint").values()
        if inputs["vpcEndpointType"] == "Interface"
    }
    assert sorted(endpoints) == [
        "com.amazonaws.us-east-1.ec2",
        "com.amazonaws.us-east-1.ecr.api",
        "com.amazonaws.us-east-1.ecr.dkr",
        "com.amazonaws.us-east-1.logs",
        "com.amazonaws.us-east-1.sts",
    ]
    for inputs in endpoints.values():
        assert inputs["privateDnsEnabled"] is True
        assert inputs["subnetIds"] == [f"{NAME}-private-{zone}-id" for zone in ZONES]
        assert inputs["securityGroupIds"] == [f"{NAME}-endpoints-sg-id"]
        assert inputs["vpcId"] == f"{NAME}-vpc-id"
    assert f"{NAME}-vpce-ecr-api" in prod.of_type("aws:ec2/vpcEndpoint:VpcEndpoint")


def test_endpoint_security_group_allows_only_https_from_the_vpc(prod: Deployment):
    group = prod.one("aws:ec2/securityGroup:SecurityGroup", f"{NAME}-endpoints-sg")
    assert group["vpcId"] == f"{NAME}-vpc-id"
    assert not group.get("ingress") and not group.get("egress")  # rules are separate resources
    rules = prod.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    assert list(rules) == [f"{NAME}-endpoints-https-from-vpc"]
    rule = rules[f"{NAME}-endpoints-https-from-vpc"]
    assert {k: rule[k] for k in ("securityGroupId", "cidrIpv4", "ipProtocol", "fromPort", "toPort")} == {
        "securityGroupId": f"{NAME}-endpoints-sg-id",
        "cidrIpv4": "10.20.0.0/16",
        "ipProtocol": "tcp",
        "fromPort": 443,
        "toPort": 443,
    }
    assert prod.of_type("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule") == {}


def test_interface_endpoints_follow_the_args():
    run = deploy(
        make_args(
            region="eu-west-1",
            availability_zones=("eu-west-1a", "eu-west-1b"),
            interface_endpoints=("ecr.api", "eks-auth"),
        )
    )
    services = sorted(
        inputs["serviceName"]
        for inputs in run.of_type("aws:ec2/vpcEndpoint:VpcEndpoint").values()
        if inputs["vpcEndpointType"] == "Interface"
    )
    assert services == ["com.amazonaws.eu-west-1.ecr.api", "com.amazonaws.eu-west-1.eks-auth"]
    assert run.one("aws:ec2/vpcEndpoint:VpcEndpoint", f"{NAME}-vpce-s3")["serviceName"] == (
        "com.amazonaws.eu-west-1.s3"
    )


# --- flow logs --------------------------------------------------------------------------------------


def test_flow_logs_capture_all_traffic_into_an_encrypted_log_group(prod: Deployment):
    group_name = "/llm-serving/prod/us-east-1/vpc-flow-logs"
    assert prod.one("aws:cloudwatch/logGroup:LogGroup", f"{NAME}-flow-logs") == {
        "name": group_name,
        "retentionInDays": 365,
        "kmsKeyId": LOGS_KEY_ARN,
        "tags": {"Name": f"{NAME}-flow-logs", "component": "network"},
    }
    flow_log = prod.one("aws:ec2/flowLog:FlowLog", f"{NAME}-flow-log")
    assert flow_log == {
        "vpcId": f"{NAME}-vpc-id",
        "trafficType": "ALL",
        "maxAggregationInterval": 60,
        "logDestinationType": "cloud-watch-logs",
        "logDestination": f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:{group_name}",
        "iamRoleArn": f"arn:aws:iam::{ACCOUNT}:role/{NAME}-flow-logs-1a2b3c4",
        "tags": {"Name": f"{NAME}-flow-log", "component": "network"},
    }
    policy_urn = prod.urn("aws:iam/rolePolicy:RolePolicy", f"{NAME}-flow-logs")
    assert policy_urn in prod.monitor.options[f"aws:ec2/flowLog:FlowLog::{NAME}-flow-log"]["dependencies"]


def test_flow_log_retention_follows_the_args():
    run = deploy(make_args(flow_log_retention_days=90))
    assert run.one("aws:cloudwatch/logGroup:LogGroup", f"{NAME}-flow-logs")["retentionInDays"] == 90


def test_flow_log_role_trusts_only_this_accounts_flow_logs(prod: Deployment):
    role = prod.one("aws:iam/role:Role", f"{NAME}-flow-logs")
    assert json.loads(role["assumeRolePolicy"]) == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "VpcFlowLogsOfThisAccount",
                "Effect": "Allow",
                "Principal": {"Service": "vpc-flow-logs.amazonaws.com"},
                "Action": "sts:AssumeRole",
                "Condition": {
                    "StringEquals": {"aws:SourceAccount": ACCOUNT},
                    "ArnLike": {"aws:SourceArn": f"arn:aws:ec2:us-east-1:{ACCOUNT}:vpc-flow-log/*"},
                },
            }
        ],
    }


def test_flow_log_role_may_write_only_to_its_log_group(prod: Deployment):
    policy = prod.one("aws:iam/rolePolicy:RolePolicy", f"{NAME}-flow-logs")
    assert policy["role"] == f"{NAME}-flow-logs-1a2b3c4"
    assert json.loads(policy["policy"]) == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "DeliverFlowLogsToOneLogGroup",
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                "Resource": f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:{GROUP}:*",
            }
        ],
    }


# --- the component as a whole -----------------------------------------------------------------------


def test_every_child_is_named_after_parented_to_and_tagged_by_the_component(prod: Deployment):
    component_urn = prod.urn("llm-serving:network:Network", NAME)
    children = {key: inputs for key, inputs in prod.mocks.resources.items() if key[1] != NAME}
    assert len(children) == 41
    for (typ, name), inputs in children.items():
        assert name.startswith(f"{NAME}-"), name
        assert prod.monitor.options[f"{typ}::{name}"]["parent"] == component_urn, name
        if typ in TAGGABLE:
            assert inputs["tags"]["component"] == "network", name
            assert inputs["tags"]["Name"].startswith(f"{NAME}-"), name


def test_outputs_are_in_zone_order(prod: Deployment):
    assert prod.outputs == {
        "vpc_id": f"{NAME}-vpc-id",
        "vpc_cidr": "10.20.0.0/16",
        "private_subnet_ids": [f"{NAME}-private-{zone}-id" for zone in ZONES],
        "public_subnet_ids": [f"{NAME}-public-{zone}-id" for zone in ZONES],
        "private_route_table_ids": [f"{NAME}-private-rt-{zone}-id" for zone in ZONES],
        "endpoint_security_group_id": f"{NAME}-endpoints-sg-id",
        "flow_log_group_name": "/llm-serving/prod/us-east-1/vpc-flow-logs",
    }


# --- validation -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"availability_zones": ("us-east-1a",)},
            "availability_zones: need 2 to 6 zones for high availability (got 1)",
        ),
        (
            {"availability_zones": ("us-east-1a", "us-east-1a")},
            "availability_zones: zones must be unique (got us-east-1a, us-east-1a)",
        ),
        (
            {"availability_zones": ("us-east-1a", "us-west-2b")},
            "availability_zones: 'us-west-2b' is not a zone of us-east-1",
        ),
        (
            {"availability_zones": "us-east-1a"},
            "availability_zones: must be a sequence of zone names (got 'us-east-1a')",
        ),
        ({"nat_mode": "two"}, "nat_mode: must be one of 'one', 'per-az' (got 'two')"),
        (
            {"interface_endpoints": ("ecr.api", "s3")},
            "interface_endpoints: 's3' is not supported; allowed: aps-workspaces, autoscaling, ec2, "
            "ec2messages, ecr.api, ecr.dkr, eks, eks-auth, elasticfilesystem, elasticloadbalancing, kms, "
            "logs, monitoring, secretsmanager, sqs, ssm, ssmmessages, sts, xray",
        ),
        (
            {"interface_endpoints": ("sts", "sts")},
            "interface_endpoints: services must be unique (got sts, sts)",
        ),
        (
            {"vpc_cidr": "10.20.0.0/8"},
            "vpc_cidr: must be an IPv4 network in CIDR form with no host bits set, e.g. 10.20.0.0/16 "
            "(got '10.20.0.0/8')",
        ),
        ({"vpc_cidr": "10.0.0.0/12"}, "vpc_cidr: prefix must be between /16 and /28 (got /12)"),
        (
            {"flow_log_retention_days": 0},
            "flow_log_retention_days: must be one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, "
            "545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653 (got 0)",
        ),
        (
            {"cluster_name": "-bad"},
            "cluster_name: must be an EKS cluster name (1-100 letters, digits, '-' or '_', starting with a "
            "letter or digit); got '-bad'",
        ),
        ({"region": "useast1"}, "region: must be an AWS region name such as us-east-1 (got 'useast1')"),
        (
            {"environment": ""},
            "environment: must be lowercase letters, digits and '-' (2-32 characters, e.g. prod); got ''",
        ),
    ],
)
def test_invalid_args_are_rejected_with_the_field_named(overrides: dict[str, Any], message: str):
    with pytest.raises(ValueError) as error:
        make_args(**overrides)
    assert str(error.value) == message


def test_args_normalise_sequences_to_tuples():
    args = make_args(availability_zones=list(ZONES), interface_endpoints=["sts"])
    assert args.availability_zones == ZONES
    assert args.interface_endpoints == ("sts",)
    assert args.flow_log_group_name == "/llm-serving/prod/us-east-1/vpc-flow-logs"
