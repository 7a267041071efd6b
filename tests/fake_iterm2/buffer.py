"""GetBuffer, answered the way iTerm2 v3.6.11 answers it.

``PTYSession.m`` ``handleGetBufferRequest:`` turns the request into an absolute windowed range
(``absoluteWindowedCoordRangeFromLineRange:``), walks it with ``iTermTextExtractor.m``
``enumerateCharsInRange:`` and makes one ``LineContents`` per end of line:

- Rows ``start.y`` through ``end.y`` inclusive; on the row ``end.y`` only cells before ``end.x``,
  and that row ends a line only if it has trailing NULs. So ``end.x == 0`` makes ``end.y``
  exclusive, and a range ending inside a row ends with a soft EOL (the ``if (line)`` tail).
- Rows below ``overflow`` (no longer stored) are skipped; the start is clamped to the first one.
- A row's trailing NULs are trimmed, NULs between text are sent as U+0000; private cells
  (TAB_FILLER, DWC_RIGHT, DWC_SKIP) have zero code points (``stringForLine:``).
- With a column window narrower than the row, trailing spaces count as NULs too and the EOL is
  hard when there were any, soft otherwise.
- The reply's ``windowed_coord_range`` is the requested range as made absolute, not clipped; the
  deprecated ``range`` and ``num_lines_above_screen`` are not set.
"""

from __future__ import annotations

from iterm2 import api_pb2 as pb

from .grid import NUL, code_points_per_cell, strip_private
from .terminal import Terminal

_SOFT = pb.LineContents.Continuation.Value("CONTINUATION_SOFT_EOL")
_HARD = pb.LineContents.Continuation.Value("CONTINUATION_HARD_EOL")
_STATUS = pb.GetBufferResponse.Status


def absolute_range(terminal: Terminal, line_range: pb.LineRange) -> tuple[int, int, int, int, int, int] | None:
    """(start.x, start.y, end.x, end.y, column location, column length), or None if malformed."""
    if line_range.HasField("windowed_coord_range"):
        window = line_range.windowed_coord_range
        coords = window.coord_range
        return (
            coords.start.x,
            coords.start.y,
            coords.end.x,
            coords.end.y,
            window.columns.location,
            window.columns.length,
        )
    if line_range.HasField("screen_contents_only") == line_range.HasField("trailing_lines"):
        return None
    if line_range.HasField("screen_contents_only"):
        top = terminal.screen_top
        return (0, top, 0, top + terminal.rows, 0, 0)
    number_of_lines = terminal.history_size + terminal.rows
    length = min(1_000_000, line_range.trailing_lines, number_of_lines)
    location = number_of_lines + terminal.overflow - length
    return (0, location, 0, location + length, 0, 0)


def fill(terminal: Terminal, line_range: pb.LineRange, result: pb.GetBufferResponse, styles: bool) -> None:
    window = absolute_range(terminal, line_range)
    if window is None or window[0] < 0:
        result.status = _STATUS.Value("INVALID_LINE_RANGE")
        return
    start_x, start_y, end_x, end_y, location, length = window
    width = terminal.columns
    full_width = length <= 0 or (location == 0 and length == width)
    left = location if length else 0
    right = min(location + length if length else width, width)
    first = max(start_y, terminal.overflow)
    last = min(end_y, terminal.screen_top + terminal.rows - 1)
    x0 = max(start_x, 0)
    blanks = NUL if full_width else NUL + " "
    pending: str | None = None  # cells of a line begun but not ended
    for line in terminal.lines(first, last + 1):
        row_end = right if line.number != end_y else max(0, min(right, end_x))
        # Cells past the stored ones were never written: NULs.
        window_cells = line.cells[location:row_end]
        kept = window_cells.rstrip(blanks)
        nulls = (row_end - location) - len(kept)
        begin = min(width - 1, max(location, x0))
        chars = kept[begin - location :]
        if chars:
            pending = (pending or "") + chars
        x0 = left
        if line.number == end_y and nulls == 0:
            continue
        if full_width:
            eol = _SOFT if line.soft else _HARD
        else:
            eol = _HARD if nulls else _SOFT
        _add(result, pending or "", eol, styles)
        pending = None
    if pending:
        _add(result, pending, _SOFT, styles)
    x, y = terminal.cursor()
    result.cursor.x = x
    result.cursor.y = y
    coords = result.windowed_coord_range.coord_range
    coords.start.x, coords.start.y, coords.end.x, coords.end.y = start_x, start_y, end_x, end_y
    result.windowed_coord_range.columns.location = location
    result.windowed_coord_range.columns.length = length
    result.status = _STATUS.Value("OK")


def _add(result: pb.GetBufferResponse, cells: str, eol: int, styles: bool) -> None:
    contents = result.contents.add()
    contents.text = strip_private(cells)
    for points, repeats in code_points_per_cell(cells):
        run = contents.code_points_per_cell.add()
        run.num_code_points = points
        run.repeats = repeats
    if styles and cells:
        contents.style.add().repeats = len(cells)  # one run of the default style
    contents.continuation = eol
