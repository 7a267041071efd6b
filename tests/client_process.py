"""Harness for tests that run a real iterm2-library client process against the fake iTerm2."""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from tests.fake_iterm2 import FakeITerm2

WAIT = 30.0  # generous: a loaded 2-core machine is slow, a passing test does not wait this long
T = TypeVar("T")


class ClientProcess:
    """A real iterm2-library client in a subprocess (the library keeps global state, so one process per
    test), started as iTerm2 starts scripts; its JSON records (stdout) and log (stderr) collected by threads."""

    def __init__(self, fake: FakeITerm2, home: str, argv: list[str], cwd: Path | None = None) -> None:
        env = dict(os.environ, HOME=home, ITERM2_COOKIE=fake.issue_cookie(), PYTHONUNBUFFERED="1")
        env.pop("ITERM2_KEY", None)
        self.proc = subprocess.Popen(
            argv,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.records: list[dict[str, Any]] = []
        self.log: list[str] = []
        self._changed = threading.Condition()
        self._readers = [
            threading.Thread(target=self._read_stdout, daemon=True),
            threading.Thread(target=self._read_stderr, daemon=True),
        ]
        for reader in self._readers:
            reader.start()

    def _read_stdout(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            with self._changed:
                self.records.append(json.loads(line))
                self._changed.notify_all()

    def _read_stderr(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            with self._changed:
                self.log.append(line)
                self._changed.notify_all()

    def wait_for(self, check: Callable[[], T | None], what: str, timeout: float = WAIT) -> T:
        """Wait until ``check()`` returns something truthy; fail with what was seen so far."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                result = check()
                if result:
                    return result
                remaining = deadline - time.monotonic()
                finished = self.proc.poll() is not None and not any(r.is_alive() for r in self._readers)
                if remaining <= 0 or finished:
                    break
                self._changed.wait(min(remaining, 0.5))
        raise AssertionError(
            f"timed out waiting for {what}\nrecords: {self.records[-5:]}\nlog:\n{''.join(self.log[-30:])}"
        )

    def last(self, key: str) -> Any:
        """The newest record's value for ``key``, if any record has it."""
        with self._changed:
            return next((r[key] for r in reversed(self.records) if key in r), None)

    def log_text(self) -> str:
        with self._changed:
            return "".join(self.log)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        for reader in self._readers:
            reader.join(5)
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()
