# memlens: `make demo` runs the main job on examples/ (a check, a function's and a notebook cell's
# line memory), `make test` runs every test.
# Everything is installed from scratch here: CI runs `make test` on a fresh clone.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.memlens-installed

.PHONY: demo test test-python test-client venv lint clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev,examples]'
	touch $(STAMP)

# `check` exits 1 when it finds something, which is the point of the demo: keep going.
demo: venv
	@echo "== memlens check examples/ =="
	-$(BIN)/memlens check examples/
	@echo
	@echo "== memlens profile examples/churn/features.py::build_feature_matrix =="
	$(BIN)/memlens profile examples/churn/features.py::build_feature_matrix --call "build_feature_matrix()"
	@echo
	@echo "== memlens profile examples/notebooks/explain_churn.ipynb --cell 5 =="
	$(BIN)/memlens profile examples/notebooks/explain_churn.ipynb --cell 5

test: test-python test-client

# The VS Code client's build, unit tests and real-editor end-to-end run live in client/client.mk.
-include client/client.mk

test-python: venv
	$(BIN)/ruff check server tests benchmarks
	$(BIN)/mypy
	$(BIN)/python -m pytest -q -n auto -m "not serial"
	$(BIN)/python -m pytest -q -m serial

lint: venv
	$(BIN)/ruff check server tests benchmarks

clean:
	rm -rf $(VENV) .memlens_cache .pytest_cache .mypy_cache
