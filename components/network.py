"""The VPC an EKS cluster serves models from: subnets per zone, NAT, VPC endpoints, flow logs.

Nodes and pods live in private subnets only; public subnets hold NAT gateways and internet-facing
load balancers. Image pulls (ECR), STS, CloudWatch Logs and EC2 API calls go through interface
endpoints and S3 (ECR layers, model weights) through a gateway endpoint, so GPU nodes fetch
images and weights without crossing the internet or paying NAT data processing for them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import pulumi
import pulumi_aws as aws

from components.arg_checks import EKS_CLUSTER_NAME, ENVIRONMENT_NAME, check_region
from components.cidr_plan import MAX_ZONES, plan_subnets
from components.conventions import LOG_RETENTION_DAYS

NAT_MODES = ("one", "per-az")

# Services whose interface endpoints are named `com.amazonaws.<region>.<service>` and that nodes
# or controllers of a private EKS cluster call. S3 is absent: it has a gateway endpoint here.
INTERFACE_ENDPOINT_SERVICES = (
    "aps-workspaces",
    "autoscaling",
    "ec2",
    "ec2messages",
    "ecr.api",
    "ecr.dkr",
    "eks",
    "eks-auth",
    "elasticfilesystem",
    "elasticloadbalancing",
    "kms",
    "logs",
    "monitoring",
    "secretsmanager",
    "sqs",
    "ssm",
    "ssmmessages",
    "sts",
    "xray",
)
DEFAULT_INTERFACE_ENDPOINTS = ("ecr.api", "ecr.dkr", "sts", "logs", "ec2")


@dataclass(frozen=True)
class NetworkArgs:
    environment: str
    """Environment name (dev, staging, prod); part of the flow-log group name."""
    region: str
    """Region of the provider this component runs under, e.g. us-east-1 (endpoint service names)."""
    vpc_cidr: str
    """IPv4 CIDR of the VPC, /16 to /20; split by `cidr_plan.plan_subnets`."""
    availability_zones: Sequence[str]
    """2 to 6 distinct zones of `region`, e.g. ("us-east-1a", "us-east-1b", "us-east-1c"). One private
    and one public subnet per zone, in this order."""
    nat_mode: Literal["one", "per-az"]
    """per-az: a NAT gateway in every zone, so a zone outage cuts no other zone off (prod).
    one: a single NAT gateway in the first zone shared by all (dev; cheaper, not zone-resilient)."""
    cluster_name: str
    """EKS cluster that uses the subnets; tagged `kubernetes.io/cluster/<cluster_name>: shared`."""
    flow_logs_kms_key_arn: pulumi.Input[str]
    """ARN of the KMS key that encrypts the flow-log group (the `logs` key of `Encryption`, same region)."""
    flow_log_retention_days: int = 365
    """Retention of the flow-log group; one of the values CloudWatch Logs accepts (LOG_RETENTION_DAYS)."""
    interface_endpoints: tuple[str, ...] = DEFAULT_INTERFACE_ENDPOINTS
    """Services that get an interface endpoint in the private subnets (see INTERFACE_ENDPOINT_SERVICES)."""

    def __post_init__(self) -> None:
        if not isinstance(self.environment, str) or not ENVIRONMENT_NAME.fullmatch(self.environment):
            raise ValueError(
                "environment: must be lowercase letters, digits and '-' (2-32 characters, e.g. prod); "
                f"got {self.environment!r}"
            )
        check_region(self.region)
        self._check_zones()
        if self.nat_mode not in NAT_MODES:
            raise ValueError(f"nat_mode: must be one of 'one', 'per-az' (got {self.nat_mode!r})")
        if not isinstance(self.cluster_name, str) or not EKS_CLUSTER_NAME.fullmatch(self.cluster_name):
            raise ValueError(
                "cluster_name: must be an EKS cluster name (1-100 letters, digits, '-' or '_', "
                f"starting with a letter or digit); got {self.cluster_name!r}"
            )
        # plan_subnets names the field (vpc_cidr) in its errors.
        plan_subnets(self.vpc_cidr, len(self.availability_zones))
        retention = self.flow_log_retention_days
        if isinstance(retention, bool) or retention not in LOG_RETENTION_DAYS:
            raise ValueError(
                f"flow_log_retention_days: must be one of {', '.join(map(str, LOG_RETENTION_DAYS))} (got {retention!r})"
            )
        self._check_interface_endpoints()

    def _check_zones(self) -> None:
        zones = self.availability_zones
        if isinstance(zones, str) or not all(isinstance(zone, str) for zone in zones):
            raise ValueError(f"availability_zones: must be a sequence of zone names (got {zones!r})")
        object.__setattr__(self, "availability_zones", tuple(zones))
        if len(set(zones)) != len(zones):
            raise ValueError(f"availability_zones: zones must be unique (got {', '.join(zones)})")
        if not 2 <= len(zones) <= MAX_ZONES:
            raise ValueError(
                f"availability_zones: need 2 to {MAX_ZONES} zones for high availability (got {len(zones)})"
            )
        for zone in zones:
            if not re.fullmatch(re.escape(self.region) + r"[a-z]", zone):
                raise ValueError(f"availability_zones: {zone!r} is not a zone of {self.region}")

    def _check_interface_endpoints(self) -> None:
        services = self.interface_endpoints
        if isinstance(services, str):
            raise ValueError(f"interface_endpoints: must be a tuple of service names (got {services!r})")
        object.__setattr__(self, "interface_endpoints", tuple(services))
        for service in services:
            if service not in INTERFACE_ENDPOINT_SERVICES:
                raise ValueError(
                    f"interface_endpoints: {service!r} is not supported; allowed: "
                    f"{', '.join(INTERFACE_ENDPOINT_SERVICES)}"
                )
        if len(set(services)) != len(services):
            raise ValueError(f"interface_endpoints: services must be unique (got {', '.join(services)})")

    @property
    def flow_log_group_name(self) -> str:
        return f"/llm-serving/{self.environment}/{self.region}/vpc-flow-logs"


class Network(pulumi.ComponentResource):
    """A VPC with private/public subnets per zone, NAT, VPC endpoints and encrypted flow logs."""

    vpc_id: pulumi.Output[str]
    vpc_cidr: pulumi.Output[str]
    private_subnet_ids: list[pulumi.Output[str]]
    """In the order of `NetworkArgs.availability_zones`; the same for the lists below."""
    public_subnet_ids: list[pulumi.Output[str]]
    private_route_table_ids: list[pulumi.Output[str]]
    endpoint_security_group_id: pulumi.Output[str]
    """Attached to the interface endpoints; allows HTTPS from the VPC CIDR only."""
    flow_log_group_name: pulumi.Output[str]

    def __init__(self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("llm-serving:network:Network", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        zones = list(args.availability_zones)
        plan = plan_subnets(args.vpc_cidr, len(zones))

        vpc = aws.ec2.Vpc(
            f"{name}-vpc",
            cidr_block=args.vpc_cidr,
            # Both are required for private DNS on interface endpoints and for EKS node names.
            enable_dns_support=True,
            enable_dns_hostnames=True,
            tags=_tags(f"{name}-vpc"),
            opts=child,
        )
        # CIS AWS 5.4: adopting the default security group without rules strips all of its rules,
        # so nothing placed in it by accident can talk to anything.
        aws.ec2.DefaultSecurityGroup(
            f"{name}-default-sg",
            vpc_id=vpc.id,
            tags=_tags(f"{name}-default-sg"),
            opts=child,
        )
        igw = aws.ec2.InternetGateway(f"{name}-igw", vpc_id=vpc.id, tags=_tags(f"{name}-igw"), opts=child)

        cluster_tag = {f"kubernetes.io/cluster/{args.cluster_name}": "shared"}
        public_subnets: list[aws.ec2.Subnet] = []
        private_subnets: list[aws.ec2.Subnet] = []
        for i, zone in enumerate(zones):
            public_subnets.append(
                aws.ec2.Subnet(
                    f"{name}-public-{zone}",
                    vpc_id=vpc.id,
                    cidr_block=plan.public[i],
                    availability_zone=zone,
                    # Nothing but NAT gateways (own EIPs) and load balancers lives here.
                    map_public_ip_on_launch=False,
                    tags=_tags(f"{name}-public-{zone}", **cluster_tag, **{"kubernetes.io/role/elb": "1"}),
                    opts=child,
                )
            )
            private_subnets.append(
                aws.ec2.Subnet(
                    f"{name}-private-{zone}",
                    vpc_id=vpc.id,
                    cidr_block=plan.private[i],
                    availability_zone=zone,
                    map_public_ip_on_launch=False,
                    tags=_tags(f"{name}-private-{zone}", **cluster_tag, **{"kubernetes.io/role/internal-elb": "1"}),
                    opts=child,
                )
            )

        public_route_table = aws.ec2.RouteTable(
            f"{name}-public-rt", vpc_id=vpc.id, tags=_tags(f"{name}-public-rt"), opts=child
        )
        aws.ec2.Route(
            f"{name}-public-default-route",
            route_table_id=public_route_table.id,
            destination_cidr_block="0.0.0.0/0",
            gateway_id=igw.id,
            opts=child,
        )
        for zone, subnet in zip(zones, public_subnets, strict=True):
            aws.ec2.RouteTableAssociation(
                f"{name}-public-rta-{zone}",
                subnet_id=subnet.id,
                route_table_id=public_route_table.id,
                opts=child,
            )

        # NAT gateways are named by zone in both modes, so switching "one" -> "per-az" keeps the first.
        nat_zones = zones if args.nat_mode == "per-az" else zones[:1]
        nat_gateways: list[aws.ec2.NatGateway] = []
        for i, zone in enumerate(nat_zones):
            eip = aws.ec2.Eip(f"{name}-nat-eip-{zone}", domain="vpc", tags=_tags(f"{name}-nat-eip-{zone}"), opts=child)
            nat_gateways.append(
                aws.ec2.NatGateway(
                    f"{name}-nat-{zone}",
                    allocation_id=eip.id,
                    subnet_id=public_subnets[i].id,
                    connectivity_type="public",
                    tags=_tags(f"{name}-nat-{zone}"),
                    # A public NAT gateway needs the internet gateway attached first.
                    opts=pulumi.ResourceOptions(parent=self, depends_on=[igw]),
                )
            )

        # One private route table per zone even with a shared NAT: changing nat_mode then only
        # changes routes, never subnet associations.
        private_route_tables: list[aws.ec2.RouteTable] = []
        for i, (zone, subnet) in enumerate(zip(zones, private_subnets, strict=True)):
            route_table = aws.ec2.RouteTable(
                f"{name}-private-rt-{zone}",
                vpc_id=vpc.id,
                tags=_tags(f"{name}-private-rt-{zone}"),
                opts=child,
            )
            nat = nat_gateways[i] if args.nat_mode == "per-az" else nat_gateways[0]
            aws.ec2.Route(
                f"{name}-private-default-route-{zone}",
                route_table_id=route_table.id,
                destination_cidr_block="0.0.0.0/0",
                nat_gateway_id=nat.id,
                opts=child,
            )
            aws.ec2.RouteTableAssociation(
                f"{name}-private-rta-{zone}", subnet_id=subnet.id, route_table_id=route_table.id, opts=child
            )
            private_route_tables.append(route_table)

        # No endpoint policy: ECR keeps image layers in AWS-owned buckets, which a policy limited
        # to this account's buckets would cut off. Bucket policies and IAM do the narrowing.
        aws.ec2.VpcEndpoint(
            f"{name}-vpce-s3",
            vpc_id=vpc.id,
            service_name=f"com.amazonaws.{args.region}.s3",
            vpc_endpoint_type="Gateway",
            route_table_ids=[table.id for table in private_route_tables],
            tags=_tags(f"{name}-vpce-s3"),
            opts=child,
        )

        # Security groups are stateful, so endpoints need no egress rule; the provider removes
        # the allow-all egress rule AWS adds to a new group.
        endpoint_sg = aws.ec2.SecurityGroup(
            f"{name}-endpoints-sg",
            description="HTTPS from inside the VPC to the interface VPC endpoints",
            vpc_id=vpc.id,
            tags=_tags(f"{name}-endpoints-sg"),
            opts=child,
        )
        aws.vpc.SecurityGroupIngressRule(
            f"{name}-endpoints-https-from-vpc",
            security_group_id=endpoint_sg.id,
            description="HTTPS from the VPC CIDR",
            cidr_ipv4=args.vpc_cidr,
            ip_protocol="tcp",
            from_port=443,
            to_port=443,
            tags=_tags(f"{name}-endpoints-https-from-vpc"),
            opts=child,
        )
        for service in args.interface_endpoints:
            endpoint_name = f"{name}-vpce-{service.replace('.', '-')}"
            aws.ec2.VpcEndpoint(
                endpoint_name,
                vpc_id=vpc.id,
                service_name=f"com.amazonaws.{args.region}.{service}",
                vpc_endpoint_type="Interface",
                # The service's public hostname resolves to the endpoint inside the VPC, so SDKs
                # and kubelet use it with no configuration.
                private_dns_enabled=True,
                subnet_ids=[subnet.id for subnet in private_subnets],
                security_group_ids=[endpoint_sg.id],
                tags=_tags(endpoint_name),
                opts=child,
            )

        log_group = self._flow_logs(name, args, vpc)

        self.vpc_id = vpc.id
        self.vpc_cidr = vpc.cidr_block
        self.private_subnet_ids = [subnet.id for subnet in private_subnets]
        self.public_subnet_ids = [subnet.id for subnet in public_subnets]
        self.private_route_table_ids = [table.id for table in private_route_tables]
        self.endpoint_security_group_id = endpoint_sg.id
        self.flow_log_group_name = log_group.name
        self.register_outputs(
            {
                "vpc_id": self.vpc_id,
                "vpc_cidr": self.vpc_cidr,
                "private_subnet_ids": self.private_subnet_ids,
                "public_subnet_ids": self.public_subnet_ids,
                "private_route_table_ids": self.private_route_table_ids,
                "endpoint_security_group_id": self.endpoint_security_group_id,
                "flow_log_group_name": self.flow_log_group_name,
            }
        )

    def _flow_logs(self, name: str, args: NetworkArgs, vpc: aws.ec2.Vpc) -> aws.cloudwatch.LogGroup:
        """All VPC traffic, at one-minute aggregation, into a KMS-encrypted log group."""
        child = pulumi.ResourceOptions(parent=self)
        invoke = pulumi.InvokeOutputOptions(parent=self)
        account_id = aws.get_caller_identity_output(opts=invoke).account_id
        partition = aws.get_partition_output(opts=invoke).partition

        log_group = aws.cloudwatch.LogGroup(
            f"{name}-flow-logs",
            name=args.flow_log_group_name,
            retention_in_days=args.flow_log_retention_days,
            kms_key_id=args.flow_logs_kms_key_arn,
            tags=_tags(f"{name}-flow-logs"),
            opts=child,
        )
        role = aws.iam.Role(
            f"{name}-flow-logs",
            description=f"VPC flow logs delivery to {args.flow_log_group_name}",
            assume_role_policy=pulumi.Output.all(account_id, partition).apply(
                lambda values: json.dumps(flow_logs_trust_policy(values[0], args.region, values[1]))
            ),
            tags=_tags(f"{name}-flow-logs"),
            opts=child,
        )
        delivery = aws.iam.RolePolicy(
            f"{name}-flow-logs",
            role=role.name,
            policy=log_group.arn.apply(lambda arn: json.dumps(flow_logs_delivery_policy(arn))),
            opts=child,
        )
        aws.ec2.FlowLog(
            f"{name}-flow-log",
            vpc_id=vpc.id,
            traffic_type="ALL",
            max_aggregation_interval=60,
            log_destination_type="cloud-watch-logs",
            log_destination=log_group.arn,
            iam_role_arn=role.arn,
            tags=_tags(f"{name}-flow-log"),
            # Without the policy in place the first deliveries fail with access denied.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[delivery]),
        )
        return log_group


def flow_logs_trust_policy(account_id: str, region: str, partition: str = "aws") -> dict[str, Any]:
    """Only the flow-log service, acting for flow logs of this account and region, may assume the role."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "VpcFlowLogsOfThisAccount",
                "Effect": "Allow",
                "Principal": {"Service": "vpc-flow-logs.amazonaws.com"},
                "Action": "sts:AssumeRole",
                # Confused-deputy guard: another account's flow logs cannot use this role.
                "Condition": {
                    "StringEquals": {"aws:SourceAccount": account_id},
                    "ArnLike": {"aws:SourceArn": f"arn:{partition}:ec2:{region}:{account_id}:vpc-flow-log/*"},
                },
            }
        ],
    }


def flow_logs_delivery_policy(log_group_arn: str) -> dict[str, Any]:
    """Write access to the streams of one log group; the group itself is created here, not by AWS."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "DeliverFlowLogsToOneLogGroup",
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                "Resource": f"{log_group_arn}:*",
            }
        ],
    }


def _tags(name: str, **extra: str) -> dict[str, str]:
    return {"Name": name, "component": "network", **extra}
