"""The iTerm2 frontend, run as a real client process against the fake iTerm2 server.

Each test starts the fake on a thread, then ``tests/iterm2_client.py`` in a subprocess (the iterm2
library keeps global state), and waits for what it prints. Waits have generous timeouts and are
never the pass condition themselves.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.client_process import WAIT, ClientProcess
from tests.fake_iterm2 import FakeITerm2, FakeRPCError, FakeSession, Terminal, parse_invocation

CLIENT = Path(__file__).with_name("iterm2_client.py")

SSH_CONTEXT = {"jobName": "ssh", "commandLine": "ssh -p 2222 alice@wheeler"}


def jupyter_url(token: str = "a" * 48) -> str:
    return f"    http://localhost:8888/lab?token={token}"


# ------------------------------------------------------------------------------ harness


class Client(ClientProcess):
    """tests/iterm2_client.py (the frontend with a JSON-lines sink) in a subprocess."""

    def __init__(self, fake: FakeITerm2, home: str, *args: str) -> None:
        super().__init__(fake, home, [sys.executable, str(CLIENT), *args])

    def lines(self, session: FakeSession) -> list[str]:
        with self._changed:
            return [line for r in self.records if r.get("session") == session.session_id for line in r["lines"]]

    def wait_lines(self, session: FakeSession, count: int) -> list[str]:
        def enough() -> list[str] | None:
            lines = self.lines(session)
            return lines if len(lines) >= count else None

        return self.wait_for(enough, f"{count} lines from {session.session_id}")

    def contexts(self, session: FakeSession) -> list[dict[str, Any]]:
        with self._changed:
            return [r["context"] for r in self.records if r.get("session") == session.session_id]


@pytest.fixture
def start_client(fake: FakeITerm2, home: str) -> Iterator[Callable[..., Client]]:
    clients: list[Client] = []

    def start(*sessions: FakeSession) -> Client:
        """Start the frontend and wait until it has read each of ``sessions`` once."""
        client = Client(fake, home)
        clients.append(client)
        wait_until_read(fake, client, *sessions)
        return client

    yield start
    for client in clients:
        client.stop()


def wait_until_read(fake: FakeITerm2, client: ClientProcess, *sessions: FakeSession) -> None:
    """The client has read each session's screen once: what is written from now on is new to it."""
    deadline = time.monotonic() + WAIT
    while not all(fake.call(_screen_reads(s)) > 0 for s in sessions):
        if time.monotonic() > deadline or client.proc.poll() is not None:
            raise AssertionError(f"the client did not read the sessions\nlog:\n{client.log_text()}")
        time.sleep(0.02)


async def _screen_reads(session: FakeSession) -> int:
    return session.screen_reads


def numbered(prefix: str, count: int, start: int = 0) -> list[str]:
    return [f"{prefix} {i:05d}" for i in range(start, start + count)]


def output(lines: list[str]) -> bytes:
    return "".join(line + "\r\n" for line in lines).encode()


# ------------------------------------------------------------------------------ lines


def test_url_line_in_existing_session(fake: FakeITerm2, start_client: Callable[..., Client]) -> None:
    session = fake.add_session(variables=SSH_CONTEXT)
    # Already on the screen when the frontend starts: it reads the screen, not older history.
    session.write(output(["[I 10:00:00 ServerApp] Jupyter Server is running at:", jupyter_url("1" * 48)]))
    client = start_client(session)
    session.write(output([jupyter_url("2" * 48)]))
    assert client.wait_lines(session, 3) == [
        "[I 10:00:00 ServerApp] Jupyter Server is running at:",
        jupyter_url("1" * 48),
        jupyter_url("2" * 48),
    ]


def test_url_line_in_session_created_later(fake: FakeITerm2, start_client: Callable[..., Client]) -> None:
    first = fake.add_session()
    client = start_client(first)
    later = fake.add_session(variables=SSH_CONTEXT)
    later.write(output(["$ jupyter lab --no-browser", jupyter_url()]))
    assert client.wait_lines(later, 2) == ["$ jupyter lab --no-browser", jupyter_url()]
    assert client.lines(first) == []


def test_line_wrapped_over_three_rows_arrives_as_one(fake: FakeITerm2, start_client: Callable[..., Client]) -> None:
    session = fake.add_session(rows=10, columns=40)
    client = start_client(session)
    url = "    http://localhost:8888/lab?token=" + "0123456789abcdef" * 5  # 116 characters
    session.write(output([url, "next"]))
    assert client.wait_lines(session, 2) == [url, "next"]
    assert [(r.text, r.soft) for r in session.terminal.lines(0, 3)] == [
        (url[:40], True),
        (url[40:80], True),
        (url[80:], False),
    ]


