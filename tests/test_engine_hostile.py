"""The engine against a hostile or hurried world: starts cancelled at every await point leave nothing
behind, and a flood of banners is bounded by the limits (issue: "A hostile world", items 3 and 4)."""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

from iterm2_autolaunch.config import Config, Limits
from iterm2_autolaunch.detect import Kind
from iterm2_autolaunch.engine import Engine
from iterm2_autolaunch.interfaces import Effects, ProbeResult
from iterm2_autolaunch.ports import choose_local_port
from iterm2_autolaunch.probe import probe
from iterm2_autolaunch.session import SessionContext
from iterm2_autolaunch.target import ForwardSpec, SshTarget
from iterm2_autolaunch.tunnels.openssh_backend import OpenSshBackend
from tests.processes import argv_of, children
from tests.remote_host import RemoteHost
from tests.test_engine import SSH, FakeForward, FakeWorld, jupyter_start

GATES = ["resolve", "backend", "open", "probe"]


@dataclass
class GatedWorld(FakeWorld):
    """FakeWorld whose effect ``gate`` stops until released, so a test can act while the engine waits there."""

    gate: str = ""
    reached: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)

    def _wait(self, name: str) -> None:
        if name == self.gate:
            self.reached.set()
            assert self.release.wait(10), "never released"

    def resolve(self, context: SessionContext) -> SshTarget:
        self._wait("resolve")
        return super().resolve(context)

    def backend(self, preference: str, target: SshTarget) -> FakeWorld:
        self._wait("backend")
        return super().backend(preference, target)

    def open(self, spec: ForwardSpec) -> FakeForward:
        self._wait("open")  # in the worker thread, as a real login would be
        return super().open(spec)

    async def probe(self, url: str, kind: Kind) -> ProbeResult:
        if self.gate == "probe":
            self.reached.set()
            while not self.release.is_set():
                await asyncio.sleep(0.005)
        return await super().probe(url, kind)


async def wait_for(condition: object, timeout: float = 5.0) -> None:
    assert callable(condition)
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "not reached in time"
        await asyncio.sleep(0.005)


@pytest.mark.parametrize("gate", GATES)
def test_session_closed_at_each_await_point_leaves_no_forward(gate: str) -> None:
    world = GatedWorld(gate=gate)

    async def scenario() -> None:
        engine = Engine(Config(), world.effects(), health_interval=0.05)
        try:
            engine.session_lines(SSH, jupyter_start())
            await wait_for(world.reached.is_set)
            engine.session_ended(SSH.session_id)  # the user closes the tab right now
            await asyncio.sleep(0.05)
            world.release.set()  # the login (or probe) finishes after the session is gone
            await asyncio.sleep(0.05)
            await wait_for(engine.idle)
            assert world.live() == [] and engine.servers() == [] and world.opened == []
        finally:
            world.release.set()
            await engine.shutdown()

    asyncio.run(scenario())


def test_shutdown_during_a_login_closes_what_the_login_makes() -> None:
    world = GatedWorld(gate="open")

    async def scenario() -> None:
        engine = Engine(Config(), world.effects())
        engine.session_lines(SSH, jupyter_start())
        await wait_for(world.reached.is_set)
        threading.Timer(0.2, world.release.set).start()
        await engine.shutdown(timeout=3.0)

    asyncio.run(scenario())
    assert len(world.forwards) == 1 and world.live() == []


def banner_flood(count: int, same_port: bool) -> list[str]:
    lines: list[str] = []
    for n in range(count):
        lines += jupyter_start(port=8888 if same_port else 20000 + n, token=f"t{n:04d}")
    return lines


def test_300_banners_on_300_ports_are_bounded_by_the_limits() -> None:
    world = FakeWorld(alive={("127.0.0.1", 20000 + n) for n in range(300)})
    config = Config(limits=Limits(forwards_per_session=8, opens_per_minute=6, notifications_per_minute=10))

    async def scenario() -> None:
        engine = Engine(config, world.effects(), health_interval=0.5)
        try:
            engine.session_lines(SSH, banner_flood(300, same_port=False))
            await asyncio.sleep(0)
            await wait_for(engine.idle)
            assert len(world.forwards) == 8  # logins: one per forward, and no more forwards than the limit
            assert len(world.opened) == 6  # tabs: the per-minute budget
            assert len(world.notes) <= 10
        finally:
            await engine.shutdown()

    asyncio.run(scenario())


