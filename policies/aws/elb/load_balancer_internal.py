"""aws-elb-load-balancer-internal — load balancers are internal; the public edge is API Gateway."""

from pulumi_policy import (
    EnforcementLevel,
    PolicyComplianceFramework,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
)

from policies.review import Controls, Review

LOAD_BALANCER_TYPES = ("aws:lb/loadBalancer:LoadBalancer", "aws:alb/loadBalancer:LoadBalancer")


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type not in LOAD_BALANCER_TYPES:
        return
    if args.props.get("internal") is not True:
        kind = args.props.get("loadBalancerType") or "application"
        report_violation(
            f"{kind} load balancer is internet-facing (internal is not true): model servers must be reachable "
            "only through API Gateway's VPC link.",
            None,
        )


policy = ResourceValidationPolicy(
    name="aws-elb-load-balancer-internal",
    description=(
        "Every Elastic Load Balancing v2 load balancer (network or application) is internal. The only public "
        "entry point is API Gateway (API keys, usage plans, WAF); an internet-facing load balancer in front of "
        "the model servers would bypass all of it."
    ),
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.CRITICAL,
    framework=PolicyComplianceFramework(name="NIST SP 800-53", reference="SC-7", version="5"),
    remediation_steps=(
        "Set `internal=True` on the aws.lb.LoadBalancer and place it in the private subnets; reach it from "
        "API Gateway through an aws.apigateway.VpcLink (components/private_path.py)."
    ),
    validate=validate,
)

review = Review(
    area="network",
    controls=Controls(nist_800_53=("AC-4", "SC-7"), soc2=("CC6.6",)),
    why=(
        "An internet-facing load balancer in front of the model servers serves every tenant's model without API "
        "keys, quotas or WAF, and anyone who finds it spends our GPU time."
    ),
)
