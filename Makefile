# CivicFlow — the two commands of the quick start, and what they stand on.
#   make demo   install, migrate the embedded SQLite database, load definitions/,
#               create demo users, serve on http://127.0.0.1:8000 with the embedded worker
#   make test   install dev tools, run the whole test suite
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed
HOST    ?= 127.0.0.1
PORT    ?= 8000
PYTEST_ARGS ?=

# The first Python 3.13 or 3.12 that actually runs: on PATH first (a bare pyenv
# shim that refuses to run does not count), then pyenv's own versions.
PYENV_ROOT_DIR := $(shell pyenv root 2>/dev/null || echo $$HOME/.pyenv)
PYTHON_CANDIDATES := python3.13 python3.12 \
	$(sort $(wildcard $(PYENV_ROOT_DIR)/versions/3.13*/bin/python3.13)) \
	$(sort $(wildcard $(PYENV_ROOT_DIR)/versions/3.12*/bin/python3.12))
PYTHON ?= $(firstword $(foreach candidate,$(PYTHON_CANDIDATES),$(shell $(candidate) -c 'import sys; assert sys.version_info >= (3, 12)' >/dev/null 2>&1 && echo $(candidate))))

DEV_ENV := CIVICFLOW_ENV=development

.PHONY: help install demo test lint system-packages axe docs diagrams messages vendor-uswds clean bench-lifecycle

help:
	@echo "make demo     run the demo on http://$(HOST):$(PORT) (installs everything first)"
	@echo "make test     run the whole test suite (installs everything first)"
	@echo "make install  create $(VENV) with CivicFlow and its dev tools"
	@echo "make lint     ruff, mypy and the import contracts"
	@echo "make docs     build the documentation site into var/site"
	@echo "make diagrams redraw each shipped program's workflow as docs/programs/<program>.svg (needs graphviz)"
	@echo "make messages refresh and compile the interface translations (workflows/locale)"
	@echo "make axe      fetch axe-core $(AXE_VERSION) for the accessibility tests"
	@echo "make bench-lifecycle  queries and cases/s of submit -> claim -> approve (needs DATABASE_URL=postgres://...)"

$(STAMP): pyproject.toml
	@if [ -z "$(PYTHON)" ]; then echo "make: no Python 3.12 or 3.13 found (looked for python3.13/python3.12 on PATH and under $(PYENV_ROOT_DIR)/versions/); install one and retry" >&2; exit 1; fi
	@if [ ! -x $(BIN)/python ] || ! $(BIN)/python -c 'import sys; assert sys.version_info >= (3, 12)' 2>/dev/null; then \
		rm -rf $(VENV) && $(PYTHON) -m venv $(VENV); fi
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

# The embedded worker (civicflow worker) fires timers and sends notices beside the server,
# with no broker. A script's background job ignores Ctrl-C, so the traps stop it whenever the
# server stops, however it stops; Ctrl-C, the usual way to end the demo, is not an error.
demo: install
	$(DEV_ENV) $(BIN)/civicflow migrate --no-input -v 0
	$(DEV_ENV) $(BIN)/civicflow load-definitions
	$(DEV_ENV) $(BIN)/civicflow seed-demo --url http://$(HOST):$(PORT)
	$(DEV_ENV) $(BIN)/civicflow worker --interval 2 & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT; trap 'exit 0' INT; trap 'exit 143' TERM; \
	$(DEV_ENV) DEBUG=1 $(BIN)/civicflow runserver --noreload $(HOST):$(PORT)

# Debian packages the tests use: Chromium for the browser tests (never a download by
# Playwright) and Graphviz for SVG diagrams. Installed with apt-get when missing and root.
SYSTEM_PACKAGES := chromium:chromium graphviz:dot gettext:msgfmt
system-packages:
	@missing=""; for pair in $(SYSTEM_PACKAGES); do command -v "$${pair#*:}" >/dev/null 2>&1 || missing="$$missing $${pair%%:*}"; done; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			echo "installing Debian packages:$$missing"; \
			(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null); \
		else echo "make: the tests need these Debian packages:$$missing (apt-get install$$missing)" >&2; exit 1; fi; fi

