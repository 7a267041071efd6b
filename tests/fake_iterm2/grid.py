"""Cells, rows and reflow of the fake iTerm2's screen, as iTerm2 stores them.

A row is a string with one character per cell. iTerm2 (``ScreenChar.h``) keeps a few private codes
in cells that are not text, and the fake keeps the same codes, so what GetBuffer sends is derived
the way ``PTYSession.m`` ``stringForLine:`` derives it:

- ``NUL`` (code 0): a cell never written, or erased. ``iTermTextExtractor.m``
  ``enumerateCharsInRange:`` trims a row's trailing NULs; NULs between text are sent as U+0000.
- ``TAB_FILLER`` (``ITERM2_PRIVATE_BEGIN + 1``): the cells a tab jumped over; the tab stop's cell
  holds ``\\t`` (``VT100ScreenMutableState.m`` ``appendTabAtCursor:``).
- ``DWC_RIGHT`` (``+ 3``): the right half of a double-width character.
- ``DWC_SKIP`` (``+ 0``): the last cell of a row whose double-width character did not fit and
  wrapped; the row ends with ``EOL_DWC`` (``VT100Grid.m`` ``appendCharsAtCursor:``).

``stringForLine:`` gives the private codes zero code points, so they are not in the text.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from functools import lru_cache

NUL = "\x00"
DWC_SKIP = "\x01"
TAB_FILLER = "\x02"
DWC_RIGHT = "\x04"
# ITERM2_PRIVATE_BEGIN..ITERM2_PRIVATE_END: cells that carry no text.
_PRIVATE = re.compile("[\x01-\x07]+")
_PRIVATE_OR_TEXT = re.compile("([\x01-\x07]+)|([^\x01-\x07]+)")

EOL_HARD, EOL_SOFT, EOL_DWC = 0, 1, 2


class Row:
    """One screen row: its cells so far (cells past the end were never written) and how it ends."""

    __slots__ = ("cells", "eol")

    def __init__(self, cells: str = "", eol: int = EOL_HARD) -> None:
        self.cells = cells
        self.eol = eol

    @property
    def soft(self) -> bool:
        """The logical line continues on the next row (EOL_SOFT or EOL_DWC)."""
        return self.eol != EOL_HARD

    @soft.setter
    def soft(self, value: bool) -> None:
        self.eol = EOL_SOFT if value else EOL_HARD

    def put(self, x: int, chunk: str, blank: str) -> None:
        cells = self.cells
        n = len(cells)
        if x == n:
            self.cells = cells + chunk
        elif x > n:
            self.cells = cells + blank * (x - n) + chunk
        else:
            self.cells = cells[:x] + chunk + cells[x + len(chunk) :]

    def __repr__(self) -> str:
        return f"Row({self.cells!r}, eol={self.eol})"


def api_text(cells: str) -> str:
    """What GetBuffer sends for a row: trailing NULs trimmed, private cells without code points."""
    return _PRIVATE.sub("", cells.rstrip(NUL))


_SHOWN_AS_BLANK = str.maketrans({c: " " for c in NUL + DWC_SKIP + TAB_FILLER + "\t"})


def screen_text(cells: str) -> str:
    """A row as a person reads it off the screen: empty cells and tab fillers are blanks, a wide
    character is one character, trailing never-written cells are not there."""
    return cells.rstrip(NUL).replace(DWC_RIGHT, "").translate(_SHOWN_AS_BLANK)


def strip_private(cells: str) -> str:
    return _PRIVATE.sub("", cells)


def code_points_per_cell(cells: str) -> Iterator[tuple[int, int]]:
    """(code points, repeats) runs of a row, as ``stringForLine:`` fills ``code_points_per_cell``."""
    for match in _PRIVATE_OR_TEXT.finditer(cells.rstrip(NUL)):
        yield (0 if match.group(1) else 1), len(match.group(0))


@lru_cache(maxsize=4096)
def is_wide(char: str) -> bool:
    """Takes two cells (East Asian Wide or Fullwidth), as iTerm2's default width tables say."""
    return unicodedata.east_asian_width(char) in ("W", "F")


def cells_of(text: str) -> list[str]:
    """Text as cells: a wide character is followed by its DWC_RIGHT cell."""
    out: list[str] = []
    for char in text:
        out.append(char)
        if is_wide(char):
            out.append(DWC_RIGHT)
    return out


# ------------------------------------------------------------------------------ reflow


def logical_lines(rows: Iterable[Row]) -> Iterator[tuple[str, bool]]:
    """Join soft-wrapped rows into (cells, finished) lines, as iTerm2's LineBuffer stores them.

    ``VT100Grid.m`` ``appendLineToLineBuffer:`` drops the DWC_SKIP of an EOL_DWC row; a hard row's
    trailing NULs are not stored.
    """
    parts: list[str] = []
    for row in rows:
        cells = row.cells
        if row.eol == EOL_DWC and cells.endswith(DWC_SKIP):
            cells = cells[:-1]
        parts.append(cells if row.eol != EOL_HARD else cells.rstrip(NUL))
        if row.eol == EOL_HARD:
            yield "".join(parts), True
            parts = []
    if parts:
        yield "".join(parts), False


def wrap(cells: str, width: int) -> list[Row]:
    """One logical line as rows of ``width`` cells; a wide character never splits across rows."""
    rows: list[Row] = []
    start = 0
    while len(cells) - start > width:
        end = start + width
        if cells[end - 1] not in (DWC_RIGHT,) and end < len(cells) and cells[end] == DWC_RIGHT:
            # The wide character's left half would end this row: skip the cell, wrap it whole.
            rows.append(Row(cells[start : end - 1] + DWC_SKIP, EOL_DWC))
            start = end - 1
        else:
            rows.append(Row(cells[start:end], EOL_SOFT))
            start = end
    rows.append(Row(cells[start:], EOL_HARD))
    return rows
