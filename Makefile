# famcal: `make demo` and `make test` each install what they need into .venv on their own.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: demo test run lint typecheck bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

## demo: run the whole pipeline over the bundled recorded sources, offline; feeds land in public/
demo: $(STAMP)
	$(BIN)/famcal demo --db data/demo.db --out public

## test: lint, type-check and the whole test suite
test: $(STAMP) lint typecheck
	$(BIN)/pytest -q

## run: production run over the live sources of data/sources.toml
run: $(STAMP)
	$(BIN)/famcal run

lint: $(STAMP)
	$(BIN)/ruff check .

typecheck: $(STAMP)
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) public data/demo.db* data/crawl-demo .pytest_cache .mypy_cache .ruff_cache
