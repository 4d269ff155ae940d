# perfwatch: the two set-up commands are `make demo` and `make test` (see README.md).
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: demo demo-synthetic test test-unit test-integration test-load test-failure bench self-bench eval lint typecheck system-deps clean

$(STAMP): pyproject.toml recorder/pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]' -e ./recorder
	touch $(STAMP)

system-deps:
	bash scripts/system-deps.sh

## The main job on the embedded default: a scratch recorder history through the whole loop.
demo: $(STAMP)
	$(PY) -m demo

## A seconds-long variant on a seeded synthetic asv history (no benchmarks run).
demo-synthetic: $(STAMP)
	$(PY) -m perfwatch.demo

## Everything CI runs: lint, mypy --strict, then the test suite (the failure tier too with
## INJECT_FAILURES=true, as .ci/run sets it).
test: $(STAMP) system-deps lint typecheck
	$(PY) -m pytest $(PYTEST_ARGS)

test-unit: $(STAMP)
	$(PY) -m pytest tests/unit $(PYTEST_ARGS)

## Tiers of docs/testing.md: recorder + cameras as processes; load (opt-in); failure injection (root).
test-integration: $(STAMP) system-deps
	$(PY) -m pytest tests/integration --junitxml=.artifacts/junit-integration-all.xml $(PYTEST_ARGS)

test-load: $(STAMP) system-deps
	$(PY) -m pytest tests/load -m load $(PYTEST_ARGS)

test-failure: $(STAMP) system-deps
	INJECT_FAILURES=true $(PY) -m pytest tests/failure/test_failure_scenarios.py $(PYTEST_ARGS)

## perfwatch's own speed (pytest-benchmark).
bench: $(STAMP)
	$(PY) -m pytest tests/bench --benchmark-only --benchmark-json=.artifacts/bench.json $(PYTEST_ARGS)

## perfwatch on itself: this checkout's detector speed against main (exit 1 on a slowdown).
SELF_BENCH_BASE ?=
self-bench: $(STAMP)
	$(PY) scripts/self_bench.py $(if $(SELF_BENCH_BASE),--base $(SELF_BENCH_BASE))

## Detector quality on the labelled corpus next to this checkout (optional, not part of test).
eval: $(STAMP)
	$(PY) scripts/eval_corpus.py

lint: $(STAMP)
	$(VENV)/bin/ruff check perfwatch recorder/src tests benchmarks demo scripts

typecheck: $(STAMP)
	$(VENV)/bin/mypy perfwatch

clean:
	rm -rf .demo .artifacts .asv
