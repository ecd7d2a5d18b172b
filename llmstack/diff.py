"""What a change does: two plan.json documents compared the way a reviewer reads a pull request.

Resources are matched by URN. One only in the head plan is created, one only in the base plan is
deleted; one in both whose inputs differ is updated — or replaced, when a changed input is one its
provider documents as forcing a new resource (llmstack/data/force_new.json), when its provider is
replaced, or when an input that takes an output of a replaced resource does so (that value is not
known until `up`, as in `pulumi preview`). A secret is never shown: a masked value that appears,
disappears or stops being masked is "changed", and its value stays "[secret]".

On top of the resources: the cost delta (monthly and at max scale, per region and component) and
the policy verdict delta (violations new and resolved, waivers added and removed).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from llmstack.offline import SECRET_PLACEHOLDER
from llmstack.planfile import placement

Action = Literal["create", "update", "replace", "delete"]
ACTIONS: tuple[Action, ...] = ("create", "update", "replace", "delete")
SYMBOL: dict[Action, str] = {"create": "+", "update": "~", "replace": "±", "delete": "-"}

# Types whose replacement or deletion loses what they hold, beyond the resource itself. A protected
# resource is warned about by its `protect` flag whatever its type.
STATEFUL_TYPES: dict[str, str] = {
    "aws:s3/bucket:Bucket": "its objects (model weights) are deleted with it",
    "aws:s3/bucketV2:BucketV2": "its objects (model weights) are deleted with it",
    "aws:kms/key:Key": "data encrypted under it cannot be decrypted once the key is deleted",
    "aws:eks/cluster:Cluster": "every workload on it goes down and is scheduled again from nothing",
    "aws:cloudwatch/logGroup:LogGroup": "its logs (the audit trail) are deleted",
    "aws:route53/zone:Zone": "a new zone has new name servers: the domain's delegation breaks",
    "aws:apigateway/apiKey:ApiKey": "tenants' API keys change: every client must be given a new key",
    "aws:amp/workspace:Workspace": "its metrics history is deleted",
    "aws:ec2/vpc:Vpc": "everything in the VPC is replaced with it",
    "aws:ec2/eip:Eip": "the public address changes: allow-lists that name it break",
    "aws:acmpca/certificateAuthority:CertificateAuthority": "certificates it issued stop validating",
    "aws:secretsmanager/secret:Secret": "its secret value is deleted",
    "random:index/randomPassword:RandomPassword": "a new value is generated: what uses the old one breaks",
    "random:index/randomId:RandomId": "a new value is generated: names built from it change",
    "tls:index/privateKey:PrivateKey": "a new key is generated: certificates and trust built on it break",
    "kubernetes:core/v1:Namespace": "deleting a namespace deletes every object in it",
    "kubernetes:core/v1:PersistentVolumeClaim": "its volume (and data) is released",
}

# Provider inputs whose change replaces the provider and with it every resource it manages.
PROVIDER_REPLACE_ON: dict[str, tuple[str, ...]] = {
    "pulumi:providers:aws": ("region",),
    "pulumi:providers:kubernetes": ("kubeconfig", "context", "cluster"),
}

COMPONENT_PREFIX = "llm-serving:"
_NOT_COUNTED = (COMPONENT_PREFIX, "pulumi:providers:")
KNOWN_AFTER_UP = "(known after up)"

ReplaceRule = Callable[[str, str], "str | None"]


def _default_rule(type_token: str, path: str) -> str | None:
    from llmstack import force_new

    return force_new.forces_replacement(type_token, path)


@dataclass(frozen=True)
class PropertyChange:
    path: str
    kind: Literal["added", "removed", "changed"]
    before: Any
    after: Any
    secret: bool = False
    forces_replacement: str | None = None
    """The force-new path of the type's table this change falls under, if any."""
    inner: tuple[PropertyChange, ...] = ()
    """Where the value is a JSON document on both sides (an IAM policy, a container definition):
    the changes inside it, paths relative to the document; the two strings alone often share their
    first sixty characters and show nothing."""

    def to_json(self) -> dict[str, Any]:
        document = {"inner": [p.to_json() for p in self.inner]} if self.inner else {}
        return {
            "path": self.path,
            "kind": self.kind,
            "before": self.before,
            "after": self.after,
            "secret": self.secret,
            "forces_replacement": self.forces_replacement,
            **document,
        }

    def shown(self) -> tuple[PropertyChange, ...]:
        """What a reader sees: the document's own changes (`policy › Statement[1].Resource[0]`), else this."""
        return tuple(replace(p, path=f"{self.path} › {p.path}") for p in self.inner) or (self,)


