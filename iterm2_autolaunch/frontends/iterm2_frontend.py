"""The iTerm2 frontend: every session's new output, as complete logical lines, to a LineSink.

How it reads a session (ITERM2_API.md §2). iTerm2 numbers lines absolutely: 0 is the first line a
session ever received, history holds ``[overflow, overflow + history)`` and the screen follows it.
Each session's reader keeps ``next_line``, the first row it has not consumed, and ``carry``, the
rows of a soft-wrapped line whose end it has not seen. When woken it

1. fetches the screen (its top row number, its rows, the cursor),
2. if rows below the screen top are unread, asks for ``overflow`` and fetches the history rows
   ``[max(next_line, overflow), top)``: whatever scrolled off the screen between two reads is
   still there, unless the scrollback overflowed, which is logged as lost lines,
3. consumes the screen rows above the cursor row. The cursor row is still being written (a prompt,
   a progress bar, half a line); rows above it are finished. A row consumed from the screen is
   never consumed again when it scrolls into history, because ``next_line`` has passed it.

Soft-wrapped rows are joined into one logical line. Only complete lines reach the sink: a line
whose last row is soft-EOL waits in ``carry`` for its continuation.

Full-screen programs (less, vim) draw on the alternate screen, where nothing scrolls into history
and rows are repainted in place; a repainted row above the cursor whose text has not been on the
screen lately is handed over again as a new line (so there, a line repeating a recent one is
reported once). When the rows we consumed below the cursor are blank again (the program exited,
the screen was cleared), reading resumes at the cursor.

Terminal multiplexers (tmux, GNU screen) need more: text in a pane the cursor is not in may sit
below the cursor, split panes put several programs side by side on one row, and a long line is
broken at the pane's edge with a hard line end (cursor addressing, no wrap). So while the screen
looks like one (text below the cursor row, or a column of box-drawing pane borders), the screen
rows are read by :class:`ScreenScanner` instead: every update scans the whole visible screen, cuts
each row at the pane borders, joins a pane's row that runs to the pane's edge inside a URL with its
next row in the same pane, and hands over each logical line whose text it has not handed over
lately, pane by pane, top to bottom. A redraw (reattaching, scrolling in copy mode) repeats what
was handed over already and is dropped.

One screen-update subscription covers all sessions (a per-session ScreenStreamer would shadow it
and drops updates while busy); an update only wakes the session's reader, which then reads
everything new, so bursts of updates coalesce into one read. While output scrolls by faster than
that, the reader also reads again on its own every 10 ms: iTerm2 notifies less often under heavy
output, and the scrollback may not hold what arrives in between.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import threading
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any

import iterm2
from iterm2 import api_pb2, notifications, rpc
from iterm2.util import CoordRange, Point, WindowedCoordRange

from iterm2_autolaunch.errors import AutolaunchError, SessionGone
from iterm2_autolaunch.frontends.panes import URL_TAIL, RecentTexts, ScreenScanner, looks_full_screen
from iterm2_autolaunch.session import LineSink, Service, SessionContext

log = logging.getLogger(__name__)

# Session variables that describe where the output comes from (ITERM2_API.md §3). iTerm2 tells us
# when these change; user.* variables have no wildcard monitor, so they are re-read (below).
# ``columns`` gives the width of the screen (where a pane's last column is).
WATCHED_VARIABLES = ("jobName", "commandLine", "hostname", "username", "columns")
# How stale user.* variables may be when lines are handed over, in seconds.
USER_VARIABLES_MAX_AGE = 0.5
# While output scrolls off the screen faster than we read, read again every FOLLOW_UP_READ_DELAY
# seconds instead of waiting for the next screen update, until FOLLOW_UP_LINGER seconds after the
# last read that saw rows scroll by. Under heavy output iTerm2 redraws (and notifies) less often,
# down to 15 Hz; at 20,000 lines/s that is more lines per update than the default 1,000-line
# scrollback holds. Output slower than a screenful per read never triggers this.
FOLLOW_UP_READ_DELAY = 0.01
FOLLOW_UP_LINGER = 0.25
# How many distinct row texts a reader remembers having seen on the screen, to tell a repainted
# row with new text from one that moved or came back (a full-screen program scrolling, vim exiting).
RECENT_ROW_TEXTS = 1024
# After iTerm2 goes away, how long shutdown may take before the process exits hard.
EXIT_DEADLINE = 2.0
# Per-session reader tasks are named with this prefix (observable in tests and debuggers).
TASK_NAME_PREFIX = "iterm2-autolaunch session "

_SOFT_EOL = api_pb2.LineContents.Continuation.Value("CONTINUATION_SOFT_EOL")
_BUFFER_OK = api_pb2.GetBufferResponse.Status.Value("OK")
_BUFFER_NO_SESSION = api_pb2.GetBufferResponse.Status.Value("SESSION_NOT_FOUND")
_PROPERTY_OK = api_pb2.GetPropertyResponse.Status.Value("OK")
_PROPERTY_NO_TARGET = api_pb2.GetPropertyResponse.Status.Value("INVALID_TARGET")
_VARIABLE_OK = api_pb2.VariableResponse.Status.Value("OK")
_VARIABLE_NO_SESSION = api_pb2.VariableResponse.Status.Value("SESSION_NOT_FOUND")
_SESSION_SCOPE = api_pb2.VariableScope.Value("SESSION")
_TMUX_OK = api_pb2.TmuxResponse.Status.Value("OK")
# What a tmux integration pane takes from its gateway session: where its output really comes from.
GATEWAY_VARIABLES = ("jobName", "commandLine", "hostname", "username")


# ------------------------------------------------------------------------------ iTerm2 requests
#
# These go through iterm2.rpc rather than iterm2.Session: Session.async_get_contents always asks
# for styles and builds per-cell objects (costly at 20,000 lines/s), the screen's cursor is only in
# the raw reply, and a vanished session should surface as one exception type.


async def _get_screen(connection: iterm2.Connection, session_id: str) -> api_pb2.GetBufferResponse:
    reply = await rpc.async_get_screen_contents(connection, session_id, None, style=False)
    return _checked_buffer(reply.get_buffer_response)


async def _get_rows(
    connection: iterm2.Connection, session_id: str, first: int, count: int
) -> api_pb2.GetBufferResponse:
    # The same request as Session.async_get_contents(first, count), without styles.
    window = WindowedCoordRange(CoordRange(Point(0, first), Point(0, first + count)))
    reply = await rpc.async_get_screen_contents(connection, session_id, window, style=False)
    return _checked_buffer(reply.get_buffer_response)


def _checked_buffer(buffer: api_pb2.GetBufferResponse) -> api_pb2.GetBufferResponse:
    if buffer.status == _BUFFER_NO_SESSION:
        raise SessionGone
    if buffer.status != _BUFFER_OK:
        raise rpc.RPCException(api_pb2.GetBufferResponse.Status.Name(buffer.status))
    return buffer


async def _get_overflow(connection: iterm2.Connection, session_id: str) -> int:
    """Lines dropped from the head of the scrollback (as Session.async_get_line_info reads it)."""
    reply = (await rpc.async_get_property(connection, "number_of_lines", session_id=session_id)).get_property_response
    if reply.status == _PROPERTY_NO_TARGET:
        raise SessionGone
    if reply.status != _PROPERTY_OK:
        raise rpc.RPCException(api_pb2.GetPropertyResponse.Status.Name(reply.status))
    return int(json.loads(reply.json_value)["overflow"])


async def _get_all_variables(connection: iterm2.Connection, session_id: str) -> dict[str, Any]:
    """Every session variable: ``get: ["*"]`` answers one flat dict of dotted names."""
    reply = (await rpc.async_variable(connection, session_id, [], ["*"])).variable_response
    if reply.status == _VARIABLE_NO_SESSION:
        raise SessionGone
    if reply.status != _VARIABLE_OK:
        raise rpc.RPCException(api_pb2.VariableResponse.Status.Name(reply.status))
    values = json.loads(reply.values[0]) if reply.values else {}
    return values if isinstance(values, dict) else {}


async def _tmux_gateway(connection: iterm2.Connection, session_id: str) -> str | None:
    """For a pane of iTerm2's tmux integration, the session where ``tmux -CC`` runs (the gateway):
    the pane's tab names its tmux connection, and the connection names its owning session."""
    listing = (await rpc.async_list_sessions(connection)).list_sessions_response
    connection_id = next(
        (
            tab.tmux_connection_id
            for window in listing.windows
            for tab in window.tabs
            if tab.tmux_connection_id and session_id in _session_ids(tab.root)
        ),
        None,
    )
    if connection_id is None:
        return None
    reply = (await rpc.async_rpc_list_tmux_connections(connection)).tmux_response
    if reply.status != _TMUX_OK:
        return None
    return next(
        (c.owning_session_id for c in reply.list_connections.connections if c.connection_id == connection_id), None
    )


