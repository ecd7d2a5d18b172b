"""CodeBuild names AWS must recognise for the deploy runner, each from a cited source (no Pulumi import).

The config, the DeployRunner component and the policy pack share them; tests/components/
test_deploy_runner.py checks each enum value against botocore's CodeBuild service model (shipped
with boto3, a dependency of the project) and the runner-specific ones against the installed
pulumi_aws SDK.

Sources:
- Project environment (compute types, environment types): CodeBuild API Reference,
  "ProjectEnvironment", https://docs.aws.amazon.com/codebuild/latest/APIReference/API_ProjectEnvironment.html
- The image: CodeBuild User Guide, "Docker images provided by CodeBuild" and "Compute images
  supported with the CodeBuild-hosted GitHub Actions runner",
  https://docs.aws.amazon.com/codebuild/latest/userguide/build-env-ref-available.html
- The runner (webhook filter WORKFLOW_JOB_QUEUED, the `runs-on` label): CodeBuild User Guide,
  "Self-hosted GitHub Actions runners in AWS CodeBuild" and "About the CodeBuild-hosted GitHub
  Actions runner", https://docs.aws.amazon.com/codebuild/latest/userguide/action-runner-questions.html
- Source credentials through a connection (auth type CODECONNECTIONS): CodeBuild API Reference,
  "SourceAuth", https://docs.aws.amazon.com/codebuild/latest/APIReference/API_SourceAuth.html
"""

from __future__ import annotations

import re

# A Linux container build: the runner runs `pulumi up`, which needs no GPU, ARM or Windows host.
ENVIRONMENT_TYPE = "LINUX_CONTAINER"
# Amazon Linux 2023 standard image ("linux" / "5.0" in the runner's image table); it has Python 3
# and the AWS CLI, which the Kubernetes providers' `aws eks get-token` needs.
IMAGE = "aws/codebuild/amazonlinux-x86_64-standard:5.0"
# Compute types a LINUX_CONTAINER project takes (ProjectEnvironment.computeType: the BUILD_GENERAL1
# sizes; the Lambda and attribute-based ones need other environment types or a fleet).
COMPUTE_TYPES = (
    "BUILD_GENERAL1_SMALL",  # 2 vCPUs, 4 GiB
    "BUILD_GENERAL1_MEDIUM",  # 4 vCPUs, 8 GiB
    "BUILD_GENERAL1_LARGE",  # 8 vCPUs, 16 GiB
    "BUILD_GENERAL1_XLARGE",  # 36 vCPUs, 72 GiB
    "BUILD_GENERAL1_2XLARGE",  # 72 vCPUs, 144 GiB
)
# A prod plan of about 1,500 resources runs the program and the policy pack side by side: 4 vCPUs.
DEFAULT_COMPUTE_TYPE = "BUILD_GENERAL1_MEDIUM"
SOURCE_TYPE = "GITHUB"
SOURCE_AUTH_TYPE = "CODECONNECTIONS"
# The runner builds nothing to keep: no artifacts.
ARTIFACTS_TYPE = "NO_ARTIFACTS"
LOGS_ENABLED = "ENABLED"
LOGS_DISABLED = "DISABLED"
# Environment variable types; PLAINTEXT is the default when a variable names none.
PLAINTEXT = "PLAINTEXT"
ENVIRONMENT_VARIABLE_TYPES = (PLAINTEXT, "PARAMETER_STORE", "SECRETS_MANAGER")
# The webhook: one filter group with one EVENT filter, a queued GitHub Actions workflow job.
WEBHOOK_FILTER_TYPE = "EVENT"
WORKFLOW_JOB_QUEUED = "WORKFLOW_JOB_QUEUED"
WEBHOOK_BUILD_TYPE = "BUILD"

# CodeBuild project names: 2-255 characters, letters, digits, '-' and '_', starting with a letter
# or digit (CreateProject, `name`).
PROJECT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{1,254}$")
# A connection of AWS CodeConnections, or the same connection under its former CodeStar Connections
# prefix (both ARNs name one connection; Service Authorization Reference, "Connection" resource).
CONNECTION_ARN = re.compile(
    r"^arn:(?P<partition>aws[a-z-]*):(?P<service>codeconnections|codestar-connections):"
    r"(?P<region>[a-z]{2}(-gov)?-[a-z]+-\d):(?P<account>\d{12}):connection/(?P<id>[0-9a-f]{8}-[0-9a-f]{4}-"
    r"[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$"
)
GITHUB_REPOSITORY = re.compile(r"^https://github\.com/(?P<owner>[A-Za-z0-9-]{1,39})/(?P<repo>[A-Za-z0-9._-]{1,100})$")


def runs_on_label(project_name: str) -> str:
    """The `runs-on` label of a workflow job for this project: one runner per job and attempt."""
    if not PROJECT_NAME.fullmatch(project_name):
        raise ValueError(f"project_name: not a CodeBuild project name (got {project_name!r})")
    return f"codebuild-{project_name}-${{{{ github.run_id }}}}-${{{{ github.run_attempt }}}}"


def connection_service(connection_arn: str) -> str:
    """The IAM service prefix a connection's actions are granted under: its ARN's own. CodeStar
    Connections was renamed CodeConnections; connections keep the prefix they were created with,
    and "the service prefix needs to match that of the resource" (Developer Tools console user
    guide, "Connections rename - Summary of changes",
    https://docs.aws.amazon.com/dtconsole/latest/userguide/rename.html)."""
    match = CONNECTION_ARN.fullmatch(connection_arn)
    if match is None:
        raise ValueError(f"connection_arn: not a CodeConnections connection ARN (got {connection_arn!r})")
    return match["service"]
