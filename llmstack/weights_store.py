"""Model weights in the weights bucket: push, list, verify and archive revisions.

A revision lives under `models/<model>/<revision>/`: the model directory's files, then two index
files written last, `manifest.json` (sha256 and size per file) and `SHA256SUMS` (the same digests
in `sha256sum -c` format, for the model server's init container after `aws s3 sync`). The index is
written only once every file is confirmed in the bucket, so a manifest never names a missing
object; an interrupted push is finished by pushing again, which skips every object whose stored
`sha256` metadata already matches. AWS failures surface as one-line UsageErrors naming the bucket.
"""

from __future__ import annotations

import base64
import fnmatch
import functools
import hashlib
import json
import os
import re
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath
from typing import Any, Concatenate, ParamSpec, Protocol, TypeVar
from urllib.parse import urlencode

from boto3.exceptions import S3UploadFailedError
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import BotoCoreError, ClientError
from s3transfer.utils import ChunksizeAdjuster

from llmstack.errors import UsageError
from llmstack.weights_transfer import CHECKSUM_ALGORITHM, MultipartUpload

MiB = 1024 * 1024
DEFAULT_MULTIPART_THRESHOLD = 64 * MiB
ROOT_PREFIX = "models"
MANIFEST = "manifest.json"
SUMS = "SHA256SUMS"
INDEX_FILES = (SUMS, MANIFEST)  # in write order: the manifest marks the revision complete
WEIGHT_PATTERNS = ("*.safetensors", "*.bin", "*.gguf", "*.pt")
MODEL_PATTERN = r"^[a-z0-9][a-z0-9._-]{0,62}$"
REVISION_PATTERN = r"^[0-9a-f]{40}$"  # a commit, as ModelConfig.revision pins it
COLD_STORAGE_CLASS = "GLACIER"
ARCHIVED_STORAGE_CLASSES = frozenset({"GLACIER", "DEEP_ARCHIVE"})  # unreadable until restored
TIER_TAG_KEY = "llm-serving/tier"
COLD_TIER = "cold"
WARM_STORAGE_CLASS = "STANDARD"
WARM_TIER = "warm"
# How long S3 takes to restore from GLACIER (Flexible Retrieval) per tier: Amazon S3 User Guide,
# "Understanding archive retrieval options" (DEEP_ARCHIVE offers Standard and Bulk only, 12 and 48 hours).
RESTORE_HOURS = {"Expedited": "1-5 minutes", "Standard": "3-5 hours", "Bulk": "5-12 hours"}
# How often `restore --wait` asks again: a tenth or so of each tier's shortest time.
RESTORE_POLL_SECONDS = {"Expedited": 15, "Standard": 900, "Bulk": 1800}
sleep = time.sleep  # tests replace it
_CHUNK = 8 * MiB
COMPOSITE_METADATA = "s3-checksum-sha256"
"""Metadata key holding the composite checksum push computed for a multipart object: S3 reports a
checksum of part checksums there, which only the part layout links to the file's sha256."""
_DELETE_BATCH = 1000  # DeleteObjects limit
_MISSING_KEY_CODES = frozenset({"404", "NoSuchKey", "NotFound"})

P = ParamSpec("P")
T = TypeVar("T")


class Progress(Protocol):
    """Where long transfers report bytes; `update` is called from boto3's worker threads."""

    def start(self, label: str, total: int) -> None: ...

    def update(self, amount: int) -> None: ...

    def finish(self) -> None: ...


class NoProgress:
    """The progress sink for callers that show none (tests, --quiet, a non-TTY stderr)."""

    def start(self, label: str, total: int) -> None:
        pass

    def update(self, amount: int) -> None:
        pass

    def finish(self) -> None:
        pass


NO_PROGRESS = NoProgress()

# (local path, object key, ExtraArgs, byte callback) -> parts an interrupted upload had already
# stored (None or 0 for none): the seam tests use to count or fail uploads.
Uploader = Callable[[Path, str, dict[str, Any], Callable[[int], None]], int | None]


def transfer_config(multipart_threshold: int = DEFAULT_MULTIPART_THRESHOLD) -> TransferConfig:
    """Multipart above the threshold, in parts of the same size (s3transfer raises them to >= 5 MiB).

    The classic transfer client is pinned because the CRT one ignores part of this configuration.
    """
    return TransferConfig(
        multipart_threshold=multipart_threshold,
        multipart_chunksize=multipart_threshold,
        preferred_transfer_client="classic",
    )


def _request_bucket_key(params: dict[str, Any], **_: Any) -> None:
    """Ask for an S3 Bucket Key on every SSE-KMS write.

    Bucket keys cut KMS requests (and their cost and throttling) per object, but the transfer
    manager does not accept BucketKeyEnabled in ExtraArgs, so it is added at parameter build time.
    """
    if params.get("ServerSideEncryption") == "aws:kms":
        params.setdefault("BucketKeyEnabled", True)


