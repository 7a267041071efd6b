"""The engine's decisions, with small fakes for every effect (the real parts are in test_product_*.py)."""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from iterm2_autolaunch.config import Config, HostRule
from iterm2_autolaunch.config_parse import parse_config_text
from iterm2_autolaunch.detect import Kind
from iterm2_autolaunch.engine import Engine
from iterm2_autolaunch.errors import PortTaken, ResolveError, TunnelError
from iterm2_autolaunch.interfaces import Effects, ProbeResult, ServerView
from iterm2_autolaunch.lines import bytes_to_lines
from iterm2_autolaunch.session import SessionContext
from iterm2_autolaunch.target import ForwardSpec, SshTarget

WHEELER = SshTarget(destination="wheeler", hostname="10.0.0.7", port=22, user="alice")
SSH = SessionContext("s1", job_name="ssh", command_line="ssh wheeler")


def jupyter_start(port: int = 8888, token: str = "abc123", host: str = "127.0.0.1") -> list[str]:
    """Jupyter Server 2's start lines, as in tests/data/captures."""
    log = "[I 2026-11-28 03:39:05.553 ServerApp]"
    return [
        f"{log} Jupyter Server 2.21.1 is running at:",
        f"{log} http://{host}:{port}/lab?token={token}",
        f"{log} Use Control-C to stop this server and shut down all kernels (twice to skip confirmation).",
    ]


JUPYTER_STOP = [  # after Ctrl-C (echoed as ^C) and "y"
    "^C[I 2026-11-28 03:40:00.000 ServerApp] interrupted",
    "Shut down this Jupyter server (y/[n])? y",
    "[C 2026-11-28 03:40:00.000 ServerApp] Shutdown confirmed",
]


@dataclass
class FakeForward:
    spec: ForwardSpec
    closed: bool = False

    @property
    def local_port(self) -> int:
        return self.spec.local_port

    def is_alive(self) -> bool:
        return not self.closed

    def close(self) -> None:
        self.closed = True


@dataclass
class FakeWorld:
    """A remote side where ``alive`` lists the (remote host, port) pairs that answer a probe: over https those in
    ``tls`` too, over http the others."""

    alive: set[tuple[str, int]] = field(default_factory=lambda: {("127.0.0.1", 8888)})
    tls: set[tuple[str, int]] = field(default_factory=set)
    forwards: list[FakeForward] = field(default_factory=list)
    opened: list[str] = field(default_factory=list)
    notes: list[tuple[str, str]] = field(default_factory=list)
    resolve_error: str | None = None
    open_error: str | None = None
    open_errors: list[Exception] = field(default_factory=list)  # raised by the next opens, one each
    target: SshTarget = WHEELER
    backends_asked: list[str] = field(default_factory=list)
    ports_tried: list[int] = field(default_factory=list)
    ports_chosen: int = 0
    probed: list[str] = field(default_factory=list)  # every URL probed, in order
    panes: Any = None  # an interfaces.BrowserPanes, or None: every page to the system browser (opened)

    name = "fake"

    def open(self, spec: ForwardSpec) -> FakeForward:
        self.ports_tried.append(spec.local_port)
        if self.open_errors:
            raise self.open_errors.pop(0)
        if self.open_error:
            raise TunnelError(self.open_error)
        forward = FakeForward(spec)
        self.forwards.append(forward)
        return forward

    def choose_port(self, remote_port: int, port_range: tuple[int, int]) -> int:
        """40000, 40001, ...: every forward, and every retry, gets a port of its own."""
        self.ports_chosen += 1
        return 40000 + self.ports_chosen - 1

    def resolve(self, context: SessionContext) -> SshTarget:
        if self.resolve_error:
            raise ResolveError(self.resolve_error)
        return self.target

    def backend(self, preference: str, target: SshTarget) -> FakeWorld:
        self.backends_asked.append(preference)
        return self

    async def probe(self, url: str, kind: Kind) -> ProbeResult:
        self.probed.append(url)
        port = int(url.split(":")[2].split("/")[0])
        forward = next((f for f in self.forwards if f.local_port == port and not f.closed), None)
        if self.target.local:
            server: tuple[str, int] | None = ("127.0.0.1", port)
        else:
            server = (forward.spec.remote_host, forward.spec.remote_port) if forward is not None else None
        ok = server in self.alive and (server in self.tls) == url.startswith("https:")
        return ProbeResult(ok, "HTTP 200" if ok else "no answer")

    def effects(self) -> Effects:
        return Effects(
            resolve=self.resolve,
            backend=self.backend,
            choose_port=self.choose_port,
            remote_host=lambda host: "127.0.0.1" if host in ("localhost", "0.0.0.0") else host,
            probe=self.probe,
            open_url=self.opened.append,
            notify=lambda title, message: self.notes.append((title, message)),
            panes=self.panes,
        )

    def live(self) -> list[FakeForward]:
        return [f for f in self.forwards if not f.closed]


