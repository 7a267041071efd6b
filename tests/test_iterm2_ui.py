"""The iTerm2 UI (status bar, badge variable, key-binding functions, notifications), end to end.

Each test runs tests/iterm2_ui_client.py (the real iterm2 library, frontend, engine and UI, with the
fake remote side of test_engine.py) in a subprocess against the fake iTerm2, writes server output into
a fake session, and checks what a user would see: the component's text as iTerm2 renders it, the
session's badge variable, the popover, the notification escape sequences. Waits poll with timeouts;
a timeout is never the pass condition.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, TypeVar

import pytest

from iterm2_autolaunch.frontends.iterm2_ui import APP_VARIABLE, COMPONENT_ID, SESSION_VARIABLE
from tests.client_process import WAIT, ClientProcess
from tests.fake_iterm2 import FakeITerm2, FakeSession, parse_invocation
from tests.test_engine import jupyter_start
from tests.test_iterm2_frontend import SSH_CONTEXT, wait_until_read

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "5ecre7" * 8
ON_CLICK = "__" + COMPONENT_ID.replace(".", "_").replace("-", "_") + "__on_click"
T = TypeVar("T")


# ------------------------------------------------------------------------------ harness


class UiClient(ClientProcess):
    """tests/iterm2_ui_client.py (frontend, engine with fake effects, and the UI) in a subprocess."""

    def __init__(self, fake: FakeITerm2, home: str) -> None:
        super().__init__(fake, home, [sys.executable, "-m", "tests.iterm2_ui_client"], cwd=ROOT)

    def eventually(self, check: Callable[[], T | None], what: str) -> T:
        """Poll fake-side state until ``check()`` is truthy; fail with the client's log."""
        deadline = time.monotonic() + WAIT
        while True:
            result = check()
            if result:
                return result
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise AssertionError(f"timed out waiting for {what} (last: {result!r})\nlog:\n{self.log_text()}")
            time.sleep(0.02)


@pytest.fixture
def start_ui_client(fake: FakeITerm2, home: str) -> Iterator[Callable[..., UiClient]]:
    clients: list[UiClient] = []

    def start(*sessions: FakeSession) -> UiClient:
        client = UiClient(fake, home)
        clients.append(client)
        client.wait_for(lambda: client.last("ready"), "the UI client to be ready")
        wait_until_read(fake, client, *sessions)
        return client

    yield start
    for client in clients:
        client.stop()


def invoke(fake: FakeITerm2, name: str, **arguments: Any) -> Any:
    """Call a registered function as a key binding (or a popover button) makes iTerm2 do."""
    return fake.call(fake.invoke_rpc(name, **arguments))


def status_text(fake: FakeITerm2, session: FakeSession) -> Any:
    """Render the component in ``session``'s status bar as iTerm2 does: knobs, then each reference
    resolved in the session's scope (``iterm2.`` reaches the app's variables; ``?`` = optional)."""

    async def render() -> Any:
        registration = fake.status_bar_components[COMPONENT_ID]
        arguments: dict[str, Any] = {"knobs": json.dumps({})}
        for default in registration.defaults:
            path = default.path.rstrip("?")
            scope = fake.app_variables if path.startswith("iterm2.") else session.variables
            arguments[default.name] = scope.get(path.removeprefix("iterm2."))
        return await fake.invoke_rpc(registration.name, **arguments)

    return fake.call(render())


def app_variable(fake: FakeITerm2, name: str) -> Any:
    async def read() -> Any:
        return fake.app_variables.get(name)

    return fake.call(read())


def session_variable(fake: FakeITerm2, session: FakeSession, name: str) -> Any:
    async def read() -> Any:
        return session.variables.get(name)

    return fake.call(read())


def osc_spy(fake: FakeITerm2, session: FakeSession) -> list[str]:
    """The bodies of the OSC sequences the session's terminal receives (the fake keeps no record of
    OSC 9, which iTerm2 turns into a desktop notification)."""
    bodies: list[str] = []

    async def install() -> None:
        original = session.terminal.on_osc

        def record(body: str) -> None:
            bodies.append(body)
            if original is not None:
                original(body)

        session.terminal.on_osc = record

    fake.call(install())
    return bodies


def notifications(bodies: list[str]) -> list[str]:
    return [body[2:] for body in list(bodies) if body.startswith("9;")]


