"""Encryption: keys, aliases, replica and key policies, under the SDK's mock engine."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pulumi
import pytest
from pulumi.runtime.mocks import MockMonitor

from components.encryption import PURPOSES, Encryption, EncryptionArgs, key_policy

ACCOUNT = "123456789012"
PRIMARY_WEIGHTS_ARN = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/mrk-0123456789abcdef0123456789abcdef"


# --- a small mock engine that records registrations -----------------------------------------------


class _Mocks(pulumi.runtime.Mocks):
    def __init__(self, region: str) -> None:
        self.region = region
        self.resources: dict[str, tuple[str, dict[str, Any]]] = {}

    def new_resource(self, args: pulumi.runtime.MockResourceArgs):
        self.resources[args.name] = (args.typ, args.inputs)
        state = dict(args.inputs)
        if args.typ in ("aws:kms/key:Key", "aws:kms/replicaKey:ReplicaKey"):
            key_id = f"mrk-{args.name}" if state.get("multiRegion") or "replica" in args.typ else args.name
            state["keyId"] = key_id
            state["arn"] = f"arn:aws:kms:{self.region}:{ACCOUNT}:key/{key_id}"
        return f"{args.name}-id", state

    def call(self, args: pulumi.runtime.MockCallArgs):
        if args.token == "aws:index/getCallerIdentity:getCallerIdentity":
            return {
                "accountId": ACCOUNT,
                "arn": f"arn:aws:iam::{ACCOUNT}:user/test",
                "userId": "AIDA",
                "id": ACCOUNT,
            }
        return {}


class _Monitor(MockMonitor):
    """Also keeps the resource options the mocks don't see (protect, parent, dependencies)."""

    def __init__(self, mocks: _Mocks) -> None:
        super().__init__(mocks)
        self.options: dict[str, dict[str, Any]] = {}

    def RegisterResource(self, request):  # noqa: N802 - gRPC method name
        response = super().RegisterResource(request)
        self.options[request.name] = {
            "urn": response.urn,
            "protect": bool(request.protect),
            "parent": request.parent,
            "dependencies": list(request.dependencies),
        }
        return response


class Deployment:
    def __init__(self, mocks: _Mocks, monitor: _Monitor, outputs: dict[str, Any]) -> None:
        self.mocks, self.monitor, self.outputs = mocks, monitor, outputs

    def of_type(self, typ: str) -> dict[str, dict[str, Any]]:
        return {name: inputs for name, (t, inputs) in self.mocks.resources.items() if t == typ}


def deploy(args: EncryptionArgs, name: str = "prod-use1-encryption") -> Deployment:
    """Build the component under mocks, wait for every registration, resolve its outputs."""
    mocks = _Mocks(args.region)
    monitor = _Monitor(mocks)
    pulumi.runtime.set_mocks(mocks, project="llm-serving", stack="test", preview=False, monitor=monitor)
    outputs: dict[str, Any] = {}

    @pulumi.runtime.test
    def program():
        component = Encryption(name, args)
        return pulumi.Output.all(
            key_arns=pulumi.Output.all(**component.key_arns),
            eks_secrets=component.eks_secrets_key_arn,
            weights=component.weights_key_arn,
            logs=component.logs_key_arn,
            ebs=component.ebs_key_arn,
            lambda_=component.lambda_key_arn,
        ).apply(outputs.update)

    program()
    return Deployment(mocks, monitor, outputs)


def primary_args(**overrides: Any) -> EncryptionArgs:
    values: dict[str, Any] = {"environment": "prod", "region": "us-east-1", "account_id": ACCOUNT}
    return EncryptionArgs(**{**values, **overrides})


def secondary_args(**overrides: Any) -> EncryptionArgs:
    return primary_args(region="eu-west-1", weights_primary_key_arn=PRIMARY_WEIGHTS_ARN, **overrides)