@dataclass(frozen=True)
class WeightsBucket:
    """The bucket revisions live in, the client to reach it, and the KMS key new objects use."""

    client: Any
    name: str
    kms_key: str | None = None
    transfer: TransferConfig = field(default_factory=transfer_config)
    store_encrypts: bool = False
    """An on-prem S3-compatible store (sensitive weights) that encrypts at rest with its own keys:
    writes carry no SSE-KMS arguments, which such stores refuse. AWS buckets always get the CMK."""

    def __post_init__(self) -> None:
        for operation in ("PutObject", "CreateMultipartUpload", "CopyObject"):
            self.client.meta.events.register(
                f"before-parameter-build.s3.{operation}",
                _request_bucket_key,
                unique_id=f"llmstack-weights-bucket-key-{operation}",
            )

    def url(self, key: str = "") -> str:
        return f"s3://{self.name}/{key}"


@dataclass(frozen=True)
class LocalFile:
    relpath: str
    path: Path
    size: int


@dataclass(frozen=True)
class Digest:
    sha256: str
    size: int
    s3_checksum: str | None = None
    """What S3's ChecksumSHA256 of this file is once this tool uploads it: base64 of the sha256 for a
    single PUT, the composite (sha256 of the parts' sha256s, `-<parts>`) for a multipart upload.
    Known only from a local file; not part of the manifest."""

    def to_json(self) -> dict[str, Any]:
        return {"sha256": self.sha256, "size": self.size}


def part_size(size: int, transfer: TransferConfig) -> int | None:
    """The part size s3transfer uploads a file of `size` bytes with, or None for a single PUT."""
    if size < transfer.multipart_threshold:
        return None
    return ChunksizeAdjuster().adjust_chunksize(transfer.multipart_chunksize, size)


def full_object_checksum(sha256_hex: str) -> str:
    return base64.b64encode(bytes.fromhex(sha256_hex)).decode()


def _same_checksum(stored: str | None, expected: str | None) -> bool:
    """S3 writes a composite checksum with or without its `-<parts>` suffix, depending on the API."""
    return stored is not None and expected is not None and stored.split("-")[0] == expected.split("-")[0]


@dataclass(frozen=True)
class PushResult:
    prefix: str
    files: int
    size: int
    uploaded: int
    manifest_written: bool
    pruned: int
    resumed_parts: int = 0
    """Parts an interrupted push had already stored, kept instead of sent again."""


@dataclass
class RevisionSummary:
    model: str
    revision: str
    files: int = 0
    size: int = 0
    storage_classes: set[str] = field(default_factory=set)
    has_manifest: bool = False

    @property
    def tier(self) -> str:
        """The storage classes of the weight files, e.g. STANDARD (warm) or GLACIER (cold)."""
        return "+".join(sorted(self.storage_classes)) or "-"

    def add(self, relpath: str, obj: dict[str, Any]) -> None:
        """Count one listed object; the index files are bookkeeping, not part of the model."""
        if relpath in INDEX_FILES:
            self.has_manifest = self.has_manifest or relpath == MANIFEST
            return
        self.files += 1
        self.size += obj["Size"]
        self.storage_classes.add(obj.get("StorageClass", "STANDARD"))


@dataclass(frozen=True)
class Problem:
    relpath: str
    reason: str


@dataclass(frozen=True)
class VerifyReport:
    prefix: str
    files: int
    problems: list[Problem]


@dataclass(frozen=True)
class RepairResult:
    prefix: str
    repaired: list[str]
    """What verify found bad and was uploaded again, in order (SHA256SUMS last)."""
    remaining: list[Problem]
    """What a full verify still finds bad afterwards: the push failed if this is not empty."""


@dataclass(frozen=True)
class RestoreResult:
    prefix: str
    objects: int
    requested: int
    """Restore requests made by this call."""
    pending: list[str]
    """Objects S3 is still restoring (requested now or earlier)."""
    copied: int
    """Restored objects copied back to the warm tier by this call."""


@dataclass(frozen=True)
class ArchiveResult:
    prefix: str
    moved: int
    already_cold: int


# --- AWS errors -------------------------------------------------------------------------------


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _client_error_message(bucket: str, exc: ClientError) -> str:
    """Name the bucket and say what to check, for the errors a user can act on."""
    error = exc.response.get("Error", {})
    code, message, operation = error.get("Code", "?"), error.get("Message", ""), exc.operation_name
    if code == "NoSuchBucket" or (operation == "HeadBucket" and code in _MISSING_KEY_CODES):
        return f"s3://{bucket}: no such bucket (check --bucket or the stack's weights_bucket output)"
    if code in ("AccessDenied", "403", "Forbidden"):
        return f"s3://{bucket}: access denied on {operation}; check the credentials and bucket/KMS policies"
    if code == "InvalidObjectState":
        return f"s3://{bucket}: {operation} refused, the object is archived; restore it or use verify --fast"
    return _one_line(f"s3://{bucket}: {operation} failed: {code}: {message}")


