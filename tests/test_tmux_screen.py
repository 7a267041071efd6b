"""Jupyter inside a remote tmux / GNU screen, reattaching to running servers, and iTerm2's tmux -CC panes.

The multiplexer tests run everything real but iTerm2: ``ssh -tt remote`` in a pty (a terminal window of
24 rows and 80 or 100 columns) into the namespace sshd of tests/remote_host.py; at the remote prompt we
type the tmux / screen command, which runs Jupyter inside the REMOTE multiplexer. The pty's raw bytes go
into a session of the fake iTerm2 of the same size (its terminal follows the cursor addressing, erasing,
scroll regions and alternate screen tmux emits for TERM=xterm-256color; each test checks the fake's
screen against tmux's own ``capture-pane`` or screen's ``hardcopy``), and the real frontend
(tests/iterm2_client.py) reads it. The lines it hands over are run through the Detector: one server,
announced once, with its real port and token, whatever the multiplexer redraws.

The reattach tests send what ``jupyter server list`` prints in an ssh session through the same path into
a real Engine with the real resolve, forward, probe and port choice; only the browser and the notifier
record instead of acting.
"""

from __future__ import annotations

import asyncio
import re
import shlex
import shutil
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from iterm2_autolaunch.config import Config
from iterm2_autolaunch.detect import Detector, Event
from iterm2_autolaunch.engine import Engine
from iterm2_autolaunch.frontends.panes import RecentTexts, ScreenScanner, looks_full_screen, pane_rows
from iterm2_autolaunch.interfaces import Effects
from iterm2_autolaunch.ports import choose_local_port
from iterm2_autolaunch.probe import probe
from iterm2_autolaunch.resolve import resolve_context
from iterm2_autolaunch.session import SessionContext
from iterm2_autolaunch.target import remote_forward_host
from iterm2_autolaunch.tunnels.registry import choose_backend
from tests.conftest import require
from tests.fake_iterm2 import FakeITerm2, FakeSession
from tests.remote_host import RemoteHost
from tests.test_iterm2_frontend import Client, wait_until_read
from tests.tmux_harness import PtyProgram, RemoteMux, wait_until

ROWS = 24
WAIT = 60.0  # Jupyter's start on a loaded 2-core machine; a passing test waits far less


# ------------------------------------------------------------------------------ harness


def announces(lines: list[str]) -> list[Event]:
    return [event for event in Detector().feed(lines) if event.event == "announce"]


