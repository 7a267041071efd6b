"""How the fake iTerm2 posts notifications: screen refreshes, app events, variables."""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Any

from iterm2 import api_pb2 as pb

from .layout import Layout

if TYPE_CHECKING:
    from .connection import _Connection
    from .model import FakeSession


class Notifier(Layout):
    """Screen refreshes, app events and variable changes, to the connections that subscribed."""

    def _mark_dirty(self, session: FakeSession) -> None:
        self._dirty.add(session)
        if not self._updates_held and self._dirty_event is not None:
            self._dirty_event.set()

    def _visible(self, session: FakeSession) -> bool:
        """In the selected tab of its window (iTermUpdateCadenceController's ``state.visible``)."""
        tab = session.tab
        return tab is not None and not session.buried and tab.window.selected_tab is tab

    async def _refresh_screens(self) -> None:
        """Post screen updates the way iTerm2's display refresh does: coalesced per session, at
        ``refresh_interval`` (60 Hz, ``activeUpdateCadence``) for a session in its window's
        selected tab and every ``background_interval`` (1 s, ``kBackgroundUpdateCadence``) for
        the others, buried ones included (``iTermUpdateCadenceController.m``
        ``updateCadence``). The legacy fake refreshes every session at 60 Hz."""
        assert self._dirty_event is not None
        loop = asyncio.get_running_loop()
        while True:
            await self._dirty_event.wait()
            await asyncio.sleep(self.refresh_interval)
            self._dirty_event.clear()
            if self._updates_held:
                continue
            now = loop.time()
            due = set()
            for session in self._dirty:
                fast = self.legacy or self._visible(session)
                interval = self.refresh_interval if fast else self.background_interval
                if now - session.last_refresh >= interval * 0.99:
                    due.add(session)
            self._dirty -= due
            if self._dirty:
                self._dirty_event.set()  # keep ticking until the slow ones are due
            for session in due:
                session.last_refresh = now
                note = pb.Notification()
                note.screen_update_notification.session = session.session_id
                for conn in self._connections:
                    if conn.wants(pb.NOTIFY_ON_SCREEN_UPDATE, session):
                        conn.post(note)
                        session.updates_posted += 1

    def _post_app(self, notification_type: int, note: pb.Notification) -> None:
        for conn in self._connections:
            if notification_type in conn.app_subs:
                conn.post(note)

    def _post_layout_change(self) -> None:
        if not any(pb.NOTIFY_ON_LAYOUT_CHANGE in conn.app_subs for conn in self._connections):
            return
        note = pb.Notification()
        self._fill_list_sessions(note.layout_changed_notification.list_sessions_response)
        self._post_app(pb.NOTIFY_ON_LAYOUT_CHANGE, note)

    def _post_custom_escape(self, session: FakeSession, identity: str, payload: str) -> None:
        note = pb.Notification()
        custom = note.custom_escape_sequence_notification
        custom.session = session.session_id
        custom.sender_identity = identity
        custom.payload = payload
        for conn in self._connections:
            if conn.wants(pb.NOTIFY_ON_CUSTOM_ESCAPE_SEQUENCE, session):
                conn.post(note)

    def _post_variable_change(self, scope: int, identifier: str, name: str, value: Any) -> None:
        note = pb.Notification()
        change = note.variable_changed_notification
        change.scope = scope  # type: ignore[assignment]
        change.identifier = identifier
        change.name = name
        change.json_new_value = json.dumps(value)
        for conn in self._connections:
            # One notification per connection even when several of its monitors match.
            if any(
                s == scope
                and n == name
                and (ident == identifier or (ident == "all" and self._reaches(conn, s, n, identifier)))
                for (s, ident, n) in conn.variable_subs
            ):
                conn.post(note)

    def _reaches(self, conn: _Connection, scope: int, name: str, identifier: str) -> bool:
        """Whether an "all" variable monitor reaches this session (buried ones it may not)."""
        return scope != pb.VariableScope.Value("SESSION") or conn.covers((scope, name), identifier)

    def _subscribe_all(self, session: FakeSession) -> None:
        """sessionCreated: (a new or revived session): "all" subscriptions reach it from now on."""
        for conn in self._connections:
            conn.session_created(session.session_id)
