# Coachwire developer commands. `make run` and `make test` set everything up on a fresh machine.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint bench bench-reliability venv clean-venv

$(STAMP): requirements.txt requirements-dev.txt requirements-ml.txt
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

venv: $(STAMP)

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
