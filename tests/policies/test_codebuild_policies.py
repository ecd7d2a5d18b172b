"""CodeBuild projects (the deploy runner): in the VPC, not privileged, no PLAINTEXT credentials, logs to an
encrypted log group of the stack. Each policy: the compliant project, then every way to break it."""

from __future__ import annotations

import copy

import pytest
from conftest import policy_resource, provider, resource_violations, stack_violations

from policies.aws.codebuild import (
    project_in_vpc,
    project_logs_encrypted,
    project_no_plaintext_secrets,
    project_privileged_mode_disabled,
)

PROJECT = "aws:codebuild/project:Project"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
GROUP_NAME = "/aws/codebuild/llm-serving-prod-us-east-1-deploy"
COMPLIANT = {
    "name": "llm-serving-prod-us-east-1-deploy",
    "environment": {
        "type": "LINUX_CONTAINER",
        "image": "aws/codebuild/amazonlinux-x86_64-standard:5.0",
        "computeType": "BUILD_GENERAL1_MEDIUM",
        "privilegedMode": False,
        "environmentVariables": [{"name": "PULUMI_SKIP_UPDATE_CHECK", "value": "true", "type": "PLAINTEXT"}],
    },
    "vpcConfig": {"vpcId": "vpc-0a", "subnets": ["subnet-0a", "subnet-0b"], "securityGroupIds": ["sg-0a"]},
    "logsConfig": {
        "cloudwatchLogs": {"status": "ENABLED", "groupName": GROUP_NAME},
        "s3Logs": {"status": "DISABLED"},
    },
}


def project(**changes):
    props = copy.deepcopy(COMPLIANT)
    for path, value in changes.items():
        *parents, key = path.split("__")
        node = props
        for parent in parents:
            node = node.setdefault(parent, {})
        if value is None:
            node.pop(key, None)
        else:
            node[key] = value
    return props


def resource_policy(policy, props, resource_type=PROJECT):
    return resource_violations(policy, resource_type, props, name="runner")


# --- in the VPC ----------------------------------------------------------------------------------


def test_compliant_project_is_in_the_vpc():
    assert resource_policy(project_in_vpc.policy, project()) == []


def test_project_without_vpc_config():
    assert resource_policy(project_in_vpc.policy, project(vpcConfig=None)) == [
        "CodeBuild project 'runner' sets no vpcConfig: its builds run on AWS's network, outside the VPC and its "
        "security groups."
    ]


@pytest.mark.parametrize(
    ("changes", "missing"),
    [
        ({"vpcConfig__subnets": []}, "subnets"),
        ({"vpcConfig__securityGroupIds": None}, "securityGroupIds"),
        ({"vpcConfig__vpcId": ""}, "vpcId"),
        ({"vpcConfig__subnets": "subnet-0a", "vpcConfig__securityGroupIds": []}, "subnets, securityGroupIds"),
    ],
)
def test_project_with_part_of_the_vpc_config(changes, missing):
    assert resource_policy(project_in_vpc.policy, project(**changes)) == [
        f"CodeBuild project 'runner' vpcConfig sets no {missing}: builds need the VPC, its private subnets and a "
        "security group of their own."
    ]


# --- privileged mode -----------------------------------------------------------------------------


@pytest.mark.parametrize("value", [False, None, "false"])
def test_unprivileged_project(value):
    assert resource_policy(project_privileged_mode_disabled.policy, project(environment__privilegedMode=value)) == []


@pytest.mark.parametrize("value", [True, "true"])
def test_privileged_project(value):
    assert resource_policy(project_privileged_mode_disabled.policy, project(environment__privilegedMode=value)) == [
        "CodeBuild project 'runner' runs builds in privileged mode (environment.privilegedMode is true): a workflow "
        "job gets root on the build host and its Docker daemon."
    ]


# --- PLAINTEXT secrets ---------------------------------------------------------------------------


def secrets(*variables):
    return resource_policy(
        project_no_plaintext_secrets.policy, project(environment__environmentVariables=list(variables))
    )


