"""Run the Pulumi program offline, under the SDK's mock engine, and record what it declares.

This is how `llmstack plan` sees a stack without the Pulumi CLI or cloud credentials: the real
program (`stacks.platform.deploy`) runs against a `RecordingMonitor`, which answers every
resource registration the way a deployment would (ids, ARNs, names) and keeps the request.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pulumi
from google.protobuf import json_format
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import resource as pulumi_resource
from pulumi.runtime import settings as pulumi_settings
from pulumi.runtime.proto import source_pb2
from pulumi.runtime.stack import wait_for_rpcs
from pulumi.runtime.sync_await import _sync_await

from llmstack import mock_ids

# The fixed identity the offline plan pretends to deploy into.
ACCOUNT_ID = "123456789012"
PARTITION = "aws"
SECRET_PLACEHOLDER = "[secret]"
UNKNOWN_PLACEHOLDER = "[unknown]"

# Signature keys of the Pulumi property wire format (sdk/go/common/resource/sig).
_SIG = "4dabf18193072939515e22adb298388d"
_SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"
_RESOURCE_SIG = "5cf8f73096256a8f31e491e813e4eb8e"
_ASSET_SIG = "c44067f5952c0a294b673a41bacd8c17"
_ARCHIVE_SIG = "0def7320c3a5731c473e5ecbe6d01bc7"
_UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"


@dataclass
class RecordedResource:
    """One RegisterResourceRequest, as plan.json stores it."""

    urn: str
    type: str
    name: str
    parent: str | None
    provider: str | None
    protect: bool
    retain_on_delete: bool
    dependencies: list[str]
    property_dependencies: dict[str, list[str]]
    inputs: dict[str, Any]
    custom: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "urn": self.urn,
            "type": self.type,
            "name": self.name,
            "parent": self.parent,
            "provider": self.provider,
            "protect": self.protect,
            "retain_on_delete": self.retain_on_delete,
            "dependencies": self.dependencies,
            "property_dependencies": self.property_dependencies,
            "inputs": self.inputs,
        }


def wire_to_json(value: Any) -> Any:
    """Turn Pulumi wire-format values into plain JSON, masking secrets and unknowns."""
    if isinstance(value, dict):
        sig = value.get(_SIG)
        if sig == _SECRET_SIG:
            return SECRET_PLACEHOLDER
        if sig == _RESOURCE_SIG:
            return value.get("urn")
        if sig in (_ASSET_SIG, _ARCHIVE_SIG):
            return {k: v for k, v in value.items() if k != _SIG}
        return {k: wire_to_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [wire_to_json(v) for v in value]
    if value == _UNKNOWN:
        return UNKNOWN_PLACEHOLDER
    if isinstance(value, float) and value.is_integer():
        return int(value)  # protobuf Struct carries every number as a double
    return value


def provider_urn(ref: str) -> str | None:
    """A provider reference is `<urn>::<id>`; plan.json keeps the URN."""
    return ref.rsplit("::", 1)[0] if ref else None


class RecordingMonitor(pulumi_mocks.MockMonitor):
    """A MockMonitor that keeps every registration request, in order, and tells `on_resource`."""

    def __init__(self, mocks: pulumi_mocks.Mocks, on_resource: Callable[[RecordedResource], None] | None = None):
        super().__init__(mocks)
        self.recorded: list[RecordedResource] = []
        self._on_resource = on_resource

    def RegisterResource(self, request):  # noqa: N802 - gRPC method name
        response = super().RegisterResource(request)
        if request.type != "pulumi:pulumi:Stack":
            inputs = wire_to_json(json_format.MessageToDict(request.object))
            recorded = RecordedResource(
                urn=response.urn,
                type=request.type,
                name=request.name,
                parent=request.parent or None,
                provider=provider_urn(request.provider),
                protect=bool(request.protect),
                retain_on_delete=bool(request.retainOnDelete),
                dependencies=sorted(set(request.dependencies)),
                property_dependencies={
                    key: sorted(set(deps.urns)) for key, deps in sorted(request.propertyDependencies.items())
                },
                inputs=inputs,
                custom=bool(request.custom),
            )
            self.recorded.append(recorded)
            if self._on_resource is not None:
                self._on_resource(recorded)
        return response


class PlanMocks(pulumi_mocks.Mocks):
    """Answers registrations and invokes with the values a real deployment would return.

    Outputs echo the inputs and add the identifiers components index into (id, arn, name),
    so `apply` chains resolve to realistic strings such as ARNs in IAM policies.
    """

    def __init__(self) -> None:
        self._provider_regions: dict[str, str] = {}
        self._provider_accounts: dict[str, str] = {}

    def new_resource(self, args: pulumi_mocks.MockResourceArgs):
        inputs = dict(args.inputs)
        if args.typ.startswith("pulumi:providers:"):
            resource_id = f"{args.name}-provider-id"
            if "region" in inputs:
                self._provider_regions[resource_id] = inputs["region"]
            account = _allowed_account(inputs.get("allowedAccountIds"))
            if account:
                self._provider_accounts[resource_id] = account
            return resource_id, inputs
        region = self._region_of(args.provider)
        account = self._account_of(args.provider)
        resource_id, computed = f"{args.name}-id", {}
        if args.typ.startswith("aws:"):
            subject = mock_ids.Subject(args.typ, args.name, region, account, PARTITION, inputs)
            found = mock_ids.identify(subject)
            fallback = {"arn": _fake_arn(args.typ, args.name, region, account)}
            resource_id, computed = found if found else (resource_id, fallback)
        state = {"id": resource_id, **inputs}
        if args.typ.startswith("aws:"):
            state.setdefault("name", inputs.get("name", args.name))
            state.update(computed)
        if args.typ.startswith("kubernetes:"):
            metadata = dict(inputs.get("metadata") or {})
            metadata.setdefault("name", args.name)
            state["metadata"] = metadata
        state.update(_type_specific_outputs(args.typ, args.name, region, inputs))
        return resource_id, state

    def call(self, args: pulumi_mocks.MockCallArgs):
        region = self._region_of(args.provider)
        if args.token == "aws:index/getCallerIdentity:getCallerIdentity":
            account = self._account_of(args.provider)
            arn = f"arn:{PARTITION}:iam::{account}:user/offline-plan"
            return {"accountId": account, "arn": arn, "id": account, "userId": "AIDAOFFLINE"}
        if args.token == "aws:index/getPartition:getPartition":
            return {"partition": PARTITION, "dnsSuffix": "amazonaws.com", "id": PARTITION}
        if args.token == "aws:index/getRegion:getRegion":
            return {"name": region, "region": region, "id": region}
        return {}

    def _account_of(self, provider_ref: str | None) -> str:
        """The account a provider is pinned to (`allowedAccountIds`), as AWS would answer; else a placeholder."""
        if not provider_ref:
            return ACCOUNT_ID
        return self._provider_accounts.get(provider_ref.rsplit("::", 1)[-1], ACCOUNT_ID)

    def _region_of(self, provider_ref: str | None) -> str:
        if not provider_ref:
            return "us-east-1"
        return self._provider_regions.get(provider_ref.rsplit("::", 1)[-1], "us-east-1")


def _allowed_account(value: Any) -> str | None:
    """The first of a provider's `allowedAccountIds` (the SDK sends the list as a JSON string)."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return None
    return str(value[0]) if isinstance(value, list) and value else None