def _session_ids(node: api_pb2.SplitTreeNode) -> set[str]:
    ids = set()
    for link in node.links:
        if link.HasField("session"):
            ids.add(link.session.unique_identifier)
        else:
            ids |= _session_ids(link.node)
    return ids


def _text(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value)


def _context(session_id: str, variables: Mapping[str, Any]) -> SessionContext:
    return SessionContext(
        session_id=session_id,
        job_name=_text(variables.get("jobName")),
        command_line=_text(variables.get("commandLine")),
        hostname=_text(variables.get("hostname")),
        username=_text(variables.get("username")),
        user_vars={name[5:]: _text(value) for name, value in variables.items() if name.startswith("user.")},
    )


# ------------------------------------------------------------------------------ one session


class LineAssembler:
    """Joins soft-wrapped rows into logical lines, keeping the unfinished tail between reads."""

    def __init__(self) -> None:
        self.carry: list[str] = []

    def feed(self, rows: Iterable[api_pb2.LineContents], out: list[str]) -> None:
        carry = self.carry
        for row in rows:
            if row.continuation == _SOFT_EOL:
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


class SessionReader:
    """Reads one session's new logical lines by absolute line number and hands them to the sink."""

    def __init__(self, connection: iterm2.Connection, session_id: str, sink: LineSink, *, from_start: bool) -> None:
        self.connection = connection
        self.session_id = session_id
        self.sink = sink
        # A session that appears while we run is read from its first line; one that existed when we
        # started is read from its screen: old history is stale, the screen is what the user sees.
        self.next_line: int | None = 0 if from_start else None
        self.wake = asyncio.Event()
        self.wake.set()  # the first read happens at once, not at the next screen update
        self.lines_lost = 0
        # True when the last read found rows that had scrolled into history since the one before.
        self.scrolling = False
        self._assembler = LineAssembler()
        self._screen_rows: dict[int, str] = {}  # screen rows consumed, by line number
        self._recent = RecentTexts(RECENT_ROW_TEXTS)
        # Logical lines handed over lately, and those of them the screen scan found.
        self._delivered = RecentTexts(RECENT_ROW_TEXTS)
        self._scanned = RecentTexts(RECENT_ROW_TEXTS)
        self._scanner = ScreenScanner(self._delivered)
        self._last_top = 0
        self._variables: dict[str, Any] = {}
        self._variables_read_at = -float("inf")
        # A tmux integration pane (tmux -CC): its gateway session and that session's variables.
        self._gateway: str | None = None
        self._gateway_variables: dict[str, Any] = {}
        self.context = SessionContext(session_id)

    async def run(self) -> None:
        """Read until cancelled; return when the session is gone."""
        try:
            try:
                await self._read_variables()
            except rpc.RPCException:
                log.exception("session %s: reading its variables failed", self.session_id)
            follow_until = 0.0
            while True:
                if time.monotonic() < follow_until:
                    await asyncio.sleep(FOLLOW_UP_READ_DELAY)
                else:
                    await self.wake.wait()
                self.wake.clear()
                try:
                    lines = await self.read_new_lines()
                    if self.scrolling:
                        follow_until = time.monotonic() + FOLLOW_UP_LINGER
                    if lines:
                        if time.monotonic() - self._variables_read_at > USER_VARIABLES_MAX_AGE:
                            await self._read_variables()
                        self._deliver(lines)
                except SessionGone:
                    raise
                except Exception:
                    # A reply we did not expect, or our bug: keep the position, try again next time.
                    log.exception("session %s: reading the screen failed", self.session_id)
        except SessionGone:
            log.debug("session %s: gone", self.session_id)

    def variable_changed(self, name: str, json_value: str) -> None:
        try:
            value = json.loads(json_value) if json_value else None
        except json.JSONDecodeError:
            value = json_value
        if value is None:
            self._variables.pop(name, None)
        else:
            self._variables[name] = value
        self.context = self._make_context()

    async def _read_variables(self) -> None:
        self._variables = await _get_all_variables(self.connection, self.session_id)
        self._variables_read_at = time.monotonic()
        if self._variables.get("tmuxRole") == "client":
            await self._read_gateway()
        self.context = self._make_context()

    async def _read_gateway(self) -> None:
        """A tmux -CC pane has no process of its own in iTerm2: the ssh command (the host its
        output comes from) is the gateway session's, where ``tmux -CC`` runs."""
        try:
            if self._gateway is None:
                self._gateway = await _tmux_gateway(self.connection, self.session_id)
                if self._gateway is not None:
                    log.info("session %s: a tmux -CC pane of session %s", self.session_id, self._gateway)
            if self._gateway is not None:
                self._gateway_variables = await _get_all_variables(self.connection, self._gateway)
        except SessionGone:  # the gateway closed; the pane goes with it
            self._gateway, self._gateway_variables = None, {}
        except rpc.RPCException:
            log.debug("session %s: no tmux connection information", self.session_id, exc_info=True)

    def _make_context(self) -> SessionContext:
        variables = self._variables
        if self._gateway_variables:
            gateway = {k: v for k, v in self._gateway_variables.items() if k in GATEWAY_VARIABLES}
            variables = {**variables, **gateway}
        return _context(self.session_id, variables)

    def _deliver(self, lines: Sequence[str]) -> None:
        try:
            self.sink.session_lines(self.context, lines)
        except Exception:
            # The engine's bug must not stop this session from being watched.
            log.exception("session %s: the sink failed on %d lines", self.session_id, len(lines))

    async def read_new_lines(self) -> list[str]:
        screen = await _get_screen(self.connection, self.session_id)
        top = screen.windowed_coord_range.coord_range.start.y
        rows = screen.contents
        # Rows above the cursor's are finished; the cursor row is still being written.
        end = min(max(screen.cursor.y, top), top + len(rows))
        if self.next_line is None:
            self.next_line = top
        elif top < self._last_top:
            self._renumber(top - self._last_top, top)
        self._last_top = top
        lines: list[str] = []
        self.scrolling = self.next_line < top
        if self.scrolling:
            await self._read_history(top, lines)
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
        texts = [(row.text, row.continuation == _SOFT_EOL) for row in rows]
        cursor_row = screen.cursor.y - top
        if looks_full_screen(texts, cursor_row):
            # A multiplexer: its rows are read by the screen scan; the reading by number above only
            # keeps its place, so nothing is read twice when the screen is a plain one again.
            if carried and fresh:
                lines.append(fresh[0])
            scanned = self._scanner.scan(texts, self._width(), (screen.cursor.x, cursor_row))
            for text in scanned:
                self._scanned.add(text)
            lines.extend(scanned)
        else:
            width = self._width()
            lines.extend(text for text in screen_lines + fresh if not self._seen_by_scan(text, width))
            for text in lines[-len(rows) :] if rows else ():
                self._delivered.add(text.rstrip())
        return lines

    def _width(self) -> int:
        try:
            return int(self._variables.get("columns") or 0)
        except (TypeError, ValueError):
            return 0

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
        overflow = await _get_overflow(self.connection, self.session_id)
        start = max(self.next_line, overflow)
        rows: Sequence[api_pb2.LineContents] = []
        if start < top:
            rows = (await _get_rows(self.connection, self.session_id, start, top - start)).contents
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
            while first > top and rows[first - 1 - top].continuation == _SOFT_EOL:
                first -= 1
            last = number
            while last < end - 1 and rows[last - top].continuation == _SOFT_EOL:
                last += 1
            lines.append("".join(rows[n - top].text for n in range(first, last + 1)))
            for n in range(first, last + 1):
                seen[n] = rows[n - top].text
                recent.add(rows[n - top].text)
            done_to = last + 1


