"""What the data-residency policies read: where a resource lands, and which models or tenants it
carries.

A resource carries a model when the model's name stands as a whole word (between characters that
are not letters or digits) in its logical name or in any string of its inputs: a weights prefix
`models/<model>/`, a route's path part, a label, a tag, an environment variable. The names come
from the policy config (the stack file), never from the plan, so removing a marker from a
hand-edited plan does not hide a model; config refuses a sensitive model whose name is a word of
another model's name.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

from pulumi_policy import PolicyResource
from pulumi_policy.proxy import _DictProxy, _ListProxy

from components.conventions import DATA_CLASSIFICATION_LABEL, name_as_word
from policies.support import as_list

AWS_PROVIDER = "pulumi:providers:aws"
KUBERNETES_PROVIDER = "pulumi:providers:kubernetes"
ONPREM_PROVIDER_PREFIX = "onprem-"
# Where an EKS kubeconfig says its cluster is: the API server's host or the cluster ARN.
_EKS_REGION = re.compile(
    r"\.([a-z]{2}(?:-[a-z]+)+-\d)\.eks\.amazonaws\.com|arn:aws[a-z-]*:eks:([a-z]{2}(?:-[a-z]+)+-\d):"
)


def strings(value: Any) -> Iterator[str]:
    """Every string in a nested input value (keys included: a tenant table is keyed by tenant)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield str(key)
            yield from strings(item)
    elif isinstance(value, (list, tuple)) or (hasattr(value, "__iter__") and not isinstance(value, bytes)):
        for item in as_list(value):
            yield from strings(item)


def _unwrapped(value: Any) -> Any:
    """The plain dict or list behind pulumi_policy's read-only proxy (its `__target`), else the value."""
    try:
        return value["__target"] if isinstance(value, (_DictProxy, _ListProxy)) else value
    except (KeyError, TypeError):
        return value


def _serialisable(value: Any) -> Any:
    """For json.dumps: a nested proxy as its plain target (the proxies nest), anything else as text."""
    unwrapped = _unwrapped(value)
    return unwrapped if unwrapped is not value else str(value)


def text_of(resource: PolicyResource) -> str:
    """The resource's logical name and every string of its inputs, as one text (keys included).

    Serialised once from the plain inputs behind the proxy: walking the proxy string by string costs
    the pack a second on the prod plan. Unknown values (previews) serialise as their placeholder."""
    try:
        inputs = json.dumps(_unwrapped(resource.props), default=_serialisable, ensure_ascii=False)
    except (TypeError, ValueError):  # a cycle or an odd key: fall back to the walk
        inputs = "\n".join(strings(resource.props))
    return f"{resource.name}\n{inputs}"


def carries(resource: PolicyResource, name: str, text: str | None = None) -> bool:
    """`name` stands as a word in the resource's logical name or any string of its inputs (`text`:
    `text_of(resource)`, when the caller already has it)."""
    return bool(name_as_word(name).search(text if text is not None else text_of(resource)))


def onprem_target(resource: PolicyResource) -> str | None:
    """The on-prem target a Kubernetes object is applied to: its provider is `onprem-<target>` and its
    kubeconfig (when readable) names no EKS cluster. None for anything else."""
    provider = resource.provider
    if provider is None or provider.resource_type != KUBERNETES_PROVIDER:
        return None
    if not provider.name.startswith(ONPREM_PROVIDER_PREFIX):
        return None
    kubeconfig = provider.props.get("kubeconfig")
    if isinstance(kubeconfig, str) and ("eks.amazonaws.com" in kubeconfig or "arn:aws" in kubeconfig):
        return None  # named as on-prem, wired to EKS
    return provider.name.removeprefix(ONPREM_PROVIDER_PREFIX)


def aws_region(resource: PolicyResource) -> str | None:
    """The AWS region a resource lands in: its AWS provider's, or for a Kubernetes object on EKS the
    region its kubeconfig names. None when it is not in AWS or the plan does not say."""
    provider = resource.provider
    if provider is None:
        return None
    if provider.resource_type == AWS_PROVIDER:
        region = provider.props.get("region")
        return region if isinstance(region, str) else None
    if provider.resource_type == KUBERNETES_PROVIDER and onprem_target(resource) is None:
        kubeconfig = provider.props.get("kubeconfig")
        match = _EKS_REGION.search(kubeconfig) if isinstance(kubeconfig, str) else None
        return (match.group(1) or match.group(2)) if match else None
    return None


def in_aws(resource: PolicyResource) -> bool:
    """Managed by an AWS provider, or a Kubernetes object on a cluster that is not an on-prem target."""
    provider = resource.provider
    if provider is None:
        return False
    if provider.resource_type == AWS_PROVIDER:
        return True
    return provider.resource_type == KUBERNETES_PROVIDER and onprem_target(resource) is None


def classification(resource: PolicyResource) -> Any:
    """The data-classification marker: a Kubernetes object's label (or its pod template's), an AWS tag."""
    props = resource.props
    metadata = props.get("metadata")
    labels = metadata.get("labels") if isinstance(metadata, Mapping) else None
    if isinstance(labels, Mapping) and DATA_CLASSIFICATION_LABEL in labels:
        return labels[DATA_CLASSIFICATION_LABEL]
    tags = props.get("tags")
    return tags.get(DATA_CLASSIFICATION_LABEL) if isinstance(tags, Mapping) else None


def where(resource: PolicyResource) -> str:
    """Where a resource lands, for messages."""
    target = onprem_target(resource)
    if target is not None:
        return f"on-prem target {target}"
    region = aws_region(resource)
    if region is not None:
        return region
    return "AWS" if in_aws(resource) else "no known place"
