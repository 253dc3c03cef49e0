# famcal: `make demo` and `make test` each install what they need into .venv on their own.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
# ical.js (the ICS parser Thunderbird uses) reads every feed in the tests; needs node/npm.
JS_STAMP := tests/js/node_modules/.installed-stamp

.PHONY: demo test run lint typecheck bench clean js sysdeps

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

## demo: run the whole pipeline over the bundled recorded sources, offline; feeds land in public/
demo: $(STAMP)
	$(BIN)/famcal demo --db data/demo.db --out public

## test: lint, type-check and the whole test suite
test: $(STAMP) lint typecheck js sysdeps
	$(BIN)/pytest -q

## sysdeps: the readers and browser the suite uses from Debian (libical's GObject bindings for
## the system Python, Chromium), installed where this runs as root with apt; the tests that
## need them say why they skip otherwise.
sysdeps:
	@if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		/usr/bin/python3 -c "import gi; gi.require_version('ICalGLib', '3.0')" 2>/dev/null \
		&& command -v chromium >/dev/null 2>&1 \
		|| { apt-get update -qq && apt-get install -y -qq gir1.2-ical-3.0 python3-gi chromium >/dev/null; } \
		|| echo "apt-get failed: the libical and browser tests will skip"; \
	else echo "not root: install gir1.2-ical-3.0 python3-gi chromium for the libical and browser tests"; fi

## js: install ical.js for the reader tests when npm exists (the tests skip without it)
js: $(JS_STAMP)

$(JS_STAMP): tests/js/package.json tests/js/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		npm ci --prefix tests/js --no-audit --no-fund --loglevel=error && touch $@ \
		|| echo "npm ci failed: the ical.js reader tests will skip"; \
	else echo "npm not found: the ical.js reader tests will skip"; fi

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
	rm -rf $(VENV) tests/js/node_modules test-output public data/demo.db* data/crawl-demo .pytest_cache .mypy_cache .ruff_cache
