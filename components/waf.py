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

The three WAF resources are declared as plain `pulumi.CustomResource`s from wire-format documents
(the provider's camelCase property names) instead of `aws.wafv2.*`: importing `pulumi_aws.wafv2`
builds ~3000 typed classes and cost a third of a second of every plan. They register the same type
tokens and inputs the generated classes would; tests/components/test_waf_wire_format.py checks every
key, at every depth, against the installed SDK's typed `*Args` classes, so a misspelt name fails there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws
from pulumi_aws import _utilities as aws_utilities

from components.arg_checks import check_environment_name
from components.conventions import LOG_RETENTION_DAYS
from components.waf_rules import COMMON_RULE_SET_RULES, COMMON_RULES_TO_COUNT

MANAGED_RULE_GROUPS = (
    "AWSManagedRulesAmazonIpReputationList",
    "AWSManagedRulesKnownBadInputsRuleSet",
    "AWSManagedRulesCommonRuleSet",
)
REDACTED_HEADERS = ("authorization", "x-api-key")
BODY_INSPECTION_LIMIT_KIB = 64
BODY_INSPECTION_LIMIT = "KB_64"
RATE_WINDOW_SECONDS = 300
WEB_ACL_TYPE = "aws:wafv2/webAcl:WebAcl"
WEB_ACL_ASSOCIATION_TYPE = "aws:wafv2/webAclAssociation:WebAclAssociation"
WEB_ACL_LOGGING_CONFIGURATION_TYPE = "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration"


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


def _visibility(metric: str) -> dict[str, Any]:
    return {"cloudwatchMetricsEnabled": True, "metricName": metric, "sampledRequestsEnabled": True}


def body_size_statement(max_body_kib: int) -> dict[str, Any]:
    """Matches requests whose body exceeds `max_body_kib`: by Content-Length, and by the body itself
    when the limit is within what WAF can inspect."""
    limit = max_body_kib * 1024
    content_length = {
        "regexMatchStatement": {
            "regexString": greater_than_regex(limit),
            "fieldToMatch": {"singleHeader": {"name": "content-length"}},
            "textTransformations": [{"priority": 0, "type": "NONE"}],
        }
    }
    if max_body_kib > BODY_INSPECTION_LIMIT_KIB:
        return content_length
    body = {
        "sizeConstraintStatement": {
            "comparisonOperator": "GT",
            "size": limit,
            "fieldToMatch": {"body": {"oversizeHandling": "MATCH"}},
            "textTransformations": [{"priority": 0, "type": "NONE"}],
        }
    }
    return {"orStatement": {"statements": [content_length, body]}}


def web_acl_rules(
    name: str,
    rate_limit_per_5min: int,
    max_body_kib: int,
    common_rules_to_count: tuple[str, ...] = COMMON_RULES_TO_COUNT,
) -> list[dict[str, Any]]:
    rules: list[dict[str, Any]] = []
    for priority, group in enumerate(MANAGED_RULE_GROUPS):
        statement: dict[str, Any] = {"name": group, "vendorName": "AWS"}
        if group == "AWSManagedRulesCommonRuleSet" and common_rules_to_count:
            statement["ruleActionOverrides"] = [
                {"name": rule, "actionToUse": {"count": {}}} for rule in common_rules_to_count
            ]
        rules.append(
            {
                "name": group,
                "priority": priority,
                "overrideAction": {"none": {}},
                "statement": {"managedRuleGroupStatement": statement},
                "visibilityConfig": _visibility(f"{name}-{group}"),
            }
        )
    block = {"block": {}}
    rules.append(
        {
            "name": "rate-per-client-ip",
            "priority": len(rules),
            "action": block,
            "statement": {
                "rateBasedStatement": {
                    "aggregateKeyType": "IP",
                    "limit": rate_limit_per_5min,
                    "evaluationWindowSec": RATE_WINDOW_SECONDS,
                }
            },
            "visibilityConfig": _visibility(f"{name}-rate-per-client-ip"),
        }
    )
    rules.append(
        {
            "name": "body-size",
            "priority": len(rules),
            "action": block,
            "statement": body_size_statement(max_body_kib),
            "visibilityConfig": _visibility(f"{name}-body-size"),
        }
    )
    return rules


class _WafResource(pulumi.CustomResource):
    """A wafv2 resource declared from its wire-format inputs, with the options the generated
    classes add (the pulumi-aws plugin version), so it registers exactly as they would."""

    def __init__(self, type_token: str, name: str, props: dict[str, Any], opts: pulumi.ResourceOptions):
        opts = pulumi.ResourceOptions.merge(aws_utilities.get_resource_opts_defaults(), opts)
        super().__init__(type_token, name, props, opts)


class _WebAclResource(_WafResource):
    """The web ACL; `arn` is the one output the component reads."""

    arn: pulumi.Output[str]

    def __init__(self, name: str, props: dict[str, Any], opts: pulumi.ResourceOptions):
        # An output is declared as an input set to None, as the generated class does.
        super().__init__(WEB_ACL_TYPE, name, {**props, "arn": None}, opts)


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
        unknown = [rule for rule in self.common_rules_to_count if rule not in COMMON_RULE_SET_RULES]
        if unknown:
            raise ValueError(f"common_rules_to_count: not rules of the AWS Common rule set: {', '.join(unknown)}")


class WebAcl(pulumi.ComponentResource):
    """A REGIONAL web ACL, its associations with the given stages and its redacted CloudWatch logging."""

    arn: pulumi.Output[str]
    log_group_name: pulumi.Output[str]

    def __init__(self, name: str, args: WebAclArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("llm-serving:gateway:WebAcl", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        acl_name = f"llm-serving-{args.environment}-{args.region}"
        acl = _WebAclResource(
            f"{name}-acl",
            {
                "associationConfig": {
                    "requestBodies": [{"apiGateway": {"defaultSizeInspectionLimit": BODY_INSPECTION_LIMIT}}]
                },
                "defaultAction": {"allow": {}},
                "description": f"llm-serving {args.environment} front door ({args.region})",
                "name": acl_name,
                "rules": web_acl_rules(
                    acl_name, args.rate_limit_per_5min, args.max_body_kib, args.common_rules_to_count
                ),
                "scope": "REGIONAL",
                "tags": {"Name": f"{name}-acl", "component": "gateway"},
                "visibilityConfig": _visibility(acl_name),
            },
            child,
        )
        for i, resource_arn in enumerate(args.resource_arns):
            _WafResource(
                WEB_ACL_ASSOCIATION_TYPE,
                f"{name}-association-{i}",
                {"resourceArn": resource_arn, "webAclArn": acl.arn},
                child,
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
        _WafResource(
            WEB_ACL_LOGGING_CONFIGURATION_TYPE,
            f"{name}-logging",
            {
                "logDestinationConfigs": [log_group.arn],
                "redactedFields": [{"singleHeader": {"name": header}} for header in REDACTED_HEADERS],
                "resourceArn": acl.arn,
            },
            child,
        )
        self.arn = acl.arn
        self.log_group_name = log_group.name
        self.register_outputs({"arn": self.arn, "log_group_name": self.log_group_name})
