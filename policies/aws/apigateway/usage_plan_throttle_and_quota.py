"""aws-apigateway-usage-plan-throttle-and-quota — every tenant usage plan throttles and caps its keys."""

from collections.abc import Mapping

from pulumi_policy import (
    EnforcementLevel,
    PolicyComplianceFramework,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
)

from policies.review import Controls, Review
from policies.support import number_text

PERIODS = ("DAY", "WEEK", "MONTH")


def _positive(value: object) -> bool:
    return not isinstance(value, bool) and isinstance(value, (int, float)) and value > 0


def _text(value: object) -> str:
    return "unset" if value is None else number_text(value)


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type != "aws:apigateway/usagePlan:UsagePlan":
        return
    throttle = args.props.get("throttleSettings")
    if not isinstance(throttle, Mapping):
        report_violation(f"usage plan '{args.name}' has no throttleSettings: its keys are not rate-limited.", None)
    else:
        for key in ("rateLimit", "burstLimit"):
            if not _positive(throttle.get(key)):
                report_violation(
                    f"usage plan '{args.name}' throttleSettings.{key} is {_text(throttle.get(key))}, "
                    "not a positive limit.",
                    None,
                )
    quota = args.props.get("quotaSettings")
    if not isinstance(quota, Mapping):
        report_violation(f"usage plan '{args.name}' has no quotaSettings: its keys have no request cap.", None)
    else:
        if not _positive(quota.get("limit")):
            report_violation(
                f"usage plan '{args.name}' quotaSettings.limit is {_text(quota.get('limit'))}, not a positive cap.",
                None,
            )
        if quota.get("period") not in PERIODS:
            report_violation(
                f"usage plan '{args.name}' quotaSettings.period is {_text(quota.get('period'))}, not one of "
                f"{', '.join(PERIODS)}.",
                None,
            )


policy = ResourceValidationPolicy(
    name="aws-apigateway-usage-plan-throttle-and-quota",
    description=(
        "Every API Gateway usage plan sets throttleSettings (rateLimit and burstLimit > 0) and quotaSettings "
        "(limit > 0 per DAY, WEEK or MONTH), so each tenant key is rate-limited and capped."
    ),
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    framework=PolicyComplianceFramework(name="NIST 800-53", reference="SC-5", version="rev5"),
    remediation_steps=(
        "Set `throttle_settings` (rate_limit, burst_limit) and `quota_settings` (limit, period) on the "
        "aws.apigateway.UsagePlan from the tenant's rate_limit_rps, burst and monthly_quota (components.tenants)."
    ),
    validate=validate,
)

review = Review(
    area="network",
    controls=Controls(nist_800_53=("SC-5", "SC-6"), soc2=("A1.1",)),
    why=(
        "Every request holds a GPU for seconds: one tenant without a throttle or quota can queue out every other "
        "tenant and scale the node groups to their maximum bill."
    ),
)
