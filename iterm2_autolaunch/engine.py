"""The engine: from a session's lines to live forwards, and back to nothing when servers or sessions end.

One object on the asyncio loop. Frontends call ``session_lines`` and ``session_ended`` (the ``LineSink``
interface). For each server announced in a session it resolves the session's SSH target, opens a forward
on a free local port, probes the server through it, and then opens the browser (or notifies, or stays
silent, as configured). It owns every forward: one per server, closed when the server's stop line
appears, when the session ends, when the health probe finds the server gone, or at shutdown.
Every I/O step goes through ``Effects``, so tests can run the same decisions with fakes or real parts.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from iterm2_autolaunch.config import Config
from iterm2_autolaunch.detect import KINDS, Detector, Event, Kind, is_loopback, redact
from iterm2_autolaunch.errors import AutolaunchError, TunnelError
from iterm2_autolaunch.hosts import forward_order
from iterm2_autolaunch.probe import ProbeResult, probe_url
from iterm2_autolaunch.session import SessionContext
from iterm2_autolaunch.tunnels.base import Backend, Forward, ForwardSpec, SshTarget

log = logging.getLogger(__name__)

KIND_BY_NAME = {kind.name: kind for kind in KINDS}
ServerKey = tuple[str, str, int, "str | None"]  # session id, kind, remote port, token


@dataclass
class Effects:
    """The engine's seams to the outside world. Blocking callables run in worker threads."""

    resolve: Callable[[SessionContext], SshTarget]
    backend: Callable[[str, SshTarget], Backend]  # (preference from config, target) -> backend
    choose_port: Callable[[int, tuple[int, int]], int]  # (remote port, allowed range) -> free local port
    remote_host: Callable[[str], str]  # printed host -> host the forward points at, seen from the ssh host
    probe: Callable[[str, Kind], Awaitable[ProbeResult]]
    open_url: Callable[[str], None]
    notify: Callable[[str, str], None]  # (title, message); messages never contain a token


@dataclass
class Server:
    """A server the engine made reachable: its forward (None when the server is local) and its URL."""

    session_id: str
    event: Event
    target: SshTarget
    forward: Forward | None
    url: str  # what the browser gets: http(s)://localhost:<local port><path>?<query>
    probe_url: str
    opened_at: float = field(default_factory=time.monotonic)
    health: asyncio.Task[None] | None = None

    @property
    def key(self) -> ServerKey:
        return (self.session_id, self.event.kind, self.event.port, self.event.token)

    @property
    def local_port(self) -> int:
        return self.forward.local_port if self.forward else self.event.port

    def describe(self) -> dict[str, object]:
        """For `list` and the status bar: everything but the token."""
        return {
            "session": self.session_id,
            "kind": self.event.kind,
            "ssh_host": self.target.destination or "(local)",
            "remote": f"{self.event.host}:{self.event.port}",
            "local_port": self.local_port,
            "url": redact(self.url),
        }


