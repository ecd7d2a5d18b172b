"""aws-lambda-permission-source-scoped — a Lambda permission names the one source that may invoke."""

from __future__ import annotations

from pulumi_policy import (
    EnforcementLevel,
    PolicyComplianceFramework,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
)

from policies.aws.iam.documents import account_of, is_wildcard
from policies.review import Controls, Review
from policies.support import ACCOUNT_ID_PROPERTY

PERMISSION_TYPE = "aws:lambda/permission:Permission"


def _source_arn_problems(arn: str, source_account: object, account: str | None) -> list[str]:
    parts = arn.split(":", 5)
    if len(parts) < 6 or parts[0] != "arn":
        return [f"sourceArn is not an ARN ('{arn}')."]
    service, arn_account, resource = parts[2], parts[4], parts[5]
    problems = []
    # S3 bucket ARNs carry no account: sourceAccount pins it instead.
    owner = arn_account or (str(source_account) if source_account else "")
    if not owner or "*" in owner:
        problems.append(f"sourceArn '{arn}' covers any account; name the account (or set sourceAccount).")
    elif account and owner != account:
        problems.append(f"sourceArn '{arn}' is in account {owner}, not this stack's account {account}.")
    first = resource.replace(":", "/").split("/", 1)[0]
    if "*" in first or not first:
        problems.append(f"sourceArn '{arn}' covers every {service} resource; name the one that invokes.")
    return problems


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type != PERMISSION_TYPE:
        return
    account = args.get_config().get("accountId")
    props = args.props
    principal = str(props.get("principal") or "")
    if props.get("functionUrlAuthType") == "NONE":
        report_violation("functionUrlAuthType NONE lets anyone invoke the function through its URL.", None)
    if is_wildcard(principal):
        report_violation(f"principal '{principal}' lets any account invoke the function.", None)
        return
    owner = account_of(principal)
    if owner is not None:
        if account and owner != account:
            report_violation(f"principal {principal} is account {owner}, not this stack's account {account}.", None)
        return
    source_arn = props.get("sourceArn")
    if not source_arn:
        report_violation(f"principal {principal} may invoke the function from any source: set sourceArn.", None)
        return
    for problem in _source_arn_problems(str(source_arn), props.get("sourceAccount"), account):
        report_violation(problem, None)


policy = ResourceValidationPolicy(
    name="aws-lambda-permission-source-scoped",
    description=(
        "Lambda permissions for a service principal must set sourceArn to one resource of the stack's "
        "account; no permission may name principal '*', another account or function URL auth NONE."
    ),
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    framework=PolicyComplianceFramework(name="AWS FSBP", reference="Lambda.1", version="1.0.0"),
    config_schema=PolicyConfigSchema(properties={"accountId": ACCOUNT_ID_PROPERTY}),
    remediation_steps=(
        "Set sourceArn to the ARN of the one API authorizer, rule or bucket that calls the function "
        "(arn:aws:execute-api:<region>:<account>:<api-id>/authorizers/<id>), in `llm-serving:aws_account_id`."
    ),
    validate=validate,
)

review = Review(
    area="identity",
    controls=Controls(fsbp=("Lambda.1",), nist_800_53=("AC-3", "AC-6"), soc2=("CC6.1",)),
    why=(
        "The tenant authorizer decides which tenant reaches which model; a permission without sourceArn "
        "lets any API Gateway API, in any account, call it to test stolen keys or read its answers."
    ),
)
