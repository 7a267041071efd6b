"""The pty wrapper: ``iterm2-autolaunch run -- ssh host`` in any terminal.

The command runs in a pseudo-terminal of its own, which starts with our terminal's modes and size. Our
terminal is put in raw mode, so every key (Ctrl-C, Ctrl-Z, Ctrl-D included) goes to the command as typed,
and everything it prints comes back byte for byte; window size changes are passed on; the command's exit
status is returned (128+N when a signal N killed it). SIGTERM, SIGHUP and SIGINT sent to the wrapper
itself go to the command, which decides. A copy of the output goes through the same line assembler,
detector and engine as in iTerm2, and through the marker parser when a marker identity is configured.
The SSH target comes from the wrapper's own argv, never from the output.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import fcntl
import logging
import os
import pty
import select
import shlex
import signal
import struct
import sys
import termios
import threading
import time
import tty
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from iterm2_autolaunch.lines import LineAssembler
from iterm2_autolaunch.marker import MarkerParser
from iterm2_autolaunch.redact import redact
from iterm2_autolaunch.session import LineSink, Service, SessionContext

log = logging.getLogger(__name__)

READ_SIZE = 64 * 1024
# After the command exited, how long its last output may take to arrive (or a process it left behind may
# keep the terminal open): the kernel hands over the last bytes a moment after the exit.
OUTPUT_GRACE = 1.0
# Typed or pasted input the command has not taken yet; past this we stop reading the keyboard a while.
MAX_PENDING_INPUT = 1024 * 1024
FORWARDED_SIGNALS = (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)


def run_wrapped(
    argv: Sequence[str], start: Callable[[], Awaitable[Service]], *, marker_identity: str | None = None
) -> int:
    """Run ``argv`` in a pty until it exits; return its exit status (128+N when killed by signal N).

    ``start`` makes the service whose sink gets the output's lines; it is stopped when the command ends."""
    if not argv:
        raise ValueError("nothing to run")
    stdin = sys.stdin.fileno()
    interactive = os.isatty(stdin)
    modes = termios.tcgetattr(stdin) if interactive else None
    size = _window_size(stdin) if interactive else None
    pid, master = pty.fork()
    if pid == 0:  # the child: take our terminal's modes and size, then become the command
        try:
            if modes is not None:
                termios.tcsetattr(0, termios.TCSANOW, modes)
            if size is not None:
                fcntl.ioctl(0, termios.TIOCSWINSZ, size)
            os.execvp(argv[0], list(argv))
        except OSError as error:
            os.write(2, f"iterm2-autolaunch run: {argv[0]}: {error.strerror}\r\n".encode())
        except BaseException:  # nothing may return into the parent's code from here
            pass
        os._exit(127)
    context = SessionContext(
        session_id=f"p{pid}", job_name=os.path.basename(argv[0]), command_line=shlex.join(argv)
    )
    markers = MarkerParser(marker_identity) if marker_identity else None
    os.set_blocking(master, False)
    try:
        if modes is not None:
            tty.setraw(stdin, termios.TCSANOW)
        status = asyncio.run(_Relay(pid, master, stdin, interactive, context, start, markers).run())
    finally:
        if modes is not None:
            with contextlib.suppress(termios.error, OSError):  # the terminal may be gone (hangup)
                termios.tcsetattr(stdin, termios.TCSADRAIN, modes)
        os.close(master)
    return os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status)


