"""Reading a full-screen multiplexer's screen (remote tmux, GNU screen): pure text logic, no iTerm2 calls.

Such a program draws on the alternate screen, so nothing reaches the scrollback, redraws repeat the same
text, and a long URL is split over rows with hard line ends at the pane's edge (beside a border column
when panes are split). ``looks_full_screen`` tells when a screen is like that; ``ScreenScanner`` cuts its
rows at the pane borders, joins a pane row that runs to the edge inside a URL with the pane's next row,
and hands over each logical line not handed over lately, pane by pane, top to bottom.
"""

from __future__ import annotations

import re
from collections.abc import Sequence


class RecentTexts:
    """The last ``size`` distinct texts added, the oldest forgotten first."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._texts: dict[str, None] = {}

    def __contains__(self, text: object) -> bool:
        return text in self._texts

    def add(self, text: str) -> None:
        texts = self._texts
        texts.pop(text, None)
        texts[text] = None
        if len(texts) > self.size:
            del texts[next(iter(texts))]

    def __len__(self) -> int:
        return len(self._texts)

    def any_startswith(self, prefix: str) -> bool:
        """Whether some remembered text is ``prefix`` followed by more."""
        return any(len(text) > len(prefix) and text.startswith(prefix) for text in self._texts)


# ------------------------------------------------------------------------------ full-screen programs

# Box-drawing characters a multiplexer draws its vertical pane borders and their junctions with
# (tmux: single, heavy and double line styles; GNU screen with a UTF-8 font). A plain "|" is not
# among them: log lines put one in the same column too often.
_VERTICAL_BORDER = "│┃║├┤┼┣┫╋╠╣╬┬┴┳┻╦╩┌┐└┘┏┓┗┛╔╗╚╝"
_BORDER_CHAR = re.compile(f"[{_VERTICAL_BORDER}]")
# A pane row made of border characters only: a horizontal border between panes stacked vertically.
_HORIZONTAL_BORDER = re.compile(f"[ ─━═{_VERTICAL_BORDER}]*[─━═][ ─━═{_VERTICAL_BORDER}]*")
# The end of a line that stops inside a URL (or its scheme, cut early: "ht", "https:/").
URL_TAIL = re.compile(r"(?:^|\s)(?:[A-Za-z][A-Za-z0-9+.-]{0,15}://\S*|h(?:t(?:t(?:ps?(?::/{0,2})?)?)?)?)$")
# What may continue a URL cut at the pane's edge: the URL characters servers print (no "[": pane
# rows and log lines start with one, URLs never continue with one).
_URL_CONTINUES = re.compile(r"[A-Za-z0-9._~%/?#&=+,;:@!$'()*-]")


class _Line:
    """A logical line taking shape in one pane: its rows so far and how the last one ends."""

    __slots__ = ("first", "last", "parts", "at_edge", "x0", "x1")

    def __init__(self, x0: int, x1: int, row: int, text: str) -> None:
        self.x0, self.x1 = x0, x1
        self.first = self.last = row
        self.parts = [text]
        self.at_edge = _reaches_edge(text, x1 - x0)

    @property
    def text(self) -> str:
        return "".join(self.parts).rstrip()

    def add(self, row: int, text: str) -> None:
        self.parts.append(text)
        self.last = row
        self.at_edge = _reaches_edge(text, self.x1 - self.x0)

    def cut_in_url(self) -> bool:
        """Whether the line runs to the pane's edge and stops inside a URL there."""
        return self.at_edge and URL_TAIL.search("".join(self.parts)) is not None


def _reaches_edge(text: str, width: int) -> bool:
    return len(text) >= width and not text[width - 1].isspace()


def pane_rows(texts: Sequence[str], width: int) -> list[list[tuple[int, int, str]]]:
    """Each row cut into pane segments ``(first column, end column, text)`` at the vertical borders.

    A border is a box-drawing character with another one right above or below it in the same
    column, so a stray box character in a program's output does not split its row.
    """
    columns = [{m.start() for m in _BORDER_CHAR.finditer(text)} for text in texts]
    out: list[list[tuple[int, int, str]]] = []
    for y, text in enumerate(texts):
        borders = sorted(
            x for x in columns[y] if (y > 0 and x in columns[y - 1]) or (y + 1 < len(texts) and x in columns[y + 1])
        )
        segments = []
        x0 = 0
        for x in [*borders, max(width, len(text))]:
            if x > x0:
                segments.append((x0, x, text[x0:x]))
            x0 = x + 1
        out.append(segments)
    return out


