"""aws-codebuild-project-disallow-privileged-mode — no CodeBuild project runs its builds privileged."""

from __future__ import annotations

from pulumi_policy import (
    EnforcementLevel,
    PolicyComplianceFramework,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
)

from policies.aws.codebuild.support import PROJECT_TYPE, mapping
from policies.review import Controls, Review


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type != PROJECT_TYPE:
        return
    privileged = mapping(args.props.get("environment")).get("privilegedMode")
    if privileged is True or str(privileged).lower() == "true":
        report_violation(
            f"CodeBuild project '{args.name}' runs builds in privileged mode (environment.privilegedMode is true): "
            "a workflow job gets root on the build host and its Docker daemon.",
            None,
        )


policy = ResourceValidationPolicy(
    name="aws-codebuild-project-disallow-privileged-mode",
    description="CodeBuild projects do not set environment.privilegedMode to true.",
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    framework=PolicyComplianceFramework(name="AWS FSBP", reference="CodeBuild.5", version="1.0.0"),
    remediation_steps=(
        "Set `privileged_mode=False` in the project's environment; `pulumi up` builds no container image. A job "
        "that must build one belongs on a separate project without deploy access."
    ),
    validate=validate,
)

review = Review(
    area="compute",
    controls=Controls(fsbp=("CodeBuild.5",), nist_800_53=("AC-6",), soc2=("CC6.1",)),
    why=(
        "The runner's jobs hold the deploy role's session, cluster admin everywhere; privileged mode lets any step "
        "of a job (a compromised action or package) take the host and every credential that passes through it."
    ),
)
