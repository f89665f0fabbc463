# Two commands do everything on a fresh machine (Python 3.10-3.12):
#   make run   - create .venv if missing, install the package, run the main job
#   make test  - the same with the test extra, then the whole test suite
# Also: make bench (benchmarks), make lint.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
RUN_ARGS ?=

.PHONY: run test bench lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed-runtime: $(BIN)/python setup.cfg pyproject.toml
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(BIN)/python setup.cfg pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.installed-runtime

# The main job: the classical baselines on the CIFAR-10 test set (needs internet
# or INPAINT_TF_DATA pointing at a local copy; see README "Data").
run: $(VENV)/.installed-runtime
	$(BIN)/inpaint-tf baselines --n 10000 $(RUN_ARGS)

test: $(VENV)/.installed-test
	$(BIN)/python -m pytest -q

bench: $(VENV)/.installed-test
	$(BIN)/python benchmarks/run.py

lint: $(VENV)/.installed-test
	$(BIN)/ruff check inpaint_tf tests benchmarks

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
