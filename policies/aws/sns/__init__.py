"""SNS: topics the stack publishes alerts to."""