@dataclass(frozen=True)
class ResourceChange:
    urn: str
    type: str
    name: str
    action: Action
    region: str | None
    component: str
    properties: tuple[PropertyChange, ...] = ()
    replace_reasons: tuple[str, ...] = ()
    may_replace: tuple[str, ...] = ()
    """An update whose change falls under a provider rule that replaces only in some cases (CustomizeDiff):
    the rules, so a reviewer checks them; `pulumi preview` has the last word."""
    warning: str | None = None
    """Set on a replace or delete of a protected or stateful resource."""

    def to_json(self) -> dict[str, Any]:
        return {
            "urn": self.urn,
            "type": self.type,
            "name": self.name,
            "action": self.action,
            "region": self.region,
            "component": self.component,
            "properties": [p.to_json() for p in self.properties],
            "replace_reasons": list(self.replace_reasons),
            "may_replace": list(self.may_replace),
            "warning": self.warning,
        }


@dataclass(frozen=True)
class Money:
    before: float
    after: float

    @property
    def delta(self) -> float:
        return round(self.after - self.before, 2)

    @property
    def percent(self) -> float | None:
        return None if not self.before else round(100 * (self.after - self.before) / self.before, 1)

    def to_json(self) -> dict[str, Any]:
        return {"before": self.before, "after": self.after, "delta": self.delta, "percent": self.percent}


@dataclass(frozen=True)
class CostDelta:
    monthly: Money
    ceiling: Money
    budget: Money
    by_region: dict[str, tuple[Money, Money]]
    """region → (monthly, at max scale)"""
    by_component: dict[str, tuple[Money, Money]]

    def to_json(self) -> dict[str, Any]:
        def table(rows: Mapping[str, tuple[Money, Money]]) -> dict[str, Any]:
            return {k: {"monthly": m.to_json(), "ceiling": c.to_json()} for k, (m, c) in rows.items()}

        return {
            "monthly": self.monthly.to_json(),
            "ceiling": self.ceiling.to_json(),
            "budget": self.budget.to_json(),
            "by_region": table(self.by_region),
            "by_component": table(self.by_component),
        }


@dataclass(frozen=True)
class PolicyDelta:
    verdict_before: str
    verdict_after: str
    new: tuple[Mapping[str, Any], ...]
    resolved: tuple[Mapping[str, Any], ...]
    waivers_added: tuple[Mapping[str, Any], ...]
    waivers_removed: tuple[Mapping[str, Any], ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "verdict": {"before": self.verdict_before, "after": self.verdict_after},
            "new": list(self.new),
            "resolved": list(self.resolved),
            "waivers_added": list(self.waivers_added),
            "waivers_removed": list(self.waivers_removed),
        }


