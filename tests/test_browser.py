"""Opening a page: the token goes through a private redirect page, never through an argv (issue "A hostile
world", item 8). The browser here is a real process that writes down its argv and follows the page."""

from __future__ import annotations

import http.server
import shutil
import stat
import sys
import threading
import time
from pathlib import Path

import pytest

from iterm2_autolaunch import browser as browser_module
from iterm2_autolaunch.browser import Browser
from tests.browser_pages import page_path, page_target, recorder
from tests.conftest import require
from tests.headless_browser import BASE_FLAGS

URLS = [
    "http://localhost:49211/lab?token=5ecre7",
    'http://localhost:49211/lab/tree/a"><script>alert(1)</script>?token=x&y=1',  # path and query come from screen
    "http://localhost:49211/user/al%20ice/lab?token=t#frag",
]


def wait_for(path: Path) -> None:
    deadline = time.monotonic() + 60  # a python process starting on a loaded machine
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.02)


@pytest.mark.parametrize("url", URLS, ids=["plain", "markup-in-path", "escaped-path"])
def test_the_browser_gets_a_private_page_that_leads_to_the_url(tmp_path: Path, url: str) -> None:
    log = tmp_path / "opened.txt"
    pages = tmp_path / "pages"
    browser = Browser([sys.executable, "-c", recorder(append=False), str(log)], pages=pages)
    browser.open(url)
    wait_for(log)
    time.sleep(0.1)
    argv = Path(f"{log}.argv").read_text()
    assert argv.startswith("file://") and "token" not in argv  # `ps` shows no token
    assert log.read_text() == url and page_target(argv) == url  # the browser goes exactly there
    page = page_path(argv)
    assert stat.S_IMODE(page.stat().st_mode) == 0o600 and stat.S_IMODE(pages.stat().st_mode) == 0o700
    assert "<script>" not in page.read_text()  # markup from the screen stays text
    browser.close()
    assert not page.exists()


def test_pages_are_removed_after_their_lifetime(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(browser_module, "PAGE_LIFETIME", 0.2)
    log = tmp_path / "opened.txt"
    browser = Browser([sys.executable, "-c", recorder(append=False), str(log)], pages=tmp_path / "pages")
    browser.open(URLS[0])
    wait_for(Path(f"{log}.argv"))
    page = page_path(Path(f"{log}.argv").read_text())
    deadline = time.monotonic() + 30
    while page.exists():
        assert time.monotonic() < deadline, "the page outlived its lifetime"
        time.sleep(0.05)
    browser.close()


def test_a_page_that_cannot_be_written_opens_nothing(tmp_path: Path) -> None:
    blocker = tmp_path / "pages"
    blocker.write_text("a file where the directory should be")
    log = tmp_path / "opened.txt"
    Browser([sys.executable, "-c", recorder(append=False), str(log)], pages=blocker).open(URLS[0])
    time.sleep(0.5)
    assert not log.exists()  # rather nothing than the token in an argv


def test_chromium_follows_the_page_to_the_server(tmp_path: Path) -> None:
    """Debian's headless Chromium, given only the page's file URL as its argv, asks the server for the URL
    with the token: what a real browser does with the page (the server's request log is the proof)."""
    require(shutil.which("chromium") is not None, "needs chromium (apt-get install chromium)")
    seen: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            seen.append(self.path)
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"<title>ok</title>")

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://localhost:{server.server_address[1]}/lab?token=5ecre7"
    profile = tmp_path / "profile"
    browser = Browser([shutil.which("chromium") or "chromium", *BASE_FLAGS, f"--user-data-dir={profile}",
                       "--virtual-time-budget=5000", "--dump-dom"], pages=tmp_path / "pages")
    try:
        browser.open(url)
        deadline = time.monotonic() + 60
        while "/lab?token=5ecre7" not in seen:
            assert time.monotonic() < deadline, f"Chromium never reached the server (saw {seen})"
            time.sleep(0.1)
    finally:
        browser.close(timeout=30)
        server.shutdown()
        server.server_close()
