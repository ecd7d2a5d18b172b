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


def test_plan_json_keeps_the_cost_contract_and_adds_usage_per_token_and_the_price_list(prod_plan):
    cost = json.loads((prod_plan / "plan.json").read_text())["cost"]
    assert {"monthly_usd", "ceiling_monthly_usd", "budget_usd", "by_region", "by_component", "lines"} <= set(cost)
    assert cost["price_list"] == {
        "source": "AWS public list prices (aws.amazon.com/<service>/pricing), us-east-1, USD",
        "date": "2026-11",
        "file": "components/catalog.py",
    }
    usage = cost["usage"]
    assert usage["assumption"]["models"]["llama-3-70b-instruct"] == {
        "requests_per_month": 3_000_000,
        "mean_input_tokens": 1500,
        "mean_output_tokens": 400,
        "cold_starts_per_month": 30,
        "tokens_per_month": 5_700_000_000,
    }
    assert usage["monthly_usd"] == pytest.approx(sum(line["monthly_usd"] for line in usage["lines"]), abs=0.05)
    services = {(line["service"], line["region"]) for line in usage["lines"]}
    for region in ("us-east-1", "eu-west-1"):
        assert {
            ("API Gateway REST requests", region),
            ("WAF requests", region),
            ("Lambda (tenant authorizer)", region),
            ("Data transfer out (API Gateway responses)", region),
            ("NAT gateway data processed", region),
            ("S3 requests (weight pulls)", region),
        } <= services
    # The usage is shown apart: the fixed figure is the sum of the fixed lines alone.
    assert cost["monthly_usd"] == pytest.approx(sum(line["monthly_usd"] for line in cost["lines"]), abs=1)
    # The 70B holds the one p5.48xlarge at steady: ($40,179.20 + its usage) / 5,700M tokens.
    per_million = cost["per_million_tokens"]
    assert set(per_million) == {"llama-3-70b-instruct", "llama-3-8b-instruct", "llama-3-8b-batch"}
    expected = (40179.2 + usage["by_model"]["llama-3-70b-instruct"]) / 5700
    assert per_million["llama-3-70b-instruct"] == pytest.approx(expected, abs=1e-3)


def test_the_report_shows_usage_apart_with_the_price_lists_date(prod_plan):
    report = (prod_plan / "report.md").read_text()
    section = report[report.index("### Usage at the stated traffic") : report.index("### Resources by component")]
    assert "as of 2026-11 (`components/catalog.py`)" in section
    assert "| API Gateway REST requests | us-east-1 | $36.75 | 10,500,000 requests × $3.5/1M |" in section
    assert "| `llama-3-70b-instruct` | $7.06 | $40,179 |" in section