@dataclass(frozen=True)
class PlanDiff:
    stack: str
    base_stack: str
    changes: tuple[ResourceChange, ...]
    cost: CostDelta
    policy: PolicyDelta
    unchanged: int
    counts: dict[str, int] = field(default_factory=dict)
    secrets_changed: tuple[str, ...] = ()
    """Secret config keys whose ciphertext in the stack file differs (added, removed or rewritten)."""

    @property
    def warnings(self) -> list[ResourceChange]:
        return [c for c in self.changes if c.warning]

    def summary(self) -> str:
        """`+3 ~2 -1, +$1,240/month (+2.3 %), policy PASS` (± for replacements, only when there are some)."""
        parts = [f"{SYMBOL[a]}{self.counts[a]}" for a in ACTIONS if self.counts[a] or a != "replace"]
        monthly = self.cost.monthly
        percent = f" ({signed(monthly.percent, '{:.1f} %')})" if monthly.percent is not None else ""
        return (
            f"{' '.join(parts)}, {signed(monthly.delta, '${:,.0f}')}/month{percent}, policy {self.policy.verdict_after}"
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "stack": self.stack,
            "base_stack": self.base_stack,
            "summary": self.summary(),
            "counts": {**self.counts, "unchanged": self.unchanged},
            "changes": [c.to_json() for c in self.changes],
            "warnings": [{"urn": c.urn, "action": c.action, "warning": c.warning} for c in self.warnings],
            "cost": self.cost.to_json(),
            "policy": self.policy.to_json(),
            "secrets_changed": list(self.secrets_changed),
        }


def signed(value: float, template: str) -> str:
    return ("-" if value < 0 else "+") + template.format(abs(value))


def money_delta(money: Money) -> str:
    """`+$1,240 (+2.3 %)`, or `—` when nothing changed."""
    if not money.delta:
        return "—"
    text = signed(money.delta, "${:,.0f}")
    return text + (f" ({signed(money.percent, '{:.1f} %')})" if money.percent is not None else " (new)")


