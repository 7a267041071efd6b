"""Reading one session's rows by absolute line number into logical lines (see iterm2_frontend)."""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Iterable, Sequence

import iterm2
from iterm2 import api_pb2

from iterm2_autolaunch.frontends.iterm2_requests import SOFT_EOL, get_overflow, get_rows, get_screen
from iterm2_autolaunch.frontends.panes import URL_TAIL, RecentTexts, ScreenScanner, looks_full_screen

log = logging.getLogger(__name__)

# How many distinct row texts a reader remembers having seen on the screen, to tell a repainted
# row with new text from one that moved or came back (a full-screen program scrolling, vim exiting).
RECENT_ROW_TEXTS = 1024
# After a resize: how many rows above the screen to read again, and how many of the last lines
# handed over must match in a row to find our place.
RESYNC_LOOKBACK = 500
RESYNC_MATCH = 3


class LineAssembler:
    """Joins soft-wrapped rows into logical lines, keeping the unfinished tail between reads."""

    def __init__(self) -> None:
        self.carry: list[str] = []

    def feed(self, rows: Iterable[api_pb2.LineContents], out: list[str]) -> None:
        carry = self.carry
        for row in rows:
            if row.continuation == SOFT_EOL:
                carry.append(row.text)
            elif carry:
                carry.append(row.text)
                out.append("".join(carry))
                carry.clear()
            else:
                out.append(row.text)

    def drop(self) -> None:
        """The rest of the carried line was lost: whatever we had of it can't be completed."""
        self.carry.clear()


