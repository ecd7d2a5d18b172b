"""aws-iam-pod-identity-trust-scoped-to-service-account: exact messages for each way to violate it."""

import json

from conftest import resource_violations

from components.pod_identity import trust_policy
from policies.aws.iam import pod_identity_trust_scoped

ROLE = "aws:iam/role:Role"
CLUSTER_ARN = "arn:aws:eks:us-east-1:123456789012:cluster/llm-serving-prod"
NS = "aws:RequestTag/kubernetes-namespace"
SA = "aws:RequestTag/kubernetes-service-account"


def role(statement_changes=None, *, drop=()):
    document = trust_policy(CLUSTER_ARN, "serving", ["llama", "mistral"])
    statement = document["Statement"][0]
    for key in drop:
        del statement["Condition"]["StringEquals"][key]
    statement.update(statement_changes or {})
    return {"assumeRolePolicy": json.dumps(document)}


def violations(props, resource_type=ROLE):
    return resource_violations(pod_identity_trust_scoped.policy, resource_type, props)


def missing(key, sid="EksPodIdentityOfThisServiceAccount"):
    return (
        f"assumeRolePolicy: statement {sid} trusts pods.eks.amazonaws.com without a StringEquals condition on "
        f"{key}: any pod of an associated cluster can take the role."
    )


def test_the_programs_trust_policy_is_compliant():
    assert violations(role()) == []
    assert violations({"assumeRolePolicy": trust_policy(CLUSTER_ARN, "kube-system", "aws-node")}) == []


def test_trust_pinned_to_the_cluster_only_is_a_violation():
    assert violations(role(drop=(NS, SA))) == [missing(NS), missing(SA)]


def test_a_missing_service_account_condition_is_a_violation():
    assert violations(role(drop=(SA,))) == [missing(SA)]


def test_a_missing_namespace_condition_is_a_violation():
    assert violations(role(drop=(NS,))) == [missing(NS)]


def test_no_condition_at_all_names_the_statement_by_index_without_a_sid():
    props = role({"Condition": None, "Sid": None})
    assert violations(props) == [missing(NS, "#0"), missing(SA, "#0")]


def test_if_exists_and_negated_operators_do_not_scope_the_role():
    condition = {"StringEqualsIfExists": {NS: "serving"}, "StringNotEquals": {SA: "other"}}
    assert violations(role({"Condition": condition})) == [missing(NS), missing(SA)]


def test_a_wildcard_value_is_a_violation():
    condition = {"StringLike": {NS: "serving", SA: ["llama", "*"]}}
    assert violations(role({"Condition": condition})) == [
        "assumeRolePolicy: statement EksPodIdentityOfThisServiceAccount trusts pods.eks.amazonaws.com with "
        f"{SA} matching a pattern ('*'), not a named value."
    ]


def test_condition_keys_are_case_insensitive_and_service_lists_count():
    condition = {"StringEquals": {NS.lower(): "serving", SA.upper(): "llama"}}
    principal = {"Service": ["ec2.amazonaws.com", "pods.eks.amazonaws.com"]}
    assert violations(role({"Condition": condition, "Principal": principal})) == []
    assert violations(role({"Condition": {}, "Principal": principal})) == [missing(NS), missing(SA)]


def test_unreadable_trust_policy_is_a_violation():
    assert violations({"assumeRolePolicy": "{not json"}) == ["assumeRolePolicy is not a JSON policy document."]


def test_not_applicable_to_other_principals_deny_statements_and_other_types():
    assert violations(role({"Principal": {"Service": "lambda.amazonaws.com"}, "Condition": {}})) == []
    assert violations(role({"Effect": "Deny", "Condition": {}})) == []
    assert violations({"assumeRolePolicy": None}) == []
    assert violations({"policy": json.dumps({"Statement": []})}, "aws:iam/rolePolicy:RolePolicy") == []


def test_odd_documents_never_raise():
    for odd in ({"Statement": None}, {"Statement": "x"}, {"Statement": [1, None, {"Principal": "*"}]}, []):
        assert violations({"assumeRolePolicy": json.dumps(odd)}) in (
            [],
            ["assumeRolePolicy is not a JSON policy document."],
        )
    assert violations(role({"Principal": {"Service": None}, "Condition": ["x"]})) == []
    assert violations(role({"Condition": {"StringEquals": ["x"]}})) == [missing(NS), missing(SA)]
