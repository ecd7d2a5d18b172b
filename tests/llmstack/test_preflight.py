"""`llmstack preflight`: each check passes on an account that can hold the stack and fails, with the
exact line, on one that cannot. moto answers what it implements (STS, EC2 offerings, VPCs, NAT
gateways, addresses, IAM, Route 53, S3, EKS list_clusters); botocore's Stubber answers the rest
(Service Quotas for EC2 and EKS, EKS cluster and add-on versions, EC2 capacity reservations), so
every request and response is checked against the service's own model."""

from __future__ import annotations

import datetime
import gzip
import io
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import moto
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from components import catalog, eks_addons
from llmstack import preflight, quotas
from llmstack.cli import main
from llmstack.stackfile import load_stack
from tests.iam_calls import allowed_actions, calls_in_code, iam_action
from tests.test_plan_iam_validity import findings

ACCOUNT = "123456789012"  # prod's aws_account_id, and moto's default account
END = datetime.datetime(2027, 1, 15, 11, 30, tzinfo=datetime.UTC)
MOTO_RESOURCES = os.path.join(os.path.dirname(moto.__file__), "ec2", "resources")
# Routed to the Stubber: calls moto does not implement (moto 5.2: "Not yet implemented").
STUBBED = {
    "service-quotas": None,  # every call
    "eks": {"describe_cluster_versions", "describe_addon_versions"},
    "ec2": {"describe_capacity_reservations"},
}


class Routed:
    """One client per (service, region): the Stubber's for the calls in STUBBED, moto's for the rest."""

    def __init__(self, real: Any, stubbed: Any, methods: set[str] | None) -> None:
        self._real, self._stubbed, self._methods = real, stubbed, methods

    def __getattr__(self, name: str) -> Any:
        if self._methods is None or name in self._methods:
            return getattr(self._stubbed, name)
        return getattr(self._real, name)


class Account:
    """A moto account plus the stubbed answers; `quota`, `versions`, ... set what the stubs say."""

    def __init__(self, platform) -> None:
        self.platform = platform
        self.quota: dict[str, float] = {}
        self.version_status = "STANDARD_SUPPORT"
        self.missing_addon: str | None = None
        self.reservation: dict[str, Any] | None = None
        self.stubs: list[Stubber] = []
        self._clients: dict[tuple[str, str], Any] = {}

    def default_quota(self, code: str) -> float:
        return self.quota.get(code, 100_000.0)

    def __call__(self, service: str, region: str) -> Any:
        key = (service, region)
        if key not in self._clients:
            real = boto3.client(service, region_name=region)
            if service in STUBBED:
                stubbed = boto3.client(service, region_name=region)
                stubber = Stubber(stubbed)
                self._queue(stubber, service, region)
                stubber.activate()
                self.stubs.append(stubber)
                self._clients[key] = Routed(real, stubbed, STUBBED[service])
            else:
                self._clients[key] = real
        return self._clients[key]

    def _region(self, name: str):
        return next(r for r in self.platform.regions if r.name == name)

    def _queue(self, stubber: Stubber, service: str, region_name: str) -> None:
        """The answers in the order preflight asks: quota codes sorted, add-ons sorted."""
        region = self._region(region_name)
        if service == "service-quotas":
            codes = set(preflight.Preflight(self.platform, self)._vcpus_needed(region))
            codes |= {
                quotas.EKS_CLUSTERS,
                quotas.EKS_NODE_GROUPS_PER_CLUSTER,
                quotas.EKS_NODES_PER_NODE_GROUP,
                quotas.VPCS_PER_REGION,
                quotas.NAT_GATEWAYS_PER_AZ,
                quotas.ELASTIC_IPS,
            }
            for code in sorted(codes):
                quota = quotas.QUOTAS[code]
                stubber.add_response(
                    "get_service_quota",
                    {
                        "Quota": {
                            "ServiceCode": quota.service,
                            "QuotaCode": code,
                            "QuotaName": quota.name,
                            "Value": self.default_quota(code),
                        }
                    },
                    {"ServiceCode": quota.service, "QuotaCode": code},
                )
        elif service == "eks":
            version = region.cluster.kubernetes_version
            stubber.add_response(
                "describe_cluster_versions",
                {
                    "clusterVersions": [
                        {
                            "clusterVersion": version,
                            "versionStatus": self.version_status,
                            "endOfStandardSupportDate": datetime.datetime(2027, 3, 27, tzinfo=datetime.UTC),
                        }
                    ]
                },
                {"clusterVersions": [version], "includeAll": True},
            )
            for addon, pinned in sorted(eks_addons.ADDON_VERSIONS[version].items()):
                offered = [] if addon == self.missing_addon else [{"addonVersion": pinned}]
                stubber.add_response(
                    "describe_addon_versions",
                    {
                        "addons": [
                            {"addonName": addon, "addonVersions": [*offered, {"addonVersion": "v0.0.1-eksbuild.1"}]}
                        ]
                    },
                    {"kubernetesVersion": version, "addonName": addon},
                )
        elif service == "ec2":
            for group in region.node_groups:
                if not group.capacity_reservation_id:
                    continue
                if self.reservation is None:
                    stubber.add_client_error(
                        "describe_capacity_reservations",
                        service_error_code="InvalidCapacityReservationId.NotFound",
                        service_message=f"The capacity reservation ID '{group.capacity_reservation_id}' does not exist",
                        expected_params={"CapacityReservationIds": [group.capacity_reservation_id]},
                    )
                else:
                    stubber.add_response(
                        "describe_capacity_reservations",
                        {
                            "CapacityReservations": [
                                {"CapacityReservationId": group.capacity_reservation_id, **self.reservation}
                            ]
                        },
                        {"CapacityReservationIds": [group.capacity_reservation_id]},
                    )

    def assert_all_answered(self) -> None:
        for stubber in self.stubs:
            stubber.assert_no_pending_responses()