def run(scenario: Callable[[Engine, FakeWorld], Coroutine[Any, Any, None]], world: FakeWorld | None = None,
        config: Config | None = None) -> FakeWorld:
    world = world or FakeWorld()

    async def main() -> None:
        engine = Engine(config or Config(), world.effects(), health_interval=0.05)
        try:
            await scenario(engine, world)
        finally:
            await engine.shutdown()

    asyncio.run(main())
    return world


async def settle(condition: Callable[[], bool], timeout: float = 3.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "condition not reached in time"
        await asyncio.sleep(0.01)


def test_announced_server_gets_a_forward_and_a_tab_with_its_token() -> None:
    async def scenario(engine: Engine, world: FakeWorld) -> None:
        engine.session_lines(SSH, jupyter_start())
        await settle(lambda: bool(world.opened))
        spec = world.forwards[0].spec
        assert (spec.target, spec.remote_host, spec.remote_port) == (WHEELER, "127.0.0.1", 8888)
        assert world.opened == [f"http://localhost:{spec.local_port}/lab?token=abc123"]

    run(scenario)


def test_same_server_printed_twice_opens_one_tab() -> None:
    async def scenario(engine: Engine, world: FakeWorld) -> None:
        engine.session_lines(SSH, jupyter_start())
        engine.session_lines(SSH, jupyter_start())
        await settle(lambda: bool(world.opened))
        engine.session_lines(SSH, jupyter_start())
        await asyncio.sleep(0.1)
        assert len(world.opened) == 1 and len(world.forwards) == 1

    run(scenario)


def test_restart_with_new_token_replaces_forward_and_opens_new_tab() -> None:
    async def scenario(engine: Engine, world: FakeWorld) -> None:
        engine.session_lines(SSH, jupyter_start(token="first"))
        await settle(lambda: len(world.opened) == 1)
        engine.session_lines(SSH, jupyter_start(token="second"))
        await settle(lambda: len(world.opened) == 2)
        assert world.opened[1].endswith("token=second")
        assert [f.closed for f in world.forwards] == [True, False]

    run(scenario)


def test_server_killed_silently_then_restarted_with_the_same_url_gets_a_forward_again() -> None:
    """SIGKILL prints no stop line; the health probe closes the forward. Started again with the same token
    and port (``--IdentityProvider.token=...``), the same URL is a new server, not a repeat of the old one."""

    async def scenario(engine: Engine, world: FakeWorld) -> None:
        engine.session_lines(SSH, jupyter_start())
        await settle(lambda: len(world.opened) == 1)
        world.alive.clear()  # killed: no stop line
        await settle(lambda: not world.live())
        world.alive.add(("127.0.0.1", 8888))
        engine.session_lines(SSH, jupyter_start())
        await settle(lambda: len(world.opened) == 2)
        assert len(world.live()) == 1

    run(scenario)


@pytest.mark.parametrize("fails", ["did not answer", "tunnel error"])
def test_a_start_that_came_to_nothing_is_announced_again_when_run_again(fails: str) -> None:
    """Dash prints no stop line (capture dash.raw, Dash 4.4.1 stopped with Ctrl-C): a first run whose probe
    failed (it crashed, or its port was taken: Dash prints its "running on" line before Flask binds), then run
    again on the same port, prints the same URL. That is a new start, not a repeat of the first."""
    dash = list(bytes_to_lines([(CAPTURES / "dash.raw").read_bytes()]))
    (port,) = {int(port) for port in re.findall(r"http://127\.0\.0\.1:([0-9]+)/", "\n".join(dash))}

    async def scenario(engine: Engine, world: FakeWorld) -> None:
        world.alive = set()
        world.open_errors = [TunnelError("administratively prohibited")] if fails == "tunnel error" else []
        engine.session_lines(SSH, dash)
        await settle(lambda: bool(world.notes))
        assert world.opened == []
        world.alive = {("127.0.0.1", port)}
        engine.session_lines(SSH, dash)
        await settle(lambda: bool(world.opened))
        assert len(world.live()) == 1

    run(scenario)


def test_stop_line_closes_the_forward() -> None:
    async def scenario(engine: Engine, world: FakeWorld) -> None:
        engine.session_lines(SSH, jupyter_start())
        await settle(lambda: bool(world.opened))
        engine.session_lines(SSH, JUPYTER_STOP)
        await settle(lambda: not world.live())
        assert engine.servers() == []

    run(scenario)


def test_session_end_closes_its_forwards_only() -> None:
    other = SessionContext("s2", job_name="ssh", command_line="ssh wheeler")

    async def scenario(engine: Engine, world: FakeWorld) -> None:
        world.alive.add(("127.0.0.1", 9999))
        engine.session_lines(SSH, jupyter_start())
        engine.session_lines(other, jupyter_start(port=9999))
        await settle(lambda: len(world.opened) == 2)
        engine.session_ended("s1")
        await settle(lambda: len(world.live()) == 1)
        assert world.live()[0].spec.remote_port == 9999

    run(scenario)


def test_a_server_printed_as_http_that_speaks_tls_opens_over_https() -> None:
    """Bokeh given a certificate file not named *.pem (and no key file) prints http:// and serves TLS only
    (bokeh 3.9.2 command/subcommands/serve.py:977): no HTTP answer at http, so https is asked, and the tab,
    the health probe and the forward go by it. The real Bokeh is in test_product_e2e_kinds.py."""

    async def scenario(engine: Engine, world: FakeWorld) -> None:
        world.tls.add(("127.0.0.1", 8888))
        engine.session_lines(SSH, jupyter_start())
        await settle(lambda: bool(world.opened))
        port = world.forwards[0].local_port
        assert world.opened == [f"https://localhost:{port}/lab?token=abc123"]
        assert world.probed[:2] == [f"http://localhost:{port}/api", f"https://localhost:{port}/api"]
        await asyncio.sleep(0.2)  # health probes, every 0.05 s here: over https, and the server answers them
        assert world.probed[2:] and {url.split(":")[0] for url in world.probed[2:]} == {"https"}
        assert len(world.live()) == 1

    run(scenario)


class RedirectsToTls(FakeWorld):
    """Plain HTTP at a TLS server's port answered as code-server 3.x under --cert answers it: 302 to https://
    at the same place (the real redirect is in test_probe.py)."""

    async def probe(self, url: str, kind: Kind) -> ProbeResult:
        result = await super().probe(url, kind)
        if url.startswith("http://"):
            return ProbeResult(False, f"HTTP 302, but not a {kind.name} server", moved_to="/healthz", to_https=True)
        return result


def test_a_server_printed_as_http_that_redirects_to_https_opens_over_https() -> None:
    """code-server 3.10.2 --cert, as captured: "HTTP server listening on http://127.0.0.1:PORT " while it serves
    TLS and redirects plain HTTP to https:// (out/node/routes/index.js:145-146). The probe's redirect to https
    at the same place sends the engine to https, and the tab, the health probe and the forward go by it."""
    name = "mx_code_server3_10_https_sigterm_tty_100.raw"
    entry = next(e for e in json.loads((CAPTURES / "index.json").read_text()) if e["file"] == name)
    port = entry["expect"][0]["port"]
    lines = list(bytes_to_lines([(CAPTURES / name).read_bytes()]))

    async def scenario(engine: Engine, world: FakeWorld) -> None:
        engine.session_lines(SSH, lines)
        await settle(lambda: bool(world.opened))
        local = world.forwards[0].local_port
        assert world.probed[:2] == [f"http://localhost:{local}/healthz", f"https://localhost:{local}/healthz"]
        assert world.opened == [f"https://localhost:{local}/"]
        await asyncio.sleep(0.2)  # health probes: over https, which answers them
        assert {url.split(":")[0] for url in world.probed[2:]} == {"https"} and len(world.live()) == 1

    run(scenario, RedirectsToTls(alive={("127.0.0.1", port)}, tls={("127.0.0.1", port)}))


def test_a_server_printed_as_https_is_not_asked_over_http() -> None:
    async def scenario(engine: Engine, world: FakeWorld) -> None:
        world.alive.clear()
        engine.session_lines(SSH, [line.replace("http://", "https://") for line in jupyter_start()])
        await settle(lambda: bool(world.notes))
        assert world.probed and all(url.startswith("https://") for url in world.probed)

    run(scenario)


def test_stale_url_opens_nothing_and_says_why() -> None:
    async def scenario(engine: Engine, world: FakeWorld) -> None:
        world.alive.clear()
        engine.session_lines(SSH, jupyter_start())
        await settle(lambda: bool(world.notes))
        assert world.opened == [] and world.live() == []
        title, message = world.notes[0]
        assert "did not answer" in title and "no answer" in message
        port = world.forwards[0].local_port
        # asked over https too (a server may print http:// and speak TLS), the reason told is http's
        assert world.probed == [f"http://localhost:{port}/api", f"https://localhost:{port}/api"]

    run(scenario)


COMPUTE_NODE_START = [
    "[I 2026-11-28 03:39:05.553 ServerApp] Jupyter Server 2.21.1 is running at:",
    "[I 2026-11-28 03:39:05.553 ServerApp] http://node042:8888/lab?token=t",
    "[I 2026-11-28 03:39:05.553 ServerApp]     http://127.0.0.1:8888/lab?token=t",
    "[I 2026-11-28 03:39:05.553 ServerApp] Use Control-C to stop this server.",
]


def test_compute_node_name_is_tried_before_loopback() -> None:
    """HPC: the login node's loopback may hold another user's server on the same port: never ask it first."""

    async def scenario(engine: Engine, world: FakeWorld) -> None:
        world.alive = {("node042", 8888), ("127.0.0.1", 8888)}
        engine.session_lines(SSH, COMPUTE_NODE_START)
        await settle(lambda: bool(world.opened))
        assert [f.spec.remote_host for f in world.forwards] == ["node042"]
        assert [f.closed for f in world.forwards] == [False]

    run(scenario)


def test_loopback_is_the_fallback_when_the_printed_name_does_not_answer() -> None:
    async def scenario(engine: Engine, world: FakeWorld) -> None:
        world.alive = {("127.0.0.1", 8888)}
        engine.session_lines(SSH, COMPUTE_NODE_START)
        await settle(lambda: bool(world.opened))
        assert [f.spec.remote_host for f in world.forwards] == ["node042", "127.0.0.1"]
        assert [f.closed for f in world.forwards] == [True, False]

    run(scenario)


def test_server_that_dies_without_a_stop_line_loses_its_forward() -> None:
    async def scenario(engine: Engine, world: FakeWorld) -> None:
        engine.session_lines(SSH, jupyter_start())
        await settle(lambda: bool(world.opened))
        world.alive.clear()
        await settle(lambda: not world.live())

    run(scenario)


def test_actions_from_config_per_kind_and_host() -> None:
    config = Config(hosts=(HostRule(match="wheel*", actions={"jupyter": "notify"}, backend="openssh"),))

    async def scenario(engine: Engine, world: FakeWorld) -> None:
        engine.session_lines(SSH, jupyter_start())
        await settle(lambda: bool(world.notes))
        assert world.opened == []
        assert "token=…" in world.notes[0][1] and "abc123" not in world.notes[0][1]
        assert world.backends_asked == ["openssh"]

    run(scenario, config=config)


def test_ignored_kind_opens_no_forward() -> None:
    async def scenario(engine: Engine, world: FakeWorld) -> None:
        engine.session_lines(SSH, jupyter_start())
        await asyncio.sleep(0.2)
        assert world.forwards == [] and world.opened == []

    run(scenario, config=Config(kinds=frozenset({"tensorboard"})))


def test_local_server_is_opened_without_a_tunnel() -> None:
    world = FakeWorld(target=SshTarget(destination="", hostname="localhost", local=True))

    async def scenario(engine: Engine, world: FakeWorld) -> None:
        engine.session_lines(SessionContext("s1", job_name="zsh"), jupyter_start())
        await settle(lambda: bool(world.opened))
        assert world.forwards == []
        assert world.opened == ["http://localhost:8888/lab?token=abc123"]

    run(scenario, world)


def test_resolve_and_tunnel_failures_are_reported() -> None:
    async def scenario(engine: Engine, world: FakeWorld) -> None:
        world.resolve_error = "ssh -G: Bad configuration option"
        engine.session_lines(SSH, jupyter_start(token="one"))
        await settle(lambda: len(world.notes) == 1)
        world.resolve_error = None
        world.open_error = "Host key for wheeler changed (known_hosts: /home/a/.ssh/known_hosts)"
        engine.session_lines(SSH, jupyter_start(token="two"))
        await settle(lambda: len(world.notes) == 2)
        assert "Bad configuration option" in world.notes[0][1]
        assert "Host key" in world.notes[1][1]
        assert world.opened == []

    run(scenario)


def test_hostile_lines_open_nothing() -> None:
    lines = [
        'echo "[I 2026-11-28 03:39:05.553 ServerApp] http://127.0.0.1:8888/lab?token=x"',
        "see http://localhost:8888/lab?token=abc; rm -rf ~",
        "    http://localhost:8888/lab?token=$(touch /tmp/pwned)",
    ]

    async def scenario(engine: Engine, world: FakeWorld) -> None:
        engine.session_lines(SSH, lines)
        await asyncio.sleep(0.2)
        assert world.forwards == [] and world.opened == []

    run(scenario)


LISTING = ["Currently running servers:", "http://localhost:8888/?token=listed :: /home/alice"]


def test_listed_server_gets_a_forward_unless_that_host_and_port_have_one() -> None:
    other = SessionContext("s2", job_name="ssh", command_line="ssh wheeler")

    async def scenario(engine: Engine, world: FakeWorld) -> None:
        engine.session_lines(SSH, jupyter_start())
        await settle(lambda: len(world.opened) == 1)
        engine.session_lines(other, LISTING)  # the same server, listed on the same host: nothing new
        await asyncio.sleep(0.2)
        assert len(world.forwards) == 1
        world.target = SshTarget(destination="cori", hostname="10.0.0.9", port=22, user="alice")
        engine.session_lines(SessionContext("s3", job_name="ssh", command_line="ssh cori"), LISTING)
        await settle(lambda: len(world.opened) == 2)  # port 8888 on another host is another server
        assert world.opened[1].endswith("/?token=listed")

    run(scenario, config=Config(reattach="open"))


def test_listed_server_that_is_gone_is_not_reported_as_a_failure() -> None:
    async def scenario(engine: Engine, world: FakeWorld) -> None:
        world.alive.clear()
        engine.session_lines(SSH, LISTING)
        await settle(lambda: bool(world.forwards) and not world.live())
        await asyncio.sleep(0.1)
        assert world.notes == [] and world.opened == []

    run(scenario, config=Config(reattach="open"))


def test_port_taken_after_the_check_is_retried_once_on_another_port() -> None:
    async def scenario(engine: Engine, world: FakeWorld) -> None:
        world.open_errors.append(PortTaken("cannot listen on 127.0.0.1:40000: the port is in use by another program"))
        engine.session_lines(SSH, jupyter_start())
        await settle(lambda: bool(world.opened))
        assert world.ports_tried == [40000, 40001]
        assert world.opened == ["http://localhost:40001/lab?token=abc123"]

    run(scenario)


def test_other_tunnel_errors_are_not_retried_whatever_their_text() -> None:
    async def scenario(engine: Engine, world: FakeWorld) -> None:
        # OpenSSH's own words for a taken port, but not a PortTaken: the decision is by type, not by text
        world.open_errors.append(TunnelError("bind [127.0.0.1]:40000: Address already in use"))
        engine.session_lines(SSH, jupyter_start())
        await settle(lambda: bool(world.notes))
        assert world.ports_tried == [40000] and world.opened == []

    run(scenario)


def test_a_forward_the_user_closed_is_not_reopened_by_its_lines_read_again() -> None:
    async def scenario(engine: Engine, world: FakeWorld) -> None:
        engine.session_lines(SSH, jupyter_start())
        await settle(lambda: len(world.opened) == 1)
        await engine.close_server(engine.servers()[0], "closed from the status bar")
        # the same banner delivered again (a pager's repaint, a resize, scrollback replayed): nothing reopens
        engine.session_lines(SSH, jupyter_start())
        await asyncio.sleep(0.2)
        assert len(world.forwards) == 1 and world.live() == [] and len(world.opened) == 1
        # once the server has really stopped, the same server started again is new
        engine.session_lines(SSH, JUPYTER_STOP)
        engine.session_lines(SSH, jupyter_start())
        await settle(lambda: len(world.opened) == 2)
        assert len(world.live()) == 1

    run(scenario)


@dataclass
class RecordingPanes:
    """interfaces.BrowserPanes as the engine sees it: what it was asked to show where, and what went."""

    shown: list[tuple[str, str]] = field(default_factory=list)  # (url, place)
    gone: list[tuple[str, str]] = field(default_factory=list)  # (url, why)

    def show(self, server: ServerView, place: str) -> None:
        server.shown_in = f"{place} pane"
        self.shown.append((server.url, place))

    def server_gone(self, server: ServerView, why: str) -> None:
        self.gone.append((server.url, why))


def test_pages_open_where_the_config_says_and_their_pane_hears_when_the_server_goes() -> None:
    """`[browsers] jupyter = "iterm2-split"`: a Jupyter page goes to a pane, a TensorBoard page stays in the
    system browser; the pane is told when its server stops; a host rule can choose otherwise."""
    config = parse_config_text('[browsers]\njupyter = "iterm2-split"\n[actions]\ntensorboard = "open"\n', "<test>")
    panes = RecordingPanes()
    world = FakeWorld(alive={("127.0.0.1", 8888), ("127.0.0.1", 6006)}, panes=panes)
    tensorboard = ["TensorBoard 2.17.0 at http://localhost:6006/ (Press CTRL+C to quit)"]

    async def scenario(engine: Engine, world: FakeWorld) -> None:
        # TensorBoard first: a stop line (after ^C) belongs to the server announced last, the foreground one
        engine.session_lines(SSH, tensorboard)
        engine.session_lines(SSH, jupyter_start())
        await settle(lambda: len(panes.shown) == 1 and len(world.opened) == 1)
        [(jupyter_url, place)] = panes.shown
        assert place == "iterm2-split" and jupyter_url.endswith("/lab?token=abc123")
        assert world.opened[0].endswith("/") and world.opened[0] != jupyter_url  # tensorboard: the system browser
        assert {s.kind: s.describe()["browser"] for s in engine.servers()} == {
            "jupyter": "iterm2-split pane", "tensorboard": "system browser"}
        engine.session_lines(SSH, JUPYTER_STOP)
        await settle(lambda: bool(panes.gone))
        assert panes.gone == [(jupyter_url, "server stopped")]
        engine.session_ended("s1")
        await settle(lambda: not world.live())
        assert len(panes.gone) == 1  # the TensorBoard page was in the system browser: no pane to tell

    run(scenario, world, config)
    tab_for_wheeler = parse_config_text(
        'browser = "iterm2-split"\n[[hosts]]\nmatch = "wheeler"\nbrowser = "iterm2-tab"', "<test>")
    world = run(lambda engine, world: settle_one(engine, world), FakeWorld(panes=RecordingPanes()), tab_for_wheeler)
    assert world.panes.shown == [("http://localhost:40000/lab?token=abc123", "iterm2-tab")]


async def settle_one(engine: Engine, world: FakeWorld) -> None:
    engine.session_lines(SSH, jupyter_start())
    await settle(lambda: bool(world.panes.shown))


CAPTURES = Path(__file__).parent / "data" / "captures"


@pytest.mark.parametrize(("capture", "action"), [
    ("dask_scheduler.raw", "open"),  # a dashboard: opened
    ("mlflow_server.raw", "open"),
    ("uvicorn_app.raw", "notify"),  # a generic dev server: only told
    ("http_server.raw", "notify"),  # its capture has no stop line after the ^C
])  # fmt: skip
def test_new_kinds_end_to_end_from_their_real_captures(capture: str, action: str) -> None:
    """The real tool's output through the engine: forward, the kind's default action, closed at its stop."""
    entry = next(e for e in json.loads((CAPTURES / "index.json").read_text()) if e["file"] == capture)
    lines = list(bytes_to_lines([(CAPTURES / capture).read_bytes()]))
    port = entry["expect"][0]["port"]
    stops = [i for i, line in enumerate(lines) if re.search(r"End scheduler|Finished server|Keyboard interrupt", line)]
    stop_at = min(stops, default=len(lines))
    assert bool(stops) == entry["shutdown"]

    async def scenario(engine: Engine, world: FakeWorld) -> None:
        world.alive = {("127.0.0.1", port)}
        engine.session_lines(SSH, lines[:stop_at])
        await settle(lambda: bool(world.opened or world.notes))
        assert [(f.spec.remote_host, f.spec.remote_port) for f in world.forwards] == [("127.0.0.1", port)]
        assert bool(world.opened) == (action == "open") and bool(world.notes) == (action == "notify")
        if stops:
            engine.session_lines(SSH, lines[stop_at:])
            await settle(lambda: not world.live())

    run(scenario)


PUBLIC_NAME_START = [
    "[I 2026-11-28 03:39:05.553 ServerApp] Jupyter Server 2.21.1 is running at:",
    "[I 2026-11-28 03:39:05.553 ServerApp] http://jupyter.example.org:8888/lab?token=t",
    "[I 2026-11-28 03:39:05.553 ServerApp]     http://127.0.0.1:8888/lab?token=t",
]


@pytest.mark.parametrize(("allow", "tried"), [(False, ["127.0.0.1"]), (True, ["jupyter.example.org", "127.0.0.1"])])
def test_public_printed_name_is_a_target_only_when_the_config_allows_it(allow: bool, tried: list[str]) -> None:
    async def scenario(engine: Engine, world: FakeWorld) -> None:
        world.alive = {("127.0.0.1", 8888)}
        engine.session_lines(SSH, PUBLIC_NAME_START)
        await settle(lambda: bool(world.opened))
        assert [f.spec.remote_host for f in world.forwards] == tried

    run(scenario, config=Config(forward_public_hosts=allow))


@pytest.mark.parametrize(("hostname", "tried"), [
    ("login1.hpc.example.edu", ["node042.hpc.example.edu"]),  # the ssh host's own domain: it answers there
    ("login1.other.example.edu", ["127.0.0.1"]),  # elsewhere: loopback alone, where nothing answers
    ("10.0.0.7", ["127.0.0.1"]),
])  # fmt: skip
def test_a_compute_nodes_full_name_in_the_ssh_hosts_domain_is_tried_first(hostname: str, tried: list[str]) -> None:
    """HPC: Jupyter under --ip=$(hostname -f) listens on the node's address alone and prints its full name, then
    127.0.0.1 (as it does for --ip=vm, captured in jupyterlab_ip_hostname.raw): the login node's loopback has
    no such server, or another user's."""
    node = "node042.hpc.example.edu"
    lines = [line.replace("jupyter.example.org", node) for line in PUBLIC_NAME_START]

    async def scenario(engine: Engine, world: FakeWorld) -> None:
        world.target = SshTarget(destination="hpc", hostname=hostname, port=22, user="alice")
        world.alive = {(node, 8888)}
        engine.session_lines(SSH, lines)
        await settle(lambda: bool(world.opened or world.notes))
        assert [f.spec.remote_host for f in world.forwards] == tried
        assert bool(world.opened) == (tried == [node])

    run(scenario)


FQDN_CAPTURE = "tensorboard_bind_all_fqdn.raw"  # TensorBoard --bind_all on a node named node042.hpc.example.edu


@pytest.mark.parametrize(("hostname", "allow", "tried"), [
    ("login1.hpc.example.edu", False, ["node042.hpc.example.edu", "127.0.0.1"]),  # the ssh host's own domain
    ("10.0.0.7", True, ["node042.hpc.example.edu", "127.0.0.1"]),  # forward_public_hosts
])  # fmt: skip
def test_a_full_name_printed_alone_is_a_target_in_the_ssh_hosts_domain(hostname: str, allow: bool,
                                                                       tried: list[str]) -> None:
    """TensorBoard under --bind_all prints socket.getfqdn() alone: on a cluster the compute node's full name
    (captured in a namespace named so). The forward goes there; loopback is only the fallback."""
    lines = list(bytes_to_lines([(CAPTURES / FQDN_CAPTURE).read_bytes()]))
    (port,) = [int(port) for port in re.findall(r"node042\.hpc\.example\.edu:([0-9]+)/", "\n".join(lines))]

    async def scenario(engine: Engine, world: FakeWorld) -> None:
        world.target = SshTarget(destination="hpc", hostname=hostname, port=22, user="alice")
        world.alive = {("127.0.0.1", port)}  # the node is unreachable here: the fallback answers
        engine.session_lines(SSH, lines)
        await settle(lambda: bool(world.opened))
        assert [f.spec.remote_host for f in world.forwards] == tried

    run(scenario, config=Config(forward_public_hosts=allow))


def test_a_full_name_printed_alone_outside_the_ssh_hosts_domain_is_not_forwarded(caplog: Any) -> None:
    """Not even to loopback, where another user's TensorBoard may answer on the login node: nothing is opened,
    and the log says why."""
    caplog.set_level(logging.INFO, logger="iterm2_autolaunch.engine")
    lines = list(bytes_to_lines([(CAPTURES / FQDN_CAPTURE).read_bytes()]))

    async def scenario(engine: Engine, world: FakeWorld) -> None:
        world.target = SshTarget(destination="hpc", hostname="login1.other.example.edu", port=22, user="alice")
        world.alive = {("127.0.0.1", port) for port in range(1, 65536)}
        engine.session_lines(SSH, lines)
        await settle(lambda: "not forwarded" in caplog.text)
        assert world.forwards == [] and world.opened == [] and world.notes == []
        assert "printed only node042.hpc.example.edu, outside *.other.example.edu" in caplog.text

    run(scenario)


@pytest.mark.parametrize(("host", "hostname", "tried"), [
    ("evil.example", "login1.hpc.example.edu", []),  # a public name: not forwarded to, nor loopback instead
    ("node042.hpc.example.edu", "login1.hpc.example.edu", ["node042.hpc.example.edu", "127.0.0.1"]),
    ("169.254.169.254", "login1.hpc.example.edu", []),
])  # fmt: skip
def test_a_listed_server_goes_by_the_same_host_rules_as_an_announced_one(host: str, hostname: str,
                                                                         tried: list[str]) -> None:
    """`jupyter server list` (capture jupyter_server_list.raw) with its host changed: a listing is screen text
    too. Before, its host was forwarded to whatever it was."""
    lines = [line.replace("localhost", host) for line in bytes_to_lines([(CAPTURES / "jupyter_server_list.raw")
                                                                           .read_bytes()])][:2]  # one server
    (port,) = {int(port) for port in re.findall(r":([0-9]+)/\?token=", lines[1])}

    async def scenario(engine: Engine, world: FakeWorld) -> None:
        world.target = SshTarget(destination="hpc", hostname=hostname, port=22, user="alice")
        world.alive = {(host, port), ("127.0.0.1", port)}
        engine.session_lines(SSH, lines)
        await settle(engine.idle)  # the start ran: opened, or gave up
        assert [f.spec.remote_host for f in world.forwards] == tried[:1]
        assert bool(world.opened) == bool(tried)

    run(scenario, config=Config(reattach="open"))


def test_metadata_name_is_never_a_target() -> None:
    lines = [PUBLIC_NAME_START[0], PUBLIC_NAME_START[1].replace("jupyter.example.org", "metadata.google.internal"),
             PUBLIC_NAME_START[2]]  # fmt: skip

    async def scenario(engine: Engine, world: FakeWorld) -> None:
        world.alive = {("127.0.0.1", 8888), ("metadata.google.internal", 8888)}
        engine.session_lines(SSH, lines)
        await settle(lambda: bool(world.opened))
        assert [f.spec.remote_host for f in world.forwards] == ["127.0.0.1"]

    run(scenario, config=Config(forward_public_hosts=True))
