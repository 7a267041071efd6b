"""Raw terminal bytes to logical lines: what a person would read on the screen, one string per line.

Shared by ``scan`` and the pty frontend. Escape sequences (CSI, OSC, DCS/SOS/PM/APC and the short ESC
forms) are removed, ``\\r\\n`` ends a line, a bare ``\\r`` returns to column 0 so that a redraw
overwrites what was there, and backspace moves left. Invalid UTF-8 becomes U+FFFD. Work is linear in the
input: a logical line longer than ``max_line`` keeps its first ``max_line`` characters followed by
``TRUNCATED`` (so it can never pass for a server's start line), the rest of it is dropped, and an escape
sequence that never ends is given up after ``MAX_SEQUENCE`` characters.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterable, Iterator

MAX_LINE = 64 * 1024
TRUNCATED = " [line truncated]"
MAX_SEQUENCE = 4096

# One complete escape sequence. The string-type sequences (OSC, DCS, ...) are bounded so that a hostile
# "ESC ]" with no terminator cannot swallow the rest of the stream.
_ESCAPE = re.compile(
    rf"""
      \x1b\[ [0-?]* [ -/]* [@-~]                          # CSI: ESC [ params intermediates final
    | \x9b [0-?]* [ -/]* [@-~]                            # 8-bit CSI
    | \x1b\] [^\x07\x1b\x9c]{{0,{MAX_SEQUENCE}}} (?:\x07|\x1b\\|\x9c)   # OSC, ended by BEL or ST
    | \x1b[PX^_] [^\x1b\x9c]{{0,{MAX_SEQUENCE}}} (?:\x1b\\|\x9c)        # DCS, SOS, PM, APC, ended by ST
    | \x1b [ -/]* [0-OQ-WYZ\\`-~]                         # short forms: ESC ( B, ESC 7, ESC =, ...
    """,
    re.VERBOSE,
)
_BROKEN_ESCAPE = re.compile(r"\x1b\[[0-?]*[ -/]*|\x1b.?", re.DOTALL)
# Control characters other than the ones the line logic handles (\n \r \b \t): dropped.
_CONTROL = re.compile(r"[\x00-\x07\x0b-\x0c\x0e-\x1f\x7f\x80-\x9f]")


class LineAssembler:
    """Incremental: ``feed`` bytes as they arrive, get back the lines they completed."""

    def __init__(self, max_line: int = MAX_LINE) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._max_line = max_line
        self._pending_escape = ""  # an escape sequence cut by the end of the previous chunk
        self._partial = ""  # text of the current, unfinished line (not yet cleaned of \r and \b)

    def feed(self, data: bytes) -> list[str]:
        text = self._pending_escape + self._decoder.decode(data)
        self._pending_escape = ""
        cut = _unfinished_escape_start(text)
        if cut is not None:
            text, self._pending_escape = text[:cut], text[cut:]
        return self._lines(_strip_escapes(text))

    def finish(self) -> list[str]:
        """End of input: whatever is left is the last line."""
        text = self._pending_escape + self._decoder.decode(b"", final=True)
        self._pending_escape = ""
        lines = self._lines(_strip_escapes(text))
        if self._partial:
            lines.append(_render(self._partial, self._max_line))
            self._partial = ""
        return lines

    def _lines(self, text: str) -> list[str]:
        # Split on "\n" and drop the "\r"s before it ("\r*\n" as a regex is quadratic on a run of bare "\r").
        pieces = text.split("\n")
        pieces[0] = self._partial + pieces[0][: self._max_line * 2 + 1]
        self._partial = pieces.pop()
        if len(self._partial) > self._max_line * 2:
            # Keep memory bounded on an endless line; what lies past the cap is never shown anyway.
            self._partial = self._partial[: self._max_line * 2 + 1]
        return [_render(piece.rstrip("\r"), self._max_line) for piece in pieces]


def bytes_to_lines(chunks: Iterable[bytes]) -> Iterator[str]:
    """All logical lines of a byte stream given in chunks."""
    assembler = LineAssembler()
    for chunk in chunks:
        yield from assembler.feed(chunk)
    yield from assembler.finish()


def _strip_escapes(text: str) -> str:
    if "\x1b" in text or "\x9b" in text:
        text = _ESCAPE.sub("", text)
        # An ESC that starts no complete sequence (unterminated or junk): drop it, with a CSI's parameters.
        text = _BROKEN_ESCAPE.sub("", text)
    return _CONTROL.sub("", text)


def _unfinished_escape_start(text: str) -> int | None:
    """Where a trailing escape sequence starts that the next chunk may complete, if any."""
    start = max(text.rfind("\x1b", -MAX_SEQUENCE - 8), text.rfind("\x9b", -MAX_SEQUENCE - 8))
    if start == -1:
        return None
    if _ESCAPE.match(text, start):
        return None  # the last sequence is complete
    return start


def _render(line: str, max_line: int) -> str:
    """Apply bare carriage returns and backspaces the way a terminal would, and cap the length.

    Only the first ``2 * max_line`` characters are looked at, so a hostile line costs bounded work.
    """
    cut = len(line) > max_line * 2
    line = line[: max_line * 2]
    if "\b" in line:
        visible = _render_backspaces(line, max_line)
    elif "\r" in line:
        # Each "\r" returns to column 0: column i shows the last segment longer than i. Walk the segments
        # from the last one, keeping only what sticks out beyond the longer ones: linear in the line.
        parts: list[str] = []
        shown = 0
        for segment in reversed(line.split("\r")):
            if len(segment) > shown:
                parts.append(segment[shown:])
                shown = len(segment)
        visible = "".join(parts)
    else:
        visible = line
    if cut or len(visible) > max_line:
        return visible[:max_line] + TRUNCATED
    return visible


def _render_backspaces(line: str, max_line: int) -> str:
    cells: list[str] = []
    cursor = 0
    for char in line:
        if char == "\r":
            cursor = 0
        elif char == "\b":
            cursor = max(0, cursor - 1)
        elif cursor < len(cells):
            cells[cursor] = char
            cursor += 1
        elif cursor <= max_line:
            cells.append(char)
            cursor += 1
        # else: past the cap; dropped
    return "".join(cells)
