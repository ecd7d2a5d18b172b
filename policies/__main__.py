"""Entry point of the CrossGuard pack: `pulumi up --policy-pack policies` starts this file.

Constructing the PolicyPack serves the Analyzer gRPC protocol and prints its port; the server
reads each resource once per request (policies/server.py).
"""

import gc

from pulumi_policy import EnforcementLevel, PolicyPack

from policies import server
from policies.registry import ALL_POLICIES, PACK_NAME

server.install()
# What is loaded by now lives as long as the pack: keep the garbage collector from walking it.
gc.freeze()
PolicyPack(
    name=PACK_NAME,
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=ALL_POLICIES,
    description="Security and budget guardrails for the llm-serving platform.",
)