def _aws_errors(
    func: Callable[Concatenate[WeightsBucket, P], T],
) -> Callable[Concatenate[WeightsBucket, P], T]:
    """Turn AWS failures of a public operation into UsageErrors, so the CLI shows one line."""

    @functools.wraps(func)
    def wrapper(bucket: WeightsBucket, /, *args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return func(bucket, *args, **kwargs)
        except ClientError as exc:
            raise UsageError(_client_error_message(bucket.name, exc)) from exc
        except (BotoCoreError, S3UploadFailedError) as exc:
            raise UsageError(_one_line(f"s3://{bucket.name}: {exc}")) from exc

    return wrapper


def _is_missing_key(exc: ClientError) -> bool:
    return exc.response.get("Error", {}).get("Code") in _MISSING_KEY_CODES


# --- names and local files --------------------------------------------------------------------


def validate_name(flag: str, value: str, pattern: str) -> str:
    """Model and revision become key segments; the pattern keeps them single, plain segments."""
    if not re.fullmatch(pattern, value):
        raise UsageError(f"{flag} {value!r}: must match {pattern}")
    return value


def validate_revision(value: str) -> str:
    """A revision is the model repository's commit: the only thing a stack can pin (ModelConfig.revision)."""
    if not re.fullmatch(REVISION_PATTERN, value):
        raise UsageError(
            f"--revision {value!r}: must be a 40-character lowercase hex commit of the model repository "
            "(the stack pins commits; a branch, tag or upper-case sha never matches a pin)"
        )
    return value


def revision_prefix(model: str, revision: str) -> str:
    return f"{ROOT_PREFIX}/{model}/{revision}/"


def scan_model_dir(directory: Path) -> list[LocalFile]:
    """The files to upload, sorted by relative path; refuses a directory that is not a model."""
    if not directory.exists():
        raise UsageError(f"{directory}: no such directory")
    if not directory.is_dir():
        raise UsageError(f"{directory}: not a directory")
    files = sorted(_walk(directory, directory.resolve()), key=lambda file: file.relpath)
    if not any(_is_weight_file(file.relpath) for file in files):
        raise UsageError(f"{directory}: no weight files ({', '.join(WEIGHT_PATTERNS)}) found")
    return files


def _walk(directory: Path, root: Path) -> Iterator[LocalFile]:
    """Visible files under `directory`: hidden entries (.git, .cache/huggingface) are not the model.

    A previous `manifest.json`/`SHA256SUMS` at the top (a synced-down revision) is skipped: push
    writes its own.
    """
    for current, dirnames, filenames in os.walk(directory):
        dirnames[:] = sorted(name for name in dirnames if not name.startswith("."))
        for name in dirnames:
            _refuse_linked_dir(Path(current, name), directory, root)
        for name in filenames:
            path = Path(current, name)
            if not name.startswith(".") and path.relative_to(directory).as_posix() not in INDEX_FILES:
                yield _local_file(path, directory, root)


def _refuse_escaping_link(path: Path, directory: Path, root: Path) -> None:
    """A link leaving DIR would upload files the user did not mean to publish."""
    if path.is_symlink() and not path.resolve().is_relative_to(root):
        raise UsageError(
            f"{path}: symlink points outside {directory} (to {path.resolve()}); "
            "copy the files into the directory (cp -rL)"
        )


def _refuse_linked_dir(path: Path, directory: Path, root: Path) -> None:
    """os.walk does not descend into directory links; refusing them beats silently skipping files."""
    _refuse_escaping_link(path, directory, root)
    if path.is_symlink():
        raise UsageError(f"{path}: directory symlinks are not supported; replace the link with a directory")


def _local_file(path: Path, directory: Path, root: Path) -> LocalFile:
    _refuse_escaping_link(path, directory, root)
    if not path.is_file():
        raise UsageError(f"{path}: not a regular file (or a link to one inside {directory})")
    relpath = path.relative_to(directory).as_posix()
    if any(char in relpath for char in "\\\n\r"):
        raise UsageError(f"{path}: names with backslashes or line breaks cannot be listed in {SUMS}")
    return LocalFile(relpath, path, path.stat().st_size)


def _is_weight_file(relpath: str) -> bool:
    name = PurePosixPath(relpath).name
    return any(fnmatch.fnmatchcase(name, pattern) for pattern in WEIGHT_PATTERNS)


def _digest_chunks(chunks: Iterable[bytes], progress: Progress, part: int | None = None) -> Digest:
    """Hash a stream without holding it (weight files are far larger than memory); with a part size,
    also each part, for the composite checksum S3 will report."""
    sha256, size = hashlib.sha256(), 0
    parts: list[bytes] = []
    current, in_part = hashlib.sha256(), 0
    for chunk in chunks:
        sha256.update(chunk)
        size += len(chunk)
        progress.update(len(chunk))
        view = memoryview(chunk)
        while part and view:
            take = min(part - in_part, len(view))
            current.update(view[:take])
            in_part, view = in_part + take, view[take:]
            if in_part == part:
                parts.append(current.digest())
                current, in_part = hashlib.sha256(), 0
    if part and in_part:
        parts.append(current.digest())
    hexdigest = sha256.hexdigest()
    if part:
        composite = base64.b64encode(hashlib.sha256(b"".join(parts)).digest()).decode()
        return Digest(hexdigest, size, f"{composite}-{len(parts)}")
    return Digest(hexdigest, size, full_object_checksum(hexdigest))


def digest_file(path: Path, progress: Progress = NO_PROGRESS, transfer: TransferConfig | None = None) -> Digest:
    part = part_size(path.stat().st_size, transfer) if transfer is not None else None
    with path.open("rb") as handle:
        return _digest_chunks(iter(lambda: handle.read(_CHUNK), b""), progress, part)


def _digest_all(
    files: list[LocalFile], progress: Progress, transfer: TransferConfig | None = None
) -> dict[str, Digest]:
    progress.start("hashing", sum(file.size for file in files))
    try:
        return {file.relpath: digest_file(file.path, progress, transfer) for file in files}
    finally:
        progress.finish()


# --- index files ------------------------------------------------------------------------------


def build_manifest(model: str, revision: str, digests: dict[str, Digest], created: datetime) -> dict:
    return {
        "model": model,
        "revision": revision,
        "created": created.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "files": {relpath: digests[relpath].to_json() for relpath in sorted(digests)},
    }


def render_manifest(manifest: dict[str, Any]) -> bytes:
    return (json.dumps(manifest, indent=2) + "\n").encode()


def render_sums(files: dict[str, dict[str, Any]]) -> bytes:
    """`sha256sum` format: digest, two spaces (text mode), relative path."""
    return "".join(f"{files[relpath]['sha256']}  {relpath}\n" for relpath in sorted(files)).encode()


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


# --- S3 primitives ----------------------------------------------------------------------------


def check_bucket(bucket: WeightsBucket) -> None:
    """Fail early and clearly: a missing bucket otherwise looks like missing objects (404)."""
    bucket.client.head_bucket(Bucket=bucket.name)


def _head_or_none(bucket: WeightsBucket, key: str) -> dict[str, Any] | None:
    try:
        return bucket.client.head_object(Bucket=bucket.name, Key=key)
    except ClientError as exc:
        if _is_missing_key(exc):
            return None
        raise


def _attributes_or_none(bucket: WeightsBucket, key: str) -> dict[str, Any] | None:
    """S3's own account of an object: its size and the checksum S3 computed when it was stored."""
    try:
        return bucket.client.get_object_attributes(
            Bucket=bucket.name, Key=key, ObjectAttributes=["Checksum", "ObjectSize"]
        )
    except ClientError as exc:
        if _is_missing_key(exc):
            return None
        raise


def _get_or_none(bucket: WeightsBucket, key: str) -> Any | None:
    """The object's streaming body, or None when there is no such object."""
    try:
        return bucket.client.get_object(Bucket=bucket.name, Key=key)["Body"]
    except ClientError as exc:
        if _is_missing_key(exc):
            return None
        raise


def _list_objects(bucket: WeightsBucket, prefix: str) -> Iterator[dict[str, Any]]:
    paginator = bucket.client.get_paginator("list_objects_v2")
    for page in paginator.paginate(Bucket=bucket.name, Prefix=prefix):
        yield from page.get("Contents", [])


def _sse_args(kms_key: str) -> dict[str, Any]:
    return {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": kms_key}


def _encryption(bucket: WeightsBucket, action: str) -> dict[str, Any]:
    """What each write asks for: the weights CMK in AWS; nothing where the store encrypts itself."""
    return {} if bucket.store_encrypts else _sse_args(_require_kms_key(bucket, action))


def _put(bucket: WeightsBucket, key: str, body: bytes, content_type: str, encryption: dict[str, Any]) -> None:
    bucket.client.put_object(
        Bucket=bucket.name, Key=key, Body=body, ContentType=content_type, **_checksum_args(bucket), **encryption
    )


def _checksum_args(bucket: WeightsBucket) -> dict[str, Any]:
    """S3 checks each part's SHA-256 as it arrives and keeps the checksum (AWS buckets; an on-prem
    store may not support flexible checksums, and there the sha256 metadata stands alone)."""
    return {} if bucket.store_encrypts else {"ChecksumAlgorithm": CHECKSUM_ALGORITHM}


def _delete(bucket: WeightsBucket, keys: list[str]) -> None:
    for start in range(0, len(keys), _DELETE_BATCH):
        batch = [{"Key": key} for key in keys[start : start + _DELETE_BATCH]]
        response = bucket.client.delete_objects(Bucket=bucket.name, Delete={"Objects": batch, "Quiet": True})
        for error in response.get("Errors", []):
            raise UsageError(f"{bucket.url(error['Key'])}: delete failed: {error.get('Code')}")


def s3_uploader(bucket: WeightsBucket) -> Uploader:
    """The real uploader: one PUT below the bucket's multipart threshold (boto3's managed transfer),
    else a multipart upload that resumes an interrupted one part by part (weights_transfer)."""

    def upload(path: Path, key: str, extra_args: dict[str, Any], callback: Callable[[int], None]) -> int:
        part = part_size(path.stat().st_size, bucket.transfer)
        if part is None:
            bucket.client.upload_file(
                str(path), bucket.name, key, ExtraArgs=extra_args, Callback=callback, Config=bucket.transfer
            )
            return 0
        concurrency = bucket.transfer.max_request_concurrency
        return MultipartUpload(bucket, path, key, part, extra_args, callback, concurrency).run()

    return upload


def read_manifest(bucket: WeightsBucket, prefix: str) -> dict[str, Any] | None:
    body = _get_or_none(bucket, prefix + MANIFEST)
    if body is None:
        return None
    try:
        manifest = json.loads(body.read())
    except ValueError as exc:
        raise UsageError(f"{bucket.url(prefix + MANIFEST)}: not valid JSON ({exc})") from exc
    if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), dict):
        raise UsageError(f'{bucket.url(prefix + MANIFEST)}: not a manifest (no "files" object)')
    return manifest