def principals(document: Any) -> list[Any]:
    """Every Principal value anywhere in a policy document, flattened."""
    found: list[Any] = []
    if isinstance(document, dict):
        for key, value in document.items():
            if key in ("Principal", "NotPrincipal"):
                if isinstance(value, dict):
                    for item in value.values():
                        found += item if isinstance(item, list) else [item]
                else:
                    found.append(value)
            else:
                found += principals(value)
    elif isinstance(document, list):
        for item in document:
            found += principals(item)
    return found


def statement(document: dict[str, Any], sid: str) -> dict[str, Any]:
    matches = [s for s in document["Statement"] if s.get("Sid") == sid]
    assert len(matches) == 1, f"expected one statement {sid}"
    return matches[0]


ROOT = {
    "Sid": "EnableRootAccountAdministration",
    "Effect": "Allow",
    "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
    "Action": "kms:*",
    "Resource": "*",
}


# --- key_policy: the pure documents ---------------------------------------------------------------


@pytest.mark.parametrize("purpose", PURPOSES)
@pytest.mark.parametrize("partition,region", [("aws", "us-east-1"), ("aws-us-gov", "us-gov-west-1")])
def test_no_policy_has_a_wildcard_principal(purpose: str, partition: str, region: str):
    document = key_policy(purpose, ACCOUNT, region, partition)
    found = principals(document)
    assert found, "every statement names a principal"
    assert "*" not in found
    assert all(p.startswith(f"arn:{partition}:iam::{ACCOUNT}:") or p.endswith(".amazonaws.com") for p in found)
    assert all("*" not in p for p in found)


@pytest.mark.parametrize("purpose", PURPOSES)
def test_every_policy_starts_with_root_administration(purpose: str):
    document = key_policy(purpose, ACCOUNT, "us-east-1", "aws")
    assert document["Version"] == "2012-10-17"
    assert document["Statement"][0] == ROOT
    assert all(s["Effect"] == "Allow" and s["Resource"] == "*" for s in document["Statement"])
    assert len({s["Sid"] for s in document["Statement"]}) == len(document["Statement"])


def test_logs_policy_lets_cloudwatch_logs_use_the_key_for_this_accounts_log_groups():
    document = key_policy("logs", ACCOUNT, "eu-west-1", "aws")
    assert document["Statement"][1:] == [
        {
            "Sid": "AllowCloudWatchLogsForLogGroupsOfThisAccount",
            "Effect": "Allow",
            "Principal": {"Service": "logs.eu-west-1.amazonaws.com"},
            "Action": [
                "kms:Encrypt*",
                "kms:Decrypt*",
                "kms:ReEncrypt*",
                "kms:GenerateDataKey*",
                "kms:Describe*",
            ],
            "Resource": "*",
            "Condition": {
                "ArnLike": {"kms:EncryptionContext:aws:logs:arn": f"arn:aws:logs:eu-west-1:{ACCOUNT}:log-group:*"}
            },
        }
    ]


def test_ebs_policy_serves_the_autoscaling_role_and_ec2_only():
    document = key_policy("ebs", ACCOUNT, "us-east-1", "aws")
    role = f"arn:aws:iam::{ACCOUNT}:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling"
    assert statement(document, "AllowAutoScalingServiceLinkedRoleUse") == {
        "Sid": "AllowAutoScalingServiceLinkedRoleUse",
        "Effect": "Allow",
        "Principal": {"AWS": role},
        "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"],
        "Resource": "*",
    }
    grants = statement(document, "AllowAutoScalingServiceLinkedRoleGrantsForAwsResources")
    assert grants["Principal"] == {"AWS": role}
    assert grants["Action"] == "kms:CreateGrant"
    assert grants["Condition"] == {"Bool": {"kms:GrantIsForAWSResource": True}}
    via_ec2 = statement(document, "AllowAccountUseViaEc2")
    assert via_ec2["Principal"] == {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}
    assert via_ec2["Condition"] == {
        "StringEquals": {"kms:ViaService": "ec2.us-east-1.amazonaws.com", "kms:CallerAccount": ACCOUNT}
    }
    assert "kms:CreateGrant" in via_ec2["Action"]
    assert len(document["Statement"]) == 4


