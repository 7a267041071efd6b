"""A Jupyter banner seen in a real ``less``, paged past, back and past again: opened once.

``less`` draws on the alternate screen; with iTerm2's defaults what scrolls off it enters the
history (KEY_SCROLLBACK_IN_ALTERNATE_SCREEN YES, VT100ScreenMutableState.m appendLineFeed) and a
repaint from the top pushes the screen there first (scrollScreenIntoHistory). The same URL reaches
the reader again and again; the daemon (engine + frontend, one process) must open it once.
"""

from __future__ import annotations

import fcntl
import os
import pty
import shutil
import signal
import struct
import sys
import tempfile
import termios
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import require
from tests.daemon_harness import daemon_on_fake
from tests.fake_jupyter import local_jupyter
from tests.processes import pump

DAEMON = [sys.executable, "-m", "iterm2_autolaunch", "daemon"]
ROWS, COLUMNS = 20, 100


@pytest.fixture
def home() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(dir="/tmp"))  # short: the iTerm2 socket path must fit in 108 bytes
    yield path
    shutil.rmtree(path, ignore_errors=True)


def test_url_paged_over_in_less_opens_once(home: Path) -> None:
    require(shutil.which("less") is not None, "needs less (apt-get install less)")
    with local_jupyter() as port, daemon_on_fake(home, DAEMON, sys.executable) as run:
        log = home / "server.log"
        banner = "[I 2026-11-28 03:39:05.553 ServerApp] Jupyter Server 2.21.1 is running at:"
        url = f"[I 2026-11-28 03:39:05.553 ServerApp] http://127.0.0.1:{port}/lab?token=abc123"
        lines = [f"log line {i}" for i in range(50)] + [banner, url] + [f"more {i}" for i in range(50)]
        log.write_text("".join(line + "\n" for line in lines))
        pid, master = pty.fork()
        if pid == 0:
            os.environ["TERM"] = "xterm-256color"
            os.environ["LESS"] = ""
            os.execvp("less", ["less", str(log)])
        fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLUMNS, 0, 0))
        seen = bytearray()
        reader = threading.Thread(target=pump, args=(master, run.session, seen), daemon=True)
        reader.start()
        try:
            # Down a line at a time past the URL (the screen scrolls), back to the top (a repaint),
            # to the end, and out.
            for key in [b"j"] * 45 + [b"g"] + [b" "] * 6 + [b"G", b"g"]:
                os.write(master, key)
                time.sleep(0.05)
            run.wait_opened()
            time.sleep(1.5)  # more reading of what less drew; a second open would show by now
            assert run.session.terminal.history_size > 0  # less's rows did reach the history
        finally:
            os.kill(pid, signal.SIGTERM)
            os.waitpid(pid, 0)
            os.close(master)
            reader.join(5)
    assert run.output[0].count(" opening ") == 1, run.output[0]
