"""`llmstack preflight --stack S`: can this account hold the stack? Read-only, before a `pulumi up`.

A plan says what should exist; preflight asks the account whether it can: the right account, the
instance types offered in the zones the stack names, vCPU and other quotas that cover every node
group at its maximum, the capacity reservations and blocks it pins, a Kubernetes version in EKS
standard support with every pinned add-on version, the hosted zone, the Auto Scaling
service-linked role the EBS key policy names, and (after the first `up`) every pinned model
revision in the weights bucket. One line per check; exit 0 ready, 1 not ready, 2 bad input.

Every call is a read (Describe/Get/List/Head); `llmstack/data/preflight-policy.json` is the IAM
policy it needs, and a test derives the calls from this module to check that policy covers them.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

from components import catalog, eks_addons
from llmstack import quotas
from llmstack.aws_clients import ClientFactory, boto3_clients, error_code, is_aws_error
from llmstack.stackfile import load_stack
from stacks.config import NodeGroupConfig, PlatformConfig, RegionConfig

Status = Literal["ok", "fail", "skip"]

AUTOSCALING_ROLE = "AWSServiceRoleForAutoScaling"
GLOBAL = "global"


@dataclass(frozen=True)
class Check:
    name: str
    scope: str
    """A region, or `global`."""
    status: Status
    detail: str

    def line(self) -> str:
        return f"{self.status:<4} {self.scope:<14} {self.name}: {self.detail}"


class Preflight:
    """The checks for one stack; `run` yields them in order, each call's failure its own failed line."""

    def __init__(self, platform: PlatformConfig, clients: ClientFactory, weights_bucket: str | None = None):
        self.platform = platform
        self._clients = clients
        self.weights_bucket = weights_bucket

    def client(self, service: str, region: str) -> Any:
        return self._clients(service, region)

    def run(self) -> Iterator[Check]:
        steps: list[tuple[str, str, Callable[[], Iterator[Check]]]] = [("account", GLOBAL, self.account)]
        for region in self.platform.regions:
            steps += [
                ("instance-offerings", region.name, lambda r=region: self.instance_offerings(r)),
                ("quotas", region.name, lambda r=region: self.quota_checks(r)),
                ("capacity-reservations", region.name, lambda r=region: self.capacity_reservations(r)),
                ("kubernetes-version", region.name, lambda r=region: self.kubernetes_version(r)),
                ("addon-versions", region.name, lambda r=region: self.addon_versions(r)),
            ]
        steps += [
            ("hosted-zone", GLOBAL, self.hosted_zone),
            ("autoscaling-service-linked-role", GLOBAL, self.autoscaling_role),
            ("weights", self.platform.primary_region.name, self.weights),
        ]
        for name, scope, step in steps:
            try:
                yield from step()
            except Exception as exc:  # noqa: BLE001 - any failed call is a failed check, never a traceback
                if not is_aws_error(exc):
                    raise
                yield Check(name, scope, "fail", f"cannot check: {error_code(exc)} ({str(exc)[:160]})")

    # --- account -------------------------------------------------------------------------------

    def account(self) -> Iterator[Check]:
        found = self.client("sts", self.platform.primary_region.name).get_caller_identity()["Account"]
        wanted = self.platform.aws_account_id
        if not wanted:
            yield Check(
                "account", GLOBAL, "skip", f"aws_account_id is not set in the stack file (credentials: {found})"
            )
        elif found != wanted:
            yield Check("account", GLOBAL, "fail", f"credentials are for {found}, the stack is pinned to {wanted}")
        else:
            yield Check("account", GLOBAL, "ok", f"{found}")

    # --- compute -------------------------------------------------------------------------------

    def instance_offerings(self, region: RegionConfig) -> Iterator[Check]:
        ec2 = self.client("ec2", region.name)
        wanted = [
            (group.name, group.resolved_instance_type, group.availability_zones or region.availability_zones)
            for group in region.node_groups
        ]
        wanted.append(("system", region.cluster.system_nodes.instance_type, region.availability_zones))
        for group, instance_type, zones in wanted:
            offered = {
                offer["Location"]
                for page in ec2.get_paginator("describe_instance_type_offerings").paginate(
                    LocationType="availability-zone",
                    Filters=[{"Name": "instance-type", "Values": [instance_type]}],
                )
                for offer in page["InstanceTypeOfferings"]
            }
            missing = [zone for zone in zones if zone not in offered]
            name = f"instance-offering {group}"
            if missing:
                yield Check(name, region.name, "fail", f"{instance_type} is not offered in {', '.join(missing)}")
            else:
                yield Check(name, region.name, "ok", f"{instance_type} offered in {', '.join(zones)}")

    def _vcpus_needed(self, region: RegionConfig) -> dict[str, int]:
        """vCPUs at every node group's maximum, per EC2 quota. Reserved capacity (reservations and
        Capacity Blocks) is counted as On-Demand: that can only over-state what the quota must hold."""
        needed: dict[str, int] = {}

        def add(instance_type: str, nodes: int, purchase: str) -> None:
            quota = quotas.vcpu_quota_for(instance_type, purchase)
            needed[quota] = needed.get(quota, 0) + nodes * catalog.instance_type(instance_type).vcpu

        system = region.cluster.system_nodes
        add(system.instance_type, system.max_nodes, "on-demand")
        for group in region.node_groups:
            add(group.resolved_instance_type, group.max_nodes, "spot" if group.capacity_type == "spot" else "on-demand")
        return needed

    def _eks_needs(self, region: RegionConfig) -> Iterator[tuple[str, int, str]]:
        yield quotas.EKS_NODE_GROUPS_PER_CLUSTER, len(region.node_groups) + 1, "node groups with the system group"
        largest = max([g.max_nodes for g in region.node_groups] + [region.cluster.system_nodes.max_nodes])
        yield quotas.EKS_NODES_PER_NODE_GROUP, largest, "largest max_nodes"
        eks = self.client("eks", region.name)
        clusters = [c for page in eks.get_paginator("list_clusters").paginate() for c in page["clusters"]]
        new = 0 if self.platform.cluster_name in clusters else 1
        yield quotas.EKS_CLUSTERS, len(clusters) + new, f"clusters: {len(clusters)} in use + {new} of this stack"

    def _network_needs(self, region: RegionConfig) -> Iterator[tuple[str, int, str]]:
        """VPCs, NAT gateways per zone and Elastic IPs in use, plus what the stack adds if not there yet
        (its resources carry the provider's default tags project and environment)."""
        ec2 = self.client("ec2", region.name)
        mine = [
            {"Name": "tag:project", "Values": ["llm-serving"]},
            {"Name": "tag:environment", "Values": [self.platform.environment]},
        ]
        vpcs = ec2.describe_vpcs()["Vpcs"]
        new_vpc = (
            0 if ec2.describe_vpcs(Filters=[*mine, {"Name": "tag:component", "Values": ["network"]}])["Vpcs"] else 1
        )
        yield quotas.VPCS_PER_REGION, len(vpcs) + new_vpc, f"VPCs: {len(vpcs)} in use + {new_vpc} of this stack"
        per_az = self.platform.nat_mode(region) == "per-az"
        live = {"Name": "state", "Values": ["pending", "available"]}
        nats = ec2.describe_nat_gateways(Filters=[live])["NatGateways"]
        new_nats = 0 if ec2.describe_nat_gateways(Filters=[*mine, live])["NatGateways"] else 1
        subnets = sorted({n["SubnetId"] for n in nats})
        zone_of = (
            {s["SubnetId"]: s["AvailabilityZone"] for s in ec2.describe_subnets(SubnetIds=subnets)["Subnets"]}
            if subnets
            else {}
        )
        zones = region.availability_zones if per_az else region.availability_zones[:1]
        busiest = max(sum(1 for n in nats if zone_of.get(n["SubnetId"]) == zone) for zone in zones)
        yield (
            quotas.NAT_GATEWAYS_PER_AZ,
            busiest + new_nats,
            f"NAT gateways in the busiest zone: {busiest} in use + {new_nats} of this stack",
        )
        addresses = ec2.describe_addresses(Filters=[{"Name": "domain", "Values": ["vpc"]}])["Addresses"]
        new_ips = len(zones) * new_nats
        yield (
            quotas.ELASTIC_IPS,
            len(addresses) + new_ips,
            f"Elastic IPs: {len(addresses)} in use + {new_ips} for this stack's NAT gateways",
        )

    def _quota_value(self, region: str, code: str) -> float:
        """The account's applied value, or AWS's default where none was ever applied."""
        client = self.client("service-quotas", region)
        service = quotas.QUOTAS[code].service
        try:
            answer = client.get_service_quota(ServiceCode=service, QuotaCode=code)
        except Exception as exc:  # noqa: BLE001 - botocore's ClientError
            if error_code(exc) != "NoSuchResourceException":
                raise
            answer = client.get_aws_default_service_quota(ServiceCode=service, QuotaCode=code)
        return float(answer["Quota"]["Value"])

    def quota_checks(self, region: RegionConfig) -> Iterator[Check]:
        """Every quota the stack leans on in the region: what it needs at max scale against the account's value."""
        needs = [
            (code, needed, "vCPUs at every node group's max_nodes")
            for code, needed in self._vcpus_needed(region).items()
        ]
        needs += [*self._eks_needs(region), *self._network_needs(region)]
        values = {code: self._quota_value(region.name, code) for code in sorted({code for code, _, _ in needs})}
        for code, needed, what in needs:
            quota = quotas.QUOTAS[code]
            detail = f"{quota.name} ({quota.service} {code}) {values[code]:g}; {what} = {needed}"
            if needed > values[code]:
                yield Check(
                    f"quota {quota.service}", region.name, "fail", f"{detail}; request an increase in Service Quotas"
                )
            else:
                yield Check(f"quota {quota.service}", region.name, "ok", detail)

    def capacity_reservations(self, region: RegionConfig) -> Iterator[Check]:
        pinned = [g for g in region.node_groups if g.capacity_reservation_id]
        if not pinned:
            yield Check("capacity-reservation", region.name, "skip", "no node group pins a capacity reservation")
            return
        ec2 = self.client("ec2", region.name)
        for group in pinned:
            yield self._reservation(ec2, region, group)

    def _reservation(self, ec2: Any, region: RegionConfig, group: NodeGroupConfig) -> Check:
        name = f"capacity-reservation {group.name}"
        reservation_id = group.capacity_reservation_id
        try:
            (found,) = ec2.describe_capacity_reservations(CapacityReservationIds=[reservation_id])[
                "CapacityReservations"
            ]
        except Exception as exc:  # noqa: BLE001 - botocore's ClientError: the reservation is not there
            if error_code(exc).startswith("InvalidCapacityReservationId"):
                return Check(name, region.name, "fail", f"{reservation_id} does not exist in {region.name}")
            raise
        zone = (group.availability_zones or region.availability_zones)[0]
        end = found.get("EndDate")
        ends = f"ends {end:%Y-%m-%d %H:%M} UTC" if hasattr(end, "strftime") else "no end date"
        kind = "Capacity Block" if found.get("ReservationType") == "capacity-block" else "capacity reservation"
        problems = []
        if found.get("State") != "active":
            problems.append(f"state {found.get('State')}, not active")
        if found.get("InstanceType") != group.resolved_instance_type:
            problems.append(f"instance type {found.get('InstanceType')}, not {group.resolved_instance_type}")
        if found.get("AvailabilityZone") != zone:
            problems.append(f"zone {found.get('AvailabilityZone')}, not {zone}")
        if (group.capacity_type == "capacity-block") != (kind == "Capacity Block"):
            problems.append(f"a {kind}, but capacity_type is {group.capacity_type}")
        if problems:
            return Check(name, region.name, "fail", f"{reservation_id}: {'; '.join(problems)} ({ends})")
        return Check(
            name, region.name, "ok", f"{reservation_id}: active {kind}, {found['InstanceType']} in {zone}, {ends}"
        )

    # --- EKS -----------------------------------------------------------------------------------

    def kubernetes_version(self, region: RegionConfig) -> Iterator[Check]:
        version = region.cluster.kubernetes_version
        # includeAll: an unsupported version is reported as such, not left out of the answer.
        answer = self.client("eks", region.name).describe_cluster_versions(clusterVersions=[version], includeAll=True)
        found = [v for v in answer.get("clusterVersions", []) if v.get("clusterVersion") == version]
        if not found:
            yield Check("kubernetes-version", region.name, "fail", f"EKS does not offer Kubernetes {version} here")
            return
        status = found[0].get("versionStatus") or str(found[0].get("status", "unknown")).upper().replace("-", "_")
        end = found[0].get("endOfStandardSupportDate")
        until = f" until {end:%Y-%m-%d}" if hasattr(end, "strftime") else ""
        if status != "STANDARD_SUPPORT":
            yield Check(
                "kubernetes-version",
                region.name,
                "fail",
                f"{version} is in {status}, not standard support (extended support costs 6x)",
            )
        else:
            yield Check("kubernetes-version", region.name, "ok", f"{version} in standard support{until}")

    def addon_versions(self, region: RegionConfig) -> Iterator[Check]:
        version = region.cluster.kubernetes_version
        eks = self.client("eks", region.name)
        for addon, pinned in sorted(eks_addons.ADDON_VERSIONS[version].items()):
            answer = eks.describe_addon_versions(kubernetesVersion=version, addonName=addon)
            offered = {v["addonVersion"] for a in answer.get("addons", []) for v in a.get("addonVersions", [])}
            if pinned in offered:
                yield Check(f"addon-version {addon}", region.name, "ok", f"{pinned} exists for {version}")
            else:
                yield Check(
                    f"addon-version {addon}", region.name, "fail", f"{pinned} is not offered for Kubernetes {version}"
                )

    # --- global --------------------------------------------------------------------------------

    def hosted_zone(self) -> Iterator[Check]:
        gateway = self.platform.gateway
        if not gateway.hosted_zone_id:
            yield Check("hosted-zone", GLOBAL, "skip", "no gateway.hosted_zone_id: the stack makes no DNS records")
            return
        route53 = self.client("route53", self.platform.primary_region.name)
        try:
            zone = route53.get_hosted_zone(Id=gateway.hosted_zone_id)["HostedZone"]
        except Exception as exc:  # noqa: BLE001 - botocore's ClientError
            if error_code(exc) == "NoSuchHostedZone":
                yield Check("hosted-zone", GLOBAL, "fail", f"{gateway.hosted_zone_id} does not exist in this account")
                return
            raise
        zone_name = str(zone["Name"]).rstrip(".")
        domain = str(gateway.domain_name)
        if zone.get("Config", {}).get("PrivateZone"):
            yield Check(
                "hosted-zone",
                GLOBAL,
                "fail",
                f"{gateway.hosted_zone_id} ({zone_name}) is private: clients outside the VPCs cannot resolve it",
            )
        elif domain != zone_name and not domain.endswith(f".{zone_name}"):
            yield Check(
                "hosted-zone", GLOBAL, "fail", f"{gateway.hosted_zone_id} is {zone_name}, which does not hold {domain}"
            )
        else:
            yield Check("hosted-zone", GLOBAL, "ok", f"{gateway.hosted_zone_id} is {zone_name}, public, holds {domain}")

    def autoscaling_role(self) -> Iterator[Check]:
        iam = self.client("iam", self.platform.primary_region.name)
        try:
            iam.get_role(RoleName=AUTOSCALING_ROLE)
        except Exception as exc:  # noqa: BLE001 - botocore's ClientError
            if error_code(exc) == "NoSuchEntity":
                yield Check(
                    "autoscaling-service-linked-role",
                    GLOBAL,
                    "fail",
                    f"{AUTOSCALING_ROLE} does not exist (the EBS key policy names it): "
                    "aws iam create-service-linked-role --aws-service-name autoscaling.amazonaws.com",
                )
                return
            raise
        yield Check("autoscaling-service-linked-role", GLOBAL, "ok", f"{AUTOSCALING_ROLE} exists")

    def weights(self) -> Iterator[Check]:
        region = self.platform.primary_region.name
        if not self.weights_bucket:
            yield Check(
                "weights",
                region,
                "skip",
                "no --weights-bucket (after the first up: `pulumi stack output weights_bucket`)",
            )
            return
        s3 = self.client("s3", region)
        for model in self.platform.models:
            if model.sensitive:
                yield Check(f"weights {model.name}", region, "skip", "sensitive: its weights live on-prem, not in AWS")
                continue
            key = f"models/{model.name}/{model.revision}/SHA256SUMS"
            try:
                s3.head_object(Bucket=self.weights_bucket, Key=key)
            except Exception as exc:  # noqa: BLE001 - botocore's ClientError
                if error_code(exc) in ("404", "NoSuchKey", "NotFound"):
                    yield Check(
                        f"weights {model.name}",
                        region,
                        "fail",
                        f"s3://{self.weights_bucket}/{key} is missing: "
                        f"llmstack weights push --stack {self.platform.environment} --model {model.name}",
                    )
                    continue
                raise
            yield Check(f"weights {model.name}", region, "ok", f"revision {model.revision[:12]} with SHA256SUMS")


