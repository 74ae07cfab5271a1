# Two commands matter: `make run` and `make test`. Each creates what it needs first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
CKSUM := $(shell cksum pyproject.toml | cut -d' ' -f1)
# What `make run` needs (the service alone) and what the checks need on top (the dev extra):
# a first `make run` does not wait for linters, a browser driver and the docs builder.
RUN_STAMP := $(VENV)/.installed-run-$(CKSUM)
STAMP := $(VENV)/.installed-dev-$(CKSUM)

.PHONY: run test lint typecheck docs unit tools demo clean

$(RUN_STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	@rm -f $(VENV)/.installed-run-*
	@touch $@

$(STAMP): $(RUN_STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@rm -f $(VENV)/.installed-dev-*
	@touch $@

run: $(RUN_STAMP)
	$(BIN)/idstore serve

demo: $(RUN_STAMP)
	$(BIN)/idstore demo

# Debian tools the end-to-end tests read QR codes and compute codes with.
tools:
	@./scripts/ensure-test-tools

# bench/ joins the checks once it holds code.
LINTED := src tests $(wildcard bench)

lint: $(STAMP)
	$(BIN)/ruff check $(LINTED)
	$(BIN)/ruff format --check $(LINTED)

typecheck: $(STAMP)
	$(BIN)/mypy src tests

unit: $(STAMP) tools
	$(BIN)/pytest $(PYTEST_ARGS)

# The documentation site (mkdocs.yml), built strictly: a broken link or include fails.
docs: $(STAMP)
	$(BIN)/mkdocs build --quiet

test: lint typecheck docs unit

# The benchmark (bench/README.md): idstore and its floor on PostgreSQL under wrk, which it installs
# if missing. Options go in BENCH_ARGS, e.g. make bench BENCH_ARGS='--workers 2 --duration 30'.
.PHONY: bench
bench: $(STAMP)
	$(BIN)/python -m bench.run $(BENCH_ARGS)

# The scale run (bench/README.md): a million users and ten million audit records loaded by COPY,
# latencies against a small store. Options in SCALE_ARGS, e.g. SCALE_ARGS='--users 100000'.
.PHONY: bench-scale
bench-scale: $(STAMP)
	$(BIN)/python -m bench.scale $(SCALE_ARGS)

# The face model (bench/README.md): enrolment and match latency and memory through the worker pool;
# FACE_ARGS='--totp' adds TOTP throughput with and without face matches running beside it.
.PHONY: bench-face
bench-face: $(STAMP)
	$(BIN)/python -m bench.face $(FACE_ARGS)

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache

