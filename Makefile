# Coachwire developer commands. `make run` and `make test` set everything up on a fresh machine.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# front-end packages: `npm ci` from the committed lock, dist files copied into an ignored folder
VENDOR_STAMP := extension/platform/static/vendor/.installed

.PHONY: run test lint bench bench-reliability venv clean-venv

$(STAMP): requirements.txt requirements-dev.txt requirements-ml.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

$(VENDOR_STAMP): package.json package-lock.json scripts/static_assets.py | $(STAMP)
	@command -v npm >/dev/null || { echo "npm is needed for the panels' front end: apt-get install nodejs npm"; exit 1; }
	npm ci --ignore-scripts --omit=peer --no-audit --no-fund --loglevel=error
	$(BIN)/python -m scripts.static_assets
	touch $(VENDOR_STAMP)

# the panels' translations: every capability's .po compiled to an (ignored) .mo
I18N_STAMP := extension/platform/translations/.compiled
$(I18N_STAMP): $(wildcard extension/*/translations/*/LC_MESSAGES/messages.po) | $(STAMP)
	$(BIN)/python -m scripts.i18n compile >/dev/null
	touch $(I18N_STAMP)

venv: $(STAMP) $(VENDOR_STAMP) $(I18N_STAMP)

run: venv
	$(BIN)/python -m scripts.demo

lint: venv
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports

test: lint
	$(BIN)/pytest -q

bench: venv
	$(BIN)/python -m bench.run_all

# faults on the production shape and on make run's shape (~25 min; separate from `make bench`)
bench-reliability: venv
	$(BIN)/python -m bench.reliability --shape production
	$(BIN)/python -m bench.reliability --shape embedded

clean-venv:
	rm -rf $(VENV)
