"""ServingNamespace: the namespace model servers of an environment run in, on one cluster."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components.conventions import serving_namespace
from components.kube import KubernetesObject
from components.pod_admission_guard import pod_admission_guard

POD_SECURITY_LEVELS = ("privileged", "baseline", "restricted")
# The Pod Security Standards version the labels pin; a cluster upgrade does not silently tighten them.
POD_SECURITY_VERSION = "v1.35"


@dataclass(frozen=True)
class ServingNamespaceArgs:
    environment: str
    """Names the namespace (`conventions.serving_namespace`)."""
    weight_paths: tuple[str, ...]
    """The node directories model servers cache weights in (the NVMe tier; a hybrid-nodes target's
    directory): the only hostPaths the admission guard admits."""
    enforce: str = "privileged"
    """Pod Security Admission level enforced. Model servers mount the node's NVMe weight cache
    (a hostPath), which the baseline and restricted levels forbid outright; the policy pack enforces
    every other restricted control instead (kubernetes-container-restricted-security-context), and
    holds what `privileged` would let through (kubernetes-pod-disallow-host-namespaces,
    kubernetes-container-disallow-host-port, kubernetes-pod-host-path-restricted), and so does the
    cluster: the namespace's admission guard (`components.pod_admission`) refuses those pods."""
    audit_and_warn: str = "restricted"
    """Level audited and warned about: any deviation from restricted is visible."""

    def __post_init__(self) -> None:
        for field in ("enforce", "audit_and_warn"):
            value = getattr(self, field)
            if value not in POD_SECURITY_LEVELS:
                raise ValueError(f"{field}: must be one of {', '.join(POD_SECURITY_LEVELS)} (got {value!r})")


class ServingNamespace(pulumi.ComponentResource):
    """A namespace with Pod Security Admission labels; the Kubernetes provider comes from `opts`."""

    name: pulumi.Output[str]

    def __init__(self, name: str, args: ServingNamespaceArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("llm-serving:serving:ServingNamespace", name, None, opts)
        namespace_name = serving_namespace(args.environment)
        child = pulumi.ResourceOptions(parent=self)
        guard = pod_admission_guard(name, namespace_name, child, weight_tiers=args.weight_paths)
        psa = "pod-security.kubernetes.io"
        # After its guard: no pod is admitted into the namespace before the guard can refuse it.
        namespace = KubernetesObject(
            f"{name}-namespace",
            {
                "apiVersion": "v1",
                "kind": "Namespace",
                "metadata": {
                    "name": namespace_name,
                    "labels": {
                        f"{psa}/enforce": args.enforce,
                        f"{psa}/enforce-version": POD_SECURITY_VERSION,
                        f"{psa}/audit": args.audit_and_warn,
                        f"{psa}/audit-version": POD_SECURITY_VERSION,
                        f"{psa}/warn": args.audit_and_warn,
                        f"{psa}/warn-version": POD_SECURITY_VERSION,
                        "llm-serving/environment": args.environment,
                        "app.kubernetes.io/part-of": "llm-serving",
                    },
                },
            },
            opts=pulumi.ResourceOptions(parent=self, depends_on=guard),
        )
        self.name = namespace.object_name
        self.register_outputs({"name": self.name})