def _require_manifest(bucket: WeightsBucket, prefix: str) -> dict[str, Any]:
    manifest = read_manifest(bucket, prefix)
    if manifest is None:
        url = bucket.url(prefix + MANIFEST)
        raise UsageError(f"{url}: not found; no such revision, or its push never completed")
    return manifest


def _manifest_digests(manifest: dict[str, Any]) -> dict[str, Digest]:
    return {relpath: Digest(entry["sha256"], entry["size"]) for relpath, entry in manifest["files"].items()}


# --- push -------------------------------------------------------------------------------------


@_aws_errors
def push(
    bucket: WeightsBucket,
    directory: Path,
    model: str,
    revision: str,
    *,
    force: bool = False,
    uploader: Uploader | None = None,
    progress: Progress = NO_PROGRESS,
    now: Callable[[], datetime] = _utcnow,
) -> PushResult:
    """Upload a model directory as an immutable revision, resuming whatever an earlier push finished.

    Order matters: files first (skipping those already stored with the same sha256), the index
    last, then objects the new manifest does not name are removed (left by --force or by an
    abandoned push of other content), so the prefix holds exactly what SHA256SUMS lists.
    """
    validate_name("--model", model, MODEL_PATTERN)
    validate_revision(revision)
    encryption = _encryption(bucket, "push")
    files = scan_model_dir(directory)
    check_bucket(bucket)
    digests = _digest_all(files, progress, bucket.transfer)
    prefix = revision_prefix(model, revision)
    _refuse_archived(bucket, prefix, model, revision)
    manifest = build_manifest(model, revision, digests, now())
    existing = read_manifest(bucket, prefix)
    unchanged = existing is not None and existing["files"] == manifest["files"]
    if existing is not None and not unchanged:
        _replace_revision(bucket, prefix, force)
    upload = uploader or s3_uploader(bucket)
    uploaded, resumed = _upload_missing(bucket, prefix, files, digests, encryption, upload, progress)
    if not unchanged:
        _write_index(bucket, prefix, manifest, encryption)
    pruned = _prune(bucket, prefix, digests)
    size = sum(digest.size for digest in digests.values())
    return PushResult(prefix, len(files), size, len(uploaded), not unchanged, pruned, resumed)


