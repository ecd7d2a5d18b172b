"""An IAM role one Kubernetes service account assumes through EKS Pod Identity, and nothing else.

The trust policy names only the Pod Identity service and pins it to this account and this
cluster (`aws:SourceAccount`, `aws:SourceArn`: the confused-deputy guard AWS documents); the
association binds the role to exactly one namespace/service account. `trust_policy` is pure.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components.arg_checks import DNS_LABEL

_CLUSTER_ARN = re.compile(r"^arn:(?P<partition>[a-z-]+):eks:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):cluster/.+$")


def trust_policy(cluster_arn: str) -> dict[str, Any]:
    """Trust of a Pod Identity role: pods of `cluster_arn` only."""
    match = _CLUSTER_ARN.fullmatch(cluster_arn)
    if not match:
        raise ValueError(f"cluster_arn: must be an EKS cluster ARN (got {cluster_arn!r})")
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "EksPodIdentityOfThisCluster",
                "Effect": "Allow",
                "Principal": {"Service": "pods.eks.amazonaws.com"},
                "Action": ["sts:AssumeRole", "sts:TagSession"],
                "Condition": {
                    "StringEquals": {"aws:SourceAccount": match["account"]},
                    "ArnEquals": {"aws:SourceArn": cluster_arn},
                },
            }
        ],
    }


@dataclass(frozen=True)
class PodIdentityRoleArgs:
    cluster_name: pulumi.Input[str]
    """EKS cluster the service account lives in."""
    cluster_arn: pulumi.Input[str]
    """Its ARN: the trust policy accepts only this cluster."""
    namespace: str
    """Namespace of the service account."""
    service_account: str
    """Name of the service account (it need not exist yet: the association is by name)."""
    policy: pulumi.Input[str]
    """The role's only permissions: an IAM policy document as JSON, scoped to ARNs."""
    component: str
    """Value of the `component` tag (the component that owns the workload)."""

    def __post_init__(self) -> None:
        for field in ("namespace", "service_account"):
            value = getattr(self, field)
            if not isinstance(value, str) or not DNS_LABEL.fullmatch(value):
                raise ValueError(f"{field}: must be a Kubernetes name (DNS label) (got {value!r})")


class PodIdentityRole(pulumi.ComponentResource):
    """Role + inline policy + Pod Identity association for one service account."""

    role_arn: pulumi.Output[str]

    def __init__(self, name: str, args: PodIdentityRoleArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("llm-serving:security:PodIdentityRole", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags = {"Name": name, "component": args.component}
        role = aws.iam.Role(
            f"{name}-role",
            description=f"EKS Pod Identity: {args.namespace}/{args.service_account}",
            assume_role_policy=pulumi.Output.from_input(args.cluster_arn).apply(
                lambda arn: json.dumps(trust_policy(arn))
            ),
            max_session_duration=3600,
            tags=tags,
            opts=child,
        )
        aws.iam.RolePolicy(f"{name}-policy", role=role.name, policy=args.policy, opts=child)
        aws.eks.PodIdentityAssociation(
            f"{name}-association",
            cluster_name=args.cluster_name,
            namespace=args.namespace,
            service_account=args.service_account,
            role_arn=role.arn,
            tags=tags,
            opts=child,
        )
        self.role_arn = role.arn
        self.register_outputs({"role_arn": self.role_arn})
