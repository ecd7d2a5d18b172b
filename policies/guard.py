"""What the pack serves in place of each registered policy: the same policy, guarded twice.

1. Waivers. A violation that a live waiver of this policy in its config (`waivers`, see
   policies/waivers.py) names by resource AND by its exact message is not reported; any other
   violation of the policy on that resource is (a waiver accepts a known problem, not whatever the
   resource may do next). An expired waiver waives nothing. Only violations that name a resource
   can be waived; a stack-wide one never is.
2. Fail closed. A policy that raises on a value it reads (`minReplicaCount: "one"`) would fail the
   whole Analyze call, and with it `pulumi up` and `llmstack check`, with a traceback. Instead the
   exception becomes a violation of that policy, at its enforcement level, naming the resource
   and the exception; it is never waivable. (The engine's own UnknownValueError and not-applicable
   signals pass through unchanged.)

The registered policy objects stay as they are (tests drive them directly); `guarded` returns a
copy whose `validate` adds the above and whose config schema declares `waivers`.
"""

from __future__ import annotations

from collections.abc import Callable
from inspect import isawaitable
from typing import Any

from pulumi_policy import (
    Policy,
    PolicyConfigSchema,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.policy import _NotApplicableError
from pulumi_policy.proxy import UnknownValueError

from policies.waivers import today, waivers_in

WAIVERS_SCHEMA = {
    "type": "array",
    "items": {"type": "object"},
    "description": (
        "Reviewed waivers of this policy, each for one named resource and its exact violation messages "
        "(from policies/waivers.yaml)."
    ),
}


def crash_message(exc: BaseException) -> str:
    detail = (str(exc).strip().splitlines() or [""])[0][:200]
    return (
        f"the policy could not evaluate this ({type(exc).__name__}: {detail}); a value it reads is malformed "
        "or of an unexpected type, counted as a violation"
    )


def _guarded_call(
    policy: str,
    validate: Callable[[Any, Callable[..., None]], Any],
    args: ResourceValidationArgs | StackValidationArgs,
    report_violation: Callable[..., None],
    default_urn: str | None,
) -> Any:
    config = args.get_config()
    live = []
    if config and config.get("waivers"):  # most policies have none: no date or parsing per call
        day = today()
        live = [w for w in waivers_in(config) if w.policy == policy and not w.expired(day)]

    def report_unless_waived(message: str, urn: str | None = None) -> None:
        if not any(w.accepts(urn or default_urn, message) for w in live):
            report_violation(message, urn)

    def fail_closed(exc: BaseException) -> None:
        report_violation(crash_message(exc), None)

    try:
        result = validate(args, report_unless_waived if live else report_violation)
    except (UnknownValueError, _NotApplicableError):
        raise
    except Exception as exc:
        fail_closed(exc)
        return None
    if not isawaitable(result):
        return None

    async def awaited() -> None:
        try:
            await result
        except (UnknownValueError, _NotApplicableError):
            raise
        except Exception as exc:
            fail_closed(exc)

    return awaited()


def _with_waivers(schema: PolicyConfigSchema | None) -> PolicyConfigSchema:
    properties = dict(schema.properties) if schema and schema.properties else {}
    return PolicyConfigSchema(
        properties={**properties, "waivers": WAIVERS_SCHEMA}, required=list(schema.required or []) if schema else []
    )


class _GuardedResourcePolicy(ResourceValidationPolicy):
    def __init__(self, inner: ResourceValidationPolicy):  # noqa: D107 - a copy, see `guarded`
        vars(self).update(vars(inner))  # name, levels, metadata: the policy as registered
        self.inner = inner
        self.config_schema = _with_waivers(inner.config_schema)

    def validate(self, args, report_violation):  # type: ignore[override]
        return _guarded_call(self.name, self.inner.validate, args, report_violation, args.urn)


class _GuardedStackPolicy(StackValidationPolicy):
    def __init__(self, inner: StackValidationPolicy):  # noqa: D107 - a copy, see `guarded`
        vars(self).update(vars(inner))  # name, levels, metadata: the policy as registered
        self.inner = inner
        self.config_schema = _with_waivers(inner.config_schema)

    def validate(self, args, report_violation):  # type: ignore[override]
        return _guarded_call(self.name, self.inner.validate, args, report_violation, None)


def guarded(policy: Policy) -> Policy:
    """The policy as the pack serves it: waivers applied, exceptions reported as violations."""
    if isinstance(policy, ResourceValidationPolicy):
        return _GuardedResourcePolicy(policy)
    if isinstance(policy, StackValidationPolicy):
        return _GuardedStackPolicy(policy)
    raise TypeError(f"{policy.name}: neither a resource nor a stack policy")