def prod(**changes):
    """prod's validated stack file, with `changes` applied to its config (a dict of path -> value)."""
    platform = load_stack("prod", None).platform
    return platform.model_copy(update=changes) if changes else platform


def with_region_change(platform, index: int, **changes):
    regions = list(platform.regions)
    regions[index] = regions[index].model_copy(update=changes)
    return platform.model_copy(update={"regions": regions})


def with_group_change(platform, region: int, group: int, **changes):
    groups = list(platform.regions[region].node_groups)
    groups[group] = groups[group].model_copy(update=changes)
    return with_region_change(platform, region, node_groups=groups)


@pytest.fixture
def aws(monkeypatch) -> Iterator[None]:
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.setenv(key, "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with mock_aws():
        iam = boto3.client("iam")
        iam.create_role(
            RoleName=preflight.AUTOSCALING_ROLE,
            Path="/aws-service-role/autoscaling.amazonaws.com/",
            AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
        )
        yield


def run(platform, account: Account | None = None, bucket: str | None = None) -> list[preflight.Check]:
    account = account or Account(platform)
    account.platform = platform
    checks = list(preflight.Preflight(platform, account, bucket).run())
    account.assert_all_answered()
    return checks


def lines(checks) -> list[str]:
    return [c.line() for c in checks]


def failed(checks) -> list[str]:
    return [c.line() for c in checks if c.status == "fail"]


# --- a ready account ---------------------------------------------------------------------------


def test_an_account_that_can_hold_prod_is_ready(aws):
    checks = run(prod())
    assert failed(checks) == []
    shown = lines(checks)
    assert shown[0] == "ok   global         account: 123456789012"
    assert (
        "ok   us-east-1      instance-offering h100: p5.48xlarge offered in us-east-1a, us-east-1b, us-east-1c" in shown
    )
    assert (
        "ok   us-east-1      quota ec2: Running On-Demand P instances (ec2 L-417A185B) 100000; vCPUs at every node "
        "group's max_nodes = 384"
    ) in shown
    assert "ok   us-east-1      kubernetes-version: 1.35 in standard support until 2027-03-27" in shown
    assert "ok   us-east-1      addon-version vpc-cni: v1.21.1-eksbuild.7 exists for 1.35" in shown
    assert "ok   global         autoscaling-service-linked-role: AWSServiceRoleForAutoScaling exists" in shown
    assert "skip global         hosted-zone: no gateway.hosted_zone_id: the stack makes no DNS records" in shown
    assert (
        "skip us-east-1      weights: no --weights-bucket (after the first up: `pulumi stack output weights_bucket`)"
    ) in shown


# --- account -------------------------------------------------------------------------------------


def test_credentials_for_another_account(aws):
    checks = run(prod(aws_account_id="210987654321"))
    assert failed(checks) == [
        "fail global         account: credentials are for 123456789012, the stack is pinned to 210987654321"
    ]


def test_no_pinned_account_is_a_skip(aws):
    [account] = [c for c in run(prod(aws_account_id=None)) if c.name == "account"]
    assert (
        account.line()
        == "skip global         account: aws_account_id is not set in the stack file (credentials: 123456789012)"
    )


# --- compute -------------------------------------------------------------------------------------


def test_an_instance_type_not_offered_in_a_zone(aws):
    # moto's offerings (EC2's own data): us-east-1e offers p5.48xlarge but neither g5 nor m6i.
    platform = with_region_change(prod(), 0, availability_zones=["us-east-1a", "us-east-1b", "us-east-1e"])
    assert failed(run(platform)) == [
        "fail us-east-1      instance-offering a10g: g5.12xlarge is not offered in us-east-1e",
        "fail us-east-1      instance-offering system: m6i.xlarge is not offered in us-east-1e",
    ]


def test_a_vcpu_quota_below_the_node_groups_maximum(aws):
    account = Account(prod())
    account.quota["L-417A185B"] = 192  # one p5.48xlarge; prod's h100 group may grow to 2
    assert failed(run(prod(), account)) == [
        "fail us-east-1      quota ec2: Running On-Demand P instances (ec2 L-417A185B) 192; vCPUs at every node "
        "group's max_nodes = 384; request an increase in Service Quotas"
    ]


def test_spot_node_groups_count_against_the_spot_quota():
    platform = with_group_change(prod(), 1, 0, capacity_type="spot")
    needed = preflight.Preflight(platform, lambda s, r: None)._vcpus_needed(platform.regions[1])
    assert needed == {"L-1216C47A": 6 * 4, "L-3819A6DF": 3 * 48}


def test_the_eks_and_network_quotas(aws):
    account = Account(prod())
    account.quota.update({"L-BD136A63": 5, "L-F678F1CE": 1})  # nodes per group; VPCs (moto has a default VPC)
    assert failed(run(prod(), account)) == [
        "fail us-east-1      quota eks: Nodes per managed node group (eks L-BD136A63) 5; largest max_nodes = 6; "
        "request an increase in Service Quotas",
        "fail us-east-1      quota vpc: VPCs per Region (vpc L-F678F1CE) 1; VPCs: 1 in use + 1 of this stack = 2; "
        "request an increase in Service Quotas",
        "fail eu-west-1      quota eks: Nodes per managed node group (eks L-BD136A63) 5; largest max_nodes = 6; "
        "request an increase in Service Quotas",
        "fail eu-west-1      quota vpc: VPCs per Region (vpc L-F678F1CE) 1; VPCs: 1 in use + 1 of this stack = 2; "
        "request an increase in Service Quotas",
    ]


def test_nat_gateways_and_elastic_ips_the_stack_adds_per_zone(aws):
    checks = {c.line() for c in run(prod()) if c.scope == "us-east-1" and c.name == "quota vpc"}
    assert (
        "ok   us-east-1      quota vpc: NAT gateways per Availability Zone (vpc L-FE5A380F) 100000; NAT gateways "
        "in the busiest zone: 0 in use + 1 of this stack = 1"
    ) in checks
    elastic = next(c for c in run(prod()) if c.scope == "us-east-1" and "L-0263D0A3" in c.detail)
    # prod runs a NAT gateway per zone (3), each with its Elastic IP.
    assert elastic.detail.endswith("Elastic IPs: 0 in use + 3 for this stack's NAT gateways = 3")


def test_quota_values_come_from_the_account_or_aws_default(aws):
    # A quota the account never changed can be missing from GetServiceQuota: AWS's default applies.
    client = boto3.client("service-quotas", region_name="us-east-1")
    with Stubber(client) as stub:
        stub.add_client_error("get_service_quota", service_error_code="NoSuchResourceException")
        stub.add_response(
            "get_aws_default_service_quota",
            {"Quota": {"Value": 5.0}},
            {"ServiceCode": "vpc", "QuotaCode": "L-F678F1CE"},
        )
        value = preflight.Preflight(prod(), lambda s, r: client)._quota_value("us-east-1", "L-F678F1CE")
        stub.assert_no_pending_responses()
    assert value == 5.0


# --- capacity reservations -------------------------------------------------------------------------

RESERVED = {"capacity_type": "capacity-reservation", "capacity_reservation_id": "cr-0123456789abcdef0"}


def reserved_prod(**group):
    platform = with_group_change(prod(), 0, 0, **RESERVED, availability_zones=["us-east-1a"], **group)
    return platform


def test_a_reservation_that_does_not_exist(aws):
    assert failed(run(reserved_prod())) == [
        "fail us-east-1      capacity-reservation h100: cr-0123456789abcdef0 does not exist in us-east-1"
    ]


def test_an_active_reservation_in_the_right_zone_and_type(aws):
    account = Account(reserved_prod())
    account.reservation = {
        "State": "active",
        "InstanceType": "p5.48xlarge",
        "AvailabilityZone": "us-east-1a",
        "EndDate": END,
    }
    [check] = [c for c in run(reserved_prod(), account) if c.name.startswith("capacity-reservation h100")]
    assert check.line() == (
        "ok   us-east-1      capacity-reservation h100: cr-0123456789abcdef0: active capacity reservation, "
        "p5.48xlarge in us-east-1a, ends 2027-01-15 11:30 UTC"
    )


def test_a_reservation_that_does_not_fit(aws):
    account = Account(reserved_prod())
    account.reservation = {
        "State": "expired",
        "InstanceType": "p4d.24xlarge",
        "AvailabilityZone": "us-east-1b",
        "EndDate": END,
        "ReservationType": "capacity-block",
    }
    assert failed(run(reserved_prod(), account)) == [
        "fail us-east-1      capacity-reservation h100: cr-0123456789abcdef0: state expired, not active; instance "
        "type p4d.24xlarge, not p5.48xlarge; zone us-east-1b, not us-east-1a; a Capacity Block, but capacity_type is "
        "capacity-reservation (ends 2027-01-15 11:30 UTC)"
    ]


# --- EKS -----------------------------------------------------------------------------------------


def test_a_kubernetes_version_out_of_standard_support(aws):
    account = Account(prod())
    account.version_status = "EXTENDED_SUPPORT"
    assert failed(run(prod(), account)) == [
        f"fail {region:<14} kubernetes-version: 1.35 is in EXTENDED_SUPPORT, not standard support (extended support "
        "costs 6x)"
        for region in ("us-east-1", "eu-west-1")
    ]


def test_a_pinned_addon_version_eks_does_not_offer(aws):
    account = Account(prod())
    account.missing_addon = "coredns"
    assert failed(run(prod(), account)) == [
        f"fail {region:<14} addon-version coredns: v1.14.3-eksbuild.3 is not offered for Kubernetes 1.35"
        for region in ("us-east-1", "eu-west-1")
    ]


# --- global ----------------------------------------------------------------------------------------


def with_zone(platform, zone_id: str, domain: str):
    gateway = platform.gateway.model_copy(update={"hosted_zone_id": zone_id, "domain_name": domain})
    return platform.model_copy(update={"gateway": gateway})


def hosted_zone_line(platform) -> str:
    return next(c.line() for c in run(platform) if c.name == "hosted-zone")


def test_the_hosted_zone(aws):
    route53 = boto3.client("route53")
    public = route53.create_hosted_zone(Name="example.com", CallerReference="a")["HostedZone"]["Id"].split("/")[-1]
    private = route53.create_hosted_zone(
        Name="internal.example.com",
        CallerReference="b",
        HostedZoneConfig={"PrivateZone": True},
        VPC={"VPCRegion": "us-east-1", "VPCId": boto3.client("ec2").describe_vpcs()["Vpcs"][0]["VpcId"]},
    )["HostedZone"]["Id"].split("/")[-1]
    assert hosted_zone_line(with_zone(prod(), public, "llm.example.com")) == (
        f"ok   global         hosted-zone: {public} is example.com, public, holds llm.example.com"
    )
    assert hosted_zone_line(with_zone(prod(), public, "llm.example.org")) == (
        f"fail global         hosted-zone: {public} is example.com, which does not hold llm.example.org"
    )
    assert hosted_zone_line(with_zone(prod(), private, "llm.internal.example.com")) == (
        f"fail global         hosted-zone: {private} (internal.example.com) is private: clients outside the VPCs "
        "cannot resolve it"
    )
    assert hosted_zone_line(with_zone(prod(), "Z0NOTTHERE0000", "llm.example.com")) == (
        "fail global         hosted-zone: Z0NOTTHERE0000 does not exist in this account"
    )


def test_a_missing_autoscaling_service_linked_role(aws):
    boto3.client("iam").delete_role(RoleName=preflight.AUTOSCALING_ROLE)
    assert failed(run(prod())) == [
        "fail global         autoscaling-service-linked-role: AWSServiceRoleForAutoScaling does not exist (the EBS "
        "key policy names it): aws iam create-service-linked-role --aws-service-name autoscaling.amazonaws.com"
    ]


def test_every_pinned_revision_in_the_weights_bucket(aws):
    platform = prod()
    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="weights")
    served = [m for m in platform.models if not m.sensitive]
    for model in served[1:]:
        s3.put_object(Bucket="weights", Key=f"models/{model.name}/{model.revision}/SHA256SUMS", Body=b"")
    checks = [c for c in run(platform, bucket="weights") if c.name.startswith("weights")]
    first = served[0]
    assert [c.line() for c in checks if c.status == "fail"] == [
        f"fail us-east-1      weights {first.name}: s3://weights/models/{first.name}/{first.revision}/SHA256SUMS is "
        f"missing: llmstack weights push --stack prod --model {first.name}"
    ]
    assert f"ok   us-east-1      weights {served[1].name}: revision {served[1].revision[:12]} with SHA256SUMS" in lines(
        checks
    )
    sensitive = [m for m in platform.models if m.sensitive]
    assert sensitive and all(
        f"skip us-east-1      weights {m.name}: sensitive: its weights live on-prem, not in AWS" in lines(checks)
        for m in sensitive
    )


