"""The invisible marker in iTerm2: custom control sequences of every session, to ``(session id, Event)``.

iTerm2 shows nothing for ``OSC 1337 ; Custom=id=<identity>:<payload> ST`` and posts a
``CustomEscapeSequenceNotification`` (session, sender identity, payload) to subscribers (ITERM2_API.md §6).
This is what ``iterm2.CustomControlSequenceMonitor`` subscribes to; we subscribe the same way, for all
sessions (including later ones), because the monitor hands out only the payload's match and we need the
session the marker came from. The identity check and the URL rules are those of the pty wrapper
(``marker.check_marker``): a wrong identity or a payload that is not a local server URL is ignored.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

import iterm2
from iterm2 import api_pb2, notifications

from iterm2_autolaunch.detect import Event
from iterm2_autolaunch.frontends.iterm2_frontend import _context, _get_all_variables
from iterm2_autolaunch.marker import check_marker
from iterm2_autolaunch.redact import redact
from iterm2_autolaunch.session import SessionContext

log = logging.getLogger(__name__)

UNSUBSCRIBE_TIMEOUT = 1.0


async def watch_markers(
    connection: iterm2.Connection,
    identity: str,
    on_marker: Callable[[str, Event], None],
    *,
    on_subscribed: Callable[[], None] | None = None,
) -> None:
    """Call ``on_marker(session_id, event)`` for every genuine marker in any session, until cancelled.

    Run it as a task and cancel it to stop; it unsubscribes on the way out (bounded). ``on_subscribed``
    is called once iTerm2 has confirmed the subscription.
    """
    if not identity:
        raise ValueError("watch_markers needs the marker identity from the config")

    async def received(_connection: iterm2.Connection, note: api_pb2.CustomEscapeSequenceNotification) -> None:
        marker = check_marker(identity, note.sender_identity, note.payload)
        if marker.event is None:
            log.warning("[%s] %s", note.session[:8], marker.problem)
            return
        log.info("[%s] marker: %s announced at %s", note.session[:8], marker.event.kind, redact(marker.event.url))
        try:
            on_marker(note.session, marker.event)
        except Exception:  # a failing consumer must not end the subscription
            log.exception("[%s] handling a marker failed", note.session[:8])

    token = await notifications.async_subscribe_to_custom_escape_sequence_notification(connection, received, None)
    try:
        if on_subscribed is not None:
            on_subscribed()
        await asyncio.Event().wait()  # until cancelled
    finally:
        with contextlib.suppress(Exception, asyncio.TimeoutError):
            await asyncio.wait_for(notifications.async_unsubscribe(connection, token), UNSUBSCRIBE_TIMEOUT)


async def session_context(connection: iterm2.Connection, session_id: str) -> SessionContext:
    """The session's context, read as the frontend reads it: a marker arrives outside the flow of lines,
    and the engine needs the session's ssh command line to know where to forward."""
    return _context(session_id, await _get_all_variables(connection, session_id))
