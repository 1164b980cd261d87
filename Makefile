# SST: developer and CI entry points. `make help` lists the targets.
#
#   make demo   install, migrate, load the demo data and serve on http://127.0.0.1:$(PORT)
#   make test   run the whole test suite (SQLite by default; PostgreSQL/Redis via env)
#
# Everything runs from the virtualenv in .venv, created on first use. The editable install
# is redone only when pyproject.toml changes (stamp file .venv/.installed).

SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PORT ?= 8000
ARGS ?=
# The apps, in the order work flows through them (and the only direction imports may go).
APPS := sst attendance cases referrals actionplans followup reports
# The first Python 3.11+ on the PATH; override with `make PYTHON=/path/to/python3.12 ...`.
PYTHON ?= $(shell for p in python3 python3.13 python3.12 python3.11; do \
	command -v $$p >/dev/null 2>&1 && \
	$$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null && \
	{ echo $$p; break; }; done)
# axe-core (npm) checks every page for accessibility in tests/e2e/test_every_page.py. Pinned:
# a new axe release can bring new rules, and CI should change only when we bump this.
AXE_CORE_VERSION := 4.14.1
AXE_STAMP := var/npm/.axe-core-$(AXE_CORE_VERSION)
# Test processes (pytest-xdist): one per core, at most 4 (each has its own test database);
# `make test TEST_WORKERS=0` runs in one process. Tests that must not run at the same time
# share an xdist_group (--dist loadgroup).
TEST_WORKERS ?= $(shell n=$$(nproc 2>/dev/null || echo 1); echo $$((n > 4 ? 4 : n)))
# WeasyPrint (PDF export) needs Pango from the operating system.
PANGO_PACKAGES := libpango-1.0-0 libpangoft2-1.0-0

.PHONY: help install system-deps axe-core demo test lint format check-deploy \
	messages clean distclean

help:
	@echo "make demo          install, migrate, seed demo data, serve on http://127.0.0.1:$(PORT)"
	@echo "make test          run the test suite (extra pytest arguments: ARGS=\"-k foo\")"
	@echo "make lint          ruff check, ruff format --check, lint-imports (apps depend forward), mypy"
	@echo "make format        ruff format and ruff check --fix"
	@echo "make check-deploy  manage.py check --deploy with production settings"
	@echo "make messages      update and compile the Swedish translations (needs gettext)"
	@echo "make clean         remove caches and build output (keeps .venv and var/)"
	@echo "make distclean     clean, and remove .venv and var/ (the demo database)"

$(BIN)/python:
	@if [ -z "$(PYTHON)" ]; then \
		echo "Python 3.11 or newer is needed; none found on the PATH (set PYTHON=...)." >&2; \
		exit 1; \
	fi
	@echo "Creating $(VENV) with $(PYTHON) ($$($(PYTHON) --version))"
	@$(PYTHON) -m venv $(VENV) || { \
		rm -rf $(VENV); \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			echo "Installing python3-venv (venv needs ensurepip)"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
				apt-get install -y -qq python3-venv >/dev/null; \
		fi; \
		$(PYTHON) -m venv $(VENV) || { \
			rm -rf $(VENV); \
			echo "Could not create $(VENV). On Debian/Ubuntu: apt-get install python3-venv" >&2; \
			exit 1; \
		}; \
	}

$(STAMP): pyproject.toml | $(BIN)/python
	@echo "Installing SST and its dependencies into $(VENV) (a minute or two the first time)"
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

var:
	@mkdir -p var

# PDF export needs Pango. Install it when we can (root with apt-get); otherwise say so and go on:
# everything else works without it, and `manage.py check` warns (sst.W001).
system-deps: $(STAMP)
	@if $(BIN)/python -c "import weasyprint" >/dev/null 2>&1; then \
		true; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "Installing Pango for PDF export: $(PANGO_PACKAGES)"; \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
			apt-get install -y -qq $(PANGO_PACKAGES) >/dev/null; } || \
		echo "NOTE: could not install $(PANGO_PACKAGES); PDF export will not work."; \
	else \
		echo "NOTE: PDF export needs the system packages $(PANGO_PACKAGES)"; \
		echo "      (Debian/Ubuntu: sudo apt-get install $(PANGO_PACKAGES))."; \
		echo "      Everything else works without them; continuing."; \
	fi

# axe-core for the accessibility crawl, into var/npm, when npm is there (CI installs it);
# without it the crawl is skipped, or fails under SST_REQUIRE_BROWSER=1.
axe-core: $(AXE_STAMP)

$(AXE_STAMP): | var
	@if command -v npm >/dev/null 2>&1; then \
		echo "Installing axe-core $(AXE_CORE_VERSION) into var/npm (accessibility tests)"; \
		npm install --prefix var/npm --no-audit --no-fund --silent \
			axe-core@$(AXE_CORE_VERSION) && touch $(AXE_STAMP); \
	else \
		echo "NOTE: npm not found: the accessibility crawl (axe-core) will be skipped."; \
	fi

demo: system-deps var
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	@echo "SST is starting on http://127.0.0.1:$(PORT)/ (Ctrl-C stops it)"
	$(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

test: system-deps var axe-core
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadgroup $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy $(APPS)

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# The production checks, with throwaway secrets for whatever the environment does not set.
check-deploy: $(STAMP)
	@echo "manage.py check --deploy (production settings; throwaway secrets where unset)"
	@SST_ENVIRONMENT=production \
	DJANGO_SECRET_KEY="$${DJANGO_SECRET_KEY:-$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(48))')}" \
	DJANGO_ALLOWED_HOSTS="$${DJANGO_ALLOWED_HOSTS:-sst.example.se}" \
	PERSONNUMMER_KEYS="$${PERSONNUMMER_KEYS:-$$($(BIN)/python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')}" \
	PERSONNUMMER_HASH_KEY="$${PERSONNUMMER_HASH_KEY:-$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(48))')}" \
	$(BIN)/python manage.py check --deploy --fail-level WARNING

messages: $(STAMP)
	$(BIN)/python manage.py makemessages -l sv --ignore=.venv --ignore=staticfiles --ignore=var
	$(BIN)/python manage.py compilemessages -l sv --ignore=.venv

clean:
	find . -path ./$(VENV) -prune -o -type d -name __pycache__ -prune -exec rm -rf {} +
	rm -rf .pytest_cache .ruff_cache .mypy_cache .import_linter_cache .hypothesis staticfiles build \
		test-artifacts *.egg-info

distclean: clean
	rm -rf $(VENV) var
