"""How the pack serves the Analyzer protocol: pulumi_policy's server, reading each resource once.

pulumi_policy converts a resource's properties from protobuf again for every policy it runs
(`Analyze`), and every resource again for every stack policy (`AnalyzeStack`). With this pack's
45 policies that conversion was 1.1 s of the prod plan's 1.5 s policy stage, while the policies
themselves ran in 0.06 s.

`install()` keeps, for the length of one `Analyze` or `AnalyzeStack` call, the first conversion
of each message, so every policy of that call reads the same view of a resource. Nothing else
changes: the same servicer code runs, with the same options, providers, unknown-value checks and
verdicts (tests/policies/test_server.py compares both servers). Sharing one view is sound because
this pack's policies only read `props` and report; none remediates or writes.

If a future pulumi_policy stops calling these functions, the memo simply stops being used:
slower, never different.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from google.protobuf import json_format
from pulumi_policy import policy as pulumi_policy_server

_request = threading.local()  # the server answers on several worker threads


@contextmanager
def _one_request() -> Iterator[None]:
    _request.memo = {}
    try:
        yield
    finally:
        _request.memo = None


def _read_once(convert: Callable[..., Any]) -> Callable[..., Any]:
    """`convert(*args)` computed once per request for the same argument objects."""

    def memoized(*args: Any) -> Any:
        memo = getattr(_request, "memo", None)
        if memo is None:  # outside Analyze/AnalyzeStack (Configure, Remediate): as before
            return convert(*args)
        key = (convert, *map(id, args))
        if key not in memo:
            memo[key] = (args, convert(*args))  # holding the arguments keeps their ids unique meanwhile
        return memo[key][1]

    return memoized


class _JsonFormatReadOnce:
    """Stands in for `google.protobuf.json_format` inside pulumi_policy's server module."""

    MessageToDict = staticmethod(_read_once(json_format.MessageToDict))

    def __getattr__(self, name: str) -> Any:
        return getattr(json_format, name)


class ReadOnceServicer(pulumi_policy_server._PolicyAnalyzerServicer):
    """pulumi_policy's servicer; each Analyze/AnalyzeStack call is one memo scope.

    A resource's options and provider are read once per call too (the base class reads them
    again for every policy), and the runtime settings once per process.
    """

    def Analyze(self, request, context):  # noqa: N802 - gRPC method name
        with _one_request():
            return super().Analyze(request, context)

    def AnalyzeStack(self, request, context):  # noqa: N802 - gRPC method name
        with _one_request():
            return super().AnalyzeStack(request, context)

    def _configure_runtime_settings(self):
        # The base class re-reads the pack's environment on every call; it is fixed for the
        # process's life, so reading it on the first call is the same and saves ~10% per call.
        if not getattr(self, "_runtime_configured", False):
            super()._configure_runtime_settings()
            self._runtime_configured = True

    @_read_once
    def _get_resource_options(self, request):
        return super()._get_resource_options(request)

    @_read_once
    def _get_provider_resource(self, request):
        return super()._get_provider_resource(request)


def install() -> None:
    """Make `PolicyPack(...)` serve with `ReadOnceServicer`. Call before constructing the pack."""
    if pulumi_policy_server._PolicyAnalyzerServicer is ReadOnceServicer:
        return
    # The names the servicer's module calls, each time, to turn a message into a policy's `props`.
    pulumi_policy_server.json_format = _JsonFormatReadOnce()  # type: ignore[assignment]
    for name in ("deserialize_properties", "unknown_checking_proxy"):
        setattr(pulumi_policy_server, name, _read_once(getattr(pulumi_policy_server, name)))
    pulumi_policy_server._PolicyAnalyzerServicer = ReadOnceServicer  # type: ignore[misc]
