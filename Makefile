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
SYSTEM_PACKAGES :=

.PHONY: help install system-deps lint test run bench clean

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

test: system-deps lint ## lint, then the whole pytest suite (a run that collects no test fails)
	@rc=0; $(BIN)/pytest || rc=$$?; \
	if [ "$$rc" -eq 5 ]; then echo "pytest collected no tests: that is a broken run" >&2; exit 1; fi; \
	exit "$$rc"

run: $(STAMP) ## bootstrap, then show the gateway on the example partners (o2c serve comes with the runtime)
	@echo "== partners (partners/*.yaml)"
	$(BIN)/o2c partners list
	@echo "== a distributor's 005010 850, translated to canonical JSON"
	$(BIN)/o2c translate partners/northwind/samples/850.x12
	@echo "== the 999 the gateway answers it with"
	$(BIN)/o2c ack partners/northwind/samples/850.x12
	@echo "== an 810 rendered from a canonical invoice for the retailer"
	$(BIN)/o2c render partners/bigbox/samples/invoice.json --to x12 --sender ZZ:O2CGATEWAY --receiver 12:5555550100
	@echo "Try: $(BIN)/o2c validate FILE, $(BIN)/o2c partners check northwind (see README.md)"

bench: $(STAMP) ## run the X12 engine benchmarks
	$(BIN)/python -m benchmarks.x12_engine

clean: ## remove .venv, caches and build output (the next make starts from nothing)
	rm -rf $(VENV) build dist .mypy_cache .ruff_cache .pytest_cache .hypothesis .import_linter_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