# ------------------------------------------------------------------------------ all sessions


class _Watcher:
    """Owns one reader task per session, keyed by session id, and the subscriptions feeding them."""

    def __init__(self, connection: iterm2.Connection, sink: LineSink) -> None:
        self.connection = connection
        self.sink = sink
        self.readers: dict[str, tuple[SessionReader, asyncio.Task[None]]] = {}
        # Session lifecycle events, handled one at a time in order: ("new" | "ended", id).
        self.events: asyncio.Queue[tuple[str, str]] = asyncio.Queue()
        self.stopped = False

    async def run(self) -> None:
        tokens: list[Any] = []
        try:
            # Subscribe before listing the sessions, so none is created unseen in between; one
            # seen both ways is started once (the readers dict dedupes).
            tokens.append(
                await notifications.async_subscribe_to_new_session_notification(self.connection, self._on_new)
            )
            tokens.append(
                await notifications.async_subscribe_to_terminate_session_notification(self.connection, self._on_ended)
            )
            tokens.append(
                await notifications.async_subscribe_to_screen_update_notification(
                    self.connection, self._on_screen_update, session=None
                )
            )
            for name in WATCHED_VARIABLES:
                tokens.append(
                    await notifications.async_subscribe_to_variable_change_notification(
                        self.connection, self._on_variable, _SESSION_SCOPE, name, "all"
                    )
                )
            app = await iterm2.async_get_app(self.connection)
            assert app is not None
            existing = [s for w in app.windows for t in w.tabs for s in t.all_sessions]
            existing += app.buried_sessions
            for session in existing:
                self._start(session.session_id, from_start=False)
            log.info("watching %d iTerm2 sessions", len(self.readers))
            while True:
                kind, session_id = await self.events.get()
                if kind == "new":
                    self._start(session_id, from_start=True)
                else:
                    await self._end(session_id)
        finally:
            self.stopped = True
            await self._shutdown(tokens)

    def _start(self, session_id: str, *, from_start: bool) -> None:
        if session_id in self.readers:
            return
        reader = SessionReader(self.connection, session_id, self.sink, from_start=from_start)
        task = asyncio.create_task(reader.run(), name=TASK_NAME_PREFIX + session_id)
        self.readers[session_id] = (reader, task)
        # A reader that finds its session gone ends it, in case the termination notice never comes.
        task.add_done_callback(lambda t: self._reader_done(session_id, t))

    def _reader_done(self, session_id: str, task: asyncio.Task[None]) -> None:
        if task.cancelled() or self.stopped:
            return
        if task.exception() is not None:
            log.error("session %s: reader failed", session_id, exc_info=task.exception())
        self.events.put_nowait(("ended", session_id))

    async def _end(self, session_id: str) -> None:
        entry = self.readers.pop(session_id, None)
        if entry is None:
            return
        _, task = entry
        task.cancel()
        await asyncio.wait({task}, timeout=1.0)
        try:
            self.sink.session_ended(session_id)
        except Exception:
            log.exception("session %s: the sink failed on session_ended", session_id)
        log.info("session %s ended; watching %d sessions", session_id, len(self.readers))

    async def _shutdown(self, tokens: list[Any]) -> None:
        tasks = [task for _, task in self.readers.values()]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=1.0)
        self.readers.clear()
        websocket = self.connection.websocket
        if websocket is None or websocket.closed:
            return  # nobody to unsubscribe from; requests would never be answered
        for token in tokens:
            try:
                await asyncio.wait_for(notifications.async_unsubscribe(self.connection, token), 1.0)
            except (asyncio.TimeoutError, notifications.SubscriptionException, rpc.RPCException):
                pass

    # Notification callbacks run in the library's dispatch tasks: they only record and wake.

    async def _on_new(self, _connection: iterm2.Connection, note: api_pb2.NewSessionNotification) -> None:
        self.events.put_nowait(("new", note.session_id))

    async def _on_ended(self, _connection: iterm2.Connection, note: api_pb2.TerminateSessionNotification) -> None:
        self.events.put_nowait(("ended", note.session_id))

    async def _on_screen_update(self, _connection: iterm2.Connection, note: api_pb2.ScreenUpdateNotification) -> None:
        entry = self.readers.get(note.session)
        if entry is not None:
            entry[0].wake.set()

    async def _on_variable(self, _connection: iterm2.Connection, note: api_pb2.VariableChangedNotification) -> None:
        entry = self.readers.get(note.identifier)
        if entry is not None:
            entry[0].variable_changed(note.name, note.json_new_value)


