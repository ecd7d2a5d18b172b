"""DeployRunner: the way into a region's VPC for `pulumi up`, a CodeBuild-hosted GitHub Actions runner.

The EKS API endpoints are private, so the Kubernetes half of the program can only be applied from
inside the VPC (or a network joined to it). This is a CodeBuild project in the private subnets,
registered as a self-hosted runner of the repository: the project's source is the GitHub repository
through a CodeConnections connection, and its webhook starts a build for every queued workflow job
(`WORKFLOW_JOB_QUEUED`) whose `runs-on` label names the project, `codebuild-<project>-${{
github.run_id }}-${{ github.run_attempt }}` (`components.codebuild.runs_on_label`). CodeBuild
User Guide, "Tutorial: Configure a CodeBuild-hosted GitHub Actions runner"
(https://docs.aws.amazon.com/codebuild/latest/userguide/action-runner.html).

The runner holds no deploy rights. Its service role may only write its own log group, manage the
build's network interfaces in these subnets, and use the one connection; the workflow job assumes
the deploy role itself with GitHub OIDC (`aws-actions/configure-aws-credentials`), and that role is
an admin of every cluster (`PlatformConfig.admin_roles`).

Network: its own security group, HTTPS only: to the VPC's CIDR (the EKS endpoint's ENIs, the
interface endpoints) and to anywhere through the NAT gateways (GitHub, PyPI, the Pulumi state
backend, AWS APIs without an endpoint here); the secondary regions' clusters over the deploy path
(`components.deploy_path`). DNS goes to the VPC resolver, which security groups do not filter.

The policy documents are pure functions, for tests and review.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components import codebuild
from components.arg_checks import ACCOUNT_ID, check_environment, check_region
from components.conventions import LOG_RETENTION_DAYS

COMPONENT = "deploy"
HTTPS = 443
# A job's limit: CodeBuild ends the build (and the runner) after this; a prod `pulumi up` that rolls
# out models waits up to an hour for each first rollout (ModelServer progress deadline).
BUILD_TIMEOUT_MINUTES = 180
# How long a queued job may wait for a build to start before CodeBuild gives up on it.
QUEUED_TIMEOUT_MINUTES = 60


def project_name(environment: str, region: str) -> str:
    """The CodeBuild project's name, the one the workflow's `runs-on` label carries."""
    name = f"llm-serving-{environment}-{region}-deploy"
    if not codebuild.PROJECT_NAME.fullmatch(name):
        raise ValueError(f"project name {name!r} is not a CodeBuild project name")
    return name


def log_group_name(project: str) -> str:
    """The build logs' group: CodeBuild's default name for the project, created here first
    (encrypted, with retention) instead of by CodeBuild on the first build."""
    return f"/aws/codebuild/{project}"


def trust_policy(partition: str, region: str, account_id: str, project: str) -> dict[str, Any]:
    """Only CodeBuild, building this project of this account, assumes the role (confused-deputy guard:
    aws:SourceAccount and aws:SourceArn; IAM user guide, "The confused deputy problem")."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "CodeBuildOfThisProject",
                "Effect": "Allow",
                "Principal": {"Service": "codebuild.amazonaws.com"},
                "Action": "sts:AssumeRole",
                "Condition": {
                    "StringEquals": {"aws:SourceAccount": account_id},
                    "ArnEquals": {
                        "aws:SourceArn": f"arn:{partition}:codebuild:{region}:{account_id}:project/{project}"
                    },
                },
            }
        ],
    }


