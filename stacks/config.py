"""The typed stack configuration: the only place `llm-serving:*` config is parsed.

`PlatformConfig` mirrors the keys of `Pulumi.<stack>.yaml` under the `llm-serving:` namespace.
Pydantic checks each value's type and range; `_check_platform` then checks what spans fields
(references between models, regions and targets; CIDR overlaps; GPU catalog). Every problem
becomes a `ConfigError` whose message starts with the key path, e.g.
`regions[1].node_groups[0].max_nodes: must be >= min_nodes (2)`.
"""

from __future__ import annotations

import difflib
import ipaddress
import json
import posixpath
import re
import typing
from collections.abc import Iterator, Mapping
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.functional_validators import AfterValidator

from components import (
    catalog,
    codebuild,
    eks_addons,
    engines,
    gateway_authorizer,
    sizing,
    tenant_limits,
    usage,
    waf_rules,
)
from components.cidr_plan import is_rfc1918
from components.conventions import ANOMALY_THRESHOLD_MAX_SHARE, LOG_RETENTION_DAYS, is_aws_endpoint, name_as_word
from components.model_hostnames import (
    ACM_NAMES_PER_CERTIFICATE,
    MAX_DNS_NAME,
    ModelHostname,
    RestrictedTenant,
    certificate_names,
    hostnames_by_region,
)
from components.named_networks import MIN_NAMED_PREFIX, NamedNetwork, hybrid_networks, hybrid_pod_networks

NAMESPACE = "llm-serving"

DnsLabel = Annotated[str, StringConstraints(pattern=r"^[a-z]([a-z0-9-]{0,30}[a-z0-9])?$")]
AwsRegion = Annotated[str, StringConstraints(pattern=r"^[a-z]{2}(-gov)?-[a-z]+-\d$")]
Environment = Literal["dev", "staging", "prod"]


def _cloudwatch_retention(value: int) -> int:
    if value not in LOG_RETENTION_DAYS:
        raise ValueError(f"must be one of the days CloudWatch Logs keeps: {', '.join(map(str, LOG_RETENTION_DAYS))}")
    return value


LogRetentionDays = Annotated[int, AfterValidator(_cloudwatch_retention)]


class ConfigError(ValueError):
    """A config problem, always one line: `<key path>: <what is wrong and what is allowed>`."""

    def __init__(self, path: str, message: str):
        self.path = _one_line(path)
        self.problem = _one_line(message)
        super().__init__(f"{self.path}: {self.problem}" if path else self.problem)


def _one_line(text: str) -> str:
    """Escape control characters (a newline in a quoted value) so the message stays one line."""
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)


# --- regions, clusters, node groups -------------------------------------------------------------


class NodeGroupConfig(_Strict):
    """A managed GPU node group in one region's cluster."""

    name: DnsLabel
    gpu: str = Field(description="GPU key from the catalog: h100 or a10g")
    instance_type: str | None = Field(default=None, description="defaults to the smallest instance of the GPU")
    min_nodes: int = Field(default=0, ge=0)
    desired_nodes: int | None = Field(default=None, ge=0, description="defaults to min_nodes")
    max_nodes: int = Field(default=1, ge=1, le=100)
    capacity_type: Literal["on-demand", "spot", "capacity-reservation", "capacity-block"] = "on-demand"
    capacity_reservation_id: str | None = Field(default=None, pattern=r"^cr-[0-9a-f]{8,17}$")
    availability_zones: list[str] | None = Field(
        default=None, description="subset of the region's AZs; a capacity reservation pins exactly one"
    )
    root_volume_gib: int = Field(default=200, ge=50, le=16384)

    @property
    def resolved_instance_type(self) -> str:
        if self.instance_type:
            return self.instance_type
        return catalog.instance_types_for(self.gpu)[0].name

    @property
    def resolved_desired_nodes(self) -> int:
        return self.min_nodes if self.desired_nodes is None else self.desired_nodes


class SystemNodesConfig(_Strict):
    """The on-demand general-purpose node group for add-ons and controllers."""

    instance_type: str = "m6i.xlarge"
    min_nodes: int = Field(default=2, ge=1)
    max_nodes: int = Field(default=4, ge=1, le=50)


class ClusterConfig(_Strict):
    kubernetes_version: str = Field(default="1.35", pattern=r"^1\.\d{2}$")
    public_endpoint: bool = Field(default=False, description="explicit, named opt-in; policies see it")
    public_access_cidrs: list[str] = Field(default_factory=list)
    admin_role_arns: list[str] = Field(default_factory=list)
    log_retention_days: LogRetentionDays = 90
    system_nodes: SystemNodesConfig = SystemNodesConfig()


class RegionConfig(_Strict):
    name: AwsRegion
    primary: bool = False
    availability_zones: list[str] = Field(min_length=2, max_length=6)
    vpc_cidr: str
    nat_gateways: Literal["one", "per-az"] | None = Field(
        default=None, description="defaults to per-az in prod (zonal resilience), one elsewhere (cost)"
    )
    cluster: ClusterConfig = ClusterConfig()
    node_groups: list[NodeGroupConfig] = Field(default_factory=list)

    @field_validator("vpc_cidr")
    @classmethod
    def _valid_cidr(cls, value: str) -> str:
        try:
            network = ipaddress.IPv4Network(value, strict=True)
        except ValueError:
            raise ValueError("must be an IPv4 network in CIDR form, e.g. 10.20.0.0/16") from None
        if not 16 <= network.prefixlen <= 20:
            raise ValueError("prefix must be between /16 and /20 (room for private, public subnets)")
        if not network.is_private:
            raise ValueError("must be a private (RFC 1918) range")
        return value


# --- the data centre and its private path --------------------------------------------------------

# Customer gateway ASNs AWS reserves (Site-to-Site VPN user guide, "Customer gateway options"):
# region -> ASN; "*" is every region.
RESERVED_CUSTOMER_GATEWAY_ASNS = {"*": 7224, "eu-west-1": 9059, "ap-northeast-1": 10124, "ap-southeast-1": 17943}
# Each region's Transit Gateway takes the next private ASN (64512 is the provider's default).
FIRST_TRANSIT_GATEWAY_ASN = 64512


class VpnConfig(_Strict):
    """The data centre's end of a Site-to-Site VPN to every region (two tunnels each, BGP)."""

    customer_gateway_ip: str = Field(description="static public IPv4 address of the data centre's VPN device")
    bgp_asn: int = Field(ge=1, le=2_147_483_647, description="the data centre's BGP ASN (64512-65534 if private)")

    @field_validator("customer_gateway_ip")
    @classmethod
    def _public_ipv4(cls, value: str) -> str:
        try:
            address = ipaddress.IPv4Address(value)
        except ValueError:
            raise ValueError("must be an IPv4 address such as 198.51.100.10") from None
        # Documentation ranges (RFC 5737) pass: the example stacks use them.
        internal = [
            ipaddress.IPv4Network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10")
        ]
        if (
            any(address in network for network in internal)
            or address.is_loopback
            or address.is_link_local
            or address.is_multicast
            or address.is_unspecified
            or address.is_reserved
        ):
            raise ValueError(f"{value} is not a public address; the VPN endpoints reach the device over the internet")
        return value


_PEM_CERTIFICATE = re.compile(r"^-----BEGIN CERTIFICATE-----\n(?:[A-Za-z0-9+/=]{1,76}\n)+-----END CERTIFICATE-----\n?$")


class DirectConnectConfig(_Strict):
    """An existing Direct Connect connection (or LAG) of the data centre: the stack adds a virtual
    interface on it to a Direct Connect gateway that every region's gateway associates with."""

    connection_id: str = Field(
        pattern=r"^dx(con|lag)-[0-9a-z]{8}$", description="the connection or LAG id, e.g. dxcon-fgq9nnsm"
    )
    vlan: int = Field(ge=1, le=4094, description="the virtual interface's VLAN on that connection")
    bgp_asn: int = Field(ge=1, le=4_294_967_294, description="the data centre router's ASN on the interface")
    amazon_side_asn: int = Field(
        description="the Direct Connect gateway's private ASN (64512-65534 or 4200000000-4294967294)"
    )

    @field_validator("amazon_side_asn")
    @classmethod
    def _private_asn(cls, value: int) -> int:
        if not (64512 <= value <= 65534 or 4_200_000_000 <= value <= 4_294_967_294):
            raise ValueError("must be a private ASN: 64512-65534 or 4200000000-4294967294")
        return value


class DataCentreNetworkConfig(_Strict):
    """One of the data centre's networks that the platform admits, by the name its rules carry."""

    name: DnsLabel = Field(description="e.g. dc1-ingress: the name security groups and NetworkPolicies show")
    cidr: str = Field(description="inside datacentre.cidrs and no broader than /20, e.g. 10.100.8.0/24")


class DataCentreConfig(_Strict):
    """The operator's data centre: its networks and the private links that join it to every region."""

    name: DnsLabel
    cidrs: list[str] = Field(min_length=1, description="the data centre's networks, routed over the private path only")
    networks: list[DataCentreNetworkConfig] = Field(
        default_factory=list,
        description="the networks model servers and interface endpoints admit, by name (onprem_targets[] "
        "client_networks and node_networks, models[].clients[].networks name them)",
    )
    gateway: Literal["transit-gateway", "vpn-gateway"] = Field(
        default="transit-gateway",
        description="each region's end: a Transit Gateway (own route table), or a virtual private gateway on the VPC",
    )
    vpn: VpnConfig | None = None
    direct_connect: DirectConnectConfig | None = None
    ca_certificate: str | None = Field(
        default=None,
        description="PEM of the CA issuing the data centre's workload certificates (Roles Anywhere trust anchor)",
    )

    @model_validator(mode="after")
    def _a_link(self) -> DataCentreConfig:
        if self.vpn is None and self.direct_connect is None:
            raise ValueError("needs vpn, direct_connect or both (how the data centre reaches the regions)")
        return self

    @field_validator("ca_certificate")
    @classmethod
    def _pem(cls, value: str | None) -> str | None:
        if value is not None and not _PEM_CERTIFICATE.match(value):
            raise ValueError("must be one PEM certificate (-----BEGIN CERTIFICATE----- ... -----END CERTIFICATE-----)")
        return value


# --- on-prem targets -----------------------------------------------------------------------------


