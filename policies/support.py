"""Small helpers the policies share: reading JSON documents, providers and config.

Kept free of policy decisions so each policy file reads on its own.
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from pulumi_policy import PolicyResource

from components.conventions import (
    ACCESS_LOG_BUCKET_MARK,
    ACCESS_LOGS_DATA,
    COMPONENT_LABEL,
    DATA_TAG,
    GPU_LABEL,
    MODEL_SERVER_COMPONENT,
)

# The stack's `aws_account_id` as a policy's config property (llmstack/policy_config.py sets it).
ACCOUNT_ID_PROPERTY = {"type": "string", "pattern": "^[0-9]{12}$"}

# Type tokens whose package is a real provider (not a component or the stack).
PROVIDER_PACKAGES = ("aws", "kubernetes", "random")

# Policy config: the data centre's networks, `datacentre.cidrs` of the stack file.
DATACENTRE_CIDRS_PROPERTY = {
    "type": "array",
    "items": {"type": "string"},
    "default": [],
    "description": "the data centre's networks (datacentre.cidrs of the stack file)",
}


def datacentre_networks(config: Mapping[str, Any]) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """The configured `datacentreCidrs` that parse as networks (the rest cannot admit anything)."""
    networks = []
    for cidr in as_list(config.get("datacentreCidrs")):
        try:
            networks.append(ipaddress.ip_network(str(cidr), strict=False))
        except ValueError:
            continue
    return networks


def number_text(value: Any) -> str:
    """A number as a reviewer writes it: the engine sends every number as a float (8080.0 -> 8080)."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def is_custom_resource(resource_type: str) -> bool:
    """Resources a provider manages; components and providers themselves are not."""
    return resource_type.split(":", 1)[0] in PROVIDER_PACKAGES


def json_document(value: Any) -> dict[str, Any] | None:
    """IAM/KMS policies arrive as JSON strings (or already parsed); None when unreadable."""
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, str):
        try:
            parsed = json.loads(value)
        except ValueError:
            return None
        return parsed if isinstance(parsed, dict) else None
    return None


def statements(document: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    raw = document.get("Statement", [])
    for statement in [raw] if isinstance(raw, Mapping) else raw:
        if isinstance(statement, Mapping):
            yield dict(statement)


def as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, (str, bytes, Mapping)):
        return [value]
    # Lists reach the pack as the gRPC layer's sequence type, not always a `list`.
    return list(value) if isinstance(value, Iterable) else [value]


def principals(statement: Mapping[str, Any]) -> list[str]:
    """Every principal a statement names, whatever the form (`"*"`, {"AWS": [...]}, ...)."""
    principal = statement.get("Principal")
    if principal is None:
        return []
    if isinstance(principal, str):
        return [principal]
    found: list[str] = []
    for value in principal.values():
        found.extend(str(v) for v in as_list(value))
    return found


def resources_of_type(resources: Iterable[PolicyResource], *types: str) -> list[PolicyResource]:
    return [r for r in resources if r.resource_type in types]


def depends_on(resource: PolicyResource, prop: str, target_urn: str) -> bool:
    """Whether `resource.prop` was computed from `target_urn` (e.g. a flow log's vpcId)."""
    deps = resource.property_dependencies.get(prop) or []
    if any(dep.urn == target_urn for dep in deps):
        return True
    return any(dep.urn == target_urn for dep in resource.dependencies) and not deps


def replication_destination_bucket(
    replication: PolicyResource, destination: Any, buckets: Iterable[PolicyResource]
) -> PolicyResource | None:
    """The stack bucket a replication rule's destination.bucket was computed from, or None."""
    candidates = [b for b in buckets if depends_on(replication, "rules", b.urn)]
    if not isinstance(destination, str):
        return candidates[0] if len(candidates) == 1 else None
    return next((b for b in candidates if destination == f"arn:aws:s3:::{b.props.get('bucket')}"), None)


