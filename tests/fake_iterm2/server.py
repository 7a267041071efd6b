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
import base64
import binascii
import contextlib
import functools
import getpass
import itertools
import json
import logging
import os
import re
import secrets
import socket
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from iterm2 import api_pb2 as pb
from websockets.asyncio.server import Server, ServerConnection, unix_serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from .terminal import Terminal

log = logging.getLogger(__name__)

PROTOCOL_VERSION = "1.23"
SOCKET_PATH = Path("Library", "Application Support", "iTerm2", "private", "socket")
# iTerm2 draws (and so posts screen updates) at most once per display refresh.
REFRESH_INTERVAL = 1 / 60
DEFAULT_RPC_TIMEOUT = 5.0
# Longest a thread waits for the server's loop to run one call.
THREAD_CALL_TIMEOUT = 30.0

_P = ParamSpec("_P")
_R = TypeVar("_R")

NT = pb.NotificationType
# Notifications about the app as a whole: one subscription per connection (iTermAPIHelper).
_APP_NOTIFICATIONS = {
    pb.NOTIFY_ON_NEW_SESSION,
    pb.NOTIFY_ON_TERMINATE_SESSION,
    pb.NOTIFY_ON_LAYOUT_CHANGE,
    pb.NOTIFY_ON_FOCUS_CHANGE,
    pb.NOTIFY_ON_BROADCAST_CHANGE,
}
# Notifications about one session (or "all", which includes sessions created later). The fake
# only ever posts these two; subscribing to keystrokes or prompts gets an error.
_SESSION_NOTIFICATIONS = {pb.NOTIFY_ON_SCREEN_UPDATE, pb.NOTIFY_ON_CUSTOM_ESCAPE_SEQUENCE}
_NOTIFY_STATUS = pb.NotificationResponse.Status
_VALID_IDENTIFIER = re.compile(r"[A-Za-z0-9_]+\Z")


def _threadsafe(method: Callable[_P, _R]) -> Callable[_P, _R]:
    """Run a method on the server's event loop, waiting for it when called from another thread."""

    @functools.wraps(method)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        owner = args[0]
        server: FakeITerm2 = owner if isinstance(owner, FakeITerm2) else owner._server  # type: ignore[attr-defined]
        loop = server._loop
        if loop is None or server._on_loop_thread():
            return method(*args, **kwargs)

        async def on_loop() -> _R:
            return method(*args, **kwargs)

        return asyncio.run_coroutine_threadsafe(on_loop(), loop).result(THREAD_CALL_TIMEOUT)

    return wrapper


class FakeRPCError(Exception):
    """A registered function raised, timed out or does not exist."""


# ------------------------------------------------------------------------------------ model


class FakeSession:
    """A terminal session: its screen, its variables, and where it sits in the window layout."""

    def __init__(
        self,
        server: FakeITerm2,
        *,
        rows: int,
        columns: int,
        scrollback: int | None,
        variables: Mapping[str, Any],
        title: str,
    ) -> None:
        self._server = server
        self.session_id = str(uuid.uuid4()).upper()
        self.title = title
        self.terminal = Terminal(
            rows,
            columns,
            scrollback,
            clear_keeps_numbering=server.clear_keeps_numbering,
            on_osc=self._on_osc,
        )
        self.tab: FakeTab | None = None
        self.buried = False
        self.closed = False
        # What clients typed with send_text, and how often they read the screen: observables
        # for tests ("the client has read session S at least once").
        self.typed: list[str] = []
        self.screen_reads = 0
        self.range_reads = 0
        self.updates_posted = 0
        self.variables: dict[str, Any] = {
            "id": self.session_id,
            "jobName": "zsh",
            "commandLine": "-zsh",
            "processTitle": "zsh",
            "hostname": socket.gethostname(),
            "username": getpass.getuser(),
            "columns": columns,
            "rows": rows,
            "profileName": "Default",
            "name": title,
            "autoName": title,
            "presentationName": title,
            "sshIntegrationLevel": 0,
            "path": os.path.expanduser("~"),
        }
        self.variables.update(variables)

    def __repr__(self) -> str:
        return f"<FakeSession {self.session_id} {self.terminal.rows}x{self.terminal.columns}>"

    @_threadsafe
    def write(self, data: bytes | str) -> None:
        """Output from the session's program; escape sequences are interpreted."""
        if isinstance(data, str):
            data = data.encode()
        if self.closed:
            raise RuntimeError(f"session {self.session_id} is closed")
        if self._server._transaction_owner is not None:
            # iTerm2 processes no program output while a script holds a transaction.
            self._server._deferred_writes.append((self, data))
            return
        self.terminal.write(data)
        self._server._mark_dirty(self)

    @_threadsafe
    def set_variable(self, name: str, value: Any) -> None:
        """Change a session variable as iTerm2 would (any name; ``None`` unsets it)."""
        if self.variables.get(name) == value:
            return
        if value is None:
            self.variables.pop(name, None)
        else:
            self.variables[name] = value
        self._server._post_variable_change(pb.VariableScope.Value("SESSION"), self.session_id, name, value)

    @_threadsafe
    def set_variables(self, values: Mapping[str, Any]) -> None:
        for name, value in values.items():
            self.set_variable(name, value)

    @_threadsafe
    def clear_scrollback(self) -> None:
        self.terminal.clear_scrollback()
        self._server._mark_dirty(self)

    @_threadsafe
    def text(self) -> list[str]:
        """History and screen rows, oldest first."""
        return self.terminal.text()

    def _on_osc(self, body: str) -> None:
        code, _, arg = body.partition(";")
        if code in ("0", "2"):
            self.set_variable("terminalWindowName", arg)
        if code in ("0", "1"):
            self.set_variable("terminalIconName", arg)
        if code != "1337":
            return
        key, _, value = arg.partition("=")
        if key == "SetUserVar":
            # OSC 1337 ; SetUserVar=name=<base64 value> ST
            name, _, encoded = value.partition("=")
            try:
                decoded = base64.b64decode(encoded).decode("utf-8", "replace")
            except (binascii.Error, ValueError):
                return
            self.set_variable(f"user.{name}", decoded)
        elif key == "Custom":
            # OSC 1337 ; Custom=id=<identity>:<payload> ST
            identity, sep, payload = value.partition(":")
            if sep and identity.startswith("id="):
                self._server._post_custom_escape(self, identity[3:], payload)


