"""llmstack: the command line of llm-serving (offline plan, policy check, weights, audit)."""
