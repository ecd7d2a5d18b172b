"""RolesAnywhere: short-lived AWS credentials for on-prem workloads, from the data centre's CA.

IAM Roles Anywhere trusts the data centre's CA (a trust anchor from its certificate). Per on-prem
target and purpose, a role that only a certificate with CN `llm-<purpose>-<target>` issued by that CA
can assume, and a profile that hands it out for an hour:

- `weights`: the model servers' own read policy (`weights.model_server_policy`: `models/` of the
  primary bucket, decrypt through S3); the pods run AWS's credential helper as the CLI's
  `credential_process` (`serving.RolesAnywhereCredentials`).
- `metrics`: `aps:RemoteWrite` on the primary region's AMP workspace and nothing else; the target's
  metrics collector runs the helper as a localhost credentials endpoint (`metrics_collector`).

- `nodes` (EKS Hybrid Nodes targets): the hybrid nodes role nodeadm joins the region's cluster with;
  one certificate per machine, CN `llm-node-<target>-<host>`, which names the node and the session
  (`hybrid_nodes`), and the profile accepts that session name.

One certificate per purpose: a leaked metrics key cannot read weights, and the reverse. No static key
exists.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from components import aws_managed_policies
from components.arg_checks import check_environment, check_region
from components.hybrid_nodes import node_policy, node_trust_policy
from components.metrics_collector import remote_write_policy
from components.weights import model_server_policy

SESSION_SECONDS = 3600
# The hybrid nodes role's longest session: above the profile's hour, as the EKS guide asks of it
# ("Prepare credentials for hybrid nodes": the role's MaxSessionDuration greater than the profile's).
NODE_ROLE_MAX_SESSION_SECONDS = 2 * SESSION_SECONDS
PURPOSES = ("weights", "metrics")


def certificate_common_name(target: str, purpose: str = "weights") -> str:
    """The CN the data centre's CA puts in `target`'s certificate for `purpose`."""
    if purpose not in PURPOSES:
        raise ValueError(f"purpose: must be one of {', '.join(PURPOSES)} (got {purpose!r})")
    return f"llm-{purpose}-{target}"


def trust_policy(trust_anchor_arn: str, target: str, purpose: str = "weights") -> dict[str, Any]:
    """Roles Anywhere may assume the role for a certificate of this trust anchor with the target's CN."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "RolesAnywhereWithTheTargetsCertificate",
                "Effect": "Allow",
                "Principal": {"Service": "rolesanywhere.amazonaws.com"},
                "Action": ["sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"],
                "Condition": {
                    "ArnEquals": {"aws:SourceArn": trust_anchor_arn},
                    "StringEquals": {"aws:PrincipalTag/x509Subject/CN": certificate_common_name(target, purpose)},
                },
            }
        ],
    }


@dataclass(frozen=True)
class HybridNodeTarget:
    """An eks-hybrid-nodes target and the cluster its machines join."""

    target: str
    cluster_arn: pulumi.Input[str]


@dataclass(frozen=True)
class RolesAnywhereArgs:
    environment: str
    region: str
    """The weights bucket's and the metrics workspace's (primary) region."""
    datacentre: str
    ca_certificate: str
    bucket_arn: pulumi.Input[str]
    kms_key_arn: pulumi.Input[str]
    weights_targets: tuple[str, ...] = ()
    """Targets whose model servers read the weights bucket."""
    workspace_arn: pulumi.Input[str] | None = None
    """The primary region's AMP workspace (required with `metrics_targets`)."""
    metrics_targets: tuple[str, ...] = ()
    """Targets whose metrics collector remote-writes to that workspace."""
    node_targets: tuple[HybridNodeTarget, ...] = ()
    """eks-hybrid-nodes targets whose machines join a region's cluster with the hybrid nodes role."""

    def __post_init__(self) -> None:
        check_environment(self.environment)
        check_region(self.region)
        if not (self.weights_targets or self.metrics_targets or self.node_targets):
            raise ValueError(
                "weights_targets, metrics_targets, node_targets: at least one on-prem target needs credentials"
            )
        if self.metrics_targets and self.workspace_arn is None:
            raise ValueError("workspace_arn: required with metrics_targets (the workspace they write to)")
        if not self.ca_certificate.startswith("-----BEGIN CERTIFICATE-----"):
            raise ValueError("ca_certificate: must be a PEM certificate")


@dataclass(frozen=True)
class TargetCredentials:
    trust_anchor_arn: pulumi.Output[str]
    profile_arn: pulumi.Output[str]
    role_arn: pulumi.Output[str]


@dataclass
class IssuedCredentials:
    weights: dict[str, TargetCredentials] = field(default_factory=dict)
    metrics: dict[str, TargetCredentials] = field(default_factory=dict)
    nodes: dict[str, TargetCredentials] = field(default_factory=dict)


