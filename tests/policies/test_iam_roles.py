"""Roles: the AWS-managed policies they get and who may assume them."""

import json

from conftest import resource_violations

from llmstack.policy_config import ALLOWED_MANAGED_POLICIES
from policies.aws.iam import managed_policy_allowed, role_trust_policy_restricted

MANAGED = managed_policy_allowed.policy
TRUST = role_trust_policy_restricted.policy

ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"
ROLE = "aws:iam/role:Role"
ALLOWED = {"allowedManagedPolicies": list(ALLOWED_MANAGED_POLICIES)}
ACCOUNT = {"accountId": "123456789012"}


def attach(arn):
    return {"policyArn": arn, "role": "us-east-1-cluster-node-role"}


# --- aws-iam-managed-policy-allowed --------------------------------------------------------------


def test_managed_compliant_attachments_of_the_plan():
    for arn in (
        "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",
        "arn:aws-us-gov:iam::aws:policy/AmazonEC2ContainerRegistryPullOnly",
        "arn:aws:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs",
        "arn:aws:iam::123456789012:policy/llm-serving-own-policy",  # customer-managed: its document is checked
    ):
        assert resource_violations(MANAGED, ATTACHMENT, attach(arn), config=ALLOWED) == [], arn


def test_admin_like_policy_attached_to_the_node_role():
    arn = "arn:aws:iam::aws:policy/AdministratorAccess"
    assert resource_violations(MANAGED, ATTACHMENT, attach(arn), config=ALLOWED) == [
        "policyArn attaches the admin-like AWS-managed policy AdministratorAccess."
    ]


def test_admin_like_policies_are_refused_even_when_allowlisted():
    for name in ("PowerUserAccess", "IAMFullAccess", "AmazonS3FullAccess", "job-function/AdministratorAccess"):
        config = {"allowedManagedPolicies": [*ALLOWED_MANAGED_POLICIES, name]}
        arn = f"arn:aws:iam::aws:policy/{name}"
        assert resource_violations(
            MANAGED, "aws:iam/userPolicyAttachment:UserPolicyAttachment", attach(arn), config=config
        ) == [f"policyArn attaches the admin-like AWS-managed policy {name}."]


def test_managed_policy_not_on_the_allowlist():
    arn = "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly"
    assert resource_violations(MANAGED, ATTACHMENT, attach(arn), config={"allowedManagedPolicies": ["A", "B"]}) == [
        "policyArn attaches the AWS-managed policy AmazonEC2ContainerRegistryReadOnly, which the stack does not "
        "allow (allowed: A, B)."
    ]
    assert resource_violations(MANAGED, ATTACHMENT, attach(arn)) == [
        "policyArn attaches the AWS-managed policy AmazonEC2ContainerRegistryReadOnly, which the stack does not "
        "allow (allowed: none configured)."
    ]


def test_managed_policy_arns_of_a_role():
    props = {
        "managedPolicyArns": ["arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy", "arn:aws:iam::aws:policy/ReadOnlyAccess"]
    }
    assert resource_violations(MANAGED, ROLE, props, config={"allowedManagedPolicies": ["AmazonEKS_CNI_Policy"]}) == [
        "managedPolicyArns[1] attaches the AWS-managed policy ReadOnlyAccess, which the stack does not allow "
        "(allowed: AmazonEKS_CNI_Policy)."
    ]


def test_exclusive_attachments_of_a_role():
    props = {
        "roleName": "r",
        "policyArns": ["arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy", "arn:aws:iam::aws:policy/IAMFullAccess"],
    }
    resource_type = "aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive"
    assert resource_violations(MANAGED, resource_type, props, config=ALLOWED) == [
        "policyArns[1] attaches the admin-like AWS-managed policy IAMFullAccess."
    ]


def test_policy_arn_that_is_not_a_policy_arn():
    assert resource_violations(
        MANAGED, "aws:iam/policyAttachment:PolicyAttachment", attach("AdministratorAccess"), config=ALLOWED
    ) == ["policyArn is not an IAM policy ARN ('AdministratorAccess')."]


def test_managed_not_applicable():
    assert resource_violations(MANAGED, ATTACHMENT, {"policyArn": None}, config=ALLOWED) == []
    assert resource_violations(MANAGED, ROLE, {"assumeRolePolicy": "{}"}, config=ALLOWED) == []
    admin = "arn:aws:iam::aws:policy/AdministratorAccess"
    assert resource_violations(MANAGED, "aws:iam/rolePolicy:RolePolicy", {"policyArn": admin}, config=ALLOWED) == []


def test_allowlist_holds_no_admin_like_policy():
    # Every entry passes the policy with nothing else allowed but itself.
    for name in ALLOWED_MANAGED_POLICIES:
        arn = f"arn:aws:iam::aws:policy/{name}"
        assert resource_violations(MANAGED, ATTACHMENT, attach(arn), config={"allowedManagedPolicies": [name]}) == []


