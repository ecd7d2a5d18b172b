"""The catalog is right about the hardware (per the EC2 API, via moto) and its lookups fail helpfully."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from components import catalog

ALL_TYPES = [
    "p5.48xlarge",
    "g5.xlarge",
    "g5.2xlarge",
    "g5.12xlarge",
    "g5.48xlarge",
    "m6i.large",
    "m6i.xlarge",
    "m6i.2xlarge",
]


@pytest.fixture(scope="module")
def ec2_types() -> Iterator[dict[str, dict[str, Any]]]:
    """DescribeInstanceTypes as moto answers it (moto ships AWS's own instance-type data)."""
    with pytest.MonkeyPatch.context() as env:
        for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
            env.setenv(key, "testing")
        with mock_aws():
            client = boto3.client("ec2", region_name="us-east-1")
            answer = client.describe_instance_types(InstanceTypes=ALL_TYPES)
    yield {item["InstanceType"]: item for item in answer["InstanceTypes"]}


def test_the_catalog_covers_exactly_the_supported_types() -> None:
    names = {i.name for key in (*catalog.gpu_keys(), None) for i in catalog.instance_types_for(key)}
    assert names == set(ALL_TYPES)


def test_moto_knows_every_catalog_type(ec2_types: dict[str, dict[str, Any]]) -> None:
    assert set(ec2_types) == set(ALL_TYPES)


@pytest.mark.parametrize("name", ALL_TYPES)
def test_cpu_and_memory_match_ec2(name: str, ec2_types: dict[str, dict[str, Any]]) -> None:
    ec2, instance = ec2_types[name], catalog.instance_type(name)
    assert instance.vcpu == ec2["VCpuInfo"]["DefaultVCpus"]
    assert instance.memory_gib * 1024 == ec2["MemoryInfo"]["SizeInMiB"]


@pytest.mark.parametrize("name", ALL_TYPES)
def test_gpus_match_ec2(name: str, ec2_types: dict[str, dict[str, Any]]) -> None:
    ec2, instance = ec2_types[name], catalog.instance_type(name)
    if instance.gpu is None:
        assert instance.gpu_count == 0
        assert "GpuInfo" not in ec2
        return
    (ec2_gpu,) = ec2["GpuInfo"]["Gpus"]
    model = catalog.gpu(instance.gpu)
    assert instance.gpu_count == ec2_gpu["Count"]
    assert model.manufacturer == ec2_gpu["Manufacturer"]
    assert model.name == ec2_gpu["Name"]
    assert model.ec2_memory_mib == ec2_gpu["MemoryInfo"]["SizeInMiB"]
    assert instance.gpu_count * model.ec2_memory_mib == ec2["GpuInfo"]["TotalGpuMemoryInMiB"]


@pytest.mark.parametrize("name", ALL_TYPES)
def test_instance_storage_matches_ec2(name: str, ec2_types: dict[str, dict[str, Any]]) -> None:
    ec2, instance = ec2_types[name], catalog.instance_type(name)
    if not ec2["InstanceStorageSupported"]:
        assert (instance.nvme_gb, instance.nvme_devices) == (0, 0)
        return
    storage = ec2["InstanceStorageInfo"]
    assert instance.nvme_gb == storage["TotalSizeInGB"]
    assert instance.nvme_devices == sum(disk["Count"] for disk in storage["Disks"])
    assert storage["NvmeSupport"] == "required"


@pytest.mark.parametrize("name", ALL_TYPES)
def test_network_matches_ec2(name: str, ec2_types: dict[str, dict[str, Any]]) -> None:
    performance = ec2_types[name]["NetworkInfo"]["NetworkPerformance"]  # e.g. "Up to 10 Gigabit"
    match = re.search(r"([\d.]+) Gigabit", performance)
    assert match, performance
    assert catalog.instance_type(name).network_gbps == float(match.group(1))


@pytest.mark.parametrize("key", catalog.gpu_keys())
def test_usable_gpu_memory_is_close_to_what_ec2_reports(key: str) -> None:
    model = catalog.gpu(key)
    ec2_gib = model.ec2_memory_mib / 1024
    assert model.usable_gib <= model.memory_gib
    assert abs(model.usable_gib - ec2_gib) / ec2_gib < 0.03


def test_gpu_facts() -> None:
    h100, a10g = catalog.gpu("h100"), catalog.gpu("a10g")
    assert (h100.memory_gib, round(h100.usable_gib, 2), h100.memory_bandwidth_tbps) == (80, 79.65, 3.35)
    assert (a10g.memory_gib, round(a10g.usable_gib, 2), a10g.memory_bandwidth_tbps) == (24, 22.49, 0.6)
    assert h100.supports_fp8 and not a10g.supports_fp8
    assert h100.display_name == "NVIDIA H100 80 GB"


def test_entries_are_frozen() -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        catalog.instance_type("g5.xlarge").on_demand_usd_per_hour = 0  # type: ignore[misc]


def test_gpu_keys() -> None:
    assert catalog.gpu_keys() == ("a10g", "h100")


def test_instance_types_for_a_gpu_are_smallest_first() -> None:
    assert [i.name for i in catalog.instance_types_for("a10g")] == [
        "g5.xlarge",
        "g5.2xlarge",
        "g5.12xlarge",
        "g5.48xlarge",
    ]
    assert [i.name for i in catalog.instance_types_for("h100")] == ["p5.48xlarge"]


def test_instance_types_without_gpu_are_the_system_node_types() -> None:
    assert [i.name for i in catalog.instance_types_for(None)] == ["m6i.large", "m6i.xlarge", "m6i.2xlarge"]


def test_unknown_gpu_lists_the_allowed_keys() -> None:
    with pytest.raises(catalog.UnknownCatalogEntry) as raised:
        catalog.gpu("a100")
    assert isinstance(raised.value, KeyError)
    assert str(raised.value) == "unknown GPU 'a100'; allowed: a10g, h100"
    assert raised.value.args[0] == str(raised.value)


def test_instance_types_for_an_unknown_gpu_raises() -> None:
    with pytest.raises(catalog.UnknownCatalogEntry, match="allowed: a10g, h100"):
        catalog.instance_types_for("t4")


def test_unknown_instance_type_lists_the_allowed_names() -> None:
    with pytest.raises(catalog.UnknownCatalogEntry) as raised:
        catalog.instance_type("p4d.24xlarge")
    message = str(raised.value)
    assert message.startswith("unknown instance type 'p4d.24xlarge'; allowed: ")
    assert all(name in message for name in ALL_TYPES)


def test_prices() -> None:
    assert catalog.PRICES_AS_OF == "2026-11"
    assert catalog.HOURS_PER_MONTH == 730
    assert catalog.hourly_price("p5.48xlarge", "us-east-1") == 55.04
    assert catalog.hourly_price("g5.2xlarge", "us-west-2") == 1.212
    assert catalog.hourly_price("g5.2xlarge", "eu-west-1") == pytest.approx(1.212 * 1.12)
    assert catalog.hourly_price("m6i.large", "eu-central-1") == pytest.approx(0.096 * 1.2)


def test_every_catalog_type_has_a_positive_price_in_every_region() -> None:
    for name in ALL_TYPES:
        for region in catalog.regions():
            assert catalog.hourly_price(name, region) > 0


def test_unknown_region_lists_the_priced_regions() -> None:
    with pytest.raises(catalog.UnknownCatalogEntry) as raised:
        catalog.hourly_price("g5.xlarge", "ap-south-1")
    assert str(raised.value) == (
        "unknown region 'ap-south-1'; allowed: us-east-1, us-east-2, us-west-2, eu-west-1, eu-central-1"
    )
