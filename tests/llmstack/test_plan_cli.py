"""`llmstack plan` and `llmstack check` as users run them: exit codes, files, messages."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import ROOT

from llmstack.cli import main
from llmstack.planfile import placement

CONTRACT_RESOURCE_KEYS = {
    "urn",
    "type",
    "name",
    "parent",
    "provider",
    "protect",
    "retain_on_delete",
    "dependencies",
    "inputs",
}


@pytest.fixture(autouse=True)
def in_project(monkeypatch):
    monkeypatch.chdir(ROOT)


def write_stack(tmp_path: Path, mutate) -> Path:
    document = yaml.safe_load((ROOT / "Pulumi.dev.yaml").read_text())
    mutate(document["config"])
    path = tmp_path / "Pulumi.dev.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


def test_plan_writes_the_contract(tmp_path, capsys):
    out = tmp_path / "plan"
    assert main(["plan", "--stack", "dev", "--out", str(out)]) == 0
    document = json.loads((out / "plan.json").read_text())
    assert document["project"] == "llm-serving" and document["stack"] == "dev"
    assert document["resources"] and all(set(r) >= CONTRACT_RESOURCE_KEYS for r in document["resources"])
    assert set(document["policy"]) >= {"pack", "violations"}
    assert document["policy"]["pack"] == "llm-serving-guardrails"
    assert set(document["cost"]) >= {"monthly_usd", "budget_usd", "by_region", "by_component"}
    assert document["cost"]["budget_usd"] == 2500
    assert document["cost"]["monthly_usd"] > 0
    # Objects on an EKS cluster belong to the cluster's region, not to "global".
    where = placement(document["resources"])
    on_cluster = [r["urn"] for r in document["resources"] if r["type"].startswith("kubernetes:")]
    assert on_cluster and {where[urn]["region"] for urn in on_cluster} == {"us-east-1"}
    assert json.loads((out / "policy-config.json").read_text())["aws-provider-region-allowed"] == {
        "enforcementLevel": "mandatory",
        "allowedRegions": ["us-east-1", "us-west-2"],
    }
    report = (out / "report.md").read_text()
    for heading in ("### Policy violations", "### Cost by region", "### Architecture", "```mermaid"):
        assert heading in report
    stdout = capsys.readouterr().out
    assert "policy: PASS" in stdout and "stack dev" in stdout


def test_plan_json_format_prints_the_plan(tmp_path, capsys):
    assert main(["plan", "--stack", "dev", "--out", str(tmp_path / "o"), "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["stack"] == "dev"


def test_mandatory_violation_exits_1(tmp_path, capsys):
    stack = write_stack(tmp_path, lambda c: c["llm-serving:budget"].update(monthly_usd=10))
    assert main(["plan", "--config", str(stack), "--out", str(tmp_path / "o")]) == 1
    document = json.loads((tmp_path / "o" / "plan.json").read_text())
    (violation,) = [v for v in document["policy"]["violations"] if v["policy"] == "cost-estimate-within-budget"]
    assert violation["enforcement"] == "mandatory"
    assert violation["message"].startswith("estimated $")
    assert "exceeds the budget of $10" in violation["message"]
    assert "FAIL: 1 mandatory" in capsys.readouterr().out


def test_the_pack_prices_gpu_node_groups_like_the_plan(tmp_path):
    # A budget between the baseline and the ceiling: only a pack that prices the GPU node groups at
    # max size (lists reach it as the gRPC layer's sequence type) sees the ceiling exceed it.
    out = tmp_path / "first"
    assert main(["plan", "--stack", "dev", "--out", str(out)]) == 0
    cost = json.loads((out / "plan.json").read_text())["cost"]
    assert cost["ceiling_monthly_usd"] > cost["monthly_usd"]
    budget = round((cost["monthly_usd"] + cost["ceiling_monthly_usd"]) / 2)
    stack = write_stack(tmp_path, lambda c: c["llm-serving:budget"].update(monthly_usd=budget))
    # dev's stack file makes the ceiling mandatory (policy.cost_ceiling_enforcement).
    assert main(["plan", "--config", str(stack), "--out", str(tmp_path / "o")]) == 1
    document = json.loads((tmp_path / "o" / "plan.json").read_text())
    violations = [v for v in document["policy"]["violations"] if v["policy"] == "cost-ceiling-within-budget"]
    assert violations and all(v["enforcement"] == "mandatory" for v in violations)
    assert f"at maximum scale ${document['cost']['ceiling_monthly_usd']:,.0f}/month" in violations[0]["message"]
    # Each violation names a node group that adds to the ceiling.
    groups = {r["urn"] for r in document["resources"] if r["type"] == "aws:eks/nodeGroup:NodeGroup"}
    assert {v["urn"] for v in violations} <= groups


def test_in_prod_a_node_group_at_ten_times_its_max_size_fails_the_check(tmp_path, capsys):
    out = tmp_path / "prod"
    assert main(["plan", "--stack", "prod", "--out", str(out)]) == 0
    document = json.loads((out / "plan.json").read_text())
    (group,) = [r for r in document["resources"] if r["name"] == "us-east-1-gpu-a10g-nodes"]
    group["inputs"]["scalingConfig"]["maxSize"] *= 10
    mutated = tmp_path / "mutated.json"
    mutated.write_text(json.dumps(document))
    capsys.readouterr()
    code = main(["check", str(mutated), "--policy-config", str(out / "policy-config.json"), "--format", "json"])
    verdict = json.loads(capsys.readouterr().out)
    assert code == 1
    (violation,) = [v for v in verdict["violations"] if v["urn"] == group["urn"]]
    assert (violation["policy"], violation["enforcement"]) == ("cost-ceiling-within-budget", "mandatory")
    assert "'us-east-1-gpu-a10g-nodes' adds $" in violation["message"]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--stack", "qa"], "Pulumi.qa.yaml: no such stack file; stacks here: dev, prod"),
        (["--config", "missing.yaml"], "missing.yaml: no such file"),
        ([], "--stack: required (or --config FILE)"),
    ],
)
def test_bad_stack_arguments_exit_2(tmp_path, capsys, args, expected):
    out = tmp_path / "o"
    assert main(["plan", *args, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err == f"llmstack plan: error: {expected}\n"
    assert not out.exists()


def test_unknown_key_exits_2_with_one_line_and_writes_nothing(tmp_path, capsys):
    stack = write_stack(tmp_path, lambda c: c["llm-serving:regions"][0]["node_groups"][0].update(max_node=3))
    out = tmp_path / "o"
    assert main(["plan", "--config", str(stack), "--out", str(out)]) == 2
    assert capsys.readouterr().err == (
        "llmstack plan: error: Pulumi.dev.yaml: regions[0].node_groups[0].max_node: unknown key; "
        "did you mean 'max_nodes'?\n"
    )
    assert not out.exists()


def test_cross_check_error_exits_2_with_one_line_and_no_traceback(tmp_path):
    # 1.34 is in the default version allowlist but has no pinned add-on versions: a semantic error, not a schema one.
    stack = write_stack(tmp_path, lambda c: c["llm-serving:regions"][0]["cluster"].update(kubernetes_version="1.34"))
    out = tmp_path / "o"
    result = subprocess.run(
        [sys.executable, "-m", "llmstack", "plan", "--config", str(stack), "--out", str(out)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr == (
        "llmstack plan: error: Pulumi.dev.yaml: regions[0].cluster.kubernetes_version: no pinned EKS add-on versions "
        "for 1.34 (components/eks_addons.py); supported: 1.33, 1.35\n"
    )
    assert not out.exists()


def test_yaml_syntax_error_names_file_and_line(tmp_path, capsys):
    stack = tmp_path / "Pulumi.dev.yaml"
    stack.write_text("config:\n  llm-serving:environment: dev\n  bad: [unclosed\n")
    assert main(["plan", "--config", str(stack), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("llmstack plan: error: Pulumi.dev.yaml:4: YAML syntax error: ")
    assert err.count("\n") == 1


def test_unwritable_out_exits_2(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert main(["plan", "--stack", "dev", "--out", str(blocker)]) == 2
    assert capsys.readouterr().err == f"llmstack plan: error: --out {blocker}: exists and is not a directory\n"


def test_failed_plan_keeps_the_previous_output(tmp_path, capsys):
    out = tmp_path / "o"
    assert main(["plan", "--stack", "dev", "--out", str(out)]) == 0
    before = (out / "plan.json").read_text()
    stack = write_stack(tmp_path, lambda c: c["llm-serving:budget"].update(monthly_usd=-1))
    assert main(["plan", "--config", str(stack), "--out", str(out)]) == 2
    assert (out / "plan.json").read_text() == before


def test_bad_flag_exits_2(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["plan", "--format", "yaml"])
    assert exited.value.code == 2
    assert "invalid choice: 'yaml'" in capsys.readouterr().err


def test_check_derives_the_stacks_config_and_catches_tampering(tmp_path, capsys):
    out = tmp_path / "o"
    assert main(["plan", "--stack", "dev", "--out", str(out)]) == 0
    plan = out / "plan.json"
    capsys.readouterr()
    assert main(["check", str(plan), "--stack", "dev"]) == 0
    captured = capsys.readouterr()
    assert "PASS" in captured.out and captured.err == ""

    document = json.loads(plan.read_text())
    document["resources"] = [r for r in document["resources"] if r["type"] != "aws:ec2/flowLog:FlowLog"]
    tampered = tmp_path / "tampered.json"
    tampered.write_text(json.dumps(document))
    assert main(["check", str(tampered), "--stack", "dev"]) == 1
    assert "aws-ec2-vpc-flow-logs-enabled" in capsys.readouterr().out


def test_check_never_trusts_the_plans_embedded_config(tmp_path, capsys):
    out = tmp_path / "o"
    assert main(["plan", "--stack", "dev", "--out", str(out)]) == 0
    document = json.loads((out / "plan.json").read_text())
    document["resources"] = [r for r in document["resources"] if r["type"] != "aws:ec2/flowLog:FlowLog"]
    document["policy"]["config"]["aws-ec2-vpc-flow-logs-enabled"]["enforcementLevel"] = "disabled"
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps(document))
    capsys.readouterr()
    assert main(["check", str(forged)]) == 2
    assert capsys.readouterr().err == (
        "llmstack check: error: --stack: required (or --config FILE, or --policy-config FILE): a plan's own "
        "policy config is not trusted (this plan says it is of stack 'dev')\n"
    )
    assert main(["check", str(forged), "--stack", "dev"]) == 1
    captured = capsys.readouterr()
    assert "aws-ec2-vpc-flow-logs-enabled" in captured.out
    assert captured.err == (
        f"llmstack check: note: {forged}'s embedded policy config differs from Pulumi.dev.yaml's; "
        "using Pulumi.dev.yaml and the waivers\n"
    )


def test_check_with_another_policy_config(tmp_path, capsys):
    out = tmp_path / "o"
    assert main(["plan", "--stack", "dev", "--out", str(out)]) == 0
    config = json.loads((out / "policy-config.json").read_text())
    config["aws-provider-region-allowed"]["allowedRegions"] = ["eu-west-1"]
    path = tmp_path / "policy.json"
    path.write_text(json.dumps(config))
    assert main(["check", str(out / "plan.json"), "--policy-config", str(path)]) == 1
    assert "aws-provider-region-allowed" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "no such file"),
        ("{", "not JSON"),
        ('{"project": "x"}', "not a plan.json (missing stack, resources)"),
    ],
)
def test_check_bad_plan_exits_2(tmp_path, capsys, content, expected):
    path = tmp_path / "plan.json"
    if content is not None:
        path.write_text(content)
    assert main(["check", str(path), "--stack", "dev"]) == 2
    err = capsys.readouterr().err
    assert expected in err and err.count("\n") == 1


def test_check_unknown_policy_in_config_exits_2(tmp_path, capsys):
    out = tmp_path / "o"
    assert main(["plan", "--stack", "dev", "--out", str(out)]) == 0
    path = tmp_path / "policy.json"
    path.write_text(json.dumps({"no-such-policy": "mandatory"}))
    assert main(["check", str(out / "plan.json"), "--policy-config", str(path)]) == 2
    assert "unknown policy 'no-such-policy'" in capsys.readouterr().err


def test_console_script_end_to_end(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "llmstack", "plan", "--stack", "prod", "--out", str(tmp_path / "prod")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "policy: PASS" in result.stdout
    assert (tmp_path / "prod" / "plan.json").is_file()


def test_a_component_refusing_its_arguments_exits_2_with_one_line(tmp_path, capsys, monkeypatch):
    # The config checks mirror the components' own; one that slips through is still one line, exit 2.
    from components import waf

    def refuse(self):
        raise ValueError("rate_limit_per_5min: must be between 10 and 2000000000 (got 5)")

    monkeypatch.setattr(waf.WebAclArgs, "__post_init__", refuse)
    out = tmp_path / "o"
    assert main(["plan", "--stack", "dev", "--out", str(out)]) == 2
    assert capsys.readouterr().err == (
        "llmstack plan: error: Pulumi.dev.yaml: rate_limit_per_5min: must be between 10 and 2000000000 (got 5)\n"
    )
    assert not out.exists()


def test_an_extra_bucket_logging_into_the_weights_bucket_does_not_exempt_it_from_the_cmk_rule(tmp_path, capsys):
    # The evasion: one more BucketLogging that targets the weights bucket, then the weights drop to AES256.
    out = tmp_path / "dev"
    assert main(["plan", "--stack", "dev", "--out", str(out)]) == 0
    document = json.loads((out / "plan.json").read_text())
    resources = document["resources"]
    (weights,) = [r for r in resources if r["name"] == "us-east-1-weights-bucket"]
    (logging,) = [r for r in resources if r["type"] == "aws:s3/bucketLogging:BucketLogging"]
    (sse,) = [r for r in resources if r["name"] == "us-east-1-weights-bucket-sse"]
    sse["inputs"]["rules"][0]["applyServerSideEncryptionByDefault"] = {"sseAlgorithm": "AES256"}
    extra = json.loads(json.dumps(logging))
    extra["name"] = "evasion-logging"
    extra["urn"] = logging["urn"].rsplit("::", 1)[0] + "::evasion-logging"
    extra["property_dependencies"] = {
        "bucket": [logging["property_dependencies"]["bucket"][0]],
        "targetBucket": [weights["urn"]],
    }
    extra["dependencies"] = sorted({*extra["dependencies"], weights["urn"]})
    resources.append(extra)
    mutated = tmp_path / "mutated.json"
    mutated.write_text(json.dumps(document))
    capsys.readouterr()
    code = main(["check", str(mutated), "--policy-config", str(out / "policy-config.json"), "--format", "json"])
    verdict = json.loads(capsys.readouterr().out)
    assert code == 1
    mandatory = {
        (v["policy"], v["urn"], v["message"]) for v in verdict["violations"] if v["enforcement"] == "mandatory"
    }
    assert mandatory == {
        (
            "aws-s3-bucket-encrypted-with-cmk",
            weights["urn"],
            "bucket 'us-east-1-weights-bucket' encrypts with AES256, not a KMS key.",
        ),
        (
            "aws-s3-access-log-bucket-contract",
            extra["urn"],
            "server access logging 'evasion-logging' delivers to 'us-east-1-weights-bucket', not an access-log bucket "
            "(tagged llm-serving/data=access-logs and named with '-s3-logs-').",
        ),
    }
