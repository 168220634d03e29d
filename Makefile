# Two entry points: `make run` builds everything on the embedded demo data, `make test`
# runs the tests. Each bootstraps its own virtualenv in .venv on first use.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export DAGSTER_HOME := $(CURDIR)/.dagster_home

.PHONY: run nightly test dev benchmark templates clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/python -m pipeline build

# What the Dagster daemon does each night: ask the sources what changed, build only then.
nightly: $(STAMP)
	$(BIN)/python -m pipeline nightly

test: $(STAMP)
	$(BIN)/python -m pytest -n 2 --dist loadgroup

dev: $(STAMP)
	$(BIN)/dagster dev

benchmark: $(STAMP)
	$(BIN)/python scripts/benchmark.py
	$(BIN)/python scripts/benchmark_surveys.py
	$(BIN)/python scripts/benchmark_sql.py
	$(BIN)/python scripts/benchmark_need.py
	$(BIN)/python scripts/benchmark_site.py

# Register templates (XLSX and CSV with Swedish headers and an example row) in
# data/registers/mallar/ (or $UPPVAXT_REGISTERS_DIR/mallar/).
templates: $(STAMP)
	$(BIN)/python -m sources.registers.templates

clean:
	rm -rf data/warehouse data/raw data/published data/reports data/publications data/logs data/.build.lock .dagster_home/storage .dagster_home/history .dagster_home/schedules .dagster_home/logs
