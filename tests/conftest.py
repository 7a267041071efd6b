"""Shared test setup: root-only tests, CI strictness, short temp dirs.

Tests that need root (network namespaces, sshd) carry ``@pytest.mark.root``. Without root they skip
with a reason; with CI=true a skip for a missing capability fails the run instead, so green means tested.
"""

from __future__ import annotations

import os

import pytest

IN_CI = os.environ.get("CI", "").lower() == "true"

# The real test remote host (sshd + Jupyter in network namespaces): one per test session, shared.
pytest_plugins = ["tests.remote_host"]


def require(condition: bool, reason: str) -> None:
    """Skip with ``reason`` unless ``condition``; under CI=true fail instead of skipping."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"CI=true but capability missing: {reason}")
    pytest.skip(reason)


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("root"):
        require(os.geteuid() == 0, "needs root for network namespaces and sshd")
