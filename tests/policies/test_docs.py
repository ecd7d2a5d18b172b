from policies import docs
from policies.registry import ALL_POLICIES


def test_readme_is_generated_from_the_pack():
    assert docs.README.read_text(encoding="utf-8") == docs.render(), "run: python -m policies.docs"


def test_every_policy_is_documented_for_reviewers():
    names = [policy.name for policy in ALL_POLICIES]
    assert len(names) == len(set(names))
    for policy in ALL_POLICIES:
        assert policy.description and policy.remediation_steps and policy.severity, policy.name
        assert docs.policy_path(policy).startswith("policies/")
