"""The Service Quotas codes preflight reads, with the quota names AWS gives them (pure data).

Sources: the EC2 instance quotas are vCPU-based per instance family, in the Amazon EC2 User Guide,
"Amazon EC2 service quotas" (https://docs.aws.amazon.com/ec2/latest/instancetypes/ec2-instance-quotas.html,
which maps families to quotas; the codes are those the Service Quotas console shows under
services/ec2/quotas/L-...); the VPC codes are those of moto's copy of
`list-aws-default-service-quotas --service-code vpc` (moto/servicequotas/resources/default_quotas/
vpc.py, checked by a test); the EKS codes are those of the Amazon EKS User Guide, "View and manage
Amazon EKS and Fargate service quotas" (https://docs.aws.amazon.com/eks/latest/userguide/service-quotas.html).
The EKS and Elastic IP codes were also cross-checked, code against name, in public tools that read
them through Service Quotas (quota checkers' tables of `eks` L-1194D53C Clusters, L-6D54EA21 Managed
node groups per cluster, L-BD136A63 Nodes per managed node group; an installer's `ec2` L-0263D0A3
"Number of EIPs - VPC EIPs").
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Quota:
    service: str
    """The Service Quotas service code (ec2, vpc, eks)."""
    code: str
    name: str


_ALL = (
    Quota("ec2", "L-1216C47A", "Running On-Demand Standard (A, C, D, H, I, M, R, T, Z) instances"),
    Quota("ec2", "L-DB2E81BA", "Running On-Demand G and VT instances"),
    Quota("ec2", "L-417A185B", "Running On-Demand P instances"),
    Quota("ec2", "L-34B43A08", "All Standard (A, C, D, H, I, M, R, T, Z) Spot Instance Requests"),
    Quota("ec2", "L-3819A6DF", "All G and VT Spot Instance Requests"),
    Quota("ec2", "L-7212CCBC", "All P Spot Instance Requests"),
    Quota("ec2", "L-0263D0A3", "EC2-VPC Elastic IPs"),
    Quota("vpc", "L-F678F1CE", "VPCs per Region"),
    Quota("vpc", "L-FE5A380F", "NAT gateways per Availability Zone"),
    Quota("eks", "L-1194D53C", "Clusters"),
    Quota("eks", "L-6D54EA21", "Managed node groups per cluster"),
    Quota("eks", "L-BD136A63", "Nodes per managed node group"),
)
QUOTAS: dict[str, Quota] = {q.code: q for q in _ALL}

ELASTIC_IPS = "L-0263D0A3"
VPCS_PER_REGION = "L-F678F1CE"
NAT_GATEWAYS_PER_AZ = "L-FE5A380F"
EKS_CLUSTERS = "L-1194D53C"
EKS_NODE_GROUPS_PER_CLUSTER = "L-6D54EA21"
EKS_NODES_PER_NODE_GROUP = "L-BD136A63"

# Instance family letter -> (On-Demand quota, Spot quota), in vCPUs of running instances.
_BY_FAMILY = {
    "standard": ("L-1216C47A", "L-34B43A08"),
    "g": ("L-DB2E81BA", "L-3819A6DF"),
    "vt": ("L-DB2E81BA", "L-3819A6DF"),
    "p": ("L-417A185B", "L-7212CCBC"),
}
_STANDARD = frozenset("acdhimrtz")
_OWN_QUOTAS = frozenset({"inf", "trn", "dl", "hpc", "mac"})


def family_of(instance_type: str) -> str:
    """The quota family of an instance type: `p5.48xlarge` -> p, `g5.xlarge` -> g, `m6i.xlarge` -> standard."""
    match = re.fullmatch(r"([a-z]+)\d[a-z0-9-]*\.[a-z0-9]+", instance_type)
    if not match:
        raise ValueError(f"instance_type: not an EC2 instance type name ({instance_type!r})")
    letters = match[1]
    if letters in ("vt", "p", "g"):
        return letters
    # Inferentia, Trainium, DL, HPC and Mac instances have quotas of their own.
    if letters[0] in _STANDARD and letters not in _OWN_QUOTAS:
        return "standard"
    raise ValueError(f"instance_type: {instance_type} is in no quota family preflight knows (standard, G, VT, P)")


def vcpu_quota_for(instance_type: str, purchase: str) -> str:
    """The quota code that running `instance_type` counts against, for `on-demand` or `spot`."""
    on_demand, spot = _BY_FAMILY[family_of(instance_type)]
    return spot if purchase == "spot" else on_demand
