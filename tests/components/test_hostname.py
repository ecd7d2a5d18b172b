"""RegionalHostname: nothing without a hosted zone; with one, a DNS-validated certificate for the
region's wildcards, and per model hostname a REGIONAL TLS 1.2 custom domain mapped to the stage and a
latency alias record with the region's health check."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws
import pytest
from pulumi.runtime.sync_await import _sync_await
from serving_harness import by_type, record

from components.hostname import RegionalHostname, RegionalHostnameArgs
from components.model_hostnames import ModelHostname, RestrictedTenant, certificate_names, hostnames_by_region

INVOKE_URL = "https://abc123.execute-api.eu-west-1.amazonaws.com/v1"


def args(**changes):
    values = {
        "environment": "prod",
        "region": "eu-west-1",
        "rest_api_id": "abc123",
        "api_name": "llm-serving-prod-eu-west-1",
        "stage_name": "v1",
        "invoke_url": INVOKE_URL,
        "hosted_zone_id": "Z0123456789ABC",
        "domain_name": "llm.example.com",
        "hostnames": (
            ModelHostname("llama.llm.example.com", "llama"),
            ModelHostname("llama.eu-support.llm.example.com", "llama", "eu-support"),
        ),
    }
    return RegionalHostnameArgs(**{**values, **changes})


def build(hostname_args):
    built = {}

    def program():
        provider = aws.Provider("aws-eu-west-1", region="eu-west-1")
        built["hostname"] = RegionalHostname(
            "host", hostname_args, opts=pulumi.ResourceOptions(providers={"aws": provider})
        )

    return record(program), built["hostname"]


def test_without_a_zone_nothing_is_created_and_the_invoke_url_is_the_output():
    resources, hostname = build(args(hosted_zone_id=None, domain_name=None))
    assert [r.type for r in resources] == ["pulumi:providers:aws", "llm-serving:gateway:RegionalHostname"]
    assert _sync_await(hostname.url.future()) == INVOKE_URL
    assert hostname.health_check_id is None and hostname.model_urls == {}


def test_each_model_is_named_where_it_is_served_and_a_restricted_tenant_only_where_allowed():
    served = {"big": ["us-east-1"], "small": ["us-east-1", "eu-west-1"]}
    eu = RestrictedTenant("eu-support", frozenset({"eu-west-1"}), ("small", "big"))
    names = hostnames_by_region("llm.example.com", served, [eu])
    assert {region: [h.hostname for h in hs] for region, hs in names.items()} == {
        # big is served in us-east-1 only: its name never answers from eu-west-1.
        "us-east-1": ["big.llm.example.com", "small.llm.example.com"],
        # eu-support's names answer only where its key is; `big` has no region it may use.
        "eu-west-1": ["small.llm.example.com", "small.eu-support.llm.example.com"],
    }
    assert certificate_names("llm.example.com", names["eu-west-1"]) == [
        "*.llm.example.com",
        "*.eu-support.llm.example.com",
    ]
    assert names["eu-west-1"][1].base_url == "https://small.eu-support.llm.example.com/v1/models/small"


@pytest.fixture(scope="module")
def with_zone():
    return build(args())


def test_certificate_covers_the_wildcards_and_each_name_is_validated_by_dns(with_zone):
    resources, _ = with_zone
    (certificate,) = by_type(resources, "aws:acm/certificate:Certificate")
    assert certificate.inputs["domainName"] == "*.llm.example.com"
    assert certificate.inputs["subjectAlternativeNames"] == ["*.eu-support.llm.example.com"]
    assert certificate.inputs["validationMethod"] == "DNS"
    records = {r.name: r for r in by_type(resources, "aws:route53/record:Record")}
    validations = [records["host-certificate-validation"], records["host-certificate-validation-1"]]
    assert [v.inputs["name"] for v in validations] == ["_x1.llm.example.com.", "_x1.eu-support.llm.example.com."]
    for validation in validations:
        assert validation.inputs["zoneId"] == "Z0123456789ABC"
        assert validation.inputs["type"] == "CNAME"
        # Every region upserts the same ACM validation record for the same domain.
        assert validation.inputs["allowOverwrite"] is True
    (check,) = by_type(resources, "aws:acm/certificateValidation:CertificateValidation")
    assert certificate.urn in check.property_dependencies["certificateArn"]
    assert {v.urn for v in validations} <= set(check.property_dependencies["validationRecordFqdns"])
    assert len(check.inputs["validationRecordFqdns"]) == 2


def test_each_hostname_has_a_regional_tls12_domain_mapped_to_the_stage(with_zone):
    resources, hostname = with_zone
    domains = {r.inputs["domainName"]: r for r in by_type(resources, "aws:apigateway/domainName:DomainName")}
    assert sorted(domains) == ["llama.eu-support.llm.example.com", "llama.llm.example.com"]
    (validation,) = by_type(resources, "aws:acm/certificateValidation:CertificateValidation")
    for domain in domains.values():
        assert domain.inputs["endpointConfiguration"] == {"types": "REGIONAL"}
        assert domain.inputs["securityPolicy"] == "TLS_1_2"
        assert validation.urn in domain.property_dependencies["regionalCertificateArn"]
    mappings = sorted(
        (m.inputs["domainName"], m.inputs["restApi"], m.inputs["stageName"])
        for m in by_type(resources, "aws:apigateway/basePathMapping:BasePathMapping")
    )
    assert mappings == [("llama.eu-support.llm.example.com", "abc123", "v1"), ("llama.llm.example.com", "abc123", "v1")]
    assert hostname.model_urls == {
        "llama.llm.example.com": "https://llama.llm.example.com/v1/models/llama",
        "llama.eu-support.llm.example.com": "https://llama.eu-support.llm.example.com/v1/models/llama",
    }
    assert _sync_await(hostname.url.future()) == INVOKE_URL


def test_latency_records_point_at_the_regional_domains_with_the_health_check(with_zone):
    resources, _ = with_zone
    records = {r.name: r for r in by_type(resources, "aws:route53/record:Record")}
    (health,) = by_type(resources, "aws:route53/healthCheck:HealthCheck")
    for label, name in (("llama", "llama.llm.example.com"), ("llama--eu-support", "llama.eu-support.llm.example.com")):
        latency = records[f"host-latency-{label}"]
        assert latency.inputs["name"] == name and latency.inputs["type"] == "A"
        assert latency.inputs["setIdentifier"] == "eu-west-1"
        assert latency.inputs["latencyRoutingPolicies"] == [{"region": "eu-west-1"}]
        assert latency.inputs["aliases"] == [
            {
                "name": f"d-host-domain-{label}.execute-api.eu-west-1.amazonaws.com",
                "zoneId": "Z1UJRXOUMOOFQ8",
                "evaluateTargetHealth": True,
            }
        ]
        assert latency.inputs["healthCheckId"] == "host-health-id"
        assert health.urn in latency.property_dependencies["healthCheckId"]


def test_health_follows_the_stages_5xx_alarm(with_zone):
    resources, _ = with_zone
    (alarm,) = by_type(resources, "aws:cloudwatch/metricAlarm:MetricAlarm")
    assert alarm.inputs["namespace"] == "AWS/ApiGateway" and alarm.inputs["metricName"] == "5XXError"
    assert alarm.inputs["dimensions"] == {"ApiName": "llm-serving-prod-eu-west-1", "Stage": "v1"}
    (health,) = by_type(resources, "aws:route53/healthCheck:HealthCheck")
    assert health.inputs["type"] == "CLOUDWATCH_METRIC"
    assert health.inputs["cloudwatchAlarmName"] == alarm.inputs["name"]
    assert health.inputs["cloudwatchAlarmRegion"] == "eu-west-1"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"domain_name": None}, "hosted_zone_id, domain_name: set both for a global hostname, or neither"),
        ({"hosted_zone_id": None}, "hosted_zone_id, domain_name: set both for a global hostname, or neither"),
        (
            {"domain_name": "LLM.example"},
            "domain_name: must be a lowercase DNS name such as api.example.com (got 'LLM.example')",
        ),
    ],
)
def test_bad_args_name_the_field(changes, message):
    with pytest.raises(ValueError) as error:
        args(**changes)
    assert str(error.value) == message


def test_the_mapping_waits_for_the_stage_it_names():
    built = {}

    def program():
        provider = aws.Provider("aws-eu-west-1", region="eu-west-1")
        stage = aws.apigateway.Stage(
            "stage",
            rest_api="abc123",
            stage_name="v1",
            deployment="d1",
            opts=pulumi.ResourceOptions(provider=provider),
        )
        built["stage"] = stage
        RegionalHostname(
            "host", args(invoke_url=stage.invoke_url), opts=pulumi.ResourceOptions(providers={"aws": provider})
        )

    resources = record(program)
    (stage,) = by_type(resources, "aws:apigateway/stage:Stage")
    mappings = by_type(resources, "aws:apigateway/basePathMapping:BasePathMapping")
    assert len(mappings) == 2
    for mapping in mappings:
        assert mapping.inputs["stageName"] == "v1"
        assert stage.urn in mapping.property_dependencies["stageName"]
