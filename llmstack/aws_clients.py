"""boto3 clients for the read-only commands (preflight, audit), and what their failures say.

Both commands take a factory, (service, region) -> client, so tests hand in moto's or stubbed
clients and a run makes one client per service and region.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

ClientFactory = Callable[[str, str], Any]


def boto3_clients() -> ClientFactory:
    import boto3

    session = boto3.Session()
    cache: dict[tuple[str, str], Any] = {}

    def factory(service: str, region: str) -> Any:
        if (service, region) not in cache:
            cache[(service, region)] = session.client(service, region_name=region)
        return cache[(service, region)]

    return factory


def error_code(exc: Exception) -> str:
    """The AWS error code of a failed call (`NoSuchBucket`), else the exception's class name."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code") or exc.__class__.__name__)
    return exc.__class__.__name__


def is_aws_error(exc: Exception) -> bool:
    """A failure of boto3 or botocore (a call refused, a credential or endpoint problem), not a bug here."""
    return exc.__class__.__module__.split(".")[0] in ("botocore", "boto3")
