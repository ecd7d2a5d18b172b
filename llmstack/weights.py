"""`llmstack weights`: push, list, verify and archive model weight revisions in the weights bucket.

The S3 work lives in `llmstack.weights_store`; this module is the command line around it: flags,
finding the bucket and KMS key (flags or `pulumi stack output`), the progress line and the output.
Run it as `llmstack weights ...` or, standalone, `python -m llmstack.weights ...`.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import boto3

from llmstack import weights_store as store
from llmstack.errors import UsageError
from llmstack.stackfile import load_stack
from stacks.config import ModelConfig, PlatformConfig

# Runs a command and returns its result; tests replace it to fake the pulumi CLI.
Runner = Callable[[list[str]], "subprocess.CompletedProcess[str]"]


# --- output helpers ---------------------------------------------------------------------------


def format_size(size: int) -> str:
    """Binary units, one decimal: weight files are sized in GiB, config files in KiB."""
    if size < 1024:
        return f"{size} B"
    value = float(size)
    for unit in ("KiB", "MiB", "GiB", "TiB"):
        value /= 1024
        if value < 1024 or unit == "TiB":
            break
    return f"{value:.1f} {unit}"


def format_table(rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows
    )


class TerminalProgress:
    """A tqdm bar on a terminal: bytes done, rate and ETA, redrawn in place.

    boto3 calls `update` from its worker threads; tqdm's own lock guards the bar's state and the
    lock here keeps start/finish from racing an update.
    """

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._lock = threading.Lock()
        self._bar: Any = None

    def start(self, label: str, total: int) -> None:
        from tqdm import tqdm

        with self._lock:
            self._bar = tqdm(
                total=total, desc=label, unit="B", unit_scale=True, unit_divisor=1024, file=self._stream, leave=True
            )

    def update(self, amount: int) -> None:
        with self._lock:
            if self._bar is not None:
                self._bar.update(amount)

    def finish(self) -> None:
        with self._lock:
            if self._bar is not None:
                self._bar.close()
                self._bar = None


class LogProgress:
    """For logs (CI): one line every `interval` seconds, and one at the end, never a redrawn line.

    `label: done / total (pct%), rate/s, ETA` - what a person reading a build log needs to tell a slow
    upload from a stuck one.
    """

    def __init__(self, stream: TextIO, interval: float = 30.0, clock: Callable[[], float] = time.monotonic) -> None:
        self._stream, self._interval, self._clock = stream, interval, clock
        self._lock = threading.Lock()
        self._label, self._total, self._done, self._started, self._last = "", 0, 0, 0.0, 0.0
        self._written: tuple[str, int] | None = None

    def start(self, label: str, total: int) -> None:
        with self._lock:
            self._label, self._total, self._done = label, total, 0
            self._started = self._last = self._clock()

    def update(self, amount: int) -> None:
        with self._lock:
            self._done += amount
            now = self._clock()
            if now - self._last >= self._interval:
                self._last = now
                self._write(now)

    def finish(self) -> None:
        with self._lock:
            # Nothing to say of a stage with nothing to move (verify --fast), or already said.
            if self._total and self._written != (self._label, self._done):
                self._write(self._clock())

    def _write(self, now: float) -> None:
        self._written = (self._label, self._done)
        elapsed = max(now - self._started, 1e-9)
        rate = self._done / elapsed
        percent = 100 * self._done // self._total if self._total else 100
        left = (self._total - self._done) / rate if rate else 0.0
        eta = f"ETA {left:.0f} s" if self._done < self._total else f"done in {elapsed:.0f} s"
        self._stream.write(
            f"{self._label}: {format_size(self._done)} / {format_size(self._total)} ({percent}%), "
            f"{format_size(int(rate))}/s, {eta}\n"
        )
        self._stream.flush()


def _progress(args: argparse.Namespace) -> store.Progress:
    """A bar for a person at a terminal, periodic lines in a log, nothing with --quiet."""
    if args.quiet:
        return store.NO_PROGRESS
    if sys.stderr.isatty():
        return TerminalProgress(sys.stderr)
    return LogProgress(sys.stderr)


# --- where the bucket is ----------------------------------------------------------------------


@dataclass(frozen=True)
class Location:
    bucket: str
    kms_key: str | None
    region: str | None
    endpoint_url: str | None = None
    store_encrypts: bool = False
    """An on-prem store that encrypts at rest itself (no SSE-KMS on its writes)."""


def run_command(argv: list[str]) -> subprocess.CompletedProcess[str]:
    """stdin is closed so that a pulumi prompt (login, passphrase) fails instead of hanging."""
    return subprocess.run(argv, capture_output=True, text=True, stdin=subprocess.DEVNULL, check=False)


def stack_outputs(stack: str, run: Runner = run_command) -> dict[str, Any]:
    """The stack's outputs, via the pulumi CLI: the state backend may be anywhere, pulumi knows where."""
    hint = "; pass --bucket and --kms-key instead"
    try:
        result = run(["pulumi", "stack", "output", "--json", "--stack", stack])
    except FileNotFoundError as exc:
        raise UsageError(f"--stack {stack}: the pulumi CLI is not on PATH{hint}") from exc
    if result.returncode != 0:
        reason = (result.stderr.strip().splitlines() or [f"exit code {result.returncode}"])[-1]
        raise UsageError(f"--stack {stack}: `pulumi stack output` failed: {reason}{hint}")
    try:
        outputs = json.loads(result.stdout)
    except ValueError as exc:
        raise UsageError(f"--stack {stack}: `pulumi stack output --json` did not print JSON{hint}") from exc
    if not isinstance(outputs, dict) or not outputs.get("weights_bucket"):
        raise UsageError(f"--stack {stack}: the stack has no weights_bucket output{hint}")
    return outputs


