"""`llmstack weights` as a user runs it, against a moto server on 127.0.0.1.

The main flows run the real process (`python -m llmstack.weights`); the other cases call
`weights.main` in this process, which is the same code after the interpreter has started.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import itertools
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from llmstack import weights
from llmstack.errors import UsageError
from llmstack.weights import Location, resolve_location

ROOT = Path(__file__).resolve().parents[2]
CONFIG = b"{}\n"
TAMPERED = b"[]\n"
WEIGHTS = bytes(range(256)) * 16
V1 = "0123456789abcdef0123456789abcdef01234567"
V2 = "fedcba9876543210fedcba9876543210fedcba98"
V3 = "5f0b02c75b57c5855da9ae460ce51323ea669d8a"
PREFIX = f"models/llama-3-8b/{V1}/"
REVISION = ["--model", "llama-3-8b", "--revision", V1]
HINT = "; pass --bucket and --kms-key instead"
LOG_LINES = r"(?:(?:hashing|uploading): 4\.0 KiB / 4\.0 KiB \(100%\), [0-9.]+ [KMG]?i?B/s, done in \d+ s\n){2}"
_bucket_numbers = itertools.count()


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """The child's environment: dummy credentials, no AWS config files, this checkout importable."""
    no_config = tmp_path_factory.mktemp("aws")
    inherited = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PYTHON"))}
    return {
        **inherited,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": str(no_config / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(no_config / "credentials"),
        "PYTHONPATH": str(ROOT),
    }


@pytest.fixture(autouse=True)
def aws_env(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> None:
    """The same dummy credentials for the in-process runs."""
    for name in [name for name in os.environ if name.startswith("AWS_")]:
        monkeypatch.delenv(name)
    for name, value in env.items():
        if name.startswith("AWS_"):
            monkeypatch.setenv(name, value)


@pytest.fixture(scope="module")
def clients(endpoint: str, env: dict[str, str]) -> dict[str, Any]:
    session = boto3.Session(
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
        region_name="us-east-1",
    )
    return {name: session.client(name, endpoint_url=endpoint) for name in ("s3", "kms")}


@pytest.fixture(scope="module")
def kms_key(clients: dict[str, Any]) -> str:
    return clients["kms"].create_key()["KeyMetadata"]["Arn"]


@pytest.fixture
def bucket(clients: dict[str, Any]) -> str:
    name = f"cli-weights-{next(_bucket_numbers)}"
    clients["s3"].create_bucket(Bucket=name)
    return name


@pytest.fixture
def model_dir(tmp_path: Path) -> Path:
    root = tmp_path / "model"
    root.mkdir()
    (root / "config.json").write_bytes(CONFIG)
    (root / "model.safetensors").write_bytes(WEIGHTS)
    return root


@pytest.fixture
def target(endpoint: str, bucket: str, kms_key: str) -> list[str]:
    """The flags that point the CLI at this test's bucket."""
    return ["--endpoint-url", endpoint, "--bucket", bucket, "--kms-key", kms_key]


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def llmstack_weights(env: dict[str, str], *args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "llmstack.weights", *map(str, args)],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=60,
        check=False,
    )


def run_main(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str, str]:
    """In process; progress lines are left out (--quiet) so stderr holds only errors."""
    quiet = ["--quiet"] if args and args[0] in ("push", "verify") and "--quiet" not in args else []
    code = weights.main([str(arg) for arg in [*args, *quiet]])
    out, err = capsys.readouterr()
    return code, out, err


def usage_error(message: str) -> tuple[int, str, str]:
    """What a user error looks like: exit 2, nothing on stdout, one line on stderr."""
    return 2, "", f"llmstack weights: error: {message}\n"


# --- the real process -------------------------------------------------------------------------


