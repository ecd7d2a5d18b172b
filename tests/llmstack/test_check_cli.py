"""`llmstack check` as CI and reviewers run it: where the pack's config comes from, waivers end to
end, and input it must survive (one stderr line and exit 2, or the policy's own violation; never a
traceback)."""

from __future__ import annotations

import contextlib
import copy
import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from llmstack import analyzer, policy_config, report
from llmstack.cli import main

VPC = "aws:ec2/vpc:Vpc"
FLOW_LOG = "aws:ec2/flowLog:FlowLog"


@contextlib.contextmanager
def in_project() -> Iterator[None]:
    before = Path.cwd()
    os.chdir(ROOT)
    try:
        yield
    finally:
        os.chdir(before)


def planned(stack: str, tmp_path_factory) -> dict[str, Any]:
    """The committed stack's plan.json, as `llmstack plan --stack <stack>` writes it."""
    out = tmp_path_factory.mktemp(stack)
    with in_project(), contextlib.redirect_stdout(io.StringIO()):
        assert main(["plan", "--stack", stack, "--out", str(out)]) == 0
    return json.loads((out / "plan.json").read_text())


@pytest.fixture(scope="module")
def dev_plan(tmp_path_factory) -> dict[str, Any]:
    return planned("dev", tmp_path_factory)


@pytest.fixture(scope="module")
def prod_plan(tmp_path_factory) -> dict[str, Any]:
    return planned("prod", tmp_path_factory)


@pytest.fixture(scope="module")
def shared_pack() -> Iterator[analyzer.PolicyPackProcess]:
    pack = analyzer.PolicyPackProcess("llm-serving", "dev")
    yield pack
    pack.close()


@contextlib.contextmanager
def reusing(pack: analyzer.PolicyPackProcess) -> Iterator[None]:
    """`check` runs its evaluation on an already running pack (the pack keeps no state between runs)."""

    class Reused:
        def __init__(self, *args: Any, **kwargs: Any):
            pass

        @property
        def stub(self):
            return pack.stub

        def close(self) -> None:
            pass

        def __enter__(self):
            return self

        def __exit__(self, *exc: object) -> None:
            pass

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(analyzer, "PolicyPackProcess", Reused)
        yield


def run_check(path: Path, *args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with in_project(), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["check", str(path), *args])
    return code, out.getvalue(), err.getvalue()


def saved(tmp_path: Path, document: Any, name: str = "plan.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(document))
    return path


def without_flow_logs(plan: dict[str, Any]) -> dict[str, Any]:
    document = copy.deepcopy(plan)
    document["resources"] = [r for r in document["resources"] if r["type"] != FLOW_LOG]
    return document


# --- where the config comes from ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--stack", "prod"], "{plan}: stack: the plan is of stack 'dev', not 'prod'"),
        (["--stack", "dev", "--policy-config", "x.json"], "--policy-config: give it or --stack/--config, not both"),
        (["--stack", "qa"], "Pulumi.qa.yaml: no such stack file; stacks here: dev, prod"),
    ],
)
def test_config_source_errors_exit_2(tmp_path, dev_plan, args, expected):
    path = saved(tmp_path, dev_plan)
    assert run_check(path, *args) == (2, "", f"llmstack check: error: {expected.format(plan=path)}\n")


def test_check_reads_the_stack_file_it_is_given(tmp_path, dev_plan, shared_pack):
    stack = (ROOT / "Pulumi.dev.yaml").read_text().replace("monthly_usd: 2500", "monthly_usd: 10")
    assert stack != (ROOT / "Pulumi.dev.yaml").read_text()
    (tmp_path / "Pulumi.dev.yaml").write_text(stack)
    with reusing(shared_pack):
        code, out, _ = run_check(saved(tmp_path, dev_plan), "--config", str(tmp_path / "Pulumi.dev.yaml"))
    assert code == 1 and "[mandatory] cost-estimate-within-budget" in out


# --- waivers end to end ------------------------------------------------------------------------------