@dataclass
class Watch:
    """A fake iTerm2 session showing ``ssh -tt remote`` in a pty, and the frontend reading it."""

    fake: FakeITerm2
    session: FakeSession
    client: Client
    mux: RemoteMux
    pty: PtyProgram

    def lines(self) -> list[str]:
        return self.client.lines(self.session)

    def screen(self) -> list[str]:
        async def rows() -> list[str]:
            return [line.text for line in self.session.terminal.screen()]

        return self.fake.call(rows())

    def in_alternate_screen(self) -> bool:
        async def alternate() -> bool:
            return self.session.terminal.in_alternate_screen

        return self.fake.call(alternate())

    def reads(self) -> int:
        async def count() -> int:
            return self.session.screen_reads

        return self.fake.call(count())

    def diagnostics(self) -> str:
        screen = "\n".join(f"{n:2} |{text}|" for n, text in enumerate(self.screen()))
        return f"screen:\n{screen}\nlines: {self.lines()[-20:]}\nlog:\n{self.client.log_text()[-3000:]}"

    def start_jupyter(self, port: int, *, before: str = "", split: bool = False) -> str:
        """Type the multiplexer command at the remote prompt, Jupyter inside; return its token once
        the frontend handed over its announcement."""
        program = f"{before}exec {self.mux.jupyter_command(port)}"
        self.pty.type(self.mux.start_command(program, split=split) + "\r")
        wait_until(lambda: self.mux.jupyter_token(port), "Jupyter's token", WAIT, detail=self.diagnostics)
        token = self.mux.jupyter_token(port)
        assert token is not None
        self.client.wait_for(lambda: announces(self.lines()), "the announcement", WAIT)
        return token

    def sync(self, target: str) -> None:
        """Type a unique word into the Jupyter pane (its tty echoes it) and wait until the frontend
        handed it over: everything drawn before has been read and handed over by then."""
        word = f"ita-sync-{time.monotonic_ns()}"
        self.mux.type_into(target, word)
        self.client.wait_for(lambda: any(word in line for line in self.lines()), f"the sync word {word}", WAIT)

    def step(self, action: Callable[[], object]) -> None:
        """Run ``action`` (a tmux command that redraws) and wait until the frontend read the result."""
        sent = len(self.pty.output())
        action()
        wait_until(lambda: len(self.pty.output()) > sent, "the redraw", WAIT, detail=self.diagnostics)
        reads = self.reads()
        self.session.write(b"")  # a screen update after what was drawn so far: the client reads again
        wait_until(lambda: self.reads() > reads, "a read of the redraw", WAIT, detail=self.diagnostics)

    def assert_one_server(self, port: int, token: str) -> None:
        lines = self.lines()
        events = announces(lines)
        assert [(e.kind, e.port, e.token) for e in events] == [("jupyter", port, token)], self.diagnostics()
        # Every URL line handed over exactly once, and never one cut short (a wrong token).
        url_lines = Counter(line for line in lines if "token=" in line)
        assert url_lines and all(count == 1 for count in url_lines.values()), url_lines
        assert set(re.findall(r"token=(\w+)", "\n".join(lines))) == {token}, url_lines

    def assert_fake_shows(self, snapshot: Callable[[], list[str]], x0: int = 0, x1: int | None = None) -> None:
        """The fake terminal's screen (columns x0..x1) shows what the multiplexer itself has (``snapshot``).

        Both are read afresh until they agree, for up to 5 s: Jupyter may still be writing, and a line that
        lands between the two reads scrolls one of them (jupyter_lsp logs "Skipped non-installed server(s)"
        about 100 ms after the banner, seen after the sync word in one CI run)."""

        def compared() -> tuple[list[str], list[str]]:
            expected = [row.rstrip() for row in snapshot()]
            return [row[x0:x1].rstrip() for row in self.screen()[: len(expected)]], expected

        deadline = time.monotonic() + 5
        while (result := compared())[0] != result[1] and time.monotonic() < deadline:
            time.sleep(0.1)
        assert result[0] == result[1], self.diagnostics()


@pytest.fixture
def watch(fake: FakeITerm2, home: str, remote_host: RemoteHost) -> Iterator[Callable[[str, int], Watch]]:
    started: list[tuple[Watch, Path]] = []

    def start(kind: str, columns: int) -> Watch:
        require(shutil.which(kind) is not None, f"needs {kind} (apt-get install {kind})")
        workdir = Path(tempfile.mkdtemp(dir="/tmp", prefix="ita-mux-"))
        mux = RemoteMux(remote_host, workdir, kind)
        ssh_argv = mux.ssh_argv()
        session = fake.add_session(
            rows=ROWS, columns=columns, variables={"jobName": "ssh", "commandLine": shlex.join(ssh_argv)}
        )
        client = Client(fake, home)
        wait_until_read(fake, client, session)
        pty = PtyProgram(ssh_argv, rows=ROWS, columns=columns, sink=session.write, env=mux.ssh_env())
        watched = Watch(fake, session, client, mux, pty)
        started.append((watched, workdir))
        return watched

    yield start
    for watched, workdir in started:
        watched.mux.kill()
        watched.pty.close()
        watched.client.stop()
        shutil.rmtree(workdir, ignore_errors=True)


# ------------------------------------------------------------------------------ tmux and screen


@pytest.mark.root
@pytest.mark.parametrize("kind", ["tmux", "screen"])
def test_full_width_pane_at_80_columns(watch: Callable[[str, int], Watch], kind: str) -> None:
    w = watch(kind, 80)
    token = w.start_jupyter(8891)
    w.sync("ita:0.0")
    w.assert_one_server(8891, token)
    if kind == "tmux":
        w.assert_fake_shows(lambda: w.mux.pane_text("ita:0.0"))
    else:
        w.assert_fake_shows(lambda: w.mux.hardcopy(ROWS))