def component_of(resource: PolicyResource) -> str:
    """The nearest llm-serving component above a resource (`Network`), skipping the regional grouping."""
    parent = resource.parent
    while parent is not None:
        package, _, rest = parent.resource_type.partition(":")
        if package == "llm-serving" and not rest.endswith(":RegionalPlatform"):
            return rest.split(":", 1)[1]
        parent = parent.parent
    return "Platform"


def region_of(resource: PolicyResource) -> str | None:
    """The AWS region (or on-prem target) a resource lands in, from its provider."""
    provider = resource.provider
    if provider is not None:
        if provider.resource_type == "pulumi:providers:aws":
            return provider.props.get("region")
        if provider.resource_type == "pulumi:providers:kubernetes" and provider.name.startswith("onprem-"):
            return provider.name
    return None


def cost_inputs(resources: Iterable[PolicyResource]) -> list[dict[str, Any]]:
    """Provider-managed resources in the shape `components.cost.estimate` reads.

    The same shape `llmstack plan` builds from plan.json, so the report and this pack agree: a
    Kubernetes object on EKS stands in the region of the cluster its provider's kubeconfig is built
    from (which the estimate needs to put model servers on their node groups).
    """
    resources = list(resources)
    eks_regions = _eks_provider_regions(resources)

    def region(r: PolicyResource) -> str | None:
        found = region_of(r)
        if found is None and r.provider is not None:
            found = eks_regions.get(r.provider.urn)
        return found

    return [
        {
            "type": r.resource_type,
            "name": r.name,
            "urn": r.urn,
            "inputs": r.props,
            "region": region(r),
            "component": component_of(r),
        }
        for r in resources
        if is_custom_resource(r.resource_type)
    ]


def _eks_provider_regions(resources: Iterable[PolicyResource]) -> dict[str, str]:
    """Kubernetes provider URN -> the region of the EKS cluster its kubeconfig was computed from."""
    found: dict[str, str] = {}
    for provider in resources:
        if provider.resource_type != "pulumi:providers:kubernetes":
            continue
        for dependency in provider.property_dependencies.get("kubeconfig") or []:
            if dependency.resource_type == "aws:eks/cluster:Cluster" and (where := region_of(dependency)):
                found[provider.urn] = where
    return found


# --- S3 buckets and their configuration resources ------------------------------------------------

BUCKET_TYPE = "aws:s3/bucket:Bucket"


def attached(resources: Iterable[PolicyResource], resource_type: str, bucket: PolicyResource) -> list[PolicyResource]:
    """Configuration resources of `resource_type` whose `bucket` was computed from `bucket`."""
    return [r for r in resources_of_type(resources, resource_type) if depends_on(r, "bucket", bucket.urn)]


def tag(resource: PolicyResource, key: str) -> Any:
    tags = resource.props.get("tags")
    return tags.get(key) if isinstance(tags, Mapping) else None


def is_access_log_bucket(bucket: PolicyResource) -> bool:
    """A bucket the program marked as an access-log bucket: tagged so AND named so.

    Never derived from which buckets a BucketLogging points at: one extra BucketLogging in the plan
    would otherwise exempt the weights bucket. policies/aws/s3/access_log_bucket_contract.py checks
    the mark both ways (a marked bucket holds only logs; logs go only to marked buckets).
    """
    if tag(bucket, DATA_TAG) != ACCESS_LOGS_DATA:
        return False
    name = bucket.props.get("bucket")
    # An unknown name (computed at preview) leaves the tag to decide; a known one must carry the mark.
    return not isinstance(name, str) or ACCESS_LOG_BUCKET_MARK in name


def access_log_buckets(resources: Iterable[PolicyResource]) -> set[str]:
    """URNs of the stack's access-log buckets (some S3 controls cannot apply to them)."""
    return {bucket.urn for bucket in resources_of_type(resources, BUCKET_TYPE) if is_access_log_bucket(bucket)}


# --- Kubernetes workloads ------------------------------------------------------------------------