@dataclass(eq=False)
class FakeTab:
    tab_id: str
    window: FakeWindow
    sessions: list[FakeSession] = field(default_factory=list)
    active_session: FakeSession | None = None
    variables: dict[str, Any] = field(default_factory=dict)
    # A tab of iTerm2's tmux integration (one tmux window): its tmux connection and window ids.
    tmux_connection_id: str = ""
    tmux_window_id: str = ""


@dataclass(eq=False)
class FakeWindow:
    window_id: str
    number: int
    tabs: list[FakeTab] = field(default_factory=list)
    selected_tab: FakeTab | None = None
    variables: dict[str, Any] = field(default_factory=dict)


@dataclass
class Alert:
    """A modal alert a script asked iTerm2 to show (iterm2.alert, get_string, poly modal)."""

    function: str
    arguments: dict[str, Any]


@dataclass
class Popover:
    identifier: str
    session_id: str
    html: str
    width: int
    height: int


@dataclass
class _Registration:
    connection: _Connection
    request: pb.RPCRegistrationRequest


class _Reference:
    """A variable reference in an invocation, e.g. ``id`` in ``f(session: id)``."""

    def __init__(self, path: str) -> None:
        self.path = path


# ------------------------------------------------------------------------------------ server


class FakeITerm2:
    """The fake iTerm2 app: sessions in windows, an API server, and controls for tests."""

    def __init__(
        self,
        home: str | os.PathLike[str],
        *,
        protocol_version: str = PROTOCOL_VERSION,
        refresh_interval: float = REFRESH_INTERVAL,
        clear_keeps_numbering: bool = True,
    ) -> None:
        self.home = Path(home)
        self.socket_path = self.home / SOCKET_PATH
        if len(os.fsencode(self.socket_path)) >= 104:
            raise ValueError(f"socket path too long for AF_UNIX ({self.socket_path}); use a shorter HOME")
        self.protocol_version = protocol_version
        self.refresh_interval = refresh_interval
        self.clear_keeps_numbering = clear_keeps_numbering
        # What modal alerts answer: the button index (the reply is 1000 + index), the text of a
        # text-input alert (None = cancelled), and the poly-modal result.
        self.alert_button = 0
        self.text_input: str | None = ""
        self.poly_modal_result: Any = None
        self.alerts: list[Alert] = []
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

    # -------------------------------------------------------------- test controls

    @_threadsafe
    def issue_cookie(self) -> str:
        """A one-time cookie for ITERM2_COOKIE, as iTerm2 hands each script it launches."""
        cookie = secrets.token_hex(16)
        self._cookies.add(cookie)
        return cookie

    @_threadsafe
    def add_session(
        self,
        rows: int = 24,
        columns: int = 80,
        *,
        scrollback: int | None = 1000,
        variables: Mapping[str, Any] | None = None,
        title: str = "zsh",
        tab_of: FakeSession | None = None,
        buried: bool = False,
        tmux_gateway: FakeSession | None = None,
    ) -> FakeSession:
        """Open a session: in a new window, as a split in ``tab_of``'s tab, or buried.

        With ``tmux_gateway``, the session is a pane of iTerm2's tmux integration (``tmux -CC`` runs
        in the gateway session): it opens in a new tab that belongs to the gateway's tmux connection,
        as iTerm2 opens a tab per tmux window, and gets the variables iTerm2 gives such a pane
        (``tmuxRole`` "client", ``tmuxWindowPane``); the gateway's ``tmuxRole`` becomes "gateway".
        """
        if tmux_gateway is not None:
            pane = next(self._ids)
            variables = {"tmuxRole": "client", "tmuxWindowPane": pane, **(variables or {})}
        session = FakeSession(
            self, rows=rows, columns=columns, scrollback=scrollback, variables=variables or {}, title=title
        )
        if buried:
            session.buried = True
            self.buried_sessions.append(session)
        elif tab_of is not None and tab_of.tab is not None:
            session.tab = tab_of.tab
            tab_of.tab.sessions.append(session)
        else:
            window = FakeWindow(window_id=f"pty-{uuid.uuid4()}".upper(), number=len(self.windows))
            tab = FakeTab(tab_id=str(next(self._ids)), window=window)
            window.tabs.append(tab)
            window.selected_tab = tab
            tab.sessions.append(session)
            tab.active_session = session
            session.tab = tab
            self.windows.append(window)
            if tmux_gateway is not None:
                connection_id = next(
                    (cid for cid, gateway in self.tmux_connections.items() if gateway is tmux_gateway),
                    f"{len(self.tmux_connections) + 1}",
                )
                self.tmux_connections[connection_id] = tmux_gateway
                tab.tmux_connection_id = connection_id
                tab.tmux_window_id = str(pane)
                tmux_gateway.set_variable("tmuxRole", "gateway")
        # Posted after the session is in the list, so a client refreshing on it finds it.
        note = pb.Notification()
        note.new_session_notification.session_id = session.session_id
        self._post_app(pb.NOTIFY_ON_NEW_SESSION, note)
        self._post_layout_change()
        return session

    @_threadsafe
    def close_session(self, session: FakeSession) -> None:
        """The session's program exited and the pane closed."""
        if session.closed:
            return
        session.closed = True
        self._dirty.discard(session)
        if session in self.buried_sessions:
            self.buried_sessions.remove(session)
        tab = session.tab
        if tab is not None:
            tab.sessions.remove(session)
            if tab.active_session is session:
                tab.active_session = tab.sessions[0] if tab.sessions else None
            if not tab.sessions:
                window = tab.window
                window.tabs.remove(tab)
                if window.selected_tab is tab:
                    window.selected_tab = window.tabs[0] if window.tabs else None
                if not window.tabs:
                    self.windows.remove(window)
        for conn in self._connections:
            for subscribers in conn.session_subs.values():
                subscribers.discard(session.session_id)
        note = pb.Notification()
        note.terminate_session_notification.session_id = session.session_id
        self._post_app(pb.NOTIFY_ON_TERMINATE_SESSION, note)
        self._post_layout_change()

    @_threadsafe
    def sessions(self) -> list[FakeSession]:
        return [*self._all_sessions(), *self.buried_sessions]

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

    def _mark_dirty(self, session: FakeSession) -> None:
        self._dirty.add(session)
        if not self._updates_held and self._dirty_event is not None:
            self._dirty_event.set()

    async def _refresh_screens(self) -> None:
        """Post screen updates the way iTerm2's display refresh does: coalesced, <= 60 Hz."""
        assert self._dirty_event is not None
        while True:
            await self._dirty_event.wait()
            await asyncio.sleep(self.refresh_interval)
            self._dirty_event.clear()
            if self._updates_held:
                continue
            dirty, self._dirty = self._dirty, set()
            for session in dirty:
                note = pb.Notification()
                note.screen_update_notification.session = session.session_id
                for conn in self._connections:
                    if conn.wants(pb.NOTIFY_ON_SCREEN_UPDATE, session):
                        conn.post(note)
                        session.updates_posted += 1

    def _post_app(self, notification_type: int, note: pb.Notification) -> None:
        for conn in self._connections:
            if notification_type in conn.app_subs:
                conn.post(note)

    def _post_layout_change(self) -> None:
        if not any(pb.NOTIFY_ON_LAYOUT_CHANGE in conn.app_subs for conn in self._connections):
            return
        note = pb.Notification()
        self._fill_list_sessions(note.layout_changed_notification.list_sessions_response)
        self._post_app(pb.NOTIFY_ON_LAYOUT_CHANGE, note)

    def _post_custom_escape(self, session: FakeSession, identity: str, payload: str) -> None:
        note = pb.Notification()
        custom = note.custom_escape_sequence_notification
        custom.session = session.session_id
        custom.sender_identity = identity
        custom.payload = payload
        for conn in self._connections:
            if conn.wants(pb.NOTIFY_ON_CUSTOM_ESCAPE_SEQUENCE, session):
                conn.post(note)

    def _post_variable_change(self, scope: int, identifier: str, name: str, value: Any) -> None:
        note = pb.Notification()
        change = note.variable_changed_notification
        change.scope = scope  # type: ignore[assignment]
        change.identifier = identifier
        change.name = name
        change.json_new_value = json.dumps(value)
        for conn in self._connections:
            # One notification per connection even when several of its monitors match.
            if any(s == scope and n == name and ident in (identifier, "all") for (s, ident, n) in conn.variable_subs):
                conn.post(note)

    # -------------------------------------------------------------- lookups and snapshots

    def _all_sessions(self) -> list[FakeSession]:
        return [s for w in self.windows for t in w.tabs for s in t.sessions]

    def _find_session(self, session_id: str) -> FakeSession | None:
        if session_id == "active":
            window = self.windows[0] if self.windows else None
            tab = window.selected_tab if window else None
            return tab.active_session if tab else None
        for session in self._all_sessions():
            if session.session_id == session_id:
                return session
        for session in self.buried_sessions:
            if session.session_id == session_id:
                return session
        return None

    def _find_tab(self, tab_id: str) -> FakeTab | None:
        for window in self.windows:
            for tab in window.tabs:
                if tab.tab_id == tab_id:
                    return tab
        return None

    def _find_window(self, window_id: str) -> FakeWindow | None:
        return next((w for w in self.windows if w.window_id == window_id), None)

    def _fill_list_sessions(self, response: pb.ListSessionsResponse) -> None:
        for window in self.windows:
            w = response.windows.add()
            w.window_id = window.window_id
            w.number = window.number
            w.frame.origin.x = 0
            w.frame.origin.y = 0
            w.frame.size.width = 800
            w.frame.size.height = 600
            if window.selected_tab is not None:
                w.selected_tab_id = window.selected_tab.tab_id
            for tab in window.tabs:
                t = w.tabs.add()
                t.tab_id = tab.tab_id
                t.root.vertical = True
                if tab.tmux_connection_id:
                    t.tmux_connection_id = tab.tmux_connection_id
                    t.tmux_window_id = tab.tmux_window_id
                if tab.active_session is not None:
                    t.active_session_id = tab.active_session.session_id
                for session in tab.sessions:
                    _fill_summary(t.root.links.add().session, session)
        for session in self.buried_sessions:
            summary = response.buried_sessions.add()
            summary.unique_identifier = session.session_id
            summary.title = session.title

    def _fill_broadcast_domains(self, domains: Any) -> None:
        for ids in self.broadcast_domains:
            domains.add().session_ids.extend(ids)

    def _end_transaction(self) -> None:
        self._transaction_owner = None
        deferred, self._deferred_writes = self._deferred_writes, []
        for session, data in deferred:
            if not session.closed:
                session.write(data)