def test_300_restarts_on_one_port_log_in_once() -> None:
    world = FakeWorld()

    async def scenario() -> None:
        engine = Engine(Config(), world.effects(), health_interval=0.5)
        try:
            engine.session_lines(SSH, banner_flood(300, same_port=True))
            await asyncio.sleep(0)
            await wait_for(engine.idle)
            # each newer token makes the older start moot: only the last one logs in and opens a tab
            assert len(world.forwards) == 1 and world.opened == [f"http://localhost:{world.forwards[0].local_port}"
                                                                  "/lab?token=t0299"]
        finally:
            await engine.shutdown()

    asyncio.run(scenario())


def test_logins_to_one_host_in_flight_are_bounded() -> None:
    world = GatedWorld(gate="open", alive={("127.0.0.1", 20000 + n) for n in range(8)})
    in_flight: list[int] = []
    lock = threading.Lock()
    active = [0]
    original_open = world.open

    def counting_open(spec: ForwardSpec) -> FakeForward:
        with lock:
            active[0] += 1
            in_flight.append(active[0])
        try:
            return original_open(spec)
        finally:
            with lock:
                active[0] -= 1

    async def scenario() -> None:
        effects = world.effects()
        effects.backend = lambda preference, target: _Opener(counting_open)
        engine = Engine(Config(limits=Limits(logins_per_host=2)), effects, health_interval=0.5)
        try:
            engine.session_lines(SSH, banner_flood(8, same_port=False))
            await wait_for(world.reached.is_set)
            await asyncio.sleep(0.2)
            world.release.set()
            await asyncio.sleep(0)
            await wait_for(engine.idle)
            assert max(in_flight) == 2 and len(world.forwards) == 8
        finally:
            world.release.set()
            await engine.shutdown()

    asyncio.run(scenario())


class _Opener:
    name = "counting"

    def __init__(self, open_: Callable[[ForwardSpec], FakeForward]) -> None:
        self.open = open_


# --- with the real openssh backend: no ssh child outlives a cancelled start -----------------------------------


def ssh_children() -> list[int]:
    """Our child processes that run ssh."""
    return [pid for pid in children(os.getpid()) if os.path.basename((argv_of(pid) or [""])[0]) == "ssh"]


@pytest.mark.root
@pytest.mark.parametrize("when", ["during-login", "during-probe"])
def test_openssh_child_does_not_outlive_a_cancelled_start(jupyter: RemoteHost, when: str) -> None:
    target = jupyter.target()
    world = FakeWorld(target=target)
    probing = threading.Event()

    async def slow_probe(url: str, kind: Kind) -> ProbeResult:
        probing.set()
        await asyncio.sleep(0.5)
        return await probe(url, kind)

    async def scenario() -> None:
        effects = Effects(
            resolve=lambda context: target,
            backend=lambda preference, target: OpenSshBackend(),
            choose_port=choose_local_port,
            remote_host=lambda host: "127.0.0.1",
            probe=slow_probe,
            open_url=world.opened.append,
            notify=lambda title, message: world.notes.append((title, message)),
        )
        engine = Engine(Config(), effects)
        try:
            engine.session_lines(SSH, jupyter_start(token=jupyter.token))
            if when == "during-login":
                await wait_for(lambda: bool(ssh_children()), 20)
            else:
                await wait_for(probing.is_set, 30)
            engine.session_ended(SSH.session_id)
            await asyncio.sleep(0)
            await wait_for(engine.idle, 40)
            assert ssh_children() == [] and world.opened == [] and engine.servers() == []
        finally:
            await engine.shutdown()

    asyncio.run(scenario())
    assert ssh_children() == []
