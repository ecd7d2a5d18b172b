"""WebAcl: the REGIONAL WAFv2 web ACL in front of a region's API Gateway stage.

Rules, in priority order: AWS managed IP reputation, known bad inputs and the common rule set
(its SizeRestrictions_BODY rule counts instead of blocking: it stops bodies at 8 KB, shorter than
many LLM prompts), a rate-based rule per client IP, and our own body-size rule matching the
gateway's limit.

Body size: WAF reads at most 64 KB of an API Gateway request body (the association raises the
default 16 KB inspection limit to KB_64). A limit up to 64 KiB is enforced on the body itself, with
oversize bodies matching; every limit is also enforced on the Content-Length header (a regex for
"number greater than the limit"). API Gateway's own 10 MB payload limit and the request schema's
string lengths bound the rest.

Logs go to a KMS-encrypted log group named aws-waf-logs-* (WAF requires that prefix), with the
`authorization` and `x-api-key` headers redacted.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.arg_checks import check_environment_name
from components.network import LOG_RETENTION_DAYS

MANAGED_RULE_GROUPS = (
    "AWSManagedRulesAmazonIpReputationList",
    "AWSManagedRulesKnownBadInputsRuleSet",
    "AWSManagedRulesCommonRuleSet",
)
# Common rule set rules that would block ordinary LLM traffic; counted, not blocked, with the reason.
COMMON_RULES_TO_COUNT = ("SizeRestrictions_BODY",)  # 8 KB body cap; our body-size rule replaces it
REDACTED_HEADERS = ("authorization", "x-api-key")
BODY_INSPECTION_LIMIT_KIB = 64
BODY_INSPECTION_LIMIT = "KB_64"
RATE_WINDOW_SECONDS = 300


def greater_than_regex(limit: int) -> str:
    """A regex matching the decimal integers strictly greater than `limit` (leading zeros allowed)."""
    if limit < 0:
        raise ValueError(f"limit: must be >= 0 (got {limit})")
    digits = str(limit)
    width = len(digits)
    alternatives = [f"[1-9][0-9]{{{width},}}"]
    for i, digit in enumerate(digits):
        if digit == "9":
            continue
        rest = width - i - 1
        higher = str(int(digit) + 1) if digit == "8" else f"[{int(digit) + 1}-9]"
        alternatives.append(digits[:i] + higher + (f"[0-9]{{{rest}}}" if rest else ""))
    return f"^0*({'|'.join(alternatives)})$"


def _visibility(metric: str) -> aws.wafv2.WebAclRuleVisibilityConfigArgs:
    return aws.wafv2.WebAclRuleVisibilityConfigArgs(
        cloudwatch_metrics_enabled=True, metric_name=metric, sampled_requests_enabled=True
    )


def body_size_statement(max_body_kib: int) -> aws.wafv2.WebAclRuleStatementArgs:
    """Matches requests whose body exceeds `max_body_kib`: by Content-Length, and by the body itself
    when the limit is within what WAF can inspect."""
    limit = max_body_kib * 1024
    content_length = aws.wafv2.WebAclRuleStatementArgs(
        regex_match_statement=aws.wafv2.WebAclRuleStatementRegexMatchStatementArgs(
            regex_string=greater_than_regex(limit),
            field_to_match=aws.wafv2.WebAclRuleStatementRegexMatchStatementFieldToMatchArgs(
                single_header=aws.wafv2.WebAclRuleStatementRegexMatchStatementFieldToMatchSingleHeaderArgs(
                    name="content-length"
                )
            ),
            text_transformations=[
                aws.wafv2.WebAclRuleStatementRegexMatchStatementTextTransformationArgs(priority=0, type="NONE")
            ],
        )
    )
    if max_body_kib > BODY_INSPECTION_LIMIT_KIB:
        return content_length
    body = aws.wafv2.WebAclRuleStatementArgs(
        size_constraint_statement=aws.wafv2.WebAclRuleStatementSizeConstraintStatementArgs(
            comparison_operator="GT",
            size=limit,
            field_to_match=aws.wafv2.WebAclRuleStatementSizeConstraintStatementFieldToMatchArgs(
                body=aws.wafv2.WebAclRuleStatementSizeConstraintStatementFieldToMatchBodyArgs(oversize_handling="MATCH")
            ),
            text_transformations=[
                aws.wafv2.WebAclRuleStatementSizeConstraintStatementTextTransformationArgs(priority=0, type="NONE")
            ],
        )
    )
    return aws.wafv2.WebAclRuleStatementArgs(
        or_statement=aws.wafv2.WebAclRuleStatementOrStatementArgs(statements=[content_length, body])
    )


def web_acl_rules(
    name: str,
    rate_limit_per_5min: int,
    max_body_kib: int,
    common_rules_to_count: tuple[str, ...] = COMMON_RULES_TO_COUNT,
) -> list[aws.wafv2.WebAclRuleArgs]:
    rules = []
    for priority, group in enumerate(MANAGED_RULE_GROUPS):
        overrides = []
        if group == "AWSManagedRulesCommonRuleSet":
            overrides = [
                aws.wafv2.WebAclRuleStatementManagedRuleGroupStatementRuleActionOverrideArgs(
                    name=rule,
                    action_to_use=aws.wafv2.WebAclRuleStatementManagedRuleGroupStatementRuleActionOverrideActionToUseArgs(
                        count=aws.wafv2.WebAclRuleStatementManagedRuleGroupStatementRuleActionOverrideActionToUseCountArgs()
                    ),
                )
                for rule in common_rules_to_count
            ]
        rules.append(
            aws.wafv2.WebAclRuleArgs(
                name=group,
                priority=priority,
                override_action=aws.wafv2.WebAclRuleOverrideActionArgs(
                    none=aws.wafv2.WebAclRuleOverrideActionNoneArgs()
                ),
                statement=aws.wafv2.WebAclRuleStatementArgs(
                    managed_rule_group_statement=aws.wafv2.WebAclRuleStatementManagedRuleGroupStatementArgs(
                        name=group, vendor_name="AWS", rule_action_overrides=overrides or None
                    )
                ),
                visibility_config=_visibility(f"{name}-{group}"),
            )
        )
    block = aws.wafv2.WebAclRuleActionArgs(block=aws.wafv2.WebAclRuleActionBlockArgs())
    rules.append(
        aws.wafv2.WebAclRuleArgs(
            name="rate-per-client-ip",
            priority=len(rules),
            action=block,
            statement=aws.wafv2.WebAclRuleStatementArgs(
                rate_based_statement=aws.wafv2.WebAclRuleStatementRateBasedStatementArgs(
                    aggregate_key_type="IP", limit=rate_limit_per_5min, evaluation_window_sec=RATE_WINDOW_SECONDS
                )
            ),
            visibility_config=_visibility(f"{name}-rate-per-client-ip"),
        )
    )
    rules.append(
        aws.wafv2.WebAclRuleArgs(
            name="body-size",
            priority=len(rules),
            action=block,
            statement=body_size_statement(max_body_kib),
            visibility_config=_visibility(f"{name}-body-size"),
        )
    )
    return rules


@dataclass(frozen=True)
class WebAclArgs:
    environment: str
    region: str
    resource_arns: tuple[pulumi.Input[str], ...]
    """API Gateway stage ARNs (arn:aws:apigateway:<region>::/restapis/<id>/stages/<stage>) to protect."""
    logs_key_arn: pulumi.Input[str]
    rate_limit_per_5min: int = 2000
    """Requests one client IP may send in 5 minutes before WAF blocks it (WAF's minimum is 10)."""
    max_body_kib: int = 256
    """The gateway's body limit; larger requests are blocked (see the module doc for how)."""
    log_retention_days: int = 365
    common_rules_to_count: tuple[str, ...] = COMMON_RULES_TO_COUNT
    """Rules of the Common rule set that only count. The escape hatch for prompts the body rules
    misread (e.g. CrossSiteScripting_BODY, GenericLFI_BODY for code assistants); keep
    SizeRestrictions_BODY, whose 8 KB cap is below an LLM prompt (the body-size rule replaces it)."""

    def __post_init__(self) -> None:
        check_environment_name(self.environment)
        if not 10 <= self.rate_limit_per_5min <= 2_000_000_000:
            raise ValueError(f"rate_limit_per_5min: must be between 10 and 2000000000 (got {self.rate_limit_per_5min})")
        if self.max_body_kib < 1:
            raise ValueError(f"max_body_kib: must be >= 1 (got {self.max_body_kib})")
        if self.log_retention_days not in LOG_RETENTION_DAYS:
            raise ValueError(f"log_retention_days: must be one of {', '.join(map(str, LOG_RETENTION_DAYS))}")


class WebAcl(pulumi.ComponentResource):
    """A REGIONAL web ACL, its associations with the given stages and its redacted CloudWatch logging."""

    arn: pulumi.Output[str]
    log_group_name: pulumi.Output[str]

    def __init__(self, name: str, args: WebAclArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("llm-serving:gateway:WebAcl", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        acl_name = f"llm-serving-{args.environment}-{args.region}"
        acl = aws.wafv2.WebAcl(
            f"{name}-acl",
            name=acl_name,
            description=f"llm-serving {args.environment} front door ({args.region})",
            scope="REGIONAL",
            default_action=aws.wafv2.WebAclDefaultActionArgs(allow=aws.wafv2.WebAclDefaultActionAllowArgs()),
            rules=web_acl_rules(acl_name, args.rate_limit_per_5min, args.max_body_kib, args.common_rules_to_count),
            association_config=aws.wafv2.WebAclAssociationConfigArgs(
                request_bodies=[
                    aws.wafv2.WebAclAssociationConfigRequestBodyArgs(
                        api_gateway=aws.wafv2.WebAclAssociationConfigRequestBodyApiGatewayArgs(
                            default_size_inspection_limit=BODY_INSPECTION_LIMIT
                        )
                    )
                ]
            ),
            visibility_config=aws.wafv2.WebAclVisibilityConfigArgs(
                cloudwatch_metrics_enabled=True, metric_name=acl_name, sampled_requests_enabled=True
            ),
            tags={"Name": f"{name}-acl", "component": "gateway"},
            opts=child,
        )
        for i, resource_arn in enumerate(args.resource_arns):
            aws.wafv2.WebAclAssociation(
                f"{name}-association-{i}", resource_arn=resource_arn, web_acl_arn=acl.arn, opts=child
            )
        # WAF delivers only to log groups whose name starts with aws-waf-logs-.
        log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs",
            name=f"aws-waf-logs-llm-serving-{args.environment}-{args.region}",
            retention_in_days=args.log_retention_days,
            kms_key_id=args.logs_key_arn,
            tags={"Name": f"{name}-logs", "component": "gateway"},
            opts=child,
        )
        aws.wafv2.WebAclLoggingConfiguration(
            f"{name}-logging",
            resource_arn=acl.arn,
            log_destination_configs=[log_group.arn],
            redacted_fields=[
                aws.wafv2.WebAclLoggingConfigurationRedactedFieldArgs(
                    single_header=aws.wafv2.WebAclLoggingConfigurationRedactedFieldSingleHeaderArgs(name=header)
                )
                for header in REDACTED_HEADERS
            ],
            opts=child,
        )
        self.arn = acl.arn
        self.log_group_name = log_group.name
        self.register_outputs({"arn": self.arn, "log_group_name": self.log_group_name})