def _region_of_arn(arn: str | None) -> str | None:
    """A KMS key ARN names its region, which is the bucket's: the key must be in the bucket's region."""
    parts = (arn or "").split(":")
    if len(parts) < 6 or parts[0] != "arn":
        return None  # an alias or a bare key id
    return parts[3] or None


def _stack_config(stack: str) -> PlatformConfig:
    """The stack file's validated config (Pulumi.<stack>.yaml of this project)."""
    return load_stack(stack, None).platform


def resolve_revision(args: argparse.Namespace) -> str:
    """--revision, else (with --stack) the commit the stack pins for --model."""
    if args.revision:
        return store.validate_revision(args.revision)
    if not args.stack:
        raise UsageError("--revision: required without --stack (with --stack it defaults to the commit the stack pins)")
    config = _stack_config(args.stack)
    model = next((m for m in config.models if m.name == args.model), None)
    if model is None:
        known = ", ".join(m.name for m in config.models)
        raise UsageError(f"--model {args.model}: not a model of Pulumi.{args.stack}.yaml ({known}); pass --revision")
    return model.revision


def _refuse_pinned(args: argparse.Namespace, action: str) -> None:
    """A revision the stack still serves must stay readable: refuse to archive it."""
    if not args.stack:
        raise UsageError(f"{action}: needs --stack NAME, to refuse a revision the stack still pins")
    pinned = [m.name for m in _stack_config(args.stack).models if m.name == args.model and m.revision == args.revision]
    if pinned:
        raise UsageError(
            f"--revision {args.revision}: Pulumi.{args.stack}.yaml still pins it for {pinned[0]}; {action} only a "
            "revision the stack no longer serves (and list it in the model's archived_revisions)"
        )


def _sensitive_model(config: PlatformConfig, name: str | None) -> ModelConfig | None:
    model = next((m for m in config.models if m.name == name), None)
    return model if model is not None and model.sensitive else None


def resolve_location(args: argparse.Namespace, run: Runner = run_command) -> Location:
    """Flags win over the stack's outputs, so one value can be overridden without the other.

    With --stack, the stack file decides residency: a sensitive model's weights go to (and are
    read from) only an on-prem target's own store (--target), never the AWS weights bucket."""
    if args.target is not None:
        return _onprem_location(args, args.target)
    if args.stack:
        sensitive = _sensitive_model(_stack_config(args.stack), args.model)
        if sensitive is not None:
            targets = ", ".join(sensitive.targets)
            raise UsageError(
                f"--model {sensitive.name}: sensitive (Pulumi.{args.stack}.yaml); its weights never enter an AWS "
                f"bucket: pass --target {targets.split(', ')[0]} (its on-prem store; placed on: {targets})"
            )
    # Flags win: with both given, the stack's outputs (a pulumi CLI call) are not needed.
    outputs = stack_outputs(args.stack, run) if args.stack and not (args.bucket and args.kms_key) else {}
    bucket = args.bucket or outputs.get("weights_bucket")
    if not bucket:
        raise UsageError("no weights bucket: pass --bucket NAME or --stack NAME")
    kms_key = args.kms_key or outputs.get("weights_kms_key_arn")
    return Location(bucket, kms_key, args.region or _region_of_arn(kms_key), args.endpoint_url)


