"""The pack's server reads each resource once per request and gives the verdicts pulumi_policy's own gives."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import run_stack
from pulumi_policy import (
    EnforcementLevel,
    ResourceValidationPolicy,
    StackValidationPolicy,
)
from pulumi_policy.policy import _PolicyAnalyzerServicer as StockServicer  # the class before install()

from llmstack import analyzer
from llmstack.offline import UNKNOWN_PLACEHOLDER
from llmstack.policy_config import policy_config_for
from llmstack.stackfile import load_stack
from policies import server
from policies.registry import ALL_POLICIES, PACK_NAME

# The engine's marker for a value not known until apply (pulumi_policy raises on reading it).
UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"


class _Stub:
    """Calls a servicer in-process the way analyzer._configure calls the gRPC stub."""

    def __init__(self, servicer):
        self._servicer = servicer

    def Configure(self, request):  # noqa: N802 - gRPC method name
        return self._servicer.Configure(request, None)


def configured(servicer_class, policies, user_config=None):
    servicer = servicer_class(PACK_NAME, "0.0.1", policies, EnforcementLevel.MANDATORY)
    config = analyzer.effective_config(servicer.GetAnalyzerInfo(None, None), user_config or {})
    analyzer._configure(_Stub(servicer), config)  # pyright: ignore[reportArgumentType]
    return servicer


def _with_raw_unknowns(value: Any) -> Any:
    """plan.json shows unknowns as a placeholder; the engine sends its sentinel."""
    if isinstance(value, dict):
        return {k: _with_raw_unknowns(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_with_raw_unknowns(v) for v in value]
    return UNKNOWN if value == UNKNOWN_PLACEHOLDER else value


@pytest.fixture(scope="module")
def violating_prod_resources() -> list[dict[str, Any]]:
    """The prod plan with a resource violation, a stack violation and an unknown value."""
    resources = [r.to_json() for r in run_stack("prod").resources]
    key = next(r for r in resources if r["type"] == "aws:kms/key:Key")
    key["inputs"]["enableKeyRotation"] = False
    versioning = next(r for r in resources if r["type"] == "aws:s3/bucketVersioning:BucketVersioning")
    resources.remove(versioning)
    cluster = next(r for r in resources if r["type"] == "aws:eks/cluster:Cluster")
    cluster["inputs"]["vpcConfig"]["endpointPublicAccess"] = UNKNOWN_PLACEHOLDER
    return [_with_raw_unknowns(r) for r in resources]


def test_install_makes_the_pack_serve_with_the_read_once_servicer():
    server.install()
    server.install()  # idempotent: the entry point may be imported twice in one process
    from pulumi_policy import policy as pulumi_policy_server

    assert pulumi_policy_server._PolicyAnalyzerServicer is server.ReadOnceServicer
    assert server.ReadOnceServicer.__mro__[1] is StockServicer


def test_verdicts_equal_pulumi_policys_own_server(violating_prod_resources):
    server.install()
    user_config = policy_config_for(load_stack("prod", None).platform)
    stock = configured(StockServicer, ALL_POLICIES, user_config)
    read_once = configured(server.ReadOnceServicer, ALL_POLICIES, user_config)
    by_urn = {r["urn"]: r for r in violating_prod_resources}

    seen: set[str] = set()
    for resource in violating_prod_resources:
        request = analyzer.analyze_request(resource, by_urn)
        expected = stock.Analyze(request, None)
        assert read_once.Analyze(request, None) == expected, resource["urn"]
        seen.update(d.policyName for d in expected.diagnostics)
    stack = analyzer.stack_request(violating_prod_resources, by_urn)
    expected_stack = stock.AnalyzeStack(stack, None)
    assert read_once.AnalyzeStack(stack, None) == expected_stack
    seen.update(d.policyName for d in expected_stack.diagnostics)

    # The comparison covered a violation, a stack violation and a value unknown during preview.
    assert {
        "aws-kms-key-rotation-enabled",
        "aws-s3-bucket-versioning-enabled",
        "aws-eks-cluster-disallow-public-endpoint",
    } <= seen
    unknown = [
        d
        for r in violating_prod_resources
        for d in read_once.Analyze(analyzer.analyze_request(r, by_urn), None).diagnostics
        if "during preview" in d.message
    ]
    assert [d.policyName for d in unknown] == ["aws-eks-cluster-disallow-public-endpoint"]


def _recording_policies(seen: list[tuple[str, int, int | None]]):
    def record(kind: str):
        def validate(args, report_violation):
            if kind == "stack":
                for resource in args.resources:
                    seen.append((kind, id(resource.props), id(resource.provider)))
            else:
                seen.append((kind, id(args.props), id(args.provider)))

        return validate

    return [
        ResourceValidationPolicy(name="first-reader", description="reads every resource", validate=record("a")),
        ResourceValidationPolicy(name="second-reader", description="reads every resource", validate=record("a")),
        StackValidationPolicy(name="stack-reader-1", description="reads the stack", validate=record("stack")),
        StackValidationPolicy(name="stack-reader-2", description="reads the stack", validate=record("stack")),
    ]


def _one_resource_requests():
    provider = {"urn": "urn:p", "type": "pulumi:providers:aws", "name": "aws", "inputs": {"region": "us-east-1"}}
    key = {"urn": "urn:k", "type": "aws:kms/key:Key", "name": "k", "provider": "urn:p", "inputs": {"a": {"b": [1]}}}
    by_urn = {"urn:p": provider, "urn:k": key}
    return analyzer.analyze_request(key, by_urn), analyzer.stack_request([key], by_urn)


def test_every_policy_of_a_request_reads_the_same_view_of_a_resource():
    seen: list[tuple[str, int, int | None]] = []
    servicer = configured(server.ReadOnceServicer, _recording_policies(seen))
    analyze, stack = _one_resource_requests()
    servicer.Analyze(analyze, None)
    servicer.AnalyzeStack(stack, None)
    (first, second, stack_1, stack_2) = seen
    assert first == second
    assert stack_1 == stack_2
    assert server._request.memo is None  # nothing is kept between requests


def test_pulumi_policys_own_server_reads_it_once_per_policy():
    # What the read-once server saves: without it, each policy gets its own copy.
    seen: list[tuple[str, int, int | None]] = []
    servicer = configured(StockServicer, _recording_policies(seen))
    analyze, stack = _one_resource_requests()
    servicer.Analyze(analyze, None)
    servicer.AnalyzeStack(stack, None)
    (first, second, stack_1, stack_2) = seen
    assert first[1] != second[1] and first[2] != second[2]
    assert stack_1[1] != stack_2[1]


def test_runtime_settings_are_read_on_the_first_request_only(monkeypatch):
    calls = []
    monkeypatch.setattr(StockServicer, "_configure_runtime_settings", lambda self: calls.append(type(self)))
    analyze, stack = _one_resource_requests()
    for servicer_class in (server.ReadOnceServicer, StockServicer):
        servicer = configured(servicer_class, _recording_policies([]))
        servicer.Analyze(analyze, None)
        servicer.Analyze(analyze, None)
        servicer.AnalyzeStack(stack, None)
    assert calls == [server.ReadOnceServicer, StockServicer, StockServicer, StockServicer]


def test_stack_policies_share_one_set_of_linked_resources():
    # The stock server builds and links every resource again for each stack policy; this one once.
    shared: list[list[int]] = []

    def record(args, report_violation):
        shared.append([id(r) for r in args.resources] + [id(r.parent) for r in args.resources])

    policies = [
        StackValidationPolicy(name=f"stack-reader-{n}", description="reads the stack", validate=record) for n in (1, 2)
    ]
    analyze, stack = _one_resource_requests()
    configured(server.ReadOnceServicer, policies).AnalyzeStack(stack, None)
    assert len(shared) == 2 and shared[0] == shared[1]
    shared.clear()
    configured(StockServicer, policies).AnalyzeStack(stack, None)
    assert len(shared) == 2 and shared[0][0] != shared[1][0]
