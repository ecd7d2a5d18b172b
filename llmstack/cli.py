"""llmstack: the llm-serving command line (offline plan, policy check, model weights).

Each subcommand lives in its own module and exposes `register(subparsers)`, which adds its
parser and sets `func` to a callable `(args) -> int`. Errors the user can fix are raised as
UsageError (or ConfigError) and become one line on stderr with exit code 2.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

from llmstack.errors import UsageError


class _Parser(argparse.ArgumentParser):
    """argparse exits 2 on bad flags already; keep its message to one line."""

    def error(self, message: str):  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message}\n")


# Each command's --help: what it does, examples, exit codes (one place, so they read alike).
GUIDE: dict[str, tuple[str, tuple[str, ...], str]] = {
    "plan": (
        "Run the program under Pulumi's mock engine with the real policy pack over its gRPC Analyzer protocol, "
        "and write plan.json, report.md, policy-config.json and manifests/ to build/<stack>/ at the project root.",
        (
            "llmstack plan --stack dev",
            "llmstack plan --stack prod --base base/prod --format markdown   # a PR preview against main's plan",
            "llmstack plan --stack prod --deploy-phase foundation",
        ),
        "0 no mandatory violation, 1 a mandatory violation, 2 bad input (a one-line error naming the key or file)",
    ),
    "diff": (
        "Compare two saved plans: resources to create, update, replace and delete, property changes, predicted "
        "replacements, cost and policy deltas.",
        ("llmstack diff base/prod build/prod", "llmstack diff base/prod/plan.json build/prod/plan.json --format json"),
        "0 the head plan has no mandatory violation, 1 it has one, 2 bad input",
    ),
    "check": (
        "Re-evaluate the policy pack on a saved (possibly hand-edited) plan.json, with the config derived from the "
        "stack file and its waivers, never the plan's.",
        ("llmstack check build/prod/plan.json --stack prod", "llmstack check plan.json --config Pulumi.prod.yaml"),
        "0 no mandatory violation, 1 a mandatory violation, 2 bad input",
    ),
    "weights": (
        "Fetch a model's pinned revision from the Hugging Face Hub; push, list, verify, repair, archive and restore "
        "model weight revisions in the weights bucket (or a sensitive model's on-prem store).",
        (
            "llmstack weights fetch ./Llama-3.1-8B --model llama-3-8b-instruct --stack prod",
            "llmstack weights push ./Llama-3.1-8B --model llama-3-8b-instruct --stack prod",
            "llmstack weights verify --model llama-3-8b-instruct --stack prod",
            "llmstack weights push ./Llama-3.1-8B --model llama-3-8b-instruct --stack prod --repair",
            "llmstack weights restore --model M --revision <sha> --stack prod --wait",
        ),
        "0 done, 1 verify (or a repair) found a mismatch, 2 bad input or an AWS error (one line)",
    ),
    "preflight": (
        "Read-only checks that the AWS account can hold the stack, before `pulumi up`.",
        ("llmstack preflight --stack prod", "llmstack preflight --stack prod --weights-bucket B --format json"),
        "0 ready, 1 not ready (a check failed), 2 bad input",
    ),
    "audit": (
        "Read-only comparison of the live account with the reviewed plan on what a security reviewer signed: "
        "KMS, buckets, EKS, launch templates, WAF, API stages and methods, log groups, the Budget.",
        (
            "llmstack audit --stack prod",
            "llmstack audit --stack prod --plan build/prod/plan.json --state state.json --format json",
        ),
        "0 no drift, 1 drift (a resource differs from the plan), 2 bad input",
    ),
}

COMMANDS = {
    "plan": "llmstack.plan",
    "diff": "llmstack.diff_command",
    "check": "llmstack.check",
    "weights": "llmstack.weights",
    "preflight": "llmstack.preflight",
    "audit": "llmstack.audit",
}


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """All subcommands, or just `only` (each command imports its own heavy dependencies)."""
    parser = _Parser(
        prog="llmstack",
        description=(__doc__ or "").splitlines()[0],
        epilog='shell completion: eval "$(register-python-argcomplete llmstack)" (bash or zsh; from .venv/bin)',
    )
    parser.add_argument("--version", action="version", version=f"llmstack {_version()}")
    subparsers = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for name, module in COMMANDS.items():
        if only in (None, name):
            importlib.import_module(module).register(subparsers)
            _describe(subparsers.choices[name], name)
    return parser


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("llm-serving")
    except PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown"


def _describe(parser: argparse.ArgumentParser, name: str) -> None:
    description, examples, exit_codes = GUIDE[name]
    parser.description = description
    parser.epilog = "examples:\n" + "\n".join(f"  {e}" for e in examples) + f"\n\nexit codes: {exit_codes}"
    parser.formatter_class = argparse.RawDescriptionHelpFormatter


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    command = argv[0] if argv and argv[0] in COMMANDS else None
    completing = "_ARGCOMPLETE" in os.environ
    parser = build_parser(None if completing else command)
    if completing:
        import argcomplete

        argcomplete.autocomplete(parser)  # answers the shell and exits
    args = parser.parse_args(argv)
    try:
        code = int(args.func(args))
        sys.stdout.flush()  # a closed stdout shows here, not at exit
        return code
    except UsageError as exc:
        print(f"llmstack {args.command}: error: {exc}", file=sys.stderr)
        return UsageError.exit_code
    except BrokenPipeError:
        _discard_stdout()
        print(f"llmstack {args.command}: error: stdout was closed before the output was written", file=sys.stderr)
        return UsageError.exit_code
    except KeyboardInterrupt:
        print("llmstack: interrupted", file=sys.stderr)
        return 130


def _discard_stdout() -> None:
    """Point stdout at /dev/null, so what is still buffered is dropped instead of raising again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # not a real file (captured in tests): nothing buffered to drop
        pass


def run() -> NoReturn:
    """The `llmstack` command: `main`, then exit at once.

    A plan leaves the whole Pulumi SDK object graph in memory; tearing it down object by object
    takes longer than a second and serves nothing, since every output file is written and closed
    (atomically) and the policy pack is stopped before `main` returns.
    """
    code = main()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(BrokenPipeError, ValueError):
            stream.flush()
    os._exit(code)


if __name__ == "__main__":
    run()
