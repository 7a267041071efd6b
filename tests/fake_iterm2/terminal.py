"""The screen of one fake iTerm2 session: a rows x columns grid, scrollback, absolute line numbers.

It behaves like iTerm2's VT100Screen where the API can see it (ITERM2_API.md §2):

- Printing past the last column wraps: the row left behind is marked soft-EOL (its logical line
  continues on the next row). A line that exactly fills the row is not wrapped until another
  character arrives (deferred wrap, as xterm and iTerm2 do), so it keeps its hard EOL.
- Rows that scroll off the top of the main screen go into a bounded scrollback history. When the
  history is full its oldest line is dropped and ``overflow`` grows, so absolute line numbers
  (0 = first line ever received) stay stable: history is ``[overflow, overflow + len(history))``
  and the screen starts at ``overflow + len(history)``.
- The alternate screen (``ESC[?1049h``) has its own grid; what scrolls off it is gone, never in
  history.
- ``ESC[2J`` on the main screen moves the screen's text into history before clearing (iTerm2 keeps
  what ``clear`` wiped in scrollback); ``ESC[3J`` clears the history.

It is deliberately small and fast (pyte manages ~3,000 lines/s; the benchmark needs 20,000): text
runs are written a slice at a time, and only the escape sequences that move text around are
interpreted. SGR colours, charsets, modes other than the alternate screen are parsed and ignored.
Every code point takes one cell (no double-width characters).
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Callable
from dataclasses import dataclass

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


class Row:
    """One screen row: the text written so far (never-written trailing cells are absent)."""

    __slots__ = ("soft", "text")

    def __init__(self, text: str = "", soft: bool = False) -> None:
        self.text = text
        # True when the logical line continues on the next row (iTerm2's EOL_SOFT).
        self.soft = soft

    def put(self, x: int, chunk: str) -> None:
        text = self.text
        n = len(text)
        if x == n:
            self.text = text + chunk
        elif x > n:
            self.text = text + " " * (x - n) + chunk
        else:
            self.text = text[:x] + chunk + text[x + len(chunk) :]

    def __repr__(self) -> str:
        return f"Row({self.text!r}, soft={self.soft})"


@dataclass(frozen=True)
class Line:
    """A row as the API reports it."""

    number: int
    text: str
    soft: bool


class Terminal:
    """A terminal screen fed with program output (bytes), read by absolute line number."""

    def __init__(
        self,
        rows: int = 24,
        columns: int = 80,
        scrollback: int | None = 1000,
        *,
        clear_keeps_numbering: bool = True,
        on_osc: Callable[[str], None] | None = None,
    ) -> None:
        if rows < 1 or columns < 1:
            raise ValueError("a terminal needs at least one row and one column")
        self.rows = rows
        self.columns = columns
        # None means unlimited, as iTerm2's "Unlimited scrollback".
        self.scrollback = scrollback
        # iTerm2 keeps absolute numbers increasing when scrollback is cleared (overflow absorbs
        # the cleared lines); False restarts numbering at 0, for testing clients against both.
        self.clear_keeps_numbering = clear_keeps_numbering
        self.on_osc = on_osc
        self.overflow = 0
        self._history: list[Row] = []
        self._history_head = 0  # entries before this index were dropped (lazy compaction)
        self._main = [Row() for _ in range(rows)]
        self._alt: list[Row] | None = None
        self._grid = self._main
        self.cursor_x = 0
        self.cursor_y = 0
        self._pending_wrap = False
        self._saved_cursor = (0, 0)
        self._main_saved_cursor = (0, 0)
        self._scroll_top = 0
        self._scroll_bottom = rows - 1
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
        return self._alt is not None

    def cursor(self) -> tuple[int, int]:
        """(x, absolute y). While a wrap is pending x equals the width, as iTerm2 reports it."""
        x = self.columns if self._pending_wrap else self.cursor_x
        return x, self.screen_top + self.cursor_y

    def screen(self) -> list[Line]:
        top = self.screen_top
        return [Line(top + i, row.text, row.soft) for i, row in enumerate(self._grid)]

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
                row = self._grid[number - top]
            out.append(Line(number, row.text, row.soft))
        return out

    def text(self) -> list[str]:
        """History and screen as plain strings, for debugging and tests."""
        return [line.text for line in self.lines(self.overflow, self.screen_top + self.rows)]

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
                self._control(m.group("ctl"))
            elif kind == "csi_final":
                self._csi(m.group("csi_params"), m.group("csi_inter"), m.group("csi_final"))
            elif kind == "osc":
                if self.on_osc is not None:
                    self.on_osc(m.group("osc"))
            elif kind == "esc":
                self._esc(m.group("esc"))

    def clear_scrollback(self) -> None:
        dropped = self.history_size
        self._history = []
        self._history_head = 0
        self.overflow = self.overflow + dropped if self.clear_keeps_numbering else 0

    # ---------------------------------------------------------------- internals

    def _print(self, s: str) -> None:
        width = self.columns
        while s:
            if self._pending_wrap:
                self._grid[self.cursor_y].soft = True
                self._pending_wrap = False
                self.cursor_x = 0
                self._index()
            x = self.cursor_x
            room = width - x
            if len(s) <= room:
                chunk, s = s, ""
            else:
                chunk, s = s[:room], s[room:]
            self._grid[self.cursor_y].put(x, chunk)
            x += len(chunk)
            if x >= width:
                self.cursor_x = width - 1
                self._pending_wrap = True
            else:
                self.cursor_x = x

    def _control(self, c: str) -> None:
        if c in "\n\x0b\x0c":
            self._pending_wrap = False
            self._index()
        elif c == "\r":
            self._pending_wrap = False
            self.cursor_x = 0
        elif c == "\x08":
            if self._pending_wrap:
                self._pending_wrap = False
            else:
                self.cursor_x = max(0, self.cursor_x - 1)
        elif c == "\t":
            self.cursor_x = min(self.columns - 1, (self.cursor_x // 8 + 1) * 8)
        # BEL, NUL, SO/SI and the rest change nothing a script can read.

    def _index(self) -> None:
        """Move down a line, scrolling the region when at its bottom (LF, IND)."""
        if self.cursor_y == self._scroll_bottom:
            self._scroll_up(1)
        elif self.cursor_y < self.rows - 1:
            self.cursor_y += 1

    def _reverse_index(self) -> None:
        if self.cursor_y == self._scroll_top:
            self._scroll_down(1)
        elif self.cursor_y > 0:
            self.cursor_y -= 1

    def _scroll_up(self, n: int) -> None:
        grid = self._grid
        top, bottom = self._scroll_top, self._scroll_bottom
        to_history = top == 0 and self._alt is None
        for _ in range(min(n, bottom - top + 1)):
            row = grid.pop(top)
            grid.insert(bottom, Row())
            if to_history:
                self._push_history(row)

    def _scroll_down(self, n: int) -> None:
        grid = self._grid
        top, bottom = self._scroll_top, self._scroll_bottom
        for _ in range(min(n, bottom - top + 1)):
            grid.pop(bottom)
            grid.insert(top, Row())

    def _push_history(self, row: Row) -> None:
        history = self._history
        history.append(row)
        limit = self.scrollback
        if limit is not None and len(history) - self._history_head > limit:
            self._history_head += 1
            self.overflow += 1
            # Compact now and then so dropping a line stays O(1) on average.
            if self._history_head > 4096 and self._history_head * 2 > len(history):
                del history[: self._history_head]
                self._history_head = 0

    def _csi(self, params: str, inter: str, final: str) -> None:
        private = params.startswith(("?", ">", "<", "="))
        if private:
            marker, params = params[0], params[1:]
        else:
            marker = ""
        args = [int(p) if p.isdigit() else 0 for p in params.split(";")] if params else []

        def arg(i: int, default: int = 1) -> int:
            value = args[i] if i < len(args) else 0
            return value if value > 0 else default

        if inter:
            return
        if marker == "?":
            if final in "hl":
                for mode in args:
                    self._private_mode(mode, final == "h")
            return
        if marker:
            return
        self._pending_wrap = False
        rows, cols = self.rows, self.columns
        if final == "A":
            self.cursor_y = max(0, self.cursor_y - arg(0))
        elif final == "B":
            self.cursor_y = min(rows - 1, self.cursor_y + arg(0))
        elif final == "C":
            self.cursor_x = min(cols - 1, self.cursor_x + arg(0))
        elif final == "D":
            self.cursor_x = max(0, self.cursor_x - arg(0))
        elif final == "E":
            self.cursor_y = min(rows - 1, self.cursor_y + arg(0))
            self.cursor_x = 0
        elif final == "F":
            self.cursor_y = max(0, self.cursor_y - arg(0))
            self.cursor_x = 0
        elif final == "G":
            self.cursor_x = min(cols - 1, arg(0) - 1)
        elif final == "d":
            self.cursor_y = min(rows - 1, arg(0) - 1)
        elif final in "Hf":
            self.cursor_y = min(rows - 1, arg(0) - 1)
            self.cursor_x = min(cols - 1, arg(1) - 1)
        elif final == "J":
            self._erase_display(args[0] if args else 0)
        elif final == "K":
            self._erase_line(args[0] if args else 0)
        elif final == "r":
            top = arg(0) - 1
            bottom = arg(1, rows) - 1
            if 0 <= top < bottom < rows:
                self._scroll_top, self._scroll_bottom = top, bottom
                self.cursor_x = self.cursor_y = 0
        elif final == "S":
            self._scroll_up(arg(0))
        elif final == "T":
            self._scroll_down(arg(0))
        elif final in "LM":
            if self._scroll_top <= self.cursor_y <= self._scroll_bottom:
                saved = self._scroll_top
                self._scroll_top = self.cursor_y
                if final == "L":
                    self._scroll_down(arg(0))
                else:
                    self._scroll_up_without_history(arg(0))
                self._scroll_top = saved
                self.cursor_x = 0
        elif final == "P":
            row = self._grid[self.cursor_y]
            x = self.cursor_x
            row.text = row.text[:x] + row.text[x + arg(0) :]
        elif final == "@":
            row = self._grid[self.cursor_y]
            x = self.cursor_x
            if x < len(row.text):
                row.text = (row.text[:x] + " " * arg(0) + row.text[x:])[:cols]
        elif final == "X":
            row = self._grid[self.cursor_y]
            x = self.cursor_x
            n = min(arg(0), cols - x)
            if x < len(row.text):
                row.put(x, " " * min(n, len(row.text) - x))
        elif final == "s":
            self._saved_cursor = (self.cursor_x, self.cursor_y)
        elif final == "u":
            self.cursor_x, self.cursor_y = self._saved_cursor
        # SGR (m), device status, window ops and the rest: nothing visible in the text.

    def _scroll_up_without_history(self, n: int) -> None:
        grid = self._grid
        top, bottom = self._scroll_top, self._scroll_bottom
        for _ in range(min(n, bottom - top + 1)):
            grid.pop(top)
            grid.insert(bottom, Row())

    def _private_mode(self, mode: int, on: bool) -> None:
        if mode not in (47, 1047, 1049):
            return
        if on and self._alt is None:
            if mode == 1049:
                self._main_saved_cursor = (self.cursor_x, self.cursor_y)
            self._alt = [Row() for _ in range(self.rows)]
            self._grid = self._alt
            if mode == 1049:
                self.cursor_x = self.cursor_y = 0
        elif not on and self._alt is not None:
            self._alt = None
            self._grid = self._main
            if mode == 1049:
                self.cursor_x, self.cursor_y = self._main_saved_cursor
        self._pending_wrap = False
        self._scroll_top, self._scroll_bottom = 0, self.rows - 1

    def _erase_display(self, mode: int) -> None:
        grid = self._grid
        y = self.cursor_y
        if mode == 0:
            self._erase_line(0)
            for i in range(y + 1, self.rows):
                grid[i] = Row()
        elif mode == 1:
            self._erase_line(1)
            for i in range(y):
                grid[i] = Row()
        elif mode == 2:
            if self._alt is None:
                used = max((i + 1 for i, row in enumerate(grid) if row.text), default=0)
                for row in grid[:used]:
                    self._push_history(row)
            for i in range(self.rows):
                grid[i] = Row()
        elif mode == 3:
            self.clear_scrollback()

    def _erase_line(self, mode: int) -> None:
        row = self._grid[self.cursor_y]
        x = self.cursor_x
        if mode == 0:
            row.text = row.text[:x]
            row.soft = False
        elif mode == 1:
            row.text = " " * min(x + 1, self.columns) + row.text[x + 1 :]
        elif mode == 2:
            row.text = ""
            row.soft = False

    def _esc(self, seq: str) -> None:
        if seq == "7":
            self._saved_cursor = (self.cursor_x, self.cursor_y)
        elif seq == "8":
            self.cursor_x, self.cursor_y = self._saved_cursor
            self._pending_wrap = False
        elif seq == "D":
            self._pending_wrap = False
            self._index()
        elif seq == "E":
            self._pending_wrap = False
            self.cursor_x = 0
            self._index()
        elif seq == "M":
            self._pending_wrap = False
            self._reverse_index()
        elif seq == "c":
            self._alt = None
            self._main = [Row() for _ in range(self.rows)]
            self._grid = self._main
            self.cursor_x = self.cursor_y = 0
            self._pending_wrap = False
            self._scroll_top, self._scroll_bottom = 0, self.rows - 1
        # Charset designations (ESC ( B) and keypad modes change nothing readable.
