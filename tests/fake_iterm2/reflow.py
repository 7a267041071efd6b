"""A resize, as iTerm2 v3.6.11 does it (VT100ScreenMutableState+Resizing.m, LineBuffer.m)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .grid import Row, logical_lines, wrap

if TYPE_CHECKING:
    from .terminal import Terminal


def resize(term: Terminal, rows: int, columns: int) -> None:
    """The window changed size: reflow history and the main screen at the new width.

    As ``VT100ScreenMutableState+Resizing.m`` does: the history and the main screen's used
    rows (up to the cursor) become logical lines again, are wrapped at the new width, and the
    screen is refilled from the end; what does not fit goes back into the history (which may
    overflow). Absolute numbers of rows after the first rewrapped one change. The alternate
    screen is cut or padded: the program on it repaints after SIGWINCH.
    """
    if rows < 1 or columns < 1:
        raise ValueError("a terminal needs at least one row and one column")
    main = term.main
    used = term.cursor_y + 1 if term.alt is None else term.main_saved_cursor[1] + 1
    used = max(used, max((i + 1 for i, row in enumerate(main) if row.cells.strip(term.blank)), default=0))
    history = term._history[term._history_head :]
    rows_before = [*history, *main[:used]]
    cursor_x = term.cursor_x if term.alt is None else term.main_saved_cursor[0]
    # The cursor's offset in its logical line, to put it back in the rewrapped one.
    cursor_row = len(history) + (used - 1 if term.alt is not None else term.cursor_y)
    start = cursor_row
    while start > 0 and rows_before[start - 1].soft:
        start -= 1
    offset = (cursor_row - start) * term.columns + cursor_x
    wrapped = [row for cells, _ in logical_lines(rows_before) for row in wrap(cells, columns)]
    cursor_index, cursor_x = _cursor_after_reflow(rows_before, start, offset, columns)
    wrap_pending = cursor_x == 0 and 0 < cursor_index == len(wrapped)
    if wrap_pending:  # the line exactly fills its last row: the cursor waits past its end
        cursor_index, cursor_x = cursor_index - 1, columns - 1
    term.rows, term.columns = rows, columns
    on_screen = wrapped[-rows:] if len(wrapped) > rows else wrapped
    term._history = wrapped[: len(wrapped) - len(on_screen)]
    term._history_head = 0
    cy = min(rows - 1, max(0, cursor_index - len(term._history)))
    term.main = [*on_screen, *(Row() for _ in range(rows - len(on_screen)))]
    term._trim_history()
    cx = min(columns - 1, cursor_x)
    term.pending_wrap = False
    if term.alt is None:
        term.grid = term.main
        term.cursor_x, term.cursor_y = cx, cy
        term.pending_wrap = wrap_pending
    else:
        term.main_saved_cursor = (cx, cy)
        term.alt = [*term.alt[:rows], *(Row() for _ in range(rows - len(term.alt)))]
        for row in term.alt:
            row.cells = row.cells[:columns]
        term.grid = term.alt
        term.cursor_x, term.cursor_y = min(term.cursor_x, columns - 1), min(term.cursor_y, rows - 1)
    term.scroll_top, term.scroll_bottom = 0, rows - 1



def _cursor_after_reflow(rows_before: list[Row], start: int, offset: int, columns: int) -> tuple[int, int]:
    """(row index in the rewrapped rows, x) of the cell ``offset`` into the logical line that
    began at row ``start`` before the reflow."""
    index = 0
    for cells, _finished in logical_lines(rows_before[:start]):
        index += len(wrap(cells, columns))
    return index + offset // columns, offset % columns
