"""The GitHub Actions workflows: actionlint finds nothing, every action is pinned by commit, every job
declares least-privilege permissions, and every command a `run:` block calls exists with the flags
it passes (make targets, llmstack subcommands, .github/scripts, the policy pack and its config).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

from llmstack.cli import build_parser
from llmstack.stackfile import load_stack

ROOT = Path(__file__).resolve().parents[2]
GITHUB = ROOT / ".github"
WORKFLOWS = sorted((GITHUB / "workflows").glob("*.yml"))
ACTIONS = sorted((GITHUB / "actions").glob("*/action.yml"))
BIN = Path(sys.executable).parent  # the venv's bin: actionlint and shellcheck come from the dev extra
PINNED = re.compile(
    r"^\s*(?:-\s+)?uses:\s+(?P<action>[\w.-]+/[\w.-]+(?:/[\w./-]+)?)@(?P<sha>[0-9a-f]{40})"
    r"\s+#\s+(?P<version>v\d+\.\d+\.\d+)\s*$"
)
LOCAL = re.compile(r"^\s*(?:-\s+)?uses:\s+\./\S+\s*$")
CODEBUILD_LABEL = "-${{ github.run_id }}-${{ github.run_attempt }}"


def read(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text())


def triggers(workflow: dict[str, Any]) -> dict[str, Any]:
    """`on:` (YAML 1.1 reads the bare key as True)."""
    value = workflow["on"] if "on" in workflow else workflow[True]  # type: ignore[index]
    if isinstance(value, dict):
        return value
    return {name: None for name in ([value] if isinstance(value, str) else list(value))}


def jobs(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    yield from (read(path).get("jobs") or {}).items()


def steps(path: Path) -> Iterator[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(job id, job, step) of a workflow, or ('', {}, step) of a composite action."""
    document = read(path)
    if "runs" in document:
        for step in document["runs"]["steps"]:
            yield "", {}, step
        return
    for job_id, job in (document.get("jobs") or {}).items():
        for step in job.get("steps") or []:
            yield job_id, job, step


def uses_of(job: dict[str, Any]) -> list[str]:
    return [str(step["uses"]) for step in job.get("steps") or [] if "uses" in step]


# --- actionlint and shellcheck ----------------------------------------------------------------


def tool(name: str) -> str:
    path = BIN / name
    assert path.is_file(), f"{name} is not in {BIN}: run `make setup` (the dev extra installs it)"
    return str(path)


