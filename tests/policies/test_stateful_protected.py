from conftest import resource_violations

from policies.general import stateful_resources_protected

POLICY = stateful_resources_protected.policy
PROD = {"protectRequired": True}


def test_protected_bucket_and_key_in_prod():
    for type_token in ("aws:s3/bucket:Bucket", "aws:kms/key:Key", "aws:kms/replicaKey:ReplicaKey"):
        assert resource_violations(POLICY, type_token, {}, config=PROD, protect=True) == []


def test_unprotected_bucket_in_prod():
    assert resource_violations(POLICY, "aws:s3/bucket:Bucket", {}, name="weights", config=PROD) == [
        "bucket 'weights' is not protect=True; a destroy or replacement would delete it."
    ]


def test_unprotected_key_in_prod():
    assert resource_violations(POLICY, "aws:kms/key:Key", {}, name="k", config=PROD) == [
        "KMS key 'k' is not protect=True; a destroy or replacement would delete it."
    ]


def test_not_required_outside_prod_and_not_applicable_to_stateless_types():
    assert resource_violations(POLICY, "aws:s3/bucket:Bucket", {}, config={"protectRequired": False}) == []
    assert resource_violations(POLICY, "aws:iam/role:Role", {}, config=PROD) == []