def _onprem_location(args: argparse.Namespace, target: str) -> Location:
    """An on-prem target's sensitive-weights store, from the stack file; credentials are the store's
    own (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or a profile), never the stack's AWS account."""
    if not args.stack:
        raise UsageError(f"--target {target}: needs --stack NAME (the stack file names the target's store)")
    config = _stack_config(args.stack)
    found = next((t for t in config.onprem_targets if t.name == target), None)
    if found is None:
        known = ", ".join(t.name for t in config.onprem_targets) or "none"
        raise UsageError(f"--target {target}: no such on-prem target in Pulumi.{args.stack}.yaml (targets: {known})")
    store = found.sensitive_weights
    if store is None:
        raise UsageError(f"--target {target}: has no sensitive_weights store in Pulumi.{args.stack}.yaml")
    model = args.model
    if model is not None:
        sensitive = _sensitive_model(config, model)
        if sensitive is None:
            raise UsageError(
                f"--model {model}: not a sensitive model of Pulumi.{args.stack}.yaml; {target} reads other "
                "models from the weights bucket (push without --target)"
            )
        if target not in sensitive.targets:
            raise UsageError(f"--model {model}: not placed on {target} (targets: {', '.join(sensitive.targets)})")
    if args.kms_key:
        raise UsageError(f"--kms-key: not used with --target {target}; its store encrypts at rest with its own keys")
    return Location(
        args.bucket or store.bucket,
        None,
        args.region or store.signing_region,
        args.endpoint_url or store.endpoint,
        store_encrypts=True,
    )


def open_bucket(
    args: argparse.Namespace, multipart_threshold: int = store.DEFAULT_MULTIPART_THRESHOLD
) -> store.WeightsBucket:
    location = resolve_location(args)
    client = boto3.client("s3", region_name=location.region, endpoint_url=location.endpoint_url)
    transfer = store.transfer_config(multipart_threshold)
    return store.WeightsBucket(
        client, location.bucket, location.kms_key, transfer, store_encrypts=location.store_encrypts
    )


# --- subcommands ------------------------------------------------------------------------------


def _push(args: argparse.Namespace) -> int:
    args.revision = resolve_revision(args)
    if args.repair and args.force:
        raise UsageError("--repair: not with --force (repair re-uploads what verify finds bad; force replaces all)")
    bucket = open_bucket(args, args.multipart_threshold)
    model, revision, progress = args.model, args.revision, _progress(args)
    if args.repair:
        return _repair(bucket, args, progress)
    result = store.push(bucket, args.directory, model, revision, force=args.force, progress=progress)
    manifest = "manifest written" if result.manifest_written else "manifest unchanged"
    stale = f", {result.pruned} stale objects removed" if result.pruned else ""
    resumed = f" ({result.resumed_parts} parts kept from an interrupted upload)" if result.resumed_parts else ""
    print(
        f"pushed {bucket.url(result.prefix)}: {result.files} files, {format_size(result.size)}; "
        f"{result.uploaded} uploaded{resumed}, {result.files - result.uploaded} already present; {manifest}{stale}"
    )
    return 0


def _repair(bucket: store.WeightsBucket, args: argparse.Namespace, progress: store.Progress) -> int:
    """Re-upload exactly what a full verify finds bad, then verify again: exit 1 if anything still is."""
    result = store.repair(bucket, args.directory, args.model, args.revision, progress=progress)
    repaired = ", ".join(result.repaired) or "nothing"
    status = "OK" if not result.remaining else "FAILED"
    print(f"{status} repaired {bucket.url(result.prefix)}: {repaired}")
    for problem in result.remaining:
        print(f"  {problem.relpath}: {problem.reason}")
    return 1 if result.remaining else 0


def hub_download(source: str, revision: str, directory: Path) -> None:
    """The Hugging Face Hub's snapshot of the repository at the revision (a commit), every file."""
    try:
        from huggingface_hub import snapshot_download  # pyright: ignore[reportMissingImports] - the optional weights group
    except ImportError:
        raise UsageError(
            "huggingface_hub is not installed: UV_PROJECT_ENVIRONMENT=.venv .venv/bin/uv sync --locked --group weights"
        ) from None
    snapshot_download(repo_id=source, revision=revision, local_dir=directory)


