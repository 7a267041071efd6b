"""Stream helpers of the detector: stop cues, lazy line numbers, looking back a few lines. Pure."""

from __future__ import annotations

from collections.abc import Collection

LOOKAHEAD = 1 << 15  # characters a cue is searched past what is needed: one find serves many candidates


class CueSearch:
    """The lines of one batch that hold a watched stop cue, in order, with one ``str.find`` pass per cue.

    A cue is searched only as far as it is watched (plus LOOKAHEAD): a kind that stops early in a
    batch costs nothing for the rest of it. What was searched is remembered across drops, so no text is
    searched twice for the same cue.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self.position = 0  # lines before this offset are done
        self.found: dict[str, int] = {}  # cue -> a hit (-1: none from where it was searched to searched[cue])
        self.searched: dict[str, int] = {}  # cue -> where its next search starts when found[cue] is -1
        self.watched: Collection[str] = ()
        self.horizon = 0  # before this offset no watched cue's hit can lie, as far as is known

    def watch(self, cues: Collection[str]) -> None:
        """Look for exactly these cues from ``position`` on (a server announced or stopped)."""
        if cues is not self.watched:
            self.watched = cues
            self.horizon = self.position

    def next_line(self, before: int) -> int | None:
        """Start of the next line holding a watched cue, if it starts before offset ``before`` (a line
        start); that line is then done."""
        if before <= self.horizon:
            return None
        hit = self._first_hit(before)
        if hit == -1:
            return None
        start = self.text.rfind("\n", self.position, hit) + 1 or self.position
        self.skip_to(self.text.find("\n", hit) + 1 or len(self.text) + 1)
        return start

    def skip_to(self, offset: int) -> None:
        """Everything before ``offset`` is done (the caller examined it, or it held a cue)."""
        self.position = max(self.position, offset)

    def _first_hit(self, before: int) -> int:
        """The first hit of a watched cue before ``before`` (-1: none), searching only as needed."""
        text, first, horizon = self.text, -1, len(self.text) + 1
        for cue in self.watched:
            at = self.found.get(cue, -1)
            if at < self.position:  # no hit known at or after position: search on from where it is due
                start = self.position if at != -1 else max(self.position, self.searched.get(cue, 0))
                if start < before:
                    end = min(len(text), max(before, start + LOOKAHEAD) + len(cue))
                    at = self.found[cue] = text.find(cue, start, end)
                    self.searched[cue] = end - len(cue) + 1  # a hit running past end starts after this
                    known = at if at != -1 else self.searched[cue]
                else:
                    at, known = -1, start
            else:
                known = at  # no hit of this cue lies before ``known`` (from ``position`` on)
            horizon = min(horizon, known)
            if at != -1 and at < before and (first == -1 or at < first):
                first = at
        self.horizon = horizon
        return first


class LineNumbers:
    """1-based line numbers of offsets, counted only as far as an event asks (events are rare)."""

    def __init__(self) -> None:
        self.before_batch = 0  # lines in earlier batches
        self.text = ""
        self.batch_lines: int | None = None  # lines in this batch, when the caller knew
        self.counted_to = 0  # offset in text up to which newlines are counted
        self.counted = 0

    def next_batch(self, text: str, lines: int | None) -> None:
        if self.text:
            if self.batch_lines is None:
                self.batch_lines = self.counted + self.text.count("\n", self.counted_to) + 1
            self.before_batch += self.batch_lines
        self.text, self.batch_lines, self.counted_to, self.counted = text, lines, 0, 0

    def at(self, offset: int) -> int:
        if offset < self.counted_to:  # rare: an earlier line (a held URL's twin check); count afresh
            return self.before_batch + self.text.count("\n", 0, offset) + 1
        self.counted += self.text.count("\n", self.counted_to, offset)
        self.counted_to = offset
        return self.before_batch + self.counted + 1


class NoLineNumbers(LineNumbers):
    """For the daemon, which never shows line numbers: counting newlines would be its biggest cost."""

    def next_batch(self, text: str, lines: int | None) -> None:
        pass

    def at(self, offset: int) -> int:
        return 0


def last_lines(text: str, count: int) -> list[str]:
    return text[nth_newline_back(text, len(text) + 1, count) :].split("\n")


def nth_newline_back(text: str, end: int, count: int) -> int:
    """Offset just after the ``count``-th newline before ``end`` (0 when there are fewer)."""
    if end == 0:
        return 0
    at = end - 1
    for _ in range(count):
        at = text.rfind("\n", 0, at)
        if at == -1:
            return 0
    return at + 1
