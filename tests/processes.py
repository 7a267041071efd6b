"""Processes as the tests see them from /proc (Linux), and a pty's output handed to a fake iTerm2 session."""

from __future__ import annotations

import os
from pathlib import Path

from tests.fake_iterm2 import FakeSession


def children(pid: int) -> list[int]:
    """The live child processes of ``pid``."""
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            found += [int(p) for p in (task / "children").read_text().split()]
        except OSError:
            continue  # the thread ended meanwhile
    return found


def argv_of(pid: int) -> list[str]:
    """The exact argv of ``pid`` (empty if it is gone)."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")[:-1]
    except OSError:
        return []


def pump(master: int, session: FakeSession, seen: bytearray | None = None) -> None:
    """Copy a pty's output into the fake session (and ``seen``) until the pty closes."""
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:
            return
        if not data:
            return
        if seen is not None:
            seen.extend(data)
        session.write(data)
