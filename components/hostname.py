"""RegionalHostname: one region's share of the gateway's global hostnames (optional).

With a Route 53 hosted zone and a domain name, each region answers the model hostnames of
`components.model_hostnames` that it serves: one ACM certificate (DNS-validated) for their
wildcards, and per hostname a REGIONAL API Gateway custom domain (TLS 1.2) mapped to the stage and
a latency-based alias record (set identifier = region) with the region's health check. Route 53
answers with the closest healthy region that serves the model, and fails over among those.

Health: every route requires an API key, so an HTTPS probe would only ever see 403. The health
check follows a CloudWatch alarm on the stage's 5XXError rate instead (backend down, VPC link or
NLB broken, timeouts), which is what a failover should react to; no data keeps the last status.

ACM issues the same DNS validation record for the same name in every region of an account,
so validation records are written with allow_overwrite (each region upserts the same CNAME).

Without a hosted zone nothing is created; clients use the stage's regional invoke URL.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.arg_checks import check_region
from components.model_hostnames import ModelHostname, certificate_names

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
    hostnames: tuple[ModelHostname, ...] = ()
    """The model hostnames this region answers (`model_hostnames.hostnames_by_region`)."""

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
    """The stage's regional invoke URL."""
    model_urls: dict[str, str]
    """Base URL per hostname this region answers (empty without a hosted zone)."""
    health_check_id: pulumi.Output[str] | None

    def __init__(self, name: str, args: RegionalHostnameArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("llm-serving:gateway:RegionalHostname", name, None, opts)
        self.health_check_id = None
        self.url = pulumi.Output.from_input(args.invoke_url)
        self.model_urls = {}
        if not args.hosted_zone_id or not args.domain_name or not args.hostnames:
            self.register_outputs({"url": self.url})
            return
        child = pulumi.ResourceOptions(parent=self)
        tags = {"Name": f"{name}", "component": "gateway"}
        certificate_arn = self._certificate(name, args, tags, child)
        health_check_id = self._health_check(name, args, tags, child)
        for hostname in args.hostnames:
            self._answer(name, args, hostname, certificate_arn, health_check_id, tags, child)
            self.model_urls[hostname.hostname] = hostname.base_url
        self.health_check_id = health_check_id
        self.register_outputs({"url": self.url, "model_urls": self.model_urls, "health_check_id": health_check_id})

    @staticmethod
    def _certificate(
        name: str, args: RegionalHostnameArgs, tags: dict[str, str], child: pulumi.ResourceOptions
    ) -> pulumi.Output[str]:
        """One certificate for the region's wildcards, each validated by its DNS record."""
        names = certificate_names(str(args.domain_name), args.hostnames)
        certificate = aws.acm.Certificate(
            f"{name}-certificate",
            domain_name=names[0],
            subject_alternative_names=names[1:] or None,
            validation_method="DNS",
            key_algorithm="EC_prime256v1",
            tags={**tags, "Name": f"{name}-certificate"},
            opts=child,
        )
        fqdns = []
        for index, covered in enumerate(names):
            # Options come back in no fixed order: pick each name's own.
            option = certificate.domain_validation_options.apply(
                lambda options, covered=covered: next(o for o in options if o.domain_name == covered)
            )
            record = aws.route53.Record(
                f"{name}-certificate-validation" + (f"-{index}" if index else ""),
                zone_id=str(args.hosted_zone_id),
                name=option.apply(lambda o: str(o.resource_record_name)),
                type=option.apply(lambda o: str(o.resource_record_type)),
                records=[option.apply(lambda o: str(o.resource_record_value))],
                ttl=300,
                allow_overwrite=True,
                opts=child,
            )
            fqdns.append(record.fqdn)
        validation = aws.acm.CertificateValidation(
            f"{name}-certificate", certificate_arn=certificate.arn, validation_record_fqdns=fqdns, opts=child
        )
        return validation.certificate_arn

    @staticmethod
    def _health_check(
        name: str, args: RegionalHostnameArgs, tags: dict[str, str], child: pulumi.ResourceOptions
    ) -> pulumi.Output[str]:
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
        return health_check.id

    @staticmethod
    def _answer(
        name: str,
        args: RegionalHostnameArgs,
        hostname: ModelHostname,
        certificate_arn: pulumi.Output[str],
        health_check_id: pulumi.Output[str],
        tags: dict[str, str],
        child: pulumi.ResourceOptions,
    ) -> None:
        """A custom domain for the hostname, mapped to the stage, and this region's latency record for it."""
        label = hostname.model + (f"--{hostname.tenant}" if hostname.tenant else "")
        domain = aws.apigateway.DomainName(
            f"{name}-domain-{label}",
            domain_name=hostname.hostname,
            regional_certificate_arn=certificate_arn,
            endpoint_configuration=aws.apigateway.DomainNameEndpointConfigurationArgs(types="REGIONAL"),
            security_policy="TLS_1_2",
            tags={**tags, "Name": f"{name}-domain-{label}", "model": hostname.model}
            | ({"tenant": hostname.tenant} if hostname.tenant else {}),
            opts=child,
        )
        aws.apigateway.BasePathMapping(
            f"{name}-mapping-{label}",
            domain_name=domain.domain_name,
            rest_api=args.rest_api_id,
            # Through the invoke URL (a stage output): API Gateway refuses a mapping to a stage that
            # does not exist yet, and the plain stage name carries no dependency on it.
            stage_name=pulumi.Output.from_input(args.invoke_url).apply(lambda _: args.stage_name),
            opts=child,
        )
        aws.route53.Record(
            f"{name}-latency-{label}",
            zone_id=str(args.hosted_zone_id),
            name=hostname.hostname,
            type="A",
            set_identifier=args.region,
            latency_routing_policies=[aws.route53.RecordLatencyRoutingPolicyArgs(region=args.region)],
            health_check_id=health_check_id,
            aliases=[
                aws.route53.RecordAliasArgs(
                    name=domain.regional_domain_name, zone_id=domain.regional_zone_id, evaluate_target_health=True
                )
            ],
            opts=child,
        )