def register(tmp_path: Path, monkeypatch, *entries: str) -> Path:
    path = tmp_path / "waivers.yaml"
    path.write_text("waivers:\n" + "".join(entries))
    monkeypatch.setattr(policy_config, "waivers_file", lambda: path)
    return path


def no_flow_log(vpc: str) -> str:
    return f"VPC '{vpc}' has no flow log."


def flow_log_waiver(vpc: str, expires: str = "2099-12-31", stacks: str = "[dev]", *also: str) -> str:
    return (
        "  - policy: aws-ec2-vpc-flow-logs-enabled\n"
        f"    stacks: {stacks}\n"
        f"    resource: {{type: '{VPC}', name: {vpc}}}\n"
        "    violations:\n"
        + "".join(f"      - {json.dumps(message)}\n" for message in (no_flow_log(vpc), *also))
        + "    reason: flow logs go to the central account's collector (NET-12)\n"
        "    owner: network-team\n"
        f"    expires: {expires}\n"
    )


def needing_no_committed_waiver(plan: dict[str, Any]) -> dict[str, Any]:
    """The plan with the violations the committed register waives fixed (each Role reads only the Secret it
    names), so a test's own register, which replaces the committed one, is all that applies to it."""
    document = copy.deepcopy(plan)
    for resource in document["resources"]:
        if resource["type"] == "kubernetes:rbac.authorization.k8s.io/v1:Role":
            for rule in resource["inputs"].get("rules") or []:
                if "secrets" in rule.get("resources", []) and not rule.get("resourceNames"):
                    rule["resourceNames"] = ["kedaorg-certs"]
    return document


def vpc_of(plan: dict[str, Any]) -> dict[str, Any]:
    (vpc,) = [r for r in plan["resources"] if r["type"] == VPC]
    return vpc


def test_a_waived_violation_is_listed_not_reported(tmp_path, monkeypatch, dev_plan, shared_pack):
    vpc = vpc_of(dev_plan)
    path = register(tmp_path, monkeypatch, flow_log_waiver(vpc["name"]))
    plan = saved(tmp_path, without_flow_logs(needing_no_committed_waiver(dev_plan)))
    with reusing(shared_pack):
        code, out, _ = run_check(plan, "--stack", "dev", "--format", "json")
    assert code == 0
    policy = json.loads(out)
    assert policy["violations"] == []
    assert policy["waived"] == [
        {
            "policy": "aws-ec2-vpc-flow-logs-enabled",
            "urn": vpc["urn"],
            "resource": f"Vpc {vpc['name']}",
            "violations": [no_flow_log(vpc["name"])],
            "reason": "flow logs go to the central account's collector (NET-12)",
            "owner": "network-team",
            "expires": "2099-12-31",
            "source": f"{path}:2",
        }
    ]
    # What `pulumi up --policy-pack-config` gets carries the same waiver.
    assert policy["config"]["aws-ec2-vpc-flow-logs-enabled"]["waivers"][0]["resource"] == {
        "type": VPC,
        "name": vpc["name"],
    }
    assert "waived: 1 violation(s) by reviewed waivers (see report.md)" in report.text_summary(
        {**dev_plan, "policy": policy}
    )
    markdown = report.markdown({**dev_plan, "policy": policy})
    assert (
        "| `aws-ec2-vpc-flow-logs-enabled` | `Vpc us-east-1-network-vpc` | `VPC 'us-east-1-network-vpc' has no flow "
        "log.` | flow logs go to the central account's collector (NET-12) | network-team | 2099-12-31 | "
        f"`{path}:2` |"
    ) in markdown


