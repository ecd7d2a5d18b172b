"""EKS cluster access: authentication mode, the creator's admin entry, admin access policies."""

from conftest import resource_violations

from policies.aws.eks import (
    access_policy_admin_principals,
    cluster_authentication_mode_api,
    cluster_disallow_creator_admin,
)

MODE = cluster_authentication_mode_api.policy
CREATOR = cluster_disallow_creator_admin.policy
ADMINS = access_policy_admin_principals.policy
CLUSTER = "aws:eks/cluster:Cluster"
ASSOCIATION = "aws:eks/accessPolicyAssociation:AccessPolicyAssociation"

PROD_ACCESS = {"accessConfig": {"authenticationMode": "API", "bootstrapClusterCreatorAdminPermissions": False}}
ADMIN_ROLE = "arn:aws:iam::123456789012:role/platform-admin"
PROD_ADMINS = {"adminRoleArns": [ADMIN_ROLE]}
ASSOCIATION_PROPS = {
    "policyArn": "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy",
    "clusterName": "llm-serving-prod",
    "principalArn": ADMIN_ROLE,
    "accessScope": {"type": "cluster"},
}


# --- aws-eks-cluster-authentication-mode-api ----------------------------------------------------


def test_mode_compliant():
    assert resource_violations(MODE, CLUSTER, PROD_ACCESS) == []


def test_mode_config_map_modes():
    for mode in ("CONFIG_MAP", "API_AND_CONFIG_MAP"):
        assert resource_violations(MODE, CLUSTER, {"accessConfig": {"authenticationMode": mode}}) == [
            f"accessConfig.authenticationMode is {mode}: the aws-auth ConfigMap can grant cluster access."
        ]


def test_mode_unset_defaults_to_config_map():
    for props in ({}, {"accessConfig": None}, {"accessConfig": ["API"]}, {"accessConfig": {}}):
        assert resource_violations(MODE, CLUSTER, props) == [
            "accessConfig.authenticationMode is not set: EKS defaults to CONFIG_MAP."
        ]


def test_mode_not_applicable():
    assert resource_violations(MODE, "aws:eks/nodeGroup:NodeGroup", {"accessConfig": {}}) == []


# --- aws-eks-cluster-disallow-creator-admin ------------------------------------------------------


def test_creator_compliant():
    assert resource_violations(CREATOR, CLUSTER, PROD_ACCESS, config={"allowClusterCreatorAdmin": False}) == []


def test_creator_admin_in_prod():
    props = {"accessConfig": {"authenticationMode": "API", "bootstrapClusterCreatorAdminPermissions": True}}
    assert resource_violations(CREATOR, CLUSTER, props, config={"allowClusterCreatorAdmin": False}) == [
        "accessConfig.bootstrapClusterCreatorAdminPermissions is true: the identity that runs `pulumi up` stays "
        "cluster admin besides the stack's admin roles."
    ]


def test_creator_admin_unset_defaults_to_true():
    assert resource_violations(CREATOR, CLUSTER, {"accessConfig": {"authenticationMode": "API"}}) == [
        "accessConfig.bootstrapClusterCreatorAdminPermissions is not set: EKS makes the creator cluster admin."
    ]


def test_creator_admin_allowed_outside_prod_and_not_applicable():
    props = {"accessConfig": {"authenticationMode": "API", "bootstrapClusterCreatorAdminPermissions": True}}
    assert resource_violations(CREATOR, CLUSTER, props, config={"allowClusterCreatorAdmin": True}) == []
    assert resource_violations(CREATOR, "aws:eks/accessEntry:AccessEntry", props) == []


# --- aws-eks-access-policy-admin-principals-allowed ----------------------------------------------


def test_admins_compliant():
    assert resource_violations(ADMINS, ASSOCIATION, ASSOCIATION_PROPS, config=PROD_ADMINS) == []


def test_cluster_admin_for_a_foreign_principal():
    props = {**ASSOCIATION_PROPS, "principalArn": "arn:aws:iam::210987654321:role/intruder"}
    assert resource_violations(ADMINS, ASSOCIATION, props, config=PROD_ADMINS) == [
        "grants AmazonEKSClusterAdminPolicy to arn:aws:iam::210987654321:role/intruder, which is not one of the "
        f"stack's admin roles ({ADMIN_ROLE})."
    ]


def test_admin_policy_namespaced_for_a_role_of_the_account():
    props = {
        **ASSOCIATION_PROPS,
        "policyArn": "arn:aws:eks::aws:cluster-access-policy/AmazonEKSAdminPolicy",
        "principalArn": "arn:aws:iam::123456789012:role/us-east-1-cluster-node-role",
        "accessScope": {"type": "namespace", "namespaces": ["serving"]},
    }
    assert resource_violations(ADMINS, ASSOCIATION, props, config={"adminRoleArns": []}) == [
        "grants AmazonEKSAdminPolicy to arn:aws:iam::123456789012:role/us-east-1-cluster-node-role, which is not "
        "one of the stack's admin roles (none configured)."
    ]


def test_admins_not_applicable():
    view = {**ASSOCIATION_PROPS, "policyArn": "arn:aws:eks::aws:cluster-access-policy/AmazonEKSViewPolicy"}
    foreign = {**view, "principalArn": "arn:aws:iam::210987654321:role/x"}
    assert resource_violations(ADMINS, ASSOCIATION, foreign, config=PROD_ADMINS) == []
    assert resource_violations(ADMINS, ASSOCIATION, {**ASSOCIATION_PROPS, "principalArn": None}) == []
    assert resource_violations(ADMINS, "aws:eks/accessEntry:AccessEntry", {"principalArn": "x"}) == []
