# The README's commands. Only python3 is needed: the first run creates .venv and installs the project.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
STACK  ?= dev

.PHONY: setup preview plan test mutation lint format bench clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

setup: $(STAMP)

preview: setup  ## offline plan of the dev stack (the main job)
	$(BIN)/llmstack plan --stack dev

plan: setup     ## offline plan of STACK=<name>
	$(BIN)/llmstack plan --stack $(STACK)

test: setup
	$(BIN)/python -m pytest

mutation: setup ## break prod and dev one property at a time: every break must fail `llmstack check`
	$(BIN)/python -m tests.mutation

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pyright

format: setup
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: setup    ## wall time of `llmstack plan --stack prod`, by stage, median of 5
	$(BIN)/python -m llmstack.bench --stack prod --runs 5

clean:
	rm -rf build .pytest_cache .ruff_cache .hypothesis
