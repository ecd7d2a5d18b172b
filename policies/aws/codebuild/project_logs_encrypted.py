"""aws-codebuild-project-logs-encrypted — a CodeBuild project logs to a KMS-encrypted log group of this stack."""

from __future__ import annotations

from pulumi_policy import (
    EnforcementLevel,
    PolicyComplianceFramework,
    ReportViolation,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)

from policies.aws.codebuild.support import PROJECT_TYPE, mapping
from policies.review import Controls, Review
from policies.support import depends_on, resources_of_type

LOG_GROUP_TYPE = "aws:cloudwatch/logGroup:LogGroup"


def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    groups = resources_of_type(args.resources, LOG_GROUP_TYPE)
    for project in resources_of_type(args.resources, PROJECT_TYPE):

        def report(message: str, project=project) -> None:
            report_violation(f"CodeBuild project '{project.name}' {message}", project.urn)

        logs = mapping(project.props.get("logsConfig"))
        cloudwatch = mapping(logs.get("cloudwatchLogs"))
        s3 = mapping(logs.get("s3Logs"))
        if str(s3.get("status") or "DISABLED") != "DISABLED" and s3.get("encryptionDisabled") is True:
            report("writes S3 logs with encryptionDisabled: build output (commands, plan diffs) unencrypted.")
        if cloudwatch.get("status") != "ENABLED":
            report(
                "sets no logsConfig.cloudwatchLogs.status ENABLED: its builds leave no log in a group the stack "
                "encrypts and keeps."
            )
            continue
        name = cloudwatch.get("groupName")
        group = next(
            (g for g in groups if g.props.get("name") == name and depends_on(project, "logsConfig", g.urn)), None
        )
        if group is None:
            report(
                f"logs to group {name!r}, not a log group of this stack (groupName taken from it): CodeBuild would "
                "create one itself, unencrypted and kept forever."
            )
        elif not group.props.get("kmsKeyId"):
            report(f"logs to group '{group.name}', which sets no kmsKeyId.")


policy = StackValidationPolicy(
    name="aws-codebuild-project-logs-encrypted",
    description=(
        "Every CodeBuild project sends its logs to CloudWatch (logsConfig.cloudwatchLogs.status ENABLED) into a log "
        "group this stack declares (groupName computed from it) with a kmsKeyId, and writes no unencrypted S3 logs."
    ),
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.MEDIUM,
    framework=PolicyComplianceFramework(name="AWS FSBP", reference="CodeBuild.4", version="1.0.0"),
    remediation_steps=(
        "Declare the project's log group (/aws/codebuild/<project>) with the region's logs key and a retention, and "
        "set `logs_config.cloudwatch_logs` to status ENABLED with `group_name` from it; leave S3 logs DISABLED."
    ),
    validate=validate,
)

review = Review(
    area="data",
    controls=Controls(fsbp=("CodeBuild.3", "CodeBuild.4"), nist_800_53=("AU-9", "SC-28"), soc2=("CC7.2",)),
    why=(
        "Deploy logs show every change applied to the platform and who triggered it: the audit trail of the "
        "runner. Kept in a group CodeBuild makes itself they are unencrypted under the stack's key and never expire."
    ),
)