def _fetch(args: argparse.Namespace) -> int:
    """The model's `source` at the commit the stack pins, from the Hub into DIR: what push starts from."""
    config = _stack_config(args.stack)
    model = next((m for m in config.models if m.name == args.model), None)
    if model is None:
        known = ", ".join(m.name for m in config.models)
        raise UsageError(f"--model {args.model}: not a model of Pulumi.{args.stack}.yaml ({known})")
    if args.directory.exists() and any(args.directory.iterdir()):
        raise UsageError(f"{args.directory}: not empty; fetch into a new directory (push takes every file in it)")
    try:
        hub_download(model.source, model.revision, args.directory)
    except UsageError:
        raise
    except Exception as exc:  # the hub's errors (auth, gated repository, network) in one line
        message = " ".join(str(exc).split()) or type(exc).__name__
        raise UsageError(f"{model.source}@{model.revision}: download failed: {message}") from None
    files = store.scan_model_dir(args.directory)
    print(
        f"fetched {model.source}@{model.revision} into {args.directory}: {len(files)} files, "
        f"{format_size(sum(f.size for f in files))}; next: llmstack weights push {args.directory} "
        f"--model {model.name} --stack {args.stack}"
    )
    return 0


def _list(args: argparse.Namespace) -> int:
    bucket = open_bucket(args)
    summaries = store.list_revisions(bucket, args.model)
    if not summaries:
        print(f"no revisions under {bucket.url(store.ROOT_PREFIX + '/')}")
        return 0
    rows = [("MODEL", "REVISION", "FILES", "SIZE", "TIER", "MANIFEST")]
    rows += [
        (s.model, s.revision, str(s.files), format_size(s.size), s.tier, "yes" if s.has_manifest else "no")
        for s in summaries
    ]
    print(format_table(rows))
    return 0


def _verify(args: argparse.Namespace) -> int:
    """Exit 1 (not 2) on a mismatch: the command worked, the revision did not pass."""
    args.revision = resolve_revision(args)
    bucket = open_bucket(args)
    report = store.verify(bucket, args.model, args.revision, fast=args.fast, progress=_progress(args))
    method = "S3 checksums, no download" if args.fast else "sha256 of content"
    status = "FAILED" if report.problems else "OK"
    print(f"{status} {bucket.url(report.prefix)}: {report.files} files, {method}")
    for problem in report.problems:
        print(f"  {problem.relpath}: {problem.reason}")
    return 1 if report.problems else 0


def _archive(args: argparse.Namespace) -> int:
    args.revision = resolve_revision(args)
    bucket = open_bucket(args, args.multipart_threshold)  # residency first: where the weights may live
    _refuse_pinned(args, "archive")
    result = store.archive(bucket, args.model, args.revision)
    print(
        f"archived {bucket.url(result.prefix)} to {store.COLD_STORAGE_CLASS}: {result.moved} objects moved, "
        f"{result.already_cold} already archived; tagged {store.TIER_TAG_KEY}={store.COLD_TIER}"
    )
    return 0


def _restore(args: argparse.Namespace) -> int:
    """Exit 0 once every object is back in the warm tier; until then, what is pending and how long."""
    args.revision = resolve_revision(args)
    bucket = open_bucket(args)
    while True:
        result = store.restore(bucket, args.model, args.revision, tier=args.tier, days=args.days)
        if not result.pending or not args.wait:
            break
        print(
            f"waiting: {len(result.pending)} of {result.objects} objects still restoring ({args.tier} tier)",
            file=sys.stderr,
        )
        store.sleep(args.poll_seconds or store.RESTORE_POLL_SECONDS[args.tier])
    if result.pending:
        print(
            f"restoring {bucket.url(result.prefix)}: {result.requested} requested now, {len(result.pending)} of "
            f"{result.objects} objects pending ({args.tier}: {store.RESTORE_HOURS[args.tier]}); run restore again "
            "(or with --wait) to bring them back to the warm tier"
        )
        return 0
    print(
        f"restored {bucket.url(result.prefix)} to {store.WARM_STORAGE_CLASS}: {result.copied} objects copied back, "
        f"{result.objects - result.copied} already warm; tagged {store.TIER_TAG_KEY}={store.WARM_TIER}"
    )
    return 0


# --- parser -----------------------------------------------------------------------------------


def _mib(text: str) -> int:
    """MiB as a number of bytes; fractions allowed so tests can exercise multipart with tiny files."""
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r}: must be a positive number of MiB")
    return max(1, int(value * store.MiB))


