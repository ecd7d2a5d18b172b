"""Lambda: function URLs authenticate, permissions name their one source."""

from conftest import resource_violations

from policies.aws.awslambda import function_url_requires_iam_auth, permission_source_scoped

URL = function_url_requires_iam_auth.policy
PERMISSION = permission_source_scoped.policy
URL_TYPE = "aws:lambda/functionUrl:FunctionUrl"
PERMISSION_TYPE = "aws:lambda/permission:Permission"
ACCOUNT = {"accountId": "123456789012"}

SOURCE = (
    "arn:aws:execute-api:us-east-1:123456789012:us-east-1-gateway-api-id/authorizers/us-east-1-gateway-authorizer-id"
)
AUTHORIZER = {
    "function": "llm-serving-prod-us-east-1-tenant-authorizer",
    "principal": "apigateway.amazonaws.com",
    "sourceArn": SOURCE,
    "action": "lambda:InvokeFunction",
}


# --- aws-lambda-function-url-disallow-auth-none --------------------------------------------------


def test_url_compliant():
    assert resource_violations(URL, URL_TYPE, {"functionName": "f", "authorizationType": "AWS_IAM"}) == []


def test_url_auth_none():
    assert resource_violations(URL, URL_TYPE, {"functionName": "f", "authorizationType": "NONE"}) == [
        "authorizationType NONE: anyone who finds the URL invokes the function."
    ]


def test_url_auth_unset_or_odd():
    assert resource_violations(URL, URL_TYPE, {"functionName": "f"}) == ["authorizationType is None, not AWS_IAM."]
    assert resource_violations(URL, URL_TYPE, {"authorizationType": ["AWS_IAM"]}) == [
        "authorizationType is ['AWS_IAM'], not AWS_IAM."
    ]


def test_url_not_applicable():
    assert resource_violations(URL, "aws:lambda/function:Function", {"authorizationType": "NONE"}) == []
    assert resource_violations(URL, PERMISSION_TYPE, {"functionUrlAuthType": "NONE"}) == []


# --- aws-lambda-permission-source-scoped ---------------------------------------------------------


def test_permission_compliant_authorizer_of_the_plan():
    assert resource_violations(PERMISSION, PERMISSION_TYPE, AUTHORIZER, config=ACCOUNT) == []
    same_account = {**AUTHORIZER, "principal": "arn:aws:iam::123456789012:role/caller", "sourceArn": None}
    assert resource_violations(PERMISSION, PERMISSION_TYPE, same_account, config=ACCOUNT) == []
    bucket = {**AUTHORIZER, "principal": "s3.amazonaws.com", "sourceArn": "arn:aws:s3:::weights"}
    assert (
        resource_violations(PERMISSION, PERMISSION_TYPE, {**bucket, "sourceAccount": "123456789012"}, config=ACCOUNT)
        == []
    )


def test_permission_without_source_arn():
    props = {k: v for k, v in AUTHORIZER.items() if k != "sourceArn"}
    assert resource_violations(PERMISSION, PERMISSION_TYPE, props, config=ACCOUNT) == [
        "principal apigateway.amazonaws.com may invoke the function from any source: set sourceArn."
    ]


def test_permission_source_arn_covering_every_api():
    arn = "arn:aws:execute-api:us-east-1:123456789012:*/authorizers/*"
    assert resource_violations(PERMISSION, PERMISSION_TYPE, {**AUTHORIZER, "sourceArn": arn}, config=ACCOUNT) == [
        f"sourceArn '{arn}' covers every execute-api resource; name the one that invokes."
    ]


def test_permission_source_arn_covering_any_account():
    arn = "arn:aws:execute-api:us-east-1:*:us-east-1-gateway-api-id/authorizers/x"
    assert resource_violations(PERMISSION, PERMISSION_TYPE, {**AUTHORIZER, "sourceArn": arn}, config=ACCOUNT) == [
        f"sourceArn '{arn}' covers any account; name the account (or set sourceAccount)."
    ]
    bucket = {**AUTHORIZER, "principal": "s3.amazonaws.com", "sourceArn": "arn:aws:s3:::weights"}
    assert resource_violations(PERMISSION, PERMISSION_TYPE, bucket, config=ACCOUNT) == [
        "sourceArn 'arn:aws:s3:::weights' covers any account; name the account (or set sourceAccount)."
    ]


def test_permission_source_arn_in_another_account():
    arn = SOURCE.replace("123456789012", "210987654321")
    assert resource_violations(PERMISSION, PERMISSION_TYPE, {**AUTHORIZER, "sourceArn": arn}, config=ACCOUNT) == [
        f"sourceArn '{arn}' is in account 210987654321, not this stack's account 123456789012."
    ]


def test_permission_source_arn_not_an_arn():
    assert resource_violations(PERMISSION, PERMISSION_TYPE, {**AUTHORIZER, "sourceArn": "api-id"}, config=ACCOUNT) == [
        "sourceArn is not an ARN ('api-id')."
    ]


def test_permission_wildcard_principal():
    assert resource_violations(PERMISSION, PERMISSION_TYPE, {**AUTHORIZER, "principal": "*"}, config=ACCOUNT) == [
        "principal '*' lets any account invoke the function."
    ]


def test_permission_principal_of_another_account():
    props = {**AUTHORIZER, "principal": "210987654321"}
    assert resource_violations(PERMISSION, PERMISSION_TYPE, props, config=ACCOUNT) == [
        "principal 210987654321 is account 210987654321, not this stack's account 123456789012."
    ]


def test_permission_function_url_auth_none():
    props = {**AUTHORIZER, "principal": "*", "functionUrlAuthType": "NONE", "action": "lambda:InvokeFunctionUrl"}
    assert resource_violations(PERMISSION, PERMISSION_TYPE, props, config=ACCOUNT) == [
        "functionUrlAuthType NONE lets anyone invoke the function through its URL.",
        "principal '*' lets any account invoke the function.",
    ]


def test_permission_without_pinned_account_still_requires_a_scoped_source():
    arn = SOURCE.replace("123456789012", "210987654321")
    assert resource_violations(PERMISSION, PERMISSION_TYPE, {**AUTHORIZER, "sourceArn": arn}) == []
    props = {k: v for k, v in AUTHORIZER.items() if k != "sourceArn"}
    assert resource_violations(PERMISSION, PERMISSION_TYPE, props) == [
        "principal apigateway.amazonaws.com may invoke the function from any source: set sourceArn."
    ]


def test_permission_not_applicable():
    props = {k: v for k, v in AUTHORIZER.items() if k != "sourceArn"}
    assert resource_violations(PERMISSION, "aws:lambda/function:Function", props, config=ACCOUNT) == []
    assert resource_violations(PERMISSION, URL_TYPE, props, config=ACCOUNT) == []
