# Quick start: `make demo` and `make test` each do all their own set-up.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup browser demo test lint reliability bench scale-demo bench-fleet clean

setup: $(STAMP) browser

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The machine's part of the set-up: a Chromium, Xvfb for headed tests, PostgreSQL for the fleet.
browser: $(STAMP)
	$(BIN)/python -m robots.browser ensure
	$(BIN)/python -m robots.fleet_local ensure

# `make demo KIND=xima` onboards examples/xima-roster.csv into the Xima mock.
KIND ?= nextiva

demo: setup
	$(BIN)/onboard demo --kind $(KIND)

# Two test processes: the browsers spend as much time waiting on the mock portals as computing.
test: setup
	$(BIN)/python -m pytest -m "not reliability" -n 2 $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy domain robots pages flows mock_portal

reliability: setup
	$(BIN)/python -m pytest -m reliability -s $(PYTEST_ARGS)

bench: setup
	$(BIN)/python benchmarks/speed.py

# A throwaway PostgreSQL, two mock accounts, three workers, the demo rosters (docs/scale-out.md).
scale-demo: setup
	$(BIN)/python -m robots.fleet_local

bench-fleet: setup
	$(BIN)/python benchmarks/fleet.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache
