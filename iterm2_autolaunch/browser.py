"""Open a URL in the user's browser: a configured argv, macOS `open`, or Python's `webbrowser`.

Never a shell: the URL is one argv element. Only URLs we built (``localhost:<our port>``) get here.
Children are reaped by a waiter thread each, so none is left a zombie; `close` waits a bounded time.
"""

from __future__ import annotations

import logging
import subprocess
import sys
import threading
import webbrowser
from collections.abc import Sequence

from iterm2_autolaunch.redact import redact

log = logging.getLogger(__name__)


class Browser:
    def __init__(self, argv: Sequence[str] = ()) -> None:
        self._argv = tuple(argv) or (("open",) if sys.platform == "darwin" else ())
        self._children: list[subprocess.Popen[bytes]] = []

    def open(self, url: str) -> None:
        if not self._argv:
            # webbrowser honours $BROWSER, which headless machines and tests rely on.
            if not webbrowser.open(url):
                log.warning("no browser could open %s; set `browser` in the config", redact(url))
            return
        argv = [*self._argv, url]
        try:
            child = subprocess.Popen(  # noqa: S603 - argv list built from config + our own URL
                argv,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )
        except OSError as error:
            log.error("browser command %s failed: %s", argv[0], error)
            return
        self._children = [c for c in self._children if c.poll() is None] + [child]
        threading.Thread(target=child.wait, name="browser-reaper", daemon=True).start()

    def close(self, timeout: float = 2.0) -> None:
        """Wait a little for browser commands still running; leave real browsers alone."""
        for child in self._children:
            try:
                child.wait(timeout)
            except subprocess.TimeoutExpired:
                log.info("browser command pid %d still running; left to itself", child.pid)
        self._children = []
