"""PrivatePath: the only network path from API Gateway to a region's model servers.

API Gateway (REST) reaches a VPC only through a VPC link, and a REST VPC link targets a Network
Load Balancer. So, per region: an internal NLB in the private subnets with one TCP listener per
model (its own port, `listener_ports`), one IP target group per model, and the VPC link to the
NLB. The target groups are Pulumi resources; the AWS Load Balancer Controller (objects declared
from the pinned chart, `lb_controller_manifests.py`; its own Pod Identity role) only keeps each
group's targets equal to the ready pods behind the model's Service, through a `TargetGroupBinding`
per model. It creates no load balancers, target groups or security-group rules, and its IAM
policy says so: describe calls in this region, and Register/DeregisterTargets on exactly these
target groups.

Security groups: the NLB's group has no inbound rules and sends only to the pods' security group
on the model servers' HTTP port; the pods' group takes that port from the NLB's group only.
Inbound rules are not enforced on PrivateLink traffic (the VPC link), so API Gateway gets in and
nothing else in the VPC does: no path to a model that skips the API keys. The NLB holds one fixed
address per private subnet, from a /28 reserved for it (`nlb_reservation`), and the model
servers' NetworkPolicy admits exactly those addresses (`gateway_peers`): with IP targets over
TCP, client IP preservation is off, so every forwarded packet comes from one of them, and no
node or pod can be given one.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import json
import re
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_tls as tls

from components import conventions, engines
from components import lb_controller_manifests as manifests
from components.arg_checks import check_environment, check_region
from components.kube import ConfigGroup, KubernetesObject, declare_objects
from components.platform_workloads import LB_CONTROLLER_NAMESPACE
from components.pod_identity import PodIdentityRole, PodIdentityRoleArgs
from components.serving import PRESTOP_SLEEP_SECONDS
from components.upstream import yaml_stream

# Chart 1.14.0 ships controller v2.14.0.
CHART_VERSION = manifests.CHART_VERSION
CONTROLLER_IMAGE = manifests.IMAGE_REPOSITORY
CONTROLLER_IMAGE_TAG = manifests.APP_VERSION
CONTROLLER_NAMESPACE = LB_CONTROLLER_NAMESPACE
CONTROLLER_SERVICE_ACCOUNT = manifests.NAME
# The webhook CA and serving certificate live as long as Helm's genCA would make them (3650 days).
WEBHOOK_CERT_VALIDITY_HOURS = 3650 * 24
# Label a namespace with this (value "enabled") and the controller's webhook adds a readiness gate
# to its pods: a rollout then waits until the new pod is healthy in the target group.
READINESS_GATE_LABEL = "elbv2.k8s.aws/pod-readiness-gate-inject"

TARGET_GROUP_BINDING_API_VERSION = "elbv2.k8s.aws/v1beta1"

# Listener ports: 8000-8999, a model's port from a hash of its name (see `listener_ports`).
LISTENER_PORT_BASE = 8000
LISTENER_PORT_SPAN = 1000
# Streams may stay open as long as API Gateway allows (15 minutes); a gap between tokens must not cut them.
TCP_IDLE_TIMEOUT_SECONDS = 900
# A deregistered pod keeps its connections while it drains (preStop sleep + the engine's drain).
DEREGISTRATION_DELAY_SECONDS = PRESTOP_SLEEP_SECONDS + max(engines.engine(e).drain_seconds for e in ("tgi", "vllm"))

_DNS_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
_AWS_NAME_LIMIT = 32  # load balancer and target group names


# --- pure parts ----------------------------------------------------------------------------------


def listener_ports(models: Iterable[str]) -> dict[str, int]:
    """Model -> NLB listener port, stable when models are added or removed.

    A port is a hash of the model's name in 8000-8999; on a collision, models take the next free
    port in sorted order. An index into the sorted list would shift every later model's port when
    one is added, and while API Gateway's integrations catch up a port would briefly lead to
    another model's servers (past the gateway's per-tenant model allowlist).
    """
    names = sorted(set(models))
    if len(names) > LISTENER_PORT_SPAN:
        raise ValueError(f"models: at most {LISTENER_PORT_SPAN} models per load balancer (got {len(names)})")
    taken: dict[int, str] = {}
    ports: dict[str, int] = {}
    for model in names:
        slot = zlib.crc32(model.encode()) % LISTENER_PORT_SPAN
        while LISTENER_PORT_BASE + slot in taken:
            slot = (slot + 1) % LISTENER_PORT_SPAN
        taken[LISTENER_PORT_BASE + slot] = model
        ports[model] = LISTENER_PORT_BASE + slot
    return ports


def aws_name(*parts: str, limit: int = _AWS_NAME_LIMIT) -> str:
    """A deterministic load balancer / target group name within AWS's 32 characters.

    Too long: truncated, with a hash of the full name so two long names stay distinct.
    """
    full = "-".join(parts)
    if len(full) <= limit:
        return full
    digest = hashlib.sha256(full.encode()).hexdigest()[:6]
    return f"{full[: limit - 7].rstrip('-')}-{digest}"


def controller_policy(target_group_arns: Iterable[str], region: str) -> dict[str, Any]:
    """The controller's permissions when all it does is TargetGroupBinding without networking.

    Describe calls have no resource-level permissions, so they are held to this region; the only
    writes are registering and deregistering pod IPs in the given target groups. No security
    group, load balancer, listener or tag changes: Pulumi owns those.
    """
    arns = sorted(set(target_group_arns))
    if not arns:
        raise ValueError("target_group_arns: at least one target group")
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "DescribeLoadBalancingAndNetworkInThisRegion",
                "Effect": "Allow",
                "Action": [
                    "elasticloadbalancing:Describe*",
                    # Named, not ec2:Describe*: that would include DescribeInstanceAttribute (user data).
                    "ec2:DescribeVpcs",
                    "ec2:DescribeSubnets",
                    "ec2:DescribeSecurityGroups",
                    "ec2:DescribeInstances",
                    "ec2:DescribeNetworkInterfaces",
                    "ec2:DescribeAvailabilityZones",
                ],
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:RequestedRegion": region}},
            },
            {
                "Sid": "RegisterPodsInTheModelTargetGroups",
                "Effect": "Allow",
                "Action": ["elasticloadbalancing:RegisterTargets", "elasticloadbalancing:DeregisterTargets"],
                "Resource": arns,
            },
        ],
    }


def controller_affinity() -> dict[str, Any]:
    """Off GPU nodes (tainted anyway; this says it), replicas spread over nodes."""
    return {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [
                    {"matchExpressions": [{"key": conventions.GPU_LABEL, "operator": "DoesNotExist"}]}
                ]
            }
        },
        "podAntiAffinity": {
            "preferredDuringSchedulingIgnoredDuringExecution": [
                {
                    "weight": 100,
                    "podAffinityTerm": {
                        "labelSelector": {"matchLabels": {"app.kubernetes.io/name": manifests.NAME}},
                        "topologyKey": "kubernetes.io/hostname",
                    },
                }
            ]
        },
    }


CONTROLLER_DEFAULT_TAGS = {"component": "gateway"}


def controller_values(
    cluster_name: str, region: str, vpc_id: str, replicas: int, node_selector: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """Chart values of the controller: TargetGroupBinding only, on system (non-GPU) nodes.

    `vpcId` set: no IMDS lookup (the controller's pods cannot reach IMDS, hop limit 1). Nothing here
    creates load balancers from Services or Ingresses: no class, no defaulting webhook that would
    turn every type=LoadBalancer Service into an NLB, no backend SG, no Ingress validation.
    """
    return manifests.values(
        cluster_name, region, vpc_id, replicas, controller_affinity(), node_selector or {}, CONTROLLER_DEFAULT_TAGS
    )


def binding_metadata(model: str, namespace: str) -> dict[str, Any]:
    return {
        "name": f"{model}-gateway",
        "namespace": namespace,
        "labels": {"app.kubernetes.io/part-of": "llm-serving", "component": "gateway", conventions.MODEL_LABEL: model},
    }


def binding_spec(service_name: str, target_group_arn: str) -> dict[str, Any]:
    """No `networking`: the controller leaves security groups alone (Pulumi manages the rule)."""
    return {
        "serviceRef": {"name": service_name, "port": conventions.HTTP_PORT},
        "targetGroupARN": target_group_arn,
        "targetType": "ip",
        "ipAddressType": "ipv4",
    }


def target_group_binding(model: str, service_name: str, namespace: str, target_group_arn: str) -> dict[str, Any]:
    """The TargetGroupBinding of one model: its Service's ready endpoints, as IPs, in its group."""
    return {
        "apiVersion": TARGET_GROUP_BINDING_API_VERSION,
        "kind": "TargetGroupBinding",
        "metadata": binding_metadata(model, namespace),
        "spec": binding_spec(service_name, target_group_arn),
    }


def nlb_reservation(private_subnet_cidr: str) -> str:
    """The /28 at the top of a private subnet, reserved (explicit) for the NLB's fixed address:
    AWS never hands its addresses to nodes or pods, so only the NLB can hold them."""
    try:
        network = ipaddress.ip_network(private_subnet_cidr, strict=True)
    except ValueError:
        raise ValueError(
            f"private_subnet_cidrs: not a network address such as 10.0.0.0/19 (got {private_subnet_cidr!r})"
        ) from None
    if network.version != 4 or network.prefixlen > 24:
        raise ValueError(f"private_subnet_cidrs: an IPv4 subnet of /24 or larger (got {private_subnet_cidr})")
    return str(list(network.subnets(new_prefix=28))[-1])


def nlb_address(private_subnet_cidr: str) -> str:
    """The NLB's address in a private subnet: the first of its reserved /28 (never one of the
    addresses AWS keeps, the subnet's first four and its last)."""
    return str(ipaddress.ip_network(nlb_reservation(private_subnet_cidr)).network_address)


def gateway_peers(private_subnet_cidrs: Iterable[str]) -> tuple[dict[str, Any], ...]:
    """NetworkPolicy peers for the model servers' HTTP port: the NLB's fixed addresses, one per
    private subnet. With IP targets over TCP client IP preservation is off, so every packet from
    the load balancer has one of them as its source, and no pod or node can hold them."""
    peers = tuple({"ipBlock": {"cidr": f"{nlb_address(cidr)}/32"}} for cidr in private_subnet_cidrs)
    if not peers:
        raise ValueError("private_subnet_cidrs: at least one subnet")
    return peers


# --- the component -------------------------------------------------------------------------------


@dataclass(frozen=True)
class PrivateBackend:
    model: str
    """Model name (a DNS label): the key of `listener_ports` and `backend_urls`."""
    service_name: pulumi.Input[str]
    """The model server's Service (it exposes conventions.HTTP_PORT)."""
    namespace: pulumi.Input[str]
    """Namespace of that Service; the TargetGroupBinding goes there too."""
    health_check_path: str
    """The model server's readiness path (its engine's "can serve"): a target group health check
    on TGI's /health would take saturated replicas out of the NLB at peak load."""


@dataclass(frozen=True)
class PrivatePathArgs:
    environment: str
    region: str
    vpc_id: pulumi.Input[str]
    """Source allowed on the listener ports besides the VPC link."""
    private_subnet_ids: Sequence[pulumi.Input[str]]
    """The NLB's subnets (one per zone the model servers run in)."""
    private_subnet_cidrs: tuple[str, ...]
    """Their CIDRs, in the same order: the NLB takes a fixed address in each (`nlb_address`)."""
    pod_security_group_id: pulumi.Input[str]
    """The security group of the model servers' pods (the EKS cluster security group)."""
    cluster_name: str
    cluster_arn: pulumi.Input[str]
    """The controller's Pod Identity role trusts only this cluster."""
    models: tuple[PrivateBackend, ...]
    protect: bool = False
    """Deletion protection on the NLB and Pulumi `protect` on it and the VPC link (prod)."""
    controller_replicas: int = 2
    node_selector: Mapping[str, str] = field(default_factory=dict)
    """Labels of the system nodes the controller runs on (never GPU nodes)."""

    def __post_init__(self) -> None:
        check_environment(self.environment)
        check_region(self.region)
        if not self.models:
            raise ValueError("models: at least one model to route to")
        if len(self.private_subnet_cidrs) != len(self.private_subnet_ids) or not self.private_subnet_cidrs:
            raise ValueError("private_subnet_cidrs: one CIDR per private subnet id, in the same order")
        for cidr in self.private_subnet_cidrs:
            nlb_reservation(cidr)
        names = [backend.model for backend in self.models]
        for model in names:
            if not isinstance(model, str) or not _DNS_LABEL.fullmatch(model):
                raise ValueError(f"models: model names must be DNS labels (got {model!r})")
        duplicates = sorted({m for m in names if names.count(m) > 1})
        if duplicates:
            raise ValueError(f"models: each model once (repeated: {', '.join(duplicates)})")
        if isinstance(self.controller_replicas, bool) or self.controller_replicas not in (1, 2, 3):
            raise ValueError(f"controller_replicas: must be 1, 2 or 3 (got {self.controller_replicas!r})")


class PrivatePath(pulumi.ComponentResource):
    """Internal NLB + REST VPC link + the controller that keeps pod IPs registered; needs a
    Kubernetes provider in `opts.providers["kubernetes"]`."""

    vpc_link_id: pulumi.Output[str]
    nlb_arn: pulumi.Output[str]
    nlb_dns_name: pulumi.Output[str]
    listener_ports: dict[str, int]
    backend_urls: dict[str, pulumi.Output[str]]
    security_group_id: pulumi.Output[str]
    controller_role_arn: pulumi.Output[str]

    def __init__(self, name: str, args: PrivatePathArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("llm-serving:gateway:PrivatePath", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        stateful = pulumi.ResourceOptions(parent=self, protect=args.protect)
        ports = listener_ports(b.model for b in args.models)

        def tags(resource: str, **extra: str) -> dict[str, str]:
            return {"Name": resource, "component": "gateway", **extra}

        # --- security groups ---------------------------------------------------------------------
        nlb_sg = aws.ec2.SecurityGroup(
            f"{name}-nlb-sg",
            description="Private-path NLB: no inbound rules, the VPC link is the only way in",
            vpc_id=args.vpc_id,
            tags=tags(f"{name}-nlb-sg"),
            opts=child,
        )
        # Forwarded traffic and health checks go to the pods' HTTP port and nowhere else.
        aws.vpc.SecurityGroupEgressRule(
            f"{name}-nlb-to-pods",
            security_group_id=nlb_sg.id,
            description="Model servers' HTTP port (traffic and health checks)",
            referenced_security_group_id=args.pod_security_group_id,
            ip_protocol="tcp",
            from_port=conventions.HTTP_PORT,
            to_port=conventions.HTTP_PORT,
            tags=tags(f"{name}-nlb-to-pods"),
            opts=child,
        )
        aws.vpc.SecurityGroupIngressRule(
            f"{name}-pods-from-nlb",
            security_group_id=args.pod_security_group_id,
            description="Model servers' HTTP port from the private-path NLB",
            referenced_security_group_id=nlb_sg.id,
            ip_protocol="tcp",
            from_port=conventions.HTTP_PORT,
            to_port=conventions.HTTP_PORT,
            tags=tags(f"{name}-pods-from-nlb"),
            opts=child,
        )

        # --- load balancer -------------------------------------------------------------------------
        # Fixed NLB addresses in explicitly reserved ranges: the model servers' NetworkPolicy
        # admits exactly these, so pods and nodes in the same subnets cannot skip the gateway.
        reservations = [
            aws.ec2.SubnetCidrReservation(
                f"{name}-nlb-addresses-{index}",
                subnet_id=subnet_id,
                cidr_block=nlb_reservation(cidr),
                reservation_type="explicit",
                description="Fixed addresses of the private-path NLB",
                opts=child,
            )
            for index, (subnet_id, cidr) in enumerate(
                zip(args.private_subnet_ids, args.private_subnet_cidrs, strict=True)
            )
        ]
        nlb = aws.lb.LoadBalancer(
            f"{name}-nlb",
            name=aws_name("llm", args.environment, "private"),
            internal=True,
            load_balancer_type="network",
            ip_address_type="ipv4",
            subnet_mappings=[
                aws.lb.LoadBalancerSubnetMappingArgs(
                    subnet_id=reservation.subnet_id, private_ipv4_address=nlb_address(cidr)
                )
                for reservation, cidr in zip(reservations, args.private_subnet_cidrs, strict=True)
            ],
            # Security groups can only be attached when an NLB is created, never added later.
            security_groups=[nlb_sg.id],
            # VPC link traffic arrives through PrivateLink from API Gateway's addresses, outside the
            # VPC: inbound rules would drop it. It is authenticated by API Gateway (API keys).
            enforce_security_group_inbound_rules_on_private_link_traffic="off",
            # Few replicas per model: every NLB node must reach every zone's pods.
            enable_cross_zone_load_balancing=True,
            enable_deletion_protection=args.protect,
            tags=tags(f"{name}-nlb"),
            opts=stateful,
        )

        backend_urls: dict[str, pulumi.Output[str]] = {}
        target_groups: dict[str, aws.lb.TargetGroup] = {}
        health_paths = {b.model: b.health_check_path for b in args.models}
        for model, port in ports.items():
            group = aws.lb.TargetGroup(
                f"{name}-tg-{model}",
                name=aws_name("llm", args.environment, model),
                target_type="ip",
                protocol="TCP",
                port=conventions.HTTP_PORT,
                vpc_id=args.vpc_id,
                ip_address_type="ipv4",
                # The source stays the NLB's address: the pods' NetworkPolicy admits those (gateway_peers).
                preserve_client_ip="false",
                deregistration_delay=DEREGISTRATION_DELAY_SECONDS,
                health_check={
                    "enabled": True,
                    "protocol": "HTTP",
                    "port": "traffic-port",
                    "path": health_paths[model],
                    "matcher": "200",
                    "interval": 10,
                    "timeout": 5,
                    "healthy_threshold": 2,
                    "unhealthy_threshold": 2,
                },
                tags=tags(f"{name}-tg-{model}", model=model),
                opts=child,
            )
            aws.lb.Listener(
                f"{name}-listener-{model}",
                load_balancer_arn=nlb.arn,
                port=port,
                protocol="TCP",
                tcp_idle_timeout_seconds=TCP_IDLE_TIMEOUT_SECONDS,
                default_actions=[{"type": "forward", "target_group_arn": group.arn}],
                tags=tags(f"{name}-listener-{model}", model=model),
                opts=child,
            )
            target_groups[model] = group
            backend_urls[model] = pulumi.Output.concat("http://", nlb.dns_name, f":{port}")

        vpc_link = aws.apigateway.VpcLink(
            f"{name}-vpc-link",
            name=f"llm-{args.environment}-{args.region}",
            description="API Gateway (REST) to the model servers' internal NLB",
            target_arn=nlb.arn,
            tags=tags(f"{name}-vpc-link"),
            opts=stateful,
        )

        # --- the controller that registers pod IPs ------------------------------------------------
        identity = PodIdentityRole(
            f"{name}-controller-identity",
            PodIdentityRoleArgs(
                cluster_name=args.cluster_name,
                cluster_arn=args.cluster_arn,
                namespace=CONTROLLER_NAMESPACE,
                service_account=CONTROLLER_SERVICE_ACCOUNT,
                policy=pulumi.Output.all(*[target_groups[m].arn for m in ports]).apply(
                    lambda arns: json.dumps(controller_policy(arns, args.region))
                ),
                component="gateway",
            ),
            opts=child,
        )
        controller = self._controller(name, args, identity)
        for backend in args.models:
            # Metadata from the namespace alone, so a preview knows the object's name before the ARN.
            metadata = pulumi.Output.from_input(backend.namespace).apply(
                lambda ns, model=backend.model: binding_metadata(model, ns)
            )
            spec = pulumi.Output.all(backend.service_name, target_groups[backend.model].arn).apply(
                lambda v: binding_spec(v[0], v[1])
            )
            KubernetesObject(
                f"{name}-binding-{backend.model}",
                {
                    "apiVersion": TARGET_GROUP_BINDING_API_VERSION,
                    "kind": "TargetGroupBinding",
                    "metadata": metadata,
                    "spec": spec,
                },
                # The CRD, the controller and the webhooks that default and validate the binding first.
                opts=pulumi.ResourceOptions(parent=self, depends_on=controller),
            )

        self.vpc_link_id = vpc_link.id
        self.nlb_arn = nlb.arn
        self.nlb_dns_name = nlb.dns_name
        self.listener_ports = ports
        self.backend_urls = backend_urls
        self.security_group_id = nlb_sg.id
        self.controller_role_arn = identity.role_arn
        self.register_outputs(
            {
                "vpc_link_id": self.vpc_link_id,
                "nlb_arn": self.nlb_arn,
                "nlb_dns_name": self.nlb_dns_name,
                "listener_ports": self.listener_ports,
                "backend_urls": self.backend_urls,
                "security_group_id": self.security_group_id,
                "controller_role_arn": self.controller_role_arn,
                "chart_version": CHART_VERSION,
            }
        )

    def _controller(self, name: str, args: PrivatePathArgs, identity: PodIdentityRole) -> list[pulumi.Resource]:
        """The controller's objects from the pinned chart (`lb_controller_manifests`), with its
        webhook CA and serving certificate issued here, as the chart's `webhookTLS` values take
        them; returns what a TargetGroupBinding must wait for."""
        child = pulumi.ResourceOptions(parent=self)
        namespace = CONTROLLER_NAMESPACE
        labels = {"app.kubernetes.io/part-of": "llm-serving", "component": "gateway"}
        ca_key = tls.PrivateKey(f"{name}-webhook-ca-key", algorithm="RSA", rsa_bits=2048, opts=child)
        ca = tls.SelfSignedCert(
            f"{name}-webhook-ca",
            private_key_pem=ca_key.private_key_pem,
            is_ca_certificate=True,
            subject=tls.SelfSignedCertSubjectArgs(common_name=f"{manifests.NAME}-ca"),
            validity_period_hours=WEBHOOK_CERT_VALIDITY_HOURS,
            allowed_uses=["cert_signing", "key_encipherment", "digital_signature"],
            opts=child,
        )
        key = tls.PrivateKey(f"{name}-webhook-key", algorithm="RSA", rsa_bits=2048, opts=child)
        request = tls.CertRequest(
            f"{name}-webhook-csr",
            private_key_pem=key.private_key_pem,
            subject=tls.CertRequestSubjectArgs(common_name=manifests.NAME),
            dns_names=manifests.webhook_dns_names(namespace),
            opts=child,
        )
        cert = tls.LocallySignedCert(
            f"{name}-webhook-cert",
            cert_request_pem=request.cert_request_pem,
            ca_private_key_pem=ca_key.private_key_pem,
            ca_cert_pem=ca.cert_pem,
            validity_period_hours=WEBHOOK_CERT_VALIDITY_HOURS,
            allowed_uses=["server_auth", "key_encipherment", "digital_signature"],
            opts=child,
        )
        secret_data = pulumi.Output.all(ca.cert_pem, cert.cert_pem, key.private_key_pem).apply(
            lambda pems: {k: _b64(v) for k, v in zip(("ca.crt", "tls.crt", "tls.key"), pems, strict=True)}
        )
        crds = ConfigGroup(f"{name}-crds", yaml_stream(manifests.crds()), child)
        setup = declare_objects(
            name, [*manifests.objects(namespace, labels), manifests.tls_secret(namespace, secret_data, labels)], child
        )
        controller_args = pulumi.Output.from_input(args.vpc_id).apply(
            lambda vpc_id: manifests.controller_args(args.cluster_name, args.region, vpc_id, CONTROLLER_DEFAULT_TAGS)
        )
        deployment = declare_objects(
            name,
            [
                manifests.deployment(
                    namespace,
                    args.controller_replicas,
                    controller_args,
                    controller_affinity(),
                    args.node_selector,
                    labels,
                )
            ],
            # The association must exist before the controller starts, or it runs without credentials.
            pulumi.ResourceOptions(parent=self, depends_on=[identity, crds, *setup.values()]),
        )
        # Registered once the controller serves them: with failurePolicy Fail, a webhook without a
        # server would reject every TargetGroupBinding.
        webhooks = declare_objects(
            name,
            manifests.webhook_configurations(namespace, ca.cert_pem.apply(_b64), labels),
            pulumi.ResourceOptions(parent=self, depends_on=list(deployment.values())),
        )
        return [
            crds,
            *deployment.values(),
            *webhooks.values(),
        ]


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()
