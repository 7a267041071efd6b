"""The engine's decisions as one table: a script of events in, the effects a user would notice out.

Each row feeds lines and session ends to a real Engine whose effects are the small fakes of test_engine.py,
waits until the engine is idle after every step, and compares what happened: the forwards opened (remote
host and port), the browser tabs, the forwards still live, and the notifications. The lines are the real
Jupyter Server 2 lines of tests/data/captures (see test_engine.jupyter_start).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import pytest

from iterm2_autolaunch import engine as engine_module
from iterm2_autolaunch.config import Config, HostRule
from iterm2_autolaunch.detect import Kind
from iterm2_autolaunch.engine import Engine
from iterm2_autolaunch.interfaces import ProbeResult
from iterm2_autolaunch.session import SessionContext
from tests.test_engine import JUPYTER_STOP, SSH, FakeWorld, jupyter_start

OTHER = SessionContext("s2", job_name="ssh", command_line="ssh wheeler")
LOCAL = SessionContext("s3", job_name="zsh")


@dataclass(frozen=True)
class Step:
    session: SessionContext
    lines: tuple[str, ...] = ()
    end: bool = False  # the session closes
    server_dies: bool = False  # every server stops answering (killed without a stop line)
    unanswered: int = 0  # the next probes that get no answer: a server that printed its URL before it listens


def lines(session: SessionContext, text: list[str]) -> Step:
    return Step(session, tuple(text))


@dataclass(frozen=True)
class Seen:
    forwards: list[tuple[str, int]] = field(default_factory=list)  # (remote host, remote port), in order
    tabs: list[str] = field(default_factory=list)
    live: int = 0
    notes: int = 0


START = jupyter_start()
# MLflow 3.17.2 (tests/data/captures/mlflow_server.raw): uvicorn prints this, then its workers import MLflow
# for tens of seconds before anything answers (kinds.MLFLOW.listens_within).
MLFLOW_START = ["2026/12/04 12:58:16 INFO:     Uvicorn running on http://127.0.0.1:5000 (Press CTRL+C to quit)"]
URL = "http://localhost:{}/lab?token=abc123"

TABLE = [
    pytest.param([lines(SSH, START)], Config(), Seen([("127.0.0.1", 8888)], [URL], live=1), id="start-opens"),
    pytest.param([lines(SSH, START), lines(SSH, START)], Config(), Seen([("127.0.0.1", 8888)], [URL], live=1),
                 id="printed-twice-one-tab"),
    pytest.param([lines(SSH, START), lines(SSH, JUPYTER_STOP)], Config(), Seen([("127.0.0.1", 8888)], [URL]),
                 id="stop-line-closes"),
    pytest.param([lines(SSH, START), Step(SSH, end=True)], Config(), Seen([("127.0.0.1", 8888)], [URL]),
                 id="session-end-closes"),
    pytest.param([lines(SSH, START), Step(OTHER, end=True)], Config(), Seen([("127.0.0.1", 8888)], [URL], live=1),
                 id="other-session-end-keeps"),
    pytest.param([lines(SSH, START), Step(SSH, server_dies=True)], Config(), Seen([("127.0.0.1", 8888)], [URL]),
                 id="dead-server-closes"),
    pytest.param([lines(SSH, START), lines(SSH, jupyter_start(token="new"))], Config(),
                 Seen([("127.0.0.1", 8888)] * 2, [URL, "http://localhost:{}/lab?token=new"], live=1),
                 id="restart-new-token-replaces"),
    pytest.param([lines(SSH, START)], Config(actions={"jupyter": "notify"}), Seen([("127.0.0.1", 8888)], live=1,
                 notes=1), id="notify-action"),
    pytest.param([lines(SSH, START)], Config(actions={"jupyter": "silent"}), Seen([("127.0.0.1", 8888)], live=1),
                 id="silent-action"),
    pytest.param([lines(SSH, START)], Config(actions={"jupyter": "ignore"}), Seen(), id="ignore-action"),
    pytest.param([lines(SSH, START)], Config(hosts=(HostRule(match="wheel*", actions={"jupyter": "ignore"}),)),
                 Seen(), id="host-rule-ignores"),
    pytest.param([lines(SSH, START)], Config(kinds=frozenset({"tensorboard"})), Seen(), id="kind-disabled"),
    pytest.param([lines(SSH, START), lines(OTHER, START)], Config(),
                 Seen([("127.0.0.1", 8888)] * 2, [URL, URL], live=2), id="two-sessions-two-servers"),
    pytest.param([lines(SSH, ["see http://localhost:8888/lab?token=abc123 for details"])], Config(), Seen(),
                 id="prose-url-nothing"),
    pytest.param([lines(SSH, JUPYTER_STOP)], Config(), Seen(), id="stop-without-start-nothing"),
    # Readiness: a kind that prints before it listens is waited for (the user told once), the others are not.
    pytest.param([Step(SSH, tuple(MLFLOW_START), unanswered=3)], Config(),
                 Seen([("127.0.0.1", 5000)], ["http://localhost:{}/"], live=1, notes=1), id="slow-starter-waited-for"),
    pytest.param([Step(SSH, tuple(MLFLOW_START))], Config(), Seen([("127.0.0.1", 5000)], ["http://localhost:{}/"],
                 live=1), id="slow-starter-ready-no-wait-note"),
    pytest.param([Step(SSH, tuple(START), unanswered=1)], Config(), Seen([("127.0.0.1", 8888)], notes=1),
                 id="prompt-kind-not-answering-reported-at-once"),
]


@dataclass
class SlowWorld(FakeWorld):
    """FakeWorld whose servers may take a few probes to answer (``Step.unanswered``), MLflow's port live too."""

    unanswered: int = 0

    def __post_init__(self) -> None:
        self.alive.add(("127.0.0.1", 5000))

    async def probe(self, url: str, kind: Kind) -> ProbeResult:
        if self.unanswered > 0 and url.startswith("http:"):  # the https try after each gets no answer either
            self.unanswered -= 1
            return ProbeResult(False, "no answer (timed out)")
        return await super().probe(url, kind)