def actionlint(cwd: Path, files: list[Path]) -> subprocess.CompletedProcess[str]:
    """actionlint with shellcheck for the run: scripts (pyflakes off: no Python runs inline)."""
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    argv = [tool("actionlint"), "-no-color", "-oneline", "-shellcheck", tool("shellcheck"), "-pyflakes", ""]
    return subprocess.run(
        [*argv, *map(str, files)], cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_the_workflows_exist():
    assert {path.name for path in WORKFLOWS} >= {"preview.yml", "deploy.yml", "deploy-stack.yml", "drift.yml"}


def test_actionlint_finds_nothing():
    result = actionlint(ROOT, WORKFLOWS)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def test_actionlint_reports_a_broken_copy(tmp_path: Path):
    """The lint is not vacuous: an injected expression, an unquoted variable and a needs on a missing
    job in a copy of preview.yml are each reported."""
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    shutil.copytree(GITHUB, tmp_path / ".github")
    copy = tmp_path / ".github" / "workflows" / "preview.yml"
    text = copy.read_text()
    run = 'run: head/.github/scripts/preview.sh "$STACK" base head plan-out'
    assert run in text and "needs: [plan, pulumi-preview]" in text
    text = text.replace(run, "run: head/.github/scripts/preview.sh $STACK ${{ github.event.pull_request.title }}")
    copy.write_text(text.replace("needs: [plan, pulumi-preview]", "needs: [plan, pulumi-review]"))

    result = actionlint(tmp_path, [copy])

    assert result.returncode == 1
    kinds = set(re.findall(r"\[([a-z-]+)\]$", result.stdout, flags=re.M))
    assert kinds >= {"expression", "shellcheck", "job-needs"}, result.stdout


def run_blocks_of_composite_actions() -> list[tuple[Path, str]]:
    return [(path, str(step["run"])) for path in ACTIONS for _, _, step in steps(path) if "run" in step]


def test_shellcheck_passes_the_scripts_and_the_composite_actions(tmp_path: Path):
    """actionlint checks the workflows' run: blocks; the scripts and composite actions are checked here."""
    scripts = sorted((GITHUB / "scripts").glob("*.sh"))
    assert scripts and run_blocks_of_composite_actions()
    for index, (_, run) in enumerate(run_blocks_of_composite_actions()):
        script = tmp_path / f"composite-{index}.sh"
        script.write_text("#!/usr/bin/env bash\n" + re.sub(r"\$\{\{.*?\}\}", "EXPR", run))
        scripts.append(script)
    result = subprocess.run(
        [tool("shellcheck"), "-s", "bash", *map(str, scripts)], capture_output=True, text=True, check=False
    )
    assert (result.returncode, result.stdout) == (0, "")


# --- pinned actions -----------------------------------------------------------------------------


def test_every_action_is_pinned_to_a_commit_with_its_version():
    pins: dict[str, set[tuple[str, str]]] = {}
    for path in [*WORKFLOWS, *ACTIONS]:
        lines = [line for line in path.read_text().splitlines() if re.match(r"^\s*(?:-\s+)?uses:", line)]
        for line in lines:
            match = PINNED.match(line)
            assert match or LOCAL.match(line), f"{path.name}: not pinned to a 40-hex commit with `# vX.Y.Z`: {line}"
            if match:
                pins.setdefault(match["action"], set()).add((match["sha"], match["version"]))
        # every `uses` the YAML holds is one of the lines checked (none hidden in flow style)
        parsed = [str(step["uses"]) for _, _, step in steps(path) if "uses" in step]
        parsed += [str(job["uses"]) for _, job in (jobs(path) if "jobs" in read(path) else []) if "uses" in job]
        assert sorted(parsed) == sorted(line.split("uses:", 1)[1].split("#", 1)[0].strip() for line in lines)
    assert {action: len(versions) for action, versions in pins.items()} == dict.fromkeys(pins, 1), (
        "one commit per action across the workflows"
    )
    assert set(pins) >= {"actions/checkout", "actions/upload-artifact", "aws-actions/configure-aws-credentials"}


def test_local_references_exist():
    for path in [*WORKFLOWS, *ACTIONS]:
        for reference in re.findall(r"uses:\s+(\./\S+)", path.read_text()):
            target = ROOT / reference
            assert target.is_file() or (target / "action.yml").is_file(), f"{path.name}: {reference} does not exist"


# --- permissions --------------------------------------------------------------------------------

SCOPES = {
    "actions", "attestations", "checks", "contents", "deployments", "id-token", "issues", "models",
    "discussions", "packages", "pages", "pull-requests", "repository-projects", "security-events", "statuses",
}  # fmt: skip
AWS_CREDENTIALS = "aws-actions/configure-aws-credentials@"


def called_workflow(job: dict[str, Any]) -> Path | None:
    uses = job.get("uses")
    return ROOT / uses[2:] if isinstance(uses, str) and uses.startswith("./") else None


def assumes_a_role(job: dict[str, Any]) -> bool:
    """The job, or the reusable workflow it calls, gets AWS credentials through OIDC."""
    called = called_workflow(job)
    if called is not None:
        return any(assumes_a_role(inner) for _, inner in jobs(called))
    return any(uses.startswith(AWS_CREDENTIALS) for uses in uses_of(job))


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_permissions_are_declared_and_least(path: Path):
    workflow = read(path)
    assert workflow.get("permissions") in ({}, {"contents": "read"}), f"{path.name}: workflow-level permissions"
    for job_id, job in jobs(path):
        granted = job.get("permissions")
        assert isinstance(granted, dict), f"{path.name}: job {job_id} declares no permissions mapping"
        assert set(granted) <= SCOPES and set(granted.values()) <= {"read", "write", "none"}, job_id
        writes = {scope for scope, level in granted.items() if level == "write"}
        allowed = {"id-token"} if assumes_a_role(job) else set()
        if job_id == "comment":
            allowed.add("pull-requests")
        assert writes == allowed, f"{path.name}: job {job_id} may write {sorted(writes)}, needs {sorted(allowed)}"


def test_no_workflow_runs_untrusted_code_with_secrets():
    """pull_request_target and workflow_run run with a write token and the secrets: no workflow uses them."""
    for path in WORKFLOWS:
        assert not set(triggers(read(path))) & {"pull_request_target", "workflow_run"}, path.name
    assert "pull_request" in triggers(read(GITHUB / "workflows" / "preview.yml"))


def test_aws_credentials_come_from_oidc_only():
    found = 0
    for path in WORKFLOWS:
        for job_id, job, step in steps(path):
            if str(step.get("uses", "")).startswith(AWS_CREDENTIALS):
                found += 1
                given = step.get("with") or {}
                assert re.fullmatch(r"\$\{\{ vars\.AWS_(PREVIEW|DEPLOY)_ROLE_ARN \}\}", given.get("role-to-assume", ""))
                assert not set(given) & {"aws-access-key-id", "aws-secret-access-key", "aws-session-token"}, job_id
                assert job["permissions"].get("id-token") == "write", f"{path.name}: {job_id}"
    assert found >= 4


# --- structure ----------------------------------------------------------------------------------


def matrix_stacks(job: dict[str, Any]) -> list[str]:
    matrix = (job.get("strategy") or {}).get("matrix") or {}
    return [*(matrix.get("stack") or []), *(entry["stack"] for entry in matrix.get("include") or [])]


def test_every_stack_named_has_a_stack_file():
    named = []
    for path in WORKFLOWS:
        for _, job in jobs(path):
            named += matrix_stacks(job)
            named += [job["with"]["stack"]] if called_workflow(job) else []
    dispatch = triggers(read(GITHUB / "workflows" / "deploy.yml"))["workflow_dispatch"]["inputs"]["stack"]["options"]
    assert sorted(set(named)) == sorted(set(dispatch)) == ["dev", "prod"]
    for stack in set(named):
        assert load_stack(stack, None, ROOT).stack == stack


def test_each_stack_deploys_alone_and_is_never_cancelled():
    deploy = dict(jobs(GITHUB / "workflows" / "deploy.yml"))
    for stack in ("dev", "prod"):
        job = deploy[stack]
        assert job["uses"] == "./.github/workflows/deploy-stack.yml"
        assert job["with"]["stack"] == stack
        assert job["concurrency"] == {"group": f"deploy-{stack}", "cancel-in-progress": False}
    assert deploy["prod"]["needs"] == "dev"
    assert triggers(read(GITHUB / "workflows" / "deploy.yml"))["push"] == {"branches": ["main"]}


def test_deploy_phases_run_in_order_in_the_stack_environment():
    stack_jobs = dict(jobs(GITHUB / "workflows" / "deploy-stack.yml"))
    assert list(stack_jobs) == ["foundation", "weights", "workloads"]
    assert (stack_jobs["weights"]["needs"], stack_jobs["workloads"]["needs"]) == ("foundation", "weights")
    for job in stack_jobs.values():
        assert job["environment"] == "${{ inputs.stack }}"


def runs_on_labels(job: dict[str, Any]) -> list[str]:
    runs_on = job.get("runs-on", [])
    return [runs_on] if isinstance(runs_on, str) else list(runs_on)


def test_codebuild_runner_labels_have_aws_format():
    """`codebuild-<project-name>-${{ github.run_id }}-${{ github.run_attempt }}` (AWS CodeBuild User Guide,
    "Label overrides supported with the CodeBuild-hosted GitHub Actions runner"), written out or by format()."""
    formatted = "format('codebuild-{0}-{1}-{2}', matrix.runner-project, github.run_id, github.run_attempt)"
    seen = 0
    for path in WORKFLOWS:
        for job_id, job in jobs(path):
            for label in runs_on_labels(job):
                if "codebuild" not in label:
                    continue
                seen += 1
                written = label == "codebuild-${{ inputs.runner-project }}" + CODEBUILD_LABEL
                assert written or formatted in label, f"{path.name}: {job_id}: {label}"
    assert seen == 4  # weights, workloads, the PR's pulumi preview, the drift check


# --- the commands the run: blocks call ----------------------------------------------------------


@dataclass
class Command:
    path: Path
    job_id: str
    argv: list[str]
    job: dict[str, Any] = field(default_factory=dict)


OPERATORS = {"&&", "||", ";", "|", "(", ")", "!", "&"}
KEYWORDS = {"if", "then", "else", "elif", "fi", "do", "done", "while", "until", "for", "time"}


STAND_IN = "1"
"""What an unknown variable or expression becomes: a value every flag here takes (names, numbers, paths)."""


def literal(value: Any) -> str:
    """A stand-in for a variable: the first quoted literal of its expression, else STAND_IN."""
    text = str(value)
    if "${{" not in text:
        return text
    quoted = re.findall(r"'([^']*)'", text)
    return quoted[0] if quoted else STAND_IN


def expand(token: str, env: dict[str, str]) -> str:
    return re.sub(r"\$\{?(\w+)\}?", lambda m: env.get(m.group(1), STAND_IN), token)


def split_commands(run: str, env: dict[str, str]) -> list[list[str]]:
    """Each simple command of a bash script, variables replaced by stand-ins, redirections dropped."""
    text = re.sub(r"\$\{\{.*?\}\}", STAND_IN, run).replace("\\\n", " ")
    found: list[list[str]] = []
    for line in text.splitlines():
        if not line.strip() or line.strip().startswith("#"):
            continue
        lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        current: list[str] = []
        tokens = iter(list(lexer))
        for token in tokens:
            if token in OPERATORS:
                found.append(current)
                current = []
            elif set(token) <= set("<>&") and token:
                next(tokens, None)  # the redirection's target
            elif not current and (token in KEYWORDS or re.match(r"^\w+=", token)):
                continue
            else:
                current.append(expand(token, env))
        found.append(current)
    return [argv for argv in found if argv]


def commands() -> list[Command]:
    found = []
    for path in [*WORKFLOWS, *ACTIONS]:
        document = read(path)
        for job_id, job, step in steps(path):
            if "run" not in step:
                continue
            env = {k: literal(v) for k, v in {**(document.get("env") or {}), **job.get("env", {})}.items()}
            env.update({k: literal(v) for k, v in (step.get("env") or {}).items()})
            found += [Command(path, job_id, argv, job) for argv in split_commands(str(step["run"]), env)]
    return found


def makefile_targets() -> set[str]:
    return set(re.findall(r"^([\w.-]+):", (ROOT / "Makefile").read_text(), flags=re.M))


def load_script(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name.removesuffix(".py"), GITHUB / "scripts" / name)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def parses(parser: argparse.ArgumentParser, argv: list[str], where: str) -> argparse.Namespace:
    try:
        return parser.parse_args(argv)
    except SystemExit:
        pytest.fail(f"{where}: {shlex.join(argv)} does not parse")


def llmstack_args(argv: list[str]) -> list[str] | None:
    if Path(argv[0]).name == "llmstack":
        return argv[1:]
    if Path(argv[0]).name.startswith("python") and argv[1:3] == ["-m", "llmstack"]:
        return argv[3:]
    return None


def script_of(argv: list[str]) -> tuple[str, list[str]] | None:
    """(script name, its arguments) for a .github/scripts program, run directly or by a python."""
    for index, token in enumerate(argv[:2]):
        if "/.github/scripts/" in f"/{token}":
            return Path(token).name, argv[index + 1 :]
    return None


def test_the_run_blocks_were_read():
    argvs = [c.argv[:2] for c in commands()]
    assert ["make", "setup"] in argvs
    assert sum(1 for c in commands() if llmstack_args(c.argv) is not None) >= 2
    assert {name for c in commands() if (s := script_of(c.argv)) for name in [s[0]]} >= {
        "preview.sh", "pr_comment.py", "sync_weights.py", "needs_foundation.py",
    }  # fmt: skip


def test_make_targets_exist():
    targets = makefile_targets()
    for command in commands():
        if command.argv[0] == "make":
            wanted = [arg for arg in command.argv[1:] if not arg.startswith("-") and "=" not in arg]
            assert wanted and set(wanted) <= targets, f"{command.path.name}: make {wanted}"


def test_llmstack_commands_parse():
    for command in commands():
        args = llmstack_args(command.argv)
        if args is not None:
            parses(build_parser(args[0] if args else None), args, f"{command.path.name} {command.job_id}")


def test_scripts_exist_and_their_arguments_parse():
    for command in commands():
        found = script_of(command.argv)
        if found is None:
            continue
        name, args = found
        path = GITHUB / "scripts" / name
        assert path.is_file(), f"{command.path.name}: {name} does not exist"
        where = f"{command.path.name} {command.job_id}"
        if name.endswith(".sh"):
            assert os.access(path, os.X_OK) and command.argv[0].endswith(name), f"{where}: {name} is not executable"
            assert len(args) == 4, f"{where}: preview.sh STACK BASE HEAD OUT"
        elif name == "needs_foundation.py":
            assert args == [], where
        else:
            parses(load_script(name).build_parser(), args, where)


def test_pulumi_updates_run_the_pack_with_the_config_the_plan_wrote():
    """Every `pulumi up`, and the pull request's `pulumi preview`, runs `--policy-pack policies` with the
    policy-config.json an `llmstack plan` of the same job (or the plan job's artifact) wrote."""
    assert (ROOT / "policies" / "PulumiPolicy.yaml").is_file()
    checked = 0
    for command in commands():
        argv = command.argv
        if argv[:1] != ["pulumi"] or argv[1] not in ("up", "preview"):
            continue
        if argv[1] == "preview" and command.path.name == "drift.yml":
            continue  # reads the cloud only
        options = dict(zip(argv[2:], argv[3:], strict=False))
        assert options.get("--policy-pack") == "policies", f"{command.path.name}: {shlex.join(argv)}"
        config = Path(options["--policy-pack-config"])
        assert config.name == "policy-config.json"
        outs = {
            Path(dict(zip(c.argv, c.argv[1:], strict=False))["--out"])
            for c in commands()
            if c.path == command.path and c.job_id == command.job_id and (llmstack_args(c.argv) or [""])[0] == "plan"
        }
        downloaded = {
            Path(str(step["with"]["path"])) / "head"
            for step in command.job.get("steps", [])
            if str(step.get("uses", "")).startswith("actions/download-artifact@")
            and str(step["with"]["name"]).startswith("plan-")
        }
        assert config.parent in outs | downloaded, f"{command.path.name} {command.job_id}: {config}"
        checked += 1
    assert checked == 3  # foundation, workloads, the pull request's preview


def test_the_foundation_phase_is_a_config_value_the_program_accepts():
    from stacks.config import parse_platform_config

    settings = [
        argv[argv.index("--config") + 1] for argv in (c.argv for c in commands()) if argv[:2] == ["pulumi", "up"]
        and "--config" in argv
    ]  # fmt: skip
    assert settings == ["llm-serving:deploy_phase=foundation"]
    key, value = settings[0].split("=", 1)
    values = {k.split(":", 1)[1]: v for k, v in load_stack("prod", None, ROOT).config.items() if k.startswith("llm-")}
    values[key.split(":", 1)[1]] = value
    assert parse_platform_config(values).model_dump()["deploy_phase"] == "foundation"
