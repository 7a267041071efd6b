"""The servers a detector announced and has not seen stop, and the stop cues to search for them. Pure.

Offsets are the detector's stream offsets (characters of the whole stream, batches joined by a newline).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping

from iterm2_autolaunch.events import Event
from iterm2_autolaunch.kind_layouts import Kind
from iterm2_autolaunch.streams import Cue, cue_searches

MAX_RUNNING = 64  # servers remembered for their stop lines; beyond that the oldest is forgotten
# A server announced before the latest one (in the background, or gone without a word) has its stop
# lines looked for during the next BACKGROUND_WATCH characters of output; the latest one, until it stops.
# Each watched kind costs a search through the output, so watching every server ever announced would
# make the scan slower with each one (a long session, a log with many runs). A background server's later
# stop is left to the daemon's health probe, which closes its forward within seconds (engine.py).
BACKGROUND_WATCH = 64 * 1024
NEVER = 1 << 62

Key = tuple[str, int, str | None]


@functools.lru_cache(maxsize=1024)  # refresh asks at every start and stop, often for the same kinds
def _cue_searches(kinds: tuple[Kind, ...]) -> tuple[Cue, ...]:
    """The searches for the stop cues of ``kinds``; the same object for the same kinds, so that CueSearch.watch
    keeps what it searched. A cue that holds another cue is left out: every line holding it is found by the
    other one's search."""
    cues = {cue for kind in kinds for cue in kind.stop_cues}
    return cue_searches([cue for cue in cues if not any(other != cue and other in cue for other in cues)])


class RunningServers:
    """``servers``, oldest first; ``stoppable``, the kinds whose stop lines are looked for now, latest
    announced first; ``cues``, the searches for the literals those lines hold; ``expiry``, the offset where a background
    server's watch ends first (the cues change there: call ``refresh``)."""

    def __init__(self, kind_of: Mapping[str, Kind]) -> None:
        self._kind_of = kind_of
        self.servers: dict[Key, Event] = {}
        self.stoppable: tuple[Kind, ...] = ()
        self.cues: tuple[Cue, ...] = ()
        self.expiry = NEVER
        self._watch_until: dict[Key, int] = {}  # a background server's last offset
        self._on_port: dict[tuple[str, int], Key] = {}  # (kind, port) -> the server there

    def add(self, event: Event, now: int) -> None:
        """A new server, the latest from ``now`` on; the one before it goes to the background."""
        # One server per port: an older one of this kind on this port has gone without a stop line we saw.
        old = self._on_port.get((event.kind, event.port))
        if old is not None:
            self._drop(self.servers[old])
        if len(self.servers) >= MAX_RUNNING:
            self._drop(next(iter(self.servers.values())))
        if self.servers:
            self._watch_until[next(reversed(self.servers))] = now + BACKGROUND_WATCH
        self.servers[event.key] = event
        self._on_port[event.kind, event.port] = event.key
        self._watch_until.pop(event.key, None)
        self.refresh(now)

    def remove(self, server: Event, now: int) -> None:
        """That server stopped, or is gone without a stop line seen."""
        self._drop(server)
        self.refresh(now)

    def latest_of(self, kind: str, ports: set[int]) -> Event:
        """The server of ``kind`` on one of ``ports``, else the latest of that kind (one must run)."""
        named = {key for port in ports if (key := self._on_port.get((kind, port))) is not None}
        return next(s for s in reversed(self.servers.values()) if (s.key in named if named else s.kind == kind))

    def refresh(self, now: int) -> None:
        """The kinds watched and their cues: the latest server's, and those of the servers before it while
        their BACKGROUND_WATCH lasts."""
        if self.expiry <= now:  # a background server's watch has ended
            self._watch_until = {key: end for key, end in self._watch_until.items() if end > now}
        self.expiry = min(self._watch_until.values(), default=NEVER)
        latest = next(reversed(self.servers), None)
        watched = [latest, *self._watch_until] if latest is not None else self._watch_until
        kinds = (self._kind_of[kind] for kind, _, _ in watched)
        self.stoppable = tuple(dict.fromkeys(kind for kind in kinds if kind.stop_line is not None))
        self.cues = _cue_searches(self.stoppable)

    def _drop(self, server: Event) -> None:
        del self.servers[server.key]
        del self._on_port[server.kind, server.port]
        self._watch_until.pop(server.key, None)