class OnPremObjectStoreConfig(_Strict):
    """The data centre's own S3-compatible object store (MinIO, Ceph RGW ...): sensitive models' weights."""

    endpoint: str = Field(
        pattern=r"^https://[A-Za-z0-9.-]+(:\d+)?/?$", description="e.g. https://objects.dc1.example.internal"
    )
    bucket: str = Field(pattern=r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
    credentials_secret: DnsLabel = Field(
        default="sensitive-weights-reader",
        description="Kubernetes Secret with AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY for the store",
    )
    signing_region: str = Field(
        default="us-east-1", pattern=r"^[a-z0-9-]+$", description="region name the store signs with (MinIO's default)"
    )

    @field_validator("endpoint")
    @classmethod
    def _not_aws(cls, value: str) -> str:
        if is_aws_endpoint(value):
            raise ValueError(
                "must be the data centre's own object store, not an AWS endpoint (sensitive weights stay on-prem)"
            )
        return value


class RolesAnywhereConfig(_Strict):
    """How an on-prem model server gets short-lived credentials for the weights bucket (IAM Roles Anywhere)."""

    certificate_secret: DnsLabel = Field(
        default="weights-client-cert",
        description="kubernetes.io/tls Secret: the pods' certificate from the data centre CA, CN llm-weights-<target>",
    )
    helper_image: str = Field(
        pattern=r"^[a-z0-9.-]+(:\d+)?/[a-z0-9._/-]+(:[0-9]+\.[0-9]+\.[0-9]+|@sha256:[0-9a-f]{64})$",
        description="image with /aws_signing_helper (AWS's credential helper) and cp, pinned by x.y.z tag or digest",
    )
    metrics_certificate_secret: DnsLabel = Field(
        default="metrics-client-cert",
        description="kubernetes.io/tls Secret: the metrics collector's certificate, CN llm-metrics-<target>",
    )


class HybridNodesConfig(_Strict):
    """EKS Hybrid Nodes: the target's GPU machines join a region's cluster (one control plane) instead
    of running a cluster of their own. nodeadm registers them with IAM Roles Anywhere certificates from
    the data centre's CA; their networks are the cluster's remote node and pod networks."""

    region: str = Field(description="the AWS region whose cluster the machines join")
    node_cidrs: list[str] = Field(
        min_length=1, description="the machines' own networks, inside datacentre.cidrs (remote node networks)"
    )
    pod_cidrs: list[str] = Field(
        min_length=1,
        description="the CNI's pod address pools on them, inside datacentre.cidrs and routed to the region "
        "(remote pod networks)",
    )
    vcpus_per_node: int = Field(ge=1, le=1024, description="vCPUs of one machine: EKS bills hybrid nodes per vCPU-hour")


# What only a self-run cluster has: its kubeconfig, and the ways its pods reach AWS without EKS.
_KUBERNETES_ONLY_KEYS = (
    "kubeconfig",
    "weights_access",
    "roles_anywhere",
    "weights_credentials_secret",
    "metrics_remote_write",
    "sensitive_weights",
    "node_networks",
)


class OnPremTargetConfig(_Strict):
    """An on-prem GPU cluster: one the platform team runs itself, reached through its kubeconfig
    (`kind: kubernetes`), or machines joined to a region's EKS cluster (`kind: eks-hybrid-nodes`)."""

    name: DnsLabel
    kind: Literal["kubernetes", "eks-hybrid-nodes"] = "kubernetes"
    kubeconfig: SecretStr | None = Field(
        default=None, description="kind kubernetes: stored as `secure:`; never printed"
    )
    hybrid: HybridNodesConfig | None = Field(default=None, description="kind eks-hybrid-nodes: the cluster they join")
    gpu: str
    gpus_per_node: int = Field(ge=1, le=16)
    nodes: int = Field(ge=1)
    allow_sensitive_models: bool = False
    weights_path: str = Field(default="/mnt/models", pattern=r"^/[A-Za-z0-9._/-]+$")
    weights_access: Literal["roles-anywhere", "static-keys"] = Field(
        default="roles-anywhere",
        description="short-lived IAM Roles Anywhere credentials, or (explicitly weaker) static keys from a Secret",
    )
    roles_anywhere: RolesAnywhereConfig | None = None
    weights_credentials_secret: DnsLabel = Field(
        default="weights-reader", description="with static-keys: the Secret with keys that may read the weights bucket"
    )
    metrics_remote_write: bool = Field(
        default=True,
        description="remote-write the target's metrics to the primary region's AMP workspace over the private "
        "path (needs datacentre and roles_anywhere); false keeps them in the cluster only",
    )
    sensitive_weights: OnPremObjectStoreConfig | None = Field(
        default=None, description="where sensitive models' weights live (required when one is placed here)"
    )
    node_selector: dict[str, str] = Field(default_factory=dict)
    client_networks: list[DnsLabel] = Field(
        default_factory=list,
        description="names from datacentre.networks that may call the model servers' HTTP port (e.g. the data "
        "centre's ingress); empty: no ingress at all",
    )
    node_networks: list[DnsLabel] = Field(
        default_factory=list,
        description="kind kubernetes: names from datacentre.networks its nodes reach the primary region's "
        "interface endpoints from (weights, metrics, credentials over the private path)",
    )

    @model_validator(mode="before")
    @classmethod
    def _named_networks_only(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and "client_cidrs" in data:
            raise ValueError(
                "client_cidrs: name the callers' networks instead: list them in datacentre.networks "
                "(name, cidr) and their names in client_networks"
            )
        return data

    @model_validator(mode="after")
    def _kind(self) -> OnPremTargetConfig:
        if self.kind == "kubernetes":
            if self.kubeconfig is None:
                raise ValueError("kubeconfig: required with kind kubernetes (pulumi config set --secret --path ...)")
            if self.hybrid is not None:
                raise ValueError("hybrid: only with kind eks-hybrid-nodes")
            return self
        if self.hybrid is None:
            raise ValueError(
                "hybrid: required with kind eks-hybrid-nodes (region, node_cidrs, pod_cidrs, vcpus_per_node)"
            )
        stray = [key for key in _KUBERNETES_ONLY_KEYS if key in self.model_fields_set]
        if stray:
            raise ValueError(
                f"{stray[0]}: does not apply to kind eks-hybrid-nodes (the region's cluster reaches them; its pods "
                "read weights with EKS Pod Identity and its collector scrapes them)"
            )
        if self.allow_sensitive_models:
            # The control plane in AWS would hold the model's pods, their Secrets and their logs' path.
            raise ValueError(
                "allow_sensitive_models: an eks-hybrid-nodes target's control plane, Secrets and pod specs live in "
                f"{self.hybrid.region}; sensitive models need a kind kubernetes target"
            )
        return self

    @property
    def is_hybrid(self) -> bool:
        return self.kind == "eks-hybrid-nodes"

    @property
    def hybrid_networks(self) -> tuple[NamedNetwork, ...]:
        """A hybrid target's node and pod networks, named after it (none for kind kubernetes)."""
        if self.hybrid is None:
            return ()
        return hybrid_networks(self.name, self.hybrid.node_cidrs, self.hybrid.pod_cidrs)

    @field_validator("weights_path")
    @classmethod
    def _plain_weights_path(cls, value: str) -> str:
        # Model servers mount it as a hostPath, and the pack allows hostPaths below it: no `..`, no `/`.
        if posixpath.normpath(value) != value or value.startswith("//") or value == "/":
            raise ValueError(f"must be a normalised directory below / (got {value!r}, e.g. /mnt/models)")
        return value


# --- models --------------------------------------------------------------------------------------


class TokenLimits(_Strict):
    max_input_tokens: int = Field(default=4096, ge=1)
    max_total_tokens: int = Field(default=8192, ge=2)
    max_batch_prefill_tokens: int = Field(default=8192, ge=1)
    max_batch_size: int = Field(default=8, ge=1, description="concurrent sequences the KV cache is sized for")


class AutoscalingConfig(_Strict):
    mode: Literal["keda", "hpa", "none"] = "keda"
    min_replicas: int = Field(default=1, ge=0)
    max_replicas: int = Field(default=1, ge=1)
    queue_size_threshold: float = Field(default=4.0, gt=0, description="queued requests per replica")
    batch_occupancy_threshold: float = Field(
        default=0.8, gt=0, le=1, description="share of max_batch_size in use that triggers scale-up"
    )
    scale_to_zero_signal: Literal["none", "gateway-requests"] = Field(
        default="none", description="a signal from outside the pods; required for min_replicas: 0"
    )
    cooldown_seconds: int = Field(
        default=600, ge=60, le=3600, description="scale-down stabilization and idle time before scaling to zero"
    )


class ModelClientConfig(_Strict):
    """Who may call a sensitive model, and from which networks of the data centre."""

    name: DnsLabel = Field(description="the calling team or application, e.g. compliance-review")
    networks: list[DnsLabel] = Field(
        min_length=1, description="its networks by name, each one of a placing target's client_networks"
    )


class ModelConfig(_Strict):
    name: DnsLabel
    source: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*$")
    revision: str = Field(pattern=r"^[0-9a-f]{40}$", description="pinned commit of the source repo")
    parameters_billion: float = Field(gt=0, le=2000)
    family: str = Field(description="architecture family from the sizing catalog (KV cache shape)")
    quantization: str = "none"
    engine: Literal["tgi", "vllm"] = "tgi"
    image: str | None = Field(default=None, description="defaults to the engine's pinned image")
    node_group: DnsLabel | None = Field(default=None, description="node group name in each listed region")
    regions: list[str] = Field(default_factory=list)
    targets: list[str] = Field(default_factory=list, description="on-prem target names")
    shards: int = Field(default=1, ge=1)
    tokens: TokenLimits = TokenLimits()
    shm_size_gib: int = Field(default=16, ge=1)
    autoscaling: AutoscalingConfig = AutoscalingConfig()
    sensitive: bool = Field(
        default=False,
        description="sensitive models, their weights and their requests stay on on-prem targets that allow them",
    )
    clients: list[ModelClientConfig] = Field(
        default_factory=list,
        description="a sensitive model's callers and their networks (required for sensitive models; none else)",
    )
    archived_revisions: list[Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{40}$")]] = Field(
        default_factory=list, description="commits of the source repo whose weights move to the cold tier"
    )

    @field_validator("quantization")
    @classmethod
    def _known_quantization(cls, value: str) -> str:
        if value not in sizing.QUANTIZATIONS:
            raise ValueError(f"must be one of: {', '.join(sizing.QUANTIZATIONS)}")
        return value


# --- gateway, budget, policy ---------------------------------------------------------------------


class TenantConfig(_Strict):
    name: DnsLabel
    models: list[str] = Field(min_length=1)
    rate_limit_rps: float = Field(default=10, gt=0)
    burst: int = Field(default=20, gt=0)
    monthly_quota: int = Field(default=1_000_000, gt=0)
    region_shares: dict[str, Annotated[float, Field(gt=0, le=100)]] | None = Field(
        default=None,
        description="percent of rate, burst and quota per region holding the tenant's usage plan; default even",
    )

    @property
    def limits(self) -> tenant_limits.TenantLimits:
        return tenant_limits.TenantLimits(self.rate_limit_rps, self.burst, self.monthly_quota)


API_GATEWAY_MAX_PAYLOAD_KIB = 10 * 1024
_DOMAIN_NAME = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


class GatewayConfig(_Strict):
    tenants: list[TenantConfig] = Field(default_factory=list)
    max_body_kib: int = Field(default=256, gt=0)
    waf_rate_limit_per_5min: int = Field(
        default=2000, ge=10, le=2_000_000_000, description="requests per client IP per 5 minutes (WAF's bounds)"
    )
    waf_rules_to_count: list[str] = Field(
        default_factory=lambda: list(waf_rules.COMMON_RULES_TO_COUNT),
        description="rules of the AWS Common rule set that only count, e.g. CrossSiteScripting_BODY for code prompts",
    )
    hosted_zone_id: Annotated[str, StringConstraints(pattern=r"^Z[A-Z0-9]{1,31}$")] | None = Field(
        default=None, description="Route 53 public hosted zone id, e.g. Z0123456789ABCDEFGHIJ"
    )
    domain_name: str | None = None
    account_throttle_rps: int | None = Field(
        default=None,
        gt=0,
        description=f"API Gateway's account throttle per region if raised (Service Quotas "
        f"{tenant_limits.ACCOUNT_THROTTLE_QUOTA_CODE}); default AWS's",
    )

    @field_validator("domain_name")
    @classmethod
    def _dns_name(cls, value: str | None) -> str | None:
        if value is not None and not _DOMAIN_NAME.fullmatch(value):
            raise ValueError("must be a lowercase DNS name such as llm.example.com")
        return value

    @field_validator("max_body_kib")
    @classmethod
    def _within_payload_limit(cls, value: int) -> int:
        if value > API_GATEWAY_MAX_PAYLOAD_KIB:
            raise ValueError(f"must be <= {API_GATEWAY_MAX_PAYLOAD_KIB} (API Gateway's 10 MB payload limit)")
        return value


DEFAULT_ANOMALY_ALERT_USD = 100.0


class BudgetConfig(_Strict):
    monthly_usd: float = Field(gt=0)
    alert_thresholds_percent: list[Annotated[int, Field(gt=0, le=1000)]] = Field(
        default_factory=lambda: [50, 80, 100], min_length=1
    )

    @field_validator("alert_thresholds_percent")
    @classmethod
    def _distinct(cls, value: list[int]) -> list[int]:
        if len(set(value)) != len(value):
            raise ValueError("each threshold once")
        return value

    recipients: list[Annotated[str, StringConstraints(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]] = Field(min_length=1)
    anomaly_alert_usd: float | None = Field(
        default=None,
        gt=0,
        description="Cost Anomaly Detection alerts the recipients once an anomaly's impact reaches this many "
        "dollars; at most 10 % of monthly_usd (default: $100, or 10 % of a smaller budget)",
    )

    @field_validator("anomaly_alert_usd")
    @classmethod
    def _anomaly_alert_within_budget(cls, value: float | None, info: ValidationInfo) -> float | None:
        monthly = info.data.get("monthly_usd")
        if value is not None and monthly is not None and value > ANOMALY_THRESHOLD_MAX_SHARE * monthly:
            raise ValueError(
                f"must be at most {ANOMALY_THRESHOLD_MAX_SHARE:.0%} of monthly_usd "
                f"(${ANOMALY_THRESHOLD_MAX_SHARE * monthly:,.0f}; got {value:g}): an anomaly must be reported before "
                "it has spent a tenth of the budget"
            )
        return value

    @property
    def anomaly_threshold_usd(self) -> float:
        """The anomaly alert threshold: the stack file's, else $100 capped at a tenth of the budget."""
        if self.anomaly_alert_usd is not None:
            return self.anomaly_alert_usd
        return min(DEFAULT_ANOMALY_ALERT_USD, round(ANOMALY_THRESHOLD_MAX_SHARE * self.monthly_usd, 2))


class ModelTrafficConfig(_Strict):
    """One model's expected traffic: what the usage estimate is computed from."""

    requests_per_month: int = Field(ge=0, description="requests a month over all its regions (split evenly)")
    mean_input_tokens: int = Field(ge=1, description="prompt tokens of a mean request")
    mean_output_tokens: int = Field(ge=1, description="generated tokens of a mean response")
    cold_starts_per_month: int = Field(
        default=30,
        ge=0,
        le=100_000,
        description="replicas started on a node without the weights (scale-ups, node replacements); each pulls "
        "the revision from S3",
    )


class TrafficConfig(_Strict):
    """The stated traffic assumption behind the usage estimate (shown apart from the fixed monthly
    figure, never in the budget checks). Per model: each model's $ per 1M tokens needs its own volume,
    and each sits behind different regions' gateways."""

    response_bytes_per_output_token: int = Field(
        default=250,
        ge=1,
        le=10_000,
        description="bytes API Gateway sends back per generated token: ~250 streamed (one SSE chunk of JSON a "
        "token), ~4-6 buffered (the text)",
    )
    models: dict[str, ModelTrafficConfig] = Field(min_length=1, description="model name -> its traffic")


class DataResidencyRule(_Strict):
    """Models and tenants whose weights, requests and keys stay in the listed AWS regions."""

    name: DnsLabel
    regions: list[str] = Field(min_length=1)
    models: list[str] = Field(default_factory=list)
    tenants: list[str] = Field(default_factory=list)


class PolicySettings(_Strict):
    """Per-environment guardrail settings, handed to the policy pack as its config."""

    allowed_regions: list[str] = Field(min_length=1)
    allowed_gpu_types: list[str] = Field(min_length=1)
    allowed_kubernetes_versions: list[Annotated[str, StringConstraints(pattern=r"^1\.\d{2}$")]] = Field(
        # Versions in EKS standard support (1.34 until 2026-12-02, 1.35 until 2027-03-27).
        default_factory=lambda: ["1.34", "1.35"],
        min_length=1,
    )
    allowed_registries: list[str] = Field(
        default_factory=lambda: [
            "ghcr.io/huggingface",
            "ghcr.io/kedacore",  # KEDA publishes its images only there
            "docker.io/vllm",
            "public.ecr.aws",
            "quay.io/prometheus",
            "nvcr.io/nvidia",
            "registry.k8s.io",
        ]
    )
    root_node_agents: list[Annotated[str, StringConstraints(pattern=r"^[a-z0-9-]+/[a-z0-9.-]+$")]] = Field(
        # The platform's own node agents: the device plugin creates its socket in the root-owned
        # kubelet directory, the DCGM exporter reads the root-only pod-resources socket.
        default_factory=lambda: ["kube-system/nvidia-device-plugin", "gpu-metrics/dcgm-exporter"],
        description="namespace/name of DaemonSets allowed to run as root with a writable root filesystem",
    )
    log_retention_min_days: int = Field(default=30, ge=1)
    data_residency: list[DataResidencyRule] = Field(
        default_factory=list, description="models or tenants restricted to some regions, e.g. EU only"
    )
    cost_ceiling_enforcement: Literal["advisory", "mandatory"] | None = Field(
        default=None,
        description="whether the cost at max node group sizes must fit the budget; defaults to mandatory in prod",
    )
    min_replicas_per_model: int | None = Field(
        default=None, ge=0, description="replicas every model keeps per region; defaults to 1 in prod, 0 elsewhere"
    )

    def resolved_cost_ceiling_enforcement(self, environment: str) -> str:
        if self.cost_ceiling_enforcement is not None:
            return self.cost_ceiling_enforcement
        return "mandatory" if environment == "prod" else "advisory"

    def resolved_min_replicas(self, environment: str) -> int:
        if self.min_replicas_per_model is not None:
            return self.min_replicas_per_model
        return 1 if environment == "prod" else 0


# --- deploying ------------------------------------------------------------------------------------

DEPLOY_PHASES = ("foundation", "all")
"""`llm-serving:deploy_phase`: `foundation` declares only the AWS resources the Kubernetes half needs
first (stacks/platform.py says where the cut is); `all` is the whole program."""
_IAM_ROLE_ARN = re.compile(r"^arn:(?P<partition>aws[a-z-]*):iam::(?P<account>\d{12}):role/[\w+=,.@/-]{1,512}$")


class DeployConfig(_Strict):
    """How `pulumi up` reaches the private EKS endpoints: a CodeBuild project in the primary region's VPC,
    registered as a GitHub Actions runner of the repository; the workflow job assumes `deploy_role_arn`
    itself (GitHub OIDC), which every cluster grants admin access."""

    github_repository: str = Field(
        description="https://github.com/<owner>/<repo>: whose workflow jobs the runner takes"
    )
    connection_arn: str = Field(
        description="the AWS CodeConnections connection to GitHub, created and approved in the console, in the "
        "primary region"
    )
    deploy_role_arn: str = Field(
        description="the IAM role the workflow assumes with GitHub OIDC (made outside the stack); every cluster "
        "gives it an admin access entry"
    )
    runner_compute_type: str = Field(
        default=codebuild.DEFAULT_COMPUTE_TYPE, description="the runner's CodeBuild compute type (LINUX_CONTAINER)"
    )

    @field_validator("github_repository")
    @classmethod
    def _repository(cls, value: str) -> str:
        if not codebuild.GITHUB_REPOSITORY.fullmatch(value):
            raise ValueError(
                f"must be a GitHub repository URL such as https://github.com/example-org/llm-serving (got {value!r})"
            )
        return value

    @field_validator("connection_arn")
    @classmethod
    def _connection(cls, value: str) -> str:
        if not codebuild.CONNECTION_ARN.fullmatch(value):
            raise ValueError(
                "must be a connection ARN, arn:aws:codeconnections:<region>:<account>:connection/<uuid> "
                f"(or codestar-connections) (got {value!r})"
            )
        return value

    @field_validator("deploy_role_arn")
    @classmethod
    def _role(cls, value: str) -> str:
        if not _IAM_ROLE_ARN.fullmatch(value):
            raise ValueError(f"must be an IAM role ARN, arn:aws:iam::<account>:role/<name> (got {value!r})")
        return value

    @field_validator("runner_compute_type")
    @classmethod
    def _compute_type(cls, value: str) -> str:
        if value not in codebuild.COMPUTE_TYPES:
            raise ValueError(f"must be one of: {', '.join(codebuild.COMPUTE_TYPES)} (got {value!r})")
        return value

    @property
    def connection_region(self) -> str:
        return self.connection_arn.split(":")[3]

    @property
    def connection_account(self) -> str:
        return self.connection_arn.split(":")[4]

    @property
    def role_account(self) -> str:
        return self.deploy_role_arn.split(":")[4]


class PlatformConfig(_Strict):
    """Everything under `llm-serving:` in a stack file."""

    environment: Environment
    regions: list[RegionConfig] = Field(min_length=1)
    onprem_targets: list[OnPremTargetConfig] = Field(default_factory=list)
    datacentre: DataCentreConfig | None = Field(
        default=None, description="a private path (Transit Gateway + Site-to-Site VPN) from every region to it"
    )
    models: list[ModelConfig] = Field(default_factory=list)
    gateway: GatewayConfig = GatewayConfig()
    budget: BudgetConfig
    policy: PolicySettings
    protect_stateful: bool | None = Field(default=None, description="defaults to true in prod")
    aws_account_id: str | None = Field(
        default=None, pattern=r"^\d{12}$", description="the providers refuse to touch any other account"
    )
    log_retention_days: LogRetentionDays = Field(default=365, description="flow, control-plane and access logs")
    deploy_phase: Literal["foundation", "all"] = Field(
        default="all",
        description="foundation: the AWS resources only (first run, from outside the VPC); all: the whole program",
    )
    deploy: DeployConfig | None = Field(
        default=None, description="the deploy runner in the VPC; required in prod (private cluster endpoints)"
    )

    @property
    def declares_workloads(self) -> bool:
        """Whether this run declares the Kubernetes half (deploy_phase all)."""
        return self.deploy_phase == "all"

    def admin_roles(self, region: RegionConfig) -> tuple[str, ...]:
        """A region's cluster admins: its listed roles, then the deploy role (phase 2 applies as it)."""
        deploy = [self.deploy.deploy_role_arn] if self.deploy is not None else []
        return tuple(dict.fromkeys([*region.cluster.admin_role_arns, *deploy]))

    traffic: TrafficConfig | None = Field(
        default=None, description="expected requests and tokens per model: the usage estimate and $ per 1M tokens"
    )

    @property
    def primary_region(self) -> RegionConfig:
        return next(region for region in self.regions if region.primary)

    @property
    def secondary_regions(self) -> list[RegionConfig]:
        return [region for region in self.regions if not region.primary]

    @property
    def protect(self) -> bool:
        return self.environment == "prod" if self.protect_stateful is None else self.protect_stateful

    @property
    def cluster_name(self) -> str:
        """Every region's EKS cluster has this name (one cluster per region and environment)."""
        return f"{NAMESPACE}-{self.environment}"

    def nat_mode(self, region: RegionConfig) -> str:
        if region.nat_gateways:
            return region.nat_gateways
        return "per-az" if self.environment == "prod" else "one"

    def transit_gateway_asn(self, region: str) -> int:
        """The Amazon-side ASN of the region's gateway (Transit or VPN): one private ASN per region, in order."""
        return FIRST_TRANSIT_GATEWAY_ASN + [r.name for r in self.regions].index(region)

    def models_in_region(self, region: str) -> list[ModelConfig]:
        return [model for model in self.models if region in model.regions]

    def models_on_target(self, target: str) -> list[ModelConfig]:
        return [model for model in self.models if target in model.targets]

    @property
    def kubernetes_targets(self) -> list[OnPremTargetConfig]:
        """On-prem targets that are clusters of their own (kind kubernetes)."""
        return [target for target in self.onprem_targets if not target.is_hybrid]

    def datacentre_network(self, name: str) -> NamedNetwork:
        """A network of `datacentre.networks` by its name (config checks every name a target uses)."""
        assert self.datacentre is not None
        found = next(n for n in self.datacentre.networks if n.name == name)
        return NamedNetwork(found.name, found.cidr)

    @property
    def named_networks(self) -> tuple[NamedNetwork, ...]:
        """Every data centre network a rule may admit: datacentre.networks, then hybrid targets' networks."""
        listed = self.datacentre.networks if self.datacentre else []
        return (
            *(NamedNetwork(n.name, n.cidr) for n in listed),
            *(network for target in self.onprem_targets for network in target.hybrid_networks),
        )

    def endpoint_clients(self) -> tuple[NamedNetwork, ...]:
        """What the primary region's interface endpoints admit: the nodes of kind kubernetes targets
        (their pods leave with the node's address) and the pods on its hybrid nodes (routable)."""
        nodes = [name for target in self.kubernetes_targets for name in target.node_networks]
        pods = [
            network
            for target in self.hybrid_targets_in(self.primary_region.name)
            if target.hybrid is not None
            for network in hybrid_pod_networks(target.name, target.hybrid.pod_cidrs)
        ]
        return (*(self.datacentre_network(name) for name in dict.fromkeys(nodes)), *pods)

    def hybrid_targets_in(self, region: str) -> list[OnPremTargetConfig]:
        """eks-hybrid-nodes targets whose machines join `region`'s cluster."""
        return [t for t in self.onprem_targets if t.hybrid is not None and t.hybrid.region == region]

    def models_on_hybrid_nodes(self, region: str) -> list[ModelConfig]:
        """Models `region`'s cluster runs on hybrid nodes (config keeps each off the region's own GPUs)."""
        names = {target.name for target in self.hybrid_targets_in(region)}
        return [model for model in self.models if names & set(model.targets)]

    def models_in_cluster(self, region: str) -> list[ModelConfig]:
        """Every model `region`'s cluster runs: on its node groups, then on its hybrid nodes."""
        return [*self.models_in_region(region), *self.models_on_hybrid_nodes(region)]

    def hybrid_target_of(self, model: ModelConfig, region: str) -> OnPremTargetConfig | None:
        """The hybrid-nodes target of `region` that runs `model` (config allows one per cluster)."""
        return next((t for t in self.hybrid_targets_in(region) if t.name in model.targets), None)

    def model_regions_allowed(self, model: str) -> set[str] | None:
        """The regions policy.data_residency leaves a model (None: unrestricted)."""
        return _allowed_by(self.policy.data_residency, lambda rule: model in rule.models)

    def tenant_regions_allowed(self, tenant: str) -> set[str] | None:
        """The regions policy.data_residency leaves a tenant's requests and keys (None: unrestricted)."""
        return _allowed_by(self.policy.data_residency, lambda rule: tenant in rule.tenants)

    def tenants_in_region(self, region: str) -> list[TenantConfig]:
        """The tenants whose keys and usage plans this region's gateway holds."""
        return [
            tenant
            for tenant in self.gateway.tenants
            if (allowed := self.tenant_regions_allowed(tenant.name)) is None or region in allowed
        ]

    def tenant_plan_regions(self, tenant: TenantConfig) -> list[str]:
        """Regions whose gateway holds the tenant's usage plan: allowed to it and serving one of its models."""
        return [
            region.name
            for region in self.regions
            if tenant in self.tenants_in_region(region.name)
            and {m.name for m in self.models_in_region(region.name)} & set(tenant.models)
        ]

    def tenant_shares(self, tenant: TenantConfig) -> dict[str, float]:
        """Percent of the tenant's limits per plan region: its region_shares, or an even split."""
        if tenant.region_shares is not None:
            return dict(tenant.region_shares)
        return tenant_limits.even_shares(self.tenant_plan_regions(tenant))

    def tenant_limits_in(self, tenant: TenantConfig, region: str) -> tenant_limits.TenantLimits:
        """What the tenant's usage plan in `region` enforces: its share of the global limits."""
        return tenant_limits.share_of(tenant.limits, self.tenant_shares(tenant).get(region, 0))

    def gateway_hostnames(self) -> dict[str, list[ModelHostname]]:
        """Per region the model hostnames it answers with a hosted zone (components/model_hostnames.py)."""
        if not self.gateway.domain_name:
            return {}
        serving = {model.name: list(model.regions) for model in self.models if model.regions}
        restricted = [
            RestrictedTenant(tenant.name, frozenset(allowed), tuple(tenant.models))
            for tenant in self.gateway.tenants
            if (allowed := self.tenant_regions_allowed(tenant.name)) is not None
        ]
        return hostnames_by_region(self.gateway.domain_name, serving, restricted)

    def stage_throttle(self, region: str) -> tenant_limits.StageThrottle:
        """The region's stage throttle: the sum of the usage plans it holds."""
        return tenant_limits.stage_throttle(
            self.tenant_limits_in(tenant, region)
            for tenant in self.gateway.tenants
            if region in self.tenant_plan_regions(tenant)
        )


def _allowed_by(rules: list[DataResidencyRule], applies: Any) -> set[str] | None:
    """Regions every applying rule allows (their intersection); None when no rule applies."""
    allowed: set[str] | None = None
    for rule in rules:
        if applies(rule):
            allowed = set(rule.regions) if allowed is None else allowed & set(rule.regions)
    return allowed


# --- parsing -------------------------------------------------------------------------------------


def parse_platform_config(values: Mapping[str, Any]) -> PlatformConfig:
    """Validate `llm-serving:*` values (namespace stripped). Raises ConfigError, nothing else."""
    try:
        config = PlatformConfig.model_validate(dict(values))
    except ValidationError as exc:
        raise _first_error(exc) from None
    _check_platform(config)
    return config


_PLAIN_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


def _path(loc: tuple[Any, ...]) -> str:
    """`regions[1].node_groups[0].max_nodes`; odd keys are quoted so the message stays one line."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        elif _PLAIN_KEY.match(str(part)):
            text += f".{part}" if text else str(part)
        else:
            text += f"[{json.dumps(str(part))}]"
    return text


def _first_error(exc: ValidationError) -> ConfigError:
    error = exc.errors(include_url=False)[0]
    loc = tuple(error["loc"])
    kind = error["type"]
    ctx = {k: _number(v) for k, v in (error.get("ctx") or {}).items()}
    if kind == "extra_forbidden":
        return ConfigError(_path(loc), _unknown_key_message(loc))
    messages = {
        "missing": "is required",
        "greater_than_equal": f"must be >= {ctx.get('ge')}",
        "greater_than": f"must be > {ctx.get('gt')}",
        "less_than_equal": f"must be <= {ctx.get('le')}",
        "less_than": f"must be < {ctx.get('lt')}",
        "literal_error": f"must be one of: {ctx.get('expected', '').replace(' or ', ', ')}",
        "string_pattern_mismatch": f"must match {ctx.get('pattern')}",
        "too_short": f"must have at least {ctx.get('min_length')} item(s)",
        "too_long": f"must have at most {ctx.get('max_length')} item(s)",
        "int_type": "must be an integer",
        "int_parsing": "must be an integer",
        "int_from_float": "must be an integer",
        "float_type": "must be a number",
        "float_parsing": "must be a number",
        "bool_type": "must be true or false",
        "bool_parsing": "must be true or false",
        "string_type": "must be a string",
        "list_type": "must be a list",
        "dict_type": "must be a mapping",
        "model_type": "must be a mapping",
        "model_attributes_type": "must be a mapping",
    }
    if kind == "value_error":
        message = str(ctx.get("error", error["msg"]))
    else:
        message = messages.get(kind, error["msg"][:1].lower() + error["msg"][1:])
    return ConfigError(_path(loc), message)


def _number(value: Any) -> Any:
    """1.0 reads as 1 in a message; other values unchanged."""
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _model_at(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The pydantic model that owns the last key of `loc` (to suggest a known key)."""
    model: Any = PlatformConfig
    keyed = False  # the previous part was a mapping field (traffic.models): this part is its key
    for part in loc[:-1]:
        if isinstance(part, int) or keyed:
            keyed = False
            continue
        annotation = model.model_fields[part].annotation if part in model.model_fields else None
        keyed = typing.get_origin(annotation) is dict
        model = _unwrap_model(annotation)
        if model is None:
            return None
    return model


def _unwrap_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _unwrap_model(arg)
        if found is not None:
            return found
    return None


def _unknown_key_message(loc: tuple[Any, ...]) -> str:
    model = _model_at(loc)
    known = sorted(model.model_fields) if model else []
    close = difflib.get_close_matches(str(loc[-1]), known, n=1)
    if close:
        return f"unknown key; did you mean '{close[0]}'?"
    return f"unknown key; allowed: {', '.join(known)}"


# --- cross-field checks --------------------------------------------------------------------------


def _check_platform(config: PlatformConfig) -> None:
    for check in (
        _check_regions,
        _check_node_groups,
        _check_targets,
        _check_datacentre,
        _check_named_networks,
        _check_hybrid_networks,
        _check_models,
        _check_onprem_credentials,
        _check_sensitive_models,
        _check_gateway,
        _check_residency,
        _check_tenant_limits,
        _check_autoscaling,
        _check_deploy,
        _check_traffic,
    ):
        for error in check(config):
            raise error


def _check_regions(config: PlatformConfig) -> Iterator[ConfigError]:
    primaries = [i for i, region in enumerate(config.regions) if region.primary]
    if len(primaries) != 1:
        yield ConfigError("regions", f"exactly one region must have primary: true (found {len(primaries)})")
    seen: dict[str, int] = {}
    for i, region in enumerate(config.regions):
        if region.name in seen:
            yield ConfigError(
                f"regions[{i}].name", f"duplicate region '{region.name}' (also regions[{seen[region.name]}])"
            )
        seen[region.name] = i
        if region.name not in config.policy.allowed_regions:
            yield ConfigError(
                f"regions[{i}].name",
                f"'{region.name}' is not in policy.allowed_regions ({', '.join(config.policy.allowed_regions)})",
            )
        for j, zone in enumerate(region.availability_zones):
            if not re.fullmatch(re.escape(region.name) + r"[a-z]", zone):
                yield ConfigError(f"regions[{i}].availability_zones[{j}]", f"'{zone}' is not a zone of {region.name}")
        if len(set(region.availability_zones)) != len(region.availability_zones):
            yield ConfigError(f"regions[{i}].availability_zones", "zones must be unique")
        if config.environment == "prod" and len(region.availability_zones) < 3:
            yield ConfigError(f"regions[{i}].availability_zones", "prod needs at least 3 zones")
        yield from _check_cluster(f"regions[{i}].cluster", region.cluster, config)
    networks = [(i, ipaddress.IPv4Network(region.vpc_cidr)) for i, region in enumerate(config.regions)]
    for i, network in networks:
        for j, other in networks[:i]:
            if network.overlaps(other):
                yield ConfigError(f"regions[{i}].vpc_cidr", f"{network} overlaps regions[{j}].vpc_cidr ({other})")


def _check_cluster(path: str, cluster: ClusterConfig, config: PlatformConfig) -> Iterator[ConfigError]:
    if cluster.kubernetes_version not in config.policy.allowed_kubernetes_versions:
        allowed = ", ".join(config.policy.allowed_kubernetes_versions)
        yield ConfigError(f"{path}.kubernetes_version", f"must be one of policy.allowed_kubernetes_versions: {allowed}")
    elif cluster.kubernetes_version not in eks_addons.ADDON_VERSIONS:
        yield ConfigError(
            f"{path}.kubernetes_version",
            f"no pinned EKS add-on versions for {cluster.kubernetes_version} (components/eks_addons.py); "
            f"supported: {', '.join(eks_addons.ADDON_VERSIONS)}",
        )
    if cluster.public_endpoint and not cluster.public_access_cidrs:
        yield ConfigError(f"{path}.public_access_cidrs", "required when public_endpoint is true (list of CIDRs)")
    if cluster.public_access_cidrs and not cluster.public_endpoint:
        yield ConfigError(f"{path}.public_access_cidrs", "only allowed with public_endpoint: true")
    for k, cidr in enumerate(cluster.public_access_cidrs):
        try:
            network = ipaddress.ip_network(cidr, strict=True)
        except ValueError:
            yield ConfigError(f"{path}.public_access_cidrs[{k}]", f"'{cidr}' is not a CIDR")
            continue
        if network.prefixlen == 0:
            yield ConfigError(f"{path}.public_access_cidrs[{k}]", f"{cidr} is not allowed; list your CIDRs")
    for k, arn in enumerate(cluster.admin_role_arns):
        if not re.fullmatch(r"arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+", arn):
            yield ConfigError(f"{path}.admin_role_arns[{k}]", "must be an IAM role ARN")
        elif arn in cluster.admin_role_arns[:k]:
            yield ConfigError(
                f"{path}.admin_role_arns[{k}]", "duplicate role; list each role once (one access entry each)"
            )
    if cluster.system_nodes.max_nodes < cluster.system_nodes.min_nodes:
        yield ConfigError(f"{path}.system_nodes.max_nodes", f"must be >= min_nodes ({cluster.system_nodes.min_nodes})")
    if config.environment == "prod" and cluster.system_nodes.min_nodes < 2:
        yield ConfigError(f"{path}.system_nodes.min_nodes", "prod needs >= 2 system nodes")
    yield from _check_instance_type(f"{path}.system_nodes.instance_type", cluster.system_nodes.instance_type, None)


def _check_instance_type(path: str, name: str, gpu: str | None) -> Iterator[ConfigError]:
    try:
        instance = catalog.instance_type(name)
    except catalog.UnknownCatalogEntry as exc:
        if gpu is None:
            yield ConfigError(path, str(exc.args[0]))
        else:  # only the sizes of this node group's GPU are choices here
            allowed = ", ".join(i.name for i in catalog.instance_types_for(gpu))
            yield ConfigError(path, f"unknown instance type '{name}'; allowed for gpu '{gpu}': {allowed}")
        return
    if instance.gpu != gpu and gpu is None:
        allowed = ", ".join(i.name for i in catalog.instance_types_for(None))
        yield ConfigError(path, f"'{name}' has GPUs; system nodes need a type without: {allowed}")
    elif instance.gpu != gpu:
        allowed = ", ".join(i.name for i in catalog.instance_types_for(gpu))
        yield ConfigError(path, f"'{name}' does not match gpu '{gpu}'; allowed: {allowed}")
    else:
        yield from _check_priced(path, name)


def _check_priced(path: str, name: str) -> Iterator[ConfigError]:
    """Fail closed: a type the price list cannot price would be a $0 line in the estimate."""
    try:
        catalog.on_demand_usd_per_hour(name)
    except catalog.UnpricedInstanceType as exc:
        yield ConfigError(path, str(exc.args[0]))


def _check_node_groups(config: PlatformConfig) -> Iterator[ConfigError]:
    for i, region in enumerate(config.regions):
        names: set[str] = set()
        for j, group in enumerate(region.node_groups):
            path = f"regions[{i}].node_groups[{j}]"
            if group.name in names:
                yield ConfigError(f"{path}.name", f"duplicate node group '{group.name}' in {region.name}")
            names.add(group.name)
            if group.gpu not in catalog.gpu_keys():
                yield ConfigError(f"{path}.gpu", f"unknown GPU '{group.gpu}'; allowed: {', '.join(catalog.gpu_keys())}")
                continue
            yield from _check_gpu_allowed(f"{path}.gpu", group.gpu, config)
            if group.instance_type:
                yield from _check_instance_type(f"{path}.instance_type", group.instance_type, group.gpu)
            else:  # the default, the GPU's smallest type, must be priced too
                yield from _check_priced(f"{path}.instance_type", group.resolved_instance_type)
            if group.max_nodes < group.min_nodes:
                yield ConfigError(f"{path}.max_nodes", f"must be >= min_nodes ({group.min_nodes})")
            desired = group.resolved_desired_nodes
            if not group.min_nodes <= desired <= group.max_nodes:
                yield ConfigError(
                    f"{path}.desired_nodes",
                    f"must be between min_nodes ({group.min_nodes}) and max_nodes ({group.max_nodes})",
                )
            yield from _check_capacity(path, group, region)


def _check_capacity(path: str, group: NodeGroupConfig, region: RegionConfig) -> Iterator[ConfigError]:
    zones = group.availability_zones or region.availability_zones
    for k, zone in enumerate(group.availability_zones or []):
        if zone not in region.availability_zones:
            yield ConfigError(f"{path}.availability_zones[{k}]", f"'{zone}' is not in the region's availability_zones")
    reserved = group.capacity_type in ("capacity-reservation", "capacity-block")
    if reserved and not group.capacity_reservation_id:
        yield ConfigError(f"{path}.capacity_reservation_id", f"required when capacity_type is {group.capacity_type}")
    if group.capacity_reservation_id and not reserved:
        yield ConfigError(
            f"{path}.capacity_reservation_id", "only allowed with capacity_type capacity-reservation or capacity-block"
        )
    if reserved and len(zones) != 1:
        yield ConfigError(f"{path}.availability_zones", "a capacity reservation lives in exactly one zone; list it")
    if not reserved and len(zones) < 2:
        yield ConfigError(f"{path}.availability_zones", "a GPU node group needs at least 2 zones")


def _check_targets(config: PlatformConfig) -> Iterator[ConfigError]:
    names: set[str] = {region.name for region in config.regions}
    for i, target in enumerate(config.onprem_targets):
        if target.name in names:
            yield ConfigError(f"onprem_targets[{i}].name", f"'{target.name}' is already a region or target name")
        names.add(target.name)
        if target.gpu not in catalog.gpu_keys():
            yield ConfigError(
                f"onprem_targets[{i}].gpu", f"unknown GPU '{target.gpu}'; allowed: {', '.join(catalog.gpu_keys())}"
            )
        else:
            yield from _check_gpu_allowed(f"onprem_targets[{i}].gpu", target.gpu, config)


def eks_service_cidr(vpc_cidr: str) -> ipaddress.IPv4Network:
    """The Service CIDR EKS picks when a cluster names none (the stack's clusters do not): 172.20.0.0/16
    when the VPC is inside 10.0.0.0/8, else 10.100.0.0/16 (EKS CreateCluster, serviceIpv4Cidr)."""
    inside_ten = ipaddress.IPv4Network(vpc_cidr).subnet_of(ipaddress.IPv4Network("10.0.0.0/8"))
    return ipaddress.IPv4Network("172.20.0.0/16" if inside_ten else "10.100.0.0/16")


def _check_hybrid_networks(config: PlatformConfig) -> Iterator[ConfigError]:
    """Hybrid nodes join an existing region over the private path; their node and pod networks are the
    data centre's own, routed there, and distinct from each other, the VPCs and the Service CIDR."""
    regions = {region.name: region for region in config.regions}
    datacentre = config.datacentre
    dc_networks = [ipaddress.IPv4Network(c) for c in (datacentre.cidrs if datacentre else []) if _is_network(c)]
    seen: list[tuple[str, ipaddress.IPv4Network]] = []
    for i, target in enumerate(config.onprem_targets):
        hybrid = target.hybrid
        if hybrid is None:
            continue
        path = f"onprem_targets[{i}].hybrid"
        region = regions.get(hybrid.region)
        if region is None:
            yield ConfigError(f"{path}.region", f"unknown region '{hybrid.region}'; allowed: {', '.join(regions)}")
            continue
        if datacentre is None:
            continue  # _check_onprem_credentials names what is missing
        service = eks_service_cidr(region.vpc_cidr)
        for key, cidrs in (("node_cidrs", hybrid.node_cidrs), ("pod_cidrs", hybrid.pod_cidrs)):
            for k, cidr in enumerate(cidrs):
                at = f"{path}.{key}[{k}]"
                if not _is_network(cidr):
                    yield ConfigError(at, f"'{cidr}' is not an IPv4 network in CIDR form, e.g. 10.100.16.0/22")
                    continue
                network = ipaddress.IPv4Network(cidr)
                if not is_rfc1918(network):
                    yield ConfigError(
                        at, f"{cidr} is not inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16 (EKS's rule)"
                    )
                elif not any(network.subnet_of(dc) for dc in dc_networks):
                    yield ConfigError(
                        at,
                        f"{cidr} is not inside datacentre.cidrs ({', '.join(datacentre.cidrs)}): only those are "
                        "routed over the private path",
                    )
                elif network.overlaps(service):
                    yield ConfigError(at, f"{cidr} overlaps the {hybrid.region} cluster's Service CIDR ({service})")
                for other_at, other in seen:
                    if network.overlaps(other):
                        yield ConfigError(at, f"{cidr} overlaps {other_at} ({other})")
                seen.append((at, network))


def _is_network(cidr: str) -> bool:
    try:
        ipaddress.IPv4Network(cidr, strict=True)
    except ValueError:
        return False
    return True


def _check_datacentre(config: PlatformConfig) -> Iterator[ConfigError]:
    """The data centre's networks are distinct from every VPC, and its ASN from every Transit Gateway."""
    datacentre = config.datacentre
    if datacentre is None:
        return
    networks: list[ipaddress.IPv4Network] = []
    for k, cidr in enumerate(datacentre.cidrs):
        path = f"datacentre.cidrs[{k}]"
        try:
            network = ipaddress.IPv4Network(cidr, strict=True)
        except ValueError:
            yield ConfigError(path, f"'{cidr}' is not an IPv4 network in CIDR form, e.g. 10.100.0.0/16")
            continue
        if network.prefixlen < 8:
            yield ConfigError(path, f"'{cidr}' is broader than /8; list the data centre's own networks")
            continue
        for j, other in enumerate(networks):
            if network.overlaps(other):
                yield ConfigError(path, f"{network} overlaps datacentre.cidrs[{j}] ({other})")
        for i, region in enumerate(config.regions):
            if network.overlaps(ipaddress.IPv4Network(region.vpc_cidr)):
                yield ConfigError(
                    path, f"{network} overlaps regions[{i}].vpc_cidr ({region.vpc_cidr}): routes would collide"
                )
        networks.append(network)
    yield from _check_datacentre_asns(config, datacentre)


def _check_datacentre_asns(config: PlatformConfig, datacentre: DataCentreConfig) -> Iterator[ConfigError]:
    """Each BGP session needs two different ASNs, and AWS reserves some for itself."""
    gateway_kind = "Transit Gateway" if datacentre.gateway == "transit-gateway" else "VPN gateway"
    if datacentre.vpn is not None:
        asn = datacentre.vpn.bgp_asn
        for region in config.regions:
            reserved = {RESERVED_CUSTOMER_GATEWAY_ASNS["*"], RESERVED_CUSTOMER_GATEWAY_ASNS.get(region.name)}
            if asn in reserved:
                yield ConfigError("datacentre.vpn.bgp_asn", f"{asn} is reserved by AWS in {region.name}")
            elif asn == config.transit_gateway_asn(region.name):
                yield ConfigError(
                    "datacentre.vpn.bgp_asn",
                    f"{asn} is {region.name}'s {gateway_kind} ASN; the two ends need their own",
                )
    direct = datacentre.direct_connect
    if direct is not None:
        if direct.bgp_asn == direct.amazon_side_asn:
            yield ConfigError(
                "datacentre.direct_connect.bgp_asn", f"{direct.bgp_asn} is the Direct Connect gateway's ASN too"
            )
        for region in config.regions:
            if direct.amazon_side_asn == config.transit_gateway_asn(region.name):
                yield ConfigError(
                    "datacentre.direct_connect.amazon_side_asn",
                    f"{direct.amazon_side_asn} is {region.name}'s {gateway_kind} ASN "
                    f"({FIRST_TRANSIT_GATEWAY_ASN} onwards, one per region); choose another",
                )


def _check_onprem_credentials(config: PlatformConfig) -> Iterator[ConfigError]:
    """On-prem targets that use Roles Anywhere (weights, metrics) name how; the data centre names its CA."""
    for i, target in enumerate(config.onprem_targets):
        if target.is_hybrid:
            # Their pods use EKS Pod Identity and the region's collector, as on the region's own nodes;
            # the machines themselves take Roles Anywhere credentials over the private path.
            if config.datacentre is None or config.datacentre.ca_certificate is None:
                yield ConfigError(
                    f"onprem_targets[{i}].kind",
                    "eks-hybrid-nodes needs datacentre (the private path to the cluster) with ca_certificate (the "
                    "nodes' IAM Roles Anywhere trust anchor)",
                )
            continue
        yield from _check_weights_credentials(config, i, target)
        yield from _check_metrics_credentials(config, i, target)


def _check_weights_credentials(config: PlatformConfig, i: int, target: OnPremTargetConfig) -> Iterator[ConfigError]:
    """Reading the weights bucket with Roles Anywhere takes its settings and the data centre's CA."""
    reads_bucket = any(not model.sensitive for model in config.models_on_target(target.name))
    if target.weights_access != "roles-anywhere" or not reads_bucket:
        return
    if target.roles_anywhere is None:
        yield ConfigError(
            f"onprem_targets[{i}].roles_anywhere",
            "required with weights_access roles-anywhere (certificate_secret, helper_image); or set "
            "weights_access: static-keys",
        )
    if config.datacentre is None or config.datacentre.ca_certificate is None:
        yield ConfigError(
            f"onprem_targets[{i}].weights_access",
            "roles-anywhere needs datacentre.ca_certificate (the trust anchor's CA)",
        )


def _check_metrics_credentials(config: PlatformConfig, i: int, target: OnPremTargetConfig) -> Iterator[ConfigError]:
    """Remote-writing a target's metrics takes the private path and a Roles Anywhere certificate."""
    if not target.metrics_remote_write or not config.models_on_target(target.name):
        return
    datacentre = config.datacentre
    if datacentre is None or datacentre.ca_certificate is None or target.roles_anywhere is None:
        yield ConfigError(
            f"onprem_targets[{i}].metrics_remote_write",
            f"needs datacentre (the private path) with ca_certificate and onprem_targets[{i}].roles_anywhere "
            "(the collector's credentials); or set metrics_remote_write: false",
        )


def _check_named_networks(config: PlatformConfig) -> Iterator[ConfigError]:
    """datacentre.networks are distinct, named parts of the data centre (never a range of it), and
    every name a target lists is one of them."""
    datacentre = config.datacentre
    listed = datacentre.networks if datacentre else []
    dc_networks = [ipaddress.IPv4Network(c) for c in (datacentre.cidrs if datacentre else []) if _is_network(c)]
    hybrid = [network for target in config.onprem_targets for network in target.hybrid_networks]
    hybrid_names = {network.name for network in hybrid}
    seen: dict[str, int] = {}
    parsed: list[tuple[int, ipaddress.IPv4Network]] = []
    for k, entry in enumerate(listed):
        path = f"datacentre.networks[{k}]"
        if entry.name in seen:
            yield ConfigError(
                f"{path}.name", f"duplicate network name '{entry.name}' (also datacentre.networks[{seen[entry.name]}])"
            )
        elif entry.name in hybrid_names:
            yield ConfigError(f"{path}.name", f"'{entry.name}' is a hybrid target's network name; choose another")
        seen[entry.name] = k
        if not _is_network(entry.cidr):
            yield ConfigError(f"{path}.cidr", f"'{entry.cidr}' is not an IPv4 network in CIDR form, e.g. 10.100.8.0/24")
            continue
        network = ipaddress.IPv4Network(entry.cidr)
        if network.prefixlen < MIN_NAMED_PREFIX:
            yield ConfigError(
                f"{path}.cidr",
                f"{network} is broader than /{MIN_NAMED_PREFIX}; name the network that connects, not a range of the "
                "data centre",
            )
        elif datacentre is not None and not any(network.subnet_of(dc) for dc in dc_networks):
            yield ConfigError(
                f"{path}.cidr", f"{network} is not inside datacentre.cidrs ({', '.join(datacentre.cidrs)})"
            )
        for j, other in parsed:
            if network.overlaps(other):
                yield ConfigError(f"{path}.cidr", f"{network} overlaps datacentre.networks[{j}] ({other})")
        for remote in hybrid:
            if _is_network(remote.cidr) and network.overlaps(ipaddress.IPv4Network(remote.cidr)):
                yield ConfigError(f"{path}.cidr", f"{network} overlaps hybrid network {remote.label}")
        parsed.append((k, network))
    for i, target in enumerate(config.onprem_targets):
        for key in ("client_networks", "node_networks"):
            yield from _check_network_names(f"onprem_targets[{i}].{key}", getattr(target, key), list(seen))
        if not target.is_hybrid and not target.node_networks and _uses_endpoints(config, target):
            yield ConfigError(
                f"onprem_targets[{i}].node_networks",
                "required: the datacentre.networks its nodes reach the primary region's interface endpoints from "
                "(Roles Anywhere weights or metrics_remote_write)",
            )


def _check_network_names(path: str, names: list[str], known: list[str]) -> Iterator[ConfigError]:
    for k, name in enumerate(names):
        if name in names[:k]:
            yield ConfigError(f"{path}[{k}]", f"duplicate network '{name}'")
        elif name not in known:
            allowed = ", ".join(known) or "none defined (add datacentre.networks)"
            yield ConfigError(f"{path}[{k}]", f"unknown network '{name}'; allowed: {allowed}")


def _uses_endpoints(config: PlatformConfig, target: OnPremTargetConfig) -> bool:
    """Whether a kind kubernetes target calls the primary region's interface endpoints."""
    if config.datacentre is None or not config.models_on_target(target.name):
        return False
    reads_bucket = any(not model.sensitive for model in config.models_on_target(target.name))
    return (target.weights_access == "roles-anywhere" and reads_bucket) or target.metrics_remote_write


def _check_gpu_allowed(path: str, gpu: str, config: PlatformConfig) -> Iterator[ConfigError]:
    if gpu not in config.policy.allowed_gpu_types:
        allowed = ", ".join(config.policy.allowed_gpu_types)
        yield ConfigError(path, f"'{gpu}' is not in policy.allowed_gpu_types ({allowed})")


def _check_models(config: PlatformConfig) -> Iterator[ConfigError]:
    regions = {region.name: region for region in config.regions}
    targets = {target.name: target for target in config.onprem_targets}
    names: set[str] = set()
    for i, model in enumerate(config.models):
        path = f"models[{i}]"
        if model.name in names:
            yield ConfigError(f"{path}.name", f"duplicate model '{model.name}'")
        names.add(model.name)
        if not model.regions and not model.targets:
            yield ConfigError(f"{path}.regions", "list at least one region or on-prem target (targets)")
        if model.regions and not model.node_group:
            yield ConfigError(f"{path}.node_group", "required when the model runs in regions")
        placements: list[tuple[str, str, int]] = []  # (key path, gpu, gpus per node)
        for k, name in enumerate(model.regions):
            region = regions.get(name)
            if region is None:
                yield ConfigError(f"{path}.regions[{k}]", f"unknown region '{name}'; allowed: {', '.join(regions)}")
                continue
            group = next((g for g in region.node_groups if g.name == model.node_group), None)
            if group is None:
                allowed = ", ".join(g.name for g in region.node_groups) or "none defined"
                yield ConfigError(
                    f"{path}.node_group", f"no node group '{model.node_group}' in {name}; allowed: {allowed}"
                )
                continue
            gpus = catalog.instance_type(group.resolved_instance_type).gpu_count
            placements.append((f"{path}.node_group", group.gpu, gpus))
        for k, name in enumerate(model.targets):
            target = targets.get(name)
            if target is None:
                yield ConfigError(
                    f"{path}.targets[{k}]",
                    f"unknown on-prem target '{name}'; allowed: {', '.join(targets) or 'none defined'}",
                )
                continue
            if model.sensitive and not target.allow_sensitive_models:
                yield ConfigError(
                    f"{path}.targets[{k}]", f"'{name}' does not allow sensitive models (allow_sensitive_models)"
                )
            elif model.sensitive and target.sensitive_weights is None:
                yield ConfigError(
                    f"{path}.targets[{k}]",
                    f"'{name}' names no object store for sensitive weights (onprem_targets[].sensitive_weights): "
                    "they never enter an AWS bucket",
                )
            if target.hybrid is not None:
                yield from _check_hybrid_placement(f"{path}.targets[{k}]", model, target, config)
            placements.append((f"{path}.targets[{k}]", target.gpu, target.gpus_per_node))
        yield from _check_model_fit(path, model, placements)
        yield from _check_model_tokens(path, model)
        yield from _check_model_autoscaling(path, model, config)


def _check_hybrid_placement(
    path: str, model: ModelConfig, target: OnPremTargetConfig, config: PlatformConfig
) -> Iterator[ConfigError]:
    """One Deployment per model per cluster: a model runs on a cluster's node groups or on one of its
    hybrid-nodes targets, not both; and a region that policy.data_residency rules out stays ruled out."""
    assert target.hybrid is not None
    region = target.hybrid.region
    if region in model.regions:
        yield ConfigError(
            path,
            f"'{target.name}' joins {region}'s cluster, where '{model.name}' already runs on node group "
            f"'{model.node_group}'; one cluster serves a model from one place: drop {region} or '{target.name}'",
        )
    if not engines.engine(model.engine).separate_metrics_port:
        # The region's metrics agent reaches hybrid pods by subnet (their CNI cannot tell its pods by label).
        yield ConfigError(
            path,
            f"{model.engine} serves /metrics on its API port, which the region's metrics agent could only scrape "
            f"on '{target.name}' by admitting the VPC's subnets to the model's API; use an engine with a "
            "separate metrics port (tgi) or a kind kubernetes target",
        )
    others = [t.name for t in config.hybrid_targets_in(region) if t.name != target.name and t.name in model.targets]
    if others:
        yield ConfigError(path, f"'{target.name}' and '{others[0]}' both join {region}'s cluster; list one of them")
    allowed = config.model_regions_allowed(model.name)
    if allowed is not None and region not in allowed:
        yield ConfigError(
            path,
            f"'{target.name}' joins {region}'s cluster, outside the regions policy.data_residency allows "
            f"'{model.name}' ({', '.join(sorted(allowed)) or 'none'})",
        )


def _check_model_tokens(path: str, model: ModelConfig) -> Iterator[ConfigError]:
    tokens = model.tokens
    if tokens.max_total_tokens <= tokens.max_input_tokens:
        yield ConfigError(f"{path}.tokens.max_total_tokens", f"must be > max_input_tokens ({tokens.max_input_tokens})")
    if tokens.max_batch_prefill_tokens < tokens.max_input_tokens:
        yield ConfigError(
            f"{path}.tokens.max_batch_prefill_tokens", f"must be >= max_input_tokens ({tokens.max_input_tokens})"
        )


def _check_model_fit(path: str, model: ModelConfig, placements: list[tuple[str, str, int]]) -> Iterator[ConfigError]:
    if model.quantization not in engines.quantizations(model.engine):
        allowed = ", ".join(engines.quantizations(model.engine))
        yield ConfigError(
            f"{path}.quantization", f"{model.engine} cannot serve '{model.quantization}'; allowed: {allowed}"
        )
        return
    if model.shards not in (1, 2, 4, 8):
        yield ConfigError(f"{path}.shards", "must be one of: 1, 2, 4, 8")
        return
    try:
        architecture = sizing.architecture(model.family)
    except KeyError as exc:
        yield ConfigError(f"{path}.family", str(exc.args[0]))
        return
    for key, gpu, gpus_per_node in placements:
        if model.shards > gpus_per_node:
            yield ConfigError(
                f"{path}.shards", f"{model.shards} shards exceed the {gpus_per_node} GPU(s) of one node ({key})"
            )
            continue
        try:
            result = sizing.size(sizing_request(model, gpu, architecture))
        except sizing.SizingError as exc:
            yield ConfigError(f"{path}.quantization", f"{exc} ({key})")
            continue
        if not result.fits:
            yield ConfigError(path, f"does not fit: {result.reason}")


def sizing_request(model: ModelConfig, gpu: str, architecture: Any = None) -> Any:
    """The sizing question for a model on a GPU type; shared by config, components and policies."""
    return sizing.SizingRequest(
        parameters_billion=model.parameters_billion,
        quantization=model.quantization,
        architecture=architecture or sizing.architecture(model.family),
        max_total_tokens=model.tokens.max_total_tokens,
        max_batch_size=model.tokens.max_batch_size,
        gpu=gpu,
        shards=model.shards,
    )


def _check_model_autoscaling(path: str, model: ModelConfig, config: PlatformConfig) -> Iterator[ConfigError]:
    scaling = model.autoscaling
    if scaling.max_replicas < scaling.min_replicas:
        yield ConfigError(f"{path}.autoscaling.max_replicas", f"must be >= min_replicas ({scaling.min_replicas})")
    if scaling.min_replicas == 0 and scaling.scale_to_zero_signal == "none":
        yield ConfigError(
            f"{path}.autoscaling.min_replicas",
            "0 needs scale_to_zero_signal (gateway-requests): nothing inside a stopped pod can wake it",
        )
    if scaling.min_replicas == 0 and scaling.mode != "keda":
        yield ConfigError(f"{path}.autoscaling.min_replicas", "0 is only possible with mode: keda")
    elif scaling.min_replicas == 0 and model.targets:
        yield ConfigError(
            f"{path}.autoscaling.min_replicas",
            "0 would leave the model stopped on its on-prem targets, which have no scaler; use >= 1",
        )
    floor = config.policy.resolved_min_replicas(config.environment)
    if scaling.min_replicas < floor:
        yield ConfigError(
            f"{path}.autoscaling.min_replicas",
            f"{config.environment} keeps >= {floor} replica per model per region (policy.min_replicas_per_model)"
            if config.policy.min_replicas_per_model is not None
            else f"{config.environment} keeps >= {floor} replica per model per region",
        )


def _check_sensitive_models(config: PlatformConfig) -> Iterator[ConfigError]:
    """Sensitive models stay in the data centre: no region, no gateway route, explicit callers."""
    targets = {target.name: target for target in config.onprem_targets}
    for i, model in enumerate(config.models):
        path = f"models[{i}]"
        if model.sensitive and model.regions:
            yield ConfigError(
                f"{path}.regions",
                f"'{model.name}' is sensitive: it runs only on on-prem targets that allow sensitive models "
                "(allow_sensitive_models), never in an AWS region; remove regions",
            )
        if model.sensitive and not model.clients:
            yield ConfigError(
                f"{path}.clients", f"'{model.name}' is sensitive: list who may call it and from which networks"
            )
        if model.clients and not model.sensitive:
            yield ConfigError(
                f"{path}.clients",
                "only sensitive models list their callers; others are reached through the gateway's tenants "
                "or the target's client_networks",
            )
        admitted = list(
            dict.fromkeys(
                network for name in model.targets if name in targets for network in targets[name].client_networks
            )
        )
        for j, client in enumerate(model.clients):
            for k, network in enumerate(client.networks):
                if network in client.networks[:k]:
                    yield ConfigError(f"{path}.clients[{j}].networks[{k}]", f"duplicate network '{network}'")
                elif network not in admitted:
                    yield ConfigError(
                        f"{path}.clients[{j}].networks[{k}]",
                        f"'{network}' is not one of the client_networks of the model's targets "
                        f"({', '.join(admitted) or 'none'})",
                    )
        # The pack finds a sensitive model's resources by its name: no other model's name may contain it.
        for other in config.models:
            if model.sensitive and other.name != model.name and name_as_word(model.name).search(other.name):
                yield ConfigError(
                    f"{path}.name",
                    f"sensitive model '{model.name}' is part of model '{other.name}''s name; the policy pack "
                    "finds a sensitive model's resources by its name, so rename one of them",
                )


def _check_gateway(config: PlatformConfig) -> Iterator[ConfigError]:
    models = [model.name for model in config.models]
    # Only models that run in a region sit behind a regional API Gateway.
    regional = [model.name for model in config.models if model.regions]
    sensitive = {model.name for model in config.models if model.sensitive}
    gateway = config.gateway
    names: set[str] = set()
    for i, tenant in enumerate(gateway.tenants):
        if tenant.name in names:
            yield ConfigError(f"gateway.tenants[{i}].name", f"duplicate tenant '{tenant.name}'")
        names.add(tenant.name)
        for k, model in enumerate(tenant.models):
            if model not in models:
                yield ConfigError(
                    f"gateway.tenants[{i}].models[{k}]",
                    f"unknown model '{model}'; allowed: {', '.join(regional) or 'none defined'}",
                )
            elif model in sensitive:
                yield ConfigError(
                    f"gateway.tenants[{i}].models[{k}]",
                    f"'{model}' is sensitive: its requests never leave the data centre, so it has no gateway "
                    "route; list its callers under the model's clients",
                )
            elif model not in regional:
                yield ConfigError(
                    f"gateway.tenants[{i}].models[{k}]",
                    f"'{model}' runs on on-prem targets only, not behind the gateway; allowed: "
                    f"{', '.join(regional) or 'none defined'}",
                )
        if tenant.burst < tenant.rate_limit_rps:
            yield ConfigError(f"gateway.tenants[{i}].burst", f"must be >= rate_limit_rps ({tenant.rate_limit_rps:g})")
    for k, rule in enumerate(gateway.waf_rules_to_count):
        if rule not in waf_rules.COMMON_RULE_SET_RULES:
            allowed = ", ".join(waf_rules.COMMON_RULE_SET_RULES)
            yield ConfigError(
                f"gateway.waf_rules_to_count[{k}]",
                f"'{rule}' is not a rule of the AWS Common rule set; allowed: {allowed}",
            )
        elif rule in gateway.waf_rules_to_count[:k]:
            yield ConfigError(f"gateway.waf_rules_to_count[{k}]", f"duplicate rule '{rule}'")
    for rule in waf_rules.COMMON_RULES_TO_COUNT:
        if rule not in gateway.waf_rules_to_count:
            yield ConfigError(
                "gateway.waf_rules_to_count",
                f"must include {rule}: its 8 KB body cap is below an LLM prompt (the body-size rule replaces it)",
            )
    table = {tenant.name: list(tenant.models) for tenant in gateway.tenants}
    if gateway_authorizer.table_bytes(table) > gateway_authorizer.TABLE_MAX_BYTES:
        yield ConfigError(
            "gateway.tenants",
            f"{len(gateway.tenants)} tenants and their model lists exceed the authorizer's "
            f"{gateway_authorizer.TABLE_MAX_BYTES} bytes of Lambda environment; list fewer",
        )
    for region, hostnames in config.gateway_hostnames().items():
        for hostname in hostnames:
            if len(hostname.hostname) > MAX_DNS_NAME:
                yield ConfigError(
                    "gateway.domain_name",
                    f"{hostname.hostname} is longer than a DNS name may be ({MAX_DNS_NAME}); use a shorter domain",
                )
        wildcards = certificate_names(str(gateway.domain_name), hostnames)
        if len(wildcards) > ACM_NAMES_PER_CERTIFICATE:
            yield ConfigError(
                "gateway.tenants",
                f"{region}'s certificate would need {len(wildcards)} names (one per restricted tenant), above ACM's "
                f"{ACM_NAMES_PER_CERTIFICATE} per certificate",
            )
    if gateway.hosted_zone_id and not gateway.domain_name:
        yield ConfigError("gateway.domain_name", "required when hosted_zone_id is set")
    if gateway.domain_name and not gateway.hosted_zone_id:
        yield ConfigError("gateway.hosted_zone_id", "required when domain_name is set")


def from_pulumi_config() -> PlatformConfig:
    """Read every `llm-serving:*` key the Pulumi engine handed the program, then validate it.

    Structured values arrive as JSON strings. The kubeconfig of an on-prem target is stored
    `secure:`, which makes its whole key secret; we read it without the SDK's plaintext warning
    and wrap the kubeconfig back into a secret Output where it is used.
    """

    from pulumi.runtime import config as runtime_config

    values: dict[str, Any] = {}
    all_config = {**runtime_config.get_config_env(), **runtime_config.CONFIG.get()}
    for full_key, raw in all_config.items():
        namespace, _, key = full_key.partition(":")
        if namespace != NAMESPACE:
            continue
        # Objects and lists arrive as JSON; scalars as their text, which pydantic coerces
        # ("30" -> 30) without turning a quoted account id into a number.
        if isinstance(raw, str) and raw.lstrip()[:1] in ("{", "["):
            try:
                values[key] = json.loads(raw)
                continue
            except ValueError:
                pass
        values[key] = raw
    return parse_platform_config(values)


# --- autoscaling ---------------------------------------------------------------------------------


def gpu_demand(model: ModelConfig) -> int:
    """GPUs a model can claim at full scale: max replicas x GPUs per replica (its shards)."""
    return model.autoscaling.max_replicas * model.shards


def _check_residency(config: PlatformConfig) -> Iterator[ConfigError]:
    """policy.data_residency: a restricted model runs, and a restricted tenant is served, only in its regions."""
    models = {model.name: model for model in config.models}
    tenants = {tenant.name: tenant for tenant in config.gateway.tenants}
    primary = config.primary_region.name
    names: set[str] = set()
    for r, rule in enumerate(config.policy.data_residency):
        path = f"policy.data_residency[{r}]"
        if rule.name in names:
            yield ConfigError(f"{path}.name", f"duplicate rule '{rule.name}'")
        names.add(rule.name)
        if not rule.models and not rule.tenants:
            yield ConfigError(path, "list the models or tenants the rule restricts")
        for k, region in enumerate(rule.regions):
            if region not in config.policy.allowed_regions:
                allowed = ", ".join(config.policy.allowed_regions)
                yield ConfigError(f"{path}.regions[{k}]", f"'{region}' is not in policy.allowed_regions ({allowed})")
        for k, name in enumerate(rule.models):
            model = models.get(name)
            if model is None:
                yield ConfigError(f"{path}.models[{k}]", f"unknown model '{name}'; allowed: {', '.join(models)}")
            elif model.sensitive:
                yield ConfigError(f"{path}.models[{k}]", f"'{name}' is sensitive: it never enters a region at all")
            elif primary not in rule.regions:
                yield ConfigError(
                    f"{path}.models[{k}]",
                    f"'{name}''s weights are pushed to the primary region's bucket ({primary}), outside "
                    f"{', '.join(rule.regions)}; restrict it to regions that include the primary, or make one of "
                    "them primary",
                )
        for k, name in enumerate(rule.tenants):
            if name not in tenants:
                allowed = ", ".join(tenants) or "none defined"
                yield ConfigError(f"{path}.tenants[{k}]", f"unknown tenant '{name}'; allowed: {allowed}")
    for i, model in enumerate(config.models):
        allowed = config.model_regions_allowed(model.name)
        for k, region in enumerate(model.regions):
            if allowed is not None and region not in allowed:
                yield ConfigError(
                    f"models[{i}].regions[{k}]",
                    f"'{region}' is outside the regions policy.data_residency allows '{model.name}' "
                    f"({', '.join(sorted(allowed)) or 'none'})",
                )
    for i, tenant in enumerate(config.gateway.tenants):
        allowed = config.tenant_regions_allowed(tenant.name)
        if allowed is None:
            continue
        for k, name in enumerate(tenant.models):
            served = set(models[name].regions) if name in models else set()
            if not served & allowed:
                yield ConfigError(
                    f"gateway.tenants[{i}].models[{k}]",
                    f"'{name}' is not served in the regions policy.data_residency allows tenant '{tenant.name}' "
                    f"({', '.join(sorted(allowed)) or 'none'})",
                )


def _check_tenant_limits(config: PlatformConfig) -> Iterator[ConfigError]:
    """Limits are global: the regions' shares add up to 100 % and each leaves a usable plan; each region's
    plans together fit the account's API Gateway throttle there."""
    for i, tenant in enumerate(config.gateway.tenants):
        path = f"gateway.tenants[{i}]"
        regions = config.tenant_plan_regions(tenant)
        if tenant.region_shares is not None:
            for region in tenant.region_shares:
                if region not in regions:
                    yield ConfigError(
                        f"{path}.region_shares.{region}",
                        f"tenant '{tenant.name}' has no usage plan in {region}; its plans are in "
                        f"{', '.join(regions) or 'no region'}",
                    )
            missing = [region for region in regions if region not in tenant.region_shares]
            if missing:
                yield ConfigError(
                    f"{path}.region_shares", f"no share for {', '.join(missing)}: every plan region needs one"
                )
            total = sum(tenant.region_shares.values())
            if abs(total - 100) > 1e-6:
                yield ConfigError(f"{path}.region_shares", f"must add up to 100 (got {total:g})")
            if missing or abs(total - 100) > 1e-6:
                continue
        shares = config.tenant_shares(tenant)
        for region in regions:
            share = config.tenant_limits_in(tenant, region)
            limits = {
                "rate_limit_rps": share.rate_limit_rps,
                "burst": share.burst,
                "monthly_quota": share.monthly_quota,
            }
            for key, value in limits.items():
                if value <= 0:
                    yield ConfigError(
                        f"{path}.{key}",
                        f"{getattr(tenant, key):g} split over {len(regions)} region(s) leaves {region} "
                        f"({shares[region]:g} %) nothing; raise it or set region_shares",
                    )
    for region in config.regions:
        throttle = config.stage_throttle(region.name)
        account = tenant_limits.account_throttle(region.name, config.gateway.account_throttle_rps)
        if throttle.rate_limit_rps > account.rate_limit_rps:
            yield ConfigError(
                "gateway.tenants",
                f"the usage plans in {region.name} add up to {throttle.rate_limit_rps:g} requests per second, above "
                f"API Gateway's account throttle there ({account.rate_limit_rps:g}); lower them, or state a raised "
                f"quota ({tenant_limits.ACCOUNT_THROTTLE_QUOTA_CODE}) in gateway.account_throttle_rps",
            )
        if throttle.burst > account.burst:
            yield ConfigError(
                "gateway.tenants",
                f"the usage plans in {region.name} add up to a burst of {throttle.burst}, above API Gateway's account "
                f"burst there ({account.burst}); lower the tenants' burst",
            )


def _check_autoscaling(config: PlatformConfig) -> Iterator[ConfigError]:
    """Scaler settings, and every node group (or on-prem target) fits its models at max replicas."""
    for i, model in enumerate(config.models):
        scaling = model.autoscaling
        path = f"models[{i}].autoscaling"
        if scaling.mode == "none" and scaling.min_replicas != scaling.max_replicas:
            yield ConfigError(
                f"{path}.max_replicas", f"must equal min_replicas ({scaling.min_replicas}) with mode: none (no scaler)"
            )
        if scaling.scale_to_zero_signal != "none" and scaling.mode != "keda":
            yield ConfigError(f"{path}.scale_to_zero_signal", "only used with mode: keda")
    # Shards are powers of two no larger than a node's GPUs (catalog nodes have 1, 4 or 8), so
    # replicas pack without fragmentation and the GPU sum is the exact fit test.
    for i, region in enumerate(config.regions):
        for j, group in enumerate(region.node_groups):
            models = [m for m in config.models if region.name in m.regions and m.node_group == group.name]
            gpus = catalog.instance_type(group.resolved_instance_type).gpu_count
            capacity = group.max_nodes * gpus
            yield from _check_fit(
                f"regions[{i}].node_groups[{j}].max_nodes", f"{group.max_nodes} x {gpus} GPUs", capacity, models
            )
    for i, target in enumerate(config.onprem_targets):
        models = config.models_on_target(target.name)
        capacity = target.nodes * target.gpus_per_node
        yield from _check_fit(
            f"onprem_targets[{i}].nodes", f"{target.nodes} x {target.gpus_per_node} GPUs", capacity, models
        )


def _check_fit(path: str, shape: str, capacity: int, models: list[ModelConfig]) -> Iterator[ConfigError]:
    grow = path.rsplit(".", 1)[-1]
    demand = sum(gpu_demand(m) for m in models)
    if demand > capacity:
        parts = ", ".join(
            f"{m.name} {m.autoscaling.max_replicas} x {m.shards}" for m in sorted(models, key=lambda m: m.name)
        )
        yield ConfigError(
            path,
            f"{shape} = {capacity} GPUs cannot hold max replicas x shards of its models ({parts} = {demand}); "
            f"raise {grow} or lower autoscaling.max_replicas",
        )


def _check_deploy(config: PlatformConfig) -> Iterator[ConfigError]:
    """Prod must say how `pulumi up` reaches its private endpoints; the runner's connection and the deploy
    role belong to the stack's account, and the connection to the primary region (the runner's)."""
    deploy = config.deploy
    if deploy is None:
        if config.environment == "prod":
            yield ConfigError(
                "deploy",
                "required in prod: the clusters' API endpoints are private, and the deploy runner in the VPC is how "
                "`pulumi up` reaches them (github_repository, connection_arn, deploy_role_arn)",
            )
        return
    account = config.aws_account_id
    if account and deploy.connection_account != account:
        yield ConfigError(
            "deploy.connection_arn", f"is in account {deploy.connection_account}, not aws_account_id ({account})"
        )
    primary = config.primary_region.name
    if deploy.connection_region != primary:
        yield ConfigError(
            "deploy.connection_arn",
            f"is in {deploy.connection_region}; the runner's project is in the primary region ({primary}), and "
            "CodeBuild uses a connection of its own region",
        )
    if account and deploy.role_account != account:
        yield ConfigError(
            "deploy.deploy_role_arn", f"is in account {deploy.role_account}, not aws_account_id ({account})"
        )


# --- traffic -------------------------------------------------------------------------------------


def gateway_quota(config: PlatformConfig, model: ModelConfig) -> tuple[int, list[str]]:
    """Requests a month the gateway admits for `model`: each tenant that lists it, its monthly quota
    in every region that serves the model and holds the tenant's key (a usage plan per region)."""
    total, parts = 0, []
    for tenant in config.gateway.tenants:
        if model.name not in tenant.models:
            continue
        regions = [r for r in model.regions if tenant in config.tenants_in_region(r)]
        if regions:
            total += tenant.monthly_quota * len(regions)
            parts.append(f"{tenant.name} {tenant.monthly_quota} x {len(regions)}")
    return total, parts


def _check_traffic(config: PlatformConfig) -> Iterator[ConfigError]:
    traffic = config.traffic
    if traffic is None:
        return
    models = {model.name: model for model in config.models}
    for name, stated in traffic.models.items():
        path = f"traffic.models.{name}" if _PLAIN_KEY.match(name) else f"traffic.models[{json.dumps(name)}]"
        model = models.get(name)
        if model is None:
            yield ConfigError(path, f"unknown model '{name}'; allowed: {', '.join(models) or 'none defined'}")
            continue
        if stated.mean_input_tokens > model.tokens.max_input_tokens:
            yield ConfigError(
                f"{path}.mean_input_tokens",
                f"must be <= the model's max_input_tokens ({model.tokens.max_input_tokens})",
            )
        elif stated.mean_input_tokens + stated.mean_output_tokens > model.tokens.max_total_tokens:
            yield ConfigError(
                f"{path}.mean_output_tokens",
                f"mean_input_tokens + mean_output_tokens must be <= the model's max_total_tokens "
                f"({model.tokens.max_total_tokens})",
            )
        if model.regions:
            quota, parts = gateway_quota(config, model)
            if stated.requests_per_month > quota:
                yield ConfigError(
                    f"{path}.requests_per_month",
                    f"{stated.requests_per_month} exceeds what the gateway admits for '{name}' a month, its tenants' "
                    f"quotas x regions ({' + '.join(parts) or 'no tenant lists it'} = {quota})",
                )
    for model in config.models:
        if model.regions and model.name not in traffic.models:
            yield ConfigError(
                "traffic.models",
                f"missing '{model.name}': every model behind the gateway needs its traffic stated "
                "(requests_per_month, mean_input_tokens, mean_output_tokens)",
            )


def traffic_assumption(config: PlatformConfig) -> usage.TrafficAssumption | None:
    """The stack file's traffic section as the usage estimate reads it (None: no assumption stated)."""
    if config.traffic is None:
        return None
    models = {model.name: model for model in config.models}
    stated = []
    for name, entry in config.traffic.models.items():
        model = models[name]
        # Cold starts read the weights where the placement is: each region's own bucket; hybrid nodes
        # their cluster region's, other on-prem targets the primary region's (a sensitive model its
        # data centre's own store).
        targets = {target.name: target for target in config.onprem_targets}
        placements = [
            *model.regions,
            *(t.hybrid.region if (t := targets[n]).hybrid else config.primary_region.name for n in model.targets),
        ]
        weights = model.parameters_billion * 1e9 * sizing.bytes_per_parameter(model.quantization)
        stated.append(
            usage.ModelTraffic(
                model=name,
                requests_per_month=entry.requests_per_month,
                mean_input_tokens=entry.mean_input_tokens,
                mean_output_tokens=entry.mean_output_tokens,
                cold_starts_per_month=entry.cold_starts_per_month,
                gateway_regions=tuple(model.regions),
                pull_regions=() if model.sensitive else tuple(placements),
                weights_bytes=round(weights),
            )
        )
    return usage.TrafficAssumption(tuple(stated), config.traffic.response_bytes_per_output_token)
