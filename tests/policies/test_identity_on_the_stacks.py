"""The identity policies' config comes from the stack file, and the committed stacks pass them."""

import pytest
from conftest import ROOT, resource_violations, run_stack

from llmstack.policy_config import policy_config_for
from llmstack.stackfile import load_stack
from policies.aws.awslambda import function_url_requires_iam_auth, permission_source_scoped
from policies.aws.eks import (
    access_policy_admin_principals,
    cluster_authentication_mode_api,
    cluster_disallow_creator_admin,
)
from policies.aws.iam import (
    managed_policy_allowed,
    policy_no_allow_not_action,
    policy_no_wildcard_action_resource,
    policy_passrole_scoped,
    role_trust_policy_restricted,
)
from policies.aws.kms import key_policy_same_account
from policies.aws.s3 import bucket_policy_same_account

IDENTITY_POLICIES = [
    policy_no_wildcard_action_resource.policy,
    policy_passrole_scoped.policy,
    policy_no_allow_not_action.policy,
    managed_policy_allowed.policy,
    role_trust_policy_restricted.policy,
    key_policy_same_account.policy,
    bucket_policy_same_account.policy,
    function_url_requires_iam_auth.policy,
    permission_source_scoped.policy,
    cluster_authentication_mode_api.policy,
    cluster_disallow_creator_admin.policy,
    access_policy_admin_principals.policy,
]


def test_prod_config_pins_the_account_the_admins_and_no_creator_admin():
    config = policy_config_for(load_stack("prod", None, ROOT).platform)
    account = {"accountId": "123456789012"}
    for name in (
        "aws-iam-role-trust-policy-restricted",
        "aws-kms-key-policy-same-account",
        "aws-s3-bucket-policy-same-account",
        "aws-lambda-permission-source-scoped",
    ):
        assert config[name] == account, name
    assert config["aws-eks-cluster-disallow-creator-admin"] == {"allowClusterCreatorAdmin": False}
    # The listed admin, and the deploy role the workloads phase applies as.
    assert config["aws-eks-access-policy-admin-principals-allowed"] == {
        "adminRoleArns": [
            "arn:aws:iam::123456789012:role/llm-serving-prod-deploy",
            "arn:aws:iam::123456789012:role/platform-admin",
        ]
    }


def test_dev_config_pins_its_account_and_allows_the_creator_admin():
    config = policy_config_for(load_stack("dev", None, ROOT).platform)
    assert config["aws-kms-key-policy-same-account"] == {"accountId": "111122223333"}
    assert config["aws-eks-cluster-disallow-creator-admin"] == {"allowClusterCreatorAdmin": True}
    # dev lists no admin: its deploy role is the only one (the creator-admin allowance stays for a dev
    # stack without a deploy section).
    assert config["aws-eks-access-policy-admin-principals-allowed"] == {
        "adminRoleArns": ["arn:aws:iam::111122223333:role/llm-serving-dev-deploy"]
    }


@pytest.mark.parametrize("stack", ["prod", "dev"])
def test_the_stacks_resources_pass_the_identity_policies(stack):
    config = policy_config_for(load_stack(stack, None, ROOT).platform)
    found = []
    for resource in run_stack(stack).resources:
        for policy in IDENTITY_POLICIES:
            for message in resource_violations(
                policy, resource.type, resource.inputs, name=resource.name, config=config.get(policy.name, {})
            ):
                found.append(f"{policy.name} {resource.name}: {message}")
    assert found == []