# axe-core, the accessibility rules the browser tests run (tests/e2e/accessibility.py),
# pinned and fetched from the npm registry into var/ (git-ignored), once per version.
# The tests read this same line to find the file when pytest runs without make.
AXE_VERSION := 4.14.1
AXE_JS := var/vendor/axe-core/$(AXE_VERSION)/axe.min.js
axe: $(AXE_JS)
$(AXE_JS):
	@command -v npm >/dev/null 2>&1 || { echo "make: axe-core $(AXE_VERSION) comes from the npm registry, but npm is not on PATH: install Node.js and npm, then retry" >&2; exit 1; }
	@tmp=$$(mktemp -d) && trap 'rm -rf "$$tmp"' EXIT && \
	(cd "$$tmp" && npm pack --silent axe-core@$(AXE_VERSION) >/dev/null && tar xzf axe-core-$(AXE_VERSION).tgz) && \
	mkdir -p $(@D) && cp "$$tmp/package/axe.min.js" $@.part && mv $@.part $@ && \
	echo "axe-core $(AXE_VERSION) fetched into $@"

test: install system-packages axe
	$(DEV_ENV) CIVICFLOW_AXE_JS=$(CURDIR)/$(AXE_JS) $(BIN)/pytest $(PYTEST_ARGS)

# Benchmarks print figures and assert nothing (bench/README.md). bench/lifecycle measures
# PostgreSQL: DATABASE_URL names a server and database; it works in a throwaway test_<name>
# database and drops it. Extra options through BENCH_ARGS, e.g. BENCH_ARGS="--cases 50 --sql".
BENCH_ARGS ?=
bench-lifecycle: install
	$(DEV_ENV) $(BIN)/python -m bench.lifecycle $(BENCH_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(DEV_ENV) $(BIN)/civicflow makemigrations --check --dry-run

docs: install
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --site-dir var/site

# The program pages show each workflow as a picture drawn by graphviz (the site loads no script
# from elsewhere, so Mermaid is not drawn there). Commit the SVGs; a test says when one is stale.
diagrams: install
	@for folder in definitions/*/; do \
		[ -f "$$folder/program.yaml" ] || continue; \
		program=$$(basename "$$folder"); \
		$(DEV_ENV) $(BIN)/civicflow diagram "$$program" --format svg > "docs/programs/$$program.svg" || exit 1; \
		echo "docs/programs/$$program.svg"; \
	done

# Interface translations: refresh every language's catalogue under workflows/locale from the
# templates and Python of workflows/ (run from inside it, so .venv, var/, docs/, tests/ and
# definitions/ are never scanned), then compile the .mo files Django reads. Commit both.
MESSAGES_IGNORE := --ignore=.venv --ignore=var --ignore=docs --ignore=tests --ignore=definitions
messages: install
	cd workflows && $(DEV_ENV) $(CURDIR)/$(BIN)/civicflow makemessages --all $(MESSAGES_IGNORE)
	cd workflows && $(DEV_ENV) $(CURDIR)/$(BIN)/civicflow compilemessages

USWDS_VERSION ?= 3.14.0
# Refresh the vendored USWDS build: only the files the CSS and our templates use.
vendor-uswds:
	@tmp=$$(mktemp -d) && cd $$tmp && npm pack --silent @uswds/uswds@$(USWDS_VERSION) >/dev/null && tar xzf uswds-uswds-*.tgz && \
	dest=$(CURDIR)/workflows/static/uswds && rm -rf $$dest/css $$dest/js $$dest/fonts $$dest/img && \
	mkdir -p $$dest/css $$dest/js && cp package/dist/css/uswds.min.css $$dest/css/ && \
	cp package/dist/js/uswds.min.js package/dist/js/uswds-init.min.js $$dest/js/ && \
	for f in $$(grep -o 'url([^)]*)' package/dist/css/uswds.min.css | sed "s/url(//;s/)//;s/[\"']//g;s/?.*//" | grep -v '^data:' | sed 's|^\.\./||' | sort -u) \
		img/us_flag_small.png img/icon-dot-gov.svg img/icon-https.svg img/lock.svg img/circle-gray-20.svg; do \
		mkdir -p $$dest/$$(dirname $$f) && cp package/dist/$$f $$dest/$$f; done && cp package/LICENSE.md $$dest/ && \
	echo "USWDS $(USWDS_VERSION) vendored into workflows/static/uswds"

clean:
	rm -rf $(VENV) var/static var/site .pytest_cache .mypy_cache .ruff_cache
