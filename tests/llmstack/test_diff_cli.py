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


def fewer_gpu_nodes(config):
    # dev's budget holds the ceiling of two A10G nodes, not three: the change that fits is down,
    # with the model's replicas, which one GPU must still hold.
    config["llm-serving:regions"][0]["node_groups"][0]["max_nodes"] = 1
    config["llm-serving:models"][0]["autoscaling"]["max_replicas"] = 1


def another_vpc_range(config):
    config["llm-serving:regions"][0]["vpc_cidr"] = "10.41.0.0/16"


@pytest.fixture(scope="module")
def plans(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("plans")
    folders = {"base": root / "base", "nodes": root / "nodes", "cidr": root / "cidr"}
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(ROOT)
        assert main(["plan", "--stack", "dev", "--out", str(folders["base"])]) == 0
        for name, change in (("nodes", fewer_gpu_nodes), ("cidr", another_vpc_range)):
            stack = changed_dev_stack(root / f"{name}-stack", change)
            code = main(["plan", "--config", str(stack), "--out", str(folders[name]), "--base", str(folders["base"])])
            assert code == 0
    return folders


def test_plan_with_a_base_writes_the_diff_and_leads_the_report_with_it(plans, capsys):
    diff = json.loads((plans["nodes"] / "diff.json").read_text())
    unchanged = diff["counts"]["unchanged"]
    assert diff["counts"] == {"create": 0, "update": 2, "replace": 0, "delete": 0, "unchanged": unchanged}
    changes = {c["name"]: c for c in diff["changes"]}
    group = changes["us-east-1-gpu-a10g-nodes"]
    assert (group["type"], group["action"]) == ("aws:eks/nodeGroup:NodeGroup", "update")
    assert [(p["path"], p["before"], p["after"]) for p in group["properties"]] == [("scalingConfig.maxSize", 2, 1)]
    scaler = changes["us-east-1-autoscaling-llama-3-8b-instruct-scaledobject"]
    assert [(p["path"], p["before"], p["after"]) for p in scaler["properties"]] == [("spec.maxReplicaCount", 2, 1)]
    # A smaller maximum changes the cost at max scale, not the steady estimate.
    assert diff["cost"]["monthly"]["delta"] == 0
    assert diff["cost"]["ceiling"]["delta"] < 0
    report = (plans["nodes"] / "report.md").read_text().splitlines()
    assert report[0] == "<!-- llm-serving-plan stack=dev -->"
    assert report[1] == f"## llm-serving `dev`: {diff['summary']}"
    assert diff["summary"] == "+0 ~2 -0, +$0/month (+0.0 %), policy PASS"


def test_a_force_new_property_replaces_and_the_replacement_reaches_what_depends_on_it(plans):
    diff = json.loads((plans["cidr"] / "diff.json").read_text())
    by_name = {c["name"]: c for c in diff["changes"]}
    vpc = by_name["us-east-1-network-vpc"]
    assert (vpc["action"], vpc["replace_reasons"]) == ("replace", ["changing `cidrBlock` forces a new resource"])
    assert vpc["warning"] == (
        "us-east-1-network-vpc (aws:ec2/vpc:Vpc) is replaced: everything in the VPC is replaced with it"
    )
    assert diff["warnings"] == [{"urn": vpc["urn"], "action": "replace", "warning": vpc["warning"]}]
    # A subnet's own CIDR forces it; a route table follows the VPC's new id (vpcId forces a new one).
    subnet = by_name["us-east-1-network-private-us-east-1a"]
    assert subnet["action"] == "replace" and "changing `cidrBlock` forces a new resource" in subnet["replace_reasons"]
    route_table = by_name["us-east-1-network-private-rt-us-east-1a"]
    assert route_table["replace_reasons"] == ["`vpcId` takes an output of us-east-1-network-vpc, which is replaced"]
    # The internet gateway's vpcId is updatable: it is attached to the new VPC in place.
    gateway = by_name["us-east-1-network-igw"]
    assert gateway["action"] == "update"
    assert [(p["path"], p["after"]) for p in gateway["properties"]] == [("vpcId", "(known after up)")]
    assert diff["cost"]["monthly"]["delta"] == 0 and diff["policy"]["verdict"] == {"before": "PASS", "after": "PASS"}
    report = (plans["cidr"] / "report.md").read_text()
    assert "> [!WARNING]" in report and vpc["warning"] in report


def test_diff_of_two_saved_plans_in_each_format(plans, capsys):
    assert main(["diff", str(plans["base"]), str(plans["nodes"] / "plan.json")]) == 0
    text = capsys.readouterr().out
    assert text.splitlines()[0] == "llm-serving diff — stack dev: +0 ~2 -0, +$0/month (+0.0 %), policy PASS"
    group = "aws:eks/nodeGroup:NodeGroup us-east-1-gpu-a10g-nodes (us-east-1 · GpuNodeGroup)"
    assert f"~ update  {group} [scalingConfig.maxSize]" in text
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
    assert "policy: PASS -> FAIL: 1 new," in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["diff", "missing.json", "{base}"], "llmstack diff: error: BASE_PLAN missing.json: no such file or folder\n"),
        (
            ["plan", "--stack", "dev", "--base", "nowhere"],
            "llmstack plan: error: --base nowhere: no such file or folder\n",
        ),
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
