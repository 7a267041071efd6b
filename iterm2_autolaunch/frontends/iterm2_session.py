"""One session's reader task: when to read, its variables and context, and handing lines over."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Sequence
from typing import Any

import iterm2
from iterm2 import rpc

from iterm2_autolaunch.errors import SessionGone
from iterm2_autolaunch.frontends.iterm2_lines import LineReader
from iterm2_autolaunch.frontends.iterm2_requests import get_all_variables, session_context, tmux_gateway
from iterm2_autolaunch.session import LineSink, SessionContext

log = logging.getLogger(__name__)

# ``columns`` gives the width of the screen (where a pane's last column is).
WATCHED_VARIABLES = ("jobName", "commandLine", "jobPid", "hostname", "username", "columns")
# How stale user.* variables may be when lines are handed over, in seconds.
USER_VARIABLES_MAX_AGE = 0.5
# While output scrolls off the screen faster than we read, read again every FOLLOW_UP_READ_DELAY
# seconds instead of waiting for the next screen update, until FOLLOW_UP_LINGER seconds after the
# last read that saw rows scroll by. Under heavy output iTerm2 redraws (and notifies) less often,
# down to 15 Hz; at 20,000 lines/s that is more lines per update than the default 1,000-line
# scrollback holds. Output slower than a screenful per read never triggers this.
FOLLOW_UP_READ_DELAY = 0.01
FOLLOW_UP_LINGER = 0.25
# What a tmux integration pane takes from its gateway session: where its output really comes from.
GATEWAY_VARIABLES = ("jobName", "commandLine", "jobPid", "hostname", "username")
# A session that vanished from iTerm2 may be an undoable close: iTerm2 keeps it for the profile's
# undo timeout (KEY_UNDO_TIMEOUT, 5 s by default) and posts TERMINATE_SESSION only after it
# (PTYSession.m makeTerminationUndoable / hardStop); Undo revives it with the same id. The reader
# waits this long for either before it gives the session up by itself.
GONE_GRACE = 60.0
# iTerm2 polls the foreground job every 0.7 s (PTYSession.m shouldUpdateTitles:), so jobName and
# commandLine may change that long after the process started: `ssh host` printing a URL at once
# still shows the shell. When a line with a URL arrives while the job is a shell, the reader waits
# this long for the job to change before handing it over; once per job and burst of output, so a
# shell printing many URLs is not slowed down.
JOB_POLL_WAIT = 0.8
SHELLS = frozenset({"zsh", "bash", "fish", "sh", "dash", "ksh", "tcsh", "csh", "login", "nu", "xonsh", "pwsh"})


class SessionReader:
    """Reads one session's new logical lines by absolute line number and hands them to the sink."""

    def __init__(self, connection: iterm2.Connection, session_id: str, sink: LineSink, *, from_start: bool) -> None:
        self.connection = connection
        self.session_id = session_id
        self.sink = sink
        self.lines = LineReader(connection, session_id, from_start=from_start)
        self.wake = asyncio.Event()
        self.wake.set()  # the first read happens at once, not at the next screen update
        # Set while iTerm2 does not know the session (closed, maybe undone later).
        self.gone = False
        self._variables: dict[str, Any] = {}
        self._variables_read_at = -float("inf")
        # A tmux integration pane (tmux -CC): its gateway session and that session's variables.
        self._gateway: str | None = None
        self._gateway_variables: dict[str, Any] = {}
        self.context = SessionContext(session_id)
        self._job_changed = asyncio.Event()
        self._last_output = -float("inf")
        self._may_wait_for_job = True
        self._held: list[str] = []
        self._hold_until: float | None = None

    @property
    def lines_lost(self) -> int:
        return self.lines.lines_lost

    async def run(self) -> None:
        """Read until cancelled; return when the session stayed gone for GONE_GRACE seconds."""
        while True:
            try:
                await self._read_until_gone()
            except SessionGone:
                pass
            self.gone = True
            log.info("session %s: gone from iTerm2; waiting for its termination or undo", self.session_id)
            self.wake.clear()
            try:
                await asyncio.wait_for(self.wake.wait(), GONE_GRACE)
            except asyncio.TimeoutError:
                log.info("session %s: gone for %.0f s without a termination notice", self.session_id, GONE_GRACE)
                return
            self.gone = False

    def revive(self) -> None:
        """iTerm2 announced the session again (Undo Close): read on from where we were."""
        log.info("session %s: revived", self.session_id)
        self.wake.set()

    async def _read_until_gone(self) -> None:
        try:
            await self._read_variables()
            if self._variables.get("tmuxRole") == "client" and self.lines.next_line == 0:
                # A tmux -CC pane opens with its history replayed from tmux (TmuxWindowOpener.m,
                # PTYSession.m setHistory:): old output, handed over when it was new.
                self.lines.skip_present()
        except rpc.RPCException:
            log.exception("session %s: reading its variables failed", self.session_id)
        follow_until = 0.0
        while True:
            now = time.monotonic()
            if now < follow_until:
                await asyncio.sleep(FOLLOW_UP_READ_DELAY)
            elif self._hold_until is not None:
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self.wake.wait(), max(0.0, self._hold_until - now))
            else:
                await self.wake.wait()
            self.wake.clear()
            try:
                lines = await self.lines.read_new_lines()
                if self.lines.scrolling:
                    follow_until = time.monotonic() + FOLLOW_UP_LINGER
                lines = self._hold_for_job(lines)
                if lines:
                    self._last_output = time.monotonic()
                    if time.monotonic() - self._variables_read_at > USER_VARIABLES_MAX_AGE:
                        await self._read_variables()
                    self._deliver(lines)
            except SessionGone:
                raise
            except Exception:
                # A reply we did not expect, or our bug: keep the position, try again next time.
                log.exception("session %s: reading the screen failed", self.session_id)

    def _hold_for_job(self, lines: list[str]) -> list[str]:
        """Lines to hand over now. A URL while iTerm2 still shows the shell as the job may come
        from a job it has not polled yet: hold the lines (reading goes on) until the job changes
        or JOB_POLL_WAIT has passed, once per job and burst of output."""
        now = time.monotonic()
        if self._hold_until is None:
            if not lines or not self._job_may_lag(lines):
                return lines
            self._hold_until = now + JOB_POLL_WAIT
            self._job_changed.clear()
        self._held.extend(lines)
        if self._job_changed.is_set():
            self._variables_read_at = -float("inf")  # read the rest of the variables afresh
        elif now < self._hold_until:
            return []
        else:
            self._may_wait_for_job = False  # the shell printed it, or a program as fleeting as the poll
        held, self._held, self._hold_until = self._held, [], None
        return held

    def _job_may_lag(self, lines: Sequence[str]) -> bool:
        job = str(self._variables.get("jobName") or "").lstrip("-")
        if time.monotonic() - self._last_output > JOB_POLL_WAIT:
            self._may_wait_for_job = True  # a new burst of output
        return self._may_wait_for_job and (not job or job in SHELLS) and any("://" in line for line in lines)

    def variable_changed(self, name: str, json_value: str) -> None:
        try:
            value = json.loads(json_value) if json_value else None
        except json.JSONDecodeError:
            value = json_value
        if value is None:
            self._variables.pop(name, None)
        else:
            self._variables[name] = value
        if name in ("jobName", "commandLine"):
            self._job_changed.set()
            self._may_wait_for_job = True
            self.wake.set()  # held lines may go now
        if name in ("columns", "rows"):
            # A resize reflows the history and renumbers rows (VT100ScreenMutableState+Resizing.m).
            self.lines.resized()
            self.wake.set()
        self._apply_variables()

    def _apply_variables(self) -> None:
        self.lines.width = _int(self._variables.get("columns"))
        self.context = self._make_context()

    async def _read_variables(self) -> None:
        self._variables = await get_all_variables(self.connection, self.session_id)
        self._variables_read_at = time.monotonic()
        if self._variables.get("tmuxRole") == "client":
            await self._read_gateway()
        self._apply_variables()

    async def _read_gateway(self) -> None:
        """A tmux -CC pane has no process of its own in iTerm2: the ssh command (the host its
        output comes from) is the gateway session's, where ``tmux -CC`` runs."""
        try:
            if self._gateway is None:
                self._gateway = await tmux_gateway(self.connection, self.session_id)
                if self._gateway is not None:
                    log.info("session %s: a tmux -CC pane of session %s", self.session_id, self._gateway)
            if self._gateway is not None:
                self._gateway_variables = await get_all_variables(self.connection, self._gateway)
        except SessionGone:  # the gateway closed; the pane goes with it
            self._gateway, self._gateway_variables = None, {}
        except rpc.RPCException:
            log.debug("session %s: no tmux connection information", self.session_id, exc_info=True)

    def _make_context(self) -> SessionContext:
        variables = self._variables
        if self._gateway_variables:
            gateway = {k: v for k, v in self._gateway_variables.items() if k in GATEWAY_VARIABLES}
            variables = {**variables, **gateway}
        return session_context(self.session_id, variables)

    def _deliver(self, lines: Sequence[str]) -> None:
        try:
            self.sink.session_lines(self.context, lines)
        except Exception:
            # The engine's bug must not stop this session from being watched.
            log.exception("session %s: the sink failed on %d lines", self.session_id, len(lines))


def _int(value: Any) -> int:
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0
