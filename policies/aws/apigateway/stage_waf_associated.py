"""aws-apigateway-stage-waf-associated — every stage sits behind a WAFv2 web ACL."""

from pulumi_policy import (
    EnforcementLevel,
    PolicyComplianceFramework,
    ReportViolation,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)

from policies.review import Controls, Review
from policies.support import depends_on, resources_of_type


def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    associations = resources_of_type(args.resources, "aws:wafv2/webAclAssociation:WebAclAssociation")
    for stage in resources_of_type(args.resources, "aws:apigateway/stage:Stage"):
        if not any(depends_on(association, "resourceArn", stage.urn) for association in associations):
            report_violation(f"Stage '{stage.name}' has no WAF web ACL association.", stage.urn)


policy = StackValidationPolicy(
    name="aws-apigateway-stage-waf-associated",
    description="Every API Gateway REST stage must be associated with a WAFv2 web ACL.",
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    framework=PolicyComplianceFramework(name="AWS FSBP", reference="APIGateway.4", version="1.0.0"),
    remediation_steps="Add an aws.wafv2.WebAclAssociation with resource_arn=<stage>.arn (components/waf.py WebAcl).",
    validate=validate,
)

review = Review(
    area="network",
    controls=Controls(fsbp=("APIGateway.4",), nist_800_53=("SC-5", "SC-7"), soc2=("CC6.6",)),
    why=(
        "The web ACL is the only filter and rate limit before requests reach GPU-backed models; without it floods "
        "and known-bad inputs queue on the replicas and burn tenants' quota."
    ),
)
