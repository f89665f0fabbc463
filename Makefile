# Two commands do everything on a fresh machine (Python 3.10-3.12):
#   make run   - create .venv if missing, install the package, inpaint with the
#                released models (no training)
#   make test  - the same with the test extra, then the whole test suite
# Also: make bench (benchmarks), make lint, make wheel (a wheel to install elsewhere),
# make docs (the guides and the API reference, built strict into site/),
# make mutate (mutation testing of the library's logic, about an hour; not in CI).

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
RUN_ARGS ?=

.PHONY: run train-demo test bench lint mutate wheel docs clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# One OpenCV wheel: the contrib build setup.cfg names. The plain wheels share its cv2
# folder (and, uninstalled later, take files of it along), so an environment made
# before the package switched to the contrib build drops them and reinstalls it.
define one_opencv
	if $(BIN)/python -m pip show -q opencv-python opencv-python-headless 2>/dev/null; then \
		$(BIN)/python -m pip uninstall --quiet -y opencv-python opencv-python-headless && \
		$(BIN)/python -m pip install --quiet --force-reinstall --no-deps \
			opencv-contrib-python-headless; fi
endef

$(VENV)/.installed-runtime: $(BIN)/python setup.cfg pyproject.toml
	$(BIN)/python -m pip install --quiet -e .
	$(one_opencv)
	touch $@

$(VENV)/.installed-test: $(BIN)/python setup.cfg pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[test]'
	$(one_opencv)
	touch $@ $(VENV)/.installed-runtime

$(VENV)/.installed-mutate: $(BIN)/python setup.cfg pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[test,mutate]'
	$(one_opencv)
	touch $@ $(VENV)/.installed-test $(VENV)/.installed-runtime

$(VENV)/.installed-docs: $(BIN)/python setup.cfg pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[docs]'
	$(one_opencv)
	touch $@ $(VENV)/.installed-runtime

# The main job: the released models (shipped in the package, no training, no network)
# inpaint CIFAR-10 test images beside Navier-Stokes: runs/demo/samples.png (test
# images, masks, NS and the model side by side) and runs/demo/figures.md. With
# INPAINT_TF_DATA pointing at a local CIFAR-10 copy it uses the real test images,
# otherwise synthetic ones (it says which). `make train-demo` trains instead.
run: $(VENV)/.installed-runtime
	$(BIN)/inpaint-tf demo --out runs/demo $(RUN_ARGS)

# A short experiment end to end (the conv autoencoder on irregular strokes, 1 epoch of
# 100 steps, into runs/make-run), then the classical baselines on the same test masks.
# Needs internet or INPAINT_TF_DATA (see docs/study.md, "The data split"); re-running resumes.
RUN_CONFIG ?= exp3_conv_autoencoder_irregular
train-demo: $(VENV)/.installed-runtime
	$(BIN)/inpaint-tf train $(RUN_CONFIG) --epochs 1 --steps-per-epoch 100 \
		--precision mixed --out runs/make-run $(RUN_ARGS)
	$(BIN)/inpaint-tf baselines --masks irregular --n 10000 --baselines navier_stokes,telea

# Two pytest workers (pytest-xdist), each test file on one of them so that its module
# fixtures are built once: 15 minutes on 2 cores instead of 22, as much of a test's
# time is Python, tracing and process start-up rather than arithmetic.
TEST_WORKERS ?= 2
test: $(VENV)/.installed-test
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadfile

bench: $(VENV)/.installed-test
	$(BIN)/python benchmarks/run.py

# Mutation testing (mutmut 3) of the library's logic modules, each against the test
# files that cover it (tests/mutation/modules.toml): about an hour on 2 cores. Prints
# the kill rate per module and writes runs/mutation/report.md with every surviving
# mutant's diff; exits 1 when a module is under 90 %. One module:
# make mutate MUTATE_ARGS=masks. How to read it: tests/MUTATION.md.
MUTATE_ARGS ?=
mutate: $(VENV)/.installed-mutate
	$(BIN)/python tests/mutation/run.py $(MUTATE_ARGS)

lint: $(VENV)/.installed-test
	$(BIN)/ruff check inpaint_tf tests benchmarks notebooks docs

# The documentation site (mkdocs.yml): the guides of docs/ and an API reference written
# from the docstrings of inpaint_tf.__all__ and its namespaces (read from the source, no
# TensorFlow), into site/. Strict: a broken link or anchor, a page missing from the nav
# and a public name without a docstring each fail it. A few seconds; the examples of the
# README and the guides run in the test suite (tests/test_docs.py).
docs: $(VENV)/.installed-docs
	$(BIN)/mkdocs build --strict --quiet

# The wheel to install anywhere else (Kaggle, Colab, a machine without this clone):
# dist/inpaint_tf-<version>-py3-none-any.whl, with the released models and the shipped
# configs inside. build/ goes first, so that no module deleted since an earlier build
# lingers in the wheel. Offline, with setuptools and wheel installed in the venv:
# make wheel WHEEL_ARGS=--no-build-isolation
WHEEL_ARGS ?=
wheel: $(BIN)/python
	rm -rf build
	$(BIN)/python -m pip wheel --quiet --no-deps --wheel-dir dist $(WHEEL_ARGS) .
	@ls dist/*.whl

clean:
	rm -rf $(VENV) build site *.egg-info .pytest_cache
