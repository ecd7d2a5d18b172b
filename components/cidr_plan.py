"""Split a VPC CIDR into per-zone private and public subnets, and the ranges EKS takes for hybrid
nodes' networks (pure; no Pulumi).

The VPC is cut into 8 equal blocks. Blocks 0-5 are the private subnets, one per zone: the VPC
CNI gives every pod a VPC address, so private subnets must be large (a /16 gives /19s, 8,187
usable addresses each). Block 6 is left free for later growth (a zone, or intra subnets). The
public subnets hold only NAT gateways and load balancers, so they are small subnets carved from
block 7: `/(vpc prefix + 8)` (a /24 in a /16), but never smaller than a /27, the smallest subnet
an Application Load Balancer accepts.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

BLOCKS = 8
MAX_ZONES = 6
MIN_VPC_PREFIX = 16  # AWS's largest VPC CIDR
MAX_VPC_PREFIX = 28  # AWS's smallest VPC CIDR
MAX_PUBLIC_PREFIX = 27  # ALBs need at least a /27 per subnet

# EKS accepts remote node and pod networks inside these only (EKS API, RemoteNetworkConfigRequest:
# "within an IPv4 RFC-1918 network range", /8 to /32; botocore's model, tested).
RFC1918 = tuple(ipaddress.IPv4Network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"))


def is_rfc1918(network: ipaddress.IPv4Network | ipaddress.IPv6Network) -> bool:
    """Inside 10/8, 172.16/12 or 192.168/16 (Python's is_private also admits documentation ranges)."""
    return isinstance(network, ipaddress.IPv4Network) and any(network.subnet_of(r) for r in RFC1918)


@dataclass(frozen=True)
class SubnetPlan:
    """Subnet CIDRs in zone order: `private[i]` and `public[i]` belong to the i-th zone."""

    private: list[str]
    """One large subnet per zone for nodes and pods (blocks 0..zones-1 of the VPC's eighths)."""
    public: list[str]
    """One small subnet per zone for NAT gateways and internet-facing load balancers."""


def plan_subnets(vpc_cidr: str, zones: int) -> SubnetPlan:
    """Plan `zones` private and public subnets inside `vpc_cidr`. Raises ValueError if they don't fit."""
    try:
        vpc = ipaddress.IPv4Network(vpc_cidr, strict=True)
    except (ValueError, TypeError):
        raise ValueError(
            f"vpc_cidr: must be an IPv4 network in CIDR form with no host bits set, e.g. 10.20.0.0/16 "
            f"(got {vpc_cidr!r})"
        ) from None
    if not MIN_VPC_PREFIX <= vpc.prefixlen <= MAX_VPC_PREFIX:
        raise ValueError(
            f"vpc_cidr: prefix must be between /{MIN_VPC_PREFIX} and /{MAX_VPC_PREFIX} (got /{vpc.prefixlen})"
        )
    if isinstance(zones, bool) or not isinstance(zones, int) or not 1 <= zones <= MAX_ZONES:
        raise ValueError(f"zones: must be an integer between 1 and {MAX_ZONES} (got {zones!r})")

    block_prefix = vpc.prefixlen + 3  # 8 equal blocks
    blocks = list(vpc.subnets(new_prefix=block_prefix))
    public_prefix = min(vpc.prefixlen + 8, MAX_PUBLIC_PREFIX)
    if public_prefix <= block_prefix:
        raise ValueError(
            f"vpc_cidr: {vpc} is too small: a private /{block_prefix} per zone would be no larger than "
            f"a public /{public_prefix}; use a /16 to /20"
        )
    public_slots = list(blocks[-1].subnets(new_prefix=public_prefix))
    if zones > len(public_slots):
        raise ValueError(
            f"vpc_cidr: {vpc} fits only {len(public_slots)} public /{public_prefix} subnets "
            f"but {zones} zones need one each; use a larger VPC (/16 to /20)"
        )
    return SubnetPlan(
        private=[str(block) for block in blocks[:zones]],
        public=[str(subnet) for subnet in public_slots[:zones]],
    )