def test_line_pushed_into_history_before_the_next_update(fake: FakeITerm2, start_client: Callable[..., Client]) -> None:
    session = fake.add_session(scrollback=10_000)
    client = start_client(session)
    flood = numbered("log", 5000)
    with fake.updates_held():
        session.write(output([jupyter_url()]))
        session.write(output(flood))
    lines = client.wait_lines(session, 5001)
    assert lines == [jupyter_url(), *flood]


def test_scrollback_overflow_is_reported_and_the_rest_arrives_once(
    fake: FakeITerm2, start_client: Callable[..., Client]
) -> None:
    session = fake.add_session(rows=24, scrollback=100)
    client = start_client(session)
    with fake.updates_held():
        session.write(output(numbered("L", 1000)))
    # 1000 lines and the cursor row: 23 lines on the screen, 100 in history, 877 dropped.
    lines = client.wait_lines(session, 123)
    assert lines == numbered("L", 123, start=877)
    assert client.wait_for(lambda: re.search(r"WARNING .*877 lines were lost", client.log_text()), "loss warning")
    session.write(output(["after"]))
    assert client.wait_lines(session, 124)[-1] == "after"


def test_fifty_sessions_each_get_their_own_lines(fake: FakeITerm2, start_client: Callable[..., Client]) -> None:
    sessions = [fake.add_session(rows=10, columns=60) for _ in range(50)]
    client = start_client(*sessions)
    for i, session in enumerate(sessions):
        session.write(output(numbered(f"s{i}", 3)))
    for i, session in enumerate(sessions):
        assert client.wait_lines(session, 3) == numbered(f"s{i}", 3)


def test_partial_line_waits_for_its_end(fake: FakeITerm2, start_client: Callable[..., Client]) -> None:
    session = fake.add_session(columns=40)
    client = start_client(session)
    reads = fake.call(_screen_reads(session))
    session.write(b"    http://localhost:8888/lab?tok")  # the program has not finished the line
    deadline = time.monotonic() + WAIT
    while fake.call(_screen_reads(session)) == reads:  # the client has seen the half line
        assert time.monotonic() < deadline
        time.sleep(0.02)
    session.write(b"en=abc\r\nnext\r\n")
    assert client.wait_lines(session, 2) == ["    http://localhost:8888/lab?token=abc", "next"]


@pytest.mark.parametrize("legacy", [False, True], ids=["iterm2-defaults", "legacy-fake"])
def test_full_screen_program_repaints_are_read(home: str, legacy: bool) -> None:
    # tmux draws on the alternate screen. With iTerm2's defaults what scrolls off it enters the
    # history (KEY_SCROLLBACK_IN_ALTERNATE_SCREEN YES, iTermProfilePreferences.m; VT100ScreenMutableState.m
    # appendLineFeed); the legacy fake drops it. Either way the URL is read once.
    with FakeITerm2(home, legacy=legacy).running() as fake:
        session = fake.add_session(rows=10, columns=80)
        client = Client(fake, home)
        try:
            wait_until_read(fake, client, session)
            _alternate_screen_scrolls(fake, session, client)
        finally:
            client.stop()
        assert session.terminal.history_size == (0 if legacy else 18)


def _alternate_screen_scrolls(fake: FakeITerm2, session: FakeSession, client: Client) -> None:
    session.write(b"\x1b[?1049h")
    session.write(output(numbered("tmux", 20)))
    session.write(output([jupyter_url()]))
    session.write(output(numbered("tmux", 5, start=20)))
    client.wait_for(lambda: jupyter_url() in client.lines(session), "the URL drawn on the alternate screen")
    client.wait_for(lambda: "tmux 00024" in client.lines(session), "the last line")
    assert client.lines(session).count(jupyter_url()) == 1


def test_leaving_a_full_screen_program_repeats_nothing(fake: FakeITerm2, start_client: Callable[..., Client]) -> None:
    session = fake.add_session(rows=10)
    client = start_client(session)
    session.write(output(numbered("shell", 5)))
    client.wait_lines(session, 5)
    session.write(b"\x1b[?1049h\x1b[H" + output(numbered("vim", 9)))  # vim draws its screen
    client.wait_for(lambda: "vim 00008" in client.lines(session), "the full-screen program's rows")
    session.write(b"\x1b[?1049l")  # vim exits: the shell's screen is back, cursor on row 5
    session.write(output(["after 1", "after 2"]))
    lines = client.wait_lines(session, 5 + 9 + 2)
    assert lines == numbered("shell", 5) + numbered("vim", 9) + ["after 1", "after 2"]