def test_weights_policy_allows_account_use_only_through_s3_of_the_keys_region():
    document = key_policy("weights", ACCOUNT, "eu-west-1", "aws")
    assert document["Statement"][1:] == [
        {
            "Sid": "AllowAccountUseViaS3",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
            "Action": ["kms:Decrypt", "kms:GenerateDataKey", "kms:DescribeKey"],
            "Resource": "*",
            "Condition": {"StringEquals": {"kms:ViaService": "s3.eu-west-1.amazonaws.com"}},
        }
    ]


def test_eks_secrets_policy_allows_account_use_only_through_eks():
    document = key_policy("eks-secrets", ACCOUNT, "us-east-1", "aws")
    assert document["Statement"][1:] == [
        {
            "Sid": "AllowAccountUseViaEks",
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
            "Action": ["kms:Encrypt", "kms:Decrypt", "kms:DescribeKey", "kms:CreateGrant"],
            "Resource": "*",
            "Condition": {"StringEquals": {"kms:ViaService": "eks.us-east-1.amazonaws.com"}},
        }
    ]


def test_lambda_policy_allows_account_use_and_grants_only_through_lambda():
    document = key_policy("lambda", ACCOUNT, "eu-west-1", "aws")
    root = {"AWS": f"arn:aws:iam::{ACCOUNT}:root"}
    assert document["Statement"][1:] == [
        {
            "Sid": "AllowAccountUseViaLambda",
            "Effect": "Allow",
            "Principal": root,
            "Action": ["kms:Encrypt", "kms:Decrypt", "kms:DescribeKey"],
            "Resource": "*",
            "Condition": {"StringEquals": {"kms:ViaService": "lambda.eu-west-1.amazonaws.com"}},
        },
        {
            "Sid": "AllowGrantsForLambdaOnly",
            "Effect": "Allow",
            "Principal": root,
            "Action": "kms:CreateGrant",
            "Resource": "*",
            "Condition": {
                "StringEquals": {"kms:ViaService": "lambda.eu-west-1.amazonaws.com"},
                "Bool": {"kms:GrantIsForAWSResource": "true"},
            },
        },
    ]


def test_govcloud_policies_use_the_govcloud_partition():
    document = key_policy("ebs", ACCOUNT, "us-gov-west-1", "aws-us-gov")
    assert document["Statement"][0]["Principal"] == {"AWS": f"arn:aws-us-gov:iam::{ACCOUNT}:root"}
    assert statement(document, "AllowAutoScalingServiceLinkedRoleUse")["Principal"]["AWS"].startswith(
        f"arn:aws-us-gov:iam::{ACCOUNT}:role/aws-service-role/"
    )


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda: key_policy("backups", ACCOUNT, "us-east-1", "aws"),
            "purpose: must be one of eks-secrets, weights, logs, ebs, lambda (got 'backups')",
        ),
        (
            lambda: key_policy("logs", "12345", "us-east-1", "aws"),
            "account_id: must be a 12-digit AWS account id (got '12345')",
        ),
        (
            lambda: key_policy("logs", ACCOUNT, "us-east-1", "aws-cn"),
            "partition: must be one of aws, aws-us-gov (got 'aws-cn')",
        ),
        (
            lambda: key_policy("logs", ACCOUNT, "us-gov-west-1", "aws"),
            "region: 'us-gov-west-1' is not a region of partition 'aws'",
        ),
        (
            lambda: key_policy("logs", ACCOUNT, "mars-1", "aws"),
            "region: must be an AWS region name such as us-east-1 (got 'mars-1')",
        ),
    ],
)
def test_key_policy_rejects_bad_arguments(call: Callable[[], object], message: str):
    with pytest.raises(ValueError) as error:
        call()
    assert str(error.value) == message


# --- the component --------------------------------------------------------------------------------


