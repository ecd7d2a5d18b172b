"""Construct components under the offline plan's mocks and read back what they registered."""

from __future__ import annotations

from collections.abc import Callable

import pulumi
from pulumi.runtime import settings as pulumi_settings
from pulumi.runtime.stack import wait_for_rpcs
from pulumi.runtime.sync_await import _sync_await

from llmstack.offline import PlanMocks, RecordedResource, RecordingMonitor


def record(build: Callable[[], object]) -> list[RecordedResource]:
    """Run `build` against a fresh mock engine; every registration, in order."""
    pulumi_settings.reset_options()
    monitor = RecordingMonitor(PlanMocks())
    pulumi.runtime.set_mocks(monitor.mocks, project="llm-serving", stack="test", preview=False, monitor=monitor)
    build()
    _sync_await(wait_for_rpcs())
    return monitor.recorded


def by_type(resources: list[RecordedResource], type_token: str) -> list[RecordedResource]:
    return [r for r in resources if r.type == type_token]
