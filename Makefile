# o2c-gateway: the Makefile is the project's interface (STYLE.md section 8).
# A fresh clone needs only `make run` or `make test`: each one builds .venv first.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := install
.DELETE_ON_ERROR:
MAKEFLAGS += --no-builtin-rules

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# Touched after a good install; pyproject.toml holds every dependency, entry point and tool
# setting, so a change there re-runs the install (and refreshes entry-point metadata).
STAMP := $(VENV)/.installed

# Debian packages the tests need. Add names here (e.g. openssh-server openssh-client chromium);
# `make system-deps` installs the missing ones when run as root.
SYSTEM_PACKAGES := openssh-client openssh-server chromium openssl

.PHONY: help install system-deps services lint test run bench clean

help: ## list the targets
	@grep -E '^[a-z][a-z-]*:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-12s %s\n", $$1, $$2}'

install: $(STAMP) ## create .venv and install the package with its test extra (the default)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

system-deps: ## apt-get install the missing SYSTEM_PACKAGES (root only; otherwise just warns)
	@missing=""; \
	for pkg in $(SYSTEM_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' "$$pkg" 2>/dev/null | grep -q 'install ok installed' \
	    || missing="$$missing $$pkg"; \
	done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" -ne 0 ]; then \
	  echo "system-deps: not root, not installing:$$missing (tests that need them will fail)" >&2; \
	  exit 0; \
	fi; \
	apt-get update -qq; \
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $$missing

lint: $(STAMP) ## ruff format --check, ruff check, mypy, import-linter (runs all, then fails)
	@failed=""; \
	$(BIN)/ruff format --check . || failed="$$failed ruff-format"; \
	$(BIN)/ruff check . || failed="$$failed ruff-check"; \
	$(BIN)/mypy || failed="$$failed mypy"; \
	$(BIN)/lint-imports --no-cache || failed="$$failed import-linter"; \
	if [ -n "$$failed" ]; then echo "lint failed:$$failed" >&2; exit 1; fi

services: ## start the local PostgreSQL when it is installed but down (root only)
	@if command -v pg_isready >/dev/null && ! pg_isready -q -h 127.0.0.1 -p 5432; then \
	  if [ "$$(id -u)" -eq 0 ] && command -v pg_ctlcluster >/dev/null; then \
	    for v in $$(ls /etc/postgresql); do pg_ctlcluster --skip-systemctl-redirect $$v main start || true; done; \
	  else echo "services: PostgreSQL at 127.0.0.1:5432 is down (its tests fail under CI=true)" >&2; fi; \
	fi

test: system-deps services lint ## lint, then the whole pytest suite (a run that collects no test fails)
	@rc=0; $(BIN)/pytest || rc=$$?; \
	if [ "$$rc" -eq 5 ]; then echo "pytest collected no tests: that is a broken run" >&2; exit 1; fi; \
	exit "$$rc"

# `make run` starts a fresh demo gateway in var/run on SQLite with the example partners.
RUN_DIR := var/run

run: $(STAMP) ## bootstrap, then start the gateway on SQLite with the example partners
	@rm -rf $(RUN_DIR); mkdir -p $(RUN_DIR)/drop
	@export O2C_DATA_DIR=$(RUN_DIR) O2C_DROP_DIR=drop; \
	$(BIN)/o2c db upgrade >/dev/null; \
	key=$$($(BIN)/o2c apikeys create --role admin --label "make run" | tail -n 1); \
	password=$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(12))'); \
	echo "$$password" | $(BIN)/o2c users create demo --role admin --password-stdin >/dev/null; \
	$(BIN)/o2c open-items import partners/initech/open-items.csv >/dev/null; \
	cp partners/northwind/samples/850.x12 $(RUN_DIR)/drop/northwind-850.x12; \
	cp partners/initech/samples/820.x12 $(RUN_DIR)/drop/initech-820.x12; \
	echo "== o2c-gateway demo: data in $(RUN_DIR), example partners from partners/"; \
	echo "   browser: http://127.0.0.1:8080/ui/  user demo, password $$password"; \
	echo "     (AR queue: Initech's 820 was applied to the open items of"; \
	echo "      partners/initech/open-items.csv; DSO dashboard: /ui/dso)"; \
	echo "     Initech's 997 is parked as failed: its SFTP server is fictional (o2c documents list --partner initech)"; \
	echo "   test API key (admin): $$key"; \
	echo "   a sample 850 was dropped in $(RUN_DIR)/drop; follow it with:"; \
	echo "   curl -s -H 'Authorization: Bearer $$key' http://127.0.0.1:8080/api/v1/documents"; \
	echo "   $(BIN)/o2c documents list   (with O2C_DATA_DIR=$(RUN_DIR))"; \
	echo "   the 999 for it appears in $(RUN_DIR)/sftp/northwind/outbound/"; \
	echo "   Ctrl-C stops the gateway."; \
	exec $(BIN)/o2c serve --log-format text

bench: $(STAMP) ## run the benchmarks: X12 engine, pipeline end to end, cash application, DSO
	$(BIN)/python -m benchmarks.x12_engine
	$(BIN)/python -m benchmarks.pipeline
	$(BIN)/python -m benchmarks.cash
	$(BIN)/python -m benchmarks.dso

clean: ## remove .venv, caches and build output (the next make starts from nothing)
	rm -rf $(VENV) build dist .mypy_cache .ruff_cache .pytest_cache .hypothesis .import_linter_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