@pytest.mark.root
def test_vertical_split_at_100_columns(watch: Callable[[str, int], Watch]) -> None:
    # Jupyter in the left pane; the shell on the right has the cursor (row 0), so Jupyter's rows are
    # below it, beside a border, and its URLs break at column 50 with hard line ends.
    w = watch("tmux", 100)
    token = w.start_jupyter(8892, split=True)
    width = int(w.mux.tmux("display-message", "-p", "-t", "ita:0.0", "#{pane_width}"))
    assert width < 60 and all(row[width] == "│" for row in w.screen()[: ROWS - 1])
    hard_broken = [row[:width] for row in w.screen() if token[:6] in row[:width] and token not in row]
    assert hard_broken, "the URL should be broken at the pane's edge"
    w.sync("ita:0.0")
    w.assert_one_server(8892, token)
    w.assert_fake_shows(lambda: w.mux.pane_text("ita:0.0"), 0, width)


@pytest.mark.root
def test_copy_mode_scrolls_the_url_off_and_back(watch: Callable[[str, int], Watch]) -> None:
    w = watch("tmux", 80)
    token = w.start_jupyter(8893, before="seq 1 60; ")  # history to scroll back into
    w.sync("ita:0.0")
    history = int(w.mux.tmux("display-message", "-p", "-t", "ita:0.0", "#{history_size}"))
    steps = min(history, 30)
    assert steps >= 24, "the URLs must leave the screen"
    w.mux.tmux("copy-mode", "-t", "ita:0.0")
    w.mux.tmux("send-keys", "-t", "ita:0.0", "-X", "top-line")  # the cursor away from the bottom rows
    # One line at a time, each state read: the URLs pass the pane's bottom edge. Scrolling moves the
    # rows (soft line ends and all); a full redraw (refresh-client) draws each row with cursor
    # addressing, so the URL's first row at the bottom then ends hard, its rest out of sight.
    for n in range(steps):
        w.step(lambda: w.mux.tmux("send-keys", "-t", "ita:0.0", "-X", "scroll-up"))
        if n % 2:
            w.step(lambda: w.mux.tmux("refresh-client"))
    assert token[-8:] not in "".join(w.screen())
    for _ in range(steps):
        w.step(lambda: w.mux.tmux("send-keys", "-t", "ita:0.0", "-X", "scroll-down"))
    w.mux.tmux("send-keys", "-t", "ita:0.0", "-X", "cancel")
    w.sync("ita:0.0")
    w.assert_one_server(8893, token)


@pytest.mark.root
@pytest.mark.parametrize("kind", ["tmux", "screen"])
def test_detach_and_reattach_redraws_nothing_new(watch: Callable[[str, int], Watch], kind: str) -> None:
    w = watch(kind, 80)
    token = w.start_jupyter(8894)
    w.sync("ita:0.0")
    before = len(w.lines())
    if kind == "tmux":
        w.mux.tmux("detach-client")
    else:
        w.mux.screen("detach")
    wait_until(lambda: not w.in_alternate_screen(), "the main screen", WAIT, detail=w.diagnostics)
    w.client.wait_for(lambda: any("detached" in line for line in w.lines()[before:]), "the detach message", WAIT)
    w.pty.type(w.mux.attach_command() + "\r")
    wait_until(
        lambda: w.in_alternate_screen() and token[-8:] in "".join(w.screen()),
        "the reattach redraw",
        WAIT,
        detail=w.diagnostics,
    )
    w.sync("ita:0.0")
    w.assert_one_server(8894, token)


# ------------------------------------------------------------------------------ the screen scanner


def scan(rows: list[str], width: int, cursor: tuple[int, int] | None = None, soft: tuple[int, ...] = ()) -> list[str]:
    return ScreenScanner(RecentTexts(100)).scan([(r, n in soft) for n, r in enumerate(rows)], width, cursor)


URL = "http://127.0.0.1:8888/lab?token=0123456789abcdef0123456789abcdef"


def test_scanner_joins_a_url_broken_at_a_split_panes_edge() -> None:
    left = ["[I ServerApp] is running at:", "        " + URL[:22], URL[22:52], URL[52:], ""]
    right = ["$ ls", "notes.txt", "$ ", "", ""]
    rows = [f"{a:<30}│{b}" for a, b in zip(left, right, strict=True)]
    assert pane_rows(rows, 60)[1] == [(0, 30, left[1]), (31, 60, "notes.txt")]
    assert scan(rows, 60, cursor=(33, 2)) == [left[0], "        " + URL, "$ ls", "notes.txt"]


