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
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from iterm2_autolaunch.budget import Budget, Once, forward_refusal
from iterm2_autolaunch.config import Config
from iterm2_autolaunch.detect import KINDS, Detector, Event, is_loopback
from iterm2_autolaunch.errors import AutolaunchError
from iterm2_autolaunch.hosts import forward_order, site_domain
from iterm2_autolaunch.interfaces import Effects, ServerView, probe_url
from iterm2_autolaunch.locate import locate
from iterm2_autolaunch.opener import Opener
from iterm2_autolaunch.redact import redact
from iterm2_autolaunch.server import Server, ServerKey
from iterm2_autolaunch.session import SessionContext
from iterm2_autolaunch.target import SshTarget

log = logging.getLogger(__name__)

KIND_BY_NAME = {kind.name: kind for kind in KINDS}

# A live forward is probed every HEALTH_INTERVAL seconds; HEALTH_FAILURES failed probes in a row close it
# (each failed probe is probe.py's few quick tries): the bound on how long a forward outlives a server
# that printed no stop line.
HEALTH_INTERVAL = 1.0
HEALTH_FAILURES = 2
# While a server of a kind that prints before it listens (Kind.listens_within) is not answering yet.
READY_POLL = 1.0


class Engine:
    def __init__(
        self,
        config: Config,
        effects: Effects,
        *,
        health_interval: float = HEALTH_INTERVAL,
        health_failures: int = HEALTH_FAILURES,
        ready_poll: float = READY_POLL,
    ) -> None:
        self._config = config
        self._effects = effects
        self._health_interval = health_interval
        self._health_failures = health_failures
        self._ready_poll = ready_poll
        self._detectors: dict[str, Detector] = {}
        self._servers: dict[ServerKey, Server] = {}
        self._starting: dict[ServerKey, asyncio.Task[None]] = {}
        self._closing: set[asyncio.Task[object]] = set()
        self._dismissed: set[ServerKey] = set()  # forwards the user closed, of servers that have not stopped
        self._listeners: list[Callable[[], None]] = []
        self.last_opened: Server | None = None
        limits = config.limits
        self._opener = Opener(config, effects, self._track)
        self._opens = Budget("browser opens", limits.opens_per_minute, log)
        self._notes = Budget("notifications", limits.notifications_per_minute, log)
        self._refused = Once(log)

    # -- LineSink -------------------------------------------------------------------------------

    def session_lines(self, context: SessionContext, lines: Sequence[str]) -> None:
        detector = self._detectors.get(context.session_id)
        if detector is None:
            detector = self._detectors[context.session_id] = Detector(markers=self._config.markers, number_lines=False)
        for event in detector.feed(lines):
            self.handle(context, event)

    def session_event(self, context: SessionContext, event: Event) -> None:
        """An event found outside the lines (the invisible marker): handled as if detected in them."""
        self.handle(context, event)

    def session_ended(self, session_id: str) -> None:
        self._detectors.pop(session_id, None)
        self._dismissed = {key for key in self._dismissed if key[0] != session_id}
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
            self._dismissed = {other for other in self._dismissed if other[:3] != key[:3]}  # it really went
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
        if key in self._dismissed:
            # the user closed this very server's forward and it has not stopped since: its lines read again
            # (a repaint, a resize, scrollback replayed) must not reopen it
            log.info("[%s] %s on port %d: closed by you; not reopened", context.session_id[:8], event.kind, event.port)
            return
        for other, task in list(self._starting.items()):
            if other[:3] == key[:3]:  # same session, kind and port, newer token: the older start is moot
                task.cancel()
        if not self._room_for(context.session_id, key):
            return
        task = asyncio.get_running_loop().create_task(self._start(context, event, key, action))
        self._starting[key] = task
        task.add_done_callback(lambda _: self._starting.pop(key, None))

    def _room_for(self, session_id: str, key: ServerKey) -> bool:
        """Within the forward limits? Refusals are logged once per reason."""
        refusal = forward_refusal(key, [*self._servers, *self._starting], self._config.limits)
        if refusal is not None:
            self._refused.warn(refusal, "[%s] %s", session_id[:8], refusal)
        return refusal is None

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
            given = action  # a listing's (config reattach): not the kind's
            action = action or self._config.action_for(event.kind, *names)
            if action == "ignore":
                log.info("%s %s on port %d ignored by config", prefix, event.kind, event.port)
                return
            server = await self._reach(context.session_id, event, target, prefix)
            if server is None:
                self._forget(context.session_id, key)
                return
            if server.shows and given is None:  # e.g. MLflow 2 under gunicorn: act as for MLflow
                action = self._config.action_for(server.shows, *names)
                log.info("%s %s on port %d serves %s's page", prefix, event.kind, event.port, server.shows)
            self._servers[key] = server
            server.health = asyncio.get_running_loop().create_task(self._watch(server))
            self._changed()
            self._act(server, action, prefix)
        except AutolaunchError as error:
            self._report(f"{prefix} {event.kind} on port {event.port}", str(error))
            self._forget(context.session_id, key)
        except asyncio.CancelledError:
            log.info("%s %s on port %d: start cancelled", prefix, event.kind, event.port)
            raise

    async def _reach(self, session_id: str, event: Event, target: SshTarget, prefix: str) -> Server | None:
        """Open a forward (unless local) and probe through it: the printed host first, loopback last."""
        kind = KIND_BY_NAME[event.kind]
        # The printed host first, loopback last; public names only in the ssh host's domain or when the config
        # allows them (hosts.py).
        allow_any, domain = self._config.forward_public_hosts, site_domain(target.hostname, target.destination)
        printed = event.printed_hosts or (event.host,)  # a listing's, a marker's: the one host of its URL
        hosts = list(forward_order(printed, allow_any=allow_any, domain=domain))
        if not hosts:  # a public name alone: screen text may print any, and loopback may be another user's
            log.info("%s %s on port %d printed only %s, outside %s: not forwarded (see forward_public_hosts)",
                     prefix, event.kind, event.port, ", ".join(printed), f"*.{domain}" if domain else "any site domain")
            return None
        # One deadline for all the hosts tried: a slow starter's patience is not paid once per host.
        deadline = asyncio.get_running_loop().time() + kind.listens_within
        about = f"{prefix} {event.kind} on port {event.port}"
        reason = ""

        def waiting(wait: str) -> None:  # told once, or the silence would look like a failure
            log.info("%s: %s", about, wait)
            if self._notes.allow():
                self._effects.notify(f"{about}: starting", wait)

        for host in hosts:
            forward = None
            if target.local:
                if not is_loopback(host) and host not in ("0.0.0.0", "::"):
                    continue  # only a local server on loopback is opened without a tunnel
                origin = f"{event.scheme}://localhost:{event.port}"
            else:
                forward = await self._opener.open(target, self._effects.remote_host(host), event.port)
                origin = f"{event.scheme}://localhost:{forward.local_port}"
            try:
                found = await locate(self._effects.probe, origin, event, kind, deadline, waiting, self._ready_poll)
            except BaseException:  # cancelled (the session closed) while probing: the forward goes too
                if forward is not None:
                    self._track(asyncio.to_thread(forward.close))
                raise
            result, origin = found.result, found.origin
            if result.ok:
                query = f"?{event.query}" if event.query else ""
                url, url_for_probe = origin + found.path + query, probe_url(origin, found.base_path, kind)
                server = Server(session_id, event, target, forward, url, url_for_probe, shows=result.shows)
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
            self._report(f"{about} did not answer", f"nothing opened: {reason}")
        return None

    def _already_forwarded(self, target: SshTarget, port: int) -> bool:
        """A listed server already reachable: the same remote port on the same ssh host."""
        return any(
            server.event.port == port and (server.target.hostname, server.target.port) == (target.hostname, target.port)
            for server in self._servers.values()
        )

    def _act(self, server: Server, action: str, prefix: str) -> None:
        self.last_opened = server
        kind = server.shows or server.event.kind
        server.place = self._config.browser_for(kind, server.target.destination, server.target.hostname)
        if action == "open" and self._opens.allow():
            log.info("%s opening %s (%s)", prefix, redact(server.url), server.place)
            self._show(server)
        elif action in ("open", "notify") and self._notes.allow():
            self._effects.notify(
                f"{kind} ready", f"{server.target.destination or 'local'}: {redact(server.url)}"
            )
        else:
            log.info("%s %s ready at %s (silent)", prefix, kind, redact(server.url))

    def _show(self, server: Server) -> None:
        """The system browser, or iTerm2's browser beside the session (which falls back by itself)."""
        panes = self._effects.panes
        if server.place != "system" and panes is not None:
            panes.show(server, server.place)
        else:
            server.shown_in = "system browser"
            self._effects.open_url(server.url)

    async def _watch(self, server: Server) -> None:
        """Close the forward once the server stops answering (killed without a stop line, host gone)."""
        kind = KIND_BY_NAME[server.event.kind]
        failures = 0
        while failures < self._health_failures:
            await asyncio.sleep(self._health_interval)
            result = await self._effects.probe(server.probe_url, kind)
            failures = 0 if result.ok else failures + 1
        server.health = None  # this task is finishing; _close must not cancel it
        self._forget(server.session_id, server.key)  # gone without a stop line
        self._spawn_close(server, "server no longer answers")

    def _forget(self, session_id: str, key: ServerKey) -> None:
        """The session's detector stops counting that server as running: the same URL printed again (the
        server run again, after it died silently or its start came to nothing) is a new start. A tool that
        prints no stop line (Dash, TensorBoard) would otherwise never be announced again on that port."""
        detector = self._detectors.get(session_id)
        if detector is not None:
            detector.forget(*key[1:])

    # -- closing --------------------------------------------------------------------------------

    def _spawn_close(self, server: Server, why: str) -> None:
        self._track(self._close(server, why))

    def _track(self, closing: Coroutine[Any, Any, object]) -> None:
        """Run a closing step as a task the engine owns: shutdown waits for it (bounded)."""
        task = asyncio.get_running_loop().create_task(closing)
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    async def _close(self, server: Server, why: str) -> None:
        if self._servers.get(server.key) is not server:
            return
        del self._servers[server.key]
        if server.health is not None:
            server.health.cancel()
        if self._effects.panes is not None and server.shown_in and server.place != "system":
            self._effects.panes.server_gone(server, why)
        if server.forward is not None:
            await asyncio.to_thread(server.forward.close)
        log.info("[%s] forward closed localhost:%d (%s)", server.session_id[:8], server.local_port, why)
        self._changed()

    async def close_server(self, server: ServerView, why: str) -> None:
        """Close one forward now (the status bar's Close); it is not reopened until the server stops."""
        if isinstance(server, Server):
            self._dismissed.add(server.key)
            await self._close(server, why)

    async def close_all(self, why: str = "closed by user", *, by_user: bool = True) -> int:
        servers = list(self._servers.values())
        if by_user:
            self._dismissed.update(server.key for server in servers)
        await asyncio.gather(*(self._close(server, why) for server in servers))
        return len(servers)

    async def shutdown(self, timeout: float = 5.0) -> None:
        """Bounded: cancel starts, close every forward, wait for pending closes; say what was left."""
        for task in list(self._starting.values()):
            task.cancel()
        try:
            await asyncio.wait_for(self._drain(), timeout)
        except asyncio.TimeoutError:
            log.warning("shutdown: %d forwards, %d closes left after %.0f s", len(self._servers),
                        len(self._closing), timeout)

    async def _drain(self) -> None:
        await asyncio.gather(*self._starting.values(), return_exceptions=True)
        await self.close_all("shutting down", by_user=False)
        while self._closing:  # including the closes that cancelled starts left behind
            await asyncio.gather(*list(self._closing), return_exceptions=True)

    # -- for the UI and `list` ------------------------------------------------------------------

    def idle(self) -> bool:
        """No forward is being opened, probed or closed right now."""
        return not self._starting and not self._closing

    def servers(self) -> list[Server]:
        return sorted(self._servers.values(), key=lambda server: server.opened_at)

    def open_server(self, server: ServerView) -> None:
        """Open one live server's page again (the status bar's Open); it becomes the one "reopen last" means."""
        if isinstance(server, Server) and self._servers.get(server.key) is server:
            self.last_opened = server
            self._show(server)

    def reopen_last(self) -> bool:
        server = self.last_opened
        if server is None or self._servers.get(server.key) is not server:
            return False
        self._show(server)
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
        if self._notes.allow():
            self._effects.notify(title, message)
