"""Pages in iTerm2's built-in browser: the real frontend, engine and ``Iterm2Panes`` in a real iterm2-library
client process, against the fake iTerm2's split pane / create tab / ``iterm2.load_url`` (tests/fake_iterm2/
browser.py, after iTermAPIHelper.m and PTYSession.m ``loadURLWithCompletion:url:connectionKey:``).

What a user sees: the notebook opens beside the session that printed the banner (or in a tab of its window),
one pane per server, reused when the server comes back; a stopped server is named so in its pane (or the
pane closes); and when iTerm2 cannot show it (too old, no Browser Plugin, the user said no), the system
browser opens it instead, with one notification saying why and no second question.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from tests.client_process import WAIT, ClientProcess
from tests.fake_iterm2 import FakeITerm2, FakeSession
from tests.test_engine import JUPYTER_STOP, jupyter_start
from tests.test_iterm2_frontend import SSH_CONTEXT, wait_until_read

ROOT = Path(__file__).resolve().parent.parent
T = TypeVar("T")


class PaneClient(ClientProcess):
    def __init__(self, fake: FakeITerm2, home: str, config: str) -> None:
        super().__init__(fake, home, [sys.executable, "-m", "tests.iterm2_pane_client", config], cwd=ROOT)

    def eventually(self, check: Callable[[], T | None], what: str) -> T:
        deadline = time.monotonic() + WAIT
        while True:
            result = check()
            if result:
                return result
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise AssertionError(f"timed out waiting for {what} (last: {result!r})\nlog:\n{self.log_text()}")
            time.sleep(0.02)


@pytest.fixture
def start_client(fake: FakeITerm2, home: str) -> Iterator[Callable[..., PaneClient]]:
    clients: list[PaneClient] = []

    def start(config: str, *sessions: FakeSession) -> PaneClient:
        client = PaneClient(fake, home, config)
        clients.append(client)
        client.wait_for(lambda: client.last("ready"), "the client to be ready")
        wait_until_read(fake, client, *sessions)
        return client

    yield start
    for client in clients:
        client.stop()


def banner(session: FakeSession, port: int = 8888, token: str = "abc123") -> None:
    session.write("".join(line + "\r\n" for line in jupyter_start(port=port, token=token)))


def browser_panes(fake: FakeITerm2) -> list[FakeSession]:
    return [s for s in fake.sessions() if s.browser]


def listed(fake: FakeITerm2) -> list[dict[str, Any]]:
    return json.loads(fake.call(fake.invoke_rpc("test_list")))


def test_split_opens_the_notebook_beside_its_session_and_reuses_the_pane_when_it_comes_back(
    fake: FakeITerm2, start_client: Callable[..., PaneClient]
) -> None:
    session = fake.add_session(variables=SSH_CONTEXT)
    client = start_client('browser = "iterm2-split"', session)
    banner(session, token="first")
    pane = client.eventually(lambda: next((p for p in browser_panes(fake) if p.loaded_urls), None), "a browser pane")
    assert pane.split_from == (session.session_id, True, False)  # vertical divider, to the right of the session
    assert pane.tab is session.tab
    assert pane.loaded_urls == ["http://localhost:40000/lab?token=first"]  # the local forward, with the token
    assert fake.load_url_questions == ["localhost"]  # iTerm2 asked once about the domain
    client.eventually(lambda: "pane" in listed(fake)[0]["browser"], "`list` to say where it is open")
    assert listed(fake)[0]["browser"] == f"iterm2-split pane {pane.session_id}"
    assert client.last("opened") is None, "the system browser opened it too"

    session.write("".join(line + "\r\n" for line in JUPYTER_STOP))
    client.eventually(lambda: "stopped" in pane.variables["name"], "the pane to say the server stopped")
    assert not pane.closed

    banner(session, token="second")  # the same server again on the same port: the same pane
    client.eventually(lambda: len(pane.loaded_urls) == 2, "the pane to load the new URL")
    assert pane.loaded_urls[1] == "http://localhost:40001/lab?token=second"
    client.eventually(lambda: "stopped" not in pane.variables["name"], "the pane's name without 'stopped'")
    assert browser_panes(fake) == [pane]
    assert fake.load_url_questions == ["localhost"]


def test_tab_opens_in_the_same_window_and_close_browser_pane_closes_it_with_the_server(
    fake: FakeITerm2, start_client: Callable[..., PaneClient]
) -> None:
    session = fake.add_session(variables=SSH_CONTEXT)
    client = start_client('browser = "iterm2-tab"\nclose_browser_pane = true', session)
    banner(session)
    pane = client.eventually(lambda: next((p for p in browser_panes(fake) if p.loaded_urls), None), "a browser tab")
    assert pane.tab is not None and session.tab is not None
    assert pane.tab is not session.tab and pane.tab.window is session.tab.window
    assert pane.split_from is None
    session.write("".join(line + "\r\n" for line in JUPYTER_STOP))
    client.eventually(lambda: pane.closed or pane.closing is not None, "the pane to close with its server")


def test_closing_the_pane_by_hand_keeps_the_forward_and_the_next_open_gets_a_new_pane(
    fake: FakeITerm2, start_client: Callable[..., PaneClient]
) -> None:
    session = fake.add_session(variables=SSH_CONTEXT)
    client = start_client('browser = "iterm2-split"', session)
    banner(session)
    pane = client.eventually(lambda: next((p for p in browser_panes(fake) if p.loaded_urls), None), "a browser pane")
    fake.close_session(pane)  # the user closes it (undoable; TERMINATE_SESSION comes 5 s later)
    fake.call(fake.wait_for(lambda: pane.closing is not None))
    time.sleep(0.5)  # what a wrong close would do has had time to happen
    assert client.last("forwards") == [False] and len(listed(fake)) == 1  # the forward lives on

    session.write("".join(line + "\r\n" for line in JUPYTER_STOP))  # the server restarts: a new pane
    banner(session, token="again")
    fresh = client.eventually(
        lambda: next((p for p in browser_panes(fake) if p is not pane and p.loaded_urls), None), "a new pane")
    assert fresh.loaded_urls == ["http://localhost:40001/lab?token=again"] and fresh.split_from is not None


def test_when_its_session_ends_the_pane_says_so_and_stays(
    fake: FakeITerm2, start_client: Callable[..., PaneClient]
) -> None:
    session = fake.add_session(variables=SSH_CONTEXT)
    client = start_client('browser = "iterm2-split"', session)
    banner(session)
    pane = client.eventually(lambda: next((p for p in browser_panes(fake) if p.loaded_urls), None), "a browser pane")
    fake.close_session(session, undoable=False)  # ssh exited and the profile closes the session
    client.eventually(lambda: "stopped (session ended)" in pane.variables["name"], "the pane to say why")
    # the engine reports its forwards after the close finished, which may be a moment after the pane heard
    client.eventually(lambda: client.last("forwards") == [True], "the forward to be closed")
    assert not pane.closed


@pytest.mark.parametrize(
    ("setup", "why"),
    [
        pytest.param({"protocol_version": "1.11"}, "too old", id="iterm2-3.6-protocol-1.11"),
        pytest.param({"browser_plugin": False}, "Browser Plugin", id="no-browser-plugin"),
        pytest.param({"load_url_answer": "Cancel"}, "declined", id="user-refuses-localhost"),
    ],
)
def test_when_iterm2_cannot_show_it_the_system_browser_does_and_says_why_once(
    home: str, start_client: Callable[..., PaneClient], setup: dict[str, Any], why: str
) -> None:
    with FakeITerm2(home, protocol_version=setup.get("protocol_version", "1.23")).running() as fake:
        fake.browser_plugin = setup.get("browser_plugin", True)
        fake.load_url_answer = setup.get("load_url_answer", "OK")
        session = fake.add_session(variables=SSH_CONTEXT)
        client = PaneClient(fake, home, 'browser = "iterm2-split"')
        try:
            client.wait_for(lambda: client.last("ready"), "the client to be ready")
            wait_until_read(fake, client, session)
            banner(session, port=8888)
            opened = client.wait_for(lambda: client.last("opened"), "the system browser to open it")
            assert opened == ["http://localhost:40000/lab?token=abc123"]
            banner(session, port=8889)  # a second server: straight to the system browser, nothing asked again
            client.wait_for(lambda: len(client.last("opened") or []) == 2, "the second page")
            notes = client.last("notes")
            assert len(notes) == 1 and why in notes[0][1], notes
            assert len(fake.load_url_questions) <= 1
            assert all(not p.loaded_urls for p in browser_panes(fake))
            assert [p for p in browser_panes(fake) if not (p.closed or p.closing)] == [], "an empty pane was left"
            assert "token=abc123" not in client.log_text()
        finally:
            client.stop()


def test_a_terminal_session_refuses_load_url_as_iterm2_does(fake: FakeITerm2, home: str) -> None:
    """The fake's own oracle, through the library's Session.async_load_url: PTYSession.m's error 1 on a
    terminal session, and the library's gate (capabilities.supports_load_url) on protocol 1.12."""
    session = fake.add_session()
    script = (
        "import json, iterm2\n"
        "async def main(connection):\n"
        "    app = await iterm2.async_get_app(connection)\n"
        f"    session = app.get_session_by_id({session.session_id!r})\n"
        "    try:\n"
        "        await session.async_load_url('http://localhost:1/')\n"
        "    except iterm2.rpc.RPCException as error:\n"
        "        print(json.dumps({'error': str(error)}))\n"
        "iterm2.Connection().run_until_complete(main, retry=False)\n"
    )
    client = ClientProcess(fake, home, [sys.executable, "-c", script])
    try:
        error = client.wait_for(lambda: client.last("error"), "the library's error")
    finally:
        client.stop()
    assert error == "FAILED: load_url is only supported in browser sessions"