class RolesAnywhere(pulumi.ComponentResource):
    """Trust anchor for the data centre's CA; per target and purpose a role and a profile (`issued`)."""

    issued: IssuedCredentials

    def __init__(self, name: str, args: RolesAnywhereArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("llm-serving:identity:RolesAnywhere", name, None, opts)
        tags = {"component": "roles-anywhere", "llm-serving/datacentre": args.datacentre}
        anchor = aws.rolesanywhere.TrustAnchor(
            f"{name}-trust-anchor",
            name=f"llm-serving-{args.environment}-{args.datacentre}",
            enabled=True,
            source=aws.rolesanywhere.TrustAnchorSourceArgs(
                source_type="CERTIFICATE_BUNDLE",
                source_data=aws.rolesanywhere.TrustAnchorSourceSourceDataArgs(
                    x509_certificate_data=args.ca_certificate
                ),
            ),
            tags={**tags, "Name": f"{name}-trust-anchor"},
            opts=pulumi.ResourceOptions(parent=self),
        )
        weights_policy = pulumi.Output.all(args.bucket_arn, args.kms_key_arn).apply(
            lambda v: json.dumps(model_server_policy(v[0], v[1], args.region))
        )
        metrics_policy = pulumi.Output.from_input(args.workspace_arn or "").apply(
            lambda arn: json.dumps(remote_write_policy(arn))
        )
        self.issued = IssuedCredentials()
        for purpose, targets, policy, issued in (
            ("weights", args.weights_targets, weights_policy, self.issued.weights),
            ("metrics", args.metrics_targets, metrics_policy, self.issued.metrics),
        ):
            for target in targets:
                trust = anchor.arn.apply(lambda arn, t=target, p=purpose: json.dumps(trust_policy(arn, t, p)))
                issued[target] = self._role(name, args, anchor, target, purpose, policy, trust, tags)
        if args.node_targets:
            pull_images = aws.get_partition_output(opts=pulumi.InvokeOutputOptions(parent=self)).partition.apply(
                lambda p: aws_managed_policies.managed_policy_arn(aws_managed_policies.ECR_PULL_ONLY, p)
            )
        for node in args.node_targets:
            trust = anchor.arn.apply(lambda arn, t=node.target: json.dumps(node_trust_policy(arn, t)))
            policy = pulumi.Output.from_input(node.cluster_arn).apply(lambda arn: json.dumps(node_policy(arn)))
            self.issued.nodes[node.target] = self._role(
                name, args, anchor, node.target, "nodes", policy, trust, tags, hybrid_node=pull_images
            )
        self.register_outputs({"trust_anchor_arn": anchor.arn})

    def _role(
        self,
        name: str,
        args: RolesAnywhereArgs,
        anchor: aws.rolesanywhere.TrustAnchor,
        target: str,
        purpose: str,
        policy: pulumi.Output[str],
        trust: pulumi.Output[str],
        tags: Mapping[str, str],
        hybrid_node: pulumi.Output[str] | None = None,
    ) -> TargetCredentials:
        """One target's role for one purpose, its policies and the profile that vends it.

        `hybrid_node` (the ECR pull-only policy's ARN) makes it the hybrid nodes role: that policy
        attached, a session longer than the profile's, and a profile that accepts the session name
        nodeadm asks for (the node's name, which the trust pins to the certificate's CN)."""
        child = pulumi.ResourceOptions(parent=self)
        prefix = f"{name}-{target}-{purpose}"

        def labels(suffix: str) -> dict[str, str]:
            return {**tags, "Name": f"{prefix}-{suffix}", "target": target, "purpose": purpose}

        role = aws.iam.Role(
            f"{prefix}-role",
            description=f"llm-serving {args.environment}: on-prem target {target}, {purpose}",
            assume_role_policy=trust,
            max_session_duration=NODE_ROLE_MAX_SESSION_SECONDS if hybrid_node is not None else SESSION_SECONDS,
            tags=labels("role"),
            opts=child,
        )
        aws.iam.RolePolicy(f"{prefix}-policy", role=role.id, policy=policy, opts=child)
        if hybrid_node is not None:
            aws.iam.RolePolicyAttachment(f"{prefix}-pull-images", role=role.name, policy_arn=hybrid_node, opts=child)
        profile = aws.rolesanywhere.Profile(
            f"{prefix}-profile",
            name=f"llm-serving-{args.environment}-{target}-{purpose}",
            enabled=True,
            role_arns=[role.arn],
            duration_seconds=SESSION_SECONDS,
            accept_role_session_name=True if hybrid_node is not None else None,
            tags=labels("profile"),
            opts=child,
        )
        return TargetCredentials(anchor.arn, profile.arn, role.arn)