def test_push_verify_archive_list(env, target, bucket, model_dir, clients, capsys):
    push = llmstack_weights(env, "push", model_dir, *REVISION, "--multipart-threshold-mib", "0.001", *target)
    # stderr is no TTY: a log's progress lines, one per stage at its end (no redrawn bar).
    assert push.returncode == 0
    assert re.fullmatch(LOG_LINES, push.stderr), push.stderr
    assert push.stdout == (
        f"pushed s3://{bucket}/{PREFIX}: 2 files, 4.0 KiB; 2 uploaded, 0 already present; manifest written\n"
    )
    assert clients["s3"].head_object(Bucket=bucket, Key=PREFIX + "model.safetensors")["ETag"].endswith('-1"')

    verify = llmstack_weights(env, "verify", *REVISION, *target)
    assert verify.returncode == 0
    assert verify.stdout == f"OK s3://{bucket}/{PREFIX}: 2 files, sha256 of content\n"

    archive = llmstack_weights(env, "archive", *REVISION, "--stack", "dev", *target)
    assert (archive.returncode, archive.stdout) == (
        0,
        f"archived s3://{bucket}/{PREFIX} to GLACIER: 2 objects moved, 0 already archived; "
        "tagged llm-serving/tier=cold\n",
    )

    listing = llmstack_weights(env, "list", *target)
    assert (listing.returncode, listing.stderr) == (0, "")
    assert listing.stdout.splitlines() == [
        "MODEL       REVISION                                  FILES  SIZE     TIER     MANIFEST",
        f"llama-3-8b  {V1}  2      4.0 KiB  GLACIER  yes",
    ]

    fast = run_main(capsys, "verify", *REVISION, "--fast", *target)
    assert fast == (0, f"OK s3://{bucket}/{PREFIX}: 2 files, S3 checksums, no download\n", "")


def test_verify_exits_1_and_names_the_tampered_file(env, target, bucket, model_dir, clients, capsys):
    assert run_main(capsys, "push", model_dir, *REVISION, *target)[0] == 0
    clients["s3"].put_object(Bucket=bucket, Key=PREFIX + "config.json", Body=TAMPERED)

    verify = llmstack_weights(env, "verify", *REVISION, "--quiet", *target)

    assert (verify.returncode, verify.stderr) == (1, "")
    assert verify.stdout.splitlines() == [
        f"FAILED s3://{bucket}/{PREFIX}: 2 files, sha256 of content",
        f"  config.json: sha256 {sha256(TAMPERED)}, manifest says {sha256(CONFIG)}",
    ]


def test_an_aws_error_is_one_line_and_exits_2(env, endpoint):
    result = llmstack_weights(env, "list", "--endpoint-url", endpoint, "--bucket", "no-such-weights")
    assert (result.returncode, result.stdout, result.stderr) == usage_error(
        "s3://no-such-weights: no such bucket (check --bucket or the stack's weights_bucket output)"
    )


def test_a_bad_flag_is_one_line_and_exits_2(env):
    result = llmstack_weights(env, "verify", "--revision", V1, "--bucket", "b")
    assert (result.returncode, result.stdout, result.stderr) == (
        2,
        "",
        "llmstack weights verify: error: the following arguments are required: --model\n",
    )


