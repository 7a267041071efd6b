# `make test` sets up a fresh Debian machine (as root) and runs the whole suite: pytest, ruff, mypy.
VENV := .venv/bin

.PHONY: test setup check lint bench captures demo

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

# As root on Debian: test remote (namespace, sshd, JupyterLab), the pty wrapper with `ssh ... jupyter lab`,
# headless Chromium as the browser; leaves artifacts/demo-jupyterlab.png and tears everything down.
demo: setup
	$(VENV)/python tools/demo.py --out artifacts
