"""kubernetes-manifest-bundle-crds-only — a bundle of manifests carries CustomResourceDefinitions only.

A `kubernetes:yaml/v2:ConfigGroup` (or ConfigFile, Helm v4 Chart, Helm v3 Release, Kustomize v2
Directory) is one resource of the plan whose objects the provider creates at `pulumi up`: none of
them reaches the pack as a resource. The program bundles only the controllers' CRDs that way
(components/upstream.py); a workload, role or Service in a bundle would run unreviewed, so every
such object must be declared as its own resource, where the pack reads it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

import yaml
from pulumi_policy import (
    EnforcementLevel,
    PolicyComplianceFramework,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
)

from policies.review import Controls, Review
from policies.support import as_list

CONFIG_GROUP = "kubernetes:yaml/v2:ConfigGroup"
_SEPARATOR = re.compile(r"(?m)^---[ \t]*$")
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
CRD_KIND = "CustomResourceDefinition"
# Provider-side components whose rendered objects the plan never lists (their sources are files,
# charts or kustomizations the pack cannot read).
OPAQUE_TYPES = {
    "kubernetes:yaml/v2:ConfigFile": "reads its objects from a file",
    "kubernetes:helm.sh/v4:Chart": "renders its objects from a Helm chart",
    "kubernetes:helm.sh/v3:Release": "installs its objects from a Helm chart",
    "kubernetes:kustomize/v2:Directory": "builds its objects from a kustomization",
}


def _documents(value: Any) -> list[Any] | None:
    """The YAML documents of `yaml` (a stream or a list of streams); None when one cannot be parsed."""
    found: list[Any] = []
    for stream in as_list(value):
        if not isinstance(stream, str):
            return None
        documents = _load(stream)
        if documents is None:
            return None
        found += documents
    return found


def _load(stream: str) -> list[Any] | None:
    # The program writes each document as compact JSON (which is YAML): read those fast.
    try:
        return [json.loads(part) for part in _SEPARATOR.split(stream) if part.strip()]
    except ValueError:
        pass
    try:
        return [doc for doc in yaml.load_all(stream, Loader=_LOADER) if doc is not None]
    except (yaml.YAMLError, RecursionError):  # RecursionError: a stream nested past the parser's depth
        return None


def _describe(document: Any) -> str:
    if not isinstance(document, Mapping):
        return "a document that is not an object"
    metadata = document.get("metadata")
    metadata = metadata if isinstance(metadata, Mapping) else {}
    name = "/".join(str(part) for part in (metadata.get("namespace"), metadata.get("name")) if part)
    return f"a {document.get('kind') or 'kind-less object'} '{name or '?'}'"


def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
    if args.resource_type in OPAQUE_TYPES:
        report_violation(
            f"{args.resource_type} {OPAQUE_TYPES[args.resource_type]} the pack never sees; declare each object "
            "as its own resource.",
            None,
        )
        return
    if args.resource_type != CONFIG_GROUP:
        return
    props = args.props
    if props.get("files"):
        report_violation("files: the objects come from files the pack never sees; inline CRDs in yaml.", None)
    documents = _documents(props.get("yaml"))
    if documents is None:
        report_violation("yaml: not a readable YAML stream, so its objects cannot be reviewed.", None)
        documents = []
    documents += as_list(props.get("objs"))
    for index, document in enumerate(documents):
        if not isinstance(document, Mapping) or document.get("kind") != CRD_KIND:
            report_violation(
                f"object {index} is {_describe(document)}, not a {CRD_KIND}: the pack never reviews it; "
                "declare it as its own resource.",
                None,
            )


policy = ResourceValidationPolicy(
    name="kubernetes-manifest-bundle-crds-only",
    description=(
        "A yaml/v2 ConfigGroup may carry CustomResourceDefinitions only; ConfigFile, Helm v4 Chart, Helm v3 "
        "Release and Kustomize v2 Directory resources, whose objects the plan never lists, are not used."
    ),
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    framework=PolicyComplianceFramework(name="NIST SP 800-53", reference="CM-3", version="5"),
    remediation_steps=(
        "Declare the workload, Service, RBAC or webhook object as its own kubernetes resource (as "
        "components/upstream.py does for the controllers' pinned manifests); keep only CRDs in the ConfigGroup."
    ),
    validate=validate,
)

review = Review(
    area="kubernetes",
    controls=Controls(nist_800_53=("CM-3", "CM-2"), soc2=("CC8.1",)),
    why=(
        "Objects inside a bundle are created at `pulumi up` without any policy reading them: a privileged "
        "DaemonSet or a cluster-admin binding hidden among a controller's CRDs would reach every GPU node and "
        "tenant model with no finding."
    ),
)