class _Relay:
    """Copies bytes both ways until the child exits, feeding its output to the engine on the side."""

    def __init__(
        self,
        pid: int,
        master: int,
        stdin: int,
        interactive: bool,
        context: SessionContext,
        start: Callable[[], Awaitable[Service]],
        markers: MarkerParser | None,
    ) -> None:
        self.pid = pid
        self.master = master
        self.stdin = stdin
        self.stdout = sys.stdout.fileno()
        self.interactive = interactive
        self.context = context
        self.start = start
        self.sink: LineSink
        self.markers = markers
        self.assembler = LineAssembler()
        self.pending_input = bytearray()
        self.reading_input = False
        self.input_thread: threading.Thread | None = None
        self.input_paused = False
        self.reading_output = False
        self.status: int | None = None
        self.engine_failed = False
        self.exited: asyncio.Event
        self.output_done: asyncio.Event

    async def run(self) -> int:
        service = await self.start()
        self.sink = service.sink
        loop = asyncio.get_running_loop()
        self.exited = asyncio.Event()
        self.output_done = asyncio.Event()
        signals: list[int] = [signal.SIGCHLD, *FORWARDED_SIGNALS]
        loop.add_signal_handler(signal.SIGCHLD, self._reap)
        for number in FORWARDED_SIGNALS:
            loop.add_signal_handler(number, self._forward_signal, number)
        if self.interactive:
            loop.add_signal_handler(signal.SIGWINCH, self._copy_window_size)
            signals.append(signal.SIGWINCH)
            self._copy_window_size()  # a resize since the fork
        loop.add_reader(self.master, self._from_child)
        self.reading_output = True
        self._read_input(True)
        try:
            self._reap()  # it may have exited before the handler was installed
            await self.exited.wait()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.output_done.wait(), OUTPUT_GRACE)
            self._drain_output()
            self._to_engine(self.sink.session_lines, self.context, self.assembler.finish())
        finally:
            self._read_input(False)
            loop.remove_writer(self.master)
            if self.reading_output:
                loop.remove_reader(self.master)
            for handled in signals:
                loop.remove_signal_handler(handled)
            self._to_engine(self.sink.session_ended, self.context.session_id)
            await service.aclose()
        assert self.status is not None
        return self.status

    # -- the child's output -------------------------------------------------------------------------

    def _from_child(self) -> None:
        try:
            data = os.read(self.master, READ_SIZE)
        except BlockingIOError:
            return
        except OSError:  # EIO: no process has the terminal open any more
            data = b""
        if not data:
            asyncio.get_running_loop().remove_reader(self.master)
            self.reading_output = False
            self.output_done.set()
            return
        self._output(data)

    def _drain_output(self) -> None:
        """After the child exited: what it wrote last, without waiting for anything still holding the pty."""
        while self.reading_output:
            try:
                data = os.read(self.master, READ_SIZE)
            except OSError:
                return
            if not data:
                return
            self._output(data)

    def _output(self, data: bytes) -> None:
        _write_all(self.stdout, data)
        if self.markers is not None:
            for marker in self.markers.feed(data):
                if marker.event is None:
                    log.warning("%s", marker.problem)
                else:
                    log.info("marker: %s announced at %s", marker.event.kind, redact(marker.event.url))
                    self._to_engine(self.sink.session_event, self.context, marker.event)
        lines = self.assembler.feed(data)
        if lines:
            self._to_engine(self.sink.session_lines, self.context, lines)

    def _to_engine(self, method: Callable[..., None], *args: Any) -> None:
        """A failure in the engine must never break the user's session: report it once, keep relaying."""
        try:
            method(*args)
        except Exception:
            if not self.engine_failed:
                log.exception("engine failed; the session goes on without it")
            self.engine_failed = True

    # -- the user's input ---------------------------------------------------------------------------

    def _read_input(self, on: bool) -> None:
        if on == self.reading_input or self.stdin < 0:
            return
        loop = asyncio.get_running_loop()
        if self.input_thread is not None:
            self.input_paused = not on
        elif on:
            try:
                loop.add_reader(self.stdin, self._from_user)
            except PermissionError:  # a regular file or /dev/null cannot be polled: read it in a thread
                self.input_thread = threading.Thread(
                    target=self._read_file, args=(loop,), name="pty-stdin", daemon=True
                )
                self.input_thread.start()
        else:
            loop.remove_reader(self.stdin)
        self.reading_input = on

    def _from_user(self) -> None:
        try:
            data = os.read(self.stdin, READ_SIZE)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        self._input(data)

    def _read_file(self, loop: asyncio.AbstractEventLoop) -> None:
        """stdin that cannot be polled, read by a thread; ``input_paused`` holds it back a while."""
        while True:
            while self.input_paused and not self.exited.is_set():
                time.sleep(0.01)
            try:
                data = os.read(self.stdin, READ_SIZE)
            except OSError:
                data = b""
            try:
                loop.call_soon_threadsafe(self._input, data)
            except RuntimeError:  # the loop is closed: the relay is over
                return
            if not data:
                return

    def _input(self, data: bytes) -> None:
        if self.stdin < 0:
            return
        if not data:  # stdin closed: tell the child, as a terminal would (Ctrl-D), and stop reading
            self._read_input(False)
            self.stdin = -1
            data = b"\x04"
        self.pending_input += data
        self._flush_input()

    def _flush_input(self) -> None:
        loop = asyncio.get_running_loop()
        while self.pending_input:
            try:
                written = os.write(self.master, self.pending_input)
            except BlockingIOError:
                break
            except OSError as error:
                if error.errno != errno.EINTR:
                    self.pending_input.clear()  # the child is gone; its exit ends the relay
                break
            del self.pending_input[:written]
        loop.remove_writer(self.master)
        if self.pending_input:
            loop.add_writer(self.master, self._flush_input)
        if self.stdin >= 0:
            self._read_input(len(self.pending_input) < MAX_PENDING_INPUT)

    # -- signals ------------------------------------------------------------------------------------

    def _reap(self) -> None:
        if self.status is not None:
            return
        try:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
        except ChildProcessError:
            pid, status = self.pid, 255 << 8  # reaped by someone else: unknown status
        if pid == self.pid:
            self.status = status
            self.exited.set()

    def _forward_signal(self, number: int) -> None:
        if self.status is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, number)

    def _copy_window_size(self) -> None:
        """The child's terminal gets our terminal's size (the kernel then sends it SIGWINCH)."""
        size = _window_size(self.stdin) if self.stdin >= 0 else None
        if size is not None:
            with contextlib.suppress(OSError):
                fcntl.ioctl(self.master, termios.TIOCSWINSZ, size)


def _window_size(fd: int) -> bytes | None:
    try:
        return fcntl.ioctl(fd, termios.TIOCGWINSZ, struct.pack("HHHH", 0, 0, 0, 0))
    except OSError:
        return None


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        try:
            written = os.write(fd, view)
        except BlockingIOError:  # someone made our stdout non-blocking: wait until it takes more
            select.select([], [fd], [], 1.0)
            continue
        except InterruptedError:
            continue
        except OSError:
            return  # the reader went away; nothing sensible left to do with these bytes
        view = view[written:]
