"""The deploy workflow's scripts: needs_foundation.py (first deploy or not, from `pulumi stack export`)
and sync_weights.py (each model's pinned revision into the weights bucket, against a moto server,
with a stand-in pulumi CLI for the stack's outputs and a stand-in for the Hugging Face download).
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from llmstack import weights_store as store
from llmstack.stackfile import load_stack

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = ROOT / ".github" / "scripts"


def load_script(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, SCRIPTS / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


sync_weights = load_script("sync_weights")


# --- needs_foundation.py ------------------------------------------------------------------------


def needs_foundation(stdin: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPTS / "needs_foundation.py")], input=stdin, capture_output=True, text=True, check=False
    )


def export(*types: str) -> str:
    resources = [{"urn": f"urn:pulumi:prod::llm-serving::{t}::r{i}", "type": t} for i, t in enumerate(types)]
    return json.dumps({"version": 3, "deployment": {"manifest": {}, "resources": resources}})


@pytest.mark.parametrize(
    ("state", "needed"),
    [
        ("", "true"),  # the stack was just created: no state yet
        (json.dumps({"version": 3, "deployment": {}}), "true"),
        (export("pulumi:pulumi:Stack", "pulumi:providers:aws", "aws:eks/cluster:Cluster"), "true"),
        (export("pulumi:providers:kubernetes", "aws:eks/addon:Addon"), "true"),  # a provider is no workload
        (export("aws:eks/cluster:Cluster", "kubernetes:apps/v1:Deployment"), "false"),
    ],
)
def test_the_foundation_runs_only_before_any_kubernetes_resource(state, needed):
    outcome = needs_foundation(state)
    assert (outcome.returncode, outcome.stdout) == (0, f"{needed}\n")
    assert outcome.stderr.startswith(f"foundation {'needed' if needed == 'true' else 'not needed'}: ")


@pytest.mark.parametrize("state", ["not json", "[1, 2]"])
def test_needs_foundation_refuses_what_is_not_an_export(state):
    outcome = needs_foundation(state)
    assert outcome.returncode == 2 and outcome.stdout == ""
    assert outcome.stderr.startswith("needs_foundation: stdin is not `pulumi stack export` JSON")
    assert outcome.stderr.count("\n") == 1


# --- sync_weights.py ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def bucket(endpoint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request) -> dict[str, Any]:
    """A weights bucket and KMS key on the moto server, named by a stand-in `pulumi stack output`."""
    for name in [name for name in os.environ if name.startswith("AWS_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)  # boto3 sends every client here
    s3 = boto3.client("s3", region_name="us-east-1")
    name = f"weights-{request.node.name.replace('_', '-')[:40].lower().strip('-')}"
    s3.create_bucket(Bucket=name)
    key = boto3.client("kms", region_name="us-east-1").create_key()["KeyMetadata"]["Arn"]

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    pulumi = bin_dir / "pulumi"
    outputs = json.dumps({"weights_bucket": name, "weights_kms_key_arn": key})
    pulumi.write_text(f"#!/bin/sh\necho \"$@\" >> {tmp_path / 'pulumi-argv'}\necho '{outputs}'\n")
    pulumi.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.chdir(ROOT)
    return {"name": name, "s3": s3, "argv": tmp_path / "pulumi-argv"}


class FakeHub:
    """Stands in for the Hugging Face download: a config and a small safetensors file per revision."""

    def __init__(self, fail: bool = False) -> None:
        self.calls: list[tuple[str, str]] = []
        self.fail = fail

    def __call__(self, source: str, revision: str, directory: Path) -> None:
        self.calls.append((source, revision))
        if self.fail:
            raise OSError("401 Client Error: access to model meta-llama/Llama-3.1-70B-Instruct is restricted")
        (directory / ".cache" / "huggingface").mkdir(parents=True)  # what snapshot_download leaves beside
        (directory / "config.json").write_text(json.dumps({"source": source}))
        (directory / "model.safetensors").write_bytes(revision.encode() * 64)


def keys(bucket: dict[str, Any]) -> set[str]:
    listing = bucket["s3"].list_objects_v2(Bucket=bucket["name"])
    return {item["Key"] for item in listing.get("Contents", [])}


def models(stack: str) -> list[Any]:
    return list(load_stack(stack, None, ROOT).platform.models)


def test_pushes_each_missing_revision_once(bucket, tmp_path, capsys):
    [model] = models("dev")
    hub = FakeHub()
    work = tmp_path / "work"

    assert sync_weights.main(["--stack", "dev", "--work-dir", str(work)], download=hub) == 0

    assert hub.calls == [(model.source, model.revision)]
    prefix = f"{store.ROOT_PREFIX}/{model.name}/{model.revision}/"
    assert keys(bucket) >= {prefix + "config.json", prefix + "model.safetensors", prefix + store.MANIFEST}
    assert not any(".cache" in key for key in keys(bucket))
    assert list(work.iterdir()) == []  # the download is removed after its push
    out = capsys.readouterr().out
    assert f"{model.name}: downloading {model.source} at {model.revision}\n" in out
    assert f"pushed s3://{bucket['name']}/{prefix}: 2 files" in out

    again = FakeHub()
    assert sync_weights.main(["--stack", "dev", "--work-dir", str(work)], download=again) == 0
    assert again.calls == []
    assert capsys.readouterr().out == f"{model.name}: {model.revision} already in the bucket\n"
    assert set(bucket["argv"].read_text().splitlines()) == {"stack output --json --stack dev"}


def test_a_sensitive_model_never_enters_the_bucket(bucket, tmp_path, capsys):
    hub = FakeHub()
    assert sync_weights.main(["--stack", "prod", "--work-dir", str(tmp_path / "work")], download=hub) == 0

    sensitive = [m for m in models("prod") if m.sensitive]
    assert sensitive, "prod has a sensitive model"
    assert hub.calls == [(m.source, m.revision) for m in models("prod") if not m.sensitive]
    stored = {key.split("/")[1] for key in keys(bucket)}
    assert stored == {m.name for m in models("prod") if not m.sensitive}
    out = capsys.readouterr().out
    for model in sensitive:
        assert f"{model.name}: sensitive, not for the AWS bucket; push it to its target's store" in out


def test_a_failed_download_stops_with_one_line(bucket, tmp_path, capsys):
    assert sync_weights.main(["--stack", "prod", "--work-dir", str(tmp_path / "work")], download=FakeHub(True)) == 1
    err = capsys.readouterr().err
    first = models("prod")[0]
    assert err == (
        f"{first.name}: download of {first.source}@{first.revision} failed: 401 Client Error: "
        "access to model meta-llama/Llama-3.1-70B-Instruct is restricted\n"
    )
    assert keys(bucket) == set()


def test_an_unknown_stack_is_one_line_and_exit_2(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    assert sync_weights.main(["--stack", "staging", "--work-dir", str(tmp_path)]) == 2
    assert capsys.readouterr().err == (
        "sync_weights: error: Pulumi.staging.yaml: no such stack file; stacks here: dev, prod\n"
    )