def test_scanner_dedupes_redraws_and_leaves_out_the_cursor_line() -> None:
    scanner = ScreenScanner(RecentTexts(100))
    rows = [("[I ServerApp] is running at:", False), ("    " + URL, False), ("$ half-typed", False)]
    assert scanner.scan(rows, 80, (12, 2)) == [rows[0][0], rows[1][0]]
    assert scanner.scan(rows, 80, (12, 2)) == []  # a redraw of the same screen
    assert scanner.scan(rows[1:] + [("", False)], 80, (0, 2)) == ["$ half-typed"]  # scrolled up one


def test_scanner_withholds_a_url_cut_by_the_pane_bottom() -> None:
    cut = "        " + URL[:32]  # 40 columns: the rest of the URL is below the pane
    rows = [f"{'x':<40}│$", f"{cut}│", "─" * 40 + "┴─", "[0] status"]
    assert cut not in scan(rows, 42, cursor=(41, 0))
    # ... and while the next row is being drawn (the cursor is on it)
    rows = [cut, URL[32:36], "", "[0] status"]
    assert scan(rows, 40, cursor=(4, 1)) == ["[0] status"]
    assert scan(rows, 40, cursor=(0, 2)) == ["        " + URL[:36], "[0] status"]  # drawn, its end on its row


def test_scanner_skips_the_start_of_a_url_line_it_handed_over_whole() -> None:
    scanner = ScreenScanner(RecentTexts(100))
    whole = [("        " + URL[:32], True), (URL[32:], False), ("", False), ("[0] status", False)]
    assert scanner.scan(whole, 40, (0, 2)) == ["        " + URL, "[0] status"]
    # Copy mode scrolled it down: its first row is the pane's last, the rest is below. Redrawn, the
    # row ends hard; scrolled inside the scroll region, it keeps its soft end above the status line.
    for soft in (False, True):
        scrolled = [("", False), ("", False), ("        " + URL[:32], soft), ("[0] status", False)]
        assert scanner.scan(scrolled, 40, (0, 0)) == []


def test_full_screen_is_recognised_by_text_below_the_cursor_or_a_border() -> None:
    assert not looks_full_screen([("$ ls", False), ("a b", False), ("$ ", False), ("", False)], 2)
    assert looks_full_screen([("top", False), ("", False), ("[0] 0:bash*", False)], 0)
    assert looks_full_screen([(f"a{'│':>5}b", False)] * 3 + [("$ ", False)], 3)
    assert not looks_full_screen([("├── a", False), ("└── b", False), ("$ ", False)], 2)  # `tree`, 2 rows


# ------------------------------------------------------------------------------ reattach: jupyter server list


