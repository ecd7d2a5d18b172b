"""What the CodeBuild policies read of a project (`aws:codebuild/project:Project`, camelCase inputs)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

PROJECT_TYPE = "aws:codebuild/project:Project"


def mapping(value: Any) -> Mapping[str, Any]:
    """A nested block as a mapping; anything else (absent, malformed) as an empty one."""
    return value if isinstance(value, Mapping) else {}


def sequence(value: Any) -> list[Any]:
    """A list input as a list; a string or a mapping is no list (the gRPC layer's sequences are)."""
    if isinstance(value, (str, bytes, Mapping)) or value is None:
        return []
    try:
        return list(value)
    except TypeError:
        return []