def service_role_policy(
    partition: str,
    region: str,
    account_id: str,
    project: str,
    subnet_ids: Sequence[str],
    security_group_id: str,
    connection_arn: str,
) -> dict[str, Any]:
    """What the build itself needs, and no deploy right.

    - Logs: streams in the project's own log group (the group exists; it is not created here).
    - VPC builds: the network interfaces CodeBuild creates for each build in these subnets, as the
      CodeBuild User Guide documents them ("Allow CodeBuild access to AWS services required to
      create a VPC network interface", https://docs.aws.amazon.com/codebuild/latest/userguide/
      auth-and-access-control-iam-identity-based-access-control.html): the describe calls take no
      resource (held to this region); CreateNetworkInterface only in these subnets with this security
      group; deleting and the permission for codebuild.amazonaws.com only on interfaces in them.
    - The connection: its token, to check out the repository and register the runner (CodeBuild User
      Guide, "GitHub App connections", https://docs.aws.amazon.com/codebuild/latest/userguide/
      connections-github-app.html), under the connection ARN's own service prefix.
    """
    if not ACCOUNT_ID.fullmatch(account_id):
        raise ValueError(f"account_id: must be a 12-digit AWS account id (got {account_id!r})")
    if not subnet_ids:
        raise ValueError("subnet_ids: at least one subnet")
    service = codebuild.connection_service(connection_arn)
    ec2 = f"arn:{partition}:ec2:{region}:{account_id}"
    subnets = [f"{ec2}:subnet/{subnet}" for subnet in subnet_ids]
    group = log_group_name(project)
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "BuildLogsOfThisProject",
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": f"arn:{partition}:logs:{region}:{account_id}:log-group:{group}:*",
            },
            {
                "Sid": "DescribeTheBuildNetworkInThisRegion",
                "Effect": "Allow",
                "Action": [
                    "ec2:DescribeDhcpOptions",
                    "ec2:DescribeNetworkInterfaces",
                    "ec2:DescribeSubnets",
                    "ec2:DescribeSecurityGroups",
                    "ec2:DescribeVpcs",
                ],
                "Resource": "*",
                "Condition": {"StringEquals": {"aws:RequestedRegion": region}},
            },
            {
                # The new interface has no ARN yet: the subnets and the security group scope it.
                "Sid": "BuildInterfacesInThePrivateSubnets",
                "Effect": "Allow",
                "Action": "ec2:CreateNetworkInterface",
                "Resource": [f"{ec2}:network-interface/*", *subnets, f"{ec2}:security-group/{security_group_id}"],
            },
            {
                "Sid": "DeleteBuildInterfacesInThePrivateSubnets",
                "Effect": "Allow",
                "Action": "ec2:DeleteNetworkInterface",
                "Resource": f"{ec2}:network-interface/*",
                "Condition": {"ArnEquals": {"ec2:Subnet": subnets}},
            },
            {
                "Sid": "HandBuildInterfacesToCodeBuild",
                "Effect": "Allow",
                "Action": "ec2:CreateNetworkInterfacePermission",
                "Resource": f"{ec2}:network-interface/*",
                "Condition": {
                    "StringEquals": {"ec2:AuthorizedService": "codebuild.amazonaws.com"},
                    "ArnEquals": {"ec2:Subnet": subnets},
                },
            },
            {
                "Sid": "UseTheRepositoryConnection",
                "Effect": "Allow",
                "Action": [f"{service}:UseConnection", f"{service}:GetConnection", f"{service}:GetConnectionToken"],
                "Resource": connection_arn,
            },
        ],
    }


def webhook_filter_groups() -> list[list[dict[str, str]]]:
    """One filter group: a queued GitHub Actions workflow job (its label picks the project)."""
    return [[{"type": codebuild.WEBHOOK_FILTER_TYPE, "pattern": codebuild.WORKFLOW_JOB_QUEUED}]]


@dataclass(frozen=True)
class DeployRunnerArgs:
    environment: str
    region: str
    """Region of the caller's AWS provider (ARNs in the policies)."""
    account_id: pulumi.Input[str]
    vpc_id: pulumi.Input[str]
    vpc_cidr: str
    """The VPC's CIDR: the EKS endpoint and the interface endpoints are in it (egress on 443)."""
    private_subnet_ids: Sequence[pulumi.Input[str]]
    """Where the builds run: private subnets with a route to a NAT gateway."""
    logs_key_arn: pulumi.Input[str]
    """Customer-managed key of the build log group (Encryption.logs_key_arn)."""
    github_repository: str
    """https://github.com/<owner>/<repo>."""
    connection_arn: str
    """The CodeConnections connection to GitHub, in this region and account."""
    compute_type: str = codebuild.DEFAULT_COMPUTE_TYPE
    log_retention_days: int = 365

    def __post_init__(self) -> None:
        check_environment(self.environment)
        check_region(self.region)
        if not codebuild.GITHUB_REPOSITORY.fullmatch(self.github_repository):
            raise ValueError(
                f"github_repository: must be https://github.com/<owner>/<repo> (got {self.github_repository!r})"
            )
        match = codebuild.CONNECTION_ARN.fullmatch(self.connection_arn)
        if match is None:
            raise ValueError(f"connection_arn: not a CodeConnections connection ARN (got {self.connection_arn!r})")
        if match["region"] != self.region:
            raise ValueError(f"connection_arn: in {match['region']}, not in the runner's region {self.region}")
        if self.compute_type not in codebuild.COMPUTE_TYPES:
            raise ValueError(
                f"compute_type: must be one of {', '.join(codebuild.COMPUTE_TYPES)} (got {self.compute_type!r})"
            )
        if self.log_retention_days not in LOG_RETENTION_DAYS:
            raise ValueError(
                f"log_retention_days: not a retention CloudWatch Logs keeps (got {self.log_retention_days!r})"
            )
        if not self.private_subnet_ids:
            raise ValueError("private_subnet_ids: at least one subnet")