class Engine:
    def __init__(
        self,
        config: Config,
        effects: Effects,
        *,
        health_interval: float = 1.0,
        health_failures: int = 2,
    ) -> None:
        self._config = config
        self._effects = effects
        self._health_interval = health_interval
        self._health_failures = health_failures
        self._detectors: dict[str, Detector] = {}
        self._servers: dict[ServerKey, Server] = {}
        self._starting: dict[ServerKey, asyncio.Task[None]] = {}
        self._closing: set[asyncio.Task[None]] = set()
        self._listeners: list[Callable[[], None]] = []
        self.last_opened: Server | None = None

    # -- LineSink -------------------------------------------------------------------------------

    def session_lines(self, context: SessionContext, lines: Sequence[str]) -> None:
        detector = self._detectors.get(context.session_id)
        if detector is None:
            detector = self._detectors[context.session_id] = Detector(markers=self._config.markers, number_lines=False)
        for event in detector.feed(lines):
            self.handle(context, event)

    def session_ended(self, session_id: str) -> None:
        self._detectors.pop(session_id, None)
        for key, task in list(self._starting.items()):
            if key[0] == session_id:
                task.cancel()
        for server in list(self._servers.values()):
            if server.session_id == session_id:
                self._spawn_close(server, "session ended")

    # -- decisions ------------------------------------------------------------------------------

    def handle(self, context: SessionContext, event: Event, action: str | None = None) -> None:
        """React to one detected event of a session."""
        key: ServerKey = (context.session_id, event.kind, event.port, event.token)
        if event.event == "shutdown":
            if key in self._starting:
                self._starting[key].cancel()
            if key in self._servers:
                self._spawn_close(self._servers[key], "server stopped")
            return
        if event.event == "listing":  # `jupyter server list`: a server started earlier, maybe in another session
            if self._config.reattach == "ignore":
                return
            action = action or self._config.reattach
        if key in self._servers or key in self._starting:
            return  # the same server printed again: one forward, one tab
        task = asyncio.get_running_loop().create_task(self._start(context, event, key, action))
        self._starting[key] = task
        task.add_done_callback(lambda _: self._starting.pop(key, None))

    async def _start(self, context: SessionContext, event: Event, key: ServerKey, action: str | None) -> None:
        prefix = f"[{context.session_id[:8]}]"
        try:
            for old in [s for s in self._servers.values() if s.key[:3] == key[:3]]:
                await self._close(old, "replaced by a restarted server")  # same port, new token
            target = await asyncio.to_thread(self._effects.resolve, context)
            if event.event == "listing" and self._already_forwarded(target, event.port):
                log.info("%s %s on port %d already has a forward", prefix, event.kind, event.port)
                return
            names = (target.destination, target.hostname)
            action = action or self._config.action_for(event.kind, *names)
            if action == "ignore":
                log.info("%s %s on port %d ignored by config", prefix, event.kind, event.port)
                return
            server = await self._reach(context.session_id, event, target, prefix)
            if server is None:
                return
            self._servers[key] = server
            server.health = asyncio.get_running_loop().create_task(self._watch(server))
            self._changed()
            self._act(server, action, prefix)
        except AutolaunchError as error:
            self._report(f"{prefix} {event.kind} on port {event.port}", str(error))
        except asyncio.CancelledError:
            log.info("%s %s on port %d: start cancelled", prefix, event.kind, event.port)
            raise

    async def _reach(self, session_id: str, event: Event, target: SshTarget, prefix: str) -> Server | None:
        """Open a forward (unless local) and probe through it: the printed host first, loopback last."""
        kind = KIND_BY_NAME[event.kind]
        # The printed host first, loopback last; public names only when the config allows them (hosts.py).
        allow_any = self._config.forward_public_hosts
        hosts = list(forward_order(event.printed_hosts, allow_any=allow_any) if event.printed_hosts else [event.host])
        reason = ""
        for host in hosts:
            forward = None
            if target.local:
                if not is_loopback(host) and host not in ("0.0.0.0", "::"):
                    continue  # only a local server on loopback is opened without a tunnel
                origin = f"{event.scheme}://localhost:{event.port}"
            else:
                forward = await self._open_forward(target, self._effects.remote_host(host), event.port)
                origin = f"{event.scheme}://localhost:{forward.local_port}"
            url_for_probe = probe_url(origin, event.base_path, kind)
            result = await self._effects.probe(url_for_probe, kind)
            if result.ok:
                query = f"?{event.query}" if event.query else ""
                server = Server(
                    session_id, event, target, forward, origin + event.path + query, url_for_probe
                )
                where = f"{target.destination} {host}:{event.port}" if forward else "local"
                log.info("%s forward up %s -> %s (%s)", prefix, where, origin, result.reason)
                return server
            reason = result.reason
            log.info("%s probe of %s via %s failed: %s", prefix, event.kind, host, reason)
            if forward is not None:
                await asyncio.to_thread(forward.close)
        if event.event == "listing":  # a stale entry of `jupyter server list` is no news to report
            log.info("%s listed %s on port %d did not answer: %s", prefix, event.kind, event.port, reason)
        else:
            self._report(f"{prefix} {event.kind} on port {event.port} did not answer", f"nothing opened: {reason}")
        return None

    def _already_forwarded(self, target: SshTarget, port: int) -> bool:
        """A listed server already reachable: the same remote port on the same ssh host."""
        return any(
            server.event.port == port and (server.target.hostname, server.target.port) == (target.hostname, target.port)
            for server in self._servers.values()
        )

    async def _open_forward(self, target: SshTarget, remote_host: str, remote_port: int) -> Forward:
        backend = await asyncio.to_thread(
            self._effects.backend, self._config.backend_for(target.destination), target
        )
        for attempt in (1, 2):
            local_port = self._effects.choose_port(remote_port, self._config.port_range)
            spec = ForwardSpec(target, remote_host, remote_port, local_port)
            try:
                return await asyncio.to_thread(backend.open, spec)
            except TunnelError as error:
                # The port may have been taken between our check and the bind: one more try elsewhere.
                if attempt == 2 or "address already in use" not in str(error).lower():
                    raise
        raise AssertionError("unreachable")

    def _act(self, server: Server, action: str, prefix: str) -> None:
        self.last_opened = server
        kind = server.event.kind
        if action == "open":
            log.info("%s opening %s", prefix, redact(server.url))
            self._effects.open_url(server.url)
        elif action == "notify":
            self._effects.notify(
                f"{kind} ready", f"{server.target.destination or 'local'}: {redact(server.url)}"
            )
        else:
            log.info("%s %s ready at %s (silent)", prefix, kind, redact(server.url))

    async def _watch(self, server: Server) -> None:
        """Close the forward once the server stops answering (killed without a stop line, host gone)."""
        kind = KIND_BY_NAME[server.event.kind]
        failures = 0
        while failures < self._health_failures:
            await asyncio.sleep(self._health_interval)
            result = await self._effects.probe(server.probe_url, kind)
            failures = 0 if result.ok else failures + 1
        server.health = None  # this task is finishing; _close must not cancel it
        self._spawn_close(server, "server no longer answers")

    # -- closing --------------------------------------------------------------------------------

    def _spawn_close(self, server: Server, why: str) -> None:
        task = asyncio.get_running_loop().create_task(self._close(server, why))
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    async def _close(self, server: Server, why: str) -> None:
        if self._servers.get(server.key) is not server:
            return
        del self._servers[server.key]
        if server.health is not None:
            server.health.cancel()
        if server.forward is not None:
            await asyncio.to_thread(server.forward.close)
        log.info("[%s] forward closed localhost:%d (%s)", server.session_id[:8], server.local_port, why)
        self._changed()

    async def close_server(self, server: Server, why: str) -> None:
        """Close one forward now (the status bar's Close)."""
        await self._close(server, why)

    async def close_all(self, why: str = "closed by user") -> int:
        servers = list(self._servers.values())
        await asyncio.gather(*(self._close(server, why) for server in servers))
        return len(servers)

    async def shutdown(self, timeout: float = 5.0) -> None:
        """Bounded: cancel starts, close every forward, wait for pending closes; say what was left."""
        for task in list(self._starting.values()):
            task.cancel()
        pending = [*self._starting.values(), *self._closing]
        try:
            await asyncio.wait_for(self._drain(pending), timeout)
        except asyncio.TimeoutError:
            log.warning("shutdown: %d forwards still closing after %.0f s", len(self._servers), timeout)

    async def _drain(self, pending: list[asyncio.Task[None]]) -> None:
        await asyncio.gather(*pending, return_exceptions=True)
        await self.close_all("shutting down")

    # -- for the UI and `list` ------------------------------------------------------------------

    def servers(self) -> list[Server]:
        return sorted(self._servers.values(), key=lambda server: server.opened_at)

    def reopen_last(self) -> bool:
        server = self.last_opened
        if server is None or self._servers.get(server.key) is not server:
            return False
        self._effects.open_url(server.url)
        return True

    def add_listener(self, callback: Callable[[], None]) -> None:
        self._listeners.append(callback)

    def _changed(self) -> None:
        for callback in self._listeners:
            try:
                callback()
            except Exception:  # a UI hook must never take the engine down
                log.exception("listener failed")

    def _report(self, title: str, message: str) -> None:
        log.error("%s: %s", title, message)
        self._effects.notify(title, message)