@pytest.mark.parametrize(("steps", "config", "expected"), TABLE)
def test_engine_decision(steps: list[Step], config: Config, expected: Seen) -> None:
    world = SlowWorld()
    live_at_end: list[int] = []

    async def until(condition: Callable[[], bool]) -> None:
        for _ in range(300):
            if condition():
                return
            await asyncio.sleep(0.01)
        raise AssertionError("the engine did not settle")

    async def scenario() -> None:
        engine = Engine(config, world.effects(), health_interval=0.02, ready_poll=0.01)
        try:
            for step in steps:
                world.unanswered = step.unanswered
                if step.server_dies:
                    world.alive.clear()
                    await until(lambda: not world.live())
                elif step.end:
                    engine.session_ended(step.session.session_id)
                else:
                    engine.session_lines(step.session, list(step.lines))
                await asyncio.sleep(0)  # let the tasks the step made start
                await until(engine.idle)
            live_at_end.append(len(world.live()))
        finally:
            await engine.shutdown()

    asyncio.run(scenario())
    assert [(f.spec.remote_host, f.spec.remote_port) for f in world.forwards] == expected.forwards
    # tab i is the page of forward i, on that forward's own local port
    tab_forwards = world.forwards[: len(expected.tabs)]
    assert world.opened == [tab.format(f.local_port) for tab, f in zip(expected.tabs, tab_forwards, strict=True)]
    assert live_at_end == [expected.live]
    assert len(world.notes) == expected.notes
    assert world.live() == []  # and shutdown closes everything


def test_a_slow_starter_is_given_up_on_after_its_patience(monkeypatch: pytest.MonkeyPatch) -> None:
    """MLflow's patience, shortened to 0.3 s: a server that never answers is reported once it runs out (after
    the note that we wait), its forward closed, nothing opened; and not before (the probes went on)."""
    mlflow = replace(engine_module.KIND_BY_NAME["mlflow"], listens_within=0.3)
    monkeypatch.setitem(engine_module.KIND_BY_NAME, "mlflow", mlflow)
    world = SlowWorld(unanswered=10**6)
    started: list[float] = []

    async def scenario() -> None:
        engine = Engine(Config(), world.effects(), ready_poll=0.01)
        try:
            started.append(asyncio.get_running_loop().time())
            engine.session_lines(SSH, MLFLOW_START)
            await asyncio.sleep(0)
            while not engine.idle():
                await asyncio.sleep(0.01)
            started.append(asyncio.get_running_loop().time())
        finally:
            await engine.shutdown()

    asyncio.run(scenario())
    assert world.opened == [] and world.live() == [] and len(world.forwards) == 1
    assert [title.split("] ", 1)[1] for title, _ in world.notes] == [
        "mlflow on port 5000: starting",
        "mlflow on port 5000 did not answer",
    ]
    assert 0.3 <= started[1] - started[0] < 2.0
    assert 10**6 - world.unanswered > 10  # it kept probing while it waited
