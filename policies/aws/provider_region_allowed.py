"""aws-provider-region-allowed — the stack deploys only into the environment's regions."""

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
)

from policies.review import Controls, Review


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    allowed = list(args.get_config().get("allowedRegions") or [])
    if args.resource_type == "pulumi:providers:aws":
        region = args.props.get("region")
        what = f"AWS provider '{args.name}'"
    elif args.resource_type.startswith("aws:") and args.props.get("region"):
        # pulumi-aws v7 lets one resource override its provider's region.
        region = args.props.get("region")
        what = f"resource '{args.name}' overrides the region"
    else:
        return
    if not region:
        report_violation(f"{what} sets no region; it would fall back to the environment's.", None)
    elif region not in allowed:
        report_violation(f"{what} targets {region}; allowed: {', '.join(allowed) or 'none configured'}.", None)


policy = ResourceValidationPolicy(
    name="aws-provider-region-allowed",
    description="AWS providers and region overrides must target an allowed region of the environment.",
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    config_schema=PolicyConfigSchema(
        properties={"allowedRegions": {"type": "array", "items": {"type": "string"}, "minItems": 1}},
        required=["allowedRegions"],
    ),
    remediation_steps=(
        "Use a region listed in `llm-serving:policy.allowed_regions` of the stack file, "
        "or extend that list after review."
    ),
    validate=validate,
)

review = Review(
    area="data",
    controls=Controls(nist_800_53=("CM-6", "CM-12"), soc2=("CC6.7", "C1.1")),
    why=(
        "Tenants' prompts, completions and request logs are processed and stored where the model servers run; a "
        "provider in another region moves them outside the regions the stack commits to."
    ),
)
