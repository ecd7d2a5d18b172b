"""RegionalHostname: nothing without a hosted zone; with one, a DNS-validated certificate, a REGIONAL
TLS 1.2 custom domain mapped to the stage, a health check and a latency alias record per region."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws
import pytest
from pulumi.runtime.sync_await import _sync_await
from serving_harness import by_type, record

from components.hostname import RegionalHostname, RegionalHostnameArgs

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
    assert hostname.health_check_id is None


@pytest.fixture(scope="module")
def with_zone():
    return build(args())


def test_certificate_is_validated_by_dns_in_the_zone(with_zone):
    resources, _ = with_zone
    (certificate,) = by_type(resources, "aws:acm/certificate:Certificate")
    assert certificate.inputs["domainName"] == "llm.example.com"
    assert certificate.inputs["validationMethod"] == "DNS"
    records = {r.name: r for r in by_type(resources, "aws:route53/record:Record")}
    validation = records["host-certificate-validation"]
    assert validation.inputs["zoneId"] == "Z0123456789ABC"
    assert validation.inputs["type"] == "CNAME"
    assert validation.inputs["name"] == "_x1.llm.example.com."
    # Every region upserts the same ACM validation record for the same domain.
    assert validation.inputs["allowOverwrite"] is True
    (check,) = by_type(resources, "aws:acm/certificateValidation:CertificateValidation")
    assert certificate.urn in check.property_dependencies["certificateArn"]


def test_custom_domain_is_regional_tls12_and_mapped_to_the_stage(with_zone):
    resources, _ = with_zone
    (domain,) = by_type(resources, "aws:apigateway/domainName:DomainName")
    assert domain.inputs["endpointConfiguration"] == {"types": "REGIONAL"}
    assert domain.inputs["securityPolicy"] == "TLS_1_2"
    (validation,) = by_type(resources, "aws:acm/certificateValidation:CertificateValidation")
    assert validation.urn in domain.property_dependencies["regionalCertificateArn"]
    (mapping,) = by_type(resources, "aws:apigateway/basePathMapping:BasePathMapping")
    assert mapping.inputs == {"domainName": "llm.example.com", "restApi": "abc123", "stageName": "v1"}


def test_latency_record_points_at_the_regional_domain_with_a_health_check(with_zone):
    resources, hostname = with_zone
    records = {r.name: r for r in by_type(resources, "aws:route53/record:Record")}
    latency = records["host-latency"]
    assert latency.inputs["name"] == "llm.example.com" and latency.inputs["type"] == "A"
    assert latency.inputs["setIdentifier"] == "eu-west-1"
    assert latency.inputs["latencyRoutingPolicies"] == [{"region": "eu-west-1"}]
    assert latency.inputs["aliases"] == [
        {
            "name": "d-host-domain.execute-api.eu-west-1.amazonaws.com",
            "zoneId": "Z1UJRXOUMOOFQ8",
            "evaluateTargetHealth": True,
        }
    ]
    (health,) = by_type(resources, "aws:route53/healthCheck:HealthCheck")
    assert latency.inputs["healthCheckId"] == "host-health-id"
    assert health.urn in latency.property_dependencies["healthCheckId"]
    assert _sync_await(hostname.url.future()) == "https://llm.example.com"


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
    (mapping,) = by_type(resources, "aws:apigateway/basePathMapping:BasePathMapping")
    assert mapping.inputs["stageName"] == "v1"
    assert stage.urn in mapping.property_dependencies["stageName"]