def _refuse_archived(bucket: WeightsBucket, prefix: str, model: str, revision: str) -> None:
    """An archived object looks present (same size and sha256 metadata) but cannot be read: a push that
    counted it would report a revision no node can download."""
    cold = sorted({str(o.get("StorageClass")) for o in _list_objects(bucket, prefix)} & ARCHIVED_STORAGE_CLASSES)
    if cold:
        raise UsageError(
            f"{bucket.url(prefix)}: the revision is archived ({', '.join(cold)}) and cannot be served: run "
            f"`llmstack weights restore --model {model} --revision {revision} --wait` first, then push again"
        )


@_aws_errors
def repair(
    bucket: WeightsBucket,
    directory: Path,
    model: str,
    revision: str,
    *,
    uploader: Uploader | None = None,
    progress: Progress = NO_PROGRESS,
) -> RepairResult:
    """Upload again exactly what a full verify finds bad (content, not metadata), SHA256SUMS included,
    from a local copy of the same revision; then verify again."""
    validate_name("--model", model, MODEL_PATTERN)
    validate_revision(revision)
    encryption = _encryption(bucket, "push --repair")
    files = scan_model_dir(directory)
    check_bucket(bucket)
    prefix = revision_prefix(model, revision)
    _refuse_archived(bucket, prefix, model, revision)
    manifest = _require_manifest(bucket, prefix)
    digests = _digest_all(files, progress, bucket.transfer)
    if {relpath: d.to_json() for relpath, d in digests.items()} != manifest["files"]:
        raise UsageError(
            f"{directory}: not the content {bucket.url(prefix + MANIFEST)} describes; repair needs the same "
            "revision's files (or push --force to replace the revision)"
        )
    bad = [problem.relpath for problem in verify(bucket, model, revision, progress=progress).problems]
    upload = uploader or s3_uploader(bucket)
    by_relpath = {file.relpath: file for file in files}
    for relpath in [r for r in bad if r != SUMS]:
        digest = digests[relpath]
        upload(
            by_relpath[relpath].path,
            prefix + relpath,
            _upload_args(bucket, digest, encryption),
            progress.update,
        )
        _confirm_stored(bucket, prefix + relpath, digest)
    if SUMS in bad:
        _put(bucket, prefix + SUMS, render_sums(manifest["files"]), "text/plain; charset=utf-8", encryption)
    remaining = verify(bucket, model, revision, progress=progress).problems
    return RepairResult(prefix, [*[r for r in bad if r != SUMS], *([SUMS] if SUMS in bad else [])], remaining)


