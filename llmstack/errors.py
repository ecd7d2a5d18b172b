"""The one error type the CLI turns into a one-line message and exit code 2."""

from __future__ import annotations


class UsageError(Exception):
    """Bad input from the user: a flag, a file or a config value.

    The message is one line that names the file, flag or key and says what is allowed.
    """

    exit_code = 2
