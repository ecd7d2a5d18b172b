from conftest import provider, resource_violations

from policies.aws import provider_region_allowed
from policies.general import explicit_provider

ALLOWED = {"allowedRegions": ["us-east-1", "eu-west-1"]}


# --- all-resources-explicit-provider ------------------------------------------------------------


def test_explicit_provider_compliant():
    assert resource_violations(explicit_provider.policy, "aws:ec2/vpc:Vpc", {}, provider_resource=provider()) == []


def test_default_provider_is_a_violation():
    default = provider(name="default_7_51_1")
    assert resource_violations(explicit_provider.policy, "aws:ec2/vpc:Vpc", {}, provider_resource=default) == [
        "uses the default provider 'default_7_51_1': its region, account or cluster come from the environment, "
        "not the stack."
    ]


def test_missing_provider_is_a_violation():
    assert resource_violations(explicit_provider.policy, "kubernetes:core/v1:Namespace", {}) == [
        "no provider: the resource would use the ambient region, account or cluster."
    ]


def test_components_and_providers_are_not_checked():
    assert resource_violations(explicit_provider.policy, "llm-serving:network:Network", {}) == []
    assert resource_violations(explicit_provider.policy, "pulumi:providers:aws", {"region": "us-east-1"}) == []


# --- aws-provider-region-allowed ----------------------------------------------------------------

REGION = provider_region_allowed.policy


def test_provider_in_allowed_region():
    assert resource_violations(REGION, "pulumi:providers:aws", {"region": "eu-west-1"}, config=ALLOWED) == []


def test_provider_outside_allowed_regions():
    assert resource_violations(
        REGION, "pulumi:providers:aws", {"region": "ap-south-1"}, name="aws-ap", config=ALLOWED
    ) == ["AWS provider 'aws-ap' targets ap-south-1; allowed: us-east-1, eu-west-1."]


def test_provider_without_region():
    assert resource_violations(REGION, "pulumi:providers:aws", {}, name="aws-x", config=ALLOWED) == [
        "AWS provider 'aws-x' sets no region; it would fall back to the environment's."
    ]


def test_resource_region_override_outside_allowed_regions():
    props = {"region": "us-west-2", "cidrBlock": "10.0.0.0/16"}
    assert resource_violations(REGION, "aws:ec2/vpc:Vpc", props, name="vpc", config=ALLOWED) == [
        "resource 'vpc' overrides the region targets us-west-2; allowed: us-east-1, eu-west-1."
    ]


def test_resources_without_override_are_not_checked():
    assert resource_violations(REGION, "aws:ec2/vpc:Vpc", {"cidrBlock": "10.0.0.0/16"}, config=ALLOWED) == []
