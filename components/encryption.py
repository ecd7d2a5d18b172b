"""Customer-managed KMS keys, one per purpose, with least-privilege key policies.

Every key policy starts with the account-root statement AWS requires so that IAM policies can
grant use of the key; each purpose then names only the AWS service (or the service-linked role)
that must use the key without an IAM policy of its own, or narrows account use to one service
through `kms:ViaService`. No statement has a wildcard principal. `key_policy` is a pure function
so tests and the policy pack can inspect the documents without Pulumi.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components.arg_checks import ACCOUNT_ID, AWS_REGION, ENVIRONMENT_NAME

PURPOSES = ("eks-secrets", "weights", "logs", "ebs", "lambda")
"""Key purposes, in creation order; also the keys of `Encryption.key_arns`."""

# aws-cn is left out on purpose: its service principals and endpoints use other DNS suffixes.
PARTITIONS = ("aws", "aws-us-gov")
DELETION_WINDOW_DAYS = 30  # the maximum: time to notice a mistaken deletion before data is lost
ROTATION_PERIOD_DAYS = 365

_MULTI_REGION_KEY_ARN = re.compile(
    r"^arn:(?P<partition>[a-z-]+):kms:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):key/mrk-[0-9a-f]{32}$"
)

_DESCRIPTIONS = {
    "eks-secrets": "envelope encryption of Kubernetes Secrets in the EKS clusters",
    "weights": "model weights in S3 (multi-Region so replicas decrypt in every serving region)",
    "logs": "CloudWatch log groups (VPC flow logs, EKS control plane, application logs)",
    "ebs": "EBS volumes of the EKS nodes",
    "lambda": "environment variables of Lambda functions (the tenant authorizer's key-digest table)",
}


def _check_partition_region(partition: str, region: str, field: str = "region") -> None:
    if partition not in PARTITIONS:
        raise ValueError(f"partition: must be one of {', '.join(PARTITIONS)} (got {partition!r})")
    if not AWS_REGION.fullmatch(region):
        raise ValueError(f"{field}: must be an AWS region name such as us-east-1 (got {region!r})")
    if region.startswith("cn-") or (partition == "aws-us-gov") != region.startswith("us-gov-"):
        raise ValueError(f"{field}: {region!r} is not a region of partition {partition!r}")


def key_policy(purpose: str, account_id: str, region: str, partition: str = "aws") -> dict[str, Any]:
    """The key policy document for the `purpose` key in `region` of `account_id`."""
    if purpose not in PURPOSES:
        raise ValueError(f"purpose: must be one of {', '.join(PURPOSES)} (got {purpose!r})")
    if not isinstance(account_id, str) or not ACCOUNT_ID.fullmatch(account_id):
        raise ValueError(f"account_id: must be a 12-digit AWS account id (got {account_id!r})")
    _check_partition_region(partition, region)
    account_root = f"arn:{partition}:iam::{account_id}:root"

    def via(sid: str, service: str, actions: list[str], *, caller_account: bool = False) -> dict[str, Any]:
        # Principals of this account, but only when the named service calls KMS on their behalf.
        condition = {"kms:ViaService": f"{service}.{region}.amazonaws.com"}
        if caller_account:
            condition["kms:CallerAccount"] = account_id
        return {
            "Sid": sid,
            "Effect": "Allow",
            "Principal": {"AWS": account_root},
            "Action": actions,
            "Resource": "*",
            "Condition": {"StringEquals": condition},
        }

    statements: list[dict[str, Any]] = [
        {
            # AWS's default statement: without it IAM policies cannot grant use of the key and the
            # key becomes unmanageable if the named principals are ever deleted.
            "Sid": "EnableRootAccountAdministration",
            "Effect": "Allow",
            "Principal": {"AWS": account_root},
            "Action": "kms:*",
            "Resource": "*",
        }
    ]
    if purpose == "logs":
        statements.append(
            {
                # CloudWatch Logs encrypts with its own service principal; the encryption context
                # pins it to log groups of this account and region.
                "Sid": "AllowCloudWatchLogsForLogGroupsOfThisAccount",
                "Effect": "Allow",
                "Principal": {"Service": f"logs.{region}.amazonaws.com"},
                "Action": [
                    "kms:Encrypt*",
                    "kms:Decrypt*",
                    "kms:ReEncrypt*",
                    "kms:GenerateDataKey*",
                    "kms:Describe*",
                ],
                "Resource": "*",
                "Condition": {
                    "ArnLike": {
                        "kms:EncryptionContext:aws:logs:arn": (
                            f"arn:{partition}:logs:{region}:{account_id}:log-group:*"
                        )
                    }
                },
            }
        )
    elif purpose == "ebs":
        # Node groups launch through Auto Scaling, whose service-linked role has no IAM policy we
        # control: it must be named in the key policy to attach encrypted volumes.
        autoscaling_role = (
            f"arn:{partition}:iam::{account_id}:role/aws-service-role/autoscaling.amazonaws.com/"
            "AWSServiceRoleForAutoScaling"
        )
        statements += [
            {
                "Sid": "AllowAutoScalingServiceLinkedRoleUse",
                "Effect": "Allow",
                "Principal": {"AWS": autoscaling_role},
                "Action": [
                    "kms:Encrypt",
                    "kms:Decrypt",
                    "kms:ReEncrypt*",
                    "kms:GenerateDataKey*",
                    "kms:DescribeKey",
                ],
                "Resource": "*",
            },
            {
                "Sid": "AllowAutoScalingServiceLinkedRoleGrantsForAwsResources",
                "Effect": "Allow",
                "Principal": {"AWS": autoscaling_role},
                "Action": "kms:CreateGrant",
                "Resource": "*",
                "Condition": {"Bool": {"kms:GrantIsForAWSResource": True}},
            },
            via(
                "AllowAccountUseViaEc2",
                "ec2",
                [
                    "kms:Encrypt",
                    "kms:Decrypt",
                    "kms:ReEncrypt*",
                    "kms:GenerateDataKey*",
                    "kms:CreateGrant",
                    "kms:DescribeKey",
                ],
                caller_account=True,
            ),
        ]
    elif purpose == "weights":
        # The model-server and replication roles' IAM policies grant the actual use.
        statements.append(via("AllowAccountUseViaS3", "s3", ["kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"]))
    elif purpose == "lambda":
        # Lambda encrypts a function's environment with the deployer's rights and creates a grant
        # for the execution role to decrypt it (Lambda developer guide, "Securing Lambda environment
        # variables"); both only through Lambda, and grants only for Lambda itself.
        statements += [
            via("AllowAccountUseViaLambda", "lambda", ["kms:Encrypt", "kms:Decrypt", "kms:DescribeKey"]),
            {
                "Sid": "AllowGrantsForLambdaOnly",
                "Effect": "Allow",
                "Principal": {"AWS": account_root},
                "Action": "kms:CreateGrant",
                "Resource": "*",
                "Condition": {
                    "StringEquals": {"kms:ViaService": f"lambda.{region}.amazonaws.com"},
                    "Bool": {"kms:GrantIsForAWSResource": "true"},
                },
            },
        ]
    else:  # eks-secrets; the EKS cluster role's IAM policy grants the actual use
        statements.append(
            via(
                "AllowAccountUseViaEks",
                "eks",
                ["kms:Encrypt", "kms:Decrypt", "kms:DescribeKey", "kms:CreateGrant"],
            )
        )
    return {"Version": "2012-10-17", "Id": f"llm-serving-{purpose}", "Statement": statements}


@dataclass(frozen=True)
class EncryptionArgs:
    environment: str
    """Environment (dev, staging, prod); part of each alias, alias/llm-serving/<environment>/<purpose>."""
    region: str
    """Region of the provider this component runs under; the key policies name its service endpoints."""
    account_id: pulumi.Input[str]
    """The 12-digit account that owns the keys (from `aws.get_caller_identity_output`)."""
    partition: str = "aws"
    """AWS partition: aws or aws-us-gov (aws-cn is not supported)."""
    weights_primary_key_arn: pulumi.Input[str] | None = None
    """None in the primary region (the weights key is created there as a multi-Region primary key);
    in a secondary region, the primary's ARN, and the weights key becomes a replica of it."""
    protect: bool = False
    """Protect the keys from `pulumi destroy` and replacement; true in prod (keys are stateful)."""
    create_autoscaling_service_linked_role: bool = False
    """Create AWSServiceRoleForAutoScaling. KMS rejects a key policy that names a role which does not
    exist, and a new account gets this role only with its first Auto Scaling group. Set it in at
    most one region of an account that has never used Auto Scaling (the role is global)."""

    def __post_init__(self) -> None:
        if not isinstance(self.environment, str) or not ENVIRONMENT_NAME.fullmatch(self.environment):
            raise ValueError(
                "environment: must be lowercase letters, digits and '-' (2-32 characters, e.g. prod); "
                f"got {self.environment!r}"
            )
        _check_partition_region(self.partition, self.region)
        if isinstance(self.account_id, str) and not ACCOUNT_ID.fullmatch(self.account_id):
            raise ValueError(f"account_id: must be a 12-digit AWS account id (got {self.account_id!r})")
        arn = self.weights_primary_key_arn
        if isinstance(arn, str):
            match = _MULTI_REGION_KEY_ARN.fullmatch(arn)
            if not match:
                raise ValueError(
                    "weights_primary_key_arn: must be the ARN of a multi-Region primary key, "
                    f"arn:<partition>:kms:<region>:<account>:key/mrk-<32 hex> (got {arn!r})"
                )
            if match["region"] == self.region:
                raise ValueError(
                    f"weights_primary_key_arn: the primary key is in {self.region}, this component's region; "
                    "set it to None in the primary region"
                )
            if match["partition"] != self.partition:
                raise ValueError(
                    f"weights_primary_key_arn: key is in partition {match['partition']!r}, not {self.partition!r}"
                )


