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


COMMANDS = {
    "plan": "llmstack.plan",
    "diff": "llmstack.diff_command",
    "check": "llmstack.check",
    "weights": "llmstack.weights",
    "preflight": "llmstack.preflight",
}


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """All subcommands, or just `only` (each command imports its own heavy dependencies)."""
    parser = _Parser(prog="llmstack", description=(__doc__ or "").splitlines()[0])
    subparsers = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for name, module in COMMANDS.items():
        if only in (None, name):
            importlib.import_module(module).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    command = argv[0] if argv and argv[0] in COMMANDS else None
    parser = build_parser(command)
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
