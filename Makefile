# Two commands for a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

$(BIN)/assay: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.test-extras: $(BIN)/assay
	$(BIN)/pip install -q -e ".[test,pretrained]"
	touch $@

.PHONY: run test install
install: $(BIN)/assay

run: $(BIN)/assay
	$(BIN)/assay run matbench_expt_gap -j 2

test: $(VENV)/.test-extras
	$(BIN)/python -m pytest -q -n 2
