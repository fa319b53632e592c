# Two commands a newcomer needs: `make demo` and `make test`. Everything else is optional.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test test-fast lint install clean sample-data

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# torch is pinned first: on these machines 2.13.0 is the local CPU build; an unpinned torch would pull
# GBs of CUDA wheels. pyproject says torch>=2.3, so a GPU user's own build satisfies it.
$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	rm -rf runs/demo
	HF_HUB_OFFLINE=1 $(BIN)/filterkit run sample_data/shards --pipeline pipelines/biorisk.yaml --out runs/demo

test: $(STAMP)
	HF_HUB_OFFLINE=1 $(BIN)/python -m pytest tests

# the suite without the tests marked slow (over ~3 s on 2 cores: encoder and LM training, the experiment,
# subprocess kills, Ray and multiprocess executors, the GPU runner's CPU fallback); `make test` runs them all
test-fast: $(STAMP)
	HF_HUB_OFFLINE=1 $(BIN)/python -m pytest tests -m "not slow"

# ruff (rules and format in pyproject.toml), mypy over the typed core, and the import layering.
LINT_PATHS := filterkit tests benchmarks sample_data
lint: $(STAMP)
	$(BIN)/ruff check $(LINT_PATHS)
	$(BIN)/ruff format --check $(LINT_PATHS)
	$(BIN)/mypy
	$(BIN)/lint-imports

sample-data: $(STAMP)
	$(BIN)/python sample_data/make_sample_data.py

clean:
	rm -rf runs .pytest_cache
