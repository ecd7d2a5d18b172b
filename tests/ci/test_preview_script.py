""".github/scripts/preview.sh on two checkouts of this repository, as the preview workflow runs it.

The checkouts are `git archive HEAD` copies in tmp: the base as committed, the head with a changed
Pulumi.dev.yaml. Each gets a .venv that sees this environment's packages (a .pth file) and a fresh
install stamp, so the script's `make setup` finds it ready and nothing is downloaded; each plan then
runs the checkout's own program and policy pack (`python -m llmstack` from inside it).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / ".github" / "scripts" / "preview.sh"


def checkout(folder: Path) -> Path:
    """HEAD's files, as actions/checkout leaves them, with a .venv ready for `make setup`."""
    folder.mkdir(parents=True)
    archive = subprocess.run(["git", "archive", "HEAD"], cwd=ROOT, capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive, check=True)
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(folder / ".venv")], check=True)
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    site = folder / ".venv" / "lib" / version / "site-packages"
    (site / "llm-serving-test-deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    # This environment's uv, then a stamp newer than it, pyproject.toml and uv.lock: `make setup` is done
    (folder / ".venv" / "bin" / "uv").symlink_to(ROOT / ".venv" / "bin" / "uv")
    (folder / ".venv" / ".installed-stamp").touch()
    return folder


def edit_dev_stack(folder: Path, change) -> None:
    path = folder / "Pulumi.dev.yaml"
    document = yaml.safe_load(path.read_text())
    change(document["config"])
    path.write_text(yaml.safe_dump(document))


def run(stack: str, base: Path, head: Path, out: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    return subprocess.run(
        [str(SCRIPT), stack, str(base), str(head), str(out)],
        capture_output=True, text=True, env=env, timeout=600, check=False,
    )  # fmt: skip


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("checkouts")
    base = checkout(root / "base")
    head = checkout(root / "head")
    edit_dev_stack(head, lambda c: c["llm-serving:regions"][0]["cluster"]["system_nodes"].update(max_nodes=4))
    broken = checkout(root / "broken")
    edit_dev_stack(broken, lambda c: c["llm-serving:regions"][0]["node_groups"][0].update(max_nodes=-1))
    no_stack = checkout(root / "no-stack")
    (no_stack / "Pulumi.dev.yaml").unlink()
    return {"root": root, "base": base, "head": head, "broken": broken, "no-stack": no_stack}


def test_plans_the_base_then_the_head_against_it(folders):
    out = folders["root"] / "out"
    outcome = run("dev", folders["base"], folders["head"], out)

    assert outcome.returncode == 0, outcome.stderr
    assert json.loads((out / "result.json").read_text()) == {
        "stack": "dev",
        "exit_code": 0,
        "error": "",
        "base": {"exit_code": 0, "error": "", "compared": True},
    }
    assert {p.name for p in (out / "head").iterdir()} == {
        "plan.json", "report.md", "diff.json", "policy-config.json", "manifests",
    }  # fmt: skip
    assert (out / "base" / "plan.json").is_file() and not (out / "base" / "diff.json").exists()
    diff = json.loads((out / "head" / "diff.json").read_text())
    [change] = diff["changes"]
    assert (change["type"], change["action"]) == ("aws:eks/nodeGroup:NodeGroup", "update")
    assert [(p["path"], p["before"], p["after"]) for p in change["properties"]] == [("scalingConfig.maxSize", 3, 4)]
    report = (out / "head" / "report.md").read_text().splitlines()
    assert report[:2] == ["<!-- llm-serving-plan stack=dev -->", f"## llm-serving `dev`: {diff['summary']}"]
    # each checkout planned from its own stack file: the base plan has the committed maximum
    base_plan = json.loads((out / "base" / "plan.json").read_text())
    [system] = [r for r in base_plan["resources"] if r["name"] == change["name"]]
    assert system["inputs"]["scalingConfig"]["maxSize"] == 3
    assert "head plan of dev exited 0" in outcome.stdout


def test_a_base_without_the_stack_plans_the_head_alone(folders):
    out = folders["root"] / "alone"
    outcome = run("dev", folders["no-stack"], folders["head"], out)

    assert outcome.returncode == 0, outcome.stderr
    result = json.loads((out / "result.json").read_text())
    assert result["exit_code"] == 0
    assert result["base"]["exit_code"] == 2
    assert result["base"]["compared"] is False
    assert result["base"]["error"].startswith("llmstack plan: error: Pulumi.dev.yaml: no such stack file")
    assert not (out / "head" / "diff.json").exists()
    assert (out / "head" / "report.md").read_text().startswith("<!-- llm-serving-plan stack=dev -->\n")


def test_a_bad_stack_file_is_recorded_not_raised(folders):
    out = folders["root"] / "broken-out"
    outcome = run("dev", folders["no-stack"], folders["broken"], out)

    assert outcome.returncode == 0  # the comment job fails the run, after posting
    result = json.loads((out / "result.json").read_text())
    assert result["exit_code"] == 2
    assert result["error"].startswith("llmstack plan: error: Pulumi.dev.yaml: regions[0].node_groups[0].max_nodes")
    assert not (out / "head" / "report.md").exists()


def test_a_head_that_cannot_be_set_up_fails(folders, tmp_path):
    outcome = run("dev", folders["no-stack"], tmp_path / "missing", tmp_path / "out")
    assert outcome.returncode != 0
    assert not (tmp_path / "out" / "result.json").exists()


def test_usage_is_one_line_and_exit_2(tmp_path):
    outcome = subprocess.run([str(SCRIPT), "dev"], capture_output=True, text=True, check=False)
    assert (outcome.returncode, outcome.stderr) == (2, "usage: preview.sh STACK BASE_CHECKOUT HEAD_CHECKOUT OUT\n")
