"""A command in a real pseudo-terminal, driven like a person at a terminal would (stdlib only).

The command gets the pty's slave as stdin/stdout/stderr and as its controlling terminal, in a session of its
own, so that resizing the terminal sends it SIGWINCH and the terminal's modes are its to change. A reader
thread collects everything it prints; ``expect`` waits (bounded) for a pattern in that output.

No fork in this (possibly multi-threaded) process: the child is started by ``subprocess`` and a tiny
``python -c`` shim takes the controlling terminal before it execs the command.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import struct
import subprocess
import sys
import termios
import threading
import time
from collections.abc import Mapping, Sequence

_SHIM = "import fcntl,os,sys,termios; fcntl.ioctl(0, termios.TIOCSCTTY, 0); os.execvp(sys.argv[1], sys.argv[1:])"


class PtySession:
    def __init__(
        self,
        argv: Sequence[str],
        *,
        env: Mapping[str, str] | None = None,
        cwd: str | None = None,
        rows: int = 24,
        columns: int = 80,
    ) -> None:
        master, slave = os.openpty()
        self.master = master
        self.set_size(rows, columns)
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-c", _SHIM, *argv],
                stdin=slave,
                stdout=slave,
                stderr=slave,
                env=dict(env) if env is not None else None,
                cwd=cwd,
                start_new_session=True,
                close_fds=True,
            )
        finally:
            os.close(slave)
        self._output = bytearray()
        self._closed = False
        self._changed = threading.Condition()
        self._position = 0  # where the next expect starts looking
        self._reader = threading.Thread(target=self._read, name="pty-reader", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        while True:
            try:
                data = os.read(self.master, 65536)
            except OSError:  # EIO: every process closed the terminal
                data = b""
            with self._changed:
                if not data:
                    self._closed = True
                    self._changed.notify_all()
                    return
                self._output += data
                self._changed.notify_all()

    # -- driving --------------------------------------------------------------------------------

    def send(self, data: bytes | str) -> None:
        if isinstance(data, str):
            data = data.encode()
        view = memoryview(data)
        while view:
            view = view[os.write(self.master, view) :]

    def set_size(self, rows: int, columns: int) -> None:
        """Resize the terminal, as a terminal window does: the kernel signals its foreground job."""
        fcntl.ioctl(self.master, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))

    def expect(self, pattern: bytes | str, timeout: float = 30.0) -> re.Match[bytes]:
        """Wait for ``pattern`` (a regex) in the output after the previous match; fail with the output."""
        regex = re.compile(pattern.encode() if isinstance(pattern, str) else pattern)
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                match = regex.search(self._output, self._position)
                if match is not None:
                    self._position = match.end()
                    return match
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._closed:
                    break
                self._changed.wait(min(remaining, 0.5))
        raise AssertionError(
            f"no {regex.pattern!r} within {timeout} s{' (terminal closed)' if self._closed else ''}; "
            f"output tail:\n{self.text()[-3000:]}"
        )

    def output(self) -> bytes:
        with self._changed:
            return bytes(self._output)

    def text(self) -> str:
        return self.output().decode("utf-8", "replace")

    def wait(self, timeout: float = 30.0) -> int:
        """The command's exit status; then the rest of its output is read."""
        status = self.proc.wait(timeout)
        self._reader.join(5)
        return status

    def close(self) -> None:
        """Bounded: hang up (SIGHUP, then SIGKILL), reap, close the terminal."""
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.proc.pid, 1)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        with contextlib.suppress(OSError):
            os.close(self.master)
        self._reader.join(5)

    def __enter__(self) -> PtySession:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
