"""With a hosted zone, latency routing sends a model's requests only to regions that serve it, and a
restricted tenant's only where its key is (components/model_hostnames.py); the pack re-checks the
records (aws-route53-latency-records-serve-model)."""

from __future__ import annotations

import copy

import pytest
from conftest import error_of, of_type, provider, resource_violations, run_stack

from llmstack.planfile import placement
from llmstack.policy_config import stack_policy_config
from llmstack.stackfile import load_stack
from policies.aws.route53 import latency_records_serve_model as latency

RECORD = "aws:route53/record:Record"
DOMAIN = "llm.example.com"


def with_zone(values):
    values["gateway"].update(hosted_zone_id="Z0123456789ABCDEFGHIJ", domain_name=DOMAIN)


@pytest.fixture(scope="module")
def prod_with_zone():
    return run_stack("prod", with_zone)


def latency_records(run):
    where = placement([r.to_json() for r in run.resources])
    return {
        (where[r.urn]["region"], r.inputs["name"]): r
        for r in of_type(run, RECORD)
        if r.inputs.get("latencyRoutingPolicies")
    }


def test_each_region_answers_only_the_models_it_serves(prod_with_zone):
    assert sorted(latency_records(prod_with_zone)) == [
        # llama-3-8b-instruct is served in both regions; eu-support (EU only) has its own name, answered in EU.
        ("eu-west-1", "llama-3-8b-instruct.eu-support.llm.example.com"),
        ("eu-west-1", "llama-3-8b-instruct.llm.example.com"),
        # llama-3-70b-instruct runs in us-east-1 only: eu-west-1 never answers for it.
        ("us-east-1", "llama-3-70b-instruct.llm.example.com"),
        ("us-east-1", "llama-3-8b-instruct.llm.example.com"),
    ]
    for (region, _), record in latency_records(prod_with_zone).items():
        assert record.inputs["latencyRoutingPolicies"] == [{"region": region}]


def test_the_model_urls_are_stack_outputs_and_api_url_stays_the_regional_endpoint(prod_with_zone):
    regions = prod_with_zone.outputs["regions"]
    assert {region: sorted(outputs["model_urls"]) for region, outputs in regions.items()} == {
        "us-east-1": ["llama-3-70b-instruct.llm.example.com", "llama-3-8b-instruct.llm.example.com"],
        "eu-west-1": ["llama-3-8b-instruct.eu-support.llm.example.com", "llama-3-8b-instruct.llm.example.com"],
    }
    assert regions["eu-west-1"]["model_urls"]["llama-3-8b-instruct.eu-support.llm.example.com"] == (
        "https://llama-3-8b-instruct.eu-support.llm.example.com/v1/models/llama-3-8b-instruct"
    )
    assert all(".execute-api." in outputs["api_url"] for outputs in regions.values())


def test_a_certificate_with_more_names_than_acm_allows_is_refused():
    def many_restricted(values):
        with_zone(values)
        tenants = values["gateway"]["tenants"]
        for k in range(9):
            tenants.append({"name": f"eu-t{k}", "models": ["llama-3-8b-instruct"], "rate_limit_rps": 1,
                            "burst": 1, "monthly_quota": 1000})  # fmt: skip
        values["policy"]["data_residency"][0]["tenants"] += [f"eu-t{k}" for k in range(9)]

    assert error_of("prod", many_restricted) == (
        "gateway.tenants: eu-west-1's certificate would need 11 names (one per restricted tenant), above ACM's 10 "
        "per certificate"
    )


# --- the policy ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def config():
    return stack_policy_config(load_stack("prod", None))[latency.policy.name] | {"domain": DOMAIN}


def violations(record, region, config):
    return resource_violations(
        latency.policy, RECORD, record, config=config, provider_resource=provider(f"aws-{region}", region)
    )


def test_the_stacks_own_records_pass(prod_with_zone, config):
    for (region, _), record in latency_records(prod_with_zone).items():
        assert violations(record.inputs, region, config) == []


def test_a_record_that_is_not_latency_routed_is_not_its_business(config):
    assert violations({"name": "_x1.llm.example.com.", "type": "CNAME", "records": ["x"]}, "us-east-1", config) == []


def moved(record, region, name=None):
    props = copy.deepcopy(record.inputs)
    props["latencyRoutingPolicies"] = [{"region": region}]
    props["setIdentifier"] = region
    if name is not None:
        props["name"] = name
    return props


def test_a_model_answered_from_a_region_that_does_not_serve_it_fires(prod_with_zone, config):
    record = latency_records(prod_with_zone)[("us-east-1", "llama-3-70b-instruct.llm.example.com")]
    assert violations(moved(record, "eu-west-1"), "eu-west-1", config) == [
        "latency record 'subject' answers llama-3-70b-instruct.llm.example.com from eu-west-1, which does not serve "
        "llama-3-70b-instruct (served in us-east-1)."
    ]


def test_a_restricted_tenants_name_answered_outside_its_regions_fires(prod_with_zone, config):
    record = latency_records(prod_with_zone)[("eu-west-1", "llama-3-8b-instruct.eu-support.llm.example.com")]
    assert violations(moved(record, "us-east-1"), "us-east-1", config) == [
        "latency record 'subject' answers llama-3-8b-instruct.eu-support.llm.example.com from us-east-1, where "
        "tenant 'eu-support' has no key (policy.data_residency allows eu-west-1)."
    ]


@pytest.mark.parametrize(
    "name",
    [
        "llm.example.com",  # the old one-name-for-all: answers for models the region may not serve
        "unknown-model.llm.example.com",
        "llama-3-8b-instruct.stranger.llm.example.com",
        "a.b.c.llm.example.com",
    ],
)
def test_a_latency_record_that_is_no_model_hostname_fires(prod_with_zone, config, name):
    record = latency_records(prod_with_zone)[("us-east-1", "llama-3-8b-instruct.llm.example.com")]
    assert violations(moved(record, "us-east-1", name), "us-east-1", config) == [
        f"latency record 'subject' routes {name!r}, which is no model hostname of the stack under llm.example.com: "
        "nothing says which regions may answer it."
    ]


def test_without_a_domain_in_the_stack_file_any_latency_record_fires(prod_with_zone, config):
    record = latency_records(prod_with_zone)[("us-east-1", "llama-3-8b-instruct.llm.example.com")]
    assert violations(record.inputs, "us-east-1", {**config, "domain": None}) == [
        "latency record 'subject' routes 'llama-3-8b-instruct.llm.example.com', which is no model hostname of the "
        "stack while the stack file sets no gateway.domain_name: nothing says which regions may answer it."
    ]