def test_another_violation_of_a_waived_policy_on_the_waived_resource_is_reported(
    tmp_path, monkeypatch, dev_plan, shared_pack
):
    vpc = vpc_of(dev_plan)["name"]
    path = register(tmp_path, monkeypatch, flow_log_waiver(vpc))
    rejected_only = needing_no_committed_waiver(dev_plan)
    for resource in rejected_only["resources"]:
        if resource["type"] == FLOW_LOG:
            resource["inputs"]["trafficType"] = "REJECT"
    with reusing(shared_pack):
        code, out, _ = run_check(saved(tmp_path, rejected_only), "--stack", "dev")
    assert code == 1
    assert out.splitlines()[1:] == [
        f"  [mandatory] aws-ec2-vpc-flow-logs-enabled: VPC '{vpc}' flow logs do not capture ALL traffic (only "
        "accepted or rejected).",
        # ... and the waiver, whose one message the VPC no longer produces, is stale.
        f"  [mandatory] policy-waivers-valid: waiver {path}:2 (aws-ec2-vpc-flow-logs-enabled on Vpc {vpc}): "
        f'aws-ec2-vpc-flow-logs-enabled no longer reports "{no_flow_log(vpc)}" on it; remove that message from the '
        "waiver (or the waiver).",
    ]


KEDA_CERTS_ROLE = "us-east-1-autoscaling-keda-role-keda-operator-certs"
KEDA_SECRETS = "rules[2]: get, list, watch on every Secret in namespace 'keda' (name them in resourceNames)."


def test_a_waiver_does_not_hide_another_violation_of_its_policy_on_its_resource(tmp_path, prod_plan, shared_pack):
    # The committed register accepts the KEDA certs Role's watch of the Secrets in its namespace (rules[2]); a later
    # rule reading Secrets on the same Role is another violation of the same policy, reported.
    document = copy.deepcopy(prod_plan)
    (role,) = [r for r in document["resources"] if r["name"] == KEDA_CERTS_ROLE]
    role["inputs"]["rules"].append({"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]})
    index = len(role["inputs"]["rules"]) - 1
    extra = f"rules[{index}]: get on every Secret in namespace 'keda' (name them in resourceNames)."
    plan = saved(tmp_path, document)
    with reusing(shared_pack):
        code, out, _ = run_check(plan, "--stack", "prod", "--format", "json")
    assert code == 1
    policy = json.loads(out)
    assert {
        "policy": "kubernetes-rbac-role-disallow-secret-read",
        "enforcement": "mandatory",
        "severity": "high",
        "urn": role["urn"],
        "message": extra,
    } in policy["violations"]
    assert all(v["urn"] == role["urn"] for v in policy["violations"] if v["enforcement"] == "mandatory")
    # The accepted violation stays waived, and only it.
    (waived,) = [w for w in policy["waived"] if w["urn"] == role["urn"]]
    assert waived["violations"] == [KEDA_SECRETS]
    with reusing(shared_pack):
        assert run_check(plan, "--stack", "prod")[0] == 1


def test_waivers_of_other_stacks_do_not_apply(tmp_path, monkeypatch, dev_plan, shared_pack):
    register(tmp_path, monkeypatch, flow_log_waiver(vpc_of(dev_plan)["name"], stacks="[prod]"))
    with reusing(shared_pack):
        code, out, _ = run_check(saved(tmp_path, without_flow_logs(dev_plan)), "--stack", "dev")
    assert (
        code == 1 and "[mandatory] aws-ec2-vpc-flow-logs-enabled: VPC 'us-east-1-network-vpc' has no flow log." in out
    )


@pytest.mark.parametrize(
    ("expires", "compliant", "expected"),
    [
        ("2020-01-31", False, "expired on 2020-01-31: fix the resource, or renew the waiver after a new review."),
        (
            "2099-12-31",
            True,
            ": aws-ec2-vpc-flow-logs-enabled reports nothing on it any more; remove the waiver.",
        ),
    ],
    ids=["expired", "unmatched"],
)
def test_an_expired_or_unmatched_waiver_fails_the_check(
    tmp_path, monkeypatch, dev_plan, shared_pack, expires, compliant, expected
):
    vpc = vpc_of(dev_plan)["name"]
    path = register(tmp_path, monkeypatch, flow_log_waiver(vpc, expires=expires))
    plan = saved(tmp_path, dev_plan if compliant else without_flow_logs(dev_plan))
    with reusing(shared_pack):
        code, out, _ = run_check(plan, "--stack", "dev")
    assert code == 1
    label = f"waiver {path}:2 (aws-ec2-vpc-flow-logs-enabled on Vpc {vpc})"
    assert f"  [mandatory] policy-waivers-valid: {label}{'' if compliant else ' '}{expected}" in out.splitlines()
    assert "[waived]" not in out


def test_a_waiver_listing_a_message_the_policy_no_longer_reports_fails_the_check(
    tmp_path, monkeypatch, dev_plan, shared_pack
):
    vpc = vpc_of(dev_plan)["name"]
    stale = f"VPC '{vpc}' flow logs do not capture ALL traffic (only accepted or rejected)."
    path = register(tmp_path, monkeypatch, flow_log_waiver(vpc, "2099-12-31", "[dev]", stale))
    with reusing(shared_pack):
        code, out, _ = run_check(
            saved(tmp_path, without_flow_logs(needing_no_committed_waiver(dev_plan))), "--stack", "dev"
        )
    assert code == 1
    assert out.splitlines()[1:] == [
        f"  [mandatory] policy-waivers-valid: waiver {path}:2 (aws-ec2-vpc-flow-logs-enabled on Vpc {vpc}): "
        f'aws-ec2-vpc-flow-logs-enabled no longer reports "{stale}" on it; remove that message from the waiver (or '
        "the waiver)."
    ]


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        (
            "  - policy: aws-ec2-vpc-flow-logs\n    stacks: [dev]\n    resource: {type: 'a:b:C', name: x}\n"
            "    violations: [x]\n    reason: because\n    owner: someone\n    expires: 2099-01-01\n",
            "{path}:2: policy: no policy 'aws-ec2-vpc-flow-logs' in the pack",
        ),
        ("  - policy: x\n", "{path}:2: waivers[0]: lacks stacks, resource, violations, reason, owner, expires"),
    ],
)
def test_a_malformed_register_exits_2_naming_file_and_line(
    tmp_path, monkeypatch, dev_plan, shared_pack, entry, expected
):
    path = register(tmp_path, monkeypatch, entry)
    with reusing(shared_pack):
        code, out, err = run_check(saved(tmp_path, dev_plan), "--stack", "dev")
    assert (code, out, err) == (2, "", f"llmstack check: error: {expected.format(path=path)}\n")


