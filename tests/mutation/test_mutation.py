"""The mutation test as pytest runs it: `pytest -m mutation` (left out of `make test`: minutes, not seconds).

`make mutation` (CI) runs the same harness as `python -m tests.mutation`, which prints the kill
rate per stack and each survivor; this form fails on the same conditions.

Plans prod and dev fresh from the program, requires both to pass unmutated, then every catalogue
entry to apply and to be killed, and every mandatory policy to be made to fire by some mutant.
A sample is replayed through real `llmstack check` subprocesses: same exit codes as in-process.
"""

from __future__ import annotations

import pytest

from tests.mutation import harness
from tests.mutation.catalogue import CATALOGUE

pytestmark = pytest.mark.mutation


@pytest.fixture(scope="module", params=["prod", "dev"])
def stack_run(request):
    document = harness.fresh_plan(request.param)
    return document, harness.run_stack(request.param, document, CATALOGUE)


def test_every_mutant_is_killed(stack_run):
    _, report = stack_run
    assert [f"{o.mutation.id}: {o.error}" for o in report.errors] == []
    assert [f"{o.mutation.id} ({o.mutation.cls}): {o.reason}" for o in report.survivors] == []


def test_every_mandatory_policy_is_made_to_fire(stack_run):
    _, report = stack_run
    assert report.unkilled_mandatory_policies() == []


def test_llmstack_check_agrees_with_the_in_process_verdicts(stack_run):
    document, report = stack_run
    rows = harness.equivalence_sample(report.stack, document, report, size=3)
    assert rows[0] == ("unmutated", 0, 0)
    assert [expected for _, expected, _ in rows[1:]] == [actual for _, _, actual in rows[1:]]