def test_plain_settings_and_referenced_secrets_comply():
    assert (
        secrets(
            {"name": "PULUMI_SKIP_UPDATE_CHECK", "value": "true"},
            {"name": "GITHUB_TOKEN", "value": "deploy/github-token", "type": "SECRETS_MANAGER"},
            {"name": "PULUMI_ACCESS_TOKEN", "value": "/deploy/pulumi-token", "type": "PARAMETER_STORE"},
        )
        == []
    )


@pytest.mark.parametrize(
    "variable",
    [
        {"name": "PULUMI_ACCESS_TOKEN", "value": "pul-0123", "type": "PLAINTEXT"},
        {"name": "AWS_SECRET_ACCESS_KEY", "value": "wJalrXUtnFEMI/K7MDENG"},  # no type: PLAINTEXT
        {"name": "DB_PASSWORD", "value": "hunter2"},
        {"name": "KUBECONFIG_DATA", "value": "apiVersion: v1"},
        {"name": "KEY_ID", "value": "AKIAIOSFODNN7EXAMPLE"},
        {"name": "GH", "value": "ghp_0123456789abcdefghij0123456789abcdef"},
        {"name": "SIGNING", "value": "-----BEGIN RSA PRIVATE KEY-----"},
    ],
)
def test_a_credential_as_plaintext(variable):
    assert secrets({"name": "PULUMI_SKIP_UPDATE_CHECK", "value": "true"}, variable) == [
        f"CodeBuild project 'runner' environment variable '{variable['name']}' (environmentVariables[1]) holds a "
        "credential as PLAINTEXT: anyone who can read the project sees it."
    ]


# --- logs ----------------------------------------------------------------------------------------


def logs(props, group_props=None, linked=True):
    group = policy_resource(
        LOG_GROUP,
        "runner-logs",
        group_props if group_props is not None else {"name": GROUP_NAME, "kmsKeyId": "arn:aws:kms:us-east-1:1:key/k"},
        provider_resource=provider(),
    )
    subject = policy_resource(
        PROJECT,
        "runner",
        props,
        property_dependencies={"logsConfig": [group]} if linked else {},
        provider_resource=provider(),
    )
    found = stack_violations(project_logs_encrypted.policy, [group, subject])
    assert all(urn == subject.urn for _, urn in found)
    return [message for message, _ in found]


def test_compliant_project_logs_to_its_encrypted_group():
    assert logs(project()) == []


@pytest.mark.parametrize("status", ["DISABLED", None])
def test_cloudwatch_logs_off(status):
    assert logs(project(logsConfig__cloudwatchLogs__status=status)) == [
        "CodeBuild project 'runner' sets no logsConfig.cloudwatchLogs.status ENABLED: its builds leave no log in a "
        "group the stack encrypts and keeps."
    ]


def test_logs_to_a_group_the_stack_does_not_declare():
    assert logs(project(logsConfig__cloudwatchLogs__groupName="/aws/codebuild/other"), linked=False) == [
        "CodeBuild project 'runner' logs to group '/aws/codebuild/other', not a log group of this stack (groupName "
        "taken from it): CodeBuild would create one itself, unencrypted and kept forever."
    ]


def test_group_name_typed_in_instead_of_taken_from_the_group():
    assert logs(project(), linked=False) == [
        f"CodeBuild project 'runner' logs to group '{GROUP_NAME}', not a log group of this stack (groupName taken "
        "from it): CodeBuild would create one itself, unencrypted and kept forever."
    ]


def test_logs_to_a_group_without_a_key():
    assert logs(project(), group_props={"name": GROUP_NAME}) == [
        "CodeBuild project 'runner' logs to group 'runner-logs', which sets no kmsKeyId."
    ]


def test_unencrypted_s3_logs():
    assert logs(project(logsConfig__s3Logs={"status": "ENABLED", "location": "b/p", "encryptionDisabled": True})) == [
        "CodeBuild project 'runner' writes S3 logs with encryptionDisabled: build output (commands, plan diffs) "
        "unencrypted."
    ]


def test_not_applicable_to_other_types():
    props = {"vpcConfig": None, "environment": {"privilegedMode": True, "environmentVariables": [{"name": "TOKEN"}]}}
    for policy in (project_in_vpc.policy, project_privileged_mode_disabled.policy, project_no_plaintext_secrets.policy):
        assert resource_policy(policy, props, "aws:ec2/instance:Instance") == []
