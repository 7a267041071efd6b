# `make test` sets up a fresh Debian machine (as root) and runs the whole suite: pytest, ruff, mypy.
VENV := .venv/bin

.PHONY: test setup check lint bench captures

test: setup check

setup:
	tools/setup-test-machine

check:
	$(VENV)/pytest
	$(VENV)/ruff check .
	$(VENV)/mypy

lint:
	$(VENV)/ruff check .
	$(VENV)/mypy

bench:
	$(VENV)/python benchmarks/bench_scan.py

captures:
	$(VENV)/python tools/capture.py
