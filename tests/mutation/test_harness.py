"""The harness end to end on a two-resource plan, with the real pack (seconds, so in `make test`)."""

from __future__ import annotations

import pytest

from tests.mutation import harness
from tests.mutation.catalogue import one
from tests.mutation.ops import Option, Set, where

RANDOM_ID = "random:index/randomId:RandomId"
PROVIDER = "urn:pulumi:dev::llm-serving::pulumi:pulumi:Stack$pulumi:providers:random::random"


def _plan(provider: str = PROVIDER) -> dict:
    return {
        "project": "llm-serving",
        "stack": "dev",
        "resources": [
            {"urn": PROVIDER, "type": "pulumi:providers:random", "name": "random", "inputs": {}},
            {
                "urn": "urn:pulumi:dev::llm-serving::random:index/randomId:RandomId::suffix",
                "type": RANDOM_ID,
                "name": "suffix",
                "provider": provider,
                "inputs": {"byteLength": 4},
            },
        ],
    }


def _config() -> dict:
    """dev's pack config, less what a two-resource plan cannot meet: the stack's AWS Budget, its cost
    anomaly alerts and its waivers (which name controller objects this plan does not have)."""
    config = harness.stack_config("dev")
    for absent in ("aws-budgets-monthly-cost-budget", "cost-anomaly-alerts-configured"):
        config[absent] = {**config[absent], "enforcementLevel": "advisory"}
    return {name: {**c, "waivers": []} if isinstance(c, dict) and "waivers" in c else c for name, c in config.items()}


def test_a_mutant_is_killed_by_the_pack_or_survives_with_the_reason():
    killed = one("no-provider", "c", "the id loses its provider", where(RANDOM_ID), Option("provider", ""))
    harmless = one("longer", "c", "the id gets longer", where(RANDOM_ID), Set("byteLength", 8))
    broken = one("no-match", "c", "nothing to mutate", where("aws:budgets/budget:Budget"), Set("x", 1))
    report = harness.run_stack("dev", _plan(), [killed, harmless, broken], config=_config())
    outcomes = {o.mutation.id: o for o in report.outcomes}
    assert (outcomes["no-provider"].killed, outcomes["no-provider"].killers) == (
        True,
        ["all-resources-explicit-provider"],
    )
    assert (outcomes["longer"].killed, outcomes["longer"].reason) == (False, "no mandatory violation")
    assert outcomes["no-match"].error is not None and outcomes["no-match"].error.startswith("nothing matches")
    assert [o.mutation.id for o in report.survivors] == ["longer"]
    text = harness.format_report(report)
    assert text.splitlines()[0].startswith("dev: killed 1/2 (50.0 %) in ")
    assert "    SURVIVED longer: the id gets longer (no mandatory violation)" in text
    assert "  CATALOGUE ERROR no-match: nothing matches " in text


def test_an_unmutated_plan_that_already_fails_is_refused():
    with pytest.raises(harness.BaselineFails, match=r"^dev: the unmutated plan already fails \(1 mandatory"):
        harness.run_stack("dev", _plan(provider=""), [], config=_config())