async def watch_sessions(connection: iterm2.Connection, sink: LineSink) -> None:
    """Hand every session's new logical lines to ``sink`` until cancelled."""
    await _Watcher(connection, sink).run()


# ------------------------------------------------------------------------------ process


def run(start: Callable[[iterm2.Connection], Awaitable[Service]]) -> int:
    """Connect to iTerm2, start the service, watch all sessions, and return when iTerm2 goes away.

    Returns 0 when the connection closed (iTerm2 quit or restarted: it launches a fresh copy of
    its AutoLaunch scripts), 1 when connecting or starting failed or the watcher crashed.
    """
    watchdog: list[threading.Timer] = []

    async def main(connection: iterm2.Connection) -> int:
        return await _run_connected(connection, start, watchdog)

    try:
        # retry=False: the retry loop re-requests a cookie through AppleScript (osascript), which
        # does not exist off macOS; the library also drops ITERM2_COOKIE after the first attempt.
        return iterm2.Connection().run_until_complete(main, retry=False)
    except ConnectionRefusedError:
        log.error("cannot connect to iTerm2: is it running, with the Python API enabled?")
        return 1
    except FileNotFoundError:
        log.error("no ITERM2_COOKIE and no osascript to ask iTerm2 for one: start this from iTerm2")
        return 1
    except Exception as exc:  # the library raises websockets' and its own errors here
        log.error("cannot connect to iTerm2: %s", exc)
        return 1
    finally:
        for timer in watchdog:
            timer.cancel()