def _require_kms_key(bucket: WeightsBucket, action: str) -> str:
    if not bucket.kms_key:
        raise UsageError(f"{action} needs the weights KMS key: pass --kms-key ARN|alias or --stack NAME")
    return bucket.kms_key


def _replace_revision(bucket: WeightsBucket, prefix: str, force: bool) -> None:
    """Withdraw the old index before any object changes, so it never describes what is not there."""
    if not force:
        raise UsageError(
            f"{bucket.url(prefix)}: revision exists with different content; revisions are immutable, "
            "push a new --revision (or --force to replace it)"
        )
    _delete(bucket, [prefix + name for name in INDEX_FILES])


def _upload_missing(
    bucket: WeightsBucket,
    prefix: str,
    files: list[LocalFile],
    digests: dict[str, Digest],
    extra_args: dict[str, Any],
    upload: Uploader,
    progress: Progress,
) -> tuple[list[str], int]:
    """Upload each file the bucket does not hold with the same sha256; returns the uploaded paths and
    how many parts of them interrupted uploads had already stored."""
    uploaded: list[str] = []
    resumed = 0
    progress.start("uploading", sum(digest.size for digest in digests.values()))
    try:
        for file in files:
            key, digest = prefix + file.relpath, digests[file.relpath]
            if _holds(bucket, key, digest):
                progress.update(digest.size)
                continue
            resumed += upload(file.path, key, _upload_args(bucket, digest, extra_args), progress.update) or 0
            _confirm_stored(bucket, key, digest)
            uploaded.append(file.relpath)
    finally:
        progress.finish()
    return uploaded, resumed


def _upload_args(bucket: WeightsBucket, digest: Digest, extra_args: dict[str, Any]) -> dict[str, Any]:
    metadata = {"sha256": digest.sha256}
    if digest.s3_checksum and "-" in digest.s3_checksum and not bucket.store_encrypts:
        metadata[COMPOSITE_METADATA] = digest.s3_checksum
    return {**extra_args, **_checksum_args(bucket), "Metadata": metadata}


def _holds(bucket: WeightsBucket, key: str, digest: Digest) -> bool:
    """Whether a stored object is this file: by the checksum S3 computed when it stored it, where S3
    has one (it vouches for the bytes); else by the sha256 metadata push stores with it."""
    if not bucket.store_encrypts:
        attributes = _attributes_or_none(bucket, key)
        if attributes is None:
            return False
        stored = (attributes.get("Checksum") or {}).get("ChecksumSHA256")
        if stored is not None:
            return attributes.get("ObjectSize") == digest.size and _same_checksum(stored, digest.s3_checksum)
    head = _head_or_none(bucket, key)
    return (
        head is not None
        and head.get("ContentLength") == digest.size
        and head.get("Metadata", {}).get("sha256") == digest.sha256
    )


def _confirm_stored(bucket: WeightsBucket, key: str, digest: Digest) -> None:
    """The index may only name objects seen in the bucket, not merely handed to the uploader."""
    if not _holds(bucket, key, digest):
        raise UsageError(f"{bucket.url(key)}: not stored with sha256 {digest.sha256} after upload; retry")