class EngineThread:
    """A real Engine on its own event loop, fed with what the frontend client hands over."""

    def __init__(self, config: Config) -> None:
        self.opened: list[str] = []
        self.notes: list[tuple[str, str]] = []
        effects = Effects(
            resolve=resolve_context,
            backend=choose_backend,
            choose_port=choose_local_port,
            remote_host=remote_forward_host,
            probe=probe,
            open_url=self.opened.append,
            notify=lambda title, message: self.notes.append((title, message)),
        )
        self.loop = asyncio.new_event_loop()
        self.engine = Engine(config, effects)
        self.thread = threading.Thread(target=self.loop.run_forever, name="engine", daemon=True)
        self.thread.start()
        self.fed = 0

    def feed(self, client: Client) -> None:
        """Hand the engine every record the client printed since the last call."""
        records = [r for r in client.records if "session" in r][self.fed :]
        self.fed += len(records)
        for record in records:
            context = SessionContext(**record["context"])
            self.loop.call_soon_threadsafe(self.engine.session_lines, context, record["lines"])

    def servers(self) -> list[tuple[int, int, str]]:
        async def servers() -> list[tuple[int, int, str]]:
            return [(s.event.port, s.local_port, s.url) for s in self.engine.servers()]

        return asyncio.run_coroutine_threadsafe(servers(), self.loop).result(10)

    def close(self) -> None:
        asyncio.run_coroutine_threadsafe(self.engine.shutdown(timeout=5), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()


@pytest.mark.root
@pytest.mark.parametrize(("command", "reattach"), [("server", "open"), ("lab", "notify")])
def test_server_list_in_an_ssh_session_offers_a_forward(
    fake: FakeITerm2, home: str, jupyter: RemoteHost, command: str, reattach: str
) -> None:
    # The user ssh'd in again later and asks what runs: `jupyter server list` (or lab list).
    listing = [str(Path(jupyter.jupyter_argv()[0]).with_name("jupyter")), command, "list"]
    env = [f"{k}={v}" for k, v in jupyter.jupyter_env().items()]
    ssh_argv = ["ssh", *jupyter.ssh_args(), "-tt", "remote", "env", *env, *listing]
    session = fake.add_session(
        rows=ROWS, columns=120, variables={"jobName": "ssh", "commandLine": shlex.join(ssh_argv)}
    )
    client = Client(fake, home)
    engine = EngineThread(Config(reattach=reattach))
    pty: PtyProgram | None = None
    try:
        wait_until_read(fake, client, session)
        pty = PtyProgram(ssh_argv, rows=ROWS, columns=120, sink=session.write)
        assert pty.wait_exit(WAIT) == 0, pty.output()[-2000:]
        listed = f"http://127.0.0.1:{jupyter.jupyter_port}/?token={jupyter.token}"
        client.wait_for(lambda: any(line.startswith(listed) for line in client.lines(session)), "the listing", WAIT)

        def served() -> list[tuple[int, int, str]]:
            engine.feed(client)
            return engine.servers()

        wait_until(served, "the forward", WAIT, detail=lambda: client.log_text() + str(engine.notes))
        [(port, local_port, url)] = engine.servers()
        assert port == jupyter.jupyter_port
        assert url == f"http://localhost:{local_port}/?token={jupyter.token}"
        if reattach == "open":
            wait_until(lambda: engine.opened, "the browser")
            assert engine.opened == [url] and engine.notes == []
        else:
            wait_until(lambda: engine.notes, "the notification")
            assert engine.opened == []
            [(title, message)] = engine.notes
            assert title == "jupyter ready" and f"localhost:{local_port}" in message
            assert jupyter.token not in message
    finally:
        if pty is not None:
            pty.close()
        engine.close()
        client.stop()


# ------------------------------------------------------------------------------ iTerm2's tmux integration


def test_tmux_cc_pane_is_read_like_any_session(fake: FakeITerm2, home: str) -> None:
    # `tmux -CC` in an ssh session: iTerm2 makes that session the gateway and shows each tmux pane
    # as a session of its own (a tab per tmux window), fed from tmux's %output, with tmuxRole
    # "client" and its pane number. The pane has no process in iTerm2: its ssh is the gateway's.
    ssh = "ssh -p 2222 alice@wheeler"
    gateway = fake.add_session(variables={"jobName": "ssh", "commandLine": ssh})
    gateway.write(b"** tmux mode started **\r\n\r\nCommand Menu\r\n")
    client = Client(fake, home)
    try:
        wait_until_read(fake, client, gateway)
        pane = fake.add_session(tmux_gateway=gateway, variables={"jobName": "", "commandLine": ""})
        banner = "[I 2026-11-28 03:39:05.553 ServerApp] Jupyter Server 2.21.1 is running at:"
        url = f"[I 2026-11-28 03:39:05.553 ServerApp] {URL}"
        pane.write(f"{banner}\r\n{url}\r\n".encode())
        lines = client.wait_lines(pane, 2)
        assert lines == [banner, url]  # the 103-column URL line soft-wrapped in the pane, whole again
        [event] = announces(lines)
        assert (event.port, event.token) == (8888, URL.rsplit("=", 1)[1])
        context = client.contexts(pane)[-1]
        assert context["session_id"] == pane.session_id
        assert (context["job_name"], context["command_line"]) == ("ssh", ssh)  # resolved like the gateway
        assert client.lines(gateway) == ["** tmux mode started **", "", "Command Menu"]
    finally:
        client.stop()
