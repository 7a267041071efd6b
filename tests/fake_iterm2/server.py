"""A fake iTerm2 API server that the real ``iterm2`` client library talks to.

It listens where iTerm2 does, ``$HOME/Library/Application Support/iTerm2/private/socket``, speaks
websocket subprotocol ``api.iterm2.com`` and answers each ``ClientOriginatedMessage`` with the
``ServerOriginatedMessage`` iTerm2 would send (ITERM2_API.md §1, iTerm2's iTermAPIHelper.m and
PTYSession.m). Requests it does not model get an ``error`` reply, never silence.

Model: windows hold tabs, tabs hold sessions; each session owns a :class:`Terminal` that tests
write program output into. Like iTerm2, screen-update notifications are coalesced to at most one
per session per display refresh (60 Hz), and notifications go only to connections that subscribed.

Use from async code::

    async with FakeITerm2(home) as fake:
        s = fake.add_session(rows=24, columns=80, variables={"jobName": "ssh"})
        s.write(b"hello\\r\\n")

or from synchronous tests, with the server on its own thread and event loop::

    with FakeITerm2(home).running() as fake:
        s = fake.add_session()
        s.write(b"hello\\r\\n")          # runs on the server's loop and waits for it

Every public method that changes or reads state may be called from the server's loop or from any
other thread; coroutines (``invoke_rpc``) are run from other threads with :meth:`FakeITerm2.call`.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import re
import threading
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

from iterm2 import api_pb2 as pb
from websockets.asyncio.server import Server, ServerConnection, unix_serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from .connection import _Connection
from .controls import TestControls
from .model import (
    THREAD_CALL_TIMEOUT,
    Alert,
    FakeRPCError,
    FakeSession,
    FakeWindow,
    Popover,
    _Registration,
)

log = logging.getLogger(__name__)

PROTOCOL_VERSION = "1.23"
SOCKET_PATH = Path("Library", "Application Support", "iTerm2", "private", "socket")
# iTerm2 draws (and so posts screen updates) at most once per display refresh.
REFRESH_INTERVAL = 1 / 60
# KEY_UNDO_TIMEOUT's default (iTermProfilePreferences.m): a closed session can be revived this long.
UNDO_TIMEOUT = 5.0
# iTermUpdateCadenceController.m kBackgroundUpdateCadence: sessions not in a selected tab.
BACKGROUND_REFRESH_INTERVAL = 1.0

_R = TypeVar("_R")


class FakeITerm2(TestControls):
    """The fake iTerm2 app: sessions in windows, an API server, and controls for tests."""

    def __init__(
        self,
        home: str | os.PathLike[str],
        *,
        protocol_version: str = PROTOCOL_VERSION,
        refresh_interval: float = REFRESH_INTERVAL,
        clear_keeps_numbering: bool = True,
        legacy: bool = False,
        undo_timeout: float = UNDO_TIMEOUT,
        background_interval: float = BACKGROUND_REFRESH_INTERVAL,
    ) -> None:
        self.home = Path(home)
        self.socket_path = self.home / SOCKET_PATH
        if len(os.fsencode(self.socket_path)) >= 104:
            raise ValueError(f"socket path too long for AF_UNIX ({self.socket_path}); use a shorter HOME")
        self.protocol_version = protocol_version
        self.refresh_interval = refresh_interval
        self.clear_keeps_numbering = clear_keeps_numbering
        # legacy=True: this fake's older model (terminal.py) and sessions that terminate at once.
        self.legacy = legacy
        self.undo_timeout = undo_timeout
        self.background_interval = background_interval
        # What modal alerts answer: the button index (the reply is 1000 + index), the text of a
        # text-input alert (None = cancelled), and the poly-modal result.
        self.alert_button = 0
        self.text_input: str | None = ""
        self.poly_modal_result: Any = None
        self.alerts: list[Alert] = []
        # iTerm2's built-in browser (browser.py): is the Browser Plugin installed, what the user answers
        # when a script first loads a domain ("OK" or "Cancel"), the domains allowed so far, and each
        # domain asked about, in order.
        self.browser_plugin = True
        self.load_url_answer = "OK"
        self.allowed_domains: set[str] = set()
        self.load_url_questions: list[str] = []
        self.popovers: list[Popover] = []
        self.status_bar_components: dict[str, pb.RPCRegistrationRequest] = {}
        self.app_variables: dict[str, Any] = {}
        self.app_active = True
        self.windows: list[FakeWindow] = []
        self.buried_sessions: list[FakeSession] = []
        # tmux integration: connection id -> the session where `tmux -CC` runs (the gateway).
        self.tmux_connections: dict[str, FakeSession] = {}
        self.broadcast_domains: list[list[str]] = []
        self.request_counts: dict[str, int] = {}
        self.connections_seen = 0
        self._cookies: set[str] = set()
        self._ids = itertools.count(1)
        self._rpc_ids = itertools.count()
        self._rpcs: dict[str, _Registration] = {}
        self._rpc_waiters: dict[str, tuple[_Connection, asyncio.Future[Any]]] = {}
        self._connections: set[_Connection] = set()
        self._dirty: set[FakeSession] = set()
        self._dirty_event: asyncio.Event | None = None
        self._updates_held = False
        self._transaction_owner: _Connection | None = None
        self._deferred_writes: list[tuple[FakeSession, bytes]] = []
        self._server: Server | None = None
        self._refresher: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    # -------------------------------------------------------------- lifecycle

    async def start(self) -> None:
        """Listen on the socket. Start this before the client: it checks for the file to exist."""
        self._loop = asyncio.get_running_loop()
        self._dirty_event = asyncio.Event()
        self.socket_path.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileNotFoundError):
            self.socket_path.unlink()
        self._server = await unix_serve(
            self._serve_connection,
            os.fspath(self.socket_path),
            subprotocols=["api.iterm2.com"],
            process_request=self._check_request,
            process_response=self._add_protocol_version,
            # iTerm2's own websocket code: no compression, no pings, large messages.
            compression=None,
            ping_interval=None,
            max_size=None,
        )
        self._refresher = asyncio.create_task(self._refresh_screens(), name="fake-iterm2-refresh")

    async def stop(self) -> None:
        if self._refresher is not None:
            self._refresher.cancel()
            await asyncio.gather(self._refresher, return_exceptions=True)
            self._refresher = None
        for conn in list(self._connections):
            conn.abort()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        with contextlib.suppress(FileNotFoundError):
            self.socket_path.unlink()

    async def __aenter__(self) -> FakeITerm2:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @contextlib.contextmanager
    def running(self) -> Iterator[FakeITerm2]:
        """Serve from a background thread with its own event loop, for synchronous tests."""
        started = threading.Event()
        stop_requested: list[asyncio.Event] = []
        failure: list[BaseException] = []

        async def serve() -> None:
            stop = asyncio.Event()
            stop_requested.append(stop)
            try:
                await self.start()
            except BaseException as exc:
                failure.append(exc)
                started.set()
                raise
            started.set()
            try:
                await stop.wait()
            finally:
                await self.stop()

        def thread_main() -> None:
            with contextlib.suppress(BaseException):
                asyncio.run(serve())

        self._thread = threading.Thread(target=thread_main, name="fake-iterm2", daemon=True)
        self._thread.start()
        if not started.wait(THREAD_CALL_TIMEOUT) or failure:
            raise RuntimeError("fake iTerm2 did not start") from (failure[0] if failure else None)
        try:
            yield self
        finally:
            loop = self._loop
            if loop is not None and not loop.is_closed():
                loop.call_soon_threadsafe(stop_requested[0].set)
            self._thread.join(THREAD_CALL_TIMEOUT)
            self._thread = None
            self._loop = None

    def call(self, coro: Coroutine[Any, Any, _R], timeout: float = THREAD_CALL_TIMEOUT) -> _R:
        """Run a coroutine on the server's loop from another thread and return its result."""
        if self._loop is None:
            raise RuntimeError("the fake iTerm2 is not running")
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    def _on_loop_thread(self) -> bool:
        try:
            return asyncio.get_running_loop() is self._loop
        except RuntimeError:
            return False

    # -------------------------------------------------------------- websocket plumbing

    def _check_request(self, connection: ServerConnection, request: Request) -> Response | None:
        """Refuse what iTerm2 refuses (iTermWebSocketConnection.m): wrong path, origin, auth."""
        headers = request.headers
        if request.path != "/":
            return connection.respond(400, "Bad request\n")
        if headers.get("origin") not in ("ws://localhost/", "http://localhost", "ws://localhost"):
            return connection.respond(400, "Bad origin\n")
        library = headers.get("x-iterm2-library-version", "")
        match = re.fullmatch(r"python (\d+)\.(\d+)(?:\.\d+)*", library)
        if match is None or (int(match.group(1)), int(match.group(2))) < (0, 24):
            return connection.respond(406, "Library version too old\n")
        cookie = headers.get("x-iterm2-cookie")
        if cookie is None or cookie not in self._cookies:
            return connection.respond(401, "Unauthorized\n")
        self._cookies.discard(cookie)  # a cookie is good for one connection
        return None

    def _add_protocol_version(self, connection: ServerConnection, request: Request, response: Response) -> None:
        response.headers["X-iTerm2-Protocol-Version"] = self.protocol_version

    async def _serve_connection(self, websocket: ServerConnection) -> None:
        conn = _Connection(self, websocket)
        self._connections.add(conn)
        self.connections_seen += 1
        writer = asyncio.create_task(conn.write_forever(), name="fake-iterm2-writer")
        try:
            async for message in websocket:
                if isinstance(message, str):
                    conn.reply_error(0, "expected a binary protobuf message")
                    continue
                request = pb.ClientOriginatedMessage()
                try:
                    request.ParseFromString(message)
                except Exception:  # noqa: BLE001 - protobuf raises its own DecodeError
                    conn.reply_error(0, "malformed ClientOriginatedMessage")
                    continue
                await conn.handle(request)
        except ConnectionClosed:
            pass
        finally:
            self._forget_connection(conn)
            writer.cancel()
            await asyncio.gather(writer, return_exceptions=True)

    def _forget_connection(self, conn: _Connection) -> None:
        self._connections.discard(conn)
        for signature, registration in list(self._rpcs.items()):
            if registration.connection is conn:
                del self._rpcs[signature]
        for request_id, (owner, future) in list(self._rpc_waiters.items()):
            if owner is conn and not future.done():
                future.set_exception(FakeRPCError("Script terminated during function call"))
                del self._rpc_waiters[request_id]
        if self._transaction_owner is conn:
            self._end_transaction()

    # -------------------------------------------------------------- notifications

    def _end_transaction(self) -> None:
        self._transaction_owner = None
        deferred, self._deferred_writes = self._deferred_writes, []
        for session, data in deferred:
            if not session.closed:
                session.write(data)
