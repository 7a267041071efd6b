"""A server the engine made reachable: its event, target, forward and URL. The engine's own record."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field

from iterm2_autolaunch.detect import Event
from iterm2_autolaunch.redact import redact
from iterm2_autolaunch.target import SshTarget
from iterm2_autolaunch.tunnels.base import Forward

ServerKey = tuple[str, str, int, "str | None"]  # session id, kind, remote port, token


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
    place: str = "system"  # where its page opens (config.browser_for)
    shown_in: str = ""  # where it is open now, for `list`
    shows: str = ""  # the kind whose page it serves when that is not its own (ProbeResult.shows)

    @property
    def key(self) -> ServerKey:
        return (self.session_id, self.event.kind, self.event.port, self.event.token)

    @property
    def kind(self) -> str:
        return self.event.kind

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
            "browser": self.shown_in,
        }
