SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
TEST_TIMEOUT ?= 2700

.PHONY: help install run test lint worker beat bench fuzz

help:
	@echo "make run     set up (virtualenv, .env, database, demo admin) and serve on http://$(HOST):$(PORT)"
	@echo "make test    install if needed and run the whole test suite"
	@echo "make lint    ruff, Django's checks and OpenAPI schema validation"
	@echo "make worker  start a Celery worker (needs REDIS_URL)"
	@echo "make beat    start Celery beat (needs REDIS_URL)"
	@echo "make bench   run the benchmark suite against n8n (needs root, PostgreSQL and Redis)"
	@echo "make fuzz    fuzz every API operation with 100 examples each (schemathesis)"

$(INSTALLED): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(INSTALLED)

install: $(INSTALLED)

# Development keys are written once and reused, so encrypted data stays readable across runs.
.env: | $(INSTALLED)
	@$(BIN)/python -c 'import secrets; from cryptography.fernet import Fernet; \
	print("SECRET_KEY=" + secrets.token_urlsafe(50)); \
	print("ATHENA_ENCRYPTION_KEYS=" + Fernet.generate_key().decode())' > .env
	@echo "Wrote development SECRET_KEY and ATHENA_ENCRYPTION_KEYS to .env"

run: $(INSTALLED) .env
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py ensure_demo_admin
	$(BIN)/python manage.py load_catalogue
	@if [ -z "$${REDIS_URL:-}" ]; then \
	  echo "REDIS_URL is not set: background tasks run eagerly inside the web process."; \
	  echo "Schedules, delays, approvals and the execution reaper need Redis, a worker and beat:"; \
	  echo "  export DATABASE_URL=postgresql://... REDIS_URL=redis://127.0.0.1:6379/0 && make run"; \
	  exec $(BIN)/python manage.py runserver $(HOST):$(PORT); \
	else \
	  echo "Starting a Celery worker with beat against $${REDIS_URL%%@*}..."; \
	  $(BIN)/celery -A athena_site worker --beat --loglevel INFO & worker=$$!; \
	  trap 'kill $$worker 2>/dev/null || true' EXIT INT TERM; \
	  $(BIN)/python manage.py runserver $(HOST):$(PORT); \
	fi

test: $(INSTALLED)
	@eval "$$($(BIN)/python -m tests.services)"; \
	echo "Database: $${DATABASE_URL:-SQLite}; Redis: $${REDIS_URL:-none (eager Celery)}"; \
	DJANGO_SETTINGS_MODULE=athena_site.settings.test timeout --signal INT --kill-after 60 $(TEST_TIMEOUT) \
	  $(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	DJANGO_SETTINGS_MODULE=athena_site.settings.test $(BIN)/python manage.py check
	DJANGO_SETTINGS_MODULE=athena_site.settings.test $(BIN)/python manage.py makemigrations --check --dry-run
	DJANGO_SETTINGS_MODULE=athena_site.settings.test $(BIN)/python manage.py spectacular --validate --fail-on-warn --file /dev/null

# Athena and n8n side by side. Needs root (wrk from Debian's packages, n8n's network namespace),
# PostgreSQL and Redis on 127.0.0.1, and two empty Redis databases (12 and 13 unless BENCH_ARGS says
# otherwise). Installs n8n into bench/.n8n/ and wrk when missing; results go to bench/results/ and
# docs/benchmarks.md. BENCH_ARGS passes options to the suite (see `python -m bench.suite --help`).
bench: $(INSTALLED)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev,bench]'
	bench/install-n8n.sh
	$(BIN)/python -m bench.suite $(BENCH_ARGS)

fuzz: $(INSTALLED)
	ATHENA_FUZZ_EXAMPLES=$${ATHENA_FUZZ_EXAMPLES:-100} ATHENA_FUZZ_COVERAGE=1 DJANGO_SETTINGS_MODULE=athena_site.settings.test \
	  $(BIN)/python -m pytest tests/security/test_fuzz.py -q $(PYTEST_ARGS)

worker: $(INSTALLED)
	$(BIN)/celery -A athena_site worker --loglevel INFO

beat: $(INSTALLED)
	$(BIN)/celery -A athena_site beat --loglevel INFO
