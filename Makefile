# marsad: two commands on a fresh machine.
#   make demo   installs marsad, trains the tiny recipe, evaluates it, tags the sample dump
#   make test   installs the test dependencies and runs the whole suite (what CI runs)
PYTHON ?= python3
VENV ?= .venv
# CPU torch. Here pip takes the 2.13.0 CPU build from local disk; elsewhere use e.g.
#   make demo TORCH_SPEC="torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu"
TORCH_SPEC ?= torch==2.13.0
PIP = $(VENV)/bin/python -m pip

.PHONY: demo test install install-test clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

$(VENV)/.installed: $(VENV)/bin/python pyproject.toml
	$(PIP) install -q $(TORCH_SPEC)
	$(PIP) install -q -e ".[onnx]"
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(PIP) install -q -e ".[onnx,offline,test]"
	touch $@

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

demo: install
	$(VENV)/bin/marsad demo --out runs/demo

test: install-test
	$(VENV)/bin/python -m pytest -q

clean:
	rm -rf runs test-artifacts .pytest_cache
