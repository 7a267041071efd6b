"""Stream helpers of the detector: stop windows, lazy line numbers, looking back a few lines. Pure."""

from __future__ import annotations

from collections.abc import Collection

STOP_WINDOW = 40  # lines from a stop cue in which a server's stop lines may appear


class StopWindows:
    """The lines of one batch from a stop cue (the ``^C`` echo) on, STOP_WINDOW lines at most, in order.

    Found by searching for the next cue only when asked, so a batch with no running server, or no
    Ctrl-C, costs nothing here. A window that starts in one batch runs on into the next.
    """

    def __init__(self, text: str, carried_lines: int) -> None:
        self.text = text
        self.position = 0  # offset of the next line to consider
        self.left = carried_lines  # lines left in the current window

    def next_line(self, cues: Collection[str], before: int) -> int | None:
        """Start of the next line inside a window, if it starts before offset ``before``."""
        if self.position > len(self.text):
            return None
        if self.left == 0:
            hits = [at for cue in cues if (at := self.text.find(cue, self.position, before)) != -1]
            hit = min(hits, default=-1)
            if hit == -1:
                self.position = max(self.position, before)
                return None
            self.position = self.text.rfind("\n", 0, hit) + 1
            self.left = STOP_WINDOW
        if self.position >= before:
            return None
        start = self.position
        end = self.text.find("\n", start)
        self.position = len(self.text) + 1 if end == -1 else end + 1
        self.left -= 1
        return start

    def line(self, start: int) -> str:
        end = self.text.find("\n", start)
        return self.text[start : end if end != -1 else len(self.text)]

    def skip_to(self, offset: int) -> None:
        """The caller examined everything before ``offset`` itself; count those lines as seen."""
        while self.left and self.position < offset:
            end = self.text.find("\n", self.position)
            self.position = len(self.text) + 1 if end == -1 else end + 1
            self.left -= 1
        self.position = max(self.position, offset)

    def left_after_batch(self) -> int:
        return self.left if self.position > len(self.text) else 0


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
