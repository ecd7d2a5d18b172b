"""aws-wafv2-web-acl-logging-redacted — WAF logs exist and never contain credentials."""

from pulumi_policy import (
    EnforcementLevel,
    ReportViolation,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)

from policies.review import Controls, Review
from policies.support import depends_on, resources_of_type

REDACTED_HEADERS = ("authorization", "x-api-key")


def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    loggings = resources_of_type(args.resources, "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration")
    for acl in resources_of_type(args.resources, "aws:wafv2/webAcl:WebAcl"):
        configs = [config for config in loggings if depends_on(config, "resourceArn", acl.urn)]
        if not configs:
            report_violation(f"Web ACL '{acl.name}' has no logging configuration.", acl.urn)
            continue
        for config in configs:
            redacted = {
                str((field.get("singleHeader") or {}).get("name", "")).lower()
                for field in config.props.get("redactedFields") or []
            }
            missing = [header for header in REDACTED_HEADERS if header not in redacted]
            if missing:
                report_violation(
                    f"Web ACL '{acl.name}' logs do not redact the {', '.join(missing)} header(s).", config.urn
                )


policy = StackValidationPolicy(
    name="aws-wafv2-web-acl-logging-redacted",
    description=(
        "Every WAFv2 web ACL must log, and its logging configuration must redact the authorization and "
        "x-api-key headers."
    ),
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    remediation_steps=(
        "Add an aws.wafv2.WebAclLoggingConfiguration with redacted_fields single_header 'authorization' and "
        "'x-api-key' (components/waf.py WebAcl)."
    ),
    validate=validate,
)

review = Review(
    area="network",
    controls=Controls(fsbp=("WAF.11",), nist_800_53=("AU-2", "AU-3", "AU-12"), soc2=("CC7.2", "C1.1")),
    why=(
        "WAF logs are the record of what was blocked at the gateway; unredacted, they also copy every tenant's API "
        "key and bearer token into a log store with wider access than the keys."
    ),
)
