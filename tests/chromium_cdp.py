"""A headless Chromium that a test drives as a user does, over its DevTools protocol (a websocket).

Debian's Chromium with headless_browser.py's flags, a profile of its own and one tab; its DevTools listen on a
loopback port it picks and writes into the profile (DevToolsActivePort). ``type_text`` types as a keyboard does
(the page gets input events); ``evaluate`` reads the page; ``wait`` polls an expression until it is truthy.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Any

from websockets.sync.client import ClientConnection, connect

from tests.headless_browser import BASE_FLAGS

START_BOUND = 60.0  # Chromium's start on a loaded 2-core machine


class Chromium:
    def __init__(self) -> None:
        self._ids = itertools.count(1)
        self._devtools: ClientConnection | None = None
        self._session = ""
        self._stack = contextlib.ExitStack()

    def __enter__(self) -> Chromium:
        with contextlib.ExitStack() as stack:
            profile = stack.enter_context(tempfile.TemporaryDirectory(prefix="ita-chromium-",
                                                                         ignore_cleanup_errors=True))
            chromium = shutil.which("chromium") or "chromium"
            # --no-proxy-server: straight to the forward, as fetch() in the tests goes.
            argv = [chromium, *BASE_FLAGS, "--no-proxy-server", "--window-size=1280,800",
                    f"--user-data-dir={profile}", "--remote-debugging-port=0", "about:blank"]
            process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                       start_new_session=True)  # its helpers in its group, to end with it
            stack.callback(stop, process)
            port, path = devtools_address(Path(profile), process)
            self._devtools = stack.enter_context(connect(f"ws://127.0.0.1:{port}{path}", max_size=None,
                                                         open_timeout=START_BOUND))
            target = self._call("Target.createTarget", url="about:blank")["targetId"]
            self._session = self._call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
            self._stack = stack.pop_all()  # started: ended by __exit__
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self._stack.close()

    def navigate(self, url: str) -> None:
        self._call("Page.navigate", url=url)

    def evaluate(self, expression: str) -> Any:
        """The expression's value in the page; None while there is no page to ask (between two documents)."""
        answer = self._call("Runtime.evaluate", check=False, expression=expression, returnByValue=True)
        if "result" not in answer or "exceptionDetails" in answer:
            return None
        return answer["result"].get("value")

    def wait(self, expression: str, timeout: float, what: str) -> Any:
        deadline = time.monotonic() + timeout
        while not (value := self.evaluate(expression)):
            assert time.monotonic() < deadline, (
                f"{what}: not within {timeout:.0f} s at {self.evaluate('location.href')}:\n"
                f"{self.evaluate('document.body && document.body.innerText.slice(0, 2000)')}")
            time.sleep(0.2)
        return value

    def type_text(self, text: str) -> None:
        """Type into the focused element."""
        self._call("Input.insertText", text=text)

    def _call(self, method: str, check: bool = True, **params: Any) -> dict[str, Any]:
        """Send one command (to the tab once attached) and return its result; events in between are dropped."""
        assert self._devtools is not None
        number = next(self._ids)
        message: dict[str, Any] = {"id": number, "method": method, "params": params}
        if self._session:
            message["sessionId"] = self._session
        self._devtools.send(json.dumps(message))
        while True:
            answer = json.loads(self._devtools.recv(timeout=START_BOUND))
            if answer.get("id") == number:
                assert not check or "error" not in answer, f"{method}: {answer}"
                result: dict[str, Any] = answer.get("result", {})
                return result


def devtools_address(profile: Path, process: subprocess.Popen[bytes]) -> tuple[str, str]:
    """Where Chromium's DevTools listen: it writes the port, then the browser's path, into the profile."""
    written = profile / "DevToolsActivePort"
    deadline = time.monotonic() + START_BOUND
    while len(lines := (written.read_text().splitlines() if written.exists() else [])) < 2:
        assert process.poll() is None, "chromium exited at start"
        assert time.monotonic() < deadline, f"chromium opened no DevTools port within {START_BOUND:.0f} s"
        time.sleep(0.05)
    return lines[0], lines[1]


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)
    with contextlib.suppress(ProcessLookupError):  # a renderer or zygote still exiting
        os.killpg(process.pid, signal.SIGKILL)