class DeployRunner(pulumi.ComponentResource):
    """Needs the region's AWS provider in `opts`; `project_name` is what the workflow's `runs-on` names."""

    project_name: str
    project_arn: pulumi.Output[str]
    role_arn: pulumi.Output[str]
    security_group_id: pulumi.Output[str]

    def __init__(self, name: str, args: DeployRunnerArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("llm-serving:deploy:DeployRunner", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        project = self.project_name = project_name(args.environment, args.region)
        partition = aws.get_partition_output(opts=pulumi.InvokeOutputOptions(parent=self)).partition

        log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs",
            name=log_group_name(project),
            retention_in_days=args.log_retention_days,
            kms_key_id=args.logs_key_arn,
            tags=_tags(f"{name}-logs"),
            opts=child,
        )
        group = aws.ec2.SecurityGroup(
            f"{name}-sg",
            description="Deploy runner (CodeBuild): HTTPS out only, nothing in",
            vpc_id=args.vpc_id,
            tags=_tags(f"{name}-sg"),
            opts=child,
        )
        for rule, cidr, description in (
            ("to-vpc-https", args.vpc_cidr, "HTTPS to the VPC: the EKS API endpoint and the interface endpoints"),
            ("to-internet-https", "0.0.0.0/0", "HTTPS through the NAT: GitHub, package registries, AWS APIs"),
        ):
            aws.vpc.SecurityGroupEgressRule(
                f"{name}-{rule}",
                security_group_id=group.id,
                description=description,
                cidr_ipv4=cidr,
                ip_protocol="tcp",
                from_port=HTTPS,
                to_port=HTTPS,
                tags=_tags(f"{name}-{rule}"),
                opts=child,
            )

        role = aws.iam.Role(
            f"{name}-role",
            description=f"CodeBuild service role of the deploy runner {project}: logs, build ENIs, the connection",
            assume_role_policy=pulumi.Output.all(partition, args.account_id).apply(
                lambda v: json.dumps(trust_policy(v[0], args.region, v[1], project))
            ),
            tags=_tags(f"{name}-role"),
            opts=child,
        )
        policy = aws.iam.RolePolicy(
            f"{name}-policy",
            role=role.name,
            policy=pulumi.Output.all(partition, args.account_id, group.id, *args.private_subnet_ids).apply(
                lambda v: json.dumps(
                    service_role_policy(v[0], args.region, v[1], project, v[3:], v[2], args.connection_arn)
                )
            ),
            opts=child,
        )
        runner = aws.codebuild.Project(
            f"{name}-project",
            name=project,
            description=f"GitHub Actions runner for {args.github_repository} in the {args.region} VPC (pulumi up)",
            service_role=role.arn,
            source=aws.codebuild.ProjectSourceArgs(
                type=codebuild.SOURCE_TYPE,
                location=args.github_repository,
                auth=aws.codebuild.ProjectSourceAuthArgs(type=codebuild.SOURCE_AUTH_TYPE, resource=args.connection_arn),
                # The job's steps come from the workflow; CodeBuild only starts the runner.
                git_clone_depth=1,
                report_build_status=False,
            ),
            artifacts=aws.codebuild.ProjectArtifactsArgs(type=codebuild.ARTIFACTS_TYPE),
            environment=aws.codebuild.ProjectEnvironmentArgs(
                type=codebuild.ENVIRONMENT_TYPE,
                image=codebuild.IMAGE,
                compute_type=args.compute_type,
                image_pull_credentials_type="CODEBUILD",
                # No Docker daemon: `pulumi up` builds no image; privileged mode would give the job root on the host.
                privileged_mode=False,
            ),
            vpc_config=aws.codebuild.ProjectVpcConfigArgs(
                vpc_id=args.vpc_id, subnets=list(args.private_subnet_ids), security_group_ids=[group.id]
            ),
            logs_config=aws.codebuild.ProjectLogsConfigArgs(
                cloudwatch_logs=aws.codebuild.ProjectLogsConfigCloudwatchLogsArgs(
                    status=codebuild.LOGS_ENABLED, group_name=log_group.name
                ),
                s3_logs=aws.codebuild.ProjectLogsConfigS3LogsArgs(status=codebuild.LOGS_DISABLED),
            ),
            build_timeout=BUILD_TIMEOUT_MINUTES,
            queued_timeout=QUEUED_TIMEOUT_MINUTES,
            tags=_tags(f"{name}-project"),
            # CodeBuild checks the role's VPC permissions when the project is created.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[policy]),
        )
        aws.codebuild.Webhook(
            f"{name}-webhook",
            project_name=runner.name,
            build_type=codebuild.WEBHOOK_BUILD_TYPE,
            filter_groups=[
                aws.codebuild.WebhookFilterGroupArgs(
                    filters=[
                        aws.codebuild.WebhookFilterGroupFilterArgs(type=f["type"], pattern=f["pattern"])
                        for f in filters
                    ]
                )
                for filters in webhook_filter_groups()
            ],
            opts=child,
        )

        self.project_arn = runner.arn
        self.role_arn = role.arn
        self.security_group_id = group.id
        self.register_outputs(
            {
                "project_name": project,
                "project_arn": self.project_arn,
                "role_arn": self.role_arn,
                "security_group_id": self.security_group_id,
                "runs_on": codebuild.runs_on_label(project),
            }
        )


def _tags(name: str) -> dict[str, str]:
    return {"Name": name, "component": COMPONENT}
