"""The caller's `depends_on` of a component, for its children (pure).

A component's `depends_on` orders nothing inside it: Pulumi does not pass it on to the children,
which register as soon as their own inputs resolve. A component whose children must wait for what
the caller named (a chart's CRDs, a namespace, bucket versioning) hands them this list.
"""

from __future__ import annotations

from typing import Any

import pulumi


def inherited_depends_on(opts: pulumi.ResourceOptions | None) -> list[Any]:
    """The resources in `opts.depends_on` (one resource or a list of them), as a list."""
    if opts is None or opts.depends_on is None:
        return []
    if isinstance(opts.depends_on, (list, tuple)):
        return list(opts.depends_on)
    return [opts.depends_on]
