# scada-pipeline: `make up` runs the pipeline, `make test` runs the suite.
# Both install what they need (Debian packages, a virtualenv, Kafka's jars, the
# TimescaleDB root filesystem); downloads are cached under ~/.cache/scada-pipeline/.

PYTHON ?= python3
VENV   ?= .venv
CACHE  ?= $(or $(SCADA_CACHE_DIR),$(HOME)/.cache/scada-pipeline)
BIN    := $(VENV)/bin
export PIP_CACHE_DIR ?= $(CACHE)/pip
export PIP_DISABLE_PIP_VERSION_CHECK = 1

.PHONY: up down status test lint typecheck unit install system-packages bench clean

up: install
	$(BIN)/scada stack up --services --simulate

down: install
	$(BIN)/scada stack down

status: install
	$(BIN)/scada stack status

test: install lint typecheck
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

install: system-packages $(VENV)/.installed

system-packages:
	@deploy/local/install-system-packages.sh

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache

bench: install
	$(BIN)/scada bench
