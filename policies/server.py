"""How the pack serves the Analyzer protocol: pulumi_policy's server, reading each resource once.

pulumi_policy converts a resource's properties from protobuf again for every policy it runs
(`Analyze`), and every resource again for every stack policy (`AnalyzeStack`). With this pack's
45 policies that conversion was 1.1 s of the prod plan's 1.5 s policy stage, while the policies
themselves ran in 0.06 s; and it links every resource to its parent and dependencies again for
each stack policy (0.8 s of 0.9 s for prod's stack analysis), which AnalyzeStack here does once.

`install()` keeps, for the length of one `Analyze` or `AnalyzeStack` call, the first conversion
of each message, so every policy of that call reads the same view of a resource. Nothing else
changes: the same servicer code runs, with the same options, providers, unknown-value checks and
verdicts (tests/policies/test_server.py compares both servers). Sharing one view is sound because
this pack's policies only read `props` and report; none remediates or writes.

If a future pulumi_policy stops calling these functions, the memo simply stops being used:
slower, never different.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from inspect import isawaitable
from typing import Any

from google.protobuf import json_format
from pulumi.runtime import proto
from pulumi_policy import EnforcementLevel, PolicyResource, StackValidationArgs, StackValidationPolicy
from pulumi_policy import policy as pulumi_policy_server
from pulumi_policy.proxy import UnknownValueError

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
        """The base class's AnalyzeStack with one change: the stack's resources (PolicyResource
        objects linked to their parents and dependencies) are built once for the call, not once
        per stack policy, which was 0.8 s of the prod plan's stack analysis. The rest is the base
        class's loop as pulumi-policy 1.13-1.x writes it: enforcement levels, report_violation,
        unknown values (advisory "can't run during preview") and not-applicable answers."""
        with _one_request():
            self._configure_runtime_settings()
            response = proto.AnalyzeResponse()
            resources: list[Any] | None = None
            for policy in self._PolicyAnalyzerServicer__policies:  # type: ignore[attr-defined]
                level = self._get_enforcement_level(policy)
                if level == EnforcementLevel.DISABLED or not isinstance(policy, StackValidationPolicy):
                    continue
                if level == EnforcementLevel.REMEDIATE:
                    level = EnforcementLevel.MANDATORY  # as the base class: stack policies cannot remediate
                report_violation = self._create_report_violation(
                    response, policy.name, policy.description, level, policy.severity
                )
                resources = resources if resources is not None else self._stack_resources(request)
                args = StackValidationArgs(resources, self._get_policy_config(policy.name), self._stack_tags())
                try:
                    result = policy.validate(args, report_violation)
                    if isawaitable(result):
                        loop = asyncio.new_event_loop()
                        loop.run_until_complete(asyncio.Task(result, loop=loop))  # type: ignore[arg-type]
                        loop.close()
                except UnknownValueError as exc:
                    response.diagnostics.append(self._unknown_diagnostic(policy, exc))
                except pulumi_policy_server._NotApplicableError as exc:
                    response.not_applicable.append(
                        proto.PolicyNotApplicable(policy_name=policy.name, reason=exc.reason or "")
                    )
            return response

    def _stack_resources(self, request) -> list[Any]:
        """Every resource of the request as a PolicyResource, parents and dependencies linked."""
        built: list[tuple[Any, Any]] = []
        for r in request.resources:
            # The module's names, which install() made read-once, as the base class calls them.
            props = pulumi_policy_server.unknown_checking_proxy(  # pyright: ignore[reportPrivateImportUsage]
                pulumi_policy_server.deserialize_properties(  # pyright: ignore[reportPrivateImportUsage]
                    json_format.MessageToDict(r.properties)
                )
            )
            options, provider = self._get_resource_options(r), self._get_provider_resource(r)
            built.append((PolicyResource(r.type, props, r.urn, r.name, options, provider, None, [], {}), r))
        by_urn = {resource.urn: resource for resource, _ in built}
        for resource, r in built:
            if r.parent in by_urn:
                resource.parent = by_urn[r.parent]
            resource.dependencies.extend(by_urn[d] for d in r.dependencies if d in by_urn)
            for key, urns in r.propertyDependencies.items():
                resource.property_dependencies[key] = [by_urn[d] for d in urns.urns if d in by_urn]
        return [resource for resource, _ in built]

    def _stack_tags(self) -> Any:
        return self._PolicyAnalyzerServicer__stack_tags  # type: ignore[attr-defined]

    def _unknown_diagnostic(self, policy: Any, exc: Any) -> Any:
        name = self._PolicyAnalyzerServicer__policy_pack_name  # type: ignore[attr-defined]
        version = self._PolicyAnalyzerServicer__policy_pack_version  # type: ignore[attr-defined]
        return proto.AnalyzeDiagnostic(
            policyName=policy.name,
            policyPackName=name,
            policyPackVersion=version,
            message=f"can't run policy '{policy.name}' from policy pack '{name}@v{version}' during preview: "
            f"{exc.message}",
            urn="",
            description=policy.description,
            enforcementLevel=self._map_enforcement_level(EnforcementLevel.ADVISORY),
        )

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
