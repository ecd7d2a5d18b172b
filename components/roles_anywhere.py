"""WeightsRolesAnywhere: short-lived credentials for on-prem model servers to read the weights bucket.

IAM Roles Anywhere trusts the data centre's CA (a trust anchor from its certificate); per on-prem
target, a role that only a certificate with CN `llm-weights-<target>` issued by that CA can
assume, with the model servers' own read policy (`weights.model_server_policy`: `models/` of the
primary bucket, decrypt through S3), and a profile that hands it out for an hour. The pods run AWS's credential helper
(`serving.RolesAnywhereCredentials`); no static key exists.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components.arg_checks import check_environment, check_region
from components.weights import model_server_policy

SESSION_SECONDS = 3600


def certificate_common_name(target: str) -> str:
    """The CN the data centre's CA puts in the pods' certificate for `target`."""
    return f"llm-weights-{target}"


def trust_policy(trust_anchor_arn: str, target: str) -> dict[str, Any]:
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
                    "StringEquals": {"aws:PrincipalTag/x509Subject/CN": certificate_common_name(target)},
                },
            }
        ],
    }


@dataclass(frozen=True)
class WeightsRolesAnywhereArgs:
    environment: str
    region: str
    """The weights bucket's (primary) region."""
    datacentre: str
    ca_certificate: str
    bucket_arn: pulumi.Input[str]
    kms_key_arn: pulumi.Input[str]
    targets: tuple[str, ...]

    def __post_init__(self) -> None:
        check_environment(self.environment)
        check_region(self.region)
        if not self.targets:
            raise ValueError("targets: at least one on-prem target reads the weights bucket")
        if not self.ca_certificate.startswith("-----BEGIN CERTIFICATE-----"):
            raise ValueError("ca_certificate: must be a PEM certificate")


@dataclass(frozen=True)
class TargetCredentials:
    trust_anchor_arn: pulumi.Output[str]
    profile_arn: pulumi.Output[str]
    role_arn: pulumi.Output[str]


class WeightsRolesAnywhere(pulumi.ComponentResource):
    """Trust anchor for the data centre's CA; per target a role and a profile (`credentials[target]`)."""

    credentials: dict[str, TargetCredentials]

    def __init__(self, name: str, args: WeightsRolesAnywhereArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("llm-serving:storage:WeightsRolesAnywhere", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        tags = {"component": "weights", "llm-serving/datacentre": args.datacentre}
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
            opts=child,
        )
        self.credentials = {}
        for target in args.targets:
            role = aws.iam.Role(
                f"{name}-{target}-role",
                description=f"llm-serving {args.environment}: on-prem target {target} reads model weights",
                assume_role_policy=anchor.arn.apply(lambda arn, t=target: json.dumps(trust_policy(arn, t))),
                max_session_duration=SESSION_SECONDS,
                tags={**tags, "Name": f"{name}-{target}-role", "target": target},
                opts=child,
            )
            aws.iam.RolePolicy(
                f"{name}-{target}-read",
                role=role.id,
                policy=pulumi.Output.all(args.bucket_arn, args.kms_key_arn).apply(
                    lambda v: json.dumps(model_server_policy(v[0], v[1], args.region))
                ),
                opts=child,
            )
            profile = aws.rolesanywhere.Profile(
                f"{name}-{target}-profile",
                name=f"llm-serving-{args.environment}-{target}-weights",
                enabled=True,
                role_arns=[role.arn],
                duration_seconds=SESSION_SECONDS,
                tags={**tags, "Name": f"{name}-{target}-profile", "target": target},
                opts=child,
            )
            self.credentials[target] = TargetCredentials(anchor.arn, profile.arn, role.arn)
        self.register_outputs({"trust_anchor_arn": anchor.arn})
