"""The lock is the install: uv.lock agrees with pyproject.toml, `make setup` and `pulumi install`
(Pulumi.yaml's uv toolchain) build .venv from it the same way, and .venv holds what it pins.

Every uv call here is offline: the checks need only the committed files and .venv.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

if sys.version_info >= (3, 11):
    import tomllib
else:  # tomli is in the lock for Python 3.10 (pytest needs it there)
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
UV = VENV / "bin" / "uv"
# The providers whose SDK versions choose the provider plugins a plan and a deployment run
PROVIDER_SDKS = ("pulumi", "pulumi-aws", "pulumi-kubernetes")


def uv(*args: str, project: Path = ROOT) -> subprocess.CompletedProcess[str]:
    assert UV.is_file(), f"{UV} is missing: run `make setup` (uv.lock pins uv, so .venv carries it)"
    env = {k: v for k, v in os.environ.items() if not k.startswith("UV_")}
    env |= {"UV_OFFLINE": "1", "UV_PROJECT_ENVIRONMENT": str(VENV), "NO_COLOR": "1"}
    return subprocess.run(
        [str(UV), *args, "--project", str(project)], capture_output=True, text=True, env=env, timeout=120
    )


def lock() -> dict[str, Any]:
    return tomllib.loads((ROOT / "uv.lock").read_text())


def pyproject() -> dict[str, Any]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def locked_versions() -> dict[str, str]:
    return {p["name"]: p["version"] for p in lock()["package"]}


def make_variable(name: str) -> str:
    match = re.search(rf"^{name}\s*:?=\s*(\S+)\s*$", (ROOT / "Makefile").read_text(), re.MULTILINE)
    assert match, f"Makefile defines no {name}"
    return match.group(1)


def stamp_recipe() -> list[str]:
    """The commands `make setup` runs to install the dependencies (the stamp file's recipe)."""
    text = (ROOT / "Makefile").read_text()
    match = re.search(r"^\$\(STAMP\):.*\n((?:\t.*\n)+)", text, re.MULTILINE)
    assert match, "Makefile has no $(STAMP) rule"
    return [line.strip() for line in match.group(1).splitlines()]


def test_lock_matches_pyproject() -> None:
    result = uv("lock", "--check")
    assert result.returncode == 0, f"uv.lock does not match pyproject.toml (run `make lock`):\n{result.stderr}"


def test_lock_check_catches_a_changed_requirement(tmp_path: Path) -> None:
    # The check above is only worth something if a pyproject.toml the lock was not made from fails it
    shutil.copy(ROOT / "uv.lock", tmp_path / "uv.lock")
    text = (ROOT / "pyproject.toml").read_text()
    changed = text.replace('"pulumi-aws>=7.10,<8"', '"pulumi-aws>=7.11,<8"')
    assert changed != text, "pyproject.toml no longer pins pulumi-aws as this test expects"
    (tmp_path / "pyproject.toml").write_text(changed)
    assert uv("lock", "--check", project=tmp_path).returncode != 0


def test_venv_is_exactly_the_lock() -> None:
    # --check: would a sync add, change or remove anything in .venv? (what `pulumi install` would do)
    result = uv("sync", "--locked", "--check")
    assert result.returncode == 0, f".venv differs from uv.lock (run `make setup`):\n{result.stderr}"


@pytest.mark.parametrize("name", PROVIDER_SDKS)
def test_installed_provider_sdk_is_the_locked_one(name: str) -> None:
    from importlib.metadata import version

    assert Path(sys.prefix).resolve() == VENV.resolve(), f"tests must run in {VENV}, not {sys.prefix}"
    assert version(name) == locked_versions()[name]


def test_every_hash_comes_from_pypi() -> None:
    # Reproducible anywhere: no file or machine-local index, and no package without hashes
    for package in lock()["package"]:
        source = package["source"]
        if "editable" in source:
            assert package["name"] == pyproject()["project"]["name"], package
            continue
        assert source == {"registry": "https://pypi.org/simple"}, package["name"]
        files = package.get("wheels", []) + ([package["sdist"]] if "sdist" in package else [])
        assert files and all(f["hash"].startswith("sha256:") for f in files), package["name"]


def test_pulumi_toolchain_is_the_one_make_setup_uses() -> None:
    options = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["runtime"]["options"]
    assert options["toolchain"] == "uv"
    assert options["virtualenv"] == make_variable("VENV")
    # Pulumi's uv toolchain runs a bare `uv sync`: make must select the same extras and groups (none
    # given: the project's dependencies and the default `dev` group), or one would undo the other
    syncs = [line.split() for line in stamp_recipe() if " sync " in f" {line} "]
    assert syncs, f"the $(STAMP) recipe runs no uv sync: {stamp_recipe()}"
    for words in syncs:
        flags = words[words.index("sync") + 1 :]
        assert set(flags) <= {"--locked", "--quiet"}, f"make setup syncs with {flags}; Pulumi's `uv sync` would not"
    config = pyproject()
    assert "optional-dependencies" not in config["project"], "extras are not installed by Pulumi's `uv sync`"
    assert config.get("tool", {}).get("uv", {}).get("default-groups", ["dev"]) == ["dev"]
    assert "dev" in config["dependency-groups"]
    # The pip toolchain would read requirements.txt; with uv it must not exist to be read instead
    assert not (ROOT / "requirements.txt").exists()


def test_one_uv_release_everywhere() -> None:
    # The uv make setup bootstraps (requirements-uv.txt), the one the lock keeps in .venv and the one
    # pyproject.toml requires of whoever runs `uv sync` (Pulumi included) are the same release
    config = pyproject()
    required = config["tool"]["uv"]["required-version"]
    assert required.startswith("=="), required
    release = required.removeprefix("==")
    assert f"uv=={release}" in config["dependency-groups"]["uv"]
    assert {"include-group": "uv"} in config["dependency-groups"]["dev"]
    (locked,) = [p for p in lock()["package"] if p["name"] == "uv"]
    assert locked["version"] == release
    bootstrap = (ROOT / "requirements-uv.txt").read_text()
    assert re.findall(r"^(\S+)==(\S+)", bootstrap, re.MULTILINE) == [("uv", release)]
    locked_hashes = {f["hash"] for f in [*locked["wheels"], locked["sdist"]]}
    assert set(re.findall(r"--hash=(sha256:[0-9a-f]{64})", bootstrap)) == locked_hashes
    version = subprocess.run([str(UV), "--version"], capture_output=True, text=True, timeout=60, check=True)
    assert version.stdout.split()[:2] == ["uv", release]
