"""Bounds on how often printed text can make the daemon act: a sliding one-minute budget. Pure (the clock
is passed in). The first refusal in a minute is logged; the rest of that minute only counted, then summed up."""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable, Sequence

from iterm2_autolaunch.config import Limits

WINDOW = 60.0  # seconds


class Budget:
    """At most ``per_minute`` actions in any 60 s; ``allow()`` says whether one more may happen now."""

    def __init__(self, what: str, per_minute: int, log: logging.Logger, clock: Callable[[], float] = time.monotonic):
        self.what = what
        self.per_minute = per_minute
        self._log = log
        self._clock = clock
        self._recent: deque[float] = deque()
        self._refused = 0
        self._refused_since = 0.0

    def allow(self) -> bool:
        now = self._clock()
        while self._recent and now - self._recent[0] >= WINDOW:
            self._recent.popleft()
        if self._refused and now - self._refused_since >= WINDOW:
            self._log.warning("%s: %d more refused in the last minute (limit %d a minute)",
                              self.what, self._refused, self.per_minute)
            self._refused = 0
        if len(self._recent) < self.per_minute:
            self._recent.append(now)
            return True
        if not self._refused:
            self._refused_since = now
            self._log.warning("%s: more than %d a minute; not done (limits in the config)", self.what, self.per_minute)
        self._refused += 1
        return False


class Once:
    """Log a refusal the first time a reason comes up, then stay quiet about that reason."""

    def __init__(self, log: logging.Logger) -> None:
        self._log = log
        self._seen: set[str] = set()

    def warn(self, reason: str, message: str, *args: object) -> None:
        if reason not in self._seen:
            self._seen.add(reason)
            self._log.warning(message, *args)

    def forget(self, reason: str) -> None:
        self._seen.discard(reason)


Key = tuple[str, str, int, "str | None"]  # session id, kind, remote port, token (the engine's ServerKey)


def forward_refusal(key: Key, live: Sequence[Key], limits: Limits) -> str | None:
    """Why a new forward for ``key`` may not start, given the forwards ``live`` or starting; None if it may.
    A restart on the same port (same session, kind and port) replaces its forward, so it always fits."""
    if any(other[:3] == key[:3] for other in live):
        return None
    if len(live) >= limits.forwards_total:
        return f"{len(live)} forwards already: a new server is not forwarded (limits.forwards_total)"
    if sum(1 for other in live if other[0] == key[0]) >= limits.forwards_per_session:
        return "this session has its limit of forwards: a new server is not forwarded (limits.forwards_per_session)"
    return None
