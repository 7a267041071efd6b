"""The daemon (engine + iTerm2 frontend, one process) through a session's close, Undo and termination.

iTerm2 v3.6.11 removes a closed session from its windows at once but posts TERMINATE_SESSION only
after the profile's undo timeout (PTYSession.m terminate -> makeTerminationUndoable -> hardStop);
Undo Close revives it under the same id (revive, announced as NEW_SESSION). A forward belongs to
the session until the termination, not until the session disappears from the list.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from iterm2_autolaunch.control_client import request
from tests.daemon_harness import daemon_on_fake
from tests.fake_jupyter import local_jupyter

DAEMON = [sys.executable, "-m", "iterm2_autolaunch", "daemon"]
WAIT = 30.0


@pytest.fixture
def home() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(dir="/tmp"))  # short: the iTerm2 socket path must fit in 108 bytes
    yield path
    shutil.rmtree(path, ignore_errors=True)


def forwards(home: Path) -> list[dict[str, Any]]:
    answer = request({"cmd": "list"}, home / "run" / "iterm2-autolaunch" / "control.sock")
    assert answer["ok"], answer
    return list(answer["forwards"])


def wait_until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def test_undone_close_keeps_the_forward_and_termination_drops_it(home: Path) -> None:
    with local_jupyter() as port, daemon_on_fake(home, DAEMON, sys.executable) as run:
        run.fake.undo_timeout = 1.5
        banner = "[I 2026-11-28 03:39:05.553 ServerApp] Jupyter Server 2.21.1 is running at:"
        url = f"[I 2026-11-28 03:39:05.553 ServerApp] http://127.0.0.1:{port}/lab?token=abc123"
        run.session.write(f"{banner}\r\n{url}\r\n".encode())
        run.wait_opened()
        wait_until(lambda: len(forwards(home)) == 1, "the server to be listed")
        run.opened_file.unlink()  # a second browser tab would write it again

        # Output scrolling by as the user closes the session: the reader, following the scroll,
        # reads again within milliseconds and finds the session gone.
        reads = run.session.screen_reads
        run.session.write("".join(f"log line {i}\r\n" for i in range(300)).encode())
        wait_until(lambda: run.session.screen_reads > reads, "a read of the scrolling output")
        run.fake.close_session(run.session)  # gone from the window; undoable for 1.5 s
        time.sleep(0.5)
        run.fake.revive_session(run.session)  # Undo Close
        time.sleep(2.0)  # past the first close's undo timeout
        assert len(forwards(home)) == 1, "an undone close dropped the forward"
        assert not run.opened_file.exists(), "the forward was closed and opened again"

        run.fake.close_session(run.session)  # and this time for good
        wait_until(lambda: forwards(home) == [], "the forward to go with the terminated session")
