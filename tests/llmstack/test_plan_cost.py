"""The cost section of a plan as the report and the policy pack see it."""

from __future__ import annotations

import json

import pytest
from conftest import ROOT

from llmstack.cli import main


@pytest.fixture(autouse=True)
def in_project(monkeypatch):
    monkeypatch.chdir(ROOT)


@pytest.fixture(scope="module")
def prod_plan(tmp_path_factory):
    out = tmp_path_factory.mktemp("prod")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(ROOT)
        assert main(["plan", "--stack", "prod", "--out", str(out)]) == 0
    return out


def test_the_pack_prices_the_replicas_a_scaler_keeps_like_the_plan(prod_plan, tmp_path, capsys):
    # A budget just above today's estimate: only a pack that counts the nodes the 70B's minimum
    # replicas force (Kubernetes objects placed in their EKS cluster's region) sees it exceeded.
    document = json.loads((prod_plan / "plan.json").read_text())
    monthly = document["cost"]["monthly_usd"]
    config = json.loads((prod_plan / "policy-config.json").read_text())
    for name in ("cost-estimate-within-budget", "cost-ceiling-within-budget", "aws-budgets-monthly-cost-budget"):
        config[name]["monthlyBudgetUsd"] = monthly + 1000
    config["cost-ceiling-within-budget"]["enforcementLevel"] = "advisory"
    policy_config = tmp_path / "policy-config.json"
    policy_config.write_text(json.dumps(config))

    def check(doc) -> tuple[int, dict]:
        path = tmp_path / "plan.json"
        path.write_text(json.dumps(doc))
        capsys.readouterr()
        code = main(["check", str(path), "--policy-config", str(policy_config), "--format", "json"])
        return code, json.loads(capsys.readouterr().out)

    budget_over = [v for v in check(document)[1]["violations"] if v["policy"] == "cost-estimate-within-budget"]
    assert budget_over == []
    for r in document["resources"]:
        if r["type"] == "kubernetes:keda.sh/v1alpha1:ScaledObject" and r["inputs"]["metadata"]["name"] == (
            "llama-3-70b-instruct"
        ):
            r["inputs"]["spec"]["minReplicaCount"] = 4
    code, verdict = check(document)
    violations = [v for v in verdict["violations"] if v["policy"] == "cost-estimate-within-budget"]
    assert code == 1 and violations and all(v["enforcement"] == "mandatory" for v in violations)
    # One more p5.48xlarge: $40,179 a month; the H100 node group leads the findings.
    assert all(
        v["message"].startswith(f"estimated ${monthly + 40179.2:,.0f}/month exceeds the budget") for v in violations
    )
    assert violations[0]["message"].endswith("'us-east-1-gpu-h100-nodes' is $80,358/month of it")