# --- aws-iam-role-trust-policy-restricted --------------------------------------------------------

POD_IDENTITY = {
    "Sid": "EksPodIdentityOfThisCluster",
    "Effect": "Allow",
    "Principal": {"Service": "pods.eks.amazonaws.com"},
    "Action": ["sts:AssumeRole", "sts:TagSession"],
    "Condition": {"StringEquals": {"aws:SourceAccount": "123456789012"}},
}
ADMIN_TRUST = {
    "Sid": "PlatformAdmins",
    "Effect": "Allow",
    "Principal": {"AWS": ["arn:aws:iam::123456789012:role/platform-admin", "123456789012"]},
    "Action": "sts:AssumeRole",
}


def trust(*statements):
    return {"assumeRolePolicy": json.dumps({"Version": "2012-10-17", "Statement": list(statements)})}


def test_trust_compliant():
    assert resource_violations(TRUST, ROLE, trust(POD_IDENTITY, ADMIN_TRUST), config=ACCOUNT) == []


def test_trust_any_principal():
    for principal in ("*", {"AWS": "*"}, {"AWS": ["arn:aws:iam::123456789012:root", "*"]}):
        statement = {**ADMIN_TRUST, "Principal": principal}
        assert resource_violations(TRUST, ROLE, trust(statement), config=ACCOUNT) == [
            "assumeRolePolicy: statement PlatformAdmins trusts any principal ('*')."
        ]


def test_trust_another_account():
    statement = {**ADMIN_TRUST, "Principal": {"AWS": "arn:aws:iam::210987654321:root"}}
    assert resource_violations(TRUST, ROLE, trust(POD_IDENTITY, statement), config=ACCOUNT) == [
        "assumeRolePolicy: statement PlatformAdmins trusts account 210987654321 ('arn:aws:iam::210987654321:root'), "
        "not this stack's account 123456789012."
    ]


def test_trust_a_service_acting_for_another_account():
    statement = {**POD_IDENTITY, "Condition": {"StringEquals": {"aws:SourceAccount": "210987654321"}}}
    assert resource_violations(TRUST, ROLE, trust(statement), config=ACCOUNT) == [
        "assumeRolePolicy: statement EksPodIdentityOfThisCluster trusts account 210987654321 through its "
        "aws:SourceAccount condition, not this stack's account 123456789012."
    ]
    excluded = {**POD_IDENTITY, "Condition": {"StringNotEquals": {"aws:SourceAccount": "210987654321"}}}
    assert resource_violations(TRUST, ROLE, trust(excluded), config=ACCOUNT) == []


def test_trust_a_principal_in_no_account():
    statement = {**ADMIN_TRUST, "Principal": {"AWS": "AROAEXAMPLEUNIQUEID"}}
    assert resource_violations(TRUST, ROLE, trust(statement), config=ACCOUNT) == [
        "assumeRolePolicy: statement PlatformAdmins trusts a principal the pack cannot place in an account "
        "('AROAEXAMPLEUNIQUEID')."
    ]


def test_trust_federated_without_condition():
    provider = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"
    statement = {"Effect": "Allow", "Principal": {"Federated": provider}, "Action": "sts:AssumeRoleWithWebIdentity"}
    assert resource_violations(TRUST, ROLE, trust(statement), config=ACCOUNT) == [
        f"assumeRolePolicy: statement #0 trusts the federated principal {provider} without a condition: "
        "any identity it issues may assume the role."
    ]
    conditioned = {**statement, "Condition": {"StringEquals": {"token.actions.githubusercontent.com:sub": "repo:x"}}}
    assert resource_violations(TRUST, ROLE, trust(conditioned), config=ACCOUNT) == []


def test_trust_unreadable():
    assert resource_violations(TRUST, ROLE, {"assumeRolePolicy": "nope"}, config=ACCOUNT) == [
        "assumeRolePolicy is not a JSON policy document."
    ]


def test_trust_without_a_pinned_account_checks_wildcards_only():
    other = {**ADMIN_TRUST, "Principal": {"AWS": "arn:aws:iam::210987654321:root"}}
    assert resource_violations(TRUST, ROLE, trust(other)) == []
    assert resource_violations(TRUST, ROLE, trust({**other, "Principal": "*"})) == [
        "assumeRolePolicy: statement PlatformAdmins trusts any principal ('*')."
    ]


def test_trust_not_applicable():
    deny = {**ADMIN_TRUST, "Effect": "Deny", "Principal": "*"}
    assert resource_violations(TRUST, ROLE, trust(deny), config=ACCOUNT) == []
    assert resource_violations(TRUST, ROLE, {"assumeRolePolicy": None}, config=ACCOUNT) == []
    assert (
        resource_violations(TRUST, "aws:iam/rolePolicy:RolePolicy", {"policy": trust(deny)["assumeRolePolicy"]}) == []
    )