async def _run_connected(
    connection: iterm2.Connection,
    start: Callable[[iterm2.Connection], Awaitable[Service]],
    watchdog: list[threading.Timer],
) -> int:
    """Run the watcher until it fails or the websocket closes.

    ``iterm2.run_forever`` hangs when the connection drops while ``main`` is still awaiting
    (ITERM2_API.md §4), so ``main`` here waits for the websocket itself and returns.
    """
    websocket = connection.websocket
    assert websocket is not None
    try:
        service = await start(connection)
    except AutolaunchError as error:
        log.error("%s", error)
        return 1
    watcher = asyncio.create_task(watch_sessions(connection, service.sink), name="iterm2-autolaunch watcher")
    closed = asyncio.create_task(websocket.wait_closed(), name="iterm2-autolaunch connection")
    await asyncio.wait({watcher, closed}, return_when=asyncio.FIRST_COMPLETED)
    if closed.done():
        log.info("the connection to iTerm2 closed; stopping")
        # Nothing below should block, but if something does the process must still go.
        timer = threading.Timer(EXIT_DEADLINE, _exit_now)
        timer.daemon = True
        timer.start()
        watchdog.append(timer)
    watcher.cancel()
    closed.cancel()
    await asyncio.wait({watcher, closed}, timeout=1.0)
    try:  # forwards, control socket, UI: each bounded; the watchdog above backs this up
        await asyncio.wait_for(service.aclose(), EXIT_DEADLINE / 2)
    except asyncio.TimeoutError:
        log.warning("stopping took longer than %.1f s; leaving the rest to the process exit", EXIT_DEADLINE / 2)
    if watcher.done() and not watcher.cancelled() and watcher.exception() is not None:
        log.error("watching iTerm2 sessions failed", exc_info=watcher.exception())
        return 1
    return 0


def _exit_now() -> None:
    log.error("shutdown took longer than %.1f s after iTerm2 went away; exiting", EXIT_DEADLINE)
    os._exit(1)
