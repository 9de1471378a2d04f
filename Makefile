# The two Quickstart commands live here so README, CI and people run the same thing.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
# PostgreSQL used by the test suite (the store tests run against SQLite and PostgreSQL).
SAMESAY_TEST_DATABASE_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test
export SAMESAY_TEST_DATABASE_URL

.PHONY: install install-dev run test lint

$(PY):
	$(PYTHON) -m venv $(VENV)

# torch is pinned here: on these machines torch==2.13.0 is the local CPU wheel, while an
# unpinned torch would pull GBs of CUDA packages.
install: $(PY)
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[postgres]'

install-dev: $(PY)
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[postgres,dev]'

run: install
	$(VENV)/bin/samesay serve

lint: install-dev
	$(VENV)/bin/ruff check .

test: install-dev
	bash scripts/ensure-postgres.sh
	bash scripts/ensure-chromium.sh
	$(VENV)/bin/ruff check .
	$(VENV)/bin/pytest