def _fake_arn(type_token: str, name: str, region: str, account: str = ACCOUNT_ID) -> str:
    """ARN of an AWS type outside `mock_ids.ROWS` (the plans have none; component tests may)."""
    service = type_token.split(":")[1].split("/")[0]
    if service == "iam":
        return f"arn:{PARTITION}:iam::{account}:role/{name}"
    if service == "s3":
        return f"arn:{PARTITION}:s3:::{name}"
    return f"arn:{PARTITION}:{service}:{region}:{account}:{name}"


def _pem(label: str, name: str) -> str:
    body = base64.b64encode(f"offline {label} {name}".encode()).decode()
    return f"-----BEGIN {label}-----\n{body}\n-----END {label}-----\n"


_TLS_OUTPUTS: dict[str, dict[str, str]] = {
    "tls:index/privateKey:PrivateKey": {"privateKeyPem": _pem("RSA PRIVATE KEY", "key")},
    "tls:index/selfSignedCert:SelfSignedCert": {"certPem": _pem("CERTIFICATE", "ca")},
    "tls:index/certRequest:CertRequest": {"certRequestPem": _pem("CERTIFICATE REQUEST", "csr")},
    "tls:index/locallySignedCert:LocallySignedCert": {"certPem": _pem("CERTIFICATE", "serving")},
}


