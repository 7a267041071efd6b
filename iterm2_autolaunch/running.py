"""The servers a detector announced and has not seen stop, and the stop cues to search for them. Pure.

Offsets are the detector's stream offsets (characters of the whole stream, batches joined by a newline).
"""

from __future__ import annotations

from collections.abc import Mapping

from iterm2_autolaunch.events import Event
from iterm2_autolaunch.kind_layouts import Kind

MAX_RUNNING = 64  # servers remembered for their stop lines; beyond that the oldest is forgotten
# A server announced before the latest one (in the background, or gone without a word) has its stop
# lines looked for during the next BACKGROUND_WATCH characters of output; the latest one, until it stops.
# Each watched kind costs a search through the output, so watching every server ever announced would
# make the scan slower with each one (a long session, a log with many runs). A background server's later
# stop is left to the daemon's health probe, which closes its forward within seconds (engine.py).
BACKGROUND_WATCH = 64 * 1024
NEVER = 1 << 62

Key = tuple[str, int, str | None]


class RunningServers:
    """``servers``, oldest first; ``stoppable``, the kinds whose stop lines are looked for now, latest
    announced first; ``cues``, the literals those lines hold; ``expiry``, the offset where a background
    server's watch ends first (the cues change there: call ``refresh``)."""

    def __init__(self, kind_of: Mapping[str, Kind]) -> None:
        self._kind_of = kind_of
        self.servers: dict[Key, Event] = {}
        self.stoppable: list[Kind] = []
        self.cues: frozenset[str] = frozenset()
        self.expiry = NEVER
        self._watch_until: dict[Key, int] = {}  # a background server's last offset
        # Per tuple of the kinds watched: those kinds, and their cues.
        self._watching: dict[tuple[str, ...], tuple[list[Kind], frozenset[str]]] = {(): ([], self.cues)}

    def add(self, event: Event, now: int) -> None:
        """A new server, the latest from ``now`` on; the one before it goes to the background."""
        # One server per port: an older one of this kind on this port has gone without a stop line we saw.
        for old in [s for s in self.servers.values() if s.kind == event.kind and s.port == event.port]:
            self._drop(old)
        if len(self.servers) >= MAX_RUNNING:
            self._drop(next(iter(self.servers.values())))
        if self.servers:
            self._watch_until[next(reversed(self.servers))] = now + BACKGROUND_WATCH
        self.servers[event.key] = event
        self._watch_until.pop(event.key, None)
        self.refresh(now)

    def remove(self, server: Event, now: int) -> None:
        """That server stopped, or is gone without a stop line seen."""
        self._drop(server)
        self.refresh(now)

    def latest_of(self, kind: str, ports: set[int]) -> Event:
        """The server of ``kind`` on one of ``ports``, else the latest of that kind (one must run)."""
        servers = [s for s in reversed(self.servers.values()) if s.kind == kind]
        return next((s for s in servers if s.port in ports), servers[0])

    def refresh(self, now: int) -> None:
        """The kinds watched and their cues: the latest server's, and those of the servers before it while
        their BACKGROUND_WATCH lasts. A cue that holds another cue is left out, since every line holding it
        is found by the other one's search."""
        if self.expiry <= now:  # a background server's watch has ended
            self._watch_until = {key: end for key, end in self._watch_until.items() if end > now}
        self.expiry = min(self._watch_until.values(), default=NEVER)
        latest = next(reversed(self.servers), None)
        watched = [latest, *self._watch_until] if latest is not None else self._watch_until
        names = tuple(dict.fromkeys(kind for kind, _, _ in watched if self._kind_of[kind].stop_line is not None))
        if names not in self._watching:  # the same cues object for the same kinds: CueSearch.watch keeps its state
            stoppable = [self._kind_of[name] for name in names]
            cues = {cue for kind in stoppable for cue in kind.stop_cues}
            self._watching[names] = (stoppable, frozenset(c for c in cues if not any(o != c and o in c for o in cues)))
        self.stoppable, self.cues = self._watching[names]

    def _drop(self, server: Event) -> None:
        del self.servers[server.key]
        self._watch_until.pop(server.key, None)
