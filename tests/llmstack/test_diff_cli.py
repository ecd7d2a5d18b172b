"""`llmstack diff` and `llmstack plan --base` as a PR preview runs them, on the real dev program."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from conftest import ROOT

from llmstack.cli import main


@pytest.fixture(autouse=True)
def in_project(monkeypatch):
    monkeypatch.chdir(ROOT)


def changed_dev_stack(folder: Path, change) -> Path:
    document = yaml.safe_load((ROOT / "Pulumi.dev.yaml").read_text())
    change(document["config"])
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "Pulumi.dev.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


def more_gpu_nodes(config):
    config["llm-serving:regions"][0]["node_groups"][0]["max_nodes"] = 4


def bigger_gpus(config):
    config["llm-serving:regions"][0]["node_groups"][0]["instance_type"] = "g5.4xlarge"


@pytest.fixture(scope="module")
def plans(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("plans")
    folders = {"base": root / "base", "nodes": root / "nodes", "gpus": root / "gpus"}
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(ROOT)
        assert main(["plan", "--stack", "dev", "--out", str(folders["base"])]) == 0
        for name, change in (("nodes", more_gpu_nodes), ("gpus", bigger_gpus)):
            stack = changed_dev_stack(root / f"{name}-stack", change)
            code = main(["plan", "--config", str(stack), "--out", str(folders[name]), "--base", str(folders["base"])])
            assert code == 0
    return folders


def test_plan_with_a_base_writes_the_diff_and_leads_the_report_with_it(plans, capsys):
    diff = json.loads((plans["nodes"] / "diff.json").read_text())
    assert diff["counts"] == {
        "create": 0,
        "update": 1,
        "replace": 0,
        "delete": 0,
        "unchanged": diff["counts"]["unchanged"],
    }
    [change] = diff["changes"]
    assert (change["type"], change["name"], change["action"]) == (
        "aws:eks/nodeGroup:NodeGroup",
        "us-east-1-a10g",
        "update",
    )
    assert [(p["path"], p["before"], p["after"]) for p in change["properties"]] == [("scalingConfig.maxSize", 2, 4)]
    # A larger maximum changes the cost at max scale, not the steady estimate.
    assert diff["cost"]["monthly"]["delta"] == 0
    assert diff["cost"]["ceiling"]["delta"] > 0
    report = (plans["nodes"] / "report.md").read_text().splitlines()
    assert report[0] == "<!-- llm-serving-plan stack=dev -->"
    assert report[1] == f"## llm-serving `dev`: {diff['summary']}"
    assert diff["summary"] == "+0 ~1 -0, +$0/month, policy PASS"


def test_a_force_new_property_is_a_replacement_in_the_real_plan(plans):
    diff = json.loads((plans["gpus"] / "diff.json").read_text())
    by_name = {c["name"]: c for c in diff["changes"]}
    group = by_name["us-east-1-a10g"]
    assert group["action"] == "replace"
    assert group["replace_reasons"] == ["changing `instanceTypes` forces a new resource"]
    assert diff["cost"]["monthly"]["delta"] >= 0 and diff["cost"]["ceiling"]["delta"] > 0


def test_diff_of_two_saved_plans_in_each_format(plans, capsys):
    assert main(["diff", str(plans["base"]), str(plans["nodes"] / "plan.json")]) == 0
    text = capsys.readouterr().out
    assert text.splitlines()[0] == "llm-serving diff — stack dev: +0 ~1 -0, +$0/month, policy PASS"
    assert (
        "~ update  aws:eks/nodeGroup:NodeGroup us-east-1-a10g (us-east-1 · GpuCluster) [scalingConfig.maxSize]" in text
    )
    assert main(["diff", str(plans["base"]), str(plans["nodes"]), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == json.loads((plans["nodes"] / "diff.json").read_text())
    assert main(["diff", str(plans["base"]), str(plans["nodes"]), "--format", "markdown"]) == 0
    assert capsys.readouterr().out == (plans["nodes"] / "report.md").read_text()


def test_diff_exits_1_when_the_head_plan_has_a_mandatory_violation(plans, tmp_path, capsys):
    document = json.loads((plans["nodes"] / "plan.json").read_text())
    document["policy"]["violations"].append(
        {"policy": "p", "enforcement": "mandatory", "severity": "high", "urn": None, "message": "broken"}
    )
    (tmp_path / "plan.json").write_text(json.dumps(document))
    assert main(["diff", str(plans["base"]), str(tmp_path)]) == 1
    assert "policy PASS -> FAIL: 1 new" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["diff", "missing.json", "{base}"], "llmstack diff: error: missing.json: no such file\n"),
        (["diff", "{empty}", "{base}"], "llmstack diff: error: BASE_PLAN {empty}: a folder without plan.json"),
        (
            ["plan", "--stack", "dev", "--base", "{empty}"],
            "llmstack plan: error: --base {empty}: a folder without plan.json",
        ),
    ],
)
def test_bad_plans_are_one_line_errors_with_exit_2(plans, tmp_path, capsys, argv, message):
    empty = tmp_path / "empty"
    empty.mkdir()
    values = {"base": str(plans["base"]), "empty": str(empty)}
    code = main([arg.format(**values) for arg in argv])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith(message.format(**values))
    assert err.count("\n") == 1