def _type_specific_outputs(type_token: str, name: str, region: str, inputs: dict) -> dict[str, Any]:
    """Outputs of types outside `mock_ids.ROWS` that components read."""
    if type_token.startswith("tls:"):
        # PEM-shaped placeholders for the TLS provider's computed outputs (keys and certificates
        # are made at deploy time; the plan only needs their shape).
        return _TLS_OUTPUTS.get(type_token, {})
    if type_token == "aws:apigateway/domainName:DomainName":
        return {
            "regionalDomainName": f"d-{name}.execute-api.{region}.amazonaws.com",
            "regionalZoneId": "Z1UJRXOUMOOFQ8",
        }
    if type_token == "aws:acm/certificate:Certificate":
        # One option per name, as ACM returns them; a wildcard is validated at its parent name.
        names = [inputs.get("domainName") or name, *(inputs.get("subjectAlternativeNames") or [])]
        return {
            "domainValidationOptions": [
                {
                    "domainName": domain,
                    "resourceRecordName": f"_x1.{domain.removeprefix('*.')}.",
                    "resourceRecordType": "CNAME",
                    "resourceRecordValue": f"_x2.{name}.acm-validations.aws.",
                }
                for domain in names
            ]
        }
    if type_token.startswith("random:"):
        return {"result": f"{name}-random", "hex": "0f1e2d3c", "id": f"{name}-random"}
    return {}


@dataclass
class ProgramRun:
    resources: list[RecordedResource]
    outputs: dict[str, Any] = field(default_factory=dict)


def _config_wire_value(value: Any) -> str:
    """Pulumi hands structured config to the program as JSON strings."""
    return value if isinstance(value, str) else json.dumps(value)


def run_program(
    config: dict[str, Any],
    *,
    project: str = "llm-serving",
    stack: str,
    secret_keys: list[str] | None = None,
    on_resource: Callable[[RecordedResource], None] | None = None,
) -> ProgramRun:
    """Run `stacks.platform.deploy` under mocks with the given `namespace:key` config.

    `on_resource` hears of each resource as it is registered (before the run ends).
    """
    from stacks import platform

    pulumi_settings.reset_options()
    pulumi.runtime.set_all_config({key: _config_wire_value(value) for key, value in config.items()}, secret_keys or [])
    monitor = RecordingMonitor(PlanMocks(), on_resource)
    pulumi.runtime.set_mocks(monitor.mocks, project=project, stack=stack, preview=False, monitor=monitor)
    # The SDK walks the Python stack on every registration to attribute source positions, which
    # only the Pulumi service shows; offline it is a tenth of the run time for nothing.
    capture_stack_trace = pulumi_resource._get_stack_trace
    pulumi_resource._get_stack_trace = source_pb2.StackTrace
    try:
        exports = platform.deploy()
        resolved = _sync_await(_resolve(exports))
        _sync_await(wait_for_rpcs())
    finally:
        pulumi_resource._get_stack_trace = capture_stack_trace
    # Registration order depends on the event loop's scheduling; URN order is stable for diffs.
    resources = sorted(monitor.recorded, key=lambda r: r.urn)
    return ProgramRun(resources=resources, outputs=wire_to_json(resolved))


async def _resolve(exports: dict[str, Any]) -> dict[str, Any]:
    """Await every exported Output, keeping secrets masked as a deployment's summary would."""
    result: dict[str, Any] = {}
    for key, value in exports.items():
        output = pulumi.Output.from_input(value)
        is_secret = await output.is_secret()
        resolved = await output.future()
        result[key] = SECRET_PLACEHOLDER if is_secret else resolved
    return result
