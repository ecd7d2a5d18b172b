"""The hardware catalog: GPU models, EC2 instance types and the unit prices the platform budgets with.

This module is the single source of truth for hardware facts. Stack config validation, the
components, the policy pack and the CLI all read it, so a new instance type or GPU is added here
once and nowhere else. It is pure data plus lookups: no Pulumi, no network.

Hardware figures agree with the EC2 `DescribeInstanceTypes` API (the test suite checks them
against the instance-type data moto ships) and with NVIDIA's datasheets and `nvidia-smi` output.

It is also the price list: the one dated source of every unit price the estimate uses
(`PRICE_LIST`). Prices are public on-demand Linux list prices in us-east-1, in USD, reviewed as of
`PRICES_AS_OF`. They are estimates for budgeting, not a bill: they exclude taxes, Savings Plans,
Reserved Instances, EDP discounts and free tiers. Fixed charges feed the monthly estimate; the
per-request and per-GB prices (`USAGE_PRICES`) feed the usage estimate from a stated traffic
assumption, shown apart from it. An instance type of the hardware table without an hourly price
(`_ON_DEMAND_USD_PER_HOUR`) cannot be used: the stack file's validation refuses it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

PRICES_AS_OF = "2026-11"
# Where the prices below were read: each entry names its AWS pricing page; the date is for all.
PRICE_SOURCE = "AWS public list prices (aws.amazon.com/<service>/pricing), us-east-1, USD"
PRICE_FILE = "components/catalog.py"

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

    @property
    def on_demand_usd_per_hour(self) -> float:
        """The on-demand list price in us-east-1; UnpricedInstanceType if the price list has none."""
        return on_demand_usd_per_hour(self.name)


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
# DescribeInstanceTypes.
_INSTANCE_TYPES: dict[str, InstanceType] = {
    instance.name: instance
    for instance in (
        InstanceType("p5.48xlarge", "h100", 8, 192, 2048, 8 * 3800, 8, 3200),
        InstanceType("g5.xlarge", "a10g", 1, 4, 16, 250, 1, 10),
        InstanceType("g5.2xlarge", "a10g", 1, 8, 32, 450, 1, 10),
        InstanceType("g5.12xlarge", "a10g", 4, 48, 192, 3800, 1, 40),
        InstanceType("g5.48xlarge", "a10g", 8, 192, 768, 2 * 3800, 2, 100),
        # General-purpose system nodes (CoreDNS, controllers, gateways): no GPU, EBS only.
        InstanceType("m6i.large", None, 0, 2, 8, 0, 0, 12.5),
        InstanceType("m6i.xlarge", None, 0, 4, 16, 0, 0, 12.5),
        InstanceType("m6i.2xlarge", None, 0, 8, 32, 0, 0, 12.5),
    )
}


# The price list's instance hours: on-demand Linux USD per hour in us-east-1, from
# https://aws.amazon.com/ec2/pricing/on-demand/. p5.48xlarge is the price after AWS's June 2025
# reduction of P5 on-demand rates (was $98.32/h). A type above without an entry here is known
# hardware the estimate cannot price: config refuses it rather than count it as $0.
_ON_DEMAND_USD_PER_HOUR: dict[str, float] = {
    "p5.48xlarge": 55.04,
    "g5.xlarge": 1.006,
    "g5.2xlarge": 1.212,
    "g5.12xlarge": 5.672,
    "g5.48xlarge": 16.288,
    "m6i.large": 0.096,
    "m6i.xlarge": 0.192,
    "m6i.2xlarge": 0.384,
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

# Usage prices: what the usage estimate multiplies the stated traffic by. Each is the first tier's
# us-east-1 rate (later tiers are cheaper, so each is an upper bound) without any free tier.
# https://aws.amazon.com/api-gateway/pricing/: REST API calls, first 333 million a month.
API_GATEWAY_REST_USD_PER_MILLION_REQUESTS = 3.50
# https://aws.amazon.com/waf/pricing/: every request a web ACL inspects (the same in every region).
WAF_USD_PER_MILLION_REQUESTS = 0.60
# https://aws.amazon.com/lambda/pricing/: requests, and Arm (Graviton) duration, first 7.5 billion GB-s.
LAMBDA_USD_PER_MILLION_REQUESTS = 0.20
LAMBDA_ARM_USD_PER_GB_SECOND = 0.0000133334
LAMBDA_X86_USD_PER_GB_SECOND = 0.0000166667
# https://aws.amazon.com/route53/pricing/: queries to latency-based records, first billion a month.
ROUTE53_LATENCY_USD_PER_MILLION_QUERIES = 0.60
# https://aws.amazon.com/vpc/pricing/ (NAT gateways): per GB processed, scaled by the region multiplier.
NAT_GATEWAY_USD_PER_GB = 0.045
# https://aws.amazon.com/s3/pricing/: S3 Standard GET and LIST requests.
S3_GET_USD_PER_THOUSAND = 0.0004
S3_LIST_USD_PER_THOUSAND = 0.005
# https://aws.amazon.com/ec2/pricing/on-demand/ (data transfer): out to the internet, first 10 TB a
# month; what API Gateway charges for the bytes of its responses.
DATA_TRANSFER_OUT_USD_PER_GB = 0.09

PRICE_LIST = {"source": PRICE_SOURCE, "date": PRICES_AS_OF, "file": PRICE_FILE}
"""How plan.json and the report cite the price list."""


class UnpricedInstanceType(UnknownCatalogEntry):
    """A known instance type the price list has no hourly price for."""

    def __init__(self, name: str):
        KeyError.__init__(self, f"no price for '{name}' in {PRICE_FILE} (priced: {', '.join(priced_instance_types())})")


def priced_instance_types() -> tuple[str, ...]:
    """Instance types with an hourly price, in the price list's order."""
    return tuple(_ON_DEMAND_USD_PER_HOUR)


def on_demand_usd_per_hour(name: str) -> float:
    """The on-demand us-east-1 list price of an instance type; unknown or unpriced types raise."""
    instance_type(name)
    try:
        return _ON_DEMAND_USD_PER_HOUR[name]
    except KeyError:
        raise UnpricedInstanceType(name) from None


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
    # An unpriced type sorts after the priced ones of its size, so a default never lands on it.
    unpriced = float("inf")
    return tuple(sorted(matching, key=lambda i: (i.gpu_count, _ON_DEMAND_USD_PER_HOUR.get(i.name, unpriced))))


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