class LineReader:
    """One session's reading position: the rows it consumed and the line it is assembling."""

    def __init__(self, connection: iterm2.Connection, session_id: str, *, from_start: bool) -> None:
        self.connection = connection
        self.session_id = session_id
        # A session that appears while we run is read from its first line; one that existed when we
        # started is read from its screen: old history is stale, the screen is what the user sees.
        self.next_line: int | None = 0 if from_start else None
        self.lines_lost = 0
        # True when the last read found rows that had scrolled into history since the one before.
        self.scrolling = False
        # The screen's width in cells (the ``columns`` variable), where a pane's last column is.
        self.width = 0
        self._assembler = LineAssembler()
        self._screen_rows: dict[int, str] = {}  # screen rows consumed, by line number
        self._recent = RecentTexts(RECENT_ROW_TEXTS)
        # Logical lines handed over lately, and those of them the screen scan found.
        self._delivered = RecentTexts(RECENT_ROW_TEXTS)
        self._scanned = RecentTexts(RECENT_ROW_TEXTS)
        self._scanner = ScreenScanner(self._delivered)
        self._last_top = 0
        # Whether the last read saw a multiplexer's screen, and whether the session was resized
        # since (its rows were reflowed and renumbered).
        self._full_screen = False
        self._resized = False
        self._skip_present = False
        self._last_lines: deque[str] = deque(maxlen=RESYNC_MATCH)

    def resized(self) -> None:
        self._resized = True

    def skip_present(self) -> None:
        """If the first read finds rows in the history already, take what the session holds as
        read: it is a replay (a tmux -CC pane opening), not output that just arrived. Without
        history the rows are read: new output right after the pane opened looks the same."""
        self.next_line = None
        self._skip_present = True

    async def read_new_lines(self) -> list[str]:
        screen = await get_screen(self.connection, self.session_id)
        top = screen.windowed_coord_range.coord_range.start.y
        rows = screen.contents
        # Rows above the cursor's are finished; the cursor row is still being written.
        end = min(max(screen.cursor.y, top), top + len(rows))
        if self._resized:
            self._resized = False
            return await self._resync(top, end, rows)
        if self._skip_present and top > 0:
            self._skip_present = False
            self.next_line, self._last_top = end, top
            self._screen_rows = {n: rows[n - top].text for n in range(top, end)}
            return []
        self._skip_present = False
        if self.next_line is None:
            self.next_line = top
        if top < self._last_top:
            self._renumber(top - self._last_top, top)
        self._last_top = top
        lines: list[str] = []
        self.scrolling = self.next_line < top
        if self.scrolling:
            # Rows a multiplexer scrolled into the history (iTerm2 keeps what scrolls off the
            # alternate screen and off a region at the top, by default) are rows of its panes side
            # by side, read by the screen scan already: they only move our place.
            await self._read_history(top, [] if self._full_screen else lines)
        bottom = top + len(rows)
        if end < self.next_line and all(not rows[n - top].text for n in range(end, min(self.next_line, bottom))):
            self._rewind(end)
        # The screen's rows as the line-number reading sees them: repainted rows, then new rows.
        screen_lines: list[str] = []
        self._read_repainted_rows(top, end, rows, screen_lines)
        carried = bool(self._assembler.carry)  # a line begun in history that may end on the screen
        start = max(self.next_line, top)
        fresh: list[str] = []
        if start < end:
            new_rows = rows[start - top : end - top]
            self._assembler.feed(new_rows, fresh)
            for number, row in enumerate(new_rows, start):
                self._screen_rows[number] = row.text
                self._recent.add(row.text)
            self.next_line = end
        texts = [(row.text, row.continuation == SOFT_EOL) for row in rows]
        cursor_row = screen.cursor.y - top
        self._full_screen = looks_full_screen(texts, cursor_row)
        if self._full_screen:
            # A multiplexer: its rows are read by the screen scan; the reading by number above only
            # keeps its place, so nothing is read twice when the screen is a plain one again.
            if carried and fresh:
                lines.append(fresh[0])
            scanned = self._scanner.scan(texts, self.width, (screen.cursor.x, cursor_row))
            for text in scanned:
                self._scanned.add(text)
            lines.extend(scanned)
        else:
            lines.extend(text for text in screen_lines + fresh if not self._seen_by_scan(text, self.width))
            for text in lines[-len(rows) :] if rows else ():
                self._delivered.add(text.rstrip())
        self._last_lines.extend(lines)
        return lines

    async def _resync(self, top: int, end: int, rows: Sequence[api_pb2.LineContents]) -> list[str]:
        """Find our place again after a resize, which rewraps every line and moves the numbers of
        the rows after the first rewrapped one (VT100ScreenMutableState+Resizing.m).

        Logical lines survive a rewrap, so the rows around the screen are read again as logical
        lines and the last lines handed over are looked for among them: what follows them is new
        (written since the last read), what precedes them is not handed over again. If they are
        not found (a multiplexer redraws its own screen on a resize) the screen is taken as read.
        """
        overflow = await get_overflow(self.connection, self.session_id)
        first = max(overflow, top - RESYNC_LOOKBACK)
        history = (await get_rows(self.connection, self.session_id, first, top - first)).contents if first < top else []
        assembler = LineAssembler()
        logical: list[str] = []
        assembler.feed([*history, *rows[: end - top]], logical)
        known = list(self._last_lines)[-RESYNC_MATCH:]
        new: list[str] = []
        for i in range(len(logical) - len(known), -1, -1):
            if known and logical[i : i + len(known)] == known:
                new = logical[i + len(known) :]
                break
        else:
            log.info("session %s: resized; reading on from the cursor", self.session_id)
        self.next_line = end
        self._last_top = top
        self._assembler.drop()
        self._screen_rows = {n: rows[n - top].text for n in range(top, end)}
        for text in self._screen_rows.values():
            self._recent.add(text)
        self._last_lines.extend(new)
        return new

    def _seen_by_scan(self, text: str, width: int) -> bool:
        """Whether a line read by number was handed over by the screen scan lately (the screen
        stopped looking like a multiplexer's for a moment), or is a row-end cut of such a URL."""
        if not self._scanned:
            return False
        stripped = text.rstrip()
        if stripped in self._scanned:
            return True
        cut = width > 0 and len(text) % width == 0 and URL_TAIL.search(text) is not None
        return cut and self._delivered.any_startswith(stripped)

    def _rewind(self, cursor_row: int) -> None:
        """The rows we consumed below the cursor are blank now: a full-screen program exited or the
        screen was cleared. What is written there next is new output: read it as new rows."""
        assert self.next_line is not None
        for number in range(cursor_row, self.next_line):
            self._screen_rows.pop(number, None)
        self.next_line = cursor_row
        self._assembler.drop()

    def _renumber(self, shift: int, top: int) -> None:
        """The screen's top row number went down: the scrollback was cleared and numbering restarted.

        iTerm2 normally keeps numbers growing (overflow absorbs the cleared lines); if it does not,
        the screen rows kept their text, so move our position with them.
        """
        assert self.next_line is not None
        log.info("session %s: line numbers restarted (scrollback cleared)", self.session_id)
        self.next_line = max(top, self.next_line + shift)
        self._screen_rows = {n + shift: text for n, text in self._screen_rows.items() if n + shift >= top}

    async def _read_history(self, top: int, lines: list[str]) -> None:
        """Rows that scrolled off the screen since the last read, from the scrollback."""
        assert self.next_line is not None
        overflow = await get_overflow(self.connection, self.session_id)
        start = max(self.next_line, overflow)
        rows: Sequence[api_pb2.LineContents] = []
        if start < top:
            rows = (await get_rows(self.connection, self.session_id, start, top - start)).contents
        # Rows dropped from the scrollback's head before we got to them: those we asked for and
        # did not get (overflow can grow between the two requests) and those below overflow.
        lost = (top - self.next_line) - len(rows)
        if lost > 0:
            self.lines_lost += lost
            self._assembler.drop()
            log.warning(
                "session %s: %d lines were lost: they scrolled out of iTerm2's scrollback before "
                "they could be read (a larger scrollback in the profile avoids this)",
                self.session_id,
                lost,
            )
        self._assembler.feed(rows, lines)
        self.next_line = top

    def _read_repainted_rows(self, top: int, end: int, rows: Sequence[api_pb2.LineContents], lines: list[str]) -> None:
        """Hand over again screen rows painted over with text that has not been on the screen lately."""
        seen = self._screen_rows
        for number in [n for n in seen if n < top]:
            del seen[number]  # scrolled into history: final
        if not seen:
            return
        assert self.next_line is not None
        recent = self._recent
        done_to = top
        for number in range(top, min(self.next_line, end)):
            old = seen.get(number)
            if old is None or number < done_to:
                continue
            text = rows[number - top].text
            if text == old:
                continue
            seen[number] = text
            if not text or text in recent:
                continue  # erased, moved (a full-screen program scrolling) or back (vim exited)
            # The whole logical line around the row, as far as it is finished.
            first = number
            while first > top and rows[first - 1 - top].continuation == SOFT_EOL:
                first -= 1
            last = number
            while last < end - 1 and rows[last - top].continuation == SOFT_EOL:
                last += 1
            lines.append("".join(rows[n - top].text for n in range(first, last + 1)))
            for n in range(first, last + 1):
                seen[n] = rows[n - top].text
                recent.add(rows[n - top].text)
            done_to = last + 1