# --- resources -----------------------------------------------------------------------------------


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Leaf values by path (`spec.template.spec.containers[0].image`, `tags["llm-serving/model"]`).

    An empty object or list is a leaf of its own, so adding one shows.
    """
    if isinstance(value, dict) and value:
        result: dict[str, Any] = {}
        for key, child in value.items():
            if re.fullmatch(r"[A-Za-z_$][\w$-]*", key):
                step = f"{prefix}.{key}" if prefix else key
            else:
                step = f"{prefix}[{_quote(key)}]"
            result.update(flatten(child, step))
        return result
    if isinstance(value, list) and value:
        result = {}
        for index, child in enumerate(value):
            result.update(flatten(child, f"{prefix}[{index}]"))
        return result
    if not prefix and value in ({}, []):
        return {}  # no inputs at all: nothing to name
    return {prefix: value}


def _quote(key: str) -> str:
    return '"' + key.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _schema_path(path: str) -> str:
    """The path a force-new table speaks of: list indices dropped, map keys kept as segments."""
    path = re.sub(r"\[\d+\]", "", path)
    return re.sub(r'\["((?:[^"\\]|\\.)*)"\]', lambda m: "." + m.group(1).replace(".", "\\."), path)


def _masked(value: Any) -> bool:
    return value == SECRET_PLACEHOLDER


def _json_document(value: Any) -> dict[str, Any] | list[Any] | None:
    """A string that holds a JSON object or array (policy documents are strings in the provider)."""
    if not isinstance(value, str) or value.lstrip()[:1] not in ("{", "["):
        return None
    try:
        parsed = json.loads(value)
    except ValueError:
        return None
    return parsed if isinstance(parsed, (dict, list)) and parsed else None


def _document_changes(before: Any, after: Any) -> tuple[PropertyChange, ...]:
    old, new = _json_document(before), _json_document(after)
    if old is None or new is None:
        return ()
    return tuple(_leaf_changes(flatten(old), flatten(new), lambda path: None))


def _leaf_changes(
    old: Mapping[str, Any], new: Mapping[str, Any], rule: Callable[[str], str | None]
) -> list[PropertyChange]:
    changes: list[PropertyChange] = []
    for path in sorted(old.keys() | new.keys()):
        if path in old and path in new and old[path] == new[path]:
            continue
        kind: Literal["added", "removed", "changed"] = (
            "added" if path not in old else "removed" if path not in new else "changed"
        )
        secret = _masked(old.get(path)) or _masked(new.get(path))
        shown_before = SECRET_PLACEHOLDER if secret and path in old else old.get(path)
        shown_after = SECRET_PLACEHOLDER if secret and path in new else new.get(path)
        changes.append(
            PropertyChange(
                path=path,
                kind=kind,
                before=shown_before,
                after=shown_after,
                secret=secret,
                forces_replacement=rule(path),
                inner=() if secret or kind != "changed" else _document_changes(shown_before, shown_after),
            )
        )
    return changes


def property_changes(
    type_token: str, before: Mapping[str, Any], after: Mapping[str, Any], rule: ReplaceRule
) -> list[PropertyChange]:
    return _leaf_changes(flatten(dict(before)), flatten(dict(after)), lambda path: rule(type_token, _schema_path(path)))


def _warning(resource: Mapping[str, Any], action: Action) -> str | None:
    if action not in ("replace", "delete"):
        return None
    verb = "replaced" if action == "replace" else "deleted"
    reasons = []
    if resource.get("protect"):
        reasons.append("it is protected: `pulumi up` refuses until `protect` is lifted")
    if resource["type"] in STATEFUL_TYPES:
        reasons.append(STATEFUL_TYPES[resource["type"]])
    if resource.get("retain_on_delete"):
        reasons.append("retain_on_delete keeps the old one in the account, outside the stack")
    return f"{resource['name']} ({resource['type']}) is {verb}: " + "; ".join(reasons) if reasons else None


def _may_replace(type_token: str, changed: Iterable[PropertyChange]) -> tuple[str, ...]:
    from llmstack import force_new

    return tuple(sorted({rule for p in changed if (rule := force_new.may_replace(type_token, _schema_path(p.path)))}))


def resource_changes(
    base: Mapping[str, Any], head: Mapping[str, Any], rule: ReplaceRule = _default_rule
) -> tuple[list[ResourceChange], int]:
    old = {r["urn"]: r for r in base["resources"]}
    new = {r["urn"]: r for r in head["resources"]}
    where_old, where_new = placement(base["resources"]), placement(head["resources"])
    properties: dict[str, list[PropertyChange]] = {}
    reasons: dict[str, list[str]] = {}

    for urn in old.keys() & new.keys():
        changed = property_changes(new[urn]["type"], old[urn]["inputs"], new[urn]["inputs"], rule)
        if changed:
            properties[urn] = changed
            forced = sorted({p.forces_replacement for p in changed if p.forces_replacement})
            if forced:
                reasons[urn] = [f"changing {', '.join(f'`{p}`' for p in forced)} forces a new resource"]
        if old[urn].get("provider") != new[urn].get("provider"):
            reasons.setdefault(urn, []).append("it moves to another provider")

    for urn in properties:
        if new[urn]["type"] in PROVIDER_REPLACE_ON and any(
            _top(p.path) in PROVIDER_REPLACE_ON[new[urn]["type"]] for p in properties[urn]
        ):
            reasons.setdefault(urn, []).append("a setting that selects its account, region or cluster changed")

    # A replaced resource gets a new id and ARN, a replaced provider replaces what it manages.
    _propagate_replacements(old, new, properties, reasons, rule)

    changes = []
    for urn, resource in new.items():
        if resource["type"].startswith(COMPONENT_PREFIX):
            continue  # a component has no state of its own: its resources' changes are the change
        if urn not in old:
            action: Action = "create"
        elif urn in reasons:
            action = "replace"
        elif urn in properties:
            action = "update"
        else:
            continue
        place = where_new[urn]
        changes.append(
            ResourceChange(
                urn=urn,
                type=resource["type"],
                name=resource["name"],
                action=action,
                region=place["region"],
                component=place["component"] or "Platform",
                properties=tuple(properties.get(urn, ())),
                replace_reasons=tuple(reasons.get(urn, ())),
                may_replace=_may_replace(resource["type"], properties.get(urn, ())) if action == "update" else (),
                warning=_warning(old.get(urn, resource), action),
            )
        )
    for urn, resource in old.items():
        if urn not in new and not resource["type"].startswith(COMPONENT_PREFIX):
            place = where_old[urn]
            changes.append(
                ResourceChange(
                    urn=urn,
                    type=resource["type"],
                    name=resource["name"],
                    action="delete",
                    region=place["region"],
                    component=place["component"] or "Platform",
                    warning=_warning(resource, "delete"),
                )
            )
    changes.sort(key=lambda c: (ACTIONS.index(c.action), str(c.region), c.component, c.type, c.name))
    # Counted as report.md counts resources: neither components nor providers.
    counted = {urn for urn in old.keys() & new.keys() if not new[urn]["type"].startswith(_NOT_COUNTED)}
    unchanged = len(counted - {c.urn for c in changes})
    return changes, unchanged


def _top(path: str) -> str:
    return re.split(r"[.\[]", path, maxsplit=1)[0]


def _propagate_replacements(
    old: Mapping[str, Mapping[str, Any]],
    new: Mapping[str, Mapping[str, Any]],
    properties: dict[str, list[PropertyChange]],
    reasons: dict[str, list[str]],
    rule: ReplaceRule,
) -> None:
    """Follow replacements to what depends on them, until nothing more is replaced.

    A resource whose provider is replaced is replaced. An input that takes any output of a replaced
    resource changes (`pulumi preview` shows it as unknown until `up`); where that input forces a
    new resource, the dependent is replaced in turn.
    """
    in_both = [urn for urn in new if urn in old]
    managed: dict[str, list[str]] = {}
    dependents: dict[str, list[tuple[str, str]]] = {}
    for urn in in_both:
        provider = new[urn].get("provider")
        if provider:
            managed.setdefault(provider, []).append(urn)
        for key, urns in (new[urn].get("property_dependencies") or {}).items():
            for dependency in urns or ():
                dependents.setdefault(dependency, []).append((urn, key))

    def replace(urn: str, reason: str) -> None:
        if urn not in reasons:
            reasons[urn] = [reason]
            pending.append(urn)

    pending = list(reasons)
    while pending:
        replaced = pending.pop()
        name = new[replaced]["name"]
        for urn in managed.get(replaced, ()):
            replace(urn, f"its provider {name} is replaced")
        if new[replaced]["type"].startswith(COMPONENT_PREFIX):
            continue
        for urn, key in dependents.get(replaced, ()):
            if urn in reasons:
                continue
            resource_type = new[urn]["type"]
            if resource_type in PROVIDER_REPLACE_ON:
                if key in PROVIDER_REPLACE_ON[resource_type]:
                    replace(urn, f"its `{key}` comes from {name}, which is replaced")
                continue
            forced = rule(resource_type, key)
            if key not in {p.path for p in properties.get(urn, [])}:
                before = old[urn]["inputs"].get(key)
                properties.setdefault(urn, []).append(
                    PropertyChange(
                        path=key, kind="changed", before=before, after=KNOWN_AFTER_UP, forces_replacement=forced
                    )
                )
            if forced:
                replace(urn, f"`{key}` takes an output of {name}, which is replaced")


# --- cost ----------------------------------------------------------------------------------------


def _cost_sums(cost: Mapping[str, Any], key: str) -> dict[str, tuple[float, float]]:
    sums: dict[str, list[float]] = {}
    for line in cost.get("lines") or []:
        name = str(line.get(key) or "global")
        entry = sums.setdefault(name, [0.0, 0.0])
        entry[0] += float(line.get("monthly_usd") or 0)
        entry[1] += float(line.get("ceiling_monthly_usd") or 0)
    return {k: (round(m, 2), round(c, 2)) for k, (m, c) in sums.items()}


def cost_delta(base: Mapping[str, Any], head: Mapping[str, Any]) -> CostDelta:
    before, after = base.get("cost") or {}, head.get("cost") or {}

    def money(key: str) -> Money:
        return Money(float(before.get(key) or 0), float(after.get(key) or 0))

    def table(key: str) -> dict[str, tuple[Money, Money]]:
        old, new = _cost_sums(before, key), _cost_sums(after, key)
        rows = {}
        for name in sorted(old.keys() | new.keys()):
            (m0, c0), (m1, c1) = old.get(name, (0.0, 0.0)), new.get(name, (0.0, 0.0))
            if (m0, c0) != (m1, c1):
                rows[name] = (Money(m0, m1), Money(c0, c1))
        return rows

    return CostDelta(
        monthly=money("monthly_usd"),
        ceiling=money("ceiling_monthly_usd"),
        budget=money("budget_usd"),
        by_region=table("region"),
        by_component=table("component"),
    )


# --- policy --------------------------------------------------------------------------------------


def _violation_key(v: Mapping[str, Any]) -> tuple[str, str, str]:
    return (str(v.get("policy")), str(v.get("urn") or ""), " ".join(str(v.get("message") or "").split()))


def _waiver_key(w: Mapping[str, Any]) -> tuple[str, str, tuple[str, ...]]:
    # Not the waiver's source: its line number moves when another waiver is added above it.
    return (str(w.get("policy")), str(w.get("resource")), tuple(w.get("violations") or ()))


def verdict_word(document: Mapping[str, Any]) -> str:
    violations = (document.get("policy") or {}).get("violations") or []
    return "FAIL" if any(v.get("enforcement") == "mandatory" for v in violations) else "PASS"


def _new_entries(
    before: Iterable[Mapping[str, Any]], after: Iterable[Mapping[str, Any]], key: Callable[[Mapping[str, Any]], Any]
) -> tuple[Mapping[str, Any], ...]:
    seen = {key(entry) for entry in before}
    return tuple(entry for entry in after if key(entry) not in seen)


def policy_delta(base: Mapping[str, Any], head: Mapping[str, Any]) -> PolicyDelta:
    old, new = base.get("policy") or {}, head.get("policy") or {}
    old_v, new_v = old.get("violations") or [], new.get("violations") or []
    old_w, new_w = old.get("waived") or [], new.get("waived") or []
    return PolicyDelta(
        verdict_before=verdict_word(base),
        verdict_after=verdict_word(head),
        new=_new_entries(old_v, new_v, _violation_key),
        resolved=_new_entries(new_v, old_v, _violation_key),
        waivers_added=_new_entries(old_w, new_w, _waiver_key),
        waivers_removed=_new_entries(new_w, old_w, _waiver_key),
    )


# --- the whole -----------------------------------------------------------------------------------


def diff_plans(base: Mapping[str, Any], head: Mapping[str, Any], rule: ReplaceRule = _default_rule) -> PlanDiff:
    changes, unchanged = resource_changes(base, head, rule)
    counts = {action: sum(1 for c in changes if c.action == action) for action in ACTIONS}
    return PlanDiff(
        stack=str(head["stack"]),
        base_stack=str(base["stack"]),
        changes=tuple(changes),
        cost=cost_delta(base, head),
        policy=policy_delta(base, head),
        unchanged=unchanged,
        counts=counts,
        secrets_changed=secrets_changed(base, head),
    )


def secrets_changed(base: Mapping[str, Any], head: Mapping[str, Any]) -> tuple[str, ...]:
    if "secrets" not in base or "secrets" not in head:
        return ()  # a plan from before plans recorded them: nothing to compare
    old, new = base.get("secrets") or {}, head.get("secrets") or {}
    return tuple(sorted(key for key in old.keys() | new.keys() if old.get(key) != new.get(key)))
