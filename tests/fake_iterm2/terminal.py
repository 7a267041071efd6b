"""The screen of one fake iTerm2 session: a rows x columns grid, scrollback, absolute line numbers.

It behaves like iTerm2's VT100Screen with default preferences, where the API can see it
(ITERM2_API.md §2, §7; iTerm2 v3.6.11 ``sources/``):

- Printing past the last column wraps: the row left behind is marked soft-EOL. A line that exactly
  fills the row is not wrapped until another character arrives (deferred wrap), so it keeps its
  hard EOL. A double-width character takes two cells; one that does not fit wraps, leaving a
  DWC_SKIP cell and EOL_DWC (``VT100Grid.m`` ``appendCharsAtCursor:``). See grid.py for cells.
- Absolute line numbers: 0 is the first line ever received; history is
  ``[overflow, overflow + len(history))`` and the screen starts at ``overflow + len(history)``.
  When the bounded history is full its oldest line is dropped and ``overflow`` grows.
- Rows scrolled off the top go into the history: off the main screen, off the alternate screen
  (``KEY_SCROLLBACK_IN_ALTERNATE_SCREEN`` defaults to YES, ``iTermProfilePreferences.m``;
  ``VT100ScreenMutableState.m`` ``appendLineFeed``) and out of a scroll region that starts at the
  top row (``KEY_SCROLLBACK_WITH_STATUS_BAR`` YES; ``VT100Grid.m`` ``scrollUpIntoLineBuffer:``).
  ``CSI n S`` scrolls into the history even on the alternate screen (``terminalScrollUp:``).
- ``ED 2`` pushes the screen's rows up to the last non-blank one into the history before clearing,
  on either screen; ``ED 0`` from the home position does too on the alternate screen
  (``eraseInDisplayBeforeCursor:afterCursor:``, ``scrollScreenIntoHistory``, advanced setting
  ``saveScrollBufferWhenClearing`` YES). ``ED 3`` clears the history.
- A resize reflows history and main screen at the new width (``VT100ScreenMutableState+Resizing.m``):
  see :meth:`Terminal.resize`.

``legacy=True`` keeps this fake's older, simpler model for tests written against it: blank cells
are spaces, one cell per character, no tab fillers, nothing from the alternate screen or a scroll
region reaches the history and ``ED 2`` on the alternate screen just clears.

It is deliberately small and fast (the benchmark feeds 20,000 lines/s): ASCII text runs are written
a slice at a time, and only the escape sequences that move text around are interpreted.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from . import csi, reflow
from .grid import (
    DWC_RIGHT,
    DWC_SKIP,
    EOL_DWC,
    EOL_HARD,
    NUL,
    Row,
    api_text,
    cells_of,
    screen_text,
)

# One token of terminal output: a run of printable text, a CSI sequence, an OSC string, another
# escape sequence or a single control character. Incomplete sequences at the end of a write do not
# match and wait for the next write.
_TOKEN = re.compile(
    r"(?P<text>[^\x00-\x1f\x7f\x1b]+)"
    r"|\x1b\[(?P<csi_params>[0-?]*)(?P<csi_inter>[ -/]*)(?P<csi_final>[@-~])"
    r"|\x1b\](?P<osc>[^\x07\x1b]*)(?:\x07|\x1b\\)"
    r"|\x1b(?P<esc>[ -/]*[0-Z\\^-~])"
    r"|(?P<ctl>[\x00-\x1a\x1c-\x1f\x7f])"
)
# An unterminated escape sequence longer than this is garbage, not a sequence still arriving.
_MAX_PENDING = 4096


@dataclass(frozen=True)
class Line:
    """A row: ``text`` as a person reads it off the screen (empty cells as blanks), ``cells`` as
    iTerm2 stores them; :attr:`sent` is the text GetBuffer sends for it."""

    number: int
    text: str
    soft: bool
    cells: str = field(default="", compare=False)

    @property
    def sent(self) -> str:
        return api_text(self.cells)


class Terminal:
    """A terminal screen fed with program output (bytes), read by absolute line number."""

    def __init__(
        self,
        rows: int = 24,
        columns: int = 80,
        scrollback: int | None = 1000,
        *,
        clear_keeps_numbering: bool = True,
        legacy: bool = False,
        on_osc: Callable[[str], None] | None = None,
    ) -> None:
        if rows < 1 or columns < 1:
            raise ValueError("a terminal needs at least one row and one column")
        self.rows = rows
        self.columns = columns
        self.scrollback = scrollback  # None: unlimited, as iTerm2's "Unlimited scrollback"
        # iTerm2 keeps absolute numbers increasing when scrollback is cleared (overflow absorbs the
        # cleared lines); False restarts numbering at 0, for testing clients against both.
        self.clear_keeps_numbering = clear_keeps_numbering
        self.legacy = legacy
        self.blank = " " if legacy else NUL
        self.on_osc = on_osc
        self.overflow = 0
        self._history: list[Row] = []
        self._history_head = 0  # entries before this index were dropped (lazy compaction)
        self.main = [Row() for _ in range(rows)]
        self.alt: list[Row] | None = None
        self.grid = self.main
        self.cursor_x = 0
        self.cursor_y = 0
        self.pending_wrap = False
        self.saved_cursor = (0, 0)
        self.main_saved_cursor = (0, 0)
        self.scroll_top = 0
        self.scroll_bottom = rows - 1
        self._decoder = codecs.getincrementaldecoder("utf-8")("replace")
        self._pending = ""

    # ---------------------------------------------------------------- what the API reads

    @property
    def history_size(self) -> int:
        return len(self._history) - self._history_head

    @property
    def screen_top(self) -> int:
        """Absolute number of the first screen row."""
        return self.overflow + self.history_size

    @property
    def in_alternate_screen(self) -> bool:
        return self.alt is not None

    def cursor(self) -> tuple[int, int]:
        """(x, absolute y). While a wrap is pending x equals the width, as iTerm2 reports it."""
        x = self.columns if self.pending_wrap else self.cursor_x
        return x, self.screen_top + self.cursor_y

    def screen(self) -> list[Line]:
        top = self.screen_top
        return [self._line(top + i, row) for i, row in enumerate(self.grid)]

    def lines(self, start: int, end: int) -> list[Line]:
        """Rows with absolute numbers in [start, end), clipped to what still exists."""
        first = max(start, self.overflow)
        top = self.screen_top
        last = min(end, top + self.rows)
        out: list[Line] = []
        for number in range(first, last):
            if number < top:
                row = self._history[self._history_head + number - self.overflow]
            else:
                row = self.grid[number - top]
            out.append(self._line(number, row))
        return out

    def text(self) -> list[str]:
        """History and screen as plain strings, for debugging and tests."""
        return [line.text for line in self.lines(self.overflow, self.screen_top + self.rows)]

    def _line(self, number: int, row: Row) -> Line:
        text = row.cells if self.legacy else screen_text(row.cells)
        return Line(number, text, row.soft, row.cells)

    # ---------------------------------------------------------------- program output

    def write(self, data: bytes) -> None:
        text = self._pending + self._decoder.decode(data)
        self._pending = ""
        pos = 0
        end = len(text)
        match = _TOKEN.match
        while pos < end:
            m = match(text, pos)
            if m is None:
                # Only an escape sequence still arriving fails to match.
                rest = text[pos:]
                self._pending = rest if len(rest) <= _MAX_PENDING else ""
                return
            pos = m.end()
            kind = m.lastgroup
            if kind == "text":
                self._print(m.group("text"))
            elif kind == "ctl":
                csi.control(self, m.group("ctl"))
            elif kind == "csi_final":
                csi.apply(self, m.group("csi_params"), m.group("csi_inter"), m.group("csi_final"))
            elif kind == "osc":
                if self.on_osc is not None:
                    self.on_osc(m.group("osc"))
            elif kind == "esc":
                csi.escape(self, m.group("esc"))

    def clear_scrollback(self) -> None:
        dropped = self.history_size
        self._history = []
        self._history_head = 0
        self.overflow = self.overflow + dropped if self.clear_keeps_numbering else 0

    def resize(self, rows: int, columns: int) -> None:
        """The window changed size: reflow history and the main screen (see reflow.py)."""
        reflow.resize(self, rows, columns)

    # ---------------------------------------------------------------- internals used by csi.py

    def _print(self, s: str) -> None:
        if self.legacy or s.isascii():
            self._print_cells(s)
        else:
            self._print_cells("".join(cells_of(s)))

    def _print_cells(self, s: str) -> None:
        width = self.columns
        while s:
            if self.pending_wrap:
                self.wrap_line()
            x = self.cursor_x
            room = width - x
            if len(s) <= room:
                chunk, s = s, ""
            else:
                chunk, s = s[:room], s[room:]
                if s[0] == DWC_RIGHT and not self.legacy:
                    # The wide character would be cut at the edge: it wraps whole (EOL_DWC).
                    s = chunk[-1] + s
                    chunk = chunk[:-1] + DWC_SKIP
            self.grid[self.cursor_y].put(x, chunk, self.blank)
            x += len(chunk)
            if x >= width:
                self.cursor_x = width - 1
                self.pending_wrap = True
                if chunk.endswith(DWC_SKIP) and s:
                    self.grid[self.cursor_y].eol = EOL_DWC
                    self.pending_wrap = False
                    self.cursor_x = 0
                    self.index(soft_break=True)
            else:
                self.cursor_x = x

    def wrap_line(self) -> None:
        row = self.grid[self.cursor_y]
        if row.eol == EOL_HARD:
            row.soft = True
        self.pending_wrap = False
        self.cursor_x = 0
        self.index(soft_break=True)

    def index(self, *, soft_break: bool = False) -> None:
        """Move down a line, scrolling the region when at its bottom (LF, IND)."""
        if self.cursor_y == self.scroll_bottom:
            self.scroll_up(1, by_line_feed=True)
        elif self.cursor_y < self.rows - 1:
            self.cursor_y += 1

    def scroll_up(self, n: int, *, by_line_feed: bool) -> None:
        """Scroll the region up; a row leaving the top row of the screen goes into the history
        by default (see the module docstring for which preference says so)."""
        grid = self.grid
        top, bottom = self.scroll_top, self.scroll_bottom
        if self.legacy:
            to_history = top == 0 and self.alt is None
        else:
            # LF and wrap honour saveToScrollbackInAlternateScreen (YES); CSI S ignores it.
            to_history = top == 0
        for _ in range(min(n, bottom - top + 1)):
            row = grid.pop(top)
            grid.insert(bottom, Row())
            if to_history:
                self.push_history(row)

    def scroll_down(self, n: int) -> None:
        grid = self.grid
        top, bottom = self.scroll_top, self.scroll_bottom
        for _ in range(min(n, bottom - top + 1)):
            grid.pop(bottom)
            grid.insert(top, Row())

    def push_history(self, row: Row) -> None:
        self._history.append(row)
        self._trim_history()

    def _trim_history(self) -> None:
        history = self._history
        limit = self.scrollback
        if limit is None:
            return
        excess = len(history) - self._history_head - limit
        if excess > 0:
            self._history_head += excess
            self.overflow += excess
            # Compact now and then so dropping a line stays O(1) on average.
            if self._history_head > 4096 and self._history_head * 2 > len(history):
                del history[: self._history_head]
                self._history_head = 0