def test_stack_outputs_come_from_the_pulumi_cli(env, endpoint, bucket, kms_key, model_dir, tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    outputs = json.dumps({"weights_bucket": bucket, "weights_kms_key_arn": kms_key})
    pulumi = bin_dir / "pulumi"
    pulumi.write_text(f"#!/bin/sh\necho \"$@\" > {tmp_path / 'argv'}\necho '{outputs}'\n")
    pulumi.chmod(0o755)
    with_pulumi = {**env, "PATH": f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"}

    stack = ["--stack", "prod", "--endpoint-url", endpoint]
    push = llmstack_weights(with_pulumi, "push", model_dir, *REVISION, *stack, "--quiet")

    assert (push.returncode, push.stderr) == (0, "")
    assert push.stdout.startswith(f"pushed s3://{bucket}/{PREFIX}: 2 files")
    assert (tmp_path / "argv").read_text() == "stack output --json --stack prod\n"


# --- in process: the same main() -------------------------------------------------------------


def test_list_of_an_empty_bucket(target, bucket, capsys):
    assert run_main(capsys, "list", *target) == (0, f"no revisions under s3://{bucket}/models/\n", "")


def test_missing_directory(target, tmp_path, capsys):
    missing = tmp_path / "absent"
    expected = usage_error(f"{missing}: no such directory")
    assert run_main(capsys, "push", missing, *REVISION, *target) == expected


def test_no_bucket_given(capsys):
    assert run_main(capsys, "list") == usage_error("no weights bucket: pass --bucket NAME or --stack NAME")


def test_stack_without_the_pulumi_cli(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("PATH", str(tmp_path))
    assert run_main(capsys, "list", "--stack", "prod") == usage_error(
        f"--stack prod: the pulumi CLI is not on PATH{HINT}"
    )


def test_multipart_threshold_must_be_positive(capsys):
    with pytest.raises(SystemExit) as exit_info:
        weights.main(["push", ".", *REVISION, "--multipart-threshold-mib", "0"])
    error = "argument --multipart-threshold-mib: '0': must be a positive number of MiB"
    assert (exit_info.value.code, capsys.readouterr().err) == (2, f"llmstack weights push: error: {error}\n")


def test_register_adds_weights_to_a_parser():
    parser = argparse.ArgumentParser(prog="llmstack")
    weights.register(parser.add_subparsers(dest="command", required=True))

    args = parser.parse_args(["weights", "verify", *REVISION, "--fast", "--bucket", "b"])

    assert (args.command, args.weights_command, args.fast, args.bucket) == ("weights", "verify", True, "b")
    assert callable(args.func)


def completed(returncode: int = 0, stdout: str = "", stderr: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.CompletedProcess(["pulumi"], returncode, stdout, stderr)


def location_args(**overrides: Any) -> argparse.Namespace:
    values = {
        "stack": "prod", "bucket": None, "kms_key": None, "region": None, "endpoint_url": None, "target": None,
        "model": None, **overrides,
    }  # fmt: skip
    return argparse.Namespace(**values)


def test_location_from_stack_outputs_with_the_region_of_the_key():
    key = "arn:aws:kms:eu-west-1:123456789012:key/mrk-1"
    run = lambda argv: completed(stdout=json.dumps({"weights_bucket": "w", "weights_kms_key_arn": key}))  # noqa: E731

    assert resolve_location(location_args(), run) == Location("w", key, "eu-west-1")
    flags = location_args(bucket="x", kms_key="alias/k", region="us-east-2")
    assert resolve_location(flags, run) == Location("x", "alias/k", "us-east-2")
    assert resolve_location(location_args(kms_key="alias/k"), run) == Location("w", "alias/k", None)


@pytest.mark.parametrize(
    ("result", "message"),
    [
        (
            completed(1, stderr="warning: x\nerror: no stack named 'prod' found\n"),
            f"--stack prod: `pulumi stack output` failed: error: no stack named 'prod' found{HINT}",
        ),
        (
            completed(stdout="Current stack outputs (0):"),
            f"--stack prod: `pulumi stack output --json` did not print JSON{HINT}",
        ),
        (completed(stdout="{}"), f"--stack prod: the stack has no weights_bucket output{HINT}"),
    ],
)
def test_stack_output_failures(result, message):
    with pytest.raises(UsageError) as info:
        weights.stack_outputs("prod", lambda argv: result)
    assert str(info.value) == message


# --- in process: output helpers ---------------------------------------------------------------


def test_a_terminal_gets_a_bar_with_rate_and_eta():
    stream = io.StringIO()
    progress = weights.TerminalProgress(stream)
    progress.start("uploading", 4096)
    for amount in (1024, 1, 3071):
        progress.update(amount)
    progress.finish()
    last = stream.getvalue().split("\r")[-1]
    assert last.startswith("uploading: 100%")
    assert "4.00k/4.00k" in last and "B/s]" in last  # tqdm: done/total [elapsed<eta, rate]


def test_a_log_gets_a_line_per_interval_and_one_at_the_end():
    stream, now = io.StringIO(), [0.0]
    progress = weights.LogProgress(stream, interval=30, clock=lambda: now[0])
    progress.start("uploading", 4 * 1024**3)
    for _ in range(4):  # 1 GiB every 20 s
        now[0] += 20
        progress.update(1024**3)
    progress.finish()
    assert stream.getvalue().splitlines() == [
        "uploading: 2.0 GiB / 4.0 GiB (50%), 51.2 MiB/s, ETA 40 s",
        "uploading: 4.0 GiB / 4.0 GiB (100%), 51.2 MiB/s, done in 80 s",
    ]


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("stderr", "quiet", "kind"),
    [
        (_Terminal(), False, weights.TerminalProgress),
        (_Terminal(), True, type(weights.store.NO_PROGRESS)),
        (io.StringIO(), False, weights.LogProgress),
        (io.StringIO(), True, type(weights.store.NO_PROGRESS)),
    ],
)
def test_a_bar_on_a_terminal_lines_in_a_log_nothing_when_quiet(monkeypatch, stderr, quiet, kind):
    monkeypatch.setattr(sys, "stderr", stderr)
    assert type(weights._progress(argparse.Namespace(quiet=quiet))) is kind


@pytest.mark.parametrize(
    ("size", "text"),
    [(0, "0 B"), (1023, "1023 B"), (1024, "1.0 KiB"), (5 * 1024**3, "5.0 GiB"), (3 * 1024**5, "3072.0 TiB")],
)
def test_format_size(size, text):
    assert weights.format_size(size) == text


# --- residency: sensitive weights go to an on-prem target's own store, never to AWS ----------------

PRIVATE = ["--model", "mistral-7b-private", "--revision", "e0bc86c23ce5aae1db576c8cca6f06f1f73af2db"]
PRIVATE_PREFIX = "models/mistral-7b-private/e0bc86c23ce5aae1db576c8cca6f06f1f73af2db/"


def test_a_sensitive_model_is_refused_for_the_aws_bucket(monkeypatch, target, tmp_path, model_dir, capsys):
    monkeypatch.setenv("PATH", str(tmp_path))  # no pulumi CLI: the refusal comes first, from the stack file
    refused = usage_error(
        "--model mistral-7b-private: sensitive (Pulumi.prod.yaml); its weights never enter an AWS bucket: "
        "pass --target dc1 (its on-prem store; placed on: dc1)"
    )
    assert run_main(capsys, "push", model_dir, *PRIVATE, "--stack", "prod", *target) == refused
    assert run_main(capsys, "verify", *PRIVATE, "--stack", "prod") == refused
    assert run_main(capsys, "archive", *PRIVATE, "--stack", "prod") == refused


def test_push_to_the_targets_store_without_kms(env, endpoint, bucket, model_dir, clients, capsys):
    # moto stands in for the data centre's S3-compatible store; the flags override its endpoint and bucket.
    store = ["--stack", "prod", "--target", "dc1", "--endpoint-url", endpoint, "--bucket", bucket]
    push = llmstack_weights(env, "push", model_dir, *PRIVATE, *store, "--quiet")
    assert (push.returncode, push.stderr) == (0, "")
    assert push.stdout.startswith(f"pushed s3://{bucket}/{PRIVATE_PREFIX}: 2 files, 4.0 KiB; 2 uploaded")
    for key in ("model.safetensors", "SHA256SUMS", "manifest.json"):
        head = clients["s3"].head_object(Bucket=bucket, Key=PRIVATE_PREFIX + key)
        assert head.get("ServerSideEncryption") != "aws:kms" and "SSEKMSKeyId" not in head, key
    assert run_main(capsys, "verify", *PRIVATE, *store) == (
        0,
        f"OK s3://{bucket}/{PRIVATE_PREFIX}: 2 files, sha256 of content\n",
        "",
    )


def test_the_targets_store_comes_from_the_stack_file():
    args = argparse.Namespace(
        stack="prod", target="dc1", model="mistral-7b-private", bucket=None, kms_key=None, region=None,
        endpoint_url=None,
    )  # fmt: skip
    assert resolve_location(args) == Location(
        "llm-sensitive-weights", None, "us-east-1", "https://objects.dc1.example.internal", store_encrypts=True
    )


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--target", "dc1", *PRIVATE], "--target dc1: needs --stack NAME (the stack file names the target's store)"),
        (
            ["--stack", "prod", "--target", "dc2", *PRIVATE],
            "--target dc2: no such on-prem target in Pulumi.prod.yaml (targets: dc1, dc1-rack2)",
        ),
        (
            ["--stack", "prod", "--target", "dc1", "--model", "llama-3-8b-instruct", "--revision", V1],
            "--model llama-3-8b-instruct: not a sensitive model of Pulumi.prod.yaml; dc1 reads other models from "
            "the weights bucket (push without --target)",
        ),
        (
            ["--stack", "prod", "--target", "dc1", "--kms-key", "alias/x", *PRIVATE],
            "--kms-key: not used with --target dc1; its store encrypts at rest with its own keys",
        ),
        (
            ["--stack", "dev", "--target", "dc1", *PRIVATE],
            "--target dc1: no such on-prem target in Pulumi.dev.yaml (targets: none)",
        ),
    ],
)
def test_target_mistakes_are_one_line(flags, message, capsys):
    assert run_main(capsys, "verify", *flags) == usage_error(message)


# --- tied to the stack: pinned revisions, repair, archive and restore -------------------------------


def pinned(stack: str, model: str) -> str:
    from llmstack.stackfile import load_stack

    return next(m.revision for m in load_stack(stack, None).platform.models if m.name == model)


def test_with_the_stack_the_revision_defaults_to_the_pinned_one(target, bucket, model_dir, capsys):
    revision = pinned("prod", "llama-3-8b-instruct")
    code, out, err = run_main(capsys, "push", model_dir, "--model", "llama-3-8b-instruct", "--stack", "prod", *target)
    assert (code, err) == (0, "")
    assert out.startswith(f"pushed s3://{bucket}/models/llama-3-8b-instruct/{revision}/: 2 files")


def test_without_the_stack_the_revision_is_required(target, model_dir, capsys):
    assert run_main(capsys, "push", model_dir, "--model", "llama-3-8b", *target) == usage_error(
        "--revision: required without --stack (with --stack it defaults to the commit the stack pins)"
    )


def test_a_model_the_stack_does_not_have_needs_a_revision(target, model_dir, capsys):
    assert run_main(capsys, "push", model_dir, "--model", "llama-9", "--stack", "dev", *target) == usage_error(
        "--model llama-9: not a model of Pulumi.dev.yaml (llama-3-8b-instruct); pass --revision"
    )


def test_archive_refuses_a_revision_the_stack_still_pins(target, bucket, model_dir, capsys):
    args = ["--model", "llama-3-8b-instruct", "--stack", "prod", *target]
    assert run_main(capsys, "push", model_dir, *args)[0] == 0
    revision = pinned("prod", "llama-3-8b-instruct")
    assert run_main(capsys, "archive", *args) == usage_error(
        f"--revision {revision}: Pulumi.prod.yaml still pins it for llama-3-8b-instruct; archive only a revision the "
        "stack no longer serves (and list it in the model's archived_revisions)"
    )
    assert run_main(capsys, "archive", *REVISION, *target) == usage_error(
        "archive: needs --stack NAME, to refuse a revision the stack still pins"
    )


def test_repair_uploads_exactly_what_verify_found_bad(target, bucket, model_dir, clients, capsys):
    assert run_main(capsys, "push", model_dir, *REVISION, *target)[0] == 0
    s3 = clients["s3"]
    # A corrupted weight file whose sha256 metadata still claims the right digest, and a tampered index.
    good = s3.head_object(Bucket=bucket, Key=PREFIX + "model.safetensors")["Metadata"]
    s3.put_object(Bucket=bucket, Key=PREFIX + "model.safetensors", Body=b"x" * len(WEIGHTS), Metadata=good)
    s3.put_object(Bucket=bucket, Key=PREFIX + "SHA256SUMS", Body=b"0" * 64 + b"  model.safetensors\n")
    untouched = s3.head_object(Bucket=bucket, Key=PREFIX + "config.json")["ETag"]

    code, out, err = run_main(capsys, "push", model_dir, *REVISION, "--repair", "--quiet", *target)
    assert (code, out, err) == (0, f"OK repaired s3://{bucket}/{PREFIX}: model.safetensors, SHA256SUMS\n", "")
    assert s3.head_object(Bucket=bucket, Key=PREFIX + "config.json")["ETag"] == untouched
    assert run_main(capsys, "verify", *REVISION, "--quiet", *target)[0] == 0


def test_repair_from_other_content_is_refused(target, bucket, model_dir, capsys):
    assert run_main(capsys, "push", model_dir, *REVISION, *target)[0] == 0
    (model_dir / "config.json").write_bytes(TAMPERED)
    assert run_main(capsys, "push", model_dir, *REVISION, "--repair", *target) == usage_error(
        f"{model_dir}: not the content s3://{bucket}/{PREFIX}manifest.json describes; repair needs the same "
        "revision's files (or push --force to replace the revision)"
    )


def test_a_push_that_leaves_a_mismatch_exits_1(target, bucket, model_dir, clients, capsys, monkeypatch):
    assert run_main(capsys, "push", model_dir, *REVISION, *target)[0] == 0
    clients["s3"].put_object(Bucket=bucket, Key=PREFIX + "SHA256SUMS", Body=b"tampered\n")
    # The rewrite of SHA256SUMS does not take: S3 keeps the tampered copy.
    monkeypatch.setattr(weights.store, "_put", lambda *args, **kwargs: None)
    code, out, _ = run_main(capsys, "push", model_dir, *REVISION, "--repair", "--quiet", *target)
    assert code == 1
    assert out.splitlines() == [
        f"FAILED repaired s3://{bucket}/{PREFIX}: SHA256SUMS",
        "  SHA256SUMS: does not match manifest.json",
    ]


def test_archive_push_restore(target, bucket, model_dir, clients, capsys, monkeypatch):
    assert run_main(capsys, "push", model_dir, *REVISION, *target)[0] == 0
    assert run_main(capsys, "archive", *REVISION, "--stack", "dev", *target)[0] == 0

    # A push onto the archived revision would count its unreadable objects as present.
    assert run_main(capsys, "push", model_dir, *REVISION, *target) == usage_error(
        f"s3://{bucket}/{PREFIX}: the revision is archived (GLACIER) and cannot be served: run "
        f"`llmstack weights restore --model llama-3-8b --revision {V1} --wait` first, then push again"
    )

    # moto completes a restore at once; S3 takes hours: the first call only asks, the next copies back.
    code, out, _ = run_main(capsys, "restore", *REVISION, *target)
    assert (code, out) == (
        0,
        f"restoring s3://{bucket}/{PREFIX}: 2 requested now, 2 of 2 objects pending (Standard: 3-5 hours); run "
        "restore again (or with --wait) to bring them back to the warm tier\n",
    )
    monkeypatch.setattr(weights.store, "sleep", lambda seconds: None)
    code, out, _ = run_main(capsys, "restore", *REVISION, "--wait", *target)
    assert (code, out) == (
        0,
        f"restored s3://{bucket}/{PREFIX} to STANDARD: 2 objects copied back, 0 already warm; tagged "
        "llm-serving/tier=warm\n",
    )
    head = clients["s3"].head_object(Bucket=bucket, Key=PREFIX + "model.safetensors")
    assert head.get("StorageClass", "STANDARD") == "STANDARD" and head["Metadata"]["sha256"] == sha256(WEIGHTS)
    assert run_main(capsys, "verify", *REVISION, "--quiet", *target)[0] == 0


def test_fetch_downloads_the_pinned_revision_and_says_what_to_push(tmp_path, capsys, monkeypatch):
    asked = []

    def fake_hub(source, revision, directory):
        asked.append((source, revision))
        directory.mkdir(parents=True)
        (directory / "config.json").write_bytes(CONFIG)
        (directory / "model.safetensors").write_bytes(WEIGHTS)

    monkeypatch.setattr(weights, "hub_download", fake_hub)
    target = tmp_path / "llama"
    code, out, err = run_main(capsys, "fetch", target, "--stack", "prod", "--model", "llama-3-8b-instruct")
    from llmstack.stackfile import load_stack

    model = next(m for m in load_stack("prod", None).platform.models if m.name == "llama-3-8b-instruct")
    assert asked == [(model.source, model.revision)]
    assert (code, err) == (0, "")
    assert out == (
        f"fetched {model.source}@{model.revision} into {target}: 2 files, 4.0 KiB; next: llmstack weights push "
        f"{target} --model llama-3-8b-instruct --stack prod\n"
    )
    # A second fetch into the same directory would mix two downloads: refused.
    assert run_main(capsys, "fetch", target, "--stack", "prod", "--model", "llama-3-8b-instruct") == usage_error(
        f"{target}: not empty; fetch into a new directory (push takes every file in it)"
    )


def test_fetch_failures_are_one_line(tmp_path, capsys, monkeypatch):
    def offline(source, revision, directory):
        raise OSError("Cannot reach\nhuggingface.co")

    monkeypatch.setattr(weights, "hub_download", offline)
    code, out, err = run_main(capsys, "fetch", tmp_path / "x", "--stack", "dev", "--model", "llama-3-8b-instruct")
    assert (code, out) == (2, "")
    assert err.endswith("download failed: Cannot reach huggingface.co\n") and err.count("\n") == 1
    assert run_main(capsys, "fetch", tmp_path / "y", "--stack", "dev", "--model", "nope") == usage_error(
        "--model nope: not a model of Pulumi.dev.yaml (llama-3-8b-instruct)"
    )