def _write_index(bucket: WeightsBucket, prefix: str, manifest: dict[str, Any], encryption: dict[str, Any]) -> None:
    _put(bucket, prefix + SUMS, render_sums(manifest["files"]), "text/plain; charset=utf-8", encryption)
    _put(bucket, prefix + MANIFEST, render_manifest(manifest), "application/json", encryption)


def _prune(bucket: WeightsBucket, prefix: str, digests: dict[str, Digest]) -> int:
    keep = {prefix + relpath for relpath in [*digests, *INDEX_FILES]}
    stale = [obj["Key"] for obj in _list_objects(bucket, prefix) if obj["Key"] not in keep]
    _delete(bucket, stale)
    return len(stale)


# --- list -------------------------------------------------------------------------------------


@_aws_errors
def list_revisions(bucket: WeightsBucket, model: str | None = None) -> list[RevisionSummary]:
    """Every revision under `models/` (or one model's), with its size, storage classes and index."""
    prefix = f"{ROOT_PREFIX}/"
    if model is not None:
        prefix += f"{validate_name('--model', model, MODEL_PATTERN)}/"
    check_bucket(bucket)
    summaries: dict[tuple[str, str], RevisionSummary] = {}
    for obj in _list_objects(bucket, prefix):
        parts = obj["Key"].split("/", 3)
        if len(parts) == 4 and parts[3]:
            _, model_name, revision, relpath = parts
            summary = summaries.setdefault((model_name, revision), RevisionSummary(model_name, revision))
            summary.add(relpath, obj)
    return [summaries[key] for key in sorted(summaries)]


# --- verify -----------------------------------------------------------------------------------


@_aws_errors
def verify(
    bucket: WeightsBucket,
    model: str,
    revision: str,
    *,
    fast: bool = False,
    progress: Progress = NO_PROGRESS,
) -> VerifyReport:
    """Check every object against the manifest: by downloading and hashing, or by metadata (fast)."""
    validate_name("--model", model, MODEL_PATTERN)
    validate_revision(revision)
    check_bucket(bucket)
    prefix = revision_prefix(model, revision)
    manifest = _require_manifest(bucket, prefix)
    expected = _manifest_digests(manifest)
    check = _check_metadata if fast else functools.partial(_check_content, progress=progress)
    progress.start("verifying", 0 if fast else sum(digest.size for digest in expected.values()))
    try:
        reasons = {relpath: check(bucket, prefix + relpath, digest) for relpath, digest in expected.items()}
    finally:
        progress.finish()
    reasons[SUMS] = _check_sums(bucket, prefix, manifest)
    problems = [Problem(relpath, reason) for relpath, reason in reasons.items() if reason]
    return VerifyReport(prefix, len(expected), problems)


def _mismatch(expected: Digest, size: int, sha256: str | None, what: str) -> str | None:
    if size != expected.size:
        return f"size {size}, manifest says {expected.size}"
    if sha256 != expected.sha256:
        return f"{what} {sha256 or 'absent'}, manifest says {expected.sha256}"
    return None


def _check_metadata(bucket: WeightsBucket, key: str, expected: Digest) -> str | None:
    """Without a download: S3's checksum where it has one (a single PUT's is the file's sha256 itself;
    a multipart object's composite must equal the one push computed from the file), else metadata."""
    head = _head_or_none(bucket, key)
    if head is None:
        return "missing"
    stored_sha256 = head.get("Metadata", {}).get("sha256")
    attributes = None if bucket.store_encrypts else _attributes_or_none(bucket, key)
    checksum = ((attributes or {}).get("Checksum") or {}).get("ChecksumSHA256")
    if checksum is None:
        return _mismatch(expected, head["ContentLength"], stored_sha256, "sha256 metadata")
    composite = head.get("Metadata", {}).get(COMPOSITE_METADATA)
    if composite is None:  # one part: S3's checksum is the sha256
        reported = base64.b64decode(checksum.split("-")[0]).hex()
        return _mismatch(expected, head["ContentLength"], reported, "S3 checksum (sha256)")
    if not _same_checksum(checksum, composite):
        return f"S3 checksum {checksum} differs from the composite push recorded ({composite})"
    return _mismatch(expected, head["ContentLength"], stored_sha256, "sha256 metadata (multipart)")


def _check_content(bucket: WeightsBucket, key: str, expected: Digest, progress: Progress) -> str | None:
    body = _get_or_none(bucket, key)
    if body is None:
        return "missing"
    actual = _digest_chunks(body.iter_chunks(_CHUNK), progress)
    return _mismatch(expected, actual.size, actual.sha256, "sha256")


def _check_sums(bucket: WeightsBucket, prefix: str, manifest: dict[str, Any]) -> str | None:
    """The init container trusts SHA256SUMS, so it must say exactly what the manifest says."""
    body = _get_or_none(bucket, prefix + SUMS)
    if body is None:
        return "missing"
    return None if body.read() == render_sums(manifest["files"]) else f"does not match {MANIFEST}"