def test_plan_refuses_a_malformed_register_before_running_anything(tmp_path, monkeypatch):
    path = register(tmp_path, monkeypatch, "  - policy: x\n    stacks: dev\n")
    out = tmp_path / "o"
    err = io.StringIO()
    with in_project(), contextlib.redirect_stderr(err):
        assert main(["plan", "--stack", "dev", "--out", str(out)]) == 2
    assert err.getvalue() == (
        f"llmstack plan: error: {path}:2: waivers[0]: lacks resource, violations, reason, owner, expires\n"
    )
    assert not out.exists()


# --- input check must survive ------------------------------------------------------------------------


def _mutated(plan: dict[str, Any], change) -> dict[str, Any]:
    document = copy.deepcopy(plan)
    change(document)
    return document


def _set(path: tuple[Any, ...], value: Any):
    def change(document: Any) -> None:
        target = document
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return change


BROKEN = [
    (lambda d: d.clear() or d.update({"x": 1}), "not a plan.json (missing project, stack, resources)"),
    (_set(("stack",), None), "stack: must be a non-empty string (got null)"),
    (_set(("resources",), {}), "resources: must be a list (got an object)"),
    (_set(("resources", 3), "vpc"), "resources[3]: must be an object (got a string)"),
    (_set(("resources", 3, "inputs"), None), "resources[3].inputs: must be an object (got null)"),
    (_set(("resources", 3, "inputs"), []), "resources[3].inputs: must be an object (got a list)"),
    (_set(("resources", 3, "inputs"), "{}"), "resources[3].inputs: must be an object (got a string)"),
    (_set(("resources", 3, "urn"), None), "resources[3].urn: must be a non-empty string (got null)"),
    (_set(("resources", 3, "parent"), 7), "resources[3].parent: must be a URN or null (got a number)"),
    (_set(("resources", 3, "provider"), ["p"]), "resources[3].provider: must be a URN or null (got a list)"),
    (_set(("resources", 3, "dependencies"), "urn"), "resources[3].dependencies: must be a list of URNs (got a string)"),
    (_set(("resources", 3, "dependencies"), [None]), "resources[3].dependencies[0]: must be a URN (got null)"),
    (
        _set(("resources", 3, "property_dependencies"), []),
        "resources[3].property_dependencies: must be an object (got a list)",
    ),
    (_set(("resources", 3, "protect"), "yes"), "resources[3].protect: must be true or false (got a string)"),
    (_set(("resources", 3, "inputs", "x"), 10**400), "resources[3].inputs.x: number too large"),
]


