"""Stream helpers of the detector: stop cues, lazy line numbers, looking back a few lines. Pure."""

from __future__ import annotations

from collections.abc import Collection


class CueSearch:
    """The lines of one batch that hold a stop cue, in order: each cue is one ``str.find`` pass.

    A cue's next hit is looked up only when the previous one has been used, and kept while the cue is
    not watched, so a cue costs at most one pass over the batch however often it is asked or dropped
    and watched again, plus a line per hit.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self.position = 0  # lines before this offset are done
        self.hits: dict[str, int] = {}  # cue -> its first hit at or after where it was last searched from
        self.watched: Collection[str] = ()
        self.nearest = -1  # the first hit of a watched cue (-1: none)

    def watch(self, cues: Collection[str]) -> None:
        """Look for exactly these cues from ``position`` on (a server announced or stopped)."""
        if cues is self.watched:
            return
        self.watched = cues
        for cue in cues:
            at = self.hits.get(cue)
            if at is None or -1 < at < self.position:
                self.hits[cue] = self.text.find(cue, self.position)
        self._nearest()

    def next_line(self, before: int) -> int | None:
        """Start of the next line holding a watched cue, if it starts before offset ``before`` (a line
        start); that line is then done."""
        hit = self.nearest
        if hit == -1 or hit >= before:
            return None
        start = self.text.rfind("\n", self.position, hit) + 1 or self.position
        self.skip_to(self.text.find("\n", hit) + 1 or len(self.text) + 1)
        return start

    def skip_to(self, offset: int) -> None:
        """Everything before ``offset`` is done: look for the watched cues hit before it again."""
        if offset <= self.position:
            return
        self.position = offset
        if self.nearest == -1 or self.nearest >= offset:
            return
        for cue in self.watched:
            if -1 < self.hits[cue] < offset:
                self.hits[cue] = self.text.find(cue, offset)
        self._nearest()

    def _nearest(self) -> None:
        self.nearest = min((at for cue in self.watched if (at := self.hits[cue]) != -1), default=-1)


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
