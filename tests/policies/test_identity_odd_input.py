"""The identity policies never raise on odd input: they report or skip."""

import json

from conftest import resource_violations
from hypothesis import given, settings
from hypothesis import strategies as st
from test_identity_on_the_stacks import IDENTITY_POLICIES

TYPES = [
    "aws:iam/rolePolicy:RolePolicy",
    "aws:iam/policy:Policy",
    "aws:iam/role:Role",
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
    "aws:kms/key:Key",
    "aws:s3/bucketPolicy:BucketPolicy",
    "aws:lambda/functionUrl:FunctionUrl",
    "aws:lambda/permission:Permission",
    "aws:eks/cluster:Cluster",
    "aws:eks/accessPolicyAssociation:AccessPolicyAssociation",
]
KEYS = ["Statement", "Effect", "Action", "NotAction", "Resource", "Principal", "AWS", "Federated", "Condition", "Sid"]
PROPS = [
    "policy", "assumeRolePolicy", "inlinePolicies", "managedPolicyArns", "policyArn", "authorizationType",
    "principal", "sourceArn", "sourceAccount", "functionUrlAuthType", "accessConfig", "principalArn",
    "authenticationMode", "bootstrapClusterCreatorAdminPermissions", "name",
]  # fmt: skip
WORDS = st.sampled_from(
    ["Allow", "Deny", "*", "s3:*", "iam:PassRole", "arn:aws:iam::210987654321:root", "123456789012", "NONE",
     "arn:aws:iam::aws:policy/AdministratorAccess", "aws:SourceAccount", "StringEquals", "arn:aws:execute-api:::*",
     "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy", "API", ""]
)  # fmt: skip
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=5), WORDS)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.sampled_from(KEYS + PROPS), inner, max_size=4),
        inner.map(json.dumps),
    ),
    max_leaves=12,
)
CONFIG = st.dictionaries(
    st.sampled_from(["accountId", "allowedManagedPolicies", "adminRoleArns", "allowClusterCreatorAdmin"]),
    VALUES,
    max_size=4,
)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(TYPES), st.dictionaries(st.sampled_from(PROPS), VALUES, max_size=5), CONFIG)
def test_identity_policies_never_raise(resource_type, props, config):
    for policy in IDENTITY_POLICIES:
        messages = resource_violations(policy, resource_type, props, config=config)
        assert all(isinstance(m, str) for m in messages)