def _location_options() -> argparse.ArgumentParser:
    parent = argparse.ArgumentParser(add_help=False)
    group = parent.add_argument_group("bucket (from --stack, or the flags, which win)")
    group.add_argument("--stack", metavar="NAME", help="use its weights_bucket, weights_kms_key_arn outputs")
    group.add_argument("--bucket", metavar="NAME", help="the weights bucket")
    group.add_argument("--kms-key", metavar="ARN|ALIAS", help="KMS key for new objects (SSE-KMS)")
    group.add_argument("--region", help="the bucket's region (default: the KMS key ARN's, else AWS config)")
    group.add_argument("--endpoint-url", metavar="URL", help="an S3-compatible endpoint instead of AWS")
    group.add_argument(
        "--target",
        metavar="NAME",
        help="with --stack: the on-prem target's own store (sensitive models' weights), not the AWS bucket",
    )
    return parent


def _revision_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", required=True, help="model name, e.g. llama-3.1-8b-instruct")
    parser.add_argument(
        "--revision", help="the model repository's 40-hex commit (default with --stack: the one the stack pins)"
    )


def _threshold_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--multipart-threshold-mib",
        dest="multipart_threshold",
        type=_mib,
        default=store.DEFAULT_MULTIPART_THRESHOLD,
        metavar="MIB",
        help=f"transfer larger files in parts (default: {store.DEFAULT_MULTIPART_THRESHOLD // store.MiB})",
    )


def _quiet_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress line on stderr")


def register(subparsers: Any) -> None:
    """Add `weights` and its push/list/verify/archive/restore subcommands to the llmstack parser."""
    weights = subparsers.add_parser("weights", help="push, list, verify, archive and restore model weights in S3")
    commands = weights.add_subparsers(dest="weights_command", metavar="COMMAND", required=True)
    location = _location_options()

    push = commands.add_parser("push", parents=[location], help="upload a model directory as a revision")
    push.add_argument("directory", type=Path, metavar="DIR", help="model directory (safetensors, config...)")
    _revision_options(push)
    push.add_argument("--force", action="store_true", help="replace a revision that has different content")
    push.add_argument(
        "--repair", action="store_true", help="re-upload exactly what a full verify finds bad (SHA256SUMS included)"
    )
    _threshold_option(push)
    _quiet_option(push)
    push.set_defaults(func=_push)

    fetch = commands.add_parser(
        "fetch", help="download a model at the commit the stack pins from the Hugging Face Hub (HF_TOKEN if gated)"
    )
    fetch.add_argument("directory", type=Path, metavar="DIR", help="a new (or empty) directory to download into")
    fetch.add_argument("--stack", required=True, metavar="NAME", help="the stack file that pins the revision")
    fetch.add_argument("--model", required=True, help="a model of the stack file")
    fetch.set_defaults(func=_fetch)

    listing = commands.add_parser("list", parents=[location], help="models and revisions in the bucket")
    listing.add_argument("--model", help="only this model's revisions")
    listing.set_defaults(func=_list)

    verify = commands.add_parser("verify", parents=[location], help="check objects against the manifest")
    _revision_options(verify)
    verify.add_argument(
        "--fast",
        action="store_true",
        help="compare the checksums S3 keeps (sha256 metadata where it has none), no download",
    )
    _quiet_option(verify)
    verify.set_defaults(func=_verify)

    archive = commands.add_parser("archive", parents=[location], help="move a revision to the cold tier")
    _revision_options(archive)
    _threshold_option(archive)
    archive.set_defaults(func=_archive)

    restore = commands.add_parser(
        "restore", parents=[location], help="bring an archived revision back to the warm tier (S3 restore)"
    )
    _revision_options(restore)
    restore.add_argument("--tier", choices=sorted(store.RESTORE_HOURS), default="Standard", help="S3 restore tier")
    restore.add_argument("--days", type=int, default=7, help="days S3 keeps the temporary copy (default 7)")
    restore.add_argument("--wait", action="store_true", help="poll until every object is back")
    restore.add_argument(
        "--poll-seconds", type=int, help="with --wait: seconds between checks (default: 15, 900 or 1800 by tier)"
    )
    restore.set_defaults(func=_restore)


def main(argv: Sequence[str] | None = None) -> int:
    """`llmstack weights` on its own, with the errors handled as `llmstack.cli.main` does."""
    from llmstack.cli import _Parser  # imported here: cli imports this module to build its parser

    parser = _Parser(prog="llmstack")
    register(parser.add_subparsers(dest="command", required=True, parser_class=_Parser))
    args = parser.parse_args(["weights", *(sys.argv[1:] if argv is None else argv)])
    try:
        return int(args.func(args))
    except UsageError as exc:
        print(f"llmstack weights: error: {exc}", file=sys.stderr)
        return UsageError.exit_code
    except KeyboardInterrupt:
        print("llmstack: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