@pytest.mark.parametrize("keeps_numbering", [True, False], ids=["numbers-kept", "numbers-restart"])
def test_scrollback_clear_neither_repeats_nor_loses(home: str, keeps_numbering: bool) -> None:
    with FakeITerm2(home, clear_keeps_numbering=keeps_numbering).running() as fake:
        session = fake.add_session(rows=5, scrollback=1000)
        client = Client(fake, home)
        try:
            wait_until_read(fake, client, session)
            session.write(output(numbered("before", 20)))
            client.wait_lines(session, 20)
            session.write(b"\x1b[3J")  # clear scrollback, screen stays
            session.write(output(numbered("after", 3)))
            lines = client.wait_lines(session, 23)
            assert lines == numbered("before", 20) + numbered("after", 3)
            assert "was lost" not in client.log_text()
        finally:
            client.stop()


# ------------------------------------------------------------------------------ context and lifecycle


def test_context_comes_with_the_lines_and_follows_variable_changes(
    fake: FakeITerm2, start_client: Callable[..., Client]
) -> None:
    session = fake.add_session(variables=SSH_CONTEXT)
    client = start_client(session)
    session.write(output(["first"]))
    client.wait_lines(session, 1)
    context = client.contexts(session)[-1]
    assert context["job_name"] == "ssh"
    assert context["command_line"] == "ssh -p 2222 alice@wheeler"
    assert context["session_id"] == session.session_id

    # The user leaves ssh and types another ssh command: iTerm2 updates the job variables.
    session.set_variables({"jobName": "ssh", "commandLine": "ssh bob@lovelace"})
    session.write(output(["second"]))
    client.wait_lines(session, 2)
    assert client.contexts(session)[-1]["command_line"] == "ssh bob@lovelace"

    # A remote program sets a user variable (OSC 1337 SetUserVar); user.* has no change monitor,
    # so it shows up with lines handed over after the frontend re-reads the variables.
    encoded = base64.b64encode(b"8889").decode()
    session.write(f"\x1b]1337;SetUserVar=jupyterPort={encoded}\x07".encode())
    deadline = time.monotonic() + WAIT
    while client.contexts(session)[-1]["user_vars"].get("jupyterPort") != "8889":
        assert time.monotonic() < deadline, f"user var not delivered: {client.contexts(session)[-1]}"
        session.write(output(["tick"]))
        time.sleep(0.2)


def test_closed_session_is_ended_and_its_reader_is_gone(fake: FakeITerm2, start_client: Callable[..., Client]) -> None:
    staying = fake.add_session()
    leaving = fake.add_session()
    client = start_client(staying, leaving)
    leaving.write(output(["bye"]))
    client.wait_lines(leaving, 1)
    fake.close_session(leaving)
    ended = client.wait_for(
        lambda: next((r for r in client.records if r.get("ended") == leaving.session_id), None), "session_ended"
    )
    assert not any(leaving.session_id in name for name in ended["reader_tasks"])
    assert any(staying.session_id in name for name in ended["reader_tasks"])
    staying.write(output(["still watched"]))
    assert client.wait_lines(staying, 1) == ["still watched"]
    assert sum(1 for r in client.records if "ended" in r) == 1


def test_client_exits_promptly_when_the_connection_drops(fake: FakeITerm2, start_client: Callable[..., Client]) -> None:
    sessions = [fake.add_session() for _ in range(3)]
    client = start_client(*sessions)
    assert fake.drop_connections() == 1
    dropped = time.monotonic()
    code = client.proc.wait(WAIT)
    elapsed = time.monotonic() - dropped
    assert elapsed < 2.0, f"exited {elapsed:.2f}s after the drop"
    assert code == 0


def test_client_without_iterm2_fails_fast(home: str) -> None:
    # No server, no socket: the library falls back to TCP :1912, which is refused.
    env = dict(os.environ, HOME=home, ITERM2_COOKIE="x")
    result = subprocess.run([sys.executable, str(CLIENT)], env=env, capture_output=True, text=True, timeout=WAIT)
    assert result.returncode == 1
    assert "cannot connect to iTerm2" in result.stderr


# ------------------------------------------------------------------------------ the fake itself


def test_fake_terminal_marks_wrapped_rows_soft() -> None:
    term = Terminal(rows=4, columns=10, scrollback=100)
    term.write(b"0123456789\r\n")  # exactly fills the row: no wrap, hard EOL
    term.write(b"abcdefghijKLM\r\n")  # wraps once
    assert [(line.text, line.soft) for line in term.lines(0, 4)] == [
        ("0123456789", False),
        ("abcdefghij", True),
        ("KLM", False),
        ("", False),
    ]
    assert term.cursor() == (0, 3)
    term.write(b"0123456789")
    assert term.cursor() == (10, 3)  # wrap pending: the cursor sits past the last column


