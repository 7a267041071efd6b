"""Stream helpers of the detector: stop cues, lazy line numbers, looking back a few lines. Pure."""

from __future__ import annotations

import functools
import re
from collections.abc import Collection

LOOKAHEAD = 1 << 15  # characters a cue is searched past what is needed: one find serves many candidates


class Cue:
    """Stop cues found in one pass: one literal with ``str.find``, or literals that share their first two
    characters with one regex: their first character, then the rest of each in a lookahead. CPython's regex
    engine walks to a one-character literal prefix about as fast as ``str.find`` walks to one long literal,
    and to a longer prefix slower in a 2-byte string (which terminal text often is). On bench_scan's
    batches, Jupyter's three cues took 0.48 of a ``str.count('://')`` pass together this way, 0.78 as
    "] (?:Shutting down |...)", against 0.3 to 0.66 each with ``str.find``."""

    def __init__(self, literals: tuple[str, ...]) -> None:
        self.literals = literals
        self.width = max(map(len, literals))  # no hit is longer
        self._pattern = None
        if len(literals) > 1:
            rests = "|".join(re.escape(literal[1:]) for literal in literals)
            self._pattern = re.compile(f"{re.escape(literals[0][0])}(?={rests})")

    def find(self, text: str, start: int, end: int) -> int:
        """Where the first hit lying wholly in ``text[start:end]`` starts (-1: none)."""
        if self._pattern is None:
            return text.find(self.literals[0], start, end)
        match = self._pattern.search(text, start, end)
        return -1 if match is None else match.start()


@functools.cache  # one object per group: CueSearch remembers what it searched by cue
def _cue(literals: tuple[str, ...]) -> Cue:
    return Cue(literals)


def cue_searches(literals: Collection[str]) -> tuple[Cue, ...]:
    """The searches for ``literals``: one for each group sharing its first two characters."""
    groups: dict[str, list[str]] = {}
    for literal in sorted(literals):
        groups.setdefault(literal[:2], []).append(literal)
    return tuple(_cue(tuple(group)) for group in groups.values())


class CueSearch:
    """The lines of one batch that hold a watched stop cue, in order, with one pass per Cue.

    A cue is searched only as far as it is watched (plus LOOKAHEAD): a kind that stops early in a
    batch costs nothing for the rest of it. What was searched is remembered across drops, so no text is
    searched twice for the same cue.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self.length = len(text)
        self.position = 0  # lines before this offset are done
        # cue -> [a hit, or -1: none from where it was searched up to the next search's start, that start]
        self.state: dict[Cue, list[int]] = {}
        self.cues: Collection[Cue] = ()
        self.watched: list[tuple[Cue, list[int]]] = []
        self.horizon = 0  # no watched cue's hit lies before this offset, as far as is known

    def watch(self, cues: Collection[Cue]) -> None:
        """Look for exactly these cues from ``position`` on (a server announced or stopped)."""
        if cues is not self.cues:
            self.cues = cues
            self.watched = [(cue, self.state.setdefault(cue, [-1, 0])) for cue in cues]
            self.horizon = self.position

    def next_line(self, before: int) -> tuple[int, int] | None:
        """Start and end of the next line holding a watched cue, if it starts before offset ``before``
        (a line start); that line is then done."""
        if before <= self.horizon:
            return None
        hit = self._first_hit(before)
        if hit == -1:
            return None
        start = self.text.rfind("\n", self.position, hit) + 1 or self.position
        end = self.text.find("\n", hit)
        end = self.length if end == -1 else end
        self.position = end + 1
        return start, end

    def skip_to(self, offset: int) -> None:
        """Everything before ``offset`` is done (the caller examined it)."""
        if offset > self.position:
            self.position = offset

    def _first_hit(self, before: int) -> int:
        """The first hit of a watched cue before ``before`` (-1: none), searching only as needed."""
        text, position = self.text, self.position
        first, horizon = before, self.length + 1
        for cue, state in self.watched:
            at = state[0]
            if at < position:  # no hit known at or after position: search on from where it is due
                start = state[1] if at == -1 and state[1] > position else position
                if start < before:
                    reach = max(before, start + LOOKAHEAD)
                    at = state[0] = cue.find(text, start, reach + cue.width)
                    state[1] = reach + 1  # a hit not wholly in what was searched starts here or later
                    known = state[1] if at == -1 else at
                else:
                    at, known = -1, start
            else:
                known = at
            if known < horizon:
                horizon = known
            if -1 < at < first:
                first = at
        self.horizon = horizon
        return first if first < before else -1


class LineNumbers:
    """1-based line numbers of offsets, counted only as far as an event asks (events are rare): from the
    last offset asked, or back from the batch's end when that is nearer and the batch's line count known."""

    def __init__(self) -> None:
        self.before_batch = 0  # lines in earlier batches
        self.text = ""
        self.batch_lines: int | None = 0  # lines in this batch, when the caller knew (none before the first)
        self.counted_to = 0  # offset in text up to which newlines are counted
        self.counted = 0

    def next_batch(self, text: str, lines: int | None) -> None:
        if self.batch_lines is None:
            self.batch_lines = self.counted + self.text.count("\n", self.counted_to) + 1
        self.before_batch += self.batch_lines
        self.text, self.batch_lines, self.counted_to, self.counted = text, lines, 0, 0

    def at(self, offset: int) -> int:
        if offset < self.counted_to:  # an earlier line (a held URL's twin, a stop line): count back to it
            return self.before_batch + self.counted - self.text.count("\n", offset, self.counted_to) + 1
        if self.batch_lines is not None and len(self.text) - offset < offset - self.counted_to:
            # Nearer the batch's end, whose line number the caller gave: count from there. A batch's events
            # come in clusters (a server's start and stop lines), so this about halves the counting.
            self.counted = self.batch_lines - 1 - self.text.count("\n", offset)
        else:
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
