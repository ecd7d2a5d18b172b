"""UniqueSuffix: random hex for names that must be unique across all of AWS (S3 buckets).

A component of its own so the random resource sits under `llm-serving:` like everything else and
keeps one stable URN: the suffix, and with it every bucket name, never changes after the first run.
"""

from __future__ import annotations

import pulumi
import pulumi_random as random


class UniqueSuffix(pulumi.ComponentResource):
    """Eight hex characters, generated once per stack and kept in its state."""

    def __init__(self, name: str, protect: bool = False, opts: pulumi.ResourceOptions | None = None):
        super().__init__("llm-serving:naming:UniqueSuffix", name, None, opts)
        self._id = random.RandomId(
            name,
            byte_length=4,
            # Protected in prod: a new suffix would rename (replace) every weight bucket.
            opts=pulumi.ResourceOptions(parent=self, protect=protect),
        )
        self.hex: pulumi.Output[str] = self._id.hex
        self.register_outputs({"hex": self.hex})
