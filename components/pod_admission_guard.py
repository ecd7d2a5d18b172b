"""The admission guard of a namespace that Pod Security cannot hold at `baseline`: a
ValidatingAdmissionPolicy with `components.pod_admission`'s rules, bound with Deny to it alone."""

from __future__ import annotations

import pulumi

from components.kube import KubernetesObject
from components.pod_admission import POD_MATCH_CONSTRAINTS, pod_admission_policy_name, pod_admission_validations


def pod_admission_guard(
    name: str,
    namespace: str,
    opts: pulumi.ResourceOptions,
    *,
    weight_tiers: tuple[str, ...] = (),
    exact_host_paths: tuple[str, ...] = (),
) -> list[KubernetesObject]:
    """The policy and its binding; the namespace depends on both, so no pod lands before them."""
    guard_name = pod_admission_policy_name(namespace)
    labels = {"app.kubernetes.io/part-of": "llm-serving", "app.kubernetes.io/component": "admission-guard"}
    policy = KubernetesObject(
        f"{name}-pod-guard",
        {
            "apiVersion": "admissionregistration.k8s.io/v1",
            "kind": "ValidatingAdmissionPolicy",
            "metadata": {"name": guard_name, "labels": labels},
            "spec": {
                # A pod the API server cannot judge is refused, not let through.
                "failurePolicy": "Fail",
                "matchConstraints": POD_MATCH_CONSTRAINTS,
                "validations": pod_admission_validations(weight_tiers, exact_host_paths),
            },
        },
        opts=opts,
    )
    binding = KubernetesObject(
        f"{name}-pod-guard-binding",
        {
            "apiVersion": "admissionregistration.k8s.io/v1",
            "kind": "ValidatingAdmissionPolicyBinding",
            "metadata": {"name": guard_name, "labels": labels},
            "spec": {
                "policyName": policy.object_name,
                "validationActions": ["Deny"],
                # The API server sets this label to the namespace's own name; no label edit can forge it.
                "matchResources": {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": namespace}}},
            },
        },
        opts=opts,
    )
    return [policy, binding]