class Buttons(HTMLParser):
    """The popover's buttons: label -> the invocation the page hands to iterm2Invoke."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.invocations: list[tuple[str, str]] = []
        self._current: str | None = None
        self.feed(page)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "button":
            self._current = dict(attrs).get("data-invoke")

    def handle_data(self, data: str) -> None:
        if self._current is not None:
            self.invocations.append((data, self._current))
            self._current = None


def click(fake: FakeITerm2, page: str, label: str) -> Any:
    """What iTerm2 does when the page calls iterm2Invoke(invocation, callback) for that button."""
    invocation = next(call for text, call in Buttons(page).invocations if text == label)
    name, arguments = parse_invocation(invocation)
    return invoke(fake, name, **arguments)


def output(lines: list[str]) -> bytes:
    return "".join(line + "\r\n" for line in lines).encode()


def jupyter_with_query(port: int = 8888) -> list[str]:
    # A query after the token: "&" is screen text that must reach the page escaped.
    return jupyter_start(port, token=f"{TOKEN}&x=y")


# ------------------------------------------------------------------------------ tests


def test_status_bar_badge_and_popover_follow_a_forward(
    fake: FakeITerm2, start_ui_client: Callable[..., UiClient]
) -> None:
    other = fake.add_session()
    session = fake.add_session(variables=SSH_CONTEXT)
    # A remote program sets the title; iTerm2 shows it (and its name variables) as the session's name.
    session.set_variable("presentationName", "<b>evil</b> & 'co'")
    client = start_ui_client(other, session)
    assert client.eventually(lambda: status_text(fake, session) == "no forwards", "no forwards")
    assert client.eventually(lambda: app_variable(fake, APP_VARIABLE) == "no forwards", "the app variable")

    session.write(output(jupyter_with_query()))
    client.eventually(lambda: status_text(fake, session) == "1 Jupyter", "the component to read 1 Jupyter")
    assert status_text(fake, other) == "1 Jupyter"  # the component lists every forward, wherever shown
    client.eventually(lambda: app_variable(fake, APP_VARIABLE) == "1 Jupyter", "iTerm2's re-render trigger")
    badge = client.eventually(lambda: session_variable(fake, session, SESSION_VARIABLE), "the badge variable")
    assert badge == "http://localhost:40000/lab"
    assert session_variable(fake, other, SESSION_VARIABLE) is None
    opened = client.wait_for(lambda: client.last("opened"), "the browser to open")
    assert opened == [f"http://localhost:40000/lab?token={TOKEN}&x=y"]

    # Click the component in the other session's status bar.
    assert invoke(fake, ON_CLICK, session_id=other.session_id) is None
    popover = fake.popovers[-1]
    assert (popover.identifier, popover.session_id) == (COMPONENT_ID, other.session_id)
    page = popover.html
    assert TOKEN not in page
    for shown in ("Jupyter", "wheeler", "127.0.0.1:8888", "http://localhost:40000/lab?token=…&amp;x=y"):
        assert shown in page
    assert "&lt;b&gt;evil&lt;/b&gt; &amp; &#x27;co&#x27;" in page and "<b>evil" not in page
    assert [label for label, _ in Buttons(page).invocations] == ["Open", "Close", "Close all"]

    assert click(fake, page, "Open") == "opened http://localhost:40000/lab"
    assert client.wait_for(lambda: len(client.last("opened") or []) == 2, "the browser asked again")
    assert client.last("opened")[1] == f"http://localhost:40000/lab?token={TOKEN}&x=y"

    assert click(fake, page, "Close") == "closed http://localhost:40000/lab"
    assert status_text(fake, session) == "no forwards"
    client.eventually(lambda: app_variable(fake, APP_VARIABLE) == "no forwards", "the app variable reset")
    client.eventually(lambda: session_variable(fake, session, SESSION_VARIABLE) is None, "the badge cleared")
    client.wait_for(lambda: client.last("forwards") == [{"local_port": 40000, "closed": True}], "the forward closed")
    assert click(fake, page, "Open") == "that forward is gone"


def test_key_binding_functions_reopen_and_close_all(fake: FakeITerm2, start_ui_client: Callable[..., UiClient]) -> None:
    session = fake.add_session(variables=SSH_CONTEXT)
    client = start_ui_client(session)
    assert invoke(fake, "autolaunch_reopen_last") == "nothing to reopen"

    session.write(output(jupyter_start(8888, token=TOKEN)))
    client.wait_for(lambda: client.last("opened"), "the browser to open")
    session.write(output(["TensorBoard 2.21.0 at http://localhost:6006/ (Press CTRL+C to quit)"]))
    client.eventually(lambda: status_text(fake, session) == "1 Jupyter, 1 TensorBoard", "both forwards listed")
    # The badge keeps showing the session's Jupyter, not the TensorBoard that came later.
    jupyter_badge = "http://localhost:40000/lab"
    client.eventually(lambda: session_variable(fake, session, SESSION_VARIABLE) == jupyter_badge, "the badge")

    # The last server made ready is the TensorBoard (a dashboard: opened by default, kinds.py): "reopen"
    # opens it again.
    client.wait_for(lambda: (o := client.last("opened")) and len(o) == 2, "the TensorBoard to open")
    assert invoke(fake, "autolaunch_reopen_last") == "reopened http://localhost:40001/"
    opened = client.wait_for(lambda: (o := client.last("opened")) and len(o) == 3 and o, "a third open")
    assert opened == [f"http://localhost:40000/lab?token={TOKEN}", "http://localhost:40001/", "http://localhost:40001/"]

    assert invoke(fake, "autolaunch_close_all") == "closed 2 forwards"
    assert status_text(fake, session) == "no forwards"
    client.eventually(lambda: session_variable(fake, session, SESSION_VARIABLE) is None, "the badge cleared")
    client.eventually(lambda: app_variable(fake, APP_VARIABLE) == "no forwards", "the app variable reset")
    assert invoke(fake, "autolaunch_reopen_last") == "nothing to reopen"
    assert invoke(fake, "autolaunch_close_all") == "closed 0 forwards"

    # iTerm2 quits: the client shuts down (UI included) promptly and cleanly.
    fake.drop_connections()
    assert client.proc.wait(WAIT) == 0, client.log_text()


def test_notifications_are_osc9_in_the_session_they_concern(
    fake: FakeITerm2, start_ui_client: Callable[..., UiClient]
) -> None:
    focused = fake.add_session()  # the fake's "active" session: the first window's
    busy = fake.add_session(variables=SSH_CONTEXT)
    focused_osc, busy_osc = osc_spy(fake, focused), osc_spy(fake, busy)
    client = start_ui_client(focused, busy)

    # Nothing answers on 9999: the engine reports a failure about the busy session.
    busy.write(output(jupyter_start(9999, token=TOKEN)))
    note = client.eventually(lambda: notifications(busy_osc), "a notification in the busy session")
    assert len(note) == 1 and "jupyter on port 9999 did not answer" in note[0], note
    assert note[0].startswith(f"[{busy.session_id[:8]}]")
    assert TOKEN not in note[0]

    # Hostile text through the real path: control characters, a token, a would-be progress report.
    hostile = f"http://localhost:1/?token={TOKEN}\r\nok"
    assert invoke(fake, "test_notify", title="x\x1b]2;pwned\x07", message=hostile) == "ok"
    assert invoke(fake, "test_notify", title="4;3;50", message="") == "ok"
    shown = client.eventually(lambda: (n := notifications(focused_osc)) and len(n) == 2 and n, "two notifications")
    assert shown == ["x ]2;pwned : http://localhost:1/?token=… ok", "iterm2-autolaunch: 4;3;50"]
    assert session_variable(fake, focused, "terminalWindowName") is None  # no title was set by the text
    assert len(notifications(busy_osc)) == 1
    # A notification is not output: the frontend must not take it for lines (no OSC 9 text on screen).
    assert not any("pwned" in row for row in focused.text())


def test_stop_clears_what_was_shown(fake: FakeITerm2, start_ui_client: Callable[..., UiClient]) -> None:
    session = fake.add_session(variables=SSH_CONTEXT)
    client = start_ui_client(session)
    session.write(output(jupyter_start(8888, token=TOKEN)))
    client.eventually(lambda: session_variable(fake, session, SESSION_VARIABLE), "the badge variable")
    client.eventually(lambda: app_variable(fake, APP_VARIABLE) == "1 Jupyter", "the app variable")

    # The daemon stops while iTerm2 stays up (a script restart): engine shutdown, then ui.close().
    started = time.monotonic()
    assert invoke(fake, "test_stop") == "stopped"
    assert time.monotonic() - started < 5.0
    assert session_variable(fake, session, SESSION_VARIABLE) is None
    assert app_variable(fake, APP_VARIABLE) == "no forwards"
    assert invoke(fake, "autolaunch_close_all") == "iterm2-autolaunch is stopping"


def test_a_refused_registration_is_logged_and_the_rest_runs(
    fake: FakeITerm2, start_ui_client: Callable[..., UiClient]
) -> None:
    session = fake.add_session(variables=SSH_CONTEXT)
    first = start_ui_client(session)
    # A second copy: iTerm2 refuses the same function signatures twice.
    second = start_ui_client(session)
    second.wait_for(lambda: "could not register the popover's functions" in second.log_text(), "the refusals")
    log = second.log_text()
    for what in ("the status bar component", "autolaunch_reopen_last/autolaunch_close_all", "the popover's functions"):
        assert f"could not register {what} with iTerm2" in log
    assert second.proc.poll() is None

    # The second copy still works: it forwards, opens, and keeps the badge variable.
    session.write(output(jupyter_start(8888, token=TOKEN)))
    second.wait_for(lambda: second.last("opened"), "the second copy to open the browser")
    first.wait_for(lambda: first.last("opened"), "the first copy to open the browser")
    assert status_text(fake, session) == "1 Jupyter"  # the first copy's component
