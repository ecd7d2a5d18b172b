# The README's commands. Only python3 is needed: the first run creates .venv, installs the pinned uv
# into it (requirements-uv.txt, hashes checked) and syncs .venv to uv.lock, which pins every
# dependency with its hashes. `pulumi install` (Pulumi.yaml: toolchain uv) builds the same .venv.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
STACK  ?= dev
# Pulumi's uv toolchain sets the same variable to its `virtualenv` option
UV     := UV_PROJECT_ENVIRONMENT=$(VENV) $(BIN)/uv

.PHONY: help setup lock preview plan test mutation lint format bench clean

# A machine that sets PYTHONDONTWRITEBYTECODE recompiles the ~700 pulumi_aws modules a plan imports
# from source on every run (2.4 s of a 5.8 s prod plan): the first run here writes their bytecode.
unexport PYTHONDONTWRITEBYTECODE

# The machine's pip fetches uv into a venv made without pip (ensurepip costs seconds); a python3
# without a pip module seeds the venv's own. uv sync keeps uv: the lock pins the same release.
$(BIN)/uv: requirements-uv.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv --without-pip $(VENV)
	@if $(PYTHON) -m pip --python $(BIN)/python --version >/dev/null 2>&1; then pip="$(PYTHON) -m pip --python $(BIN)/python"; \
	else $(BIN)/python -m ensurepip --default-pip >/dev/null && pip="$(BIN)/python -m pip"; fi; \
	echo "$$pip install -r requirements-uv.txt"; \
	$$pip install --quiet --require-hashes --no-deps --only-binary :all: -r requirements-uv.txt
	@touch $@

# --locked: a uv.lock that no longer matches pyproject.toml is an error (`make lock`), never re-resolved here
$(STAMP): $(BIN)/uv pyproject.toml uv.lock
	$(UV) sync --locked --quiet
	@touch $(STAMP)

help:           ## this list
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/^([a-z]+):[^#]*## (.*)/  make \1\t\2/' | expand -t 20

setup: $(STAMP) ## create .venv from uv.lock (every other target runs it first)

lock: $(BIN)/uv ## re-resolve uv.lock (and requirements-uv.txt) after editing pyproject.toml's dependencies
	$(UV) lock
	$(UV) export --frozen --only-group uv --no-emit-project --quiet --output-file requirements-uv.txt

preview: setup  ## offline plan of the dev stack (the main job)
	$(BIN)/llmstack plan --stack dev

plan: setup     ## offline plan of STACK=<name>
	$(BIN)/llmstack plan --stack $(STACK)

# Two workers (pytest-xdist), each taking whole test files so a file's module fixtures are built
# once: 6.5 min instead of 10.5 on a 2-core machine.
test: setup     ## the test suite (what CI runs, with mutation and the prod plan)
	$(BIN)/python -m pytest -n 2 --dist loadfile

mutation: setup ## break prod and dev one property at a time: every break must fail `llmstack check`
	$(BIN)/python -m tests.mutation

lint: setup     ## ruff check, ruff format --check, pyright
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pyright

format: setup   ## ruff format and ruff check --fix
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: setup    ## wall time of `llmstack plan --stack prod`, by stage, median of 5
	$(BIN)/python -m llmstack.bench --stack prod --runs 5

clean:          ## remove build/ and tool caches
	rm -rf build .pytest_cache .ruff_cache .hypothesis