@pytest.mark.parametrize(("change", "expected"), BROKEN)
def test_a_structurally_broken_plan_is_one_line_naming_the_json_path(tmp_path, dev_plan, change, expected):
    path = saved(tmp_path, _mutated(dev_plan, change))
    assert run_check(path, "--stack", "dev") == (2, "", f"llmstack check: error: {path}: {expected}\n")


def test_duplicate_urns_and_a_looping_parent_chain_exit_2(tmp_path, dev_plan):
    def duplicate(document):
        document["resources"][5]["urn"] = document["resources"][2]["urn"]

    path = saved(tmp_path, _mutated(dev_plan, duplicate))
    urn = dev_plan["resources"][2]["urn"]
    assert run_check(path, "--stack", "dev")[2] == (
        f"llmstack check: error: {path}: resources[5].urn: duplicates resources[2].urn ({urn})\n"
    )

    def loop(document):
        a, b = document["resources"][1], document["resources"][2]
        a["parent"], b["parent"] = b["urn"], a["urn"]

    path = saved(tmp_path, _mutated(dev_plan, loop))
    code, _, err = run_check(path, "--stack", "dev")
    assert code == 2 and "parent: the parent chain loops back to" in err and err.count("\n") == 1


# What a policy says of a value it cannot read: the guard's fail-closed violation, unless the policy
# itself names the malformed value (the cost policies refuse to price it).
COULD_NOT_EVALUATE = "the policy could not evaluate this ("


@pytest.mark.parametrize(
    ("resource_type", "path", "value", "failing", "said"),
    [
        (
            "kubernetes:keda.sh/v1alpha1:ScaledObject",
            ("spec", "minReplicaCount"),
            "one",
            "kubernetes-scaler-min-within-max",
            COULD_NOT_EVALUATE,
        ),
        (
            "aws:eks/nodeGroup:NodeGroup",
            ("scalingConfig",),
            [1, 2],
            "cost-estimate-within-budget",
            "cannot be priced (scalingConfig is a list, not an object: not priced)",
        ),
        (
            "kubernetes:apps/v1:Deployment",
            ("spec", "template", "spec", "containers"),
            "tgi",
            "kubernetes-image-pinned-from-allowed-registry",
            COULD_NOT_EVALUATE,
        ),
        (
            "aws:eks/nodeGroup:NodeGroup",
            ("scalingConfig", "maxSize"),
            "lots",
            "cost-estimate-within-budget",
            "cannot be priced (scalingConfig.maxSize 'lots' is not a node count: not priced)",
        ),
    ],
)
def test_a_value_a_policy_cannot_read_is_a_violation_never_a_crash(
    tmp_path, dev_plan, shared_pack, resource_type, path, value, failing, said
):
    document = copy.deepcopy(dev_plan)
    resource = next(r for r in document["resources"] if r["type"] == resource_type)
    _set(("inputs", *path), value)(resource)
    with reusing(shared_pack):
        code, out, err = run_check(saved(tmp_path, document), "--stack", "dev")
    assert "Traceback" not in out + err and err.count("\n") <= 1
    assert code == 1
    if said == COULD_NOT_EVALUATE:
        assert any(
            line.startswith(f"  [mandatory] {failing}: {COULD_NOT_EVALUATE}")
            and line.endswith("a value it reads is malformed or of an unexpected type, counted as a violation")
            for line in out.splitlines()
        ), out
    else:
        assert any(line.startswith(f"  [mandatory] {failing}") and said in line for line in out.splitlines()), out


