"""Control sequences of the fake iTerm2's terminal: the ones that move or erase text.

SGR colours, charsets, device reports and modes other than the alternate screen are parsed by
terminal.py and ignored here. Erasing writes NUL cells (``VT100Grid.m`` ``setCharsFrom:to:toChar:``
with the default char, code 0), or spaces in the legacy model.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .grid import DWC_RIGHT, DWC_SKIP, NUL, TAB_FILLER, Row

# Cells numberOfNonEmptyLinesIncludingWhitespaceAsEmpty:YES counts as blank (VT100Grid.m).
_BLANK_CELLS = frozenset(NUL + " \t" + TAB_FILLER + DWC_RIGHT + DWC_SKIP)

if TYPE_CHECKING:
    from .terminal import Terminal


def apply(term: Terminal, params: str, inter: str, final: str) -> None:
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
                _private_mode(term, mode, final == "h")
        return
    if marker:
        return
    term.pending_wrap = False
    rows, cols = term.rows, term.columns
    if final == "A":
        term.cursor_y = max(0, term.cursor_y - arg(0))
    elif final == "B":
        term.cursor_y = min(rows - 1, term.cursor_y + arg(0))
    elif final == "C":
        term.cursor_x = min(cols - 1, term.cursor_x + arg(0))
    elif final == "D":
        term.cursor_x = max(0, term.cursor_x - arg(0))
    elif final == "E":
        term.cursor_y = min(rows - 1, term.cursor_y + arg(0))
        term.cursor_x = 0
    elif final == "F":
        term.cursor_y = max(0, term.cursor_y - arg(0))
        term.cursor_x = 0
    elif final == "G":
        term.cursor_x = min(cols - 1, arg(0) - 1)
    elif final == "d":
        term.cursor_y = min(rows - 1, arg(0) - 1)
    elif final in "Hf":
        term.cursor_y = min(rows - 1, arg(0) - 1)
        term.cursor_x = min(cols - 1, arg(1) - 1)
    elif final == "J":
        _erase_display(term, args[0] if args else 0)
    elif final == "K":
        _erase_line(term, args[0] if args else 0)
    elif final == "r":
        top = arg(0) - 1
        bottom = arg(1, rows) - 1
        if 0 <= top < bottom < rows:
            term.scroll_top, term.scroll_bottom = top, bottom
            term.cursor_x = term.cursor_y = 0
    elif final == "S":
        term.scroll_up(arg(0), by_line_feed=False)
    elif final == "T":
        term.scroll_down(arg(0))
    elif final in "LM":
        _insert_or_delete_lines(term, final, arg(0))
    elif final == "P":
        row = term.grid[term.cursor_y]
        x = term.cursor_x
        row.cells = row.cells[:x] + row.cells[x + arg(0) :]
    elif final == "@":
        row = term.grid[term.cursor_y]
        x = term.cursor_x
        if x < len(row.cells):
            row.cells = (row.cells[:x] + term.blank * arg(0) + row.cells[x:])[:cols]
    elif final == "X":
        row = term.grid[term.cursor_y]
        x = term.cursor_x
        n = min(arg(0), cols - x)
        if x < len(row.cells):
            row.put(x, term.blank * min(n, len(row.cells) - x), term.blank)
    elif final == "s":
        term.saved_cursor = (term.cursor_x, term.cursor_y)
    elif final == "u":
        term.cursor_x, term.cursor_y = term.saved_cursor


def _insert_or_delete_lines(term: Terminal, final: str, n: int) -> None:
    """IL / DL inside the scroll region: rows move within it, none reaches the history."""
    if not term.scroll_top <= term.cursor_y <= term.scroll_bottom:
        return
    grid = term.grid
    top, bottom = term.cursor_y, term.scroll_bottom
    for _ in range(min(n, bottom - top + 1)):
        if final == "L":
            grid.pop(bottom)
            grid.insert(top, Row())
        else:
            grid.pop(top)
            grid.insert(bottom, Row())
    term.cursor_x = 0


def _private_mode(term: Terminal, mode: int, on: bool) -> None:
    if mode not in (47, 1047, 1049):
        return
    if on and term.alt is None:
        if mode == 1049:
            term.main_saved_cursor = (term.cursor_x, term.cursor_y)
        term.alt = [Row() for _ in range(term.rows)]
        term.grid = term.alt
        if mode == 1049:
            term.cursor_x = term.cursor_y = 0
    elif not on and term.alt is not None:
        term.alt = None
        term.grid = term.main
        if mode == 1049:
            term.cursor_x, term.cursor_y = term.main_saved_cursor
    term.pending_wrap = False
    term.scroll_top, term.scroll_bottom = 0, term.rows - 1


def _erase_display(term: Terminal, mode: int) -> None:
    """ED, as ``VT100ScreenMutableState.m`` ``eraseInDisplayBeforeCursor:afterCursor:``."""
    grid = term.grid
    y = term.cursor_y
    if mode == 0:
        at_home = term.cursor_x == 0 and y == 0
        if at_home and term.alt is not None and not term.legacy:
            # saveScrollBufferWhenClearing: `screen` clears with CSI H CSI J.
            scroll_screen_into_history(term)
        _erase_line(term, 0)
        for i in range(y + 1, term.rows):
            grid[i] = Row()
    elif mode == 1:
        _erase_line(term, 1)
        for i in range(y):
            grid[i] = Row()
    elif mode == 2:
        scroll_screen_into_history(term)
        for i in range(term.rows):
            grid[i] = Row()
    elif mode == 3:
        term.clear_scrollback()


def _erase_line(term: Terminal, mode: int) -> None:
    row = term.grid[term.cursor_y]
    x = term.cursor_x
    if mode == 0:
        row.cells = row.cells[:x]
        row.soft = False
    elif mode == 1:
        row.cells = term.blank * min(x + 1, term.columns) + row.cells[x + 1 :]
    elif mode == 2:
        row.cells = ""
        row.soft = False


def escape(term: Terminal, seq: str) -> None:
    if seq == "7":
        term.saved_cursor = (term.cursor_x, term.cursor_y)
    elif seq == "8":
        term.cursor_x, term.cursor_y = term.saved_cursor
        term.pending_wrap = False
    elif seq == "D":
        term.pending_wrap = False
        term.index()
    elif seq == "E":
        term.pending_wrap = False
        term.cursor_x = 0
        term.index()
    elif seq == "M":
        term.pending_wrap = False
        if term.cursor_y == term.scroll_top:
            term.scroll_down(1)
        elif term.cursor_y > 0:
            term.cursor_y -= 1
    elif seq == "c":
        term.alt = None
        term.main = [Row() for _ in range(term.rows)]
        term.grid = term.main
        term.cursor_x = term.cursor_y = 0
        term.pending_wrap = False
        term.scroll_top, term.scroll_bottom = 0, term.rows - 1
    # Charset designations (ESC ( B) and keypad modes change nothing readable.


def control(term: Terminal, c: str) -> None:
    if c in "\n\x0b\x0c":
        term.pending_wrap = False
        term.index()
    elif c == "\r":
        term.pending_wrap = False
        term.cursor_x = 0
    elif c == "\x08":
        if term.pending_wrap:
            term.pending_wrap = False
        else:
            term.cursor_x = max(0, term.cursor_x - 1)
    elif c == "\t":
        _tab(term)
    # BEL, NUL, SO/SI and the rest change nothing a script can read.

def _tab(term: Terminal) -> None:
    """``appendTabAtCursor:``: over never-written cells, TAB_FILLER cells and a ``\\t``."""
    x = term.cursor_x
    stop = min(term.columns - 1, (x // 8 + 1) * 8)
    if stop <= x:
        return
    row = term.grid[term.cursor_y]
    if not term.legacy and all(c == NUL for c in row.cells[x:stop]):
        row.put(x, TAB_FILLER * (stop - x - 1) + "\t", term.blank)
    term.cursor_x = stop


def scroll_screen_into_history(term: Terminal) -> None:
    """``scrollScreenIntoHistory``: rows up to the last non-blank one, before a clear."""
    if term.legacy and term.alt is not None:
        return
    grid = term.grid
    used = max((i + 1 for i, row in enumerate(grid) if not _BLANK_CELLS.issuperset(row.cells)), default=0)
    for row in grid[:used]:
        term.push_history(row)
    for i in range(used):
        grid[i] = Row()
