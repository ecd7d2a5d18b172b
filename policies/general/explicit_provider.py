"""all-resources-explicit-provider — nothing is created by an implicit default provider."""

from pulumi_policy import (
    EnforcementLevel,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
)

from policies.review import Controls, Review
from policies.support import is_custom_resource


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if not is_custom_resource(args.resource_type):
        return
    provider = args.provider
    if provider is None:
        report_violation("no provider: the resource would use the ambient region, account or cluster.", None)
    elif provider.name.startswith("default"):
        report_violation(
            f"uses the default provider '{provider.name}': its region, account or cluster come from the "
            "environment, not the stack.",
            None,
        )


policy = ResourceValidationPolicy(
    name="all-resources-explicit-provider",
    description="Every resource must be managed by an explicit provider, never a default one.",
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    remediation_steps=(
        "Pass `opts=pulumi.ResourceOptions(provider=...)` (or `providers=` on the parent component); keep "
        "`pulumi:disable-default-providers` set for aws and kubernetes in every stack file."
    ),
    validate=validate,
)

review = Review(
    area="identity",
    controls=Controls(nist_800_53=("CM-2", "CM-6"), soc2=("CC8.1",)),
    why=(
        "A resource on a default provider deploys with whatever credentials, account and region the operator's "
        "shell has, so weights, tenants' logs or GPU nodes can land in an account or region nobody reviewed."
    ),
)
