"""aws-iam-policy-disallow-wildcard-action-resource — identity policies name actions and resources."""

from __future__ import annotations

from pulumi_policy import (
    EnforcementLevel,
    PolicyComplianceFramework,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
)

from policies.aws.iam.action_scope import scoping_resource_type, takes_resource
from policies.aws.iam.documents import (
    Unreadable,
    allow_statements,
    conditions,
    covers_every_resource,
    identity_documents,
    is_negated,
    is_wildcard,
    strings,
    trust_document,
)
from policies.review import Controls, Review

# Condition keys that name the network a resource is in (EC2's network interfaces): equal to exact
# subnet or VPC ARNs, they limit `network-interface/*` to the interfaces there.
_PLACEMENT_KEYS = ("ec2:subnet", "ec2:vpc")


def _exact_arn(value: str) -> bool:
    return value.startswith("arn:") and "*" not in value and "?" not in value and "$" not in value


def _scoped_by_resource_tag(statement: dict) -> bool:
    """A positive condition on the resource's tags (aws:ResourceTag/..., autoscaling:ResourceTag/...)
    limits `Resource: "*"` to the resources carrying the tag; `...IfExists` does not (untagged match)."""
    return any(
        ":resourcetag/" in key.lower() and not is_negated(operator) and not operator.endswith("IfExists")
        for operator, key, _values in conditions(statement)
    )


def _scoped_by_placement(statement: dict) -> bool:
    """ec2:Subnet / ec2:Vpc equal (StringEquals, ArnEquals; not negated, not IfExists) to exact ARNs
    limits an EC2 action on `network-interface/*` to the interfaces in those subnets or VPCs."""
    return any(
        key.lower() in _PLACEMENT_KEYS
        and operator.split(":")[-1] in ("StringEquals", "ArnEquals")
        and bool(values)
        and all(_exact_arn(value) for value in values)
        for operator, key, values in conditions(statement)
    )


def _scoped_by_required_resource(action: str, resources: list[str]) -> bool:
    """An action creating a resource only `<type>/*` can name, granted on exact ARNs of the other
    resource type it requires (ec2:CreateNetworkInterface in named subnets)."""
    kind = scoping_resource_type(action)
    if kind is None:
        return False
    return any(
        not covers_every_resource(resource)
        and _exact_arn(resource)
        and resource.split(":", 5)[-1].startswith(f"{kind}/")
        for resource in resources
    )


def _wildcard_actions(where: str, sid: str, actions: list[str]) -> list[str]:
    found = []
    for action in actions:
        service, _, name = action.partition(":")
        if is_wildcard(action) or "*" in service:
            found.append(f"{where}: statement {sid} allows every action of every service ('{action}').")
        elif is_wildcard(name):
            found.append(f"{where}: statement {sid} allows every {service} action ('{action}'); list the ones needed.")
    return found


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    documents = [*identity_documents(args.resource_type, args.props), *trust_document(args.resource_type, args.props)]
    for where, document in documents:
        if isinstance(document, Unreadable):
            report_violation(f"{where} is not a JSON policy document.", None)
            continue
        for sid, statement in allow_statements(document):
            actions = strings(statement, "Action")
            wildcards = _wildcard_actions(where, sid, actions)
            for message in wildcards:
                report_violation(message, None)
            # A trust policy has no Resource; its principal is what scopes it (another policy).
            if where == "assumeRolePolicy" or _scoped_by_resource_tag(statement):
                continue
            resources = strings(statement, "Resource")
            placed = _scoped_by_placement(statement)
            every = [resource for resource in resources if covers_every_resource(resource)]
            scoped = [
                a
                for a in actions
                if not _wildcard_actions(where, sid, [a])
                and takes_resource(a)
                and not _scoped_by_required_resource(a, resources)
                and not (placed and a.lower().startswith("ec2:"))
            ]
            if every and scoped:
                report_violation(
                    f"{where}: statement {sid} allows {', '.join(scoped)} on every resource ('{every[0]}'); "
                    "name the ARNs they act on.",
                    None,
                )


policy = ResourceValidationPolicy(
    name="aws-iam-policy-disallow-wildcard-action-resource",
    description=(
        "IAM identity policies (role, user and group policies, managed policies, a role's inline policies) "
        "must not allow '*' or a whole service ('s3:*'), nor grant on Resource '*' an action that takes a "
        "resource ARN; trust policies must not allow every action."
    ),
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.CRITICAL,
    framework=PolicyComplianceFramework(name="AWS FSBP", reference="IAM.1", version="1.0.0"),
    remediation_steps=(
        "List the actions the role calls and the ARNs it calls them on. Resource '*' is accepted only "
        "for actions that act on no resource (ec2:Describe*, xray:PutTraceSegments: see "
        "policies/aws/iam/action_scope.json), under a positive aws:ResourceTag/<key> condition, or (EC2 network "
        "interfaces) with ec2:Subnet / ec2:Vpc equal to exact ARNs; ec2:CreateNetworkInterface on "
        "network-interface/* is scoped by the exact subnet ARNs it is granted with."
    ),
    validate=validate,
)

review = Review(
    area="identity",
    controls=Controls(fsbp=("IAM.1", "IAM.21"), nist_800_53=("AC-6",), soc2=("CC6.3",)),
    why=(
        "Every pod identity, node and authorizer role of the platform is one compromised process away "
        "from an attacker; with '*' grants one leaked credential reads every tenant's prompts and model "
        "weights, or starts GPU instances on the account's bill."
    ),
)