def _fill_summary(summary: pb.SessionSummary, session: FakeSession) -> None:
    summary.unique_identifier = session.session_id
    summary.title = session.title
    summary.grid_size.width = session.terminal.columns
    summary.grid_size.height = session.terminal.rows
    summary.frame.origin.x = 0
    summary.frame.origin.y = 0
    summary.frame.size.width = session.terminal.columns * 7
    summary.frame.size.height = session.terminal.rows * 14


def _signature(name: str, argument_names: Iterable[str]) -> str:
    """iTerm2's function identity: name plus sorted argument names."""
    return f"{name}({','.join(sorted(argument_names))})"


# ------------------------------------------------------------------------------------ requests


class _Connection:
    """One connected script: its subscriptions, and the handlers for its requests."""

    def __init__(self, server: FakeITerm2, websocket: ServerConnection) -> None:
        self.server = server
        self.websocket = websocket
        self.app_subs: set[int] = set()
        self.all_sessions_subs: set[int] = set()
        self.session_subs: dict[int, set[str]] = {t: set() for t in _SESSION_NOTIFICATIONS}
        self.variable_subs: list[tuple[int, str, str]] = []
        # Replies and notifications leave in the order they were made.
        self._outbox: asyncio.Queue[bytes] = asyncio.Queue()

    # -------------------------------------------------------------- sending

    def wants(self, notification_type: int, session: FakeSession) -> bool:
        return notification_type in self.all_sessions_subs or session.session_id in self.session_subs.get(
            notification_type, ()
        )

    def post(self, note: pb.Notification) -> None:
        message = pb.ServerOriginatedMessage()
        message.notification.CopyFrom(note)
        self._outbox.put_nowait(message.SerializeToString())

    def send(self, message: pb.ServerOriginatedMessage) -> None:
        self._outbox.put_nowait(message.SerializeToString())

    def reply_error(self, request_id: int, text: str) -> None:
        message = pb.ServerOriginatedMessage()
        message.id = request_id
        message.error = text
        self.send(message)

    async def write_forever(self) -> None:
        with contextlib.suppress(ConnectionClosed):
            while True:
                await self.websocket.send(await self._outbox.get())

    def abort(self) -> None:
        """Drop the connection without a closing handshake, like a process that went away."""
        transport = self.websocket.transport
        if transport is not None:
            transport.abort()

    # -------------------------------------------------------------- dispatch

    async def handle(self, request: pb.ClientOriginatedMessage) -> None:
        kind = request.WhichOneof("submessage")
        server = self.server
        server.request_counts[kind or "none"] = server.request_counts.get(kind or "none", 0) + 1
        handler: Callable[[pb.ClientOriginatedMessage, pb.ServerOriginatedMessage], Awaitable[None] | None]
        handler = getattr(self, f"_{kind}", None) if kind else None  # type: ignore[assignment]
        if handler is None:
            self.reply_error(request.id, f"fake iTerm2 does not implement {kind or 'an empty request'}")
            return
        response = pb.ServerOriginatedMessage()
        response.id = request.id
        try:
            result = handler(request, response)
            if result is not None:
                await result
        except Exception as exc:  # a bug in the fake: answer it rather than hang the client
            log.exception("fake iTerm2 failed on %s", kind)
            self.reply_error(request.id, f"fake iTerm2 failed on {kind}: {exc!r}")
            return
        self.send(response)

    # -------------------------------------------------------------- app and layout

    def _list_sessions_request(self, request: pb.ClientOriginatedMessage, response: pb.ServerOriginatedMessage) -> None:
        self.server._fill_list_sessions(response.list_sessions_response)

    def _focus_request(self, request: pb.ClientOriginatedMessage, response: pb.ServerOriginatedMessage) -> None:
        server = self.server
        notes = response.focus_response.notifications
        notes.add().application_active = server.app_active
        window_note = notes.add()
        if server.windows:
            window_note.window.window_id = server.windows[0].window_id
            window_note.window.window_status = pb.FocusChangedNotification.Window.WindowStatus.Value(
                "TERMINAL_WINDOW_BECAME_KEY"
            )
        else:
            window_note.window.window_status = pb.FocusChangedNotification.Window.WindowStatus.Value(
                "TERMINAL_WINDOW_RESIGNED_KEY"
            )
        for window in server.windows:
            if window.selected_tab is not None:
                notes.add().selected_tab = window.selected_tab.tab_id
            for tab in window.tabs:
                if tab.active_session is not None:
                    notes.add().session = tab.active_session.session_id

    def _get_broadcast_domains_request(
        self, request: pb.ClientOriginatedMessage, response: pb.ServerOriginatedMessage
    ) -> None:
        self.server._fill_broadcast_domains(response.get_broadcast_domains_response.broadcast_domains)

    # -------------------------------------------------------------- notifications

    def _notification_request(self, request: pb.ClientOriginatedMessage, response: pb.ServerOriginatedMessage) -> None:
        req = request.notification_request
        result = response.notification_response
        if not req.HasField("subscribe"):
            result.status = _NOTIFY_STATUS.Value("REQUEST_MALFORMED")
            return
        kind = req.notification_type
        if kind == pb.NOTIFY_ON_VARIABLE_CHANGE:
            result.status = self._subscribe_variable(req)  # type: ignore[assignment]
        elif kind in _APP_NOTIFICATIONS:
            result.status = self._toggle(self.app_subs, kind, req.subscribe)  # type: ignore[assignment]
        elif kind == pb.NOTIFY_ON_SERVER_ORIGINATED_RPC:
            result.status = self._register_rpc(req)  # type: ignore[assignment]
        elif kind in _SESSION_NOTIFICATIONS:
            result.status = self._subscribe_session(req)  # type: ignore[assignment]
        else:
            response.ClearField("notification_response")
            response.error = f"fake iTerm2 does not post {NT.Name(kind)} notifications"

    @staticmethod
    def _toggle(subs: set[Any], key: Any, subscribe: bool) -> int:
        if subscribe:
            if key in subs:
                return _NOTIFY_STATUS.Value("ALREADY_SUBSCRIBED")
            subs.add(key)
        else:
            if key not in subs:
                return _NOTIFY_STATUS.Value("NOT_SUBSCRIBED")
            subs.discard(key)
        return _NOTIFY_STATUS.Value("OK")

    def _subscribe_session(self, req: pb.NotificationRequest) -> int:
        kind = req.notification_type
        if req.session == "all":
            # Covers every session, including ones created later (iTermAllSessionsSubscription).
            if req.subscribe:
                self.all_sessions_subs.add(kind)
            else:
                self.all_sessions_subs.discard(kind)
                self.session_subs[kind].clear()
            return _NOTIFY_STATUS.Value("OK")
        session = self.server._find_session(req.session)
        if session is None:
            return _NOTIFY_STATUS.Value("SESSION_NOT_FOUND")
        return self._toggle(self.session_subs[kind], session.session_id, req.subscribe)

    def _subscribe_variable(self, req: pb.NotificationRequest) -> int:
        monitor = req.variable_monitor_request
        key = (int(monitor.scope), monitor.identifier, monitor.name)
        if req.subscribe:
            if key in self.variable_subs:
                return _NOTIFY_STATUS.Value("ALREADY_SUBSCRIBED")
            self.variable_subs.append(key)
        else:
            if key not in self.variable_subs:
                return _NOTIFY_STATUS.Value("NOT_SUBSCRIBED")
            self.variable_subs.remove(key)
        return _NOTIFY_STATUS.Value("OK")

    def _register_rpc(self, req: pb.NotificationRequest) -> int:
        registration = req.rpc_registration_request
        if not req.HasField("rpc_registration_request") or not _valid_registration(registration):
            return _NOTIFY_STATUS.Value("REQUEST_MALFORMED")
        signature = _signature(registration.name, (a.name for a in registration.arguments))
        rpcs = self.server._rpcs
        if req.subscribe:
            if signature in rpcs:
                return _NOTIFY_STATUS.Value("DUPLICATE_SERVER_ORIGINATED_RPC")
            rpcs[signature] = _Registration(self, registration)
            if registration.HasField("status_bar_component_attributes"):
                identifier = registration.status_bar_component_attributes.unique_identifier
                self.server.status_bar_components[identifier] = registration
        else:
            if signature not in rpcs or rpcs[signature].connection is not self:
                return _NOTIFY_STATUS.Value("NOT_SUBSCRIBED")
            del rpcs[signature]
        return _NOTIFY_STATUS.Value("OK")

    def _server_originated_rpc_result_request(
        self, request: pb.ClientOriginatedMessage, response: pb.ServerOriginatedMessage
    ) -> None:
        result = request.server_originated_rpc_result_request
        response.server_originated_rpc_result_response.SetInParent()
        waiter = self.server._rpc_waiters.pop(result.request_id, None)
        if waiter is None or waiter[1].done():
            return  # already timed out, as in iTerm2
        future = waiter[1]
        which = result.WhichOneof("result")
        try:
            if which == "json_value":
                future.set_result(json.loads(result.json_value))
            elif which == "json_exception":
                exception = json.loads(result.json_exception)
                reason = exception.get("reason", "Malformed exception") if isinstance(exception, dict) else exception
                future.set_exception(FakeRPCError(reason))
            else:
                future.set_exception(FakeRPCError("Malformed result."))
        except json.JSONDecodeError as exc:
            future.set_exception(FakeRPCError(f"Undecodable value: {exc}"))

    # -------------------------------------------------------------- screen contents

    def _get_buffer_request(self, request: pb.ClientOriginatedMessage, response: pb.ServerOriginatedMessage) -> None:
        req = request.get_buffer_request
        result = response.get_buffer_response
        session = self.server._find_session(req.session)
        if session is None:
            result.status = pb.GetBufferResponse.Status.Value("SESSION_NOT_FOUND")
            return
        terminal = session.terminal
        line_range = req.line_range
        top = terminal.screen_top
        first_column, column_count = 0, 0
        first_x, last_x = 0, None
        if line_range.HasField("screen_contents_only") and line_range.screen_contents_only:
            session.screen_reads += 1
            start, end = top, top + terminal.rows
        elif line_range.HasField("trailing_lines"):
            session.range_reads += 1
            count = min(line_range.trailing_lines, 1_000_000)
            end = top + terminal.rows
            start = max(terminal.overflow, end - count)
        elif line_range.HasField("windowed_coord_range"):
            session.range_reads += 1
            coords = line_range.windowed_coord_range.coord_range
            start, end = coords.start.y, coords.end.y
            first_x = coords.start.x
            if coords.end.x > 0:
                # The end coordinate is exclusive; x > 0 means part of that line is wanted.
                end += 1
                last_x = coords.end.x
            columns = line_range.windowed_coord_range.columns
            first_column, column_count = columns.location, columns.length
        else:
            result.status = pb.GetBufferResponse.Status.Value("INVALID_LINE_RANGE")
            return
        if end < start:
            result.status = pb.GetBufferResponse.Status.Value("INVALID_LINE_RANGE")
            return
        lines = terminal.lines(start, end)
        for line in lines:
            text = line.text
            if column_count > 0:
                text = text[first_column : first_column + column_count]
            if last_x is not None and line.number == end - 1:
                text = text[:last_x]
            if first_x and line.number == start:
                text = text[first_x:]
            contents = result.contents.add()
            contents.text = text
            if text:
                cells = contents.code_points_per_cell.add()
                cells.num_code_points = 1
                cells.repeats = len(text)
                if req.include_styles:
                    contents.style.add().repeats = len(text)
            contents.continuation = (
                pb.LineContents.Continuation.Value("CONTINUATION_SOFT_EOL")
                if line.soft
                else pb.LineContents.Continuation.Value("CONTINUATION_HARD_EOL")
            )
        shown_start = lines[0].number if lines else max(start, terminal.overflow)
        window = result.windowed_coord_range
        window.coord_range.start.x = 0
        window.coord_range.start.y = shown_start
        window.coord_range.end.x = 0
        window.coord_range.end.y = shown_start + len(lines)
        window.columns.location = first_column
        window.columns.length = column_count
        result.range.location = shown_start
        result.range.length = len(lines)
        result.num_lines_above_screen = top
        cursor_x, cursor_y = terminal.cursor()
        result.cursor.x = cursor_x
        result.cursor.y = cursor_y
        result.status = pb.GetBufferResponse.Status.Value("OK")

    def _get_property_request(self, request: pb.ClientOriginatedMessage, response: pb.ServerOriginatedMessage) -> None:
        req = request.get_property_request
        result = response.get_property_response
        server = self.server
        value: Any
        if req.HasField("session_id"):
            session = server._find_session(req.session_id)
            if session is None:
                result.status = pb.GetPropertyResponse.Status.Value("INVALID_TARGET")
                return
            terminal = session.terminal
            if req.name == "number_of_lines":
                value = {
                    "grid": terminal.rows,
                    "history": terminal.history_size,
                    "overflow": terminal.overflow,
                    # The viewport is at the bottom: nobody scrolls a fake.
                    "first_visible": terminal.screen_top,
                }
            elif req.name == "grid_size":
                value = {"width": terminal.columns, "height": terminal.rows}
            elif req.name == "buried":
                value = session.buried
            else:
                result.status = pb.GetPropertyResponse.Status.Value("UNRECOGNIZED_NAME")
                return
        elif req.HasField("window_id"):
            if server._find_window(req.window_id) is None:
                result.status = pb.GetPropertyResponse.Status.Value("INVALID_TARGET")
                return
            if req.name == "frame":
                value = {"origin": {"x": 0, "y": 0}, "size": {"width": 800, "height": 600}}
            elif req.name == "fullscreen":
                value = False
            else:
                result.status = pb.GetPropertyResponse.Status.Value("UNRECOGNIZED_NAME")
                return
        else:
            result.status = pb.GetPropertyResponse.Status.Value("INVALID_TARGET")
            return
        result.json_value = json.dumps(value)
        result.status = pb.GetPropertyResponse.Status.Value("OK")

    # -------------------------------------------------------------- variables

    def _variable_request(self, request: pb.ClientOriginatedMessage, response: pb.ServerOriginatedMessage) -> None:
        req = request.variable_request
        result = response.variable_response
        server = self.server
        status = pb.VariableResponse.Status
        if not all(s.name.startswith("user.") for s in req.set):
            result.status = status.Value("INVALID_NAME")
            return
        scope_kind = req.WhichOneof("scope")
        variables: dict[str, Any]
        on_change: Callable[[str, Any], None]
        if scope_kind == "session_id":
            if req.session_id == "all":
                if req.get:
                    result.status = status.Value("MULTI_GET_DISALLOWED")
                    return
                for each in server._all_sessions():
                    for item in req.set:
                        each.set_variable(item.name, _json_or_none(item.value))
                result.status = status.Value("OK")
                return
            session = server._find_session(req.session_id)
            if session is None:
                result.status = status.Value("SESSION_NOT_FOUND")
                return
            variables = session.variables
            on_change = session.set_variable
        elif scope_kind == "tab_id":
            tab = server._find_tab(req.tab_id)
            if tab is None:
                result.status = status.Value("TAB_NOT_FOUND")
                return
            variables = tab.variables
            on_change = _setter(server, tab.variables, pb.VariableScope.Value("TAB"), tab.tab_id)
        elif scope_kind == "window_id":
            window = server._find_window(req.window_id)
            if window is None:
                result.status = status.Value("WINDOW_NOT_FOUND")
                return
            variables = window.variables
            on_change = _setter(server, window.variables, pb.VariableScope.Value("WINDOW"), window.window_id)
        elif scope_kind == "app":
            variables = server.app_variables
            on_change = _setter(server, server.app_variables, pb.VariableScope.Value("APP"), "")
        else:
            result.status = status.Value("MISSING_SCOPE")
            return
        for item in req.set:
            on_change(item.name, _json_or_none(item.value))
        for name in req.get:
            if name == "*":
                # iTermVariableScope.dictionaryWithStringValues: flat dotted names, string values.
                result.values.append(json.dumps({k: _string_value(v) for k, v in variables.items()}))
            else:
                value = variables.get(name)
                result.values.append("null" if value is None else json.dumps(value))
        result.status = status.Value("OK")

    # -------------------------------------------------------------- program input and output

    def _inject_request(self, request: pb.ClientOriginatedMessage, response: pb.ServerOriginatedMessage) -> None:
        req = request.inject_request
        status = pb.InjectResponse.Status
        for session_id in req.session_id:
            if session_id == "all":
                for each in self.server._all_sessions():
                    each.write(req.data)
                response.inject_response.status.append(status.Value("OK"))
                continue
            session = self.server._find_session(session_id)
            if session is None:
                response.inject_response.status.append(status.Value("SESSION_NOT_FOUND"))
            else:
                session.write(req.data)
                response.inject_response.status.append(status.Value("OK"))

    def _send_text_request(self, request: pb.ClientOriginatedMessage, response: pb.ServerOriginatedMessage) -> None:
        req = request.send_text_request
        status = pb.SendTextResponse.Status
        targets = (
            self.server._all_sessions()
            if req.session == "all"
            else [s for s in [self.server._find_session(req.session)] if s is not None]
        )
        if not targets:
            response.send_text_response.status = status.Value("SESSION_NOT_FOUND")
            return
        for session in targets:
            session.typed.append(req.text)
        response.send_text_response.status = status.Value("OK")

    def _close_request(self, request: pb.ClientOriginatedMessage, response: pb.ServerOriginatedMessage) -> None:
        req = request.close_request
        status = pb.CloseResponse.Status
        if req.WhichOneof("target") != "sessions":
            response.ClearField("close_response")
            response.error = "fake iTerm2 closes sessions only"
            return
        for session_id in req.sessions.session_ids:
            session = self.server._find_session(session_id)
            if session is None:
                response.close_response.statuses.append(status.Value("NOT_FOUND"))
            else:
                self.server.close_session(session)
                response.close_response.statuses.append(status.Value("OK"))

    def _tmux_request(self, request: pb.ClientOriginatedMessage, response: pb.ServerOriginatedMessage) -> None:
        """tmux integration: only the list of connections (``async_get_tmux_connections``)."""
        result = response.tmux_response
        if request.tmux_request.WhichOneof("payload") != "list_connections":
            result.status = pb.TmuxResponse.Status.Value("INVALID_REQUEST")
            return
        result.list_connections.SetInParent()
        for connection_id, gateway in self.server.tmux_connections.items():
            if gateway.closed:
                continue
            entry = result.list_connections.connections.add()
            entry.connection_id = connection_id
            entry.owning_session_id = gateway.session_id
        result.status = pb.TmuxResponse.Status.Value("OK")

    def _transaction_request(self, request: pb.ClientOriginatedMessage, response: pb.ServerOriginatedMessage) -> None:
        server = self.server
        status = pb.TransactionResponse.Status
        if request.transaction_request.begin:
            if server._transaction_owner is not None:
                response.transaction_response.status = status.Value("ALREADY_IN_TRANSACTION")
                return
            server._transaction_owner = self
        else:
            if server._transaction_owner is not self:
                response.transaction_response.status = status.Value("NO_TRANSACTION")
                return
            server._end_transaction()
        response.transaction_response.status = status.Value("OK")

    # -------------------------------------------------------------- UI

    def _status_bar_component_request(
        self, request: pb.ClientOriginatedMessage, response: pb.ServerOriginatedMessage
    ) -> None:
        req = request.status_bar_component_request
        status = pb.StatusBarComponentResponse.Status
        result = response.status_bar_component_response
        if req.identifier not in self.server.status_bar_components:
            result.status = status.Value("INVALID_IDENTIFIER")
            return
        if req.WhichOneof("request") != "open_popover":
            result.status = status.Value("REQUEST_MALFORMED")
            return
        popover = req.open_popover
        if self.server._find_session(popover.session_id) is None:
            result.status = status.Value("SESSION_NOT_FOUND")
            return
        self.server.popovers.append(
            Popover(req.identifier, popover.session_id, popover.html, popover.size.width, popover.size.height)
        )
        result.status = status.Value("OK")

    async def _invoke_function_request(
        self, request: pb.ClientOriginatedMessage, response: pb.ServerOriginatedMessage
    ) -> None:
        req = request.invoke_function_request
        result = response.invoke_function_response
        status = pb.InvokeFunctionResponse.Status
        server = self.server
        try:
            name, arguments = parse_invocation(req.invocation)
        except ValueError as exc:
            result.error.status = status.Value("REQUEST_MALFORMED")
            result.error.error_reason = str(exc)
            return
        scope: Mapping[str, Any] = {}
        if req.WhichOneof("context") == "session":
            session = server._find_session(req.session.session_id)
            if session is None:
                result.error.status = status.Value("INVALID_ID")
                result.error.error_reason = f"No such session {req.session.session_id}"
                return
            scope = session.variables
        arguments = {k: scope.get(v.path) if isinstance(v, _Reference) else v for k, v in arguments.items()}
        value: Any
        if name in ("iterm2.alert", "iterm2.get_string", "iterm2.get_poly_modal_alert"):
            server.alerts.append(Alert(name, arguments))
            if name == "iterm2.alert":
                value = 1000 + server.alert_button
            elif name == "iterm2.get_string":
                value = server.text_input
            else:
                value = server.poly_modal_result
        else:
            timeout = req.timeout if req.timeout > 0 else None
            try:
                value = await server.invoke_rpc(name, timeout=timeout, **arguments)
            except FakeRPCError as exc:
                timed_out = str(exc) == "Timeout"
                result.error.status = status.Value("TIMEOUT" if timed_out else "FAILED")
                result.error.error_reason = str(exc)
                return
        result.success.json_result = json.dumps(value)