def test_primary_region_creates_a_rotating_key_with_an_alias_per_purpose():
    run = deploy(primary_args())
    keys = run.of_type("aws:kms/key:Key")
    assert sorted(keys) == sorted(f"prod-use1-encryption-{purpose}" for purpose in PURPOSES)
    for name, inputs in keys.items():
        assert inputs["enableKeyRotation"] is True, name
        assert inputs["rotationPeriodInDays"] == 365
        assert inputs["deletionWindowInDays"] == 30
        assert inputs["keyUsage"] == "ENCRYPT_DECRYPT"
        assert inputs["customerMasterKeySpec"] == "SYMMETRIC_DEFAULT"
        assert inputs["tags"] == {"Name": name, "component": "encryption"}
    assert keys["prod-use1-encryption-weights"]["multiRegion"] is True
    assert [keys[f"prod-use1-encryption-{p}"]["multiRegion"] for p in ("eks-secrets", "logs", "ebs", "lambda")] == [
        False,
        False,
        False,
        False,
    ]
    assert run.of_type("aws:kms/replicaKey:ReplicaKey") == {}

    aliases = run.of_type("aws:kms/alias:Alias")
    assert {inputs["name"]: inputs["targetKeyId"] for inputs in aliases.values()} == {
        "alias/llm-serving/prod/eks-secrets": "prod-use1-encryption-eks-secrets",
        "alias/llm-serving/prod/weights": "mrk-prod-use1-encryption-weights",
        "alias/llm-serving/prod/logs": "prod-use1-encryption-logs",
        "alias/llm-serving/prod/ebs": "prod-use1-encryption-ebs",
        "alias/llm-serving/prod/lambda": "prod-use1-encryption-lambda",
    }


@pytest.mark.parametrize("purpose", PURPOSES)
def test_each_key_carries_its_purposes_policy(purpose: str):
    run = deploy(primary_args())
    inputs = run.of_type("aws:kms/key:Key")[f"prod-use1-encryption-{purpose}"]
    assert json.loads(inputs["policy"]) == key_policy(purpose, ACCOUNT, "us-east-1", "aws")


def test_account_id_may_be_an_output():
    run = deploy(primary_args(account_id=pulumi.Output.from_input(ACCOUNT)))
    inputs = run.of_type("aws:kms/key:Key")["prod-use1-encryption-logs"]
    assert json.loads(inputs["policy"]) == key_policy("logs", ACCOUNT, "us-east-1", "aws")


def test_secondary_region_replicates_the_weights_key_with_a_policy_for_its_region():
    run = deploy(secondary_args(), name="prod-euw1-encryption")
    keys = run.of_type("aws:kms/key:Key")
    assert sorted(keys) == [f"prod-euw1-encryption-{p}" for p in ("ebs", "eks-secrets", "lambda", "logs")]
    replicas = run.of_type("aws:kms/replicaKey:ReplicaKey")
    assert list(replicas) == ["prod-euw1-encryption-weights"]
    replica = replicas["prod-euw1-encryption-weights"]
    assert replica["primaryKeyArn"] == PRIMARY_WEIGHTS_ARN
    assert replica["deletionWindowInDays"] == 30
    assert replica["enabled"] is True
    assert replica["tags"] == {"Name": "prod-euw1-encryption-weights", "component": "encryption"}
    policy = json.loads(replica["policy"])
    assert policy == key_policy("weights", ACCOUNT, "eu-west-1", "aws")
    assert statement(policy, "AllowAccountUseViaS3")["Condition"] == {
        "StringEquals": {"kms:ViaService": "s3.eu-west-1.amazonaws.com"}
    }
    aliases = {inputs["name"]: inputs["targetKeyId"] for inputs in run.of_type("aws:kms/alias:Alias").values()}
    assert aliases["alias/llm-serving/prod/weights"] == "mrk-prod-euw1-encryption-weights"
    assert run.outputs["weights"] == f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/mrk-prod-euw1-encryption-weights"