def test_a_malformed_pulumi_asset_is_one_line_naming_the_resource(tmp_path, dev_plan, shared_pack):
    document = json.loads(json.dumps(dev_plan).replace('"c44067f5952c0a294b673a41bacd8c17"', '"not-a-signature"', 1))
    assert document != dev_plan
    with reusing(shared_pack):
        code, out, err = run_check(saved(tmp_path, document), "--stack", "dev")
    assert code == 2 and out == "" and err.count("\n") == 1
    assert err.startswith("llmstack check: error: policy pack could not analyse resource urn:pulumi:dev::")


def _subprocess_check(path: Path, *extra: str, pipe_to_head: bool = False) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "llmstack", "check", str(path), "--stack", "dev", *extra]
    if pipe_to_head:
        # The reader is gone before check writes: its stdout is a closed pipe.
        read, write = os.pipe()
        os.close(read)
        result = subprocess.run(command, stdout=write, stderr=subprocess.PIPE, text=True, cwd=ROOT, check=False)
        os.close(write)
        return subprocess.CompletedProcess(command, result.returncode, "", result.stderr)
    return subprocess.run(command, capture_output=True, text=True, cwd=ROOT, check=False)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b'{"project": "llm-serving", "stack": "d\xffv", "resources": []}', "{path}: not UTF-8 (byte 38)"),
        (b"[" * 100_000 + b"]" * 100_000, "{path}: not a plan.json (nested too deep)"),
        (
            b'{"project": "p", "stack": "dev", "resources": [{"urn": "u", "type": "a:b:C", "name": "n", "inputs": '
            + b'{"x": ' * 45
            + b"1"
            + b"}" * 46
            + b"]}",
            "{path}: resources[0].inputs" + ".x" * 40 + ": nested deeper than 40 levels",
        ),
    ],
    ids=["not-utf8", "deep-json", "deep-inputs"],
)
def test_unreadable_files_exit_2_from_the_real_command(tmp_path, content, expected):
    path = tmp_path / "plan.json"
    path.write_bytes(content)
    result = _subprocess_check(path)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == f"llmstack check: error: {expected.format(path=path)}\n"


def test_a_closed_stdout_is_one_line_and_exit_2(tmp_path, dev_plan):
    result = _subprocess_check(saved(tmp_path, dev_plan), pipe_to_head=True)
    assert result.returncode == 2
    assert result.stderr == "llmstack check: error: stdout was closed before the output was written\n"


# --- property tests over malformed plans ---------------------------------------------------------------

# Every way to break a plan's structure, by key: values that key must not hold. None reaches the pack.
_NOT_TEXT = [None, 0, 1.5, True, "", [], ["x"], {}]
WRONG_TOP = {"project": _NOT_TEXT, "stack": _NOT_TEXT, "resources": [None, 0, "x", {}, {"a": None}, ["x"], [None]]}
WRONG_RESOURCE = {
    "urn": _NOT_TEXT,
    "type": _NOT_TEXT,
    "name": _NOT_TEXT,
    "inputs": [None, 0, 1.5, True, "x", "", [], ["x"]],
    "parent": [0, 1.5, True, [], ["x"], {}],
    "provider": [0, 1.5, True, [], ["x"], {}],
    "dependencies": [0, True, "x", {}, [None], [1], [["x"]]],
    "property_dependencies": [0, True, "x", [], ["x"], {"k": "x"}, {"k": [None]}],
    "protect": [0, 1.5, "x", "", [], {}],
    "retain_on_delete": [0, 1.5, "true", [], {}],
}


