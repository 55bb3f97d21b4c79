# routeyard: `make serve` sets up and serves; `make test` sets up and runs every test.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PYTEST_WORKERS ?= auto

.PHONY: serve test setup bench fuzz clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	touch $(STAMP)

setup: $(STAMP)

serve: $(STAMP)
	$(BIN)/routeyard serve

test: $(STAMP)
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python bench/run.py $(BENCH_ARGS)

# A longer Schemathesis run than the one in `make test`, with a new seed (docs/testing.md).
fuzz: $(STAMP)
	ROUTEYARD_FUZZ_EXAMPLES=$${ROUTEYARD_FUZZ_EXAMPLES:-200} \
	ROUTEYARD_FUZZ_SEED=$${ROUTEYARD_FUZZ_SEED:-random} \
	$(BIN)/python -m pytest tests/test_fuzz.py $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) data .pytest_cache
