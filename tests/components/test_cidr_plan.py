"""plan_subnets: exact plans for known VPCs, and properties over every supported VPC and zone count."""

import ipaddress
import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from components.cidr_plan import SubnetPlan, plan_subnets


@st.composite
def supported_vpcs(draw) -> str:
    """Any RFC 1918 network from /16 to /20."""
    base, max_base_prefix = draw(st.sampled_from([("10.0.0.0", 8), ("172.16.0.0", 12), ("192.168.0.0", 16)]))
    prefix = draw(st.integers(min_value=max(16, max_base_prefix), max_value=20))
    container = ipaddress.IPv4Network(f"{base}/{max_base_prefix}")
    count = 2 ** (prefix - max_base_prefix)
    index = draw(st.integers(min_value=0, max_value=count - 1))
    size = 2 ** (32 - prefix)
    return str(ipaddress.IPv4Network((int(container.network_address) + index * size, prefix)))


def test_exact_plan_for_a_16_with_three_zones():
    assert plan_subnets("10.20.0.0/16", 3) == SubnetPlan(
        private=["10.20.0.0/19", "10.20.32.0/19", "10.20.64.0/19"],
        public=["10.20.224.0/24", "10.20.225.0/24", "10.20.226.0/24"],
    )


def test_exact_plan_for_a_20_with_six_zones_keeps_public_subnets_at_least_27():
    plan = plan_subnets("10.30.16.0/20", 6)
    assert plan.private == [
        "10.30.16.0/23",
        "10.30.18.0/23",
        "10.30.20.0/23",
        "10.30.22.0/23",
        "10.30.24.0/23",
        "10.30.26.0/23",
    ]
    assert plan.public == [
        "10.30.30.0/27",
        "10.30.30.32/27",
        "10.30.30.64/27",
        "10.30.30.96/27",
        "10.30.30.128/27",
        "10.30.30.160/27",
    ]


def test_adding_a_zone_keeps_the_existing_subnets():
    two, three = plan_subnets("10.20.0.0/16", 2), plan_subnets("10.20.0.0/16", 3)
    assert three.private[:2] == two.private
    assert three.public[:2] == two.public


@given(vpc=supported_vpcs(), zones=st.integers(min_value=2, max_value=6))
def test_subnets_fit_the_vpc_without_overlap(vpc: str, zones: int):
    plan = plan_subnets(vpc, zones)
    network = ipaddress.IPv4Network(vpc)
    private = [ipaddress.IPv4Network(cidr) for cidr in plan.private]
    public = [ipaddress.IPv4Network(cidr) for cidr in plan.public]

    assert len(private) == zones
    assert len(public) == zones
    for subnet in private + public:
        assert subnet.subnet_of(network)
        assert 16 <= subnet.prefixlen <= 28  # AWS subnet size limits
    for a, b in itertools.combinations(private + public, 2):
        assert not a.overlaps(b), f"{a} overlaps {b}"
    assert min(s.num_addresses for s in private) > max(s.num_addresses for s in public)
    assert all(s.prefixlen == network.prefixlen + 3 for s in private)
    assert all(s.prefixlen <= 27 for s in public)  # an ALB needs at least a /27


@given(vpc=supported_vpcs(), zones=st.integers(min_value=2, max_value=6))
def test_plan_is_deterministic(vpc: str, zones: int):
    assert plan_subnets(vpc, zones) == plan_subnets(vpc, zones)


@given(
    address=st.integers(min_value=0, max_value=2**32 - 1),
    prefix=st.integers(min_value=16, max_value=28),
    zones=st.integers(min_value=1, max_value=6),
)
def test_any_vpc_either_fits_or_raises_value_error(address: int, prefix: int, zones: int):
    vpc = str(ipaddress.IPv4Network((address, prefix), strict=False))
    try:
        plan = plan_subnets(vpc, zones)
    except ValueError as error:
        assert str(error).startswith("vpc_cidr: ")
        return
    subnets = [ipaddress.IPv4Network(c) for c in plan.private + plan.public]
    assert len(subnets) == 2 * zones
    assert all(s.subnet_of(ipaddress.IPv4Network(vpc)) for s in subnets)
    assert not any(a.overlaps(b) for a, b in itertools.combinations(subnets, 2))


@pytest.mark.parametrize(
    ("vpc", "zones", "message"),
    [
        (
            "10.20.0.1/16",
            3,
            "vpc_cidr: must be an IPv4 network in CIDR form with no host bits set, e.g. 10.20.0.0/16 "
            "(got '10.20.0.1/16')",
        ),
        (
            "not-a-cidr",
            3,
            "vpc_cidr: must be an IPv4 network in CIDR form with no host bits set, e.g. 10.20.0.0/16 "
            "(got 'not-a-cidr')",
        ),
        ("10.0.0.0/8", 3, "vpc_cidr: prefix must be between /16 and /28 (got /8)"),
        ("10.20.0.0/16", 7, "zones: must be an integer between 1 and 6 (got 7)"),
        ("10.20.0.0/16", 0, "zones: must be an integer between 1 and 6 (got 0)"),
        (
            "10.20.0.0/22",
            5,
            "vpc_cidr: 10.20.0.0/22 fits only 4 public /27 subnets but 5 zones need one each; "
            "use a larger VPC (/16 to /20)",
        ),
        (
            "10.20.0.0/24",
            2,
            "vpc_cidr: 10.20.0.0/24 is too small: a private /27 per zone would be no larger than a "
            "public /27; use a /16 to /20",
        ),
    ],
)
def test_rejects_what_cannot_fit(vpc: str, zones: int, message: str):
    with pytest.raises(ValueError) as error:
        plan_subnets(vpc, zones)
    assert str(error.value) == message