_POD_TEMPLATE_KINDS = {
    "kubernetes:apps/v1:Deployment",
    "kubernetes:apps/v1:StatefulSet",
    "kubernetes:apps/v1:DaemonSet",
    "kubernetes:apps/v1:ReplicaSet",
    "kubernetes:batch/v1:Job",
}


def pod_spec(resource_type: str, props: Mapping[str, Any]) -> dict[str, Any] | None:
    """The pod spec of a workload (Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob, Pod)."""
    spec = props.get("spec") or {}
    if resource_type == "kubernetes:core/v1:Pod":
        return dict(spec)
    if resource_type == "kubernetes:batch/v1:CronJob":
        spec = (spec.get("jobTemplate") or {}).get("spec") or {}
    elif resource_type not in _POD_TEMPLATE_KINDS:
        return None
    template = spec.get("template") or {}
    return dict(template.get("spec") or {})


def pod_template_labels(props: Mapping[str, Any]) -> dict[str, str]:
    return dict((((props.get("spec") or {}).get("template") or {}).get("metadata") or {}).get("labels") or {})


def containers(spec: Mapping[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(`container 'x'` or `init container 'x'`, container) for every container of a pod spec."""
    for key, label in (("initContainers", "init container"), ("containers", "container")):
        for container in spec.get(key) or []:
            yield f"{label} '{container.get('name', '?')}'", dict(container)


def is_model_server(props: Mapping[str, Any]) -> bool:
    return pod_template_labels(props).get(COMPONENT_LABEL) == MODEL_SERVER_COMPONENT


# --- EKS node groups -----------------------------------------------------------------------------

NODE_GROUP_TYPE = "aws:eks/nodeGroup:NodeGroup"
LAUNCH_TEMPLATE_TYPE = "aws:ec2/launchTemplate:LaunchTemplate"


def is_gpu_node_group(props: Mapping[str, Any]) -> bool:
    """A node group of GPU nodes: an NVIDIA AMI type, or nodes labelled with the platform's GPU label."""
    return "NVIDIA" in str(props.get("amiType") or "").upper() or GPU_LABEL in (props.get("labels") or {})


def launch_templates_of(resources: Iterable[PolicyResource], node_group: PolicyResource) -> list[PolicyResource]:
    """Launch templates of this stack that a node group's `launchTemplate` was computed from."""
    return [
        t for t in resources_of_type(resources, LAUNCH_TEMPLATE_TYPE) if depends_on(node_group, "launchTemplate", t.urn)
    ]


# Security group ingress in its three forms: standalone rules, legacy rules of type ingress, and
# inline `ingress` blocks of a (default) security group.
INGRESS_RULE_TYPE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
LEGACY_RULE_TYPE = "aws:ec2/securityGroupRule:SecurityGroupRule"
SECURITY_GROUP_TYPES = ("aws:ec2/securityGroup:SecurityGroup", "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup")


def ingress_cidr_sources(
    resource_type: str, props: Mapping[str, Any]
) -> Iterator[tuple[str, str, Mapping[str, Any], str]]:
    """(where, cidr, rule, protocol key) for each CIDR source a security group resource admits."""
    if resource_type == INGRESS_RULE_TYPE:
        for key in ("cidrIpv4", "cidrIpv6"):
            if props.get(key):
                yield "ingress", str(props[key]), props, "ipProtocol"
    elif resource_type == LEGACY_RULE_TYPE and props.get("type") == "ingress":
        for key in ("cidrBlocks", "ipv6CidrBlocks"):
            for cidr in as_list(props.get(key)):
                yield "ingress", str(cidr), props, "protocol"
    elif resource_type in SECURITY_GROUP_TYPES:
        for index, rule in enumerate(as_list(props.get("ingress"))):
            if not isinstance(rule, Mapping):
                continue
            for key in ("cidrBlocks", "ipv6CidrBlocks"):
                for cidr in as_list(rule.get(key)):
                    yield f"ingress[{index}]", str(cidr), rule, "protocol"
