"""The seams between the engine and the outside world, as types only (no I/O here).

The engine receives one ``Effects`` and calls nothing else that touches the world; the daemon fills it with
the real parts (``resolve.py``, ``tunnels/``, ``ports.py``, ``probe.py``, ``browser.py``, ``notify.py``) and
tests fill it with small fakes. A frontend sees the engine only as a ``session.LineSink``, and the UI and the
control socket as ``ForwardsView``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from iterm2_autolaunch.detect import Kind
from iterm2_autolaunch.session import SessionContext
from iterm2_autolaunch.target import SshTarget
from iterm2_autolaunch.tunnels.base import AnyBackend


@dataclass(frozen=True)
class ProbeResult:
    ok: bool
    reason: str  # why not, or what answered; never contains the token


def probe_url(origin: str, base_path: str, kind: Kind) -> str:
    """The URL the probe asks: the kind's probe path under the server's base path (no token needed)."""
    return origin + base_path + kind.probe_path


@dataclass
class Effects:
    """The engine's seams to the outside world. Blocking callables run in worker threads."""

    resolve: Callable[[SessionContext], SshTarget]
    backend: Callable[[str, SshTarget], AnyBackend]  # (preference from config, target) -> backend
    choose_port: Callable[[int, tuple[int, int]], int]  # (remote port, allowed range) -> free local port
    remote_host: Callable[[str], str]  # printed host -> host the forward points at, seen from the ssh host
    probe: Callable[[str, Kind], Awaitable[ProbeResult]]
    open_url: Callable[[str], None]
    notify: Callable[[str, str], None]  # (title, message); messages never contain a token


class ServerView(Protocol):
    """One live server as the UI and `list` see it."""

    @property
    def session_id(self) -> str: ...

    @property
    def kind(self) -> str: ...

    @property
    def url(self) -> str: ...  # holds the token: for the browser only, never for a log or a page

    @property
    def local_port(self) -> int: ...

    def describe(self) -> dict[str, object]: ...  # everything but the token


class ForwardsView(Protocol):
    """What the UI (status bar, functions) and the control socket may see and do of the engine's forwards."""

    @property
    def last_opened(self) -> ServerView | None: ...

    def servers(self) -> Sequence[ServerView]: ...

    def open_server(self, server: ServerView) -> None: ...

    def reopen_last(self) -> bool: ...

    async def close_server(self, server: ServerView, why: str) -> None: ...

    async def close_all(self, why: str = ...) -> int: ...

    def add_listener(self, callback: Callable[[], None]) -> None: ...
