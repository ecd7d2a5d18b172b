"""aws-wafv2-web-acl-baseline-rules — the web ACL runs the AWS managed baseline and a rate limit."""

from pulumi_policy import (
    EnforcementLevel,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
)

from policies.review import Controls, Review

REQUIRED_GROUPS = (
    "AWSManagedRulesCommonRuleSet",
    "AWSManagedRulesKnownBadInputsRuleSet",
    "AWSManagedRulesAmazonIpReputationList",
)


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type != "aws:wafv2/webAcl:WebAcl":
        return
    rules = args.props.get("rules") or []
    groups = {}
    for rule in rules:
        statement = (rule.get("statement") or {}).get("managedRuleGroupStatement") or {}
        if statement.get("vendorName") == "AWS" and statement.get("name"):
            groups[statement["name"]] = rule
    for group in REQUIRED_GROUPS:
        if group not in groups:
            report_violation(f"managed rule group {group} is missing.", None)
        elif "count" in (groups[group].get("overrideAction") or {}):
            report_violation(f"managed rule group {group} only counts (overrideAction count): it blocks nothing.", None)
    rate_rules = [rule for rule in rules if (rule.get("statement") or {}).get("rateBasedStatement")]
    if not rate_rules:
        report_violation("no rate-based rule: one client can flood the models.", None)
    elif not any("block" in (rule.get("action") or {}) for rule in rate_rules):
        report_violation("no rate-based rule blocks (they only count or allow): one client can flood the models.", None)


policy = ResourceValidationPolicy(
    name="aws-wafv2-web-acl-baseline-rules",
    description=(
        "WAFv2 web ACLs must include the AWS managed Common, KnownBadInputs and AmazonIpReputationList "
        "rule groups (not overridden to count) and a rate-based rule that blocks."
    ),
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    remediation_steps="Use components/waf.py WebAcl, or add the three managed rule groups and a rate_based_statement.",
    validate=validate,
)

review = Review(
    area="network",
    controls=Controls(fsbp=("WAF.10",), nist_800_53=("SC-5", "SC-7"), soc2=("CC6.6", "CC6.8")),
    why=(
        "The managed rule groups drop known exploits and bad IPs, and the blocking rate rule caps floods that "
        "would otherwise queue on GPU replicas; rules that only count stop nothing."
    ),
)
