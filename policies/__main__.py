"""Entry point of the CrossGuard pack: `pulumi up --policy-pack policies` starts this file.

Constructing the PolicyPack serves the Analyzer gRPC protocol and prints its port; the server
reads each resource once per request (policies/server.py); every policy is guarded
(policies/guard.py: waivers applied, a policy's exception reported as its violation).
"""

import gc

from pulumi_policy import EnforcementLevel, PolicyPack

from policies import server
from policies.registry import PACK_NAME, pack_policies

server.install()
# What is loaded by now lives as long as the pack: keep the garbage collector from walking it.
gc.freeze()
PolicyPack(
    name=PACK_NAME,
    enforcement_level=EnforcementLevel.MANDATORY,
    policies=pack_policies(),
    description="Security and budget guardrails for the llm-serving platform.",
)
