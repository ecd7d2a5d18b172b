"""What users expect of a command line: --version, --help with examples and exit codes for every
command, shell completion, `make help`, build/ at the project root from any folder, and
`python -m policies.docs --help` that only prints help."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from llmstack import cli

ROOT = Path(__file__).resolve().parents[2]
LLMSTACK = Path(sys.executable).parent / "llmstack"


def test_version(capsys):
    with pytest.raises(SystemExit) as exited:
        cli.main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out == "llmstack 0.1.0\n"


@pytest.mark.parametrize("command", sorted(cli.COMMANDS))
def test_every_command_has_help_with_a_description_examples_and_exit_codes(command, capsys):
    with pytest.raises(SystemExit) as exited:
        cli.main([command, "--help"])
    assert exited.value.code == 0
    text = capsys.readouterr().out
    description, examples, exit_codes = cli.GUIDE[command]
    assert description.split()[0] in text
    assert "examples:\n" + "\n".join(f"  {e}" for e in examples) in text
    assert f"exit codes: {exit_codes}" in text
    assert text.count("exit codes: ") == 1


def test_every_command_has_a_guide_entry():
    assert sorted(cli.GUIDE) == sorted(cli.COMMANDS)


def complete(line: str, tmp_path: Path) -> list[str]:
    out = tmp_path / "completions"
    env = {
        **os.environ,
        "_ARGCOMPLETE": "1",
        "COMP_LINE": line,
        "COMP_POINT": str(len(line)),
        "_ARGCOMPLETE_STDOUT_FILENAME": str(out),
    }
    result = subprocess.run([str(LLMSTACK)], env=env, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    return out.read_text().split()


def test_shell_completion_of_commands_and_flags(tmp_path):
    assert complete("llmstack pre", tmp_path) == ["preflight"]
    assert complete("llmstack preflight --st", tmp_path) == ["--stack"]
    assert "restore" in complete("llmstack weights ", tmp_path)


def test_make_help_lists_every_documented_target():
    result = subprocess.run(["make", "-s", "help"], cwd=ROOT, capture_output=True, text=True, check=True)
    targets = [line.split()[1] for line in result.stdout.splitlines()]
    for target in ("setup", "preview", "test", "mutation", "lint", "bench", "lock", "clean", "help"):
        assert target in targets


def test_plan_writes_build_at_the_project_root_from_a_subfolder(tmp_path):
    out = ROOT / "build" / "dev" / "plan.json"
    before = out.stat().st_mtime_ns if out.exists() else 0
    result = subprocess.run(
        [str(LLMSTACK), "plan", "--stack", "dev"], cwd=ROOT / "stacks", capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    assert out.stat().st_mtime_ns > before
    assert not (ROOT / "stacks" / "build").exists()


def test_policies_docs_help_prints_help_and_writes_nothing():
    readme = ROOT / "policies" / "README.md"
    before = readme.stat().st_mtime_ns
    result = subprocess.run(
        [sys.executable, "-m", "policies.docs", "--help"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0
    assert result.stdout.startswith("usage: python -m policies.docs")
    assert readme.stat().st_mtime_ns == before
