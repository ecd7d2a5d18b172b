"""RegionalHostname: one region's share of the global API hostname (optional).

With a Route 53 hosted zone and a domain name, each region gets: an ACM certificate for the
domain validated by DNS, a REGIONAL API Gateway custom domain (TLS 1.2) mapped to its stage, a
health check, and a latency-based alias record (set identifier = region). Clients use one name;
Route 53 answers with the closest healthy region and fails over when a region's check fails.

Health: every route requires an API key, so an HTTPS probe would only ever see 403. The health
check follows a CloudWatch alarm on the stage's 5XXError rate instead (backend down, VPC link or
NLB broken, timeouts), which is what a failover should react to; no data keeps the last status.

ACM issues the same DNS validation record for the same domain in every region of an account,
so the validation record is written with allow_overwrite (each region upserts the same CNAME).

Without a hosted zone nothing is created and `url` is the stage's regional invoke URL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.arg_checks import check_region

UNHEALTHY_5XX_RATE = 0.5  # share of requests answered 5xx over EVALUATION_MINUTES
EVALUATION_MINUTES = 3
_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


@dataclass(frozen=True)
class RegionalHostnameArgs:
    environment: str
    region: str
    rest_api_id: pulumi.Input[str]
    api_name: str
    """REST API name: the ApiName dimension of the 5XXError metric."""
    stage_name: str
    invoke_url: pulumi.Input[str]
    """The stage's regional invoke URL: the output when there is no hosted zone."""
    hosted_zone_id: str | None = None
    domain_name: str | None = None

    def __post_init__(self) -> None:
        check_region(self.region)
        if bool(self.hosted_zone_id) != bool(self.domain_name):
            raise ValueError("hosted_zone_id, domain_name: set both for a global hostname, or neither")
        if self.domain_name and not _DOMAIN.fullmatch(self.domain_name):
            raise ValueError(
                f"domain_name: must be a lowercase DNS name such as api.example.com (got {self.domain_name!r})"
            )


class RegionalHostname(pulumi.ComponentResource):
    """Custom domain, certificate, health check and latency record of one region (or nothing)."""

    url: pulumi.Output[str]
    """https://<domain> with a hosted zone, the regional invoke URL otherwise."""
    health_check_id: pulumi.Output[str] | None

    def __init__(self, name: str, args: RegionalHostnameArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("llm-serving:gateway:RegionalHostname", name, None, opts)
        self.health_check_id = None
        if not args.hosted_zone_id or not args.domain_name:
            self.url = pulumi.Output.from_input(args.invoke_url)
            self.register_outputs({"url": self.url})
            return
        child = pulumi.ResourceOptions(parent=self)
        tags = {"Name": f"{name}", "component": "gateway"}
        certificate = aws.acm.Certificate(
            f"{name}-certificate",
            domain_name=args.domain_name,
            validation_method="DNS",
            key_algorithm="EC_prime256v1",
            tags={**tags, "Name": f"{name}-certificate"},
            opts=child,
        )
        option = certificate.domain_validation_options[0]
        validation_record = aws.route53.Record(
            f"{name}-certificate-validation",
            zone_id=args.hosted_zone_id,
            name=option.resource_record_name,
            type=option.resource_record_type,
            records=[option.resource_record_value],
            ttl=300,
            allow_overwrite=True,
            opts=child,
        )
        validation = aws.acm.CertificateValidation(
            f"{name}-certificate",
            certificate_arn=certificate.arn,
            validation_record_fqdns=[validation_record.fqdn],
            opts=child,
        )
        domain = aws.apigateway.DomainName(
            f"{name}-domain",
            domain_name=args.domain_name,
            regional_certificate_arn=validation.certificate_arn,
            endpoint_configuration=aws.apigateway.DomainNameEndpointConfigurationArgs(types="REGIONAL"),
            security_policy="TLS_1_2",
            tags={**tags, "Name": f"{name}-domain"},
            opts=child,
        )
        aws.apigateway.BasePathMapping(
            f"{name}-mapping",
            domain_name=domain.domain_name,
            rest_api=args.rest_api_id,
            # Through the invoke URL (a stage output): API Gateway refuses a mapping to a stage that
            # does not exist yet, and the plain stage name carries no dependency on it.
            stage_name=pulumi.Output.from_input(args.invoke_url).apply(lambda _: args.stage_name),
            opts=child,
        )
        alarm = aws.cloudwatch.MetricAlarm(
            f"{name}-5xx",
            name=f"llm-serving-{args.environment}-{args.region}-gateway-5xx",
            alarm_description=f"llm-serving {args.region}: most requests fail with 5xx; Route 53 fails over",
            namespace="AWS/ApiGateway",
            metric_name="5XXError",
            dimensions={"ApiName": args.api_name, "Stage": args.stage_name},
            statistic="Average",
            period=60,
            evaluation_periods=EVALUATION_MINUTES,
            threshold=UNHEALTHY_5XX_RATE,
            comparison_operator="GreaterThanThreshold",
            treat_missing_data="notBreaching",
            tags={**tags, "Name": f"{name}-5xx"},
            opts=child,
        )
        health_check = aws.route53.HealthCheck(
            f"{name}-health",
            type="CLOUDWATCH_METRIC",
            cloudwatch_alarm_name=alarm.name,
            cloudwatch_alarm_region=args.region,
            insufficient_data_health_status="LastKnownStatus",
            reference_name=f"llm-{args.region}"[:64],
            tags={**tags, "Name": f"{name}-health"},
            opts=child,
        )
        aws.route53.Record(
            f"{name}-latency",
            zone_id=args.hosted_zone_id,
            name=args.domain_name,
            type="A",
            set_identifier=args.region,
            latency_routing_policies=[aws.route53.RecordLatencyRoutingPolicyArgs(region=args.region)],
            health_check_id=health_check.id,
            aliases=[
                aws.route53.RecordAliasArgs(
                    name=domain.regional_domain_name, zone_id=domain.regional_zone_id, evaluate_target_health=True
                )
            ],
            opts=child,
        )
        self.health_check_id = health_check.id
        self.url = pulumi.Output.from_input(f"https://{args.domain_name}")
        self.register_outputs({"url": self.url, "health_check_id": self.health_check_id})
