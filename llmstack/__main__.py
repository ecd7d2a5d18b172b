from llmstack.cli import run

run()