def test_fake_terminal_numbers_lines_absolutely_through_overflow() -> None:
    term = Terminal(rows=3, columns=20, scrollback=5)
    term.write(output(numbered("n", 10)))
    # 10 lines and the cursor row = 11 rows: 3 on the screen, 5 in history, 3 dropped.
    assert (term.overflow, term.history_size, term.screen_top) == (3, 5, 8)
    assert [line.number for line in term.lines(0, 100)] == list(range(3, 11))
    assert term.lines(3, 4)[0].text == "n 00003"
    assert term.lines(8, 9)[0].text == "n 00008"  # first screen row
    assert term.lines(0, 3) == []  # dropped lines are silently omitted, as iTerm2 does


def test_fake_terminal_alternate_screen_and_clear_legacy() -> None:
    term = Terminal(rows=3, columns=20, scrollback=100, legacy=True)
    term.write(output(["shell"]))
    term.write(b"\x1b[?1049h" + output(numbered("alt", 10)))
    assert term.history_size == 0
    term.write(b"\x1b[?1049l")
    assert [line.text for line in term.screen()] == ["shell", "", ""]
    term.write(b"\x1b[H\x1b[2J")  # `clear`: iTerm2 keeps the cleared text in scrollback
    assert [line.text for line in term.lines(0, 1)] == ["shell"]
    term.write(b"\x1b[3J")
    assert term.history_size == 0 and term.screen_top == 1  # numbering kept


def test_fake_serves_what_the_library_expects(fake: FakeITerm2, home: str) -> None:
    session = fake.add_session(rows=4, columns=10, scrollback=3, variables={"jobName": "ssh"})
    session.write(output(["one", "two", "abcdefghijKLM", "four", "five"]))
    env = dict(os.environ, HOME=home, ITERM2_COOKIE=fake.issue_cookie())
    result = subprocess.run(
        [sys.executable, str(CLIENT), "probe", session.session_id],
        env=env,
        capture_output=True,
        text=True,
        timeout=WAIT,
    )
    assert result.returncode == 0, result.stderr
    probe = json.loads(result.stdout)
    # 7 rows: one, two, abcdefghij, KLM, four, five, cursor row. Screen: last 4; history: 3; lost: 0.
    assert (probe["grid"], probe["history"], probe["overflow"]) == (4, 3, 0)
    assert probe["rows"] == [
        ["one", True],
        ["two", True],
        ["abcdefghij", False],
        ["KLM", True],
        ["four", True],
        ["five", True],
        ["", True],
    ]
    assert probe["screen_top"] == 3
    assert probe["cursor"] == [0, 6]
    assert probe["job"] == "ssh"


def test_fake_serves_functions_alerts_popovers_and_injection(fake: FakeITerm2, home: str) -> None:
    session = fake.add_session()
    fake.alert_button = 1
    client = Client(fake, home, "api", session.session_id)
    try:
        report = client.wait_for(lambda: next((r for r in client.records if r.get("ready")), None), "the API tour")
        assert report == {
            "ready": True,
            "button": 1001,  # 1000 + the index of the button the fake "clicked"
            "first_row": "injected",
            "tunnel": "8888",
            "set_error": "INVALID_NAME",  # scripts may set user.* variables only
        }
        assert fake.alerts[0].arguments["title"] == "Open the tunnel?"
        assert fake.alerts[0].arguments["buttons"] == ["Open", "Ignore"]
        assert [(p.identifier, p.html) for p in fake.popovers] == [
            ("com.example.iterm2-autolaunch.tunnels", "<p>wheeler:8888</p>")
        ]
        assert fake.call(fake.invoke_rpc("double", value=21)) == 42
        with pytest.raises(FakeRPCError, match="negative"):
            fake.call(fake.invoke_rpc("double", value=-1))
        with pytest.raises(FakeRPCError, match="No function registered"):
            fake.call(fake.invoke_rpc("triple", value=1))
        fake.drop_connections()
        assert client.proc.wait(WAIT) == 0
    finally:
        client.stop()


def test_fake_coalesces_screen_updates(fake: FakeITerm2, start_client: Callable[..., Client]) -> None:
    session = fake.add_session()
    start_client(session)

    async def burst() -> int:
        # 200 writes within a few milliseconds: subscribers hear about them once or twice.
        before = session.updates_posted
        for i in range(200):
            session.write(output([f"burst {i}"]))
            await asyncio.sleep(0)
        await fake.wait_for(lambda: session.updates_posted > before)
        await asyncio.sleep(3 * fake.refresh_interval)
        return session.updates_posted - before

    assert 1 <= fake.call(burst()) <= 3


def test_parse_invocation() -> None:
    assert parse_invocation('iterm2.alert(title: "Tunnel \\"up\\"", buttons: ["OK", "No"], window_id: null)') == (
        "iterm2.alert",
        {"title": 'Tunnel "up"', "buttons": ["OK", "No"], "window_id": None},
    )
    name, arguments = parse_invocation("open_tunnel(session: id, port: 8888)")
    assert name == "open_tunnel" and arguments["port"] == 8888 and arguments["session"].path == "id"