# --- archive ----------------------------------------------------------------------------------


@_aws_errors
def archive(bucket: WeightsBucket, model: str, revision: str) -> ArchiveResult:
    """Move a revision's weight files to the cold tier; its index stays readable for list/verify --fast.

    Objects already in an archive class are skipped, so an interrupted archive resumes.
    """
    validate_name("--model", model, MODEL_PATTERN)
    validate_revision(revision)
    check_bucket(bucket)
    prefix = revision_prefix(model, revision)
    relpaths = sorted(_require_manifest(bucket, prefix)["files"])
    moved = sum(_archive_object(bucket, prefix + relpath) for relpath in relpaths)
    return ArchiveResult(prefix, moved, len(relpaths) - moved)


def _archive_object(bucket: WeightsBucket, key: str) -> bool:
    """Copy one object onto itself in GLACIER, tagged cold; False when it is already archived.

    The tag travels with the copy, so an object is never cold and untagged, and an archived object
    needs no further call (S3 cannot copy it without a restore anyway).
    """
    head = _head_or_none(bucket, key)
    if head is None:
        raise UsageError(f"{bucket.url(key)}: listed in {MANIFEST} but missing; run llmstack weights verify")
    if head.get("StorageClass", "STANDARD") in ARCHIVED_STORAGE_CLASSES:
        return False
    _copy_to_cold(bucket, key, head, {**_tags(bucket, key), TIER_TAG_KEY: COLD_TIER})
    return True


@_aws_errors
def restore(
    bucket: WeightsBucket, model: str, revision: str, *, tier: str = "Standard", days: int = 7
) -> RestoreResult:
    """Bring an archived revision back to the warm tier, in as many calls as S3 needs.

    Each call requests a restore for archived objects that have none, and copies those S3 has
    restored (a temporary copy for `days`) back onto themselves in the warm class, tagged warm. So
    an interrupted or early call is simply run again; nothing is done twice.
    """
    validate_name("--model", model, MODEL_PATTERN)
    validate_revision(revision)
    if tier not in RESTORE_HOURS:
        raise UsageError(f"--tier {tier}: must be one of {', '.join(sorted(RESTORE_HOURS))}")
    check_bucket(bucket)
    prefix = revision_prefix(model, revision)
    relpaths = sorted(_require_manifest(bucket, prefix)["files"])
    requested, copied, pending = 0, 0, []
    for relpath in relpaths:
        key = prefix + relpath
        head = _head_or_none(bucket, key)
        if head is None:
            raise UsageError(f"{bucket.url(key)}: listed in {MANIFEST} but missing; run llmstack weights verify")
        if head.get("StorageClass", "STANDARD") not in ARCHIVED_STORAGE_CLASSES:
            continue
        state = head.get("Restore")
        if state is None:
            bucket.client.restore_object(
                Bucket=bucket.name, Key=key, RestoreRequest={"Days": days, "GlacierJobParameters": {"Tier": tier}}
            )
            requested += 1
            pending.append(relpath)
        elif 'ongoing-request="true"' in state:
            pending.append(relpath)
        else:
            tags = {**_tags(bucket, key), TIER_TAG_KEY: WARM_TIER}
            _copy_in_place(bucket, key, head, tags, WARM_STORAGE_CLASS)
            copied += 1
    return RestoreResult(prefix, len(relpaths), requested, pending, copied)


def _copy_to_cold(bucket: WeightsBucket, key: str, head: dict[str, Any], tags: dict[str, str]) -> None:
    _copy_in_place(bucket, key, head, tags, COLD_STORAGE_CLASS)


def _copy_in_place(
    bucket: WeightsBucket, key: str, head: dict[str, Any], tags: dict[str, str], storage_class: str
) -> None:
    """Metadata (sha256), KMS key and tags are passed explicitly: multipart copies do not carry them."""
    kms_key = head.get("SSEKMSKeyId")
    encryption = (
        _sse_args(kms_key)
        if kms_key
        else _encryption(bucket, "archive" if storage_class == COLD_STORAGE_CLASS else "restore")
    )
    extra_args = {
        "StorageClass": storage_class,
        "MetadataDirective": "REPLACE",
        "Metadata": head.get("Metadata", {}),
        "ContentType": head.get("ContentType", "binary/octet-stream"),
        "TaggingDirective": "REPLACE",
        "Tagging": urlencode(sorted(tags.items())),
        **encryption,
    }
    source = {"Bucket": bucket.name, "Key": key}
    bucket.client.copy(source, bucket.name, key, ExtraArgs=extra_args, Config=bucket.transfer)


def _tags(bucket: WeightsBucket, key: str) -> dict[str, str]:
    response = bucket.client.get_object_tagging(Bucket=bucket.name, Key=key)
    return {tag["Key"]: tag["Value"] for tag in response.get("TagSet", [])}
