# Every task of the project. On a fresh machine with Python 3.11 and make:
#   make run    the whole system on embedded NATS and PostgreSQL (Ctrl-C stops everything)
#   make test   lint, types, architecture, unit, integration and e2e tests on real servers
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LOCK := requirements/dev.lock
NPM_STAMP := node_modules/.installed
NATS_PORT ?= 4222
PG_PORT ?= 54329
DATA_DIR ?= $(CURDIR)/.data
export PYTHONPATH := $(CURDIR)

.PHONY: install demo run test chaos rebuild-ranking rebuild-incentives backup restore lint typecheck archcheck unit integration e2e docs docs-check bench lock clean

install: $(STAMP) $(BIN)/chuangwen $(NPM_STAMP)

# The venv is rebuilt from the hashed lock whenever the lock changes.
$(STAMP): $(LOCK)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps -r $(LOCK)
	touch $(STAMP)

# The board page's charts (Apache ECharts, pinned in package-lock.json without download
# addresses), reinstalled whenever package.json or the lock changes. Without npm the page
# still shows its tables; the charts need `apt-get install npm` (Node.js) and make install.
$(NPM_STAMP): package.json package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
	  npm ci --ignore-scripts --no-audit --no-fund --loglevel=error && touch $@; \
	else \
	  echo "npm not found: the board page (GET /board) will have no charts;" \
	    "install Node.js and npm (apt-get install npm), then run make install" >&2; \
	fi

# The command line (cli/, `python -m cli`) as .venv/bin/chuangwen, for this checkout.
$(BIN)/chuangwen: $(STAMP)
	printf '%s\n' '#!/bin/sh' '# chuangwen: the command line of this checkout (written by make install)' \
	  'PYTHONPATH="$(CURDIR)$${PYTHONPATH:+:$$PYTHONPATH}" exec "$$(dirname "$$0")/python" -m cli "$$@"' > $@
	chmod +x $@

run: install
	@mkdir -p $(DATA_DIR)
	@if [ -n "$$NATS_URL" ] || [ -n "$$DATABASE_URL" ]; then \
	  echo "Using the external servers named by NATS_URL / DATABASE_URL (not printed: they may hold credentials)"; \
	  AUTH_MODE=$${AUTH_MODE:-dev} exec $(BIN)/honcho -d . -f deploy/Procfile.services start; \
	else \
	  NATS_PORT=$(NATS_PORT) PG_PORT=$(PG_PORT) DATA_DIR=$(DATA_DIR) AUTH_MODE=dev \
	  NATS_URL=nats://127.0.0.1:$(NATS_PORT) \
	  DATABASE_URL=postgresql://postgres@127.0.0.1:$(PG_PORT)/postgres \
	  exec $(BIN)/honcho -d . -f deploy/Procfile start; \
	fi

# Jiangmen's campaign end to end on a stack of its own (free ports, a temporary data folder),
# stopped at the end: DEMO_ARGS="--keep" leaves it running, "--scale 0.1" is a small run.
demo: install
	$(BIN)/python -m cli demo $(DEMO_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/hadolint deploy/Dockerfile
	$(BIN)/check-jsonschema --builtin-schema vendor.compose-spec deploy/compose.yaml

typecheck: install
	$(BIN)/mypy services tests tools bench cli

archcheck: install
	$(BIN)/lint-imports

unit: install
	$(BIN)/pytest -q tests/unit

integration: install
	$(BIN)/pytest -q tests/integration

e2e: install
	$(BIN)/pytest -q tests/e2e

# Lint first (cheap), then every test level in one pytest session so that the real NATS and
# PostgreSQL servers are started once and always stopped, whatever happens.
test: lint typecheck archcheck
	$(BIN)/pytest tests/unit tests/integration tests/e2e tests/chaos

# The full fault-injection runs (the short versions are part of make test).
chaos: install
	CHAOS_FULL=1 $(BIN)/pytest tests/chaos

# R7: drop ranking's projection, replay the streams, recompute every published edition and
# compare it byte for byte; exits non-zero on any difference. Stop the ranking service first.
rebuild-ranking: install
	$(BIN)/python -m services.ranking.rebuild

rebuild-incentives: install
	$(BIN)/python -m services.incentives.rebuild

# PostgreSQL (pg_dump), then every JetStream stream (its snapshot), into a new folder DIR;
# restore DIR into an empty database and an empty JetStream, then rebuild (README "Operations:
# backup and restore"). Both use NATS_URL / DATABASE_URL, else the servers of `make run`.
backup: install
	@test -n "$(DIR)" || { echo "usage: make backup DIR=/path/to/a/new/folder" >&2; exit 2; }
	$(BIN)/python -m tools.backup create "$(DIR)"

restore: install
	@test -n "$(DIR)" || { echo "usage: make restore DIR=/path/to/the/backup" >&2; exit 2; }
	$(BIN)/python -m tools.backup restore "$(DIR)"

docs: install
	$(BIN)/python -m tools.asyncapi write
	$(BIN)/python -m tools.nats_permissions write

docs-check: install
	$(BIN)/python -m tools.asyncapi check
	$(BIN)/python -m tools.nats_permissions check

# Every benchmark against its raw baseline in one run; writes bench/results/latest.md and
# latest.json (machine, versions, counts). BENCH_ARGS="--only e2e --messages 1000 --out DIR".
bench: install
	$(BIN)/python -m bench $(BENCH_ARGS)

# Re-pin after editing requirements/*.in (needs uv, which the dev lock installs).
lock: install
	$(BIN)/uv pip compile -q --generate-hashes --python-version 3.11 requirements/runtime.in -o requirements/runtime.lock
	$(BIN)/uv pip compile -q --generate-hashes --python-version 3.11 requirements/dev.in -o requirements/dev.lock

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
