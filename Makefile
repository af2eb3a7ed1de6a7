# scada-pipeline: `make up` runs the pipeline, `make test` runs the suite.
# Both install what they need (Debian packages, a virtualenv, Kafka's jars, the
# TimescaleDB root filesystem); downloads are cached under ~/.cache/scada-pipeline/.

PYTHON ?= python3
VENV   ?= .venv
CACHE  ?= $(or $(SCADA_CACHE_DIR),$(HOME)/.cache/scada-pipeline)
BIN    := $(VENV)/bin
export PIP_CACHE_DIR ?= $(CACHE)/pip
export PIP_DISABLE_PIP_VERSION_CHECK = 1

.PHONY: up down status test fuzz lint typecheck unit integration install system-packages dashboard bench soak clean

up: install
	$(BIN)/scada stack up --services --simulate

down: install
	$(BIN)/scada stack down

status: install
	$(BIN)/scada stack status

test: install lint typecheck
	@deploy/local/install-system-packages.sh browser
	cd dashboard && node --test test/*.test.mjs
	$(BIN)/pytest

# The fast part: no servers, seconds. `make integration` adds real Kafka and TimescaleDB.
unit: install
	$(BIN)/pytest tests/unit

integration: install
	$(BIN)/pytest tests/unit tests/integration

# Generated hostile requests against both OpenAPI documents, many more than `make test` sends.
FUZZ_EXAMPLES ?= 500
fuzz: install
	SCADA_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/pytest --timeout=3600 tests/e2e/test_fuzz_openapi.py

# ruff, then the import contract in pyproject.toml: every import points down a layer.
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: install
	$(BIN)/mypy

install: system-packages $(VENV)/.installed dashboard

system-packages:
	@deploy/local/install-system-packages.sh

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

# The dashboard's assets, bundled from package-lock.json's exact versions (no CDN at run time).
DASHBOARD_SOURCES := $(shell find dashboard/src -type f) dashboard/build.mjs dashboard/package-lock.json
dashboard: dashboard/dist/index.html

dashboard/dist/index.html: $(DASHBOARD_SOURCES)
	cd dashboard && npm ci --ignore-scripts --no-audit --no-fund --cache $(CACHE)/npm --loglevel=error
	cd dashboard && npm run --silent build

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache dashboard/node_modules dashboard/dist

bench: install
	$(BIN)/scada bench

# Ten minutes of steady load on the running pipeline (started here if it is not): RSS, lag, errors.
SOAK_MINUTES ?= 10
soak: install
	$(BIN)/scada stack up --services
	$(BIN)/scada soak --minutes $(SOAK_MINUTES)
