"""Put each model's pinned revision into the stack's weights bucket before the workloads roll out.

    sync_weights.py --stack S --work-dir DIR

For every model of Pulumi.S.yaml whose weights the AWS bucket holds: when the bucket already has
the revision with its manifest (a push that completed), nothing; otherwise the revision is
downloaded from the Hugging Face Hub (the model's `source` at its pinned `revision`; HF_TOKEN for
gated repositories) into DIR/<model>, pushed with `llmstack weights push DIR/<model> --stack S
--model M --revision R`, and the download removed. A sensitive model's weights never enter the
bucket: they go to its on-prem target's own store, pushed with `llmstack weights push --target`
from a machine that reaches that store, so they are listed and skipped here.

Needs the project installed with the `weights` group (huggingface-hub), the pulumi CLI logged in
to the stack's backend (for its weights_bucket output) and AWS credentials that may write it.
Exit code: 0 when every revision is in the bucket, 1 when a download or push failed, 2 on bad input.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

from llmstack import weights
from llmstack import weights_store as store
from llmstack.cli import main as llmstack
from llmstack.errors import UsageError
from llmstack.stackfile import load_stack

Download = Callable[[str, str, Path], None]
"""(source repository, revision, directory): the revision's files into the directory."""
hub_download: Download = weights.hub_download


def in_bucket(stack: str, model: str, revision: str) -> bool:
    """Whether the stack's weights bucket holds the revision with its manifest (written last by a push)."""
    location = argparse.Namespace(
        stack=stack, bucket=None, kms_key=None, region=None, endpoint_url=None, target=None, model=model
    )
    bucket = weights.open_bucket(location)
    return any(s.revision == revision and s.has_manifest for s in store.list_revisions(bucket, model))


def sync(stack: str, work_dir: Path, download: Download = hub_download) -> int:
    platform = load_stack(stack, None).platform
    for model in platform.models:
        if model.sensitive:
            print(
                f"{model.name}: sensitive, not for the AWS bucket; push it to its target's store "
                f"({', '.join(model.targets)}) with `llmstack weights push --target`"
            )
            continue
        if in_bucket(stack, model.name, model.revision):
            print(f"{model.name}: {model.revision} already in the bucket")
            continue
        directory = work_dir / model.name
        shutil.rmtree(directory, ignore_errors=True)
        print(f"{model.name}: downloading {model.source} at {model.revision}", flush=True)
        try:
            download(model.source, model.revision, directory)
        except UsageError:
            raise
        except Exception as exc:  # the hub's errors (auth, gated repository, network) in one line
            message = " ".join(str(exc).split()) or type(exc).__name__
            print(f"{model.name}: download of {model.source}@{model.revision} failed: {message}", file=sys.stderr)
            return 1
        code = llmstack(
            ["weights", "push", str(directory), "--stack", stack, "--model", model.name]
            + ["--revision", model.revision, "--quiet"]
        )
        shutil.rmtree(directory, ignore_errors=True)
        if code != 0:
            return code
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="sync_weights.py", description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--stack", required=True, help="stack name: reads Pulumi.<stack>.yaml")
    parser.add_argument("--work-dir", required=True, type=Path, help="where downloads go (removed after each push)")
    return parser


def main(argv: list[str] | None = None, download: Download = hub_download) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.work_dir.mkdir(parents=True, exist_ok=True)
        return sync(args.stack, args.work_dir, download)
    except UsageError as exc:
        print(f"sync_weights: error: {exc}", file=sys.stderr)
        return UsageError.exit_code


if __name__ == "__main__":
    sys.exit(main())
