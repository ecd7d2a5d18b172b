"""policy-waivers-valid — every waiver in force is current and still waives each violation it lists.

A waiver (policies/waivers.py) hides one policy's violations with the exact messages it lists on one
resource. It must not outlive its review (expired), nor survive the change that made it pointless
or dangerous: a resource that was renamed or removed (no such resource), one that now complies
(nothing to waive), or one that no longer reports one of the listed messages (a stale entry; were
the resource to regress the same way later, the waiver would hide it unreviewed). Each is a
mandatory violation; a missing message is named.

Whether a waiver still matches is decided here, without state: the waived policy is run again,
unguarded, on the waived resource (or, for a stack policy, on the stack) with the config the pack
gave it (`policyConfig`, from the same source as its own), so the verdict does not depend on the
order or concurrency of the engine's Analyze and AnalyzeStack calls. A value still unknown during
a preview leaves the question open rather than failing the preview.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from inspect import isawaitable
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyComplianceFramework,
    PolicyConfigSchema,
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.policy import _NotApplicableError
from pulumi_policy.proxy import UnknownValueError

from policies.review import Controls, Review
from policies.waivers import VALIDITY_POLICY, Waiver, one_line, today


def _registered() -> dict[str, Policy]:
    from policies.registry import ALL_POLICIES  # the registry imports this module

    return {p.name: p for p in ALL_POLICIES}


def _config_of(policy: Policy, given: Any) -> dict[str, Any]:
    """The waived policy's config as the pack applies it: schema defaults, then the given values."""
    schema = policy.config_schema.properties if policy.config_schema and policy.config_schema.properties else {}
    config = {key: spec["default"] for key, spec in schema.items() if isinstance(spec, Mapping) and "default" in spec}
    if isinstance(given, Mapping):
        config.update({k: v for k, v in given.items() if k not in ("enforcementLevel", "waivers")})
    return config


def _run(validate: Callable[[Any, Any], Any], args: Any) -> list[tuple[str, str | None]] | None:
    """(message, URN) the policy reports (URN None: stack-wide, or the resource validated), or None
    when it cannot tell yet (unknown values)."""
    found: list[tuple[str, str | None]] = []
    try:
        result = validate(args, lambda message, urn=None: found.append((one_line(str(message or "")), urn)))
        if isawaitable(result):
            asyncio.run(result)  # type: ignore[arg-type]
    except UnknownValueError:
        return None
    except _NotApplicableError:
        return []
    except Exception:  # the guard reports the crash itself (never waivable); nothing here matched
        return []
    return found


def reported_messages(
    policy: Policy, target: PolicyResource, resources: list[PolicyResource], config: dict[str, Any]
) -> set[str] | None:
    """The messages (one-line form) `policy` reports naming `target` (None: not decidable during a preview)."""
    if isinstance(policy, ResourceValidationPolicy):
        args = ResourceValidationArgs(
            target.resource_type, target.props, target.urn, target.name, target.opts, target.provider, config
        )
        found = _run(policy.validate, args)
        return None if found is None else {message for message, urn in found if (urn or target.urn) == target.urn}
    if not isinstance(policy, StackValidationPolicy):
        return None
    found = _run(policy.validate, StackValidationArgs(resources, config))
    return None if found is None else {message for message, urn in found if urn == target.urn}


def _unmatched(waiver: Waiver, policy: Policy, target: PolicyResource, resources: Any, given: Mapping[str, Any]):
    """(everything, missing): whether the policy reports nothing on the target any more, and the waiver's
    messages it no longer reports, in the waiver's order (unknowns during a preview: nothing missing)."""
    reported = reported_messages(policy, target, list(resources), _config_of(policy, given.get(policy.name)))
    if reported is None:
        return False, []
    return not reported, [message for message in waiver.violations if message not in reported]


def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
    config = args.get_config()
    given_configs = config.get("policyConfig") or {}
    registered = _registered()
    day = today()
    for index, raw in enumerate(config.get("waivers") or []):
        try:
            waiver = Waiver.from_config(raw)
        except (ValueError, TypeError) as exc:
            report_violation(f"waiver #{index + 1} of the pack's config is malformed ({exc}); it waives nothing.", None)
            continue
        label = f"waiver {waiver.source} ({waiver.policy} on {waiver.resource})"
        policy = registered.get(waiver.policy)
        targets = [r for r in args.resources if waiver.names(r.urn)]
        urn = targets[0].urn if len(targets) == 1 else None
        if policy is None or waiver.policy == VALIDITY_POLICY:
            report_violation(f"{label}: the pack has no waivable policy '{waiver.policy}'.", urn)
        elif waiver.expired(day):
            report_violation(
                f"{label} expired on {waiver.expires.isoformat()}: fix the resource, or renew the waiver after a "
                "new review.",
                urn,
            )
        elif not targets:
            report_violation(
                f"{label}: no such resource in the stack; remove the waiver, or name the resource as it is now.", None
            )
        elif len(targets) > 1:
            report_violation(f"{label}: names {len(targets)} resources; name one by its URN.", None)
        else:
            nothing, missing = _unmatched(waiver, policy, targets[0], args.resources, given_configs)
            if nothing:
                report_violation(f"{label}: {waiver.policy} reports nothing on it any more; remove the waiver.", urn)
                continue
            for message in missing:
                report_violation(
                    f'{label}: {waiver.policy} no longer reports "{message}" on it; remove that message from the '
                    "waiver (or the waiver).",
                    urn,
                )


policy = StackValidationPolicy(
    name=VALIDITY_POLICY,
    description=(
        "Every waiver must be unexpired and each violation message it lists must still be reported on its resource."
    ),
    enforcement_level=EnforcementLevel.MANDATORY,
    severity=Severity.HIGH,
    framework=PolicyComplianceFramework(name="NIST SP 800-53", reference="CM-6", version="rev5"),
    config_schema=PolicyConfigSchema(
        properties={
            "waivers": {"type": "array", "items": {"type": "object"}},
            "policyConfig": {"type": "object"},
        }
    ),
    remediation_steps=(
        "Edit policies/waivers.yaml: remove a waiver whose resource complies or no longer exists, and any message "
        "of `violations` the policy no longer reports; correct its resource to the exact type and name (or URN) "
        "it has now, or, after a new review, set a new `expires`."
    ),
    validate=validate,
)

review = Review(
    area="identity",
    controls=Controls(nist_800_53=("CM-6",), soc2=("CC8.1",)),
    why=(
        "A waiver is an authorisation: a named owner accepts one known violation of one resource until a date. "
        "One that outlives its review, lingers after a rename or a fix, or covers more than the reviewed problem "
        "quietly exempts the next change to that resource (a public bucket of weights, a wildcard role) from the "
        "guardrails nobody agreed to relax."
    ),
)
