"""One connected script: its subscriptions, and the dispatch of its requests."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from iterm2 import api_pb2 as pb
from websockets.asyncio.server import ServerConnection
from websockets.exceptions import ConnectionClosed

from .browser import BrowserRequests
from .model import FakeRPCError, _Registration
from .requests import SessionRequests
from .ui_requests import UIRequests, _signature, _valid_registration

if TYPE_CHECKING:
    from .model import FakeSession
    from .server import FakeITerm2

log = logging.getLogger(__name__)

NT = pb.NotificationType
# Notifications about the app as a whole: one subscription per connection (iTermAPIHelper).
_APP_NOTIFICATIONS = {
    pb.NOTIFY_ON_NEW_SESSION,
    pb.NOTIFY_ON_TERMINATE_SESSION,
    pb.NOTIFY_ON_LAYOUT_CHANGE,
    pb.NOTIFY_ON_FOCUS_CHANGE,
    pb.NOTIFY_ON_BROADCAST_CHANGE,
}
# Notifications about one session (or "all", which includes sessions created later). The fake
# only ever posts these two; subscribing to keystrokes or prompts gets an error.
_SESSION_NOTIFICATIONS = {pb.NOTIFY_ON_SCREEN_UPDATE, pb.NOTIFY_ON_CUSTOM_ESCAPE_SEQUENCE}
_NOTIFY_STATUS = pb.NotificationResponse.Status


class _Connection(SessionRequests, UIRequests, BrowserRequests):
    """One connected script: its subscriptions, and the handlers for its requests."""

    def __init__(self, server: FakeITerm2, websocket: ServerConnection) -> None:
        self.server = server
        self.websocket = websocket
        self.app_subs: set[int] = set()
        self.all_sessions_subs: set[int] = set()
        self.session_subs: dict[int, set[str]] = {t: set() for t in _SESSION_NOTIFICATIONS}
        self.variable_subs: list[tuple[int, str, str]] = []
        # The sessions an "all" subscription reaches: iTermAPIHelper
        # handleSubscriptionRequestForAllObjects: subscribes each of ``allSessions`` (the windows'
        # sessions: not buried ones) and sessionCreated: adds sessions created or revived later.
        self.all_covered: dict[object, set[str]] = {}
        # Replies and notifications leave in the order they were made.
        self._outbox: asyncio.Queue[bytes] = asyncio.Queue()

    # -------------------------------------------------------------- sending

    def wants(self, notification_type: int, session: FakeSession) -> bool:
        if session.session_id in self.session_subs.get(notification_type, ()):
            return True
        return notification_type in self.all_sessions_subs and self.covers(notification_type, session.session_id)

    def covers(self, key: object, session_id: str) -> bool:
        return self.server.legacy or session_id in self.all_covered.get(key, ())

    def session_created(self, session_id: str) -> None:
        for covered in self.all_covered.values():
            covered.add(session_id)

    def forget_session(self, session_id: str) -> None:
        for subscribers in self.session_subs.values():
            subscribers.discard(session_id)
        for covered in self.all_covered.values():
            covered.discard(session_id)

    def post(self, note: pb.Notification) -> None:
        message = pb.ServerOriginatedMessage()
        message.notification.CopyFrom(note)
        self._outbox.put_nowait(message.SerializeToString())

    def send(self, message: pb.ServerOriginatedMessage) -> None:
        self._outbox.put_nowait(message.SerializeToString())

    def reply_error(self, request_id: int, text: str) -> None:
        message = pb.ServerOriginatedMessage()
        message.id = request_id
        message.error = text
        self.send(message)

    async def write_forever(self) -> None:
        with contextlib.suppress(ConnectionClosed):
            while True:
                await self.websocket.send(await self._outbox.get())

    def abort(self) -> None:
        """Drop the connection without a closing handshake, like a process that went away."""
        transport = self.websocket.transport
        if transport is not None:
            transport.abort()

    # -------------------------------------------------------------- dispatch

    async def handle(self, request: pb.ClientOriginatedMessage) -> None:
        kind = request.WhichOneof("submessage")
        server = self.server
        server.request_counts[kind or "none"] = server.request_counts.get(kind or "none", 0) + 1
        handler: Callable[[pb.ClientOriginatedMessage, pb.ServerOriginatedMessage], Awaitable[None] | None]
        handler = getattr(self, f"_{kind}", None) if kind else None  # type: ignore[assignment]
        if handler is None:
            self.reply_error(request.id, f"fake iTerm2 does not implement {kind or 'an empty request'}")
            return
        response = pb.ServerOriginatedMessage()
        response.id = request.id
        try:
            result = handler(request, response)
            if result is not None:
                await result
        except Exception as exc:  # a bug in the fake: answer it rather than hang the client
            log.exception("fake iTerm2 failed on %s", kind)
            self.reply_error(request.id, f"fake iTerm2 failed on {kind}: {exc!r}")
            return
        self.send(response)

    # -------------------------------------------------------------- app and layout

    def _list_sessions_request(self, request: pb.ClientOriginatedMessage, response: pb.ServerOriginatedMessage) -> None:
        self.server._fill_list_sessions(response.list_sessions_response)

    def _focus_request(self, request: pb.ClientOriginatedMessage, response: pb.ServerOriginatedMessage) -> None:
        server = self.server
        notes = response.focus_response.notifications
        notes.add().application_active = server.app_active
        window_note = notes.add()
        if server.windows:
            window_note.window.window_id = server.windows[0].window_id
            window_note.window.window_status = pb.FocusChangedNotification.Window.WindowStatus.Value(
                "TERMINAL_WINDOW_BECAME_KEY"
            )
        else:
            window_note.window.window_status = pb.FocusChangedNotification.Window.WindowStatus.Value(
                "TERMINAL_WINDOW_RESIGNED_KEY"
            )
        for window in server.windows:
            if window.selected_tab is not None:
                notes.add().selected_tab = window.selected_tab.tab_id
            for tab in window.tabs:
                if tab.active_session is not None:
                    notes.add().session = tab.active_session.session_id

    def _get_broadcast_domains_request(
        self, request: pb.ClientOriginatedMessage, response: pb.ServerOriginatedMessage
    ) -> None:
        self.server._fill_broadcast_domains(response.get_broadcast_domains_response.broadcast_domains)

    # -------------------------------------------------------------- notifications

    def _notification_request(self, request: pb.ClientOriginatedMessage, response: pb.ServerOriginatedMessage) -> None:
        req = request.notification_request
        result = response.notification_response
        if not req.HasField("subscribe"):
            result.status = _NOTIFY_STATUS.Value("REQUEST_MALFORMED")
            return
        kind = req.notification_type
        if kind == pb.NOTIFY_ON_VARIABLE_CHANGE:
            result.status = self._subscribe_variable(req)  # type: ignore[assignment]
        elif kind in _APP_NOTIFICATIONS:
            result.status = self._toggle(self.app_subs, kind, req.subscribe)  # type: ignore[assignment]
        elif kind == pb.NOTIFY_ON_SERVER_ORIGINATED_RPC:
            result.status = self._register_rpc(req)  # type: ignore[assignment]
        elif kind in _SESSION_NOTIFICATIONS:
            result.status = self._subscribe_session(req)  # type: ignore[assignment]
        else:
            response.ClearField("notification_response")
            response.error = f"fake iTerm2 does not post {NT.Name(kind)} notifications"

    @staticmethod
    def _toggle(subs: set[Any], key: Any, subscribe: bool) -> int:
        if subscribe:
            if key in subs:
                return _NOTIFY_STATUS.Value("ALREADY_SUBSCRIBED")
            subs.add(key)
        else:
            if key not in subs:
                return _NOTIFY_STATUS.Value("NOT_SUBSCRIBED")
            subs.discard(key)
        return _NOTIFY_STATUS.Value("OK")

    def _subscribe_session(self, req: pb.NotificationRequest) -> int:
        kind = req.notification_type
        if req.session == "all":
            # Covers every session, including ones created later (iTermAllSessionsSubscription).
            if req.subscribe:
                self.all_sessions_subs.add(kind)
                self.all_covered[kind] = {s.session_id for s in self.server._all_sessions()}
            else:
                self.all_sessions_subs.discard(kind)
                self.session_subs[kind].clear()
            return _NOTIFY_STATUS.Value("OK")
        session = self.server._find_session(req.session)
        if session is None:
            return _NOTIFY_STATUS.Value("SESSION_NOT_FOUND")
        return self._toggle(self.session_subs[kind], session.session_id, req.subscribe)

    def _subscribe_variable(self, req: pb.NotificationRequest) -> int:
        monitor = req.variable_monitor_request
        key = (int(monitor.scope), monitor.identifier, monitor.name)
        if req.subscribe:
            if key in self.variable_subs:
                return _NOTIFY_STATUS.Value("ALREADY_SUBSCRIBED")
            self.variable_subs.append(key)
            if monitor.identifier == "all":
                self.all_covered[key[0], key[2]] = {s.session_id for s in self.server._all_sessions()}
        else:
            if key not in self.variable_subs:
                return _NOTIFY_STATUS.Value("NOT_SUBSCRIBED")
            self.variable_subs.remove(key)
        return _NOTIFY_STATUS.Value("OK")

    def _register_rpc(self, req: pb.NotificationRequest) -> int:
        registration = req.rpc_registration_request
        if not req.HasField("rpc_registration_request") or not _valid_registration(registration):
            return _NOTIFY_STATUS.Value("REQUEST_MALFORMED")
        signature = _signature(registration.name, (a.name for a in registration.arguments))
        rpcs = self.server._rpcs
        if req.subscribe:
            if signature in rpcs:
                return _NOTIFY_STATUS.Value("DUPLICATE_SERVER_ORIGINATED_RPC")
            rpcs[signature] = _Registration(self, registration)
            if registration.HasField("status_bar_component_attributes"):
                identifier = registration.status_bar_component_attributes.unique_identifier
                self.server.status_bar_components[identifier] = registration
        else:
            if signature not in rpcs or rpcs[signature].connection is not self:
                return _NOTIFY_STATUS.Value("NOT_SUBSCRIBED")
            del rpcs[signature]
        return _NOTIFY_STATUS.Value("OK")

    def _server_originated_rpc_result_request(
        self, request: pb.ClientOriginatedMessage, response: pb.ServerOriginatedMessage
    ) -> None:
        result = request.server_originated_rpc_result_request
        response.server_originated_rpc_result_response.SetInParent()
        waiter = self.server._rpc_waiters.pop(result.request_id, None)
        if waiter is None or waiter[1].done():
            return  # already timed out, as in iTerm2
        future = waiter[1]
        which = result.WhichOneof("result")
        try:
            if which == "json_value":
                future.set_result(json.loads(result.json_value))
            elif which == "json_exception":
                exception = json.loads(result.json_exception)
                reason = exception.get("reason", "Malformed exception") if isinstance(exception, dict) else exception
                future.set_exception(FakeRPCError(reason))
            else:
                future.set_exception(FakeRPCError("Malformed result."))
        except json.JSONDecodeError as exc:
            future.set_exception(FakeRPCError(f"Undecodable value: {exc}"))
