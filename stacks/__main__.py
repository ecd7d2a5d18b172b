"""The llm-serving Pulumi program: read the stack config, declare the platform, export its outputs."""

import pulumi

from stacks.platform import deploy

for key, value in deploy().items():
    pulumi.export(key, value)
