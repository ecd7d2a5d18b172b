"""Evaluate the real policy pack exactly as the Pulumi engine does: over the Analyzer gRPC protocol.

The pack (`python -m policies`) is started as a subprocess, prints its port, and is asked for
its policies (GetAnalyzerInfo), configured (Configure, with schema defaults and the stack's
policy config applied the way the CLI applies them), then given every resource (Analyze) and
the whole stack (AnalyzeStack).
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
from google.protobuf import empty_pb2, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

from llmstack.errors import UsageError
from policies.waivers import VALIDITY_POLICY, Waiver, today

_ENFORCEMENT = {
    analyzer_pb2.ADVISORY: "advisory",
    analyzer_pb2.MANDATORY: "mandatory",
    analyzer_pb2.DISABLED: "disabled",
    analyzer_pb2.REMEDIATE: "remediate",
}
_ENFORCEMENT_BY_NAME = {name: level for level, name in _ENFORCEMENT.items()}
_SEVERITY = {
    analyzer_pb2.POLICY_SEVERITY_UNSPECIFIED: "unspecified",
    analyzer_pb2.POLICY_SEVERITY_LOW: "low",
    analyzer_pb2.POLICY_SEVERITY_MEDIUM: "medium",
    analyzer_pb2.POLICY_SEVERITY_HIGH: "high",
    analyzer_pb2.POLICY_SEVERITY_CRITICAL: "critical",
}


@dataclass(frozen=True)
class Violation:
    policy: str
    enforcement: str
    severity: str
    urn: str | None
    message: str

    def to_json(self) -> dict[str, Any]:
        return {
            "policy": self.policy,
            "enforcement": self.enforcement,
            "severity": self.severity,
            "urn": self.urn,
            "message": self.message,
        }


@dataclass(frozen=True)
class PolicyVerdict:
    pack: str
    version: str
    policies: list[dict[str, Any]]
    config: dict[str, Any]
    violations: list[Violation]
    waived: list[dict[str, Any]] = field(default_factory=list)
    """The waivers in force that waived a violation (policies/waivers.yaml), for the report."""

    @property
    def mandatory(self) -> list[Violation]:
        return [v for v in self.violations if v.enforcement == "mandatory"]

    def to_json(self) -> dict[str, Any]:
        """plan.json's `policy` section."""
        return {
            "pack": self.pack,
            "version": self.version,
            "config": self.config,
            "policies": self.policies,
            "violations": [v.to_json() for v in self.violations],
            "waived": self.waived,
        }


