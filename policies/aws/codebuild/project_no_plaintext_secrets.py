"""aws-codebuild-project-no-plaintext-secrets — secrets reach a CodeBuild project by reference, never as PLAINTEXT."""

from __future__ import annotations

import re

from pulumi_policy import (
    EnforcementLevel,
    PolicyComplianceFramework,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
)

from policies.aws.codebuild.support import PROJECT_TYPE, mapping, sequence
from policies.review import Controls, Review

# Names that say a variable holds a credential (AWS Security Hub's CodeBuild.2 looks for the AWS key
# pair; tokens and passwords are the same problem).
SECRET_NAME = re.compile(
    r"(SECRET|TOKEN|PASSWORD|PASSWD|PASSPHRASE|PRIVATE_?KEY|ACCESS_?KEY|API_?KEY|CREDENTIAL|KUBECONFIG)", re.I
)
# Values that are credentials whatever the name: AWS access key ids, GitHub tokens, PEM private keys.
SECRET_VALUE = re.compile(
    r"^(AKIA|ASIA)[A-Z0-9]{16}$|^(ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{20,}$|^github_pat_|PRIVATE KEY-----"
)
PLAINTEXT = "PLAINTEXT"


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type != PROJECT_TYPE:
        return
    variables = sequence(mapping(args.props.get("environment")).get("environmentVariables"))
    for index, variable in enumerate(variables):
        variable = mapping(variable)
        kind = str(variable.get("type") or PLAINTEXT)  # CodeBuild's default
        if kind != PLAINTEXT:
            continue
        name, value = str(variable.get("name") or ""), str(variable.get("value") or "")
        if SECRET_NAME.search(name) or SECRET_VALUE.search(value):
            report_violation(
                f"CodeBuild project '{args.name}' environment variable '{name}' (environmentVariables[{index}]) "
                "holds a credential as PLAINTEXT: anyone who can read the project sees it.",
                None,
            )


policy = ResourceValidationPolicy(
    name="aws-codebuild-project-no-plaintext-secrets",
    description=(
        "No environment variable of a CodeBuild project is PLAINTEXT (the default type) with a credential's name "
        "(secret, token, password, private or access key, credential, kubeconfig) or a credential's value (an AWS "
        "access key id, a GitHub token, a PEM private key)."
    ),
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.CRITICAL,
    framework=PolicyComplianceFramework(name="AWS FSBP", reference="CodeBuild.2", version="1.0.0"),
    remediation_steps=(
        "Give the variable type SECRETS_MANAGER or PARAMETER_STORE and its value the secret's name; better, give "
        "the runner no secret at all: the workflow job assumes the deploy role with GitHub OIDC."
    ),
    validate=validate,
)

review = Review(
    area="identity",
    controls=Controls(fsbp=("CodeBuild.2",), nist_800_53=("IA-5",), soc2=("CC6.1",)),
    why=(
        "A PLAINTEXT variable is returned by BatchGetProjects to anyone with read access to CodeBuild and lands in "
        "the project's history; a long-lived key there outlives every rotation the OIDC deploy role makes needless."
    ),
)
