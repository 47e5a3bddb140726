# The two commands of the README: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
DEV_STAMP := $(VENV)/.dev-installed-stamp
LOCK_FLAGS := --quiet --strip-extras --no-header --no-emit-index-url --no-emit-find-links
POSTGRES_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/postgres

.PHONY: run test install install-dev lock lint typecheck contract lint-contract migrations-check pytest-sqlite pytest-postgres openapi bench format

# Dependencies come from the lock files in requirements/ (made by `make lock` from
# pyproject.toml): the same versions for `make run`, CI and the Docker image.
$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python requirements/runtime.txt pyproject.toml
	$(BIN)/pip install --quiet -r requirements/runtime.txt
	$(BIN)/pip install --quiet --no-deps -e .
	touch $(STAMP)

$(DEV_STAMP): $(STAMP) requirements/dev.txt
	$(BIN)/pip install --quiet -r requirements/dev.txt
	touch $(DEV_STAMP)

## Runtime dependencies only (what `make run` needs)
install: $(STAMP)

## Everything the tests, linters and benchmarks need too
install-dev: $(DEV_STAMP)

## Re-resolve the lock files from pyproject.toml (after changing a dependency there)
# (the runtime lock is resolved within the dev lock: both pin a shared package alike)
lock: install-dev
	$(BIN)/pip-compile $(LOCK_FLAGS) --extra dev --output-file requirements/dev.txt pyproject.toml
	$(BIN)/pip-compile $(LOCK_FLAGS) --constraint requirements/dev.txt \
		--output-file requirements/runtime.txt pyproject.toml

## Start the service on ./data/ledger.db with the seed report: the desk at http://127.0.0.1:8000/, Swagger UI at /docs
run: install
	$(BIN)/labor-ledger serve

## Lint, type-check, the OpenAPI contract, the migrations, and the tests on SQLite and PostgreSQL
test: install-dev lint typecheck contract lint-contract migrations-check pytest-sqlite pytest-postgres

lint:
	$(BIN)/ruff format --check service tests migrations
	$(BIN)/ruff check service tests migrations

typecheck:
	$(BIN)/mypy service

contract:
	$(BIN)/python -m service.openapi --check

# The contract's linter, Redocly CLI, is pinned in tools/package-lock.json and installed
# from the npm registry with the machine's npm the first time (or when the lock changes).
REDOCLY := tools/node_modules/.bin/redocly

$(REDOCLY): tools/package.json tools/package-lock.json
	npm ci --prefix tools --no-audit --no-fund --loglevel=error
	touch $(REDOCLY)

## Lint openapi/openapi.json with Redocly's recommended rules (tools/redocly.yaml): zero errors
lint-contract: $(REDOCLY)
	REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true $(REDOCLY) lint --config tools/redocly.yaml openapi/openapi.json

migrations-check:
	@tmp=$$(mktemp -d) && \
	LEDGER_DATABASE_URL=sqlite:///$$tmp/check.db $(BIN)/alembic upgrade head && \
	LEDGER_DATABASE_URL=sqlite:///$$tmp/check.db $(BIN)/alembic check && \
	LEDGER_DATABASE_URL=sqlite:///$$tmp/check.db $(BIN)/alembic downgrade base && \
	rm -rf $$tmp

pytest-sqlite:
	$(BIN)/pytest --db sqlite

pytest-postgres:
	LEDGER_TEST_POSTGRES_URL=$(POSTGRES_URL) $(BIN)/pytest --db postgres

## Regenerate openapi/openapi.json on purpose (then say what changed for API users)
openapi: install-dev
	$(BIN)/python -m service.openapi

format: install-dev
	$(BIN)/ruff format service tests migrations
	$(BIN)/ruff check --fix service tests migrations

bench: install-dev
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	$(BIN)/python -m tests.bench.ingest
