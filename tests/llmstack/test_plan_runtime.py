"""How `llmstack plan` runs: the pack hears of each resource while the program runs; the collector waits."""

from __future__ import annotations

import gc
import weakref

import pytest
from conftest import ROOT

from llmstack import analyzer
from llmstack.errors import UsageError
from llmstack.offline import run_program
from llmstack.plan import cyclic_gc_paused
from llmstack.policy_config import stack_policy_config
from llmstack.stackfile import load_stack


class _Cycle:
    def __init__(self) -> None:
        self.me = self


def test_the_collector_waits_during_a_plan_and_then_collects_what_it_left():
    assert gc.isenabled()
    with cyclic_gc_paused():
        assert not gc.isenabled()
        left = weakref.ref(_Cycle())
        assert left() is not None  # a cycle: reference counting alone keeps it
    assert gc.isenabled()
    assert gc.get_count()[0] < gc.get_threshold()[0]  # resuming does not start with a collection of everything
    gc.collect()
    assert left() is None  # not frozen for good: the next full collection frees it


def test_the_collector_stays_off_when_it_was_off():
    gc.disable()
    try:
        with cyclic_gc_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_on_resource_hears_each_resource_as_registered_providers_first():
    stackfile = load_stack("dev", None, ROOT)
    heard = []
    run = run_program(
        stackfile.config,
        stack="dev",
        secret_keys=list(stackfile.secret_keys),
        on_resource=lambda recorded: heard.append((recorded.urn, recorded.provider)),
    )
    assert sorted(urn for urn, _ in heard) == [r.urn for r in run.resources]
    position = {urn: index for index, (urn, _) in enumerate(heard)}
    assert all(position[provider] < position[urn] for urn, provider in heard if provider)


def _session(user_config):
    pack = analyzer.PolicyPackProcess("llm-serving", "dev")
    return pack, analyzer.PolicySession(pack, project="llm-serving", stack="dev", user_config=user_config)


def test_a_session_fed_while_the_program_runs_gives_the_saved_plans_verdict():
    stackfile = load_stack("dev", None, ROOT)
    user_config = {
        **stack_policy_config(stackfile),
        "aws-kms-key-rotation-enabled": "advisory",
        "cost-estimate-within-budget": {"enforcementLevel": "mandatory", "monthlyBudgetUsd": 1},
    }
    pack, session = _session(user_config)
    try:
        run = run_program(
            stackfile.config,
            stack="dev",
            secret_keys=list(stackfile.secret_keys),
            on_resource=lambda recorded: session.submit(recorded.to_json()),
        )
        resources = [r.to_json() for r in run.resources]
        key = next(r for r in resources if r["type"] == "aws:kms/key:Key")
        fed = session.finish(resources)
    finally:
        pack.close()
    saved = analyzer.evaluate(resources, project="llm-serving", stack="dev", user_config=user_config)
    assert fed == saved
    assert [v.policy for v in fed.violations] == ["cost-estimate-within-budget"]
    assert fed.violations[0].enforcement == "mandatory"
    assert key["inputs"]["enableKeyRotation"] is True


def test_a_bad_policy_config_is_reported_by_finish_as_a_usage_error():
    pack, session = _session({"no-such-policy": "mandatory"})
    try:
        session.submit({"urn": "urn:x", "type": "random:index/randomId:RandomId", "name": "x", "inputs": {}})
        with pytest.raises(UsageError, match=r"^policy config: unknown policy 'no-such-policy'; policies: "):
            session.finish([])
    finally:
        pack.close()


def test_closing_a_session_whose_program_failed_stops_its_worker():
    pack, session = _session({})
    try:
        session.close()
        assert not session._worker.is_alive()
        session.close()  # closing twice is harmless
    finally:
        pack.close()


def test_a_plan_evaluator_reused_across_plans_gives_each_plan_a_fresh_packs_verdict():
    stackfile = load_stack("dev", None, ROOT)
    run = run_program(stackfile.config, stack="dev", secret_keys=list(stackfile.secret_keys))
    resources = [r.to_json() for r in run.resources]
    user_config = stack_policy_config(stackfile)
    broken = [
        {**r, "inputs": {**r["inputs"], "enableKeyRotation": False}} if r["type"] == "aws:kms/key:Key" else r
        for r in resources
    ]
    with analyzer.PlanEvaluator(project="llm-serving", stack="dev", user_config=user_config) as evaluator:
        verdicts = [evaluator.evaluate(resources), evaluator.evaluate(broken), evaluator.evaluate(resources)]
    fresh = analyzer.evaluate(broken, project="llm-serving", stack="dev", user_config=user_config)
    assert verdicts[1] == fresh
    assert {v.policy for v in fresh.mandatory} == {"aws-kms-key-rotation-enabled"}
    assert verdicts[0] == verdicts[2]
    assert verdicts[0].violations == []
