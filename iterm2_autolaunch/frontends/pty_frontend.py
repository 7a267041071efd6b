"""The pty wrapper: ``iterm2-autolaunch run -- ssh host`` in any terminal.

The command runs in a pseudo-terminal of its own. Everything the user types goes to it untouched and
everything it prints comes back untouched (raw mode, window size changes passed on, its exit status
returned), while a copy of the output goes through the same line assembler, detector and engine as in
iTerm2. The SSH target comes from the wrapper's own argv, never from the output.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import pty
import shlex
import signal
import struct
import sys
import termios
import tty
from collections.abc import Sequence

from iterm2_autolaunch.engine import Engine
from iterm2_autolaunch.lines import LineAssembler
from iterm2_autolaunch.session import SessionContext

log = logging.getLogger(__name__)

READ_SIZE = 64 * 1024


def run_wrapped(argv: Sequence[str], engine: Engine) -> int:
    """Run ``argv`` in a pty until it exits; return its exit status (128+N when killed by signal N)."""
    if not argv:
        raise ValueError("nothing to run")
    pid, master = pty.fork()
    if pid == 0:  # the child: become the command
        try:
            os.execvp(argv[0], list(argv))
        except OSError as error:
            os.write(2, f"iterm2-autolaunch run: {argv[0]}: {error.strerror}\n".encode())
        os._exit(127)
    context = SessionContext(session_id=f"pty-{pid}", job_name=os.path.basename(argv[0]), command_line=shlex.join(argv))
    stdin = sys.stdin.fileno()
    interactive = os.isatty(stdin)
    saved = termios.tcgetattr(stdin) if interactive else None
    try:
        if interactive:
            _copy_window_size(stdin, master)
            tty.setraw(stdin)
        asyncio.run(_relay(master, stdin, interactive, context, engine))
    finally:
        if saved is not None:
            termios.tcsetattr(stdin, termios.TCSAFLUSH, saved)
        os.close(master)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status)


async def _relay(master: int, stdin: int, interactive: bool, context: SessionContext, engine: Engine) -> None:
    loop = asyncio.get_running_loop()
    done = loop.create_future()
    assembler = LineAssembler()
    stdout = sys.stdout.fileno()

    def from_child() -> None:
        try:
            data = os.read(master, READ_SIZE)
        except OSError:  # EIO: the child closed the pty (it exited)
            data = b""
        if not data:
            if not done.done():
                done.set_result(None)
            return
        _write_all(stdout, data)
        lines = assembler.feed(data)
        if lines:
            engine.session_lines(context, lines)

    def from_user() -> None:
        try:
            data = os.read(stdin, READ_SIZE)
        except OSError:
            data = b""
        if data:
            _write_all(master, data)
        else:  # stdin closed: tell the child, as a terminal would, and stop reading
            loop.remove_reader(stdin)
            with contextlib.suppress(OSError):
                os.write(master, b"\x04")

    loop.add_reader(master, from_child)
    loop.add_reader(stdin, from_user)
    if interactive:
        loop.add_signal_handler(signal.SIGWINCH, _copy_window_size, stdin, master)
    try:
        await done
        lines = assembler.finish()
        if lines:
            engine.session_lines(context, lines)
    finally:
        loop.remove_reader(master)
        loop.remove_reader(stdin)
        if interactive:
            loop.remove_signal_handler(signal.SIGWINCH)
        engine.session_ended(context.session_id)
        await engine.shutdown()


def _copy_window_size(source: int, target: int) -> None:
    """The child's terminal gets our terminal's size (the kernel then sends it SIGWINCH)."""
    with contextlib.suppress(OSError):
        size = fcntl.ioctl(source, termios.TIOCGWINSZ, struct.pack("HHHH", 0, 0, 0, 0))
        fcntl.ioctl(target, termios.TIOCSWINSZ, size)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        try:
            written = os.write(fd, view)
        except BlockingIOError:
            continue
        except OSError:
            return  # the reader went away; nothing sensible left to do with these bytes
        view = view[written:]
