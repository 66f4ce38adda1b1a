# gridtwin: the two commands a fresh clone needs are `make run` and `make test`.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run demo test lint bench install clean sysdeps fuzz

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/gridtwin serve --demo

demo: $(STAMP)
	$(BIN)/gridtwin demo

sysdeps:
	bash scripts/system-packages.sh

test: $(STAMP) sysdeps
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/ruff format --check src tests bench scripts
	$(BIN)/mypy
	$(BIN)/python scripts/check_structure.py
	$(BIN)/pytest -n 2 tests

lint: $(STAMP)
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/ruff format --check src tests bench scripts
	$(BIN)/mypy
	$(BIN)/python scripts/check_structure.py

bench: $(STAMP)
	$(BIN)/python bench/bench_tariff.py

clean:
	rm -rf $(VENV) build dist .pytest_cache .mypy_cache .ruff_cache

# issue 17: at least 20,000 corrupted inputs through every reader of the command line
# (CPU-heavy: niced); counts per reader in bench/results/fuzz_campaign.json
fuzz: $(STAMP)
	nice -n 19 $(BIN)/python bench/fuzz_campaign.py --inputs 20000 --workers 2
