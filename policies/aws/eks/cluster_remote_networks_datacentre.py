"""aws-eks-remote-networks-in-datacentre — EKS Hybrid Nodes join only from the data centre, and reach
only the API server.

A cluster's remote node and pod networks (`remoteNetworkConfig`) are where EKS expects hybrid nodes
and their pods. Each must be an RFC 1918 network inside the data centre's CIDRs from the stack file
(policy config): those, and only those, are routed over the private path, so a remote network outside
them would either not work or be reached some other way (the internet). A security group rule that
admits a remote network admits TCP 443 only: kubelets and pods there call the Kubernetes API, and the
control plane's calls to them (kubelet, webhooks) leave through its egress, not through ingress rules.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    PolicyComplianceFramework,
    PolicyConfigSchema,
    PolicyResource,
    ReportViolation,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)

from components.cidr_plan import is_rfc1918
from policies.review import Controls, Review
from policies.support import DATACENTRE_CIDRS_PROPERTY, as_list, datacentre_networks

CLUSTER = "aws:eks/cluster:Cluster"
INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
NETWORK_KINDS = (("remoteNodeNetworks", "node"), ("remotePodNetworks", "pod"))
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _network(value: Any) -> Network | None:
    try:
        return ipaddress.ip_network(str(value), strict=False)
    except ValueError:
        return None


def _inside(network: Network, networks: list[Network]) -> bool:
    return any(network.version == n.version and network.subnet_of(n) for n in networks)  # type: ignore[arg-type]


def remote_networks(cluster: PolicyResource) -> Iterator[tuple[str, str]]:
    """(kind, cidr) for each remote node and pod network a cluster declares."""
    config = cluster.props.get("remoteNetworkConfig")
    if not isinstance(config, Mapping):
        return
    for key, kind in NETWORK_KINDS:
        block = config.get(key)
        for cidr in as_list(block.get("cidrs") if isinstance(block, Mapping) else None):
            yield kind, str(cidr)


def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    datacentre = datacentre_networks(args.get_config() or {})
    allowed = ", ".join(str(n) for n in datacentre) or "none configured"
    remote: list[tuple[str, Network]] = []
    for cluster in (r for r in args.resources if r.resource_type == CLUSTER):
        for kind, cidr in remote_networks(cluster):
            network = _network(cidr)
            if network is None or not is_rfc1918(network):
                report_violation(
                    f"Cluster '{cluster.name}' lists remote {kind} network {cidr!r}, outside the RFC 1918 ranges EKS "
                    "accepts.",
                    cluster.urn,
                )
            elif not _inside(network, datacentre):
                report_violation(
                    f"Cluster '{cluster.name}' lists remote {kind} network {cidr}, outside the data centre's "
                    f"networks ({allowed}): only those are routed over the private path.",
                    cluster.urn,
                )
            else:
                remote.append((f"remote {kind} network {cidr} of cluster '{cluster.name}'", network))
    for rule in (r for r in args.resources if r.resource_type == INGRESS_RULE):
        source = _network(rule.props.get("cidrIpv4") or rule.props.get("cidrIpv6"))
        if source is None:
            continue
        for shown, network in remote:
            if not (source.version == network.version and source.subnet_of(network)):  # type: ignore[arg-type]
                continue
            protocol = str(rule.props.get("ipProtocol"))
            ports = (rule.props.get("fromPort"), rule.props.get("toPort"))
            if protocol != "tcp" or ports != (443, 443):
                report_violation(
                    f"SecurityGroupIngressRule '{rule.name}' admits {source} ({shown}) on {protocol} "
                    f"{ports[0]}-{ports[1]}; hybrid nodes and their pods need TCP 443 to the API server only.",
                    rule.urn,
                )


policy = StackValidationPolicy(
    name="aws-eks-remote-networks-in-datacentre",
    description=(
        "An EKS cluster's remote node and pod networks (Hybrid Nodes) are private networks inside the data "
        "centre's CIDRs, and security group rules admit them on TCP 443 only."
    ),
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    framework=PolicyComplianceFramework(name="NIST SP 800-53", reference="SC-7, AC-4", version="5"),
    config_schema=PolicyConfigSchema(
        properties={
            "datacentreCidrs": DATACENTRE_CIDRS_PROPERTY,
        },
    ),
    remediation_steps=(
        "Take onprem_targets[].hybrid.node_cidrs and pod_cidrs from inside datacentre.cidrs; admit them on the "
        "cluster security group with TCP 443 only (components.cluster.GpuCluster does)."
    ),
    validate=validate,
)

review = Review(
    area="network",
    controls=Controls(nist_800_53=("SC-7", "AC-4"), soc2=("CC6.6",)),
    why=(
        "Hybrid nodes stretch the cluster into the data centre: a remote network outside the private path, or a "
        "security group rule that opens the VPC to it beyond the API server, is a way into the cluster's VPC "
        "from wherever that network really is."
    ),
)
