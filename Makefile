# The two commands of the README: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
POSTGRES_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/postgres

.PHONY: run test install lint typecheck contract migrations-check pytest-sqlite pytest-postgres openapi bench format

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## Start the service on ./data/ledger.db with the seed report, at http://127.0.0.1:8000/docs
run: install
	$(BIN)/labor-ledger serve

## Lint, type-check, the OpenAPI contract, the migrations, and the tests on SQLite and PostgreSQL
test: install lint typecheck contract migrations-check pytest-sqlite pytest-postgres

lint:
	$(BIN)/ruff format --check service tests migrations
	$(BIN)/ruff check service tests migrations

typecheck:
	$(BIN)/mypy service

contract:
	$(BIN)/python -m service.openapi --check

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
openapi: install
	$(BIN)/python -m service.openapi

format: install
	$(BIN)/ruff format service tests migrations
	$(BIN)/ruff check --fix service tests migrations

bench: install
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	$(BIN)/python -m tests.bench.ingest
