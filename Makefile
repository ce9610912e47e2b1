# The team's shortcuts. `make run` and `make test` work from a fresh clone:
# they create .venv and install the pinned dependencies first.

SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Reinstall only when the dependency list changes.
INSTALLED := $(VENV)/.installed-stamp
MANAGE := $(BIN)/python manage.py

# Tests run on PostgreSQL and Redis, as CI does; override on the command line.
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/privacydesk
TEST_REDIS_URL ?= redis://127.0.0.1:6379/0
PYTEST_WORKERS ?= 2
PYTEST_ARGS ?=

.PHONY: help install venv run test typecheck lint bench demo browser-deps

help:
	@echo "make run           start web, worker and beat on http://127.0.0.1:$${PORT:-8000}"
	@echo "make test          makemigrations --check, mypy, then the whole suite on PostgreSQL"
	@echo "make typecheck     mypy over the project (pyproject.toml's [tool.mypy])"
	@echo "make lint          ruff check and ruff format --check"
	@echo "make bench         run every bench/*.py"
	@echo "make demo          migrate and seed the demo data"
	@echo "make install       the virtualenv plus Debian's chromium and poppler-utils"
	@echo "make browser-deps  only Debian's chromium and poppler-utils (root, apt)"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(INSTALLED): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $@

venv: $(INSTALLED)

install: venv browser-deps

# Browser tests drive Debian's Chromium (Playwright's own browser download
# cannot work offline), and evidence tests read PDFs with poppler-utils.
browser-deps:
	@if [ -x /usr/bin/chromium ] && [ -x /usr/bin/pdftotext ]; then \
		echo "chromium and poppler-utils are installed"; \
	elif ! command -v apt-get >/dev/null; then \
		echo "no apt-get here: install chromium and poppler-utils yourself"; \
	elif [ "$$(id -u)" != 0 ]; then \
		echo "run as root (or: sudo apt-get install chromium poppler-utils)"; \
	else \
		apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
			chromium poppler-utils libpango-1.0-0 libpangoft2-1.0-0 \
			libharfbuzz-subset0 fonts-dejavu-core fonts-liberation; \
	fi

run: $(INSTALLED)
	$(MANAGE) migrate --noinput
	$(MANAGE) createcachetable
	$(MANAGE) seed_demo
	$(MANAGE) collectstatic --noinput --verbosity 0
	exec $(BIN)/python -m privacydesk.launcher

demo: $(INSTALLED)
	$(MANAGE) migrate --noinput
	$(MANAGE) seed_demo

# makemigrations looks at models, not data: run it on the test settings'
# throw-away SQLite so it needs no database server.
test: $(INSTALLED)
	@if [ ! -x /usr/bin/chromium ] && command -v apt-get >/dev/null; then \
		$(MAKE) --no-print-directory browser-deps; \
	fi
	env -u DATABASE_URL DJANGO_SETTINGS_MODULE=privacydesk.settings_test \
		$(MANAGE) makemigrations --check --dry-run
	$(BIN)/mypy
	DATABASE_URL="$${DATABASE_URL:-$(TEST_DATABASE_URL)}" \
	REDIS_URL="$${REDIS_URL:-$(TEST_REDIS_URL)}" \
		$(BIN)/pytest -n $(PYTEST_WORKERS) $(PYTEST_ARGS)

# mypy reads its files and flags from pyproject.toml; its cache is
# .mypy_cache (gitignored), so a second run checks only what changed.
typecheck: $(INSTALLED)
	$(BIN)/mypy

lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: $(INSTALLED)
	@shopt -s nullglob; files=(bench/[!_]*.py); \
	if [ $${#files[@]} -eq 0 ]; then echo "no benchmarks in bench/"; fi; \
	for file in "$${files[@]}"; do \
		echo "== $$file"; \
		PYTHONPATH=. $(BIN)/python "$$file" || exit 1; \
	done
