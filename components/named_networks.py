"""The data centre's networks by name: what security groups and NetworkPolicies admit from outside
the stack's VPCs (pure; no Pulumi).

A reviewer reads `HTTPS from dc1-ingress (10.100.8.0/24)` and knows who that is; `10.100.0.0/16`
says nothing and admits a whole data centre. So every source outside the VPCs is a named network:
one of `datacentre.networks` of the stack file, or a hybrid target's node and pod networks, which
take the target's name. The policy pack gets the same names (policy config) and checks each rule's
CIDR against them, and that the rule carries the name: a security group rule in its description,
a NetworkPolicy in its `llm-serving/ingress-networks` annotation.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

# A named network is a part of the data centre (an ingress tier, a rack's nodes), never a range of
# it: /20 is 4,096 addresses, already a large rack row.
MIN_NAMED_PREFIX = 20


@dataclass(frozen=True)
class NamedNetwork:
    name: str
    cidr: str

    @property
    def label(self) -> str:
        """How a rule's description names it: `dc1-ingress (10.100.8.0/24)`."""
        return f"{self.name} ({self.cidr})"


def hybrid_networks(target: str, node_cidrs: Iterable[str], pod_cidrs: Iterable[str]) -> tuple[NamedNetwork, ...]:
    """A hybrid target's remote networks, named after it: its nodes' networks, then its pods'."""
    return (*hybrid_node_networks(target, node_cidrs), *hybrid_pod_networks(target, pod_cidrs))


def hybrid_node_networks(target: str, cidrs: Iterable[str]) -> tuple[NamedNetwork, ...]:
    """`<target>-nodes` (`-nodes-1`, `-nodes-2` ... when it has several)."""
    return _numbered(f"{target}-nodes", cidrs)


def hybrid_pod_networks(target: str, cidrs: Iterable[str]) -> tuple[NamedNetwork, ...]:
    """`<target>-pods` (`-pods-1`, `-pods-2` ... when it has several)."""
    return _numbered(f"{target}-pods", cidrs)


def _numbered(name: str, cidrs: Iterable[str]) -> tuple[NamedNetwork, ...]:
    listed = list(cidrs)
    if len(listed) == 1:
        return (NamedNetwork(name, listed[0]),)
    return tuple(NamedNetwork(f"{name}-{k + 1}", cidr) for k, cidr in enumerate(listed))


def annotation_value(networks: Iterable[NamedNetwork]) -> str:
    """The `llm-serving/ingress-networks` annotation: `name=cidr` pairs, comma-separated, in order."""
    return ",".join(f"{n.name}={n.cidr}" for n in networks)


def parse_annotation(value: object) -> dict[str, str]:
    """cidr -> name from an `llm-serving/ingress-networks` annotation (malformed pairs are left out)."""
    found: dict[str, str] = {}
    for pair in str(value or "").split(","):
        name, sep, cidr = pair.strip().partition("=")
        if sep and name and cidr:
            found[cidr.strip()] = name.strip()
    return found


def inside_any(cidr: object, networks: Iterable[str]) -> bool:
    """Whether `cidr` lies inside one of `networks` (unparseable values are inside none)."""
    try:
        network = ipaddress.ip_network(str(cidr), strict=False)
    except ValueError:
        return False
    for other in networks:
        try:
            outer = ipaddress.ip_network(other, strict=False)
        except ValueError:
            continue
        if network.version == outer.version and network.subnet_of(outer):  # type: ignore[arg-type]
            return True
    return False


def name_of(cidr: object, named: Mapping[str, str]) -> str | None:
    """The name `named` (name -> cidr) gives exactly this network, if any."""
    try:
        network = ipaddress.ip_network(str(cidr), strict=False)
    except ValueError:
        return None
    for name, other in named.items():
        try:
            if ipaddress.ip_network(other, strict=False) == network:
                return name
        except ValueError:
            continue
    return None
