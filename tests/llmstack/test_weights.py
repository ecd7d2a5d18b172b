"""The weights library against an in-process moto S3: layout, encryption, resume, verify, archive."""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import shutil
import subprocess
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from llmstack.errors import UsageError
from llmstack.weights_store import (
    RevisionSummary,
    WeightsBucket,
    archive,
    list_revisions,
    push,
    s3_uploader,
    scan_model_dir,
    transfer_config,
    verify,
)

STUBBED_BUCKET = "llm-weights"  # only ever answered by a botocore Stubber
V1 = "0123456789abcdef0123456789abcdef01234567"
V2 = "fedcba9876543210fedcba9876543210fedcba98"
V3 = "5f0b02c75b57c5855da9ae460ce51323ea669d8a"
PREFIX = f"models/llama-3-8b/{V1}/"
CONFIG = b'{"architectures": ["LlamaForCausalLM"]}\n'
WEIGHTS = bytes(range(256)) * 16  # 4 KiB: above the tests' 1 KiB multipart threshold
TOKENIZER = b'{"version": "1.0"}\n'
CREATED = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)
LATER = datetime(2024, 6, 1, 12, 0, tzinfo=timezone.utc)
COPY_HINT = "copy the files into the directory (cp -rL)"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


@pytest.fixture(scope="module")
def s3(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """One moto account per module (starting one per test costs more than the tests); each test
    gets its own bucket. Dummy credentials and no AWS config files: nothing may reach a real account.
    """
    no_config = tmp_path_factory.mktemp("aws")
    with pytest.MonkeyPatch.context() as env:
        for name, value in {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_SESSION_TOKEN": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_CONFIG_FILE": str(no_config / "config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(no_config / "credentials"),
        }.items():
            env.setenv(name, value)
        env.delenv("AWS_PROFILE", raising=False)
        with mock_aws():
            yield boto3.client("s3")


@pytest.fixture(scope="module")
def kms_key(s3: Any) -> str:
    return boto3.client("kms").create_key()["KeyMetadata"]["Arn"]


_bucket_numbers = itertools.count()


@pytest.fixture
def bucket(s3: Any, kms_key: str) -> WeightsBucket:
    name = f"llm-weights-{next(_bucket_numbers)}"
    s3.create_bucket(Bucket=name)
    return WeightsBucket(s3, name, kms_key, transfer_config(1024))


@pytest.fixture
def model_dir(tmp_path: Path) -> Path:
    root = tmp_path / "model"
    write(root / "config.json", CONFIG)
    write(root / "model.safetensors", WEIGHTS)
    write(root / "tokenizer" / "tokenizer.json", TOKENIZER)
    return root


class RecordingUploader:
    """The real uploader, counting calls and optionally failing the n-th like a dropped connection."""

    def __init__(self, bucket: WeightsBucket, fail_on_call: int | None = None) -> None:
        self.keys: list[str] = []
        self._upload = s3_uploader(bucket)
        self._fail_on_call = fail_on_call

    def __call__(self, path: Path, key: str, extra_args: dict[str, Any], callback: Any) -> None:
        self.keys.append(key)
        if len(self.keys) == self._fail_on_call:
            raise ConnectionError("connection reset by peer")
        self._upload(path, key, extra_args, callback)


def push_v1(bucket: WeightsBucket, directory: Path, **kwargs: Any):
    return push(bucket, directory, "llama-3-8b", V1, now=lambda: CREATED, **kwargs)


def body(bucket: WeightsBucket, key: str) -> bytes:
    return bucket.client.get_object(Bucket=bucket.name, Key=key)["Body"].read()


def keys(bucket: WeightsBucket) -> list[str]:
    return [obj["Key"] for obj in bucket.client.list_objects_v2(Bucket=bucket.name).get("Contents", [])]


def usage_error(call: Any, *args: Any, **kwargs: Any) -> str:
    with pytest.raises(UsageError) as info:
        call(*args, **kwargs)
    return str(info.value)


# --- push -------------------------------------------------------------------------------------


def test_push_stores_each_file_encrypted_with_the_weights_key_and_its_sha256(bucket, model_dir, s3, kms_key):
    result = push_v1(bucket, model_dir)

    assert (result.files, result.uploaded, result.manifest_written, result.pruned) == (3, 3, True, 0)
    assert keys(bucket) == [
        PREFIX + "SHA256SUMS",
        PREFIX + "config.json",
        PREFIX + "manifest.json",
        PREFIX + "model.safetensors",
        PREFIX + "tokenizer/tokenizer.json",
    ]
    for relpath, data in [
        ("config.json", CONFIG),
        ("model.safetensors", WEIGHTS),
        ("tokenizer/tokenizer.json", TOKENIZER),
    ]:
        head = s3.head_object(Bucket=bucket.name, Key=PREFIX + relpath)
        assert head["ServerSideEncryption"] == "aws:kms"
        assert head["SSEKMSKeyId"] == kms_key
        assert head["Metadata"] == expected_metadata(data)
        assert body(bucket, PREFIX + relpath) == data


def composite(data: bytes, part: int) -> str:
    """S3's checksum of a multipart object: the sha256 of its parts' sha256s, `-<parts>`."""
    parts = [data[i : i + part] for i in range(0, len(data), part)]
    digest = hashlib.sha256(b"".join(hashlib.sha256(p).digest() for p in parts)).digest()
    return f"{base64.b64encode(digest).decode()}-{len(parts)}"


def expected_metadata(data: bytes) -> dict[str, str]:
    """The sha256, and for a multipart upload (above the tests' 1 KiB threshold; parts of 5 MiB, the
    least S3 takes) the composite checksum push computed."""
    multipart = {"s3-checksum-sha256": composite(data, 5 * 1024 * 1024)} if len(data) >= 1024 else {}
    return {"sha256": sha256(data), **multipart}


def test_s3_vouches_for_every_object_with_its_own_sha256_checksum(bucket, model_dir, s3):
    push_v1(bucket, model_dir)
    for relpath, data in [("config.json", CONFIG), ("model.safetensors", WEIGHTS)]:
        attributes = s3.get_object_attributes(Bucket=bucket.name, Key=PREFIX + relpath, ObjectAttributes=["Checksum"])[
            "Checksum"
        ]
        if len(data) >= 1024:  # multipart: a composite of the parts' checksums
            assert attributes["ChecksumSHA256"].split("-")[0] == composite(data, 5 * 1024 * 1024).split("-")[0]
        else:  # one PUT: the sha256 of the file itself
            assert attributes["ChecksumSHA256"] == base64.b64encode(hashlib.sha256(data).digest()).decode()
    index = s3.get_object_attributes(Bucket=bucket.name, Key=PREFIX + "SHA256SUMS", ObjectAttributes=["Checksum"])
    assert "ChecksumSHA256" in index["Checksum"]


def test_fast_verify_trusts_s3s_checksum_not_the_metadata(bucket, model_dir, s3):
    push_v1(bucket, model_dir)
    # Content and sha256 metadata replaced together (same size): metadata alone would call it good.
    fake = CONFIG.replace(b"Llama", b"Jamba")
    s3.put_object(
        Bucket=bucket.name,
        Key=PREFIX + "config.json",
        Body=fake,
        Metadata={"sha256": sha256(CONFIG)},
        ChecksumAlgorithm="SHA256",
    )
    problems = verify(bucket, "llama-3-8b", V1, fast=True).problems
    assert [(p.relpath, p.reason) for p in problems] == [
        ("config.json", f"S3 checksum (sha256) {sha256(fake)}, manifest says {sha256(CONFIG)}")
    ]


def test_push_uses_multipart_above_the_threshold_only(bucket, model_dir, s3):
    push_v1(bucket, model_dir)

    assert s3.head_object(Bucket=bucket.name, Key=PREFIX + "model.safetensors")["ETag"].endswith('-1"')
    assert "-" not in s3.head_object(Bucket=bucket.name, Key=PREFIX + "config.json")["ETag"]


def test_every_write_asks_for_sse_kms_with_a_bucket_key(bucket, model_dir, kms_key):
    writes: list[tuple[str, dict[str, str]]] = []

    def record(model: Any, params: dict[str, Any], **_: Any) -> None:
        if model.name in ("PutObject", "CreateMultipartUpload"):
            writes.append((model.name, params["headers"]))

    bucket.client.meta.events.register("before-call.s3", record)
    try:
        push_v1(bucket, model_dir)
    finally:
        bucket.client.meta.events.unregister("before-call.s3", record)

    assert sorted(name for name, _ in writes) == ["CreateMultipartUpload"] + ["PutObject"] * 4
    for _, headers in writes:
        assert headers["x-amz-server-side-encryption"] == "aws:kms"
        assert headers["x-amz-server-side-encryption-aws-kms-key-id"] == kms_key
        assert headers["x-amz-server-side-encryption-bucket-key-enabled"] == "true"


def test_manifest_and_sha256sums_are_exact(bucket, model_dir, s3):
    push_v1(bucket, model_dir)

    manifest = {
        "model": "llama-3-8b",
        "revision": V1,
        "created": "2024-05-01T12:00:00Z",
        "files": {
            "config.json": {"sha256": sha256(CONFIG), "size": len(CONFIG)},
            "model.safetensors": {"sha256": sha256(WEIGHTS), "size": 4096},
            "tokenizer/tokenizer.json": {"sha256": sha256(TOKENIZER), "size": len(TOKENIZER)},
        },
    }
    assert body(bucket, PREFIX + "manifest.json") == (json.dumps(manifest, indent=2) + "\n").encode()
    assert body(bucket, PREFIX + "SHA256SUMS").decode() == (
        f"{sha256(CONFIG)}  config.json\n"
        f"{sha256(WEIGHTS)}  model.safetensors\n"
        f"{sha256(TOKENIZER)}  tokenizer/tokenizer.json\n"
    )


@pytest.mark.skipif(shutil.which("sha256sum") is None, reason="needs coreutils sha256sum")
def test_sha256sums_checks_with_plain_sha256sum_after_a_sync(bucket, model_dir, s3, tmp_path):
    push_v1(bucket, model_dir)
    synced = tmp_path / "synced"
    for key in keys(bucket):
        write(synced / key.removeprefix(PREFIX), body(bucket, key))

    check = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=synced, capture_output=True, text=True)

    assert check.returncode == 0, check.stdout + check.stderr
    assert check.stdout.count(": OK") == 3


def test_pushing_again_uploads_nothing_and_keeps_the_manifest(bucket, model_dir, s3):
    push_v1(bucket, model_dir)
    manifest = body(bucket, PREFIX + "manifest.json")
    uploader = RecordingUploader(bucket)

    result = push(bucket, model_dir, "llama-3-8b", V1, uploader=uploader, now=lambda: LATER)

    assert uploader.keys == []
    assert (result.uploaded, result.manifest_written) == (0, False)
    assert body(bucket, PREFIX + "manifest.json") == manifest  # "created" is the first push's


def test_a_failure_half_way_leaves_no_index_and_the_retry_finishes(bucket, model_dir, s3):
    with pytest.raises(ConnectionError):
        push_v1(bucket, model_dir, uploader=RecordingUploader(bucket, fail_on_call=2))

    assert keys(bucket) == [PREFIX + "config.json"]  # no manifest.json, no SHA256SUMS

    retry = RecordingUploader(bucket)
    result = push_v1(bucket, model_dir, uploader=retry)

    assert retry.keys == [PREFIX + "model.safetensors", PREFIX + "tokenizer/tokenizer.json"]
    assert (result.uploaded, result.manifest_written) == (2, True)
    assert verify(bucket, "llama-3-8b", V1).problems == []


def test_resume_skips_unchanged_files_and_uploads_changed_ones(bucket, model_dir, s3):
    with pytest.raises(ConnectionError):
        push_v1(bucket, model_dir, uploader=RecordingUploader(bucket, fail_on_call=3))
    write(model_dir / "config.json", b'{"architectures": ["MistralForCausalLM"]}\n')

    retry = RecordingUploader(bucket)
    push_v1(bucket, model_dir, uploader=retry)

    assert retry.keys == [PREFIX + "config.json", PREFIX + "tokenizer/tokenizer.json"]
    assert body(bucket, PREFIX + "config.json") == b'{"architectures": ["MistralForCausalLM"]}\n'


def test_an_upload_that_does_not_land_writes_no_index(bucket, model_dir, s3):
    message = usage_error(push_v1, bucket, model_dir, uploader=lambda *args: None)

    assert message == (
        f"s3://{bucket.name}/{PREFIX}config.json: not stored with sha256 {sha256(CONFIG)} after upload; retry"
    )
    assert keys(bucket) == []


def test_a_revision_with_other_content_is_refused(bucket, model_dir, s3):
    push_v1(bucket, model_dir)
    manifest = body(bucket, PREFIX + "manifest.json")
    write(model_dir / "config.json", b"{}\n")

    message = usage_error(push_v1, bucket, model_dir)

    assert message == (
        f"s3://{bucket.name}/{PREFIX}: revision exists with different content; revisions are immutable, "
        "push a new --revision (or --force to replace it)"
    )
    assert body(bucket, PREFIX + "manifest.json") == manifest
    assert body(bucket, PREFIX + "config.json") == CONFIG


def test_force_replaces_a_revision_and_removes_files_it_no_longer_has(bucket, model_dir, s3):
    push_v1(bucket, model_dir)
    write(model_dir / "config.json", b"{}\n")
    shutil.rmtree(model_dir / "tokenizer")

    result = push_v1(bucket, model_dir, force=True)

    assert (result.files, result.uploaded, result.manifest_written, result.pruned) == (2, 1, True, 1)
    assert PREFIX + "tokenizer/tokenizer.json" not in keys(bucket)
    assert sorted(json.loads(body(bucket, PREFIX + "manifest.json"))["files"]) == [
        "config.json",
        "model.safetensors",
    ]
    assert verify(bucket, "llama-3-8b", V1).problems == []


def test_scan_skips_hidden_entries_and_an_old_index_and_follows_links_inside(model_dir):
    write(model_dir / ".git" / "objects" / "pack", b"x")
    write(model_dir / ".cache" / "huggingface" / "download.lock", b"")
    write(model_dir / "manifest.json", b"{}")
    write(model_dir / "SHA256SUMS", b"")
    (model_dir / "tokenizer" / "tokenizer.model").symlink_to("tokenizer.json")

    relpaths = [file.relpath for file in scan_model_dir(model_dir)]

    assert relpaths == [
        "config.json",
        "model.safetensors",
        "tokenizer/tokenizer.json",
        "tokenizer/tokenizer.model",
    ]


# --- push: what the user gets told ------------------------------------------------------------


def test_missing_directory(bucket, tmp_path):
    assert usage_error(push_v1, bucket, tmp_path / "absent") == f"{tmp_path / 'absent'}: no such directory"


def test_directory_is_a_file(bucket, model_dir):
    path = model_dir / "config.json"
    assert usage_error(push_v1, bucket, path) == f"{path}: not a directory"


def test_directory_without_weights(bucket, model_dir):
    (model_dir / "model.safetensors").unlink()
    assert usage_error(push_v1, bucket, model_dir) == (
        f"{model_dir}: no weight files (*.safetensors, *.bin, *.gguf, *.pt) found"
    )


@pytest.mark.parametrize("name", ["Llama-3", "llama/3", "-llama", "", "x" * 64])
def test_model_name(bucket, model_dir, name):
    assert usage_error(push, bucket, model_dir, name, V1) == (
        f"--model {name!r}: must match ^[a-z0-9][a-z0-9._-]{{0,62}}$"
    )


@pytest.mark.parametrize(
    "revision",
    [
        "main",
        "v1.0",
        "E0BC86C23CE5AAE1DB576C8CCA6F06F1F73AF2DB",
        "e0bc86c2",
        "e0bc86c23ce5aae1db576c8cca6f06f1f73af2dbx",
    ],
    ids=["branch", "tag", "upper-case", "short-sha", "too-long"],
)
def test_a_revision_must_be_the_full_lowercase_commit(bucket, model_dir, revision):
    assert usage_error(push, bucket, model_dir, "llama", revision) == (
        f"--revision {revision!r}: must be a 40-character lowercase hex commit of the model repository (the stack "
        "pins commits; a branch, tag or upper-case sha never matches a pin)"
    )


def test_symlink_leaving_the_directory(bucket, model_dir, tmp_path):
    secret = write(tmp_path / "outside" / "credentials", b"secret")
    link = model_dir / "extra.bin"
    link.symlink_to(secret)
    assert usage_error(push_v1, bucket, model_dir) == (
        f"{link}: symlink points outside {model_dir} (to {secret}); {COPY_HINT}"
    )


def test_directory_symlink_leaving_the_directory(bucket, model_dir, tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    link = model_dir / "shards"
    link.symlink_to(outside)
    assert usage_error(push_v1, bucket, model_dir) == (
        f"{link}: symlink points outside {model_dir} (to {outside}); {COPY_HINT}"
    )


def test_directory_symlink_inside_the_directory(bucket, model_dir):
    link = model_dir / "tok"
    link.symlink_to("tokenizer")
    assert usage_error(push_v1, bucket, model_dir) == (
        f"{link}: directory symlinks are not supported; replace the link with a directory"
    )


def test_push_needs_a_kms_key(bucket, model_dir):
    assert usage_error(push_v1, WeightsBucket(bucket.client, bucket.name), model_dir) == (
        "push needs the weights KMS key: pass --kms-key ARN|alias or --stack NAME"
    )


def test_missing_bucket(s3, kms_key, model_dir):
    assert usage_error(push_v1, WeightsBucket(s3, "no-such-weights", kms_key), model_dir) == (
        "s3://no-such-weights: no such bucket (check --bucket or the stack's weights_bucket output)"
    )


def test_access_denied(kms_key, model_dir):
    client = boto3.client("s3")
    with Stubber(client) as stubber:
        stubber.add_client_error("head_bucket", service_error_code="403", http_status_code=403)
        message = usage_error(push_v1, WeightsBucket(client, STUBBED_BUCKET, kms_key), model_dir)
    assert message == (
        f"s3://{STUBBED_BUCKET}: access denied on HeadBucket; check the credentials and bucket/KMS policies"
    )


def test_other_aws_errors_become_one_line(kms_key, model_dir):
    client = boto3.client("s3")
    with Stubber(client) as stubber:
        stubber.add_client_error(
            "head_bucket",
            service_error_code="SlowDown",
            service_message="Please\nreduce",
            http_status_code=503,
        )
        message = usage_error(push_v1, WeightsBucket(client, STUBBED_BUCKET, kms_key), model_dir)
    assert message == f"s3://{STUBBED_BUCKET}: HeadBucket failed: SlowDown: Please reduce"


# --- list -------------------------------------------------------------------------------------


def test_list_summarises_each_revision(bucket, model_dir, s3):
    push_v1(bucket, model_dir)
    push(bucket, model_dir, "llama-3-8b", V2)
    archive(bucket, "llama-3-8b", V2)
    with pytest.raises(ConnectionError):
        push(bucket, model_dir, "mistral-7b", V3, uploader=RecordingUploader(bucket, fail_on_call=2))

    summaries = list_revisions(bucket)

    size = len(CONFIG) + len(WEIGHTS) + len(TOKENIZER)
    assert summaries == [
        RevisionSummary("llama-3-8b", V1, 3, size, {"STANDARD"}, has_manifest=True),
        RevisionSummary("llama-3-8b", V2, 3, size, {"GLACIER"}, has_manifest=True),
        RevisionSummary("mistral-7b", V3, 1, len(CONFIG), {"STANDARD"}, has_manifest=False),
    ]
    assert [s.tier for s in summaries] == ["STANDARD", "GLACIER", "STANDARD"]
    assert [s.revision for s in list_revisions(bucket, "mistral-7b")] == [V3]


def test_list_of_an_empty_bucket(bucket):
    assert list_revisions(bucket) == []


def test_list_model_name(bucket):
    assert usage_error(list_revisions, bucket, "Mistral") == (
        "--model 'Mistral': must match ^[a-z0-9][a-z0-9._-]{0,62}$"
    )


# --- verify -----------------------------------------------------------------------------------


def test_verify_passes_for_a_pushed_revision(bucket, model_dir):
    push_v1(bucket, model_dir)
    for fast in (False, True):
        report = verify(bucket, "llama-3-8b", V1, fast=fast)
        assert (report.prefix, report.files, report.problems) == (PREFIX, 3, [])


def test_verify_detects_tampered_content_that_kept_its_metadata(bucket, model_dir, s3):
    push_v1(bucket, model_dir)
    tampered = WEIGHTS[:-1] + b"\x00"
    s3.put_object(
        Bucket=bucket.name,
        Key=PREFIX + "model.safetensors",
        Body=tampered,
        Metadata={"sha256": sha256(WEIGHTS)},
    )

    problems = verify(bucket, "llama-3-8b", V1).problems

    assert [(p.relpath, p.reason) for p in problems] == [
        ("model.safetensors", f"sha256 {sha256(tampered)}, manifest says {sha256(WEIGHTS)}")
    ]
    assert verify(bucket, "llama-3-8b", V1, fast=True).problems == []  # --fast trusts the metadata


def test_verify_fast_detects_replaced_and_missing_objects(bucket, model_dir, s3):
    push_v1(bucket, model_dir)
    s3.put_object(Bucket=bucket.name, Key=PREFIX + "config.json", Body=CONFIG)
    s3.put_object(Bucket=bucket.name, Key=PREFIX + "model.safetensors", Body=b"short")
    s3.delete_object(Bucket=bucket.name, Key=PREFIX + "tokenizer/tokenizer.json")

    problems = verify(bucket, "llama-3-8b", V1, fast=True).problems

    assert [(p.relpath, p.reason) for p in problems] == [
        ("config.json", f"sha256 metadata absent, manifest says {sha256(CONFIG)}"),
        ("model.safetensors", "size 5, manifest says 4096"),
        ("tokenizer/tokenizer.json", "missing"),
    ]


def test_verify_checks_sha256sums_against_the_manifest(bucket, model_dir, s3):
    push_v1(bucket, model_dir)
    s3.put_object(Bucket=bucket.name, Key=PREFIX + "SHA256SUMS", Body=b"")

    problems = verify(bucket, "llama-3-8b", V1, fast=True).problems

    assert [(p.relpath, p.reason) for p in problems] == [("SHA256SUMS", "does not match manifest.json")]


def test_verify_without_a_manifest(bucket, model_dir):
    with pytest.raises(ConnectionError):
        push_v1(bucket, model_dir, uploader=RecordingUploader(bucket, fail_on_call=2))
    assert usage_error(verify, bucket, "llama-3-8b", V1) == (
        f"s3://{bucket.name}/{PREFIX}manifest.json: not found; no such revision, or its push never completed"
    )


def test_verify_of_a_corrupt_manifest(bucket, model_dir, s3):
    push_v1(bucket, model_dir)
    s3.put_object(Bucket=bucket.name, Key=PREFIX + "manifest.json", Body=b"[]")
    assert usage_error(verify, bucket, "llama-3-8b", V1) == (
        f's3://{bucket.name}/{PREFIX}manifest.json: not a manifest (no "files" object)'
    )


# --- archive ----------------------------------------------------------------------------------


def test_archive_moves_files_to_glacier_keeping_encryption_and_metadata(bucket, model_dir, s3, kms_key):
    push_v1(bucket, model_dir)
    s3.put_object_tagging(
        Bucket=bucket.name, Key=PREFIX + "config.json", Tagging={"TagSet": [{"Key": "team", "Value": "ml"}]}
    )

    result = archive(bucket, "llama-3-8b", V1)

    assert (result.prefix, result.moved, result.already_cold) == (PREFIX, 3, 0)
    for relpath, data in [
        ("config.json", CONFIG),
        ("model.safetensors", WEIGHTS),
        ("tokenizer/tokenizer.json", TOKENIZER),
    ]:
        head = s3.head_object(Bucket=bucket.name, Key=PREFIX + relpath)
        assert (head["StorageClass"], head["ServerSideEncryption"], head["SSEKMSKeyId"]) == (
            "GLACIER",
            "aws:kms",
            kms_key,
        )
        assert head["Metadata"] == expected_metadata(data)
        s3.restore_object(Bucket=bucket.name, Key=PREFIX + relpath, RestoreRequest={"Days": 1})
        tags = s3.get_object_tagging(Bucket=bucket.name, Key=PREFIX + relpath)["TagSet"]
        expected = [{"Key": "llm-serving/tier", "Value": "cold"}]
        assert tags == expected + ([{"Key": "team", "Value": "ml"}] if relpath == "config.json" else [])
        assert body(bucket, PREFIX + relpath) == data
    for index in ("manifest.json", "SHA256SUMS"):  # stays readable: list and verify --fast need it
        head = s3.head_object(Bucket=bucket.name, Key=PREFIX + index)
        assert head.get("StorageClass", "STANDARD") == "STANDARD"


def test_archive_again_is_a_no_op_and_fast_verify_still_passes(bucket, model_dir):
    push_v1(bucket, model_dir)
    archive(bucket, "llama-3-8b", V1)

    again = archive(bucket, "llama-3-8b", V1)

    assert (again.moved, again.already_cold) == (0, 3)
    assert verify(bucket, "llama-3-8b", V1, fast=True).problems == []


def test_full_verify_of_an_archived_revision(bucket, model_dir):
    push_v1(bucket, model_dir)
    archive(bucket, "llama-3-8b", V1)
    assert usage_error(verify, bucket, "llama-3-8b", V1) == (
        f"s3://{bucket.name}: GetObject refused, the object is archived; restore it or use verify --fast"
    )


def test_archive_of_an_unknown_revision(bucket):
    assert usage_error(archive, bucket, "llama-3-8b", "9" * 40) == (
        f"s3://{bucket.name}/models/llama-3-8b/{'9' * 40}/manifest.json: not found; "
        "no such revision, or its push never completed"
    )


def test_archive_of_a_revision_with_a_missing_object(bucket, model_dir, s3):
    push_v1(bucket, model_dir)
    s3.delete_object(Bucket=bucket.name, Key=PREFIX + "model.safetensors")
    assert usage_error(archive, bucket, "llama-3-8b", V1) == (
        f"s3://{bucket.name}/{PREFIX}model.safetensors: listed in manifest.json but missing; "
        "run llmstack weights verify"
    )


# --- an interrupted multipart upload resumes part by part ------------------------------------------

PART = 5 * 1024 * 1024  # the tests' 1 KiB threshold is raised to S3's 5 MiB minimum part
BIG = b"".join(bytes([n]) * PART for n in range(2)) + b"\x07" * (2 * 1024 * 1024)  # parts of 5, 5 and 2 MiB


@pytest.fixture
def big_model(tmp_path: Path) -> Path:
    root = tmp_path / "big"
    write(root / "config.json", CONFIG)
    write(root / "model.safetensors", BIG)
    return root


class PartCalls:
    """Counts UploadPart calls by part number; `fail` makes those parts fail as a dropped connection would."""

    def __init__(self, s3: Any, fail: set[int] = frozenset()) -> None:  # type: ignore[assignment]
        self.s3, self.fail, self.sent = s3, set(fail), []
        s3.meta.events.register("provide-client-params.s3.UploadPart", self._call, unique_id="part-calls")

    def _call(self, params: dict[str, Any], **_: Any) -> None:
        from botocore.exceptions import EndpointConnectionError

        if params["PartNumber"] in self.fail:
            raise EndpointConnectionError(endpoint_url="https://s3.amazonaws.com")
        self.sent.append(params["PartNumber"])

    def close(self) -> None:
        self.s3.meta.events.unregister("provide-client-params.s3.UploadPart", unique_id="part-calls")


@pytest.fixture
def part_calls(s3):
    made: list[PartCalls] = []

    def start(fail: set[int] = frozenset()) -> PartCalls:  # type: ignore[assignment]
        if made:
            made.pop().close()
        made.append(PartCalls(s3, fail))
        return made[-1]

    yield start
    for calls in made:
        calls.close()


def open_uploads(bucket: WeightsBucket, key: str) -> list[dict[str, Any]]:
    return [u for u in bucket.client.list_multipart_uploads(Bucket=bucket.name).get("Uploads", []) if u["Key"] == key]


def test_an_interrupted_upload_resumes_with_the_parts_it_lacks(bucket, big_model, part_calls):
    key = PREFIX + "model.safetensors"
    calls = part_calls(fail={3})
    with pytest.raises(UsageError, match="Could not connect to the endpoint URL"):
        push_v1(bucket, big_model)
    assert sorted(calls.sent) == [1, 2]
    [upload] = open_uploads(bucket, key)
    parts = bucket.client.list_parts(Bucket=bucket.name, Key=key, UploadId=upload["UploadId"])["Parts"]
    assert [p["PartNumber"] for p in parts] == [1, 2]

    calls = part_calls()
    result = push_v1(bucket, big_model)
    assert calls.sent == [3]  # only the part the first push never stored
    assert (result.uploaded, result.resumed_parts) == (1, 2)  # the big file (config.json went first); 2 parts kept
    assert open_uploads(bucket, key) == []
    assert body(bucket, key) == BIG
    attributes = bucket.client.get_object_attributes(Bucket=bucket.name, Key=key, ObjectAttributes=["Checksum"])
    assert attributes["Checksum"]["ChecksumSHA256"].split("-")[0] == composite(BIG, PART).split("-")[0]
    assert verify(bucket, "llama-3-8b", V1).problems == []


def _open_upload_with(bucket: WeightsBucket, key: str, parts: list[bytes], sha256_metadata: str) -> str:
    upload_id = bucket.client.create_multipart_upload(
        Bucket=bucket.name, Key=key, ChecksumAlgorithm="SHA256", Metadata={"sha256": sha256_metadata}
    )["UploadId"]
    for number, data in enumerate(parts, start=1):
        bucket.client.upload_part(Bucket=bucket.name, Key=key, UploadId=upload_id, PartNumber=number, Body=data)
    return upload_id


def test_a_stored_part_with_other_bytes_is_sent_again(bucket, big_model, part_calls):
    key = PREFIX + "model.safetensors"
    _open_upload_with(bucket, key, [b"\x09" * PART, BIG[PART : 2 * PART]], sha256(BIG))
    calls = part_calls()
    result = push_v1(bucket, big_model)
    assert sorted(calls.sent) == [1, 3] and result.resumed_parts == 1
    assert body(bucket, key) == BIG


def test_another_files_open_upload_is_not_completed_as_this_one(bucket, big_model, part_calls):
    # An earlier push of a different file with the same first parts: the parts match, but the upload
    # was created with that file's sha256 in its metadata, so the object is uploaded again, whole.
    key = PREFIX + "model.safetensors"
    _open_upload_with(bucket, key, [BIG[:PART], BIG[PART : 2 * PART]], sha256(b"another file"))
    calls = part_calls()
    result = push_v1(bucket, big_model)
    assert sorted(calls.sent) == [1, 2, 3, 3] and result.resumed_parts == 0
    head = bucket.client.head_object(Bucket=bucket.name, Key=key)
    assert head["Metadata"]["sha256"] == sha256(BIG)
    assert verify(bucket, "llama-3-8b", V1).problems == []


def test_older_uploads_and_ones_without_checksums_are_aborted(bucket, big_model, part_calls):
    key = PREFIX + "model.safetensors"
    unchecked = bucket.client.create_multipart_upload(Bucket=bucket.name, Key=key)["UploadId"]
    part_calls()
    push_v1(bucket, big_model)
    assert open_uploads(bucket, key) == []
    with pytest.raises(bucket.client.exceptions.NoSuchUpload):
        bucket.client.list_parts(Bucket=bucket.name, Key=key, UploadId=unchecked)


@pytest.mark.parametrize(
    ("stored", "holds"),
    [
        (("size", "etag", "checksum"), True),
        (("size", "etag", None), True),  # a store without checksums: the part's MD5 ETag
        (("short", "etag", "checksum"), False),
        (("size", "etag", "other"), False),  # S3's checksum of the part says other bytes
        (("size", "other", None), False),
    ],
)
def test_a_stored_part_is_this_files_by_size_and_checksum(stored, holds):
    from llmstack.weights_transfer import StoredPart, _holds_part

    data = b"part bytes"
    size, etag, checksum = stored
    value = StoredPart(
        len(data) if size == "size" else len(data) - 1,
        f'"{hashlib.md5(data).hexdigest()}"' if etag == "etag" else '"0123"',
        {"checksum": base64.b64encode(hashlib.sha256(data).digest()).decode(), None: None}.get(checksum, "AAAA"),
    )
    assert _holds_part(value, data) is holds
