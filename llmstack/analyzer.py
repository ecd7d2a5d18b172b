"""Evaluate the real policy pack exactly as the Pulumi engine does: over the Analyzer gRPC protocol.

The pack (`python -m policies`) is started as a subprocess, prints its port, and is asked for
its policies (GetAnalyzerInfo), configured (Configure, with schema defaults and the stack's
policy config applied the way the CLI applies them), then given every resource (Analyze) and
the whole stack (AnalyzeStack).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from concurrent import futures
from dataclasses import dataclass
from typing import Any

import grpc
from google.protobuf import empty_pb2, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

from llmstack.errors import UsageError

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

    @property
    def mandatory(self) -> list[Violation]:
        return [v for v in self.violations if v.enforcement == "mandatory"]


def _struct(value: Mapping[str, Any]) -> struct_pb2.Struct:
    message = struct_pb2.Struct()
    message.update(dict(value))
    return message


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


def evaluate(
    resources: Sequence[Mapping[str, Any]],
    *,
    project: str,
    stack: str,
    user_config: Mapping[str, Any],
    pack_module: str = "policies",
    pack: PolicyPackProcess | None = None,
) -> PolicyVerdict:
    """Run the pack (a started one, or a new one) over plan.json-shaped resources; return its verdict."""
    by_urn = {r["urn"]: r for r in resources}
    with pack or PolicyPackProcess(project, stack, pack_module) as pack:
        info = pack.stub.GetAnalyzerInfo(empty_pb2.Empty())
        config = effective_config(info, user_config)
        _configure(pack.stub, config)
        pack.stub.ConfigureStack(analyzer_pb2.AnalyzerStackConfigureRequest(stack=stack, project=project))

        def analyze(resource: Mapping[str, Any]) -> list[Violation]:
            request = analyzer_pb2.AnalyzeRequest(
                type=resource["type"],
                properties=_struct(resource["inputs"]),
                urn=resource["urn"],
                name=resource["name"],
                options=_options(resource),
                provider=_provider_message(resource, by_urn),
            )
            return _diagnostics(pack.stub.Analyze(request), resource["urn"])

        # The pack serves 4 workers; keep them busy while this process serialises requests.
        with futures.ThreadPoolExecutor(max_workers=4) as pool:
            per_resource = list(pool.map(analyze, resources))
        stack_request = analyzer_pb2.AnalyzeStackRequest(
            resources=[
                analyzer_pb2.AnalyzerResource(
                    type=r["type"],
                    properties=_struct(r["inputs"]),
                    urn=r["urn"],
                    name=r["name"],
                    options=_options(r),
                    provider=_provider_message(r, by_urn),
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
        stack_violations = _diagnostics(pack.stub.AnalyzeStack(stack_request), None)
    violations = [v for batch in per_resource for v in batch] + stack_violations
    policies = [
        {
            "name": p.name,
            "description": p.description,
            "enforcement": config[p.name]["enforcementLevel"],
            "severity": _SEVERITY.get(p.severity, "unspecified"),
        }
        for p in info.policies
    ]
    return PolicyVerdict(pack=info.name, version=info.version, policies=policies, config=config, violations=violations)