def test_a_call_the_credentials_may_not_make_is_a_failed_check_not_a_traceback(aws):
    def denied(service: str, region: str):
        client = boto3.client(service, region_name=region)
        stub = Stubber(client)
        if service == "sts":
            stub.add_client_error(
                "get_caller_identity", service_error_code="AccessDenied", service_message="not allowed"
            )
        stub.activate()
        return client

    checks = list(preflight.Preflight(prod(), denied).run())
    assert checks[0].line() == (
        "fail global         account: cannot check: AccessDenied (An error occurred (AccessDenied) when calling the "
        "GetCallerIdentity operation: not allowed)"
    )


# --- datasets the checks rely on -------------------------------------------------------------------


def test_the_catalogs_vcpus_are_ec2s():
    """moto ships EC2's DescribeInstanceTypes answers; the catalog's vCPU counts must be those."""
    with gzip.open(os.path.join(MOTO_RESOURCES, "instance_types.json.gz")) as handle:
        ec2 = json.load(handle)
    wrong = {
        t.name: (t.vcpu, ec2[t.name]["VCpuInfo"]["DefaultVCpus"])
        for t in catalog._INSTANCE_TYPES.values()
        if ec2[t.name]["VCpuInfo"]["DefaultVCpus"] != t.vcpu
    }
    assert wrong == {}


