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

from iterm2_autolaunch.kinds import Kind
from iterm2_autolaunch.session import SessionContext
from iterm2_autolaunch.target import SshTarget
from iterm2_autolaunch.tunnels.base import AnyBackend


@dataclass(frozen=True)
class ProbeResult:
    ok: bool
    reason: str  # why not (NO_ANSWER first when nothing answered in HTTP), or what answered; never the token
    shows: str = ""  # the kind whose page a generic server answered with (Kind.serves), else ""
    moved_to: str = ""  # the path a redirect answer points to (its query dropped: it may hold a token), else ""
    to_https: bool = False  # that redirect goes from http:// to https:// at the same host and port


NO_ANSWER = "no answer"  # a probe's reason when no HTTP answer came: refused, reset, timed out, another protocol


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
    open_url: Callable[[str], None]  # the system browser
    notify: Callable[[str, str], None]  # (title, message); messages never contain a token
    # iTerm2's built-in browser (frontends/iterm2_pane.py); None: every page goes to the system browser.
    panes: BrowserPanes | None = None


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

    # Where its page is open, for `list` ("system browser", "iterm2-split pane <id>", ...); "" when not opened.
    shown_in: str

    def describe(self) -> dict[str, object]: ...  # everything but the token


class BrowserPanes(Protocol):
    """Pages in iTerm2's built-in browser, beside the session that printed the banner. Neither call blocks;
    what cannot open there (old iTerm2, no browser plugin, the user said no) opens in the system browser."""

    def show(self, server: ServerView, place: str) -> None:
        """Open the server's page in ``place`` ("iterm2-split" or "iterm2-tab"); the same server (same ssh
        host, remote port and kind, e.g. after a reattach or a restart) reuses its pane."""

    def server_gone(self, server: ServerView, why: str) -> None:
        """The server's forward closed: its pane says so, or closes (``close_browser_pane``)."""


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
