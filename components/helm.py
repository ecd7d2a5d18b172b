"""Pinned Helm releases: every chart the platform installs, installed the same careful way."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s


@dataclass(frozen=True)
class PinnedChart:
    """A chart at an exact version from its upstream repository."""

    name: str
    repository: str
    version: str


def pinned_release(
    resource_name: str,
    chart: PinnedChart,
    namespace: str,
    values: pulumi.Input[Mapping[str, Any]],
    opts: pulumi.ResourceOptions,
    allow_null_values: bool = False,
) -> k8s.helm.v3.Release:
    """A release named after its chart, in an existing namespace.

    helm.v3.Release installs through the provider at deploy time (nothing to fetch at plan time);
    atomic with cleanup, so a failed install or upgrade rolls back instead of leaving half a chart.
    `allow_null_values`: a `None` in `values` removes the chart's default instead of being dropped.
    """
    return k8s.helm.v3.Release(
        resource_name,
        name=chart.name,
        chart=chart.name,
        version=chart.version,
        repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=chart.repository),
        namespace=namespace,
        create_namespace=False,
        atomic=True,
        cleanup_on_fail=True,
        timeout=600,
        values=values,
        allow_null_values=allow_null_values,
        opts=opts,
    )