# --- command line ----------------------------------------------------------------------------


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "preflight", help="read-only checks that the AWS account can hold a stack, before `pulumi up`"
    )
    parser.add_argument("--stack", required=True, help="the stack file Pulumi.<stack>.yaml to check the account for")
    parser.add_argument(
        "--weights-bucket", help="check every pinned model revision in this bucket (after the first up)"
    )
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace, clients: ClientFactory | None = None) -> int:
    stackfile = load_stack(args.stack, None)
    checks = list(Preflight(stackfile.platform, clients or boto3_clients(), args.weights_bucket).run())
    return report(checks, args.format, stackfile.stack)


def report(checks: Sequence[Check], fmt: str, stack: str, out: Any = None) -> int:
    out = out or sys.stdout
    failed = [c for c in checks if c.status == "fail"]
    verdict = "NOT READY" if failed else "READY"
    if fmt == "json":
        out.write(
            json.dumps({"stack": stack, "ready": not failed, "checks": [asdict(c) for c in checks]}, indent=2) + "\n"
        )
    else:
        out.write(f"llm-serving preflight — stack {stack}\n")
        out.writelines(f"{c.line()}\n" for c in checks)
        counts = {s: sum(1 for c in checks if c.status == s) for s in ("ok", "fail", "skip")}
        out.write(
            f"{verdict}: {counts['ok']} ok, {counts['fail']} failed, {counts['skip']} skipped of {len(checks)} checks\n"
        )
    return 1 if failed else 0
