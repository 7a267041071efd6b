"""Open a server's page in the user's browser: a configured argv, macOS `open`, or Python's `webbrowser`.

The token never goes into an argv (where `ps` shows it to every local user): the browser gets the
``file://`` URL of a redirect page that holds the real URL, written 0600 in our 0700 directory and deleted
after ``PAGE_LIFETIME``. Jupyter opens its own browser the same way (jupyter_server
``templates/browser-open.html``: "passing the token without putting it in a command-line argument").
Never a shell: the page's URL is one argv element. Only URLs we built (``localhost:<our port>``) get here.
Children are reaped by a waiter thread each, so none is left a zombie; ``close`` is bounded.
"""

from __future__ import annotations

import contextlib
import html
import logging
import os
import subprocess
import sys
import tempfile
import threading
import webbrowser
from collections.abc import Sequence
from pathlib import Path

from iterm2_autolaunch.control import control_socket_path, secure_directory
from iterm2_autolaunch.errors import ControlError
from iterm2_autolaunch.redact import redact

log = logging.getLogger(__name__)

PAGE_LIFETIME = 120.0  # seconds: long enough for a browser to start and read it
# As jupyter_server's template: a refresh plus a link, no script (the URL's path and query come from the screen).
PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="refresh" content="0;url={url}">
<title>Opening {title}</title>
</head>
<body><p>Opening <a href="{url}">{title}</a> (through iterm2-autolaunch's forward).</p></body>
</html>
"""


def pages_dir() -> Path:
    """Where redirect pages go: beside the control socket (``$XDG_RUNTIME_DIR/iterm2-autolaunch/open``)."""
    return control_socket_path().parent / "open"


class Browser:
    def __init__(self, argv: Sequence[str] = (), pages: Path | None = None) -> None:
        self._argv = tuple(argv) or (("open",) if sys.platform == "darwin" else ())
        self._pages = pages
        self._children: list[subprocess.Popen[bytes]] = []
        self._timers: dict[Path, threading.Timer] = {}
        self._lock = threading.Lock()

    def open(self, url: str) -> None:
        try:
            page = self._write_page(url)
        except (OSError, ControlError) as error:
            # Opening the URL itself would put the token in an argv: better say so and open nothing.
            log.error("cannot write the page that opens %s: %s", redact(url), error)
            return
        if not self._argv:
            # webbrowser honours $BROWSER, which headless machines and tests rely on.
            if not webbrowser.open(page.as_uri()):
                log.warning("no browser could open %s; set `browser` in the config", redact(url))
            return
        argv = [*self._argv, page.as_uri()]
        try:
            child = subprocess.Popen(  # noqa: S603 - argv list built from config + our own page's file URL
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

    def _write_page(self, url: str) -> Path:
        directory = self._pages or pages_dir()
        secure_directory(directory)
        fd, name = tempfile.mkstemp(prefix="open-", suffix=".html", dir=directory)  # 0600, a name nobody guesses
        with os.fdopen(fd, "w", encoding="utf-8") as page:
            page.write(PAGE.format(url=html.escape(url, quote=True), title=html.escape(redact(url))))
        path = Path(name)
        timer = threading.Timer(PAGE_LIFETIME, self._remove, args=(path,))
        timer.daemon = True
        with self._lock:
            self._timers[path] = timer
        timer.start()
        return path

    def _remove(self, path: Path) -> None:
        with self._lock:
            self._timers.pop(path, None)
        with contextlib.suppress(OSError):
            path.unlink()

    def close(self, timeout: float = 2.0) -> None:
        """Remove the pages still waiting; wait a little for browser commands still running."""
        with self._lock:
            timers, self._timers = self._timers, {}
        for path, timer in timers.items():
            timer.cancel()
            with contextlib.suppress(OSError):
                path.unlink()
        for child in self._children:
            try:
                child.wait(timeout)
            except subprocess.TimeoutExpired:
                log.info("browser command pid %d still running; left to itself", child.pid)
        self._children = []
