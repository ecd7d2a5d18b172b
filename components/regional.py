"""RegionalPlatform: everything llm-serving declares in one AWS region, composed in data-flow order."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components.encryption import Encryption, EncryptionArgs
from components.network import Network, NetworkArgs


@dataclass(frozen=True)
class RegionalPlatformArgs:
    environment: str
    """dev, staging or prod: names, tags and defaults derive from it."""
    region: str
    """The AWS region; the caller's provider (in `opts`) must target the same region."""
    primary: bool
    """The primary region owns the multi-region weights key and the source weight bucket."""
    availability_zones: tuple[str, ...]
    vpc_cidr: str
    nat_mode: str
    """`per-az` (one NAT gateway per zone) or `one` (shared, cheaper, a single-zone dependency)."""
    cluster_name: str
    account_id: pulumi.Input[str]
    weights_primary_key_arn: pulumi.Input[str] | None = None
    """Set in secondary regions: their weights key is a replica of the primary's multi-region key."""
    protect: bool = False
    """Protect stateful resources (KMS keys, weight buckets) from deletion."""
    log_retention_days: int = 365


class RegionalPlatform(pulumi.ComponentResource):
    """Encryption keys, then the network; later issues add cluster, weights, serving and gateway."""

    def __init__(self, name: str, args: RegionalPlatformArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("llm-serving:platform:RegionalPlatform", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        self.encryption = Encryption(
            f"{name}-encryption",
            EncryptionArgs(
                environment=args.environment,
                region=args.region,
                account_id=args.account_id,
                weights_primary_key_arn=args.weights_primary_key_arn,
                protect=args.protect,
            ),
            opts=child,
        )
        self.network = Network(
            f"{name}-network",
            NetworkArgs(
                environment=args.environment,
                region=args.region,
                vpc_cidr=args.vpc_cidr,
                availability_zones=args.availability_zones,
                nat_mode=args.nat_mode,  # type: ignore[arg-type]
                cluster_name=args.cluster_name,
                flow_logs_kms_key_arn=self.encryption.logs_key_arn,
                flow_log_retention_days=args.log_retention_days,
            ),
            opts=child,
        )
        self.outputs = {
            "vpc_id": self.network.vpc_id,
            "private_subnet_ids": self.network.private_subnet_ids,
            "kms_key_arns": self.encryption.key_arns,
        }
        self.register_outputs(self.outputs)
