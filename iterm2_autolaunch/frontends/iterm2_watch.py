"""All sessions: one reader task per session, and the subscriptions that feed them."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import iterm2
from iterm2 import api_pb2, notifications, rpc

from iterm2_autolaunch.frontends.iterm2_requests import SESSION_SCOPE
from iterm2_autolaunch.frontends.iterm2_session import WATCHED_VARIABLES, SessionReader
from iterm2_autolaunch.session import LineSink

log = logging.getLogger(__name__)

# Per-session reader tasks are named with this prefix (observable in tests and debuggers).
TASK_NAME_PREFIX = "iterm2-autolaunch session "


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
                        self.connection, self._on_variable, SESSION_SCOPE, name, "all"
                    )
                )
            app = await iterm2.async_get_app(self.connection)
            assert app is not None
            existing = [s for w in app.windows for t in w.tabs for s in t.all_sessions]
            for session in existing:
                self._start(session.session_id, from_start=False)
            # An "all" subscription reaches the windows' sessions and those created later, not the
            # sessions buried before it (iTermAPIHelper.m handleSubscriptionRequestForAllObjects:
            # walks allSessions; sessionCreated: adds new ones): those get their own subscriptions.
            for session in app.buried_sessions:
                tokens.extend(await self._subscribe_one(session.session_id))
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

    async def _subscribe_one(self, session_id: str) -> list[Any]:
        tokens = [
            await notifications.async_subscribe_to_screen_update_notification(
                self.connection, self._on_screen_update, session=session_id
            )
        ]
        for name in WATCHED_VARIABLES:
            tokens.append(
                await notifications.async_subscribe_to_variable_change_notification(
                    self.connection, self._on_variable, SESSION_SCOPE, name, session_id
                )
            )
        return tokens

    def _start(self, session_id: str, *, from_start: bool) -> None:
        entry = self.readers.get(session_id)
        if entry is not None:
            # NEW_SESSION for a session we know: Undo Close revived it (PTYSession.m revive posts
            # PTYSessionRevivedNotification, which iTermAPIHelper announces as a new session).
            if entry[0].gone:
                entry[0].revive()
            return
        reader = SessionReader(self.connection, session_id, self.sink, from_start=from_start)
        task = asyncio.create_task(reader.run(), name=TASK_NAME_PREFIX + session_id)
        self.readers[session_id] = (reader, task)
        # A reader whose session stays gone ends it, in case the termination notice never comes.
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
