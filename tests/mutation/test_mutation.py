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


STACKS = ("prod", "dev")
_runs: dict[str, tuple[dict, harness.StackReport]] = {}


def _run(stack: str) -> tuple[dict, harness.StackReport]:
    """The stack's fresh plan and its harness report, computed once per session."""
    if stack not in _runs:
        document = harness.fresh_plan(stack)
        _runs[stack] = (document, harness.run_stack(stack, document, CATALOGUE))
    return _runs[stack]


@pytest.mark.parametrize("stack", STACKS)
def test_every_mutant_is_killed(stack):
    _, report = _run(stack)
    if report.errors or report.survivors:
        pytest.fail(harness.format_report(report), pytrace=False)


def test_every_mandatory_policy_is_made_to_fire_in_some_stack():
    assert harness.unfired_policies([_run(stack)[1] for stack in STACKS]) == []


@pytest.mark.parametrize("stack", STACKS)
def test_llmstack_check_agrees_with_the_in_process_verdicts(stack):
    document, report = _run(stack)
    rows = harness.equivalence_sample(stack, document, report, size=3)
    assert rows[0] == ("unmutated", 0, 0)
    assert [expected for _, expected, _ in rows[1:]] == [actual for _, _, actual in rows[1:]]
