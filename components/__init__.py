"""Building blocks of the llm-serving platform: hardware catalog, sizing, cost and Pulumi components."""
