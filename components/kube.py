"""Kubernetes objects declared from their manifests, as the API server reads them.

`KubernetesObject(name, manifest, opts)` registers `kubernetes:<group>/<version>:<Kind>` with the
manifest (apiVersion, kind, metadata, spec / data / rules ...) as its inputs: the type token,
inputs and plugin version pulumi_kubernetes' generated classes send for the same object (tests/components/test_kube.py
compares them), so `pulumi up` creates the same thing. The manifests are plain dicts already,
checked against the Kubernetes OpenAPI schemas by the tests (kubernetes-validate, strict); the
generated classes would add only their import, 0.3 s of every plan for the modules of the seven API
groups used here (about 2,000 typed classes).

Not carried over: the type aliases some generated classes declare for API versions Kubernetes
removed long ago (a Deployment once created as extensions/v1beta1); no stack of this project
ever had such objects.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi
from pulumi_kubernetes import _utilities as kubernetes_utilities

# Kinds whose generated class marks these inputs and outputs secret; kept secret here too.
_SECRET_OUTPUTS = {"kubernetes:core/v1:Secret": ["data", "stringData"]}


def type_token(api_version: str, kind: str) -> str:
    """`kubernetes:apps/v1:Deployment`; the core group (`apiVersion: v1`) is `core/v1`."""
    group_version = api_version if "/" in api_version else f"core/{api_version}"
    return f"kubernetes:{group_version}:{kind}"


class KubernetesObject(pulumi.CustomResource):
    """One Kubernetes object; `manifest` needs apiVersion, kind and metadata (values may be Outputs)."""

    metadata: pulumi.Output[dict[str, Any]]

    def __init__(
        self, resource_name: str, manifest: Mapping[str, Any], opts: pulumi.ResourceOptions | None = None
    ) -> None:
        missing = [key for key in ("apiVersion", "kind", "metadata") if key not in manifest]
        if missing:
            raise ValueError(f"{resource_name}: manifest needs {', '.join(missing)}")
        token = type_token(manifest["apiVersion"], manifest["kind"])
        # The options the generated classes add: the pulumi-kubernetes plugin version.
        opts = pulumi.ResourceOptions.merge(kubernetes_utilities.get_resource_opts_defaults(), opts)
        props = dict(manifest)
        if token in _SECRET_OUTPUTS:
            opts = pulumi.ResourceOptions.merge(
                opts, pulumi.ResourceOptions(additional_secret_outputs=_SECRET_OUTPUTS[token])
            )
            # The generated class sends these inputs as secrets too, so state never holds them in clear.
            for key in _SECRET_OUTPUTS[token]:
                if props.get(key) is not None:
                    props[key] = pulumi.Output.secret(props[key])
        super().__init__(token, resource_name, props, opts)

    @property
    def object_name(self) -> pulumi.Output[str]:
        """metadata.name as the cluster has it (an Output, so users depend on this object)."""
        return self.metadata.apply(lambda metadata: metadata["name"])


def object_resource_name(prefix: str, manifest: Mapping[str, Any]) -> str:
    """`<prefix>-<kind>-<name>`, unique per object of a controller (a name may repeat across kinds)."""
    return f"{prefix}-{manifest['kind'].lower()}-{manifest['metadata']['name']}"


def declare_objects(
    prefix: str, manifests: list[dict[str, Any]], opts: pulumi.ResourceOptions
) -> dict[str, KubernetesObject]:
    """One KubernetesObject per manifest, keyed `Kind/name`, all with the same options."""
    return {
        f"{m['kind']}/{m['metadata']['name']}": KubernetesObject(object_resource_name(prefix, m), m, opts)
        for m in manifests
    }


class ConfigGroup(pulumi.ComponentResource):
    """Objects the Kubernetes provider creates from YAML text at deploy time (`kubernetes:yaml/v2:ConfigGroup`).

    For large objects no policy reads (CRDs): their text travels as one string instead of a deep
    object per resource, which costs the offline plan about 25 ms per CRD. The registration is
    what `pulumi_kubernetes.yaml.v2.ConfigGroup(name, yaml=text)` sends (tests/components/test_kube.py);
    `llmstack.manifests` writes each object of the text to manifests/ like any other.
    """

    def __init__(self, resource_name: str, yaml_text: str, opts: pulumi.ResourceOptions | None = None) -> None:
        opts = pulumi.ResourceOptions.merge(kubernetes_utilities.get_resource_opts_defaults(), opts)
        props = {
            "files": None,
            "objs": None,
            "resourcePrefix": None,
            "skipAwait": None,
            "yaml": yaml_text,
            "resources": None,
        }
        super().__init__("kubernetes:yaml/v2:ConfigGroup", resource_name, props, opts, remote=True)
