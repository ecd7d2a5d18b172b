"""The hardware catalog: GPU models, EC2 instance types and the unit prices the platform budgets with.

This module is the single source of truth for hardware facts. Stack config validation, the
components, the policy pack and the CLI all read it, so a new instance type or GPU is added here
once and nowhere else. It is pure data plus lookups: no Pulumi, no network.

Hardware figures agree with the EC2 `DescribeInstanceTypes` API (the test suite checks them
against the instance-type data moto ships) and with NVIDIA's datasheets and `nvidia-smi` output.

Prices are public on-demand Linux list prices in us-east-1, in USD, reviewed as of
`PRICES_AS_OF`. They are estimates for budgeting, not a bill: they exclude taxes, Savings Plans,
Reserved Instances, EDP discounts and every usage-based charge (data transfer, requests, storage).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

PRICES_AS_OF = "2026-11"

# AWS bills a month as 730 hours (365 days x 24 h / 12) in its pricing pages and calculator.
HOURS_PER_MONTH = 730

PRICE_REGION = "us-east-1"


class UnknownCatalogEntry(KeyError):
    """A key that is not in the catalog; the message lists the allowed keys."""

    def __init__(self, kind: str, key: object, allowed: Iterable[str]):
        super().__init__(f"unknown {kind} '{key}'; allowed: {', '.join(allowed)}")

    def __str__(self) -> str:
        # KeyError's own __str__ would wrap the message in quotes.
        return str(self.args[0])


@dataclass(frozen=True)
class GpuModel:
    """One GPU model.

    `memory_gib` is the datasheet capacity; `usable_gib` is what the driver exposes to CUDA
    (the total `nvidia-smi` reports, after ECC and firmware reservations) and is the basis of
    every fit calculation. `ec2_memory_mib` is what EC2's DescribeInstanceTypes reports per GPU;
    it is kept to tie the catalog to the EC2 API, not used for sizing.
    """

    key: str
    manufacturer: str
    name: str
    memory_gib: float
    usable_gib: float
    ec2_memory_mib: int
    memory_bandwidth_tbps: float
    supports_fp8: bool

    @property
    def display_name(self) -> str:
        return f"{self.manufacturer} {self.name} {self.memory_gib:g} GB"


@dataclass(frozen=True)
class InstanceType:
    """One EC2 instance type. GPU-less types (system nodes) have `gpu=None` and `gpu_count=0`.

    `nvme_gb` is the total local instance store (decimal GB, as EC2 reports it) spread over
    `nvme_devices` disks; `network_gbps` is the peak ("up to") figure for burstable networking.
    """

    name: str
    gpu: str | None
    gpu_count: int
    vcpu: int
    memory_gib: int
    nvme_gb: int
    nvme_devices: int
    network_gbps: float
    on_demand_usd_per_hour: float


_GPUS: dict[str, GpuModel] = {
    model.key: model
    for model in (
        # NVIDIA A10G (Ampere GA102, AWS variant): 24 GB GDDR6, 600 GB/s, no FP8 tensor cores.
        # nvidia-smi on g5 reports 23028 MiB total; EC2 reports 22888 MiB per GPU.
        GpuModel(
            key="a10g",
            manufacturer="NVIDIA",
            name="A10G",
            memory_gib=24,
            usable_gib=23028 / 1024,
            ec2_memory_mib=22888,
            memory_bandwidth_tbps=0.6,
            supports_fp8=False,
        ),
        # NVIDIA H100 SXM5 80 GB HBM3 (Hopper): 3.35 TB/s, FP8 tensor cores (Transformer Engine).
        # nvidia-smi on p5 reports "NVIDIA H100 80GB HBM3 ... 81559MiB"; EC2 reports 81920 MiB.
        GpuModel(
            key="h100",
            manufacturer="NVIDIA",
            name="H100",
            memory_gib=80,
            usable_gib=81559 / 1024,
            ec2_memory_mib=81920,
            memory_bandwidth_tbps=3.35,
            supports_fp8=True,
        ),
    )
}

# Shapes from the EC2 instance type pages (https://aws.amazon.com/ec2/instance-types/) and
# DescribeInstanceTypes; prices from https://aws.amazon.com/ec2/pricing/on-demand/ (Linux,
# us-east-1). p5.48xlarge is the price after AWS's June 2025 reduction of P5 on-demand rates
# (was $98.32/h).
_INSTANCE_TYPES: dict[str, InstanceType] = {
    instance.name: instance
    for instance in (
        InstanceType("p5.48xlarge", "h100", 8, 192, 2048, 8 * 3800, 8, 3200, 55.04),
        InstanceType("g5.xlarge", "a10g", 1, 4, 16, 250, 1, 10, 1.006),
        InstanceType("g5.2xlarge", "a10g", 1, 8, 32, 450, 1, 10, 1.212),
        InstanceType("g5.12xlarge", "a10g", 4, 48, 192, 3800, 1, 40, 5.672),
        InstanceType("g5.48xlarge", "a10g", 8, 192, 768, 2 * 3800, 2, 100, 16.288),
        # General-purpose system nodes (CoreDNS, controllers, gateways): no GPU, EBS only.
        InstanceType("m6i.large", None, 0, 2, 8, 0, 0, 12.5, 0.096),
        InstanceType("m6i.xlarge", None, 0, 4, 16, 0, 0, 12.5, 0.192),
        InstanceType("m6i.2xlarge", None, 0, 8, 32, 0, 0, 12.5, 0.384),
    )
}

# Regional price relative to us-east-1 for the regions the platform allows. Approximations
# (as of 2026-11) from the ratio of eu list prices to us-east-1 for m6i and g5, e.g. m6i.large is
# $0.107/h in eu-west-1 and $0.115/h in eu-central-1 against $0.096/h; GPU types follow the same
# band within a few percent. Applied to instance hours, NAT gateways and interface endpoints.
_REGION_MULTIPLIERS: dict[str, float] = {
    "us-east-1": 1.0,
    "us-east-2": 1.0,
    "us-west-2": 1.0,
    "eu-west-1": 1.12,
    "eu-central-1": 1.2,
}

# Fixed unit prices (us-east-1 list prices; usage charges listed for context are not estimated).
EKS_CLUSTER_USD_PER_HOUR = 0.10  # standard support; extended support is $0.60/h
NAT_GATEWAY_USD_PER_HOUR = 0.045  # plus $0.045 per GB processed (usage)
INTERFACE_ENDPOINT_USD_PER_HOUR_PER_AZ = 0.01  # plus $0.01 per GB processed (usage)
LOAD_BALANCER_USD_PER_HOUR = 0.0225  # network or application; plus NLCU/LCU hours (usage)
KMS_KEY_USD_PER_MONTH = 1.0  # per customer managed key, each multi-Region replica counts as one
WAF_WEB_ACL_USD_PER_MONTH = 5.0  # plus $0.60 per million requests (usage)
WAF_RULE_USD_PER_MONTH = 1.0  # per rule or rule group in a web ACL
AMP_WORKSPACE_USD_PER_MONTH = 0.0  # Managed Prometheus: samples ingested, stored and queried only
API_GATEWAY_USD_PER_MONTH = 0.0  # API Gateway: per request and data transfer only
# The private path to the data centre (the same list price in us-east-1 and eu-west-1).
TRANSIT_GATEWAY_ATTACHMENT_USD_PER_HOUR = 0.05  # per attachment (VPC or VPN); plus $0.02 per GB processed (usage)
VPN_CONNECTION_USD_PER_HOUR = 0.05  # per Site-to-Site VPN connection (both tunnels); plus data transfer out
# EKS Hybrid Nodes: per vCPU-hour of a machine attached to a cluster, the first tier's rate (the first
# 576,000 vCPU-hours a month; later tiers are cheaper, so this is an upper bound). From a published
# tier table, not read from aws.amazon.com/eks/pricing here: confirm it there (README).
HYBRID_NODE_USD_PER_VCPU_HOUR = 0.02


def gpu(key: str) -> GpuModel:
    """The GPU model for a catalog key such as "h100"."""
    try:
        return _GPUS[key]
    except KeyError:
        raise UnknownCatalogEntry("GPU", key, gpu_keys()) from None


def gpu_keys() -> tuple[str, ...]:
    return tuple(sorted(_GPUS))


def instance_type(name: str) -> InstanceType:
    """The instance type for an EC2 name such as "g5.2xlarge"."""
    try:
        return _INSTANCE_TYPES[name]
    except KeyError:
        raise UnknownCatalogEntry("instance type", name, sorted(_INSTANCE_TYPES)) from None


def instance_types_for(gpu_key: str | None) -> tuple[InstanceType, ...]:
    """Instance types carrying a GPU (or, for None, the GPU-less ones), smallest first.

    Sorted by GPU count, then price, so the first entry is the cheapest way to get one GPU.
    """
    if gpu_key is not None:
        gpu(gpu_key)
    matching = (i for i in _INSTANCE_TYPES.values() if i.gpu == gpu_key)
    return tuple(sorted(matching, key=lambda i: (i.gpu_count, i.on_demand_usd_per_hour)))


def regions() -> tuple[str, ...]:
    """The regions in the price table: those the platform allows (policy.allowed_regions subsets them)."""
    return tuple(_REGION_MULTIPLIERS)


def region_multiplier(region: str) -> float:
    """Regional price relative to us-east-1 (an approximation, see `_REGION_MULTIPLIERS`)."""
    try:
        return _REGION_MULTIPLIERS[region]
    except KeyError:
        raise UnknownCatalogEntry("region", region, regions()) from None


def hourly_price(instance_type_name: str, region: str = PRICE_REGION) -> float:
    """Estimated on-demand USD per hour of one instance in a region."""
    return instance_type(instance_type_name).on_demand_usd_per_hour * region_multiplier(region)
