"""The llm-serving CrossGuard policy pack: one policy per file, grouped by what it guards."""
