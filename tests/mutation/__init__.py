"""Mutation test of the policy pack: break compliant plans one property at a time; every break must fail `llmstack check`."""
