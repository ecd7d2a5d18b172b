"""An IAM role one Kubernetes service account assumes through EKS Pod Identity, and nothing else.

The trust policy names only the Pod Identity service and pins it to this account and this
cluster (`aws:SourceAccount`, `aws:SourceArn`: the confused-deputy guard AWS documents) and to the
namespace and service account through the session tags Pod Identity sets (`kubernetes-namespace`,
`kubernetes-service-account`; EKS user guide, "Create IAM role with trust policy required by EKS
Pod Identity", which is also why `sts:TagSession` is allowed). Without those, any association in
the cluster could name the role. `trust_policy` is pure.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components.arg_checks import DNS_LABEL

_CLUSTER_ARN = re.compile(r"^arn:(?P<partition>[a-z-]+):eks:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):cluster/.+$")


def trust_policy(cluster_arn: str, namespace: str, service_accounts: str | Sequence[str]) -> dict[str, Any]:
    """Trust of a Pod Identity role: pods of `cluster_arn` running as `namespace`/one of `service_accounts`."""
    match = _CLUSTER_ARN.fullmatch(cluster_arn)
    if not match:
        raise ValueError(f"cluster_arn: must be an EKS cluster ARN (got {cluster_arn!r})")
    accounts = [service_accounts] if isinstance(service_accounts, str) else list(service_accounts)
    for field, values in (("namespace", [namespace]), ("service_accounts", accounts)):
        if not values or not all(isinstance(v, str) and DNS_LABEL.fullmatch(v) for v in values):
            raise ValueError(f"{field}: must be Kubernetes names (DNS labels) (got {values!r})")
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "EksPodIdentityOfThisServiceAccount",
                "Effect": "Allow",
                "Principal": {"Service": "pods.eks.amazonaws.com"},
                "Action": ["sts:AssumeRole", "sts:TagSession"],
                "Condition": {
                    "StringEquals": {
                        "aws:SourceAccount": match["account"],
                        "aws:RequestTag/kubernetes-namespace": namespace,
                        "aws:RequestTag/kubernetes-service-account": accounts[0] if len(accounts) == 1 else accounts,
                    },
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
                lambda arn: json.dumps(trust_policy(arn, args.namespace, args.service_account))
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