class ScreenScanner:
    """The logical lines on a multiplexer's screen that were not handed over lately.

    ``scan`` cuts the rows into panes, builds each pane's logical lines (soft-wrapped rows of a
    full-width pane are joined as always; a row that runs to its pane's edge and stops inside a URL
    is joined with the pane's next row when that continues the URL), and returns the lines whose
    text is not among the recently handed-over ones, pane by pane, top to bottom. Left out for now:
    the line the cursor is in (still being written), a URL line whose next row is the cursor's (the
    program is drawing it), and a URL line cut at the pane's edge whose longer version was handed
    over before (a partial view of it while scrolling): a URL cut short carries a wrong token.
    """

    def __init__(self, delivered: RecentTexts) -> None:
        self.delivered = delivered

    def scan(self, rows: Sequence[tuple[str, bool]], width: int, cursor: tuple[int, int] | None) -> list[str]:
        texts = [text for text, _ in rows]
        width = max(width, max((len(t) for t in texts), default=0))
        lines: list[tuple[_Line, str]] = []  # each finished line and how it is followed
        open_lines: dict[tuple[int, int], _Line] = {}
        for y, segments in enumerate(pane_rows(texts, width)):
            present = {(x0, x1) for x0, x1, _ in segments}
            for key in [k for k in open_lines if k not in present]:
                lines.append((open_lines.pop(key), "end"))  # the pane ends above this row
            for x0, x1, text in segments:
                key = (x0, x1)
                line = open_lines.get(key)
                if _HORIZONTAL_BORDER.fullmatch(text):
                    if line is not None:
                        lines.append((open_lines.pop(key), "end"))
                    continue
                if line is not None:
                    # A soft line end joins (a full-width pane) unless the line stops inside a URL
                    # and the next row cannot continue it: rows scrolled inside a scroll region
                    # keep their soft ends, so the row below may be another line, tmux's status line.
                    soft = rows[y - 1][1] and x0 == 0 and x1 >= width
                    in_url = line.cut_in_url()
                    continues = bool(text) and _URL_CONTINUES.match(text[0]) is not None
                    if (soft and (continues or not in_url)) or (in_url and continues):
                        line.add(y, text)
                        continue
                    lines.append((line, "row" if text.strip() else "blank"))
                open_lines[key] = _Line(x0, x1, y, text)
        lines.extend((line, "end") for line in open_lines.values())
        lines.sort(key=lambda item: (item[0].x0, item[0].first))
        out = []
        for line, followed_by in lines:
            text = line.text
            if not text or text in self.delivered or self._unsettled(line, cursor):
                continue
            if line.cut_in_url() and (followed_by == "end" or self.delivered.any_startswith(text)):
                # Its end may be below the pane (copy mode, a smaller window): a URL cut short
                # carries a wrong token. Live output never leaves one there (the pane scrolls).
                continue
            self.delivered.add(text)
            out.append(text)
        return out

    @staticmethod
    def _unsettled(line: _Line, cursor: tuple[int, int] | None) -> bool:
        if cursor is None:
            return False
        x, y = cursor
        if not line.x0 <= x < line.x1 and not (x == line.x1 and line.at_edge):
            return False  # the cursor is in another pane (x == x1: pending wrap at the edge)
        if line.first <= y <= line.last:
            return True  # the cursor's line: the program may still be writing it
        return y == line.last + 1 and line.cut_in_url()  # the URL's next row is being drawn


def looks_full_screen(rows: Sequence[tuple[str, bool]], cursor_row: int) -> bool:
    """Whether a multiplexer seems to own the screen: text below the cursor's row (tmux's status
    line, a pane the cursor is not in) or a pane border (box-drawing characters in one column on
    three rows in a row)."""
    if any(text for text, _ in rows[cursor_row + 1 :]):
        return True
    in_one, in_two = set[int](), set[int]()  # border columns ending at the row above: runs of 1, of 2+
    for text, _ in rows:
        columns = {m.start() for m in _BORDER_CHAR.finditer(text)}
        if columns & in_two:
            return True
        in_one, in_two = columns, columns & in_one
    return False
