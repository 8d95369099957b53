# One entry point for people and CI: `make run`, `make test`, `make bench`, `make lint`.
# Every target installs what it is missing, so a fresh machine needs only this file.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# The users' environment must be readable by every hub user's Unix account. On
# these machines the default python3 lives in root's private home, so build from
# Debian's own interpreter into a system-wide folder when we are root.
BASE_PYTHON ?= $(shell test -x /usr/bin/python3.11 && echo /usr/bin/python3.11 || command -v python3)
ifeq ($(shell id -u),0)
VENV ?= /opt/kynangso/venv
else
VENV ?= $(CURDIR)/.venv
endif
PY := $(VENV)/bin/python
export PATH := $(VENV)/bin:$(CURDIR)/node_modules/.bin:$(PATH)
SOURCES := $(shell find kynangso sandbox assessments reports -type f -not -path '*/__pycache__/*' 2>/dev/null) pyproject.toml
PYTEST_ARGS ?=
# Tests run in parallel (pytest-xdist): most of them wait on hubs, kernels and browsers rather
# than compute, so more workers than cores pay. tests/conftest.py groups the tests so that each
# expensive shared fixture (the session hub, the graded exams, the demo gradebook) is built in
# one worker only. On 2 cores, 4 workers took 16.6 min where 3 took 20.0 (same load) and 5 no
# less than 4 (the cores were then the limit). TEST_WORKERS=0 runs everything in one process.
TEST_WORKERS ?= 4
XDIST := -n $(TEST_WORKERS) --dist loadgroup --no-loadscope-reorder --durations=25

.PHONY: help run test test-fast bench lint lock install system-deps browser-deps clean-state

help:
	@echo "make run    start the platform on 127.0.0.1:8000 with demo data"
	@echo "make test   run the whole test suite"
	@echo "make test-fast  the tests that start no hub and no browser (the inner loop)"
	@echo "make bench  run the benchmarks and print their figures"
	@echo "make lint   ruff check"

$(PY):
	@$(BASE_PYTHON) -c 'import ensurepip' 2>/dev/null || { apt-get update -qq && apt-get install -y -qq python3-venv; }
	$(BASE_PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

# Third-party packages from the frozen list (exactly those: --no-deps, then pip check),
# then the project itself (not editable: the installed copy must not depend on where the
# checkout lives).
# LEFT_OUT come with jupyter-events' jsonschema[format-nongpl] extra, which only checks the
# `iri` format that no schema here uses; rfc3987-syntax builds an Earley parser (lark) whenever
# jsonschema is imported: 1.4 s of CPU in every service, server and grader process.
LEFT_OUT := rfc3987-syntax lark
$(VENV)/.deps-installed: requirements.lock | $(PY)
	$(PY) -m pip install -q --no-deps -r requirements.lock
	$(PY) -m pip uninstall -y -q $(LEFT_OUT) 2>/dev/null || true
	$(PY) -m pip check
	touch $@

$(VENV)/.kns-installed: $(VENV)/.deps-installed $(SOURCES)
	$(PY) -m pip install -q --no-deps --force-reinstall . 
	@rm -rf build *.egg-info
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

install: system-deps $(VENV)/.kns-installed node_modules/.installed

# Debian packages: fonts with Vietnamese glyphs for generated PDFs, poppler for
# PDF text in tests, espeak-ng for read-aloud, bubblewrap and uidmap (newuidmap: the graded
# kernels' own uid) for the grading sandbox, postgresql for the tests on a real PostgreSQL
# (kynangso.pgcluster starts a throwaway server; Debian's own cluster is not used).
# Only root can install them.
system-deps:
	@missing=""; \
	for p in fonts-dejavu-core fonts-liberation poppler-utils espeak-ng bubblewrap uidmap postgresql; do \
	  dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq $$missing; \
	  else echo "warning: missing Debian packages:$$missing (install them as root)"; fi; fi

browser-deps:
	@command -v chromium >/dev/null || { apt-get update -qq && apt-get install -y -qq chromium; }

run: install
	$(PY) -m kynangso.run

test: install browser-deps
	$(VENV)/bin/ruff check .
	$(PY) -m pytest $(XDIST) $(PYTEST_ARGS)

# The inner loop: no hub, no browser (markers in pyproject.toml, see tests/conftest.py).
test-fast: install
	$(VENV)/bin/ruff check .
	$(PY) -m pytest -m "not hub and not browser" $(XDIST) $(PYTEST_ARGS)

bench: install
	$(PY) -m benchmarks

lint: install
	$(VENV)/bin/ruff check .

# Regenerate the frozen list from pyproject.toml in a scratch environment.
lock:
	rm -rf /tmp/kns-lock && $(BASE_PYTHON) -m venv /tmp/kns-lock
	/tmp/kns-lock/bin/pip install -q --upgrade pip
	/tmp/kns-lock/bin/pip install -q ".[test]"
	/tmp/kns-lock/bin/pip freeze --exclude kynangso $(LEFT_OUT:%=--exclude %) | sort -f > requirements.lock
	rm -rf /tmp/kns-lock build *.egg-info

clean-state:
	rm -rf state