def test_the_vpc_quota_codes_are_awss():
    from moto.servicequotas.resources.default_quotas.vpc import VPC_DEFAULT_QUOTAS

    names = {q["QuotaCode"]: q["QuotaName"] for q in VPC_DEFAULT_QUOTAS}
    for code in (quotas.VPCS_PER_REGION, quotas.NAT_GATEWAYS_PER_AZ):
        assert names[code] == quotas.QUOTAS[code].name


@pytest.mark.parametrize(
    ("instance_type", "purchase", "code"),
    [
        ("p5.48xlarge", "on-demand", "L-417A185B"),
        ("p5e.48xlarge", "spot", "L-7212CCBC"),
        ("g5.12xlarge", "on-demand", "L-DB2E81BA"),
        ("g6e.xlarge", "spot", "L-3819A6DF"),
        ("m6i.xlarge", "on-demand", "L-1216C47A"),
        ("r7g.large", "spot", "L-34B43A08"),
    ],
)
def test_instance_families_map_to_their_quotas(instance_type, purchase, code):
    assert quotas.vcpu_quota_for(instance_type, purchase) == code


@pytest.mark.parametrize(
    ("instance_type", "message"),
    [
        ("inf2.xlarge", "instance_type: inf2.xlarge is in no quota family preflight knows (standard, G, VT, P)"),
        ("trn1.32xlarge", "instance_type: trn1.32xlarge is in no quota family preflight knows (standard, G, VT, P)"),
        ("huge", "instance_type: not an EC2 instance type name ('huge')"),
    ],
)
def test_families_preflight_does_not_know_are_refused(instance_type, message):
    with pytest.raises(ValueError) as raised:
        quotas.family_of(instance_type)
    assert str(raised.value) == message


