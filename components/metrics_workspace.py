"""The region's Amazon Managed Service for Prometheus workspace: where scaling signals are stored and queried.

The workspace is encrypted with its own customer-managed key (AMP uses it through grants it
creates on the caller's behalf, so the key policy allows account principals only via
`aps.<region>.amazonaws.com`) and logs rule/ingestion errors to a KMS-encrypted log group.
`workspace_key_policy` is pure so tests and the policy pack can read the document.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components.arg_checks import ACCOUNT_ID, check_environment_name, check_region
from components.conventions import LOG_RETENTION_DAYS
from components.encryption import DELETION_WINDOW_DAYS, ROTATION_PERIOD_DAYS


def workspace_key_policy(account_id: str, region: str, partition: str = "aws") -> dict[str, Any]:
    """Key policy of the workspace key: account administration, and use only through AMP."""
    if not ACCOUNT_ID.fullmatch(account_id):
        raise ValueError(f"account_id: must be a 12-digit AWS account id (got {account_id!r})")
    root = f"arn:{partition}:iam::{account_id}:root"
    return {
        "Version": "2012-10-17",
        "Id": "llm-serving-metrics",
        "Statement": [
            {
                "Sid": "EnableRootAccountAdministration",
                "Effect": "Allow",
                "Principal": {"AWS": root},
                "Action": "kms:*",
                "Resource": "*",
            },
            {
                # AMP encrypts with grants it creates for the caller; only through the AMP endpoint.
                "Sid": "AllowAccountUseViaAmp",
                "Effect": "Allow",
                "Principal": {"AWS": root},
                "Action": ["kms:Decrypt", "kms:GenerateDataKey*", "kms:CreateGrant", "kms:DescribeKey"],
                "Resource": "*",
                "Condition": {
                    "StringEquals": {
                        "kms:ViaService": f"aps.{region}.amazonaws.com",
                        "kms:CallerAccount": account_id,
                    }
                },
            },
        ],
    }


@dataclass(frozen=True)
class MetricsWorkspaceArgs:
    environment: str
    """dev, staging or prod: part of the workspace alias, key alias and log group name."""
    region: str
    """Region of the provider this component runs under (the key policy names AMP's endpoint there)."""
    account_id: pulumi.Input[str]
    """The account that owns the workspace and its key."""
    logs_key_arn: pulumi.Input[str]
    """KMS key of the workspace's log group (the region's `logs` key from Encryption)."""
    log_retention_days: int = 365
    """Retention of the workspace log group; one of the values CloudWatch Logs accepts."""
    partition: str = "aws"
    protect: bool = False
    """Protect the workspace (metric history) and its key from deletion; true in prod."""

    def __post_init__(self) -> None:
        check_environment_name(self.environment)
        check_region(self.region)
        if isinstance(self.account_id, str) and not ACCOUNT_ID.fullmatch(self.account_id):
            raise ValueError(f"account_id: must be a 12-digit AWS account id (got {self.account_id!r})")
        if isinstance(self.log_retention_days, bool) or self.log_retention_days not in LOG_RETENTION_DAYS:
            raise ValueError(
                f"log_retention_days: must be one of {', '.join(map(str, LOG_RETENTION_DAYS))} "
                f"(got {self.log_retention_days!r})"
            )
        if self.partition not in ("aws", "aws-us-gov"):
            raise ValueError(f"partition: must be one of aws, aws-us-gov (got {self.partition!r})")


class MetricsWorkspace(pulumi.ComponentResource):
    """An AMP workspace with a dedicated KMS key and a KMS-encrypted log group."""

    workspace_arn: pulumi.Output[str]
    workspace_id: pulumi.Output[str]
    query_url: pulumi.Output[str]
    """Prometheus-compatible base URL for queries (KEDA's serverAddress; append /api/v1/query)."""
    remote_write_url: pulumi.Output[str]

    def __init__(self, name: str, args: MetricsWorkspaceArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("llm-serving:observability:MetricsWorkspace", name, None, opts)
        stateful = pulumi.ResourceOptions(parent=self, protect=args.protect)

        key = aws.kms.Key(
            f"{name}-key",
            description=f"llm-serving {args.environment} metrics: Amazon Managed Service for Prometheus workspace",
            key_usage="ENCRYPT_DECRYPT",
            customer_master_key_spec="SYMMETRIC_DEFAULT",
            enable_key_rotation=True,
            rotation_period_in_days=ROTATION_PERIOD_DAYS,
            deletion_window_in_days=DELETION_WINDOW_DAYS,
            policy=pulumi.Output.from_input(args.account_id).apply(
                lambda account: json.dumps(workspace_key_policy(account, args.region, args.partition))
            ),
            tags={"Name": f"{name}-key", "component": "metrics"},
            opts=stateful,
        )
        aws.kms.Alias(
            f"{name}-key-alias",
            name=f"alias/llm-serving/{args.environment}/metrics",
            target_key_id=key.key_id,
            opts=pulumi.ResourceOptions(parent=self),
        )
        # AMP's vended logs go to /aws/vendedlogs/..., which keeps the logs resource policy small.
        log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs",
            name=f"/aws/vendedlogs/prometheus/llm-serving-{args.environment}",
            retention_in_days=args.log_retention_days,
            kms_key_id=args.logs_key_arn,
            tags={"Name": f"{name}-logs", "component": "metrics"},
            opts=pulumi.ResourceOptions(parent=self),
        )
        workspace = aws.amp.Workspace(
            f"{name}-workspace",
            alias=f"llm-serving-{args.environment}",
            kms_key_arn=key.arn,
            # AMP wants the log-stream wildcard form of the log group ARN.
            logging_configuration=aws.amp.WorkspaceLoggingConfigurationArgs(
                log_group_arn=log_group.arn.apply(lambda arn: arn if arn.endswith(":*") else f"{arn}:*")
            ),
            tags={"Name": f"{name}-workspace", "component": "metrics"},
            opts=stateful,
        )

        self.key_arn = key.arn
        self.workspace_arn = workspace.arn
        self.workspace_id = workspace.id
        self.query_url = workspace.id.apply(
            lambda workspace_id: f"https://aps-workspaces.{args.region}.amazonaws.com/workspaces/{workspace_id}"
        )
        self.remote_write_url = self.query_url.apply(lambda url: f"{url}/api/v1/remote_write")
        self.register_outputs(
            {
                "key_arn": self.key_arn,
                "workspace_arn": self.workspace_arn,
                "workspace_id": self.workspace_id,
                "query_url": self.query_url,
                "remote_write_url": self.remote_write_url,
            }
        )
