"""Mutation test of the policy pack: break compliant plans one property at a time; each must fail the check."""
