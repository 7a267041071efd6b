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

What iTerm2 does by default, and how the reader copes (iTerm2 v3.6.11 sources):

- Rows scrolled off the alternate screen or off a scroll region at the top row enter the history,
  and ED 2 (or ED 0 from home on the alternate screen) pushes the screen into it first
  (VT100ScreenMutableState.m). Rows a multiplexer's screen pushes there are rows of its panes side
  by side, already read by the screen scan: they move the reader's place and are not handed over.
- Empty cells come as U+0000, tabs as one ``\t`` after cells without code points, the right half
  of a wide character as a cell without code points: the reader turns each row back into one
  character per cell, empty ones as spaces (iterm2_requests.cell_text).
- A resize rewraps the history and renumbers rows; the ``columns``/``rows`` change makes the
  reader take the screen as read where it stands, so nothing is handed over twice.
- A closed session vanishes at once but TERMINATE_SESSION comes after the undo timeout; Undo
  brings it back under the same id with NEW_SESSION. Only the termination ends a session.
- Sessions buried before we subscribed get their own subscriptions; sessions in background tabs
  refresh once a second, and the reader reads whatever scrolled by in between from the history.

Modules: iterm2_requests (the API calls), iterm2_lines (reading by line number), iterm2_session
(one reader task), iterm2_watch (all sessions), this one (connecting and the process).

One screen-update subscription covers all sessions (a per-session ScreenStreamer would shadow it
and drops updates while busy); an update only wakes the session's reader, which then reads
everything new, so bursts of updates coalesce into one read. While output scrolls by faster than
that, the reader also reads again on its own every 10 ms: iTerm2 notifies less often under heavy
output, and the scrollback may not hold what arrives in between.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from collections.abc import Awaitable, Callable

import iterm2

from iterm2_autolaunch.errors import AutolaunchError
from iterm2_autolaunch.frontends.iterm2_requests import get_all_variables, session_context
from iterm2_autolaunch.frontends.iterm2_watch import TASK_NAME_PREFIX, watch_sessions
from iterm2_autolaunch.session import Service

log = logging.getLogger(__name__)

__all__ = ["TASK_NAME_PREFIX", "Service", "run", "watch_sessions"]

# After iTerm2 goes away, how long shutdown may take before the process exits hard.
EXIT_DEADLINE = 2.0
# Older names, used by the marker frontend.
_context = session_context
_get_all_variables = get_all_variables


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
