"""Controls for tests: cookies, holding updates, dropping connections, calling functions."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import secrets
import time
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any

from iterm2 import api_pb2 as pb

from .lifecycle import SessionControls
from .model import FakeRPCError, FakeSession, _Registration, _threadsafe
from .ui_requests import _signature

if TYPE_CHECKING:
    from .connection import _Connection

DEFAULT_RPC_TIMEOUT = 5.0


class TestControls(SessionControls):
    """What a test does to the fake iTerm2 besides writing to sessions."""

    _cookies: set[str]
    _rpcs: dict[str, _Registration]
    _rpc_ids: itertools.count[int]
    _rpc_waiters: dict[str, tuple[_Connection, asyncio.Future[Any]]]

    # -------------------------------------------------------------- test controls

    @_threadsafe
    def issue_cookie(self) -> str:
        """A one-time cookie for ITERM2_COOKIE, as iTerm2 hands each script it launches."""
        cookie = secrets.token_hex(16)
        self._cookies.add(cookie)
        return cookie

    @_threadsafe
    def set_updates_held(self, held: bool) -> None:
        """While held, screens change but no screen-update notification is posted."""
        self._updates_held = held
        if not held and self._dirty and self._dirty_event is not None:
            self._dirty_event.set()

    @contextlib.contextmanager
    def updates_held(self) -> Iterator[None]:
        self.set_updates_held(True)
        try:
            yield
        finally:
            self.set_updates_held(False)

    @_threadsafe
    def drop_connections(self) -> int:
        """Cut every client off at once, as when iTerm2 quits. Returns how many there were."""
        count = len(self._connections)
        for conn in list(self._connections):
            conn.abort()
        return count

    @_threadsafe
    def connection_count(self) -> int:
        return len(self._connections)

    @_threadsafe
    def set_broadcast_domains(self, domains: Iterable[Iterable[FakeSession]]) -> None:
        self.broadcast_domains = [[s.session_id for s in domain] for domain in domains]
        note = pb.Notification()
        self._fill_broadcast_domains(note.broadcast_domains_changed.broadcast_domains)
        self._post_app(pb.NOTIFY_ON_BROADCAST_CHANGE, note)

    @_threadsafe
    def registered_functions(self) -> list[str]:
        return sorted(self._rpcs)

    @_threadsafe
    def reached_by_all_subscription(self, session: FakeSession) -> bool:
        """Whether some connection's screen-update subscription for "all" reaches the session."""
        kind = pb.NOTIFY_ON_SCREEN_UPDATE
        return any(kind in c.all_sessions_subs and c.covers(kind, session.session_id) for c in self._connections)

    @_threadsafe
    def screen_subscribers(self, session: FakeSession) -> int:
        """How many connections would get this session's screen updates."""
        return sum(1 for conn in self._connections if conn.wants(pb.NOTIFY_ON_SCREEN_UPDATE, session))

    async def invoke_rpc(self, name: str, *, timeout: float | None = None, **arguments: Any) -> Any:
        """Call a function a script registered (as a key binding or trigger would) and await it."""
        signature = _signature(name, arguments)
        registration = self._rpcs.get(signature)
        if registration is None:
            raise FakeRPCError(f"No function registered for invocation “{signature}”")
        if timeout is None:
            req = registration.request
            timeout = req.timeout if req.HasField("timeout") else DEFAULT_RPC_TIMEOUT
        request_id = f"rpc-{next(self._rpc_ids)}"
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._rpc_waiters[request_id] = (registration.connection, future)
        note = pb.Notification()
        rpc = note.server_originated_rpc_notification
        rpc.request_id = request_id
        rpc.rpc.name = name
        for arg_name in sorted(arguments):
            arg = rpc.rpc.arguments.add()
            arg.name = arg_name
            if arguments[arg_name] is not None:
                arg.json_value = json.dumps(arguments[arg_name])
        registration.connection.post(note)
        try:
            return await asyncio.wait_for(future, timeout)
        except asyncio.TimeoutError:
            raise FakeRPCError("Timeout") from None
        finally:
            self._rpc_waiters.pop(request_id, None)

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 10.0) -> None:
        """Poll server state on the loop until ``predicate()`` holds."""
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise TimeoutError("condition not reached on the fake iTerm2")
            await asyncio.sleep(0.01)

