"""The fake iTerm2's model: sessions, tabs, windows, and what tests observe of them."""

from __future__ import annotations

import asyncio
import base64
import binascii
import functools
import getpass
import os
import socket
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

from iterm2 import api_pb2 as pb

from . import jobs
from .terminal import Terminal

if TYPE_CHECKING:
    from .connection import _Connection
    from .server import FakeITerm2

# Longest a thread waits for the server's loop to run one call.
THREAD_CALL_TIMEOUT = 30.0

_P = ParamSpec("_P")
_R = TypeVar("_R")


def _threadsafe(method: Callable[_P, _R]) -> Callable[_P, _R]:
    """Run a method on the server's event loop, waiting for it when called from another thread."""

    @functools.wraps(method)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        owner = args[0]
        # A FakeSession reaches the server through _server; the server (or a mixin of it) is itself.
        server: FakeITerm2 = owner._server if isinstance(owner, FakeSession) else owner  # type: ignore[assignment]
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
            legacy=server.legacy,
            on_osc=self._on_osc,
        )
        self.tab: FakeTab | None = None
        self.buried = False
        self.closed = False
        # Closed but still undoable (PTYSession makeTerminationUndoable): the pending hardStop,
        # where the session sat, and the output that waits while its shell is paused.
        self.closing: asyncio.TimerHandle | None = None
        self.revive_place: tuple[FakeTab | None, bool] = (None, False)
        self.paused_output: list[bytes] = []
        self.last_refresh = -float("inf")
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
        # Profile customizations it was made with (split pane / create tab), and, when that made it a
        # browser session (browser.py), the URLs loaded into it.
        self.profile: dict[str, Any] = {}
        self.loaded_urls: list[str] = []
        self.split_from: tuple[str, bool, bool] | None = None  # (session split, vertical, before)

    @property
    def browser(self) -> bool:
        """``isBrowserSession``: its profile's Custom Command is "Browser" (NSDictionary+iTerm.m profileIsBrowser)."""
        return self.profile.get("Custom Command") == "Browser"

    def __repr__(self) -> str:
        return f"<FakeSession {self.session_id} {self.terminal.rows}x{self.terminal.columns}>"

    @_threadsafe
    def write(self, data: bytes | str) -> None:
        """Output from the session's program; escape sequences are interpreted."""
        if isinstance(data, str):
            data = data.encode()
        if self.closed:
            raise RuntimeError(f"session {self.session_id} is closed")
        if self.closing is not None:
            self.paused_output.append(data)
            return
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
    def start_job(self, argv: Sequence[str], children: Sequence[Sequence[str]] = (), pid: int = 0) -> None:
        """The shell in this session started ``argv`` (and it started ``children``, deepest last):
        ``jobName``/``commandLine`` follow at iTerm2's next job poll (jobs.py). ``pid``: the deepest
        process's real pid, when the test runs it (else a made-up one)."""
        jobs.schedule_job(self, argv, children, pid)

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
            # OSC 1337 ; Custom=k1=v1;k2=v2:<payload> ST, as VT100Terminal.m executeXtermSetKvp:
            # parses it: parameters up to the first colon, ';'-separated, each split at its first
            # '='; PTYSession.m screenDidReceiveCustomEscapeSequenceWithParameters: sends
            # parameters["id"] as the sender identity (empty when there is none).
            head, sep, payload = value.partition(":")
            if sep:
                parameters = dict(part.split("=", 1) for part in head.split(";") if "=" in part)
                self._server._post_custom_escape(self, parameters.get("id", ""), payload)


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