def waived_entries(
    config: Mapping[str, Any], violations: Sequence[Violation], resources: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """The waivers the pack was given that policy-waivers-valid found in force and matched.

    That policy names each waiver it rejects by its source (`waiver policies/waivers.yaml:12 ...`);
    every other waiver of the config waived each violation it lists (`violations`, the exact
    messages) on its resource. With that policy disabled
    (only an explicit --policy-config can), every unexpired waiver is listed: the guard applied it.
    """
    audit = config.get(VALIDITY_POLICY) or {}
    rejected = [v.message for v in violations if v.policy == VALIDITY_POLICY]
    day = today()
    entries = []
    for raw in audit.get("waivers") or []:
        try:
            waiver = Waiver.from_config(raw)
        except (ValueError, TypeError):
            continue
        if waiver.expired(day) or any(message.startswith(f"waiver {waiver.source} ") for message in rejected):
            continue
        urn = next((r["urn"] for r in resources if waiver.names(r["urn"])), None)
        entries.append(
            {
                "policy": waiver.policy,
                "urn": urn,
                "resource": waiver.resource,
                "violations": list(waiver.violations),
                "reason": waiver.reason,
                "owner": waiver.owner,
                "expires": waiver.expires.isoformat(),
                "source": waiver.source,
            }
        )
    return entries


def _struct(value: Mapping[str, Any]) -> struct_pb2.Struct:
    message = struct_pb2.Struct()
    message.update(dict(value))
    return message


PROJECT_DIR = Path(__file__).resolve().parents[1]


class PolicyPackProcess:
    """The policy pack as a running Analyzer plugin.

    The process starts at construction and is connected on first use, so a caller can start it
    before other work (the pack's imports then overlap the program run).
    """

    def __init__(self, project: str, stack: str, pack_module: str = "policies"):
        env = {
            **os.environ,
            "PULUMI_PROJECT": project,
            "PULUMI_STACK": stack,
            "PULUMI_DRY_RUN": "true",
            "PULUMI_CONFIG": "{}",
        }
        self._pack_module = pack_module
        self._process = subprocess.Popen(
            [sys.executable, "-u", "-m", pack_module],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            # `-m` puts the working directory first on sys.path: from stacks/, its platform.py would
            # shadow the standard library's. The project root is where the pack's package lives.
            cwd=PROJECT_DIR,
        )
        self._channel: grpc.Channel | None = None
        self._stub: analyzer_pb2_grpc.AnalyzerStub | None = None

    @property
    def stub(self) -> analyzer_pb2_grpc.AnalyzerStub:
        if self._stub is None:
            assert self._process.stdout is not None
            line = self._process.stdout.readline().decode().strip()
            if not line.isdigit():
                stderr = self._process.stderr.read().decode() if self._process.stderr else ""
                self.close()
                last = stderr.strip().splitlines()[-1] if stderr.strip() else "no port printed"
                raise UsageError(f"policy pack '{self._pack_module}' failed to start: {last}")
            self._channel = grpc.insecure_channel(
                f"127.0.0.1:{line}", options=[("grpc.max_receive_message_length", 400 * 1024 * 1024)]
            )
            self._stub = analyzer_pb2_grpc.AnalyzerStub(self._channel)
        return self._stub

    def close(self) -> None:
        if self._channel is not None:
            self._channel.close()
        self._process.kill()
        self._process.wait()
        for stream in (self._process.stdout, self._process.stderr):
            if stream:
                stream.close()

    def __enter__(self) -> PolicyPackProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def effective_config(info: analyzer_pb2.AnalyzerInfo, user_config: Mapping[str, Any]) -> dict[str, Any]:
    """Per policy: enforcement level and properties, as the CLI computes them.

    Start from each policy's declared level and its schema defaults, overlay the user's config
    (a level string or an object with `enforcementLevel` and properties), then check required
    properties. The result is also what `--policy-pack-config` would hold.
    """
    known = {policy.name for policy in info.policies}
    _check_waived_policies(user_config, known)
    for name in user_config:
        if name not in known and name != "all":
            raise UsageError(f"policy config: unknown policy '{name}'; policies: {', '.join(sorted(known))}")
    result: dict[str, Any] = {}
    for policy in info.policies:
        schema = json.loads(json.dumps(_message_dict(policy.configSchema.properties)))
        properties = {key: spec["default"] for key, spec in schema.items() if "default" in spec}
        level = _ENFORCEMENT[policy.enforcementLevel]
        for override in (user_config.get("all"), user_config.get(policy.name)):
            if isinstance(override, str):
                level = _check_level(policy.name, override)
            elif isinstance(override, Mapping):
                level = _check_level(policy.name, override.get("enforcementLevel", level))
                properties.update({k: v for k, v in override.items() if k != "enforcementLevel"})
        missing = [key for key in policy.configSchema.required if key not in properties]
        if missing and level != "disabled":
            raise UsageError(f"policy config: '{policy.name}' requires {', '.join(missing)}")
        result[policy.name] = {"enforcementLevel": level, **properties}
    return result


def _check_waived_policies(user_config: Mapping[str, Any], known: set[str]) -> None:
    """A waiver of a policy the pack does not have is an error of the waivers file (file:line)."""
    audit = user_config.get(VALIDITY_POLICY)
    for waiver in (audit.get("waivers") or []) if isinstance(audit, Mapping) else []:
        if isinstance(waiver, Mapping) and waiver.get("policy") not in known:
            where = waiver.get("source") or "policy config"
            raise UsageError(f"{where}: policy: no policy '{waiver.get('policy')}' in the pack")


def _check_level(policy: str, level: Any) -> str:
    if level not in _ENFORCEMENT_BY_NAME:
        raise UsageError(f"policy config: '{policy}'.enforcementLevel must be one of: advisory, mandatory, disabled")
    return str(level)


def _message_dict(struct: struct_pb2.Struct) -> dict[str, Any]:
    from google.protobuf import json_format

    return json_format.MessageToDict(struct)


def _configure(stub: analyzer_pb2_grpc.AnalyzerStub, config: Mapping[str, Any]) -> None:
    request = analyzer_pb2.ConfigureAnalyzerRequest()
    for name, value in config.items():
        properties = {k: v for k, v in value.items() if k != "enforcementLevel"}
        request.policyConfig[name].CopyFrom(
            analyzer_pb2.PolicyConfig(
                enforcementLevel=_ENFORCEMENT_BY_NAME[value["enforcementLevel"]], properties=_struct(properties)
            )
        )
    stub.Configure(request)


def _provider_message(resource: Mapping[str, Any], by_urn: Mapping[str, Mapping[str, Any]]):
    provider = by_urn.get(resource.get("provider") or "")
    if provider is None:
        return None
    return analyzer_pb2.AnalyzerProviderResource(
        type=provider["type"], properties=_struct(provider["inputs"]), urn=provider["urn"], name=provider["name"]
    )


def _options(resource: Mapping[str, Any]) -> analyzer_pb2.AnalyzerResourceOptions:
    return analyzer_pb2.AnalyzerResourceOptions(
        protect=bool(resource.get("protect")), parent=resource.get("parent") or ""
    )


def _diagnostics(response: analyzer_pb2.AnalyzeResponse, default_urn: str | None) -> list[Violation]:
    violations = []
    for diagnostic in response.diagnostics:
        message = diagnostic.message
        if diagnostic.description and message.startswith(diagnostic.description):
            message = message[len(diagnostic.description) :].strip() or diagnostic.description
        violations.append(
            Violation(
                policy=diagnostic.policyName,
                enforcement=_ENFORCEMENT[diagnostic.enforcementLevel],
                severity=_SEVERITY.get(diagnostic.severity, "unspecified"),
                urn=diagnostic.urn or default_urn,
                message=message,
            )
        )
    return violations


# plan.json resources by URN (a resource's provider is looked up here).
ByUrn = Mapping[str, Mapping[str, Any]]


def _resource_fields(resource: Mapping[str, Any], by_urn: ByUrn) -> dict[str, Any]:
    """What the engine tells the pack of a resource in both Analyze and AnalyzeStack."""
    return {
        "type": resource["type"],
        "properties": _struct(resource["inputs"]),
        "urn": resource["urn"],
        "name": resource["name"],
        "options": _options(resource),
        "provider": _provider_message(resource, by_urn),
    }


def analyze_request(resource: Mapping[str, Any], by_urn: ByUrn) -> analyzer_pb2.AnalyzeRequest:
    """The engine's Analyze call for one plan.json resource (its provider must be in `by_urn`)."""
    return analyzer_pb2.AnalyzeRequest(**_resource_fields(resource, by_urn))


def stack_request(resources: Sequence[Mapping[str, Any]], by_urn: ByUrn) -> analyzer_pb2.AnalyzeStackRequest:
    """The engine's AnalyzeStack call: every resource with its parent and dependencies."""
    return analyzer_pb2.AnalyzeStackRequest(
        resources=[
            analyzer_pb2.AnalyzerResource(
                **_resource_fields(r, by_urn),
                parent=r.get("parent") or "",
                dependencies=r.get("dependencies") or [],
                propertyDependencies={
                    key: analyzer_pb2.AnalyzerPropertyDependencies(urns=urns)
                    for key, urns in (r.get("property_dependencies") or {}).items()
                },
            )
            for r in resources
        ]
    )


_END = object()


def _answered(call: Any, subject: str) -> analyzer_pb2.AnalyzeResponse:
    """An Analyze/AnalyzeStack answer; a call the pack failed is bad input (one line, exit 2).

    Policies never raise (policies/guard.py turns an exception into a violation), so a failed call
    means the pack could not read what it was sent, e.g. a malformed asset or secret in the inputs.
    """
    try:
        return call()
    except grpc.RpcError as exc:
        raise _pack_failed(exc, subject) from None


def _pack_failed(exc: grpc.RpcError, subject: str) -> UsageError:
    details = (exc.details() if isinstance(exc, grpc.Call) else str(exc)) or ""
    last = details.strip().splitlines()[-1] if details.strip() else "no details"
    return UsageError(f"policy pack could not analyse {subject}: {last}")


class PolicySession:
    """One evaluation of the pack over a stack, fed as the program registers resources.

    Like the engine, it analyses each resource when it arrives (`submit`) and the whole stack
    once all are in (`finish`). A worker thread connects to the pack, configures it and sends
    each Analyze call without waiting for the answer, so the pack (another process, another
    core) works while the program still runs; `finish` gathers the answers.
    """

    def __init__(
        self,
        pack: PolicyPackProcess,
        *,
        project: str,
        stack: str,
        user_config: Mapping[str, Any],
        answered: dict[bytes, Any] | None = None,
    ):
        self._pack = pack
        # Answers of earlier sessions with the same config, by request: an identical Analyze
        # request gets the identical answer (the policies are functions of it and the config).
        self._answered = answered
        self._project = project
        self._stack = stack
        self._user_config = user_config
        self._queue: queue.Queue[Any] = queue.Queue()
        self._by_urn: dict[str, Mapping[str, Any]] = {}
        self._answers: dict[str, Any] = {}  # urn -> grpc future of its AnalyzeResponse
        self._info: analyzer_pb2.AnalyzerInfo | None = None
        self._config: dict[str, Any] = {}
        self._error: BaseException | None = None
        self._worker = threading.Thread(target=self._work, name="policy-session", daemon=True)
        self._worker.start()

    def submit(self, resource: Mapping[str, Any]) -> None:
        """Analyze one plan.json resource (its provider must have been submitted before it)."""
        self._queue.put(resource)

    def close(self) -> None:
        """Stop taking resources (the program failed, or every resource is in)."""
        if self._worker.is_alive():
            self._queue.put(_END)
            self._worker.join()

    def finish(self, resources: Sequence[Mapping[str, Any]]) -> PolicyVerdict:
        """Wait for every resource's answer, analyse the stack, and return the verdict."""
        self.close()
        if isinstance(self._error, grpc.RpcError):
            raise _pack_failed(self._error, "its configuration") from None
        if self._error is not None:
            raise self._error
        assert self._info is not None
        stub = self._pack.stub
        by_urn = {r["urn"]: r for r in resources}
        stack_answer = stub.AnalyzeStack.future(stack_request(resources, by_urn))
        violations = [
            v
            for r in resources
            for v in _diagnostics(_answered(lambda r=r: self._answer(r, by_urn), f"resource {r['urn']}"), r["urn"])
        ]
        violations += _diagnostics(_answered(stack_answer.result, "the stack"), None)
        return PolicyVerdict(
            pack=self._info.name,
            version=self._info.version,
            policies=[
                {
                    "name": p.name,
                    "description": p.description,
                    "enforcement": self._config[p.name]["enforcementLevel"],
                    "severity": _SEVERITY.get(p.severity, "unspecified"),
                }
                for p in self._info.policies
            ],
            config=self._config,
            violations=violations,
            waived=waived_entries(self._config, violations, resources),
        )

    def _answer(self, resource: Mapping[str, Any], by_urn: ByUrn) -> analyzer_pb2.AnalyzeResponse:
        answer = self._answers.get(resource["urn"])
        if answer is None:  # not submitted before finish()
            return self._pack.stub.Analyze(analyze_request(resource, by_urn))
        return answer.result()

    def _work(self) -> None:
        try:
            stub = self._connect()
        except BaseException as exc:  # handed to finish(), which raises it on the caller's thread
            self._error, stub = exc, None
        while (resource := self._queue.get()) is not _END:
            self._by_urn[resource["urn"]] = resource
            if stub is not None:
                self._answers[resource["urn"]] = self._analyze(stub, analyze_request(resource, self._by_urn))

    def _analyze(self, stub: analyzer_pb2_grpc.AnalyzerStub, request: analyzer_pb2.AnalyzeRequest) -> Any:
        if self._answered is None:
            return stub.Analyze.future(request)
        key = request.SerializeToString(deterministic=True)
        if key not in self._answered:
            self._answered[key] = stub.Analyze.future(request)
        return self._answered[key]

    def _connect(self) -> analyzer_pb2_grpc.AnalyzerStub:
        """Wait for the pack, then configure it as the engine does before the first resource."""
        stub = self._pack.stub
        info = stub.GetAnalyzerInfo(empty_pb2.Empty())
        self._config = effective_config(info, self._user_config)
        _configure(stub, self._config)
        stub.ConfigureStack(analyzer_pb2.AnalyzerStackConfigureRequest(stack=self._stack, project=self._project))
        self._info = info
        return stub


class PlanEvaluator:
    """One pack process that evaluates saved plans of one stack, one after another.

    Each `evaluate` is a fresh PolicySession (configure, Analyze every resource, AnalyzeStack),
    exactly what `llmstack check` does, without starting the pack again: for callers that check
    many variants of a plan (tests/mutation). A resource whose Analyze request is byte for byte
    one already answered (same inputs, options and provider) reuses that answer; AnalyzeStack
    always runs.
    """

    def __init__(self, *, project: str, stack: str, user_config: Mapping[str, Any], pack_module: str = "policies"):
        self._project = project
        self._stack = stack
        self._user_config = user_config
        self._pack = PolicyPackProcess(project, stack, pack_module)
        self._answered: dict[bytes, Any] = {}

    def evaluate(self, resources: Sequence[Mapping[str, Any]]) -> PolicyVerdict:
        session = PolicySession(
            self._pack,
            project=self._project,
            stack=self._stack,
            user_config=self._user_config,
            answered=self._answered,
        )
        providers_first = sorted(resources, key=lambda r: not r["type"].startswith("pulumi:providers:"))
        for resource in providers_first:
            session.submit(resource)
        return session.finish(resources)

    def close(self) -> None:
        self._pack.close()

    def __enter__(self) -> PlanEvaluator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def evaluate(
    resources: Sequence[Mapping[str, Any]],
    *,
    project: str,
    stack: str,
    user_config: Mapping[str, Any],
    pack_module: str = "policies",
) -> PolicyVerdict:
    """Run a new pack over plan.json-shaped resources (a saved plan); return its verdict."""
    with PlanEvaluator(project=project, stack=stack, user_config=user_config, pack_module=pack_module) as evaluator:
        return evaluator.evaluate(resources)