class Encryption(pulumi.ComponentResource):
    """One symmetric customer-managed KMS key per purpose (see PURPOSES), with aliases."""

    key_arns: dict[str, pulumi.Output[str]]
    """Key ARN by purpose. In a secondary region the weights ARN is the replica's (same key id)."""

    def __init__(self, name: str, args: EncryptionArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("llm-serving:security:Encryption", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)

        autoscaling_role: list[pulumi.Resource] = []
        if args.create_autoscaling_service_linked_role:
            autoscaling_role.append(
                aws.iam.ServiceLinkedRole(
                    f"{name}-autoscaling-slr",
                    aws_service_name="autoscaling.amazonaws.com",
                    description="Auto Scaling service-linked role; the EBS key policy names it",
                    tags=self._tags(f"{name}-autoscaling-slr"),
                    # Account-wide and used by every Auto Scaling group: never delete it with us.
                    opts=pulumi.ResourceOptions(parent=self, retain_on_delete=True),
                )
            )

        self.key_arns = {}
        for purpose in PURPOSES:
            key_name = f"{name}-{purpose}"
            policy = pulumi.Output.from_input(args.account_id).apply(
                lambda account, purpose=purpose: json.dumps(key_policy(purpose, account, args.region, args.partition))
            )
            description = f"llm-serving {args.environment} {purpose}: {_DESCRIPTIONS[purpose]}"
            # Keys hold the only way to read their data: protect them where the caller asks (prod).
            key_opts = pulumi.ResourceOptions(
                parent=self,
                protect=args.protect,
                depends_on=autoscaling_role if purpose == "ebs" else None,
            )
            key: aws.kms.Key | aws.kms.ReplicaKey
            if purpose == "weights" and args.weights_primary_key_arn is not None:
                # Rotation and key material follow the primary; a replica has no rotation settings.
                key = aws.kms.ReplicaKey(
                    key_name,
                    primary_key_arn=args.weights_primary_key_arn,
                    description=description,
                    policy=policy,
                    deletion_window_in_days=DELETION_WINDOW_DAYS,
                    enabled=True,
                    tags=self._tags(key_name),
                    opts=key_opts,
                )
            else:
                key = aws.kms.Key(
                    key_name,
                    description=description,
                    key_usage="ENCRYPT_DECRYPT",
                    customer_master_key_spec="SYMMETRIC_DEFAULT",
                    # Multi-Region only for weights: replicas share key material, so replicated
                    # objects decrypt in every serving region. Cannot be changed after creation.
                    multi_region=purpose == "weights",
                    enable_key_rotation=True,
                    rotation_period_in_days=ROTATION_PERIOD_DAYS,
                    deletion_window_in_days=DELETION_WINDOW_DAYS,
                    policy=policy,
                    tags=self._tags(key_name),
                    opts=key_opts,
                )
            aws.kms.Alias(
                f"{key_name}-alias",
                name=f"alias/llm-serving/{args.environment}/{purpose}",
                target_key_id=key.key_id,
                opts=child,
            )
            self.key_arns[purpose] = key.arn

        self.register_outputs(
            {
                "key_arns": self.key_arns,
                "eks_secrets_key_arn": self.eks_secrets_key_arn,
                "weights_key_arn": self.weights_key_arn,
                "logs_key_arn": self.logs_key_arn,
                "ebs_key_arn": self.ebs_key_arn,
                "lambda_key_arn": self.lambda_key_arn,
            }
        )

    @staticmethod
    def _tags(name: str) -> dict[str, str]:
        return {"Name": name, "component": "encryption"}

    @property
    def eks_secrets_key_arn(self) -> pulumi.Output[str]:
        return self.key_arns["eks-secrets"]

    @property
    def weights_key_arn(self) -> pulumi.Output[str]:
        return self.key_arns["weights"]

    @property
    def logs_key_arn(self) -> pulumi.Output[str]:
        return self.key_arns["logs"]

    @property
    def ebs_key_arn(self) -> pulumi.Output[str]:
        return self.key_arns["ebs"]

    @property
    def lambda_key_arn(self) -> pulumi.Output[str]:
        return self.key_arns["lambda"]