@st.composite
def broken_structures(draw, plan: dict[str, Any]) -> Any:
    document = copy.deepcopy(plan)
    where = draw(st.sampled_from(["top", "top-key", "resource", "resource-key", "duplicate-urn"]))
    if where == "top":
        return draw(st.sampled_from([None, 1, "plan", [], [plan["resources"][0]]]))
    if where == "top-key":
        key = draw(st.sampled_from(sorted(WRONG_TOP)))
        if draw(st.booleans()):
            del document[key]
        else:
            document[key] = draw(st.sampled_from(WRONG_TOP[key]))
        return document
    resources = document["resources"]
    index = draw(st.integers(0, len(resources) - 1))
    if where == "resource":
        resources[index] = draw(st.sampled_from([None, 0, "x", [], [{}], True]))
    elif where == "duplicate-urn":
        other = draw(st.integers(0, len(resources) - 1).filter(lambda i: i != index))
        resources[index]["urn"] = resources[other]["urn"]
    else:
        key = draw(st.sampled_from(sorted(WRONG_RESOURCE)))
        if key in ("urn", "type", "name", "inputs") and draw(st.booleans()):
            del resources[index][key]
        else:
            resources[index][key] = draw(st.sampled_from(WRONG_RESOURCE[key]))
    return document


@pytest.fixture(scope="module")
def small_plan(dev_plan) -> dict[str, Any]:
    """The dev plan's first resources: the same structure, a fraction of the JSON to write per example."""
    return {**dev_plan, "resources": dev_plan["resources"][:20]}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_structurally_broken_plan_exits_2_with_one_line(tmp_path_factory, small_plan, data):
    document = data.draw(broken_structures(small_plan))
    path = saved(tmp_path_factory.mktemp("broken"), document)
    code, out, err = run_check(path, "--stack", "dev")
    assert code == 2 and out == ""
    assert err.startswith(f"llmstack check: error: {path}") and err.count("\n") == 1


def _input_paths(plan: dict[str, Any]) -> list[tuple[int, tuple[Any, ...]]]:
    """(resource index, path) of every value inside every resource's inputs."""
    found = []

    def walk(index: int, value: Any, path: tuple[Any, ...]) -> None:
        if path:
            found.append((index, path))
        if isinstance(value, dict):
            for key, child in value.items():
                walk(index, child, (*path, key))
        elif isinstance(value, list):
            for position, child in enumerate(value):
                walk(index, child, (*path, position))

    for index, resource in enumerate(plan["resources"]):
        walk(index, resource["inputs"], ())
    return found


ODD_VALUES = st.one_of(
    st.sampled_from([None, "one", "", -1, 0, 1e308, True, [], {}, [None], {"": None}, "*", "0.0.0.0/0"]),
    st.recursive(
        st.one_of(st.none(), st.booleans(), st.integers(-(2**63), 2**63), st.text(max_size=8)),
        lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=5), inner, max_size=3)),
        max_leaves=6,
    ),
)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_odd_input_value_gives_a_verdict_or_one_line(tmp_path_factory, dev_plan, shared_pack, data):
    paths = _input_paths(dev_plan)
    document = copy.deepcopy(dev_plan)
    for _ in range(data.draw(st.integers(1, 3))):
        index, path = data.draw(st.sampled_from(paths))
        with contextlib.suppress(KeyError, IndexError, TypeError):  # an earlier change removed the path
            _set(("resources", index, "inputs", *path), data.draw(ODD_VALUES))(document)
    plan = saved(tmp_path_factory.mktemp("odd"), document)
    with reusing(shared_pack):
        code, out, err = run_check(plan, "--stack", "dev")
    assert code in (0, 1, 2)
    assert "Traceback" not in out + err
    if code == 2:
        assert out == "" and err.count("\n") == 1
    else:
        assert err.count("\n") <= 1  # at most the note that the plan's embedded config differs
