"""DeployPath: the deploy runner's way to a secondary region's private EKS endpoint.

One `pulumi up` applies every region's Kubernetes half, and it runs on the deploy runner in the
primary region's private subnets (`components.deploy_runner`). A secondary region's API endpoint
is private too, so the primary VPC is peered with the secondary's (inter-region VPC peering: no
hourly charge, traffic is billed as inter-region data transfer):

- the primary's private route tables send the secondary's VPC CIDR over the peering, and the
  secondary's private route tables send the primary's private subnets (the runner's) back over it,
  nothing wider;
- the secondary cluster's security group admits HTTPS (the API server) from those subnets only.
  Security groups cannot reference a group across regions, hence the CIDRs.

A client outside the VPC finds the private endpoint through the API server's public DNS name:
with public access off, EKS publishes the endpoint's private addresses under it (AWS Knowledge
Center, "How do I connect to a private Amazon EKS cluster endpoint from outside the VPC?",
https://aws.amazon.com/premiumsupport/knowledge-center/eks-private-cluster-endpoint-vpc/).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.arg_checks import check_environment, check_region

COMPONENT = "deploy"
HTTPS = 443


@dataclass(frozen=True)
class PeerVpc:
    """One end of the path: a region's VPC and its private route tables."""

    region: str
    vpc_id: pulumi.Input[str]
    vpc_cidr: str
    private_route_table_ids: Sequence[pulumi.Input[str]]


@dataclass(frozen=True)
class DeployPathArgs:
    environment: str
    runner: PeerVpc
    """The primary region's VPC, where the deploy runner is (the caller's AWS provider, in `opts`)."""
    runner_subnet_cidrs: tuple[str, ...]
    """The runner's private subnets: the only sources the secondary admits."""
    cluster: PeerVpc
    """The secondary region's VPC, whose cluster the runner must reach."""
    cluster_security_group_id: pulumi.Input[str]
    """The secondary EKS cluster's security group (its control plane's ENIs)."""
    cluster_provider: pulumi.ProviderResource
    """The secondary region's AWS provider (accepter, its routes and rule)."""
    account_id: pulumi.Input[str]

    def __post_init__(self) -> None:
        check_environment(self.environment)
        for end in (self.runner, self.cluster):
            check_region(end.region)
            if not end.private_route_table_ids:
                raise ValueError(f"private_route_table_ids: at least one route table in {end.region}")
        if self.runner.region == self.cluster.region:
            raise ValueError(f"cluster: in the runner's own region {self.runner.region}; it needs no path")
        runner = ipaddress.IPv4Network(self.runner.vpc_cidr)
        cluster = ipaddress.IPv4Network(self.cluster.vpc_cidr)
        if runner.overlaps(cluster):
            raise ValueError(
                f"cluster.vpc_cidr: {cluster} overlaps the runner's VPC {runner}; peering needs distinct ranges"
            )
        if not self.runner_subnet_cidrs:
            raise ValueError("runner_subnet_cidrs: at least one subnet")
        for cidr in self.runner_subnet_cidrs:
            if not ipaddress.IPv4Network(cidr).subnet_of(runner):
                raise ValueError(f"runner_subnet_cidrs: {cidr} is not inside the runner's VPC {runner}")


class DeployPath(pulumi.ComponentResource):
    def __init__(self, name: str, args: DeployPathArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("llm-serving:deploy:DeployPath", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        remote = pulumi.ResourceOptions(parent=self, provider=args.cluster_provider)
        runner, cluster = args.runner, args.cluster

        peering = aws.ec2.VpcPeeringConnection(
            f"{name}-peering",
            vpc_id=runner.vpc_id,
            peer_vpc_id=cluster.vpc_id,
            peer_region=cluster.region,
            peer_owner_id=args.account_id,
            tags=_tags(f"{name}-peering"),
            opts=child,
        )
        # Across regions the request is accepted on the other side (auto_accept is refused there).
        accepter = aws.ec2.VpcPeeringConnectionAccepter(
            f"{name}-accepter",
            vpc_peering_connection_id=peering.id,
            auto_accept=True,
            tags=_tags(f"{name}-accepter"),
            opts=remote,
        )
        accepted = pulumi.ResourceOptions(parent=self, depends_on=[accepter])
        for index, table in enumerate(runner.private_route_table_ids):
            aws.ec2.Route(
                f"{name}-to-cluster-{index}",
                route_table_id=table,
                destination_cidr_block=cluster.vpc_cidr,
                vpc_peering_connection_id=peering.id,
                opts=accepted,
            )
        for index, table in enumerate(cluster.private_route_table_ids):
            for subnet, cidr in enumerate(args.runner_subnet_cidrs):
                aws.ec2.Route(
                    f"{name}-to-runner-{index}-{subnet}",
                    route_table_id=table,
                    destination_cidr_block=cidr,
                    vpc_peering_connection_id=accepter.id,
                    opts=pulumi.ResourceOptions(parent=self, provider=args.cluster_provider),
                )
        for subnet, cidr in enumerate(args.runner_subnet_cidrs):
            aws.vpc.SecurityGroupIngressRule(
                f"{name}-api-from-runner-{subnet}",
                security_group_id=args.cluster_security_group_id,
                description=f"Kubernetes API from the deploy runner's subnet {cidr} in {runner.region}",
                cidr_ipv4=cidr,
                ip_protocol="tcp",
                from_port=HTTPS,
                to_port=HTTPS,
                tags=_tags(f"{name}-api-from-runner-{subnet}"),
                opts=remote,
            )
        self.peering_id = peering.id
        self.register_outputs({"peering_id": self.peering_id})


def _tags(name: str) -> dict[str, str]:
    return {"Name": name, "component": COMPONENT}