def _setter(server: FakeITerm2, variables: dict[str, Any], scope: int, identifier: str) -> Callable[[str, Any], None]:
    def set_variable(name: str, value: Any) -> None:
        if value is None:
            variables.pop(name, None)
        else:
            variables[name] = value
        server._post_variable_change(scope, identifier, name, value)

    return set_variable


def _json_or_none(text: str) -> Any:
    return None if text == "null" else json.loads(text)


def _string_value(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _valid_registration(registration: pb.RPCRegistrationRequest) -> bool:
    """iTerm2's it_valid: ASCII identifier name, unique identifier argument names."""
    if not _VALID_IDENTIFIER.match(registration.name):
        return False
    names = [a.name for a in registration.arguments]
    return all(_VALID_IDENTIFIER.match(n) for n in names) and len(set(names)) == len(names)


_NAME = re.compile(r"\s*([A-Za-z_][\w.]*)\s*")
_JSON = json.JSONDecoder(strict=False)


def parse_invocation(text: str) -> tuple[str, dict[str, Any]]:
    """Parse ``name(arg: value, ...)`` as built by iterm2.util.invocation_string and Alert.

    Values are JSON literals (iTerm2's string escapes are a subset of JSON's) or variable
    references, returned as :class:`_Reference`.
    """
    match = _NAME.match(text)
    if match is None:
        raise ValueError(f"no function name in {text!r}")
    name, pos = match.group(1), match.end()
    if text[pos : pos + 1] != "(":
        raise ValueError(f"expected '(' after {name} in {text!r}")
    pos += 1
    arguments: dict[str, Any] = {}
    while True:
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if text[pos : pos + 1] == ")":
            return name, arguments
        match = _NAME.match(text, pos)
        if match is None or text[match.end() : match.end() + 1] != ":":
            raise ValueError(f"expected 'name:' at {pos} in {text!r}")
        arg_name, pos = match.group(1), match.end() + 1
        while pos < len(text) and text[pos].isspace():
            pos += 1
        try:
            value, pos = _JSON.raw_decode(text, pos)
        except json.JSONDecodeError:
            match = _NAME.match(text, pos)
            if match is None:
                raise ValueError(f"bad value for {arg_name} in {text!r}") from None
            value, pos = _Reference(match.group(1)), match.end()
        arguments[arg_name] = value
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if text[pos : pos + 1] == ",":
            pos += 1
        elif text[pos : pos + 1] != ")":
            raise ValueError(f"expected ',' or ')' at {pos} in {text!r}")
