"""kubernetes-service-account-token-not-automounted — only the platform's Kubernetes API clients get
an API token in their pods.

ServiceAccounts always set `automountServiceAccountToken: false`; a pod that calls the API opts in
on its own spec (`automountServiceAccountToken: true`), which Kubernetes lets override the account.
Which workloads call the API is not the plan's to say: the policy config's `apiClients`
(`namespace/name` of the workload) comes from the stack and the program's own controllers
(llmstack/policy_config.py). Every other pod sets `automountServiceAccountToken: false`.
"""

from pulumi_policy import (
    EnforcementLevel,
    PolicyComplianceFramework,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
)

from policies.kubernetes.workloads import object_id, pod_spec, strings
from policies.review import Controls, Review

SERVICE_ACCOUNT = "kubernetes:core/v1:ServiceAccount"


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type == SERVICE_ACCOUNT:
        if args.props.get("automountServiceAccountToken") is not False:
            report_violation(
                "automountServiceAccountToken is not false: every pod using this account gets an API token; "
                "opt in on the pods that call the API instead.",
                None,
            )
        return
    pod = pod_spec(args.resource_type, args.props)
    if pod is None or pod.get("automountServiceAccountToken") is False:
        return
    workload = object_id(args.props, args.name)
    if workload not in strings((args.get_config() or {}).get("apiClients")):
        report_violation(
            f"the pod may mount an API token but '{workload}' is not a Kubernetes API client of this stack: "
            "set automountServiceAccountToken: false.",
            None,
        )


policy = ResourceValidationPolicy(
    name="kubernetes-service-account-token-not-automounted",
    description=(
        "ServiceAccounts set automountServiceAccountToken: false, and so does every pod that is not one of the "
        "stack's Kubernetes API clients (policy config `apiClients`)."
    ),
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.MEDIUM,
    framework=PolicyComplianceFramework(name="CIS EKS", reference="4.1.6", version="1.7.0"),
    config_schema=PolicyConfigSchema(
        properties={
            "apiClients": {
                "type": "array",
                "items": {"type": "string", "pattern": "^[a-z0-9-]+/[a-z0-9.-]+$"},
                "default": [],
                "description": "namespace/name of workloads whose pods call the Kubernetes API",
            }
        },
    ),
    remediation_steps=(
        "Set automountServiceAccountToken: false on the ServiceAccount and on the pod spec. A controller that "
        "calls the Kubernetes API sets it true on its pod spec and is added to API_CLIENTS in "
        "components/platform_workloads.py after review."
    ),
    validate=validate,
)

review = Review(
    area="identity",
    controls=Controls(cis_eks=("4.1.6",), nist_800_53=("AC-6", "IA-5"), soc2=("CC6.1",)),
    why=(
        "A model server runs third-party inference code on tenants' prompts; a token in its filesystem is an API "
        "credential for anyone who gets code execution there, even when its role grants little today."
    ),
)
