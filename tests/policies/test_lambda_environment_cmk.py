"""aws-lambda-function-environment-encrypted-with-cmk: exact messages for each way to violate it."""

from conftest import resource_violations

from policies.aws.awslambda import function_environment_cmk

FUNCTION = "aws:lambda/function:Function"
KEY = "arn:aws:kms:us-east-1:123456789012:key/0f0e8b3c-5d6a-4e2f-9a1b-7c8d9e0f1a2b"
DEFAULT_KEY = (
    "environment variables are encrypted with the AWS-managed aws/lambda key: set kmsKeyArn to a customer-managed key."
)


def function(**changes):
    return {"environment": {"variables": {"TENANTS": "[secret]"}}, "kmsKeyArn": KEY, **changes}


def violations(props, resource_type=FUNCTION):
    return resource_violations(function_environment_cmk.policy, resource_type, props)


def test_a_function_whose_environment_uses_a_customer_key_is_compliant():
    assert violations(function()) == []


def test_no_key_is_a_violation():
    props = function()
    del props["kmsKeyArn"]
    assert violations(props) == [DEFAULT_KEY]


def test_an_empty_key_is_a_violation():
    assert violations(function(kmsKeyArn="")) == [DEFAULT_KEY]


def test_an_alias_is_not_a_customer_key():
    alias = "arn:aws:kms:us-east-1:123456789012:alias/aws/lambda"
    assert violations(function(kmsKeyArn=alias)) == [
        f"kmsKeyArn is not the ARN of a customer-managed KMS key (got '{alias}')."
    ]


def test_an_unreadable_key_is_a_violation():
    assert violations(function(kmsKeyArn=["x"])) == [
        "kmsKeyArn is not the ARN of a customer-managed KMS key (got ['x'])."
    ]


def test_not_applicable_without_environment_variables_or_to_other_types():
    assert violations({"kmsKeyArn": None}) == []
    assert violations({"environment": {"variables": {}}}) == []
    assert violations({"environment": None}) == []
    assert violations({"environment": ["odd"]}) == []
    assert violations({"environment": {"variables": {"A": "1"}}}, "aws:lambda/permission:Permission") == []