# --- the command -----------------------------------------------------------------------------------


def test_the_command_prints_one_line_per_check_and_exits_by_readiness(aws, monkeypatch, capsys):
    accounts: list[Account] = []

    def factory():
        account = Account(prod())
        accounts.append(account)
        return account

    monkeypatch.setattr(preflight, "boto3_clients", factory)
    assert main(["preflight", "--stack", "prod"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "llm-serving preflight — stack prod"
    checks = len(out) - 2
    assert out[-1] == f"READY: {checks - 4} ok, 0 failed, 4 skipped of {checks} checks"
    assert main(["preflight", "--stack", "prod", "--format", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["ready"] is True and len(document["checks"]) == checks
    assert set(document["checks"][0]) == {"name", "scope", "status", "detail"}


def test_a_not_ready_account_exits_1(aws, monkeypatch, capsys):
    boto3.client("iam").delete_role(RoleName=preflight.AUTOSCALING_ROLE)
    monkeypatch.setattr(preflight, "boto3_clients", lambda: Account(prod()))
    assert main(["preflight", "--stack", "prod"]) == 1
    assert capsys.readouterr().out.splitlines()[-1].startswith("NOT READY: ")


def test_bad_input_exits_2_with_one_line(capsys):
    assert main(["preflight", "--stack", "nope"]) == 2
    assert capsys.readouterr().err == (
        "llmstack preflight: error: Pulumi.nope.yaml: no such stack file; stacks here: dev, prod\n"
    )


def test_report_counts(capsys):
    checks = [preflight.Check("a", "global", "ok", "x"), preflight.Check("b", "global", "fail", "y")]
    out = io.StringIO()
    assert preflight.report(checks, "text", "s", out) == 1
    assert out.getvalue().splitlines()[-1] == "NOT READY: 1 ok, 1 failed, 0 skipped of 2 checks"


# --- the IAM policy it needs -----------------------------------------------------------------------

POLICY = json.loads((Path(preflight.__file__).parent / "data" / "preflight-policy.json").read_text())


def test_the_policy_allows_every_call_the_command_makes_and_nothing_else():
    needed = {iam_action(service, operation) for service, operation in calls_in_code(preflight)}
    assert len(needed) >= 15  # the scan found the calls, not nothing
    assert allowed_actions(POLICY) == needed


def test_the_policy_names_real_actions_and_only_reads():
    assert list(findings(POLICY)) == []
    assert all(a.split(":")[1].startswith(("Describe", "Get", "List")) for a in allowed_actions(POLICY))


def test_the_scan_sees_every_call_a_full_run_makes(aws):
    made: set[tuple[str, str]] = set()

    class Recording(Account):
        def __call__(self, service, region):
            client = super().__call__(service, region)
            for real in {client, getattr(client, "_real", client), getattr(client, "_stubbed", client)}:
                if not getattr(real, "_recorded", False):
                    real.meta.events.register("before-call", lambda model, s=service, **_: made.add((s, model.name)))
                    real._recorded = True
            return client

    platform = reserved_prod()
    account = Recording(platform)
    account.reservation = {"State": "active", "InstanceType": "p5.48xlarge", "AvailabilityZone": "us-east-1a"}
    boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="weights")
    route53 = boto3.client("route53")
    zone = route53.create_hosted_zone(Name="example.com", CallerReference="c")["HostedZone"]["Id"].split("/")[-1]
    run(with_zone(platform, zone, "llm.example.com"), account, bucket="weights")
    assert made and made <= calls_in_code(preflight)