def test_outputs_are_the_key_arns_by_purpose():
    run = deploy(primary_args())
    expected = {
        "eks-secrets": f"arn:aws:kms:us-east-1:{ACCOUNT}:key/prod-use1-encryption-eks-secrets",
        "weights": f"arn:aws:kms:us-east-1:{ACCOUNT}:key/mrk-prod-use1-encryption-weights",
        "logs": f"arn:aws:kms:us-east-1:{ACCOUNT}:key/prod-use1-encryption-logs",
        "ebs": f"arn:aws:kms:us-east-1:{ACCOUNT}:key/prod-use1-encryption-ebs",
        "lambda": f"arn:aws:kms:us-east-1:{ACCOUNT}:key/prod-use1-encryption-lambda",
    }
    assert run.outputs["key_arns"] == expected
    assert run.outputs["eks_secrets"] == expected["eks-secrets"]
    assert run.outputs["weights"] == expected["weights"]
    assert run.outputs["logs"] == expected["logs"]
    assert run.outputs["ebs"] == expected["ebs"]
    assert run.outputs["lambda_"] == expected["lambda"]


@pytest.mark.parametrize("protect", [True, False])
def test_protect_applies_to_the_keys_only(protect: bool):
    run = deploy(secondary_args(protect=protect), name="prod-euw1-encryption")
    options = run.monitor.options
    for purpose in PURPOSES:
        assert options[f"prod-euw1-encryption-{purpose}"]["protect"] is protect
        assert options[f"prod-euw1-encryption-{purpose}-alias"]["protect"] is False


def test_every_child_is_parented_to_the_component_and_named_after_it():
    run = deploy(primary_args(create_autoscaling_service_linked_role=True))
    component = run.mocks.resources.pop("prod-use1-encryption")
    assert component[0] == "llm-serving:security:Encryption"
    urn = run.monitor.options["prod-use1-encryption"]["urn"]
    assert len(run.mocks.resources) == 2 * len(PURPOSES) + 1  # a key and an alias per purpose, the service-linked role
    for name in run.mocks.resources:
        assert name.startswith("prod-use1-encryption-")
        assert run.monitor.options[name]["parent"] == urn


def test_service_linked_role_is_created_on_request_and_precedes_the_ebs_key():
    assert deploy(primary_args()).of_type("aws:iam/serviceLinkedRole:ServiceLinkedRole") == {}
    run = deploy(primary_args(create_autoscaling_service_linked_role=True))
    roles = run.of_type("aws:iam/serviceLinkedRole:ServiceLinkedRole")
    assert [inputs["awsServiceName"] for inputs in roles.values()] == ["autoscaling.amazonaws.com"]
    role_urn = run.monitor.options["prod-use1-encryption-autoscaling-slr"]["urn"]
    assert role_urn in run.monitor.options["prod-use1-encryption-ebs"]["dependencies"]


# --- validation -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"environment": "Prod"},
            "environment: must be lowercase letters, digits and '-' (2-32 characters, e.g. prod); got 'Prod'",
        ),
        ({"region": "us-east"}, "region: must be an AWS region name such as us-east-1 (got 'us-east')"),
        ({"partition": "aws-cn"}, "partition: must be one of aws, aws-us-gov (got 'aws-cn')"),
        ({"account_id": "1234"}, "account_id: must be a 12-digit AWS account id (got '1234')"),
        (
            {"weights_primary_key_arn": "arn:aws:kms:us-east-1:123456789012:key/1234abcd"},
            "weights_primary_key_arn: must be the ARN of a multi-Region primary key, "
            "arn:<partition>:kms:<region>:<account>:key/mrk-<32 hex> "
            "(got 'arn:aws:kms:us-east-1:123456789012:key/1234abcd')",
        ),
        (
            {"weights_primary_key_arn": PRIMARY_WEIGHTS_ARN},
            "weights_primary_key_arn: the primary key is in us-east-1, this component's region; "
            "set it to None in the primary region",
        ),
    ],
)
def test_invalid_args_are_rejected_with_the_field_named(overrides: dict[str, Any], message: str):
    with pytest.raises(ValueError) as error:
        primary_args(**overrides)
    assert str(error.value) == message
