"""Shared test setup: root-only tests, CI strictness, short temp dirs.

Tests that need root (network namespaces, sshd) carry ``@pytest.mark.root``. Without root they skip
with a reason; with CI=true a skip for a missing capability fails the run instead, so green means tested.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator

import pytest

from tests.fake_iterm2 import FakeITerm2

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


@pytest.fixture
def home() -> Iterator[str]:
    """A short temp HOME: the iTerm2 socket path is HOME + 50 bytes and must fit in 108 (pytest's tmp_path
    is too long)."""
    path = tempfile.mkdtemp(dir="/tmp", prefix="it2-")
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def fake(home: str) -> Iterator[FakeITerm2]:
    """The fake iTerm2, serving on a thread, its socket under ``home``."""
    with FakeITerm2(home).running() as server:
        yield server
