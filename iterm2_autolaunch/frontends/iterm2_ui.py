"""What the user sees of the engine inside iTerm2: a status bar component, a badge variable, functions
for key bindings, and notifications.

- Status bar component ``com.iterm2-autolaunch.forwards`` ("Jupyter forwards"): the live forwards as
  "1 Jupyter, 1 TensorBoard" or "no forwards". iTerm2 re-renders a component only when a variable it
  references changes (ITERM2_API.md §5), so every engine change is mirrored into the app variable
  ``user.jupyterTunnel``, which the component references as ``iterm2.user.jupyterTunnel``.
- Clicking it opens a popover listing each forward, with Open and Close buttons. The buttons call
  this script's registered functions through ``iterm2Invoke``, the bridge iTerm2 installs in every
  status bar popover's web view (iTermWebViewFactory, with the component's session scope). So no
  local HTTP server, no secret, and the token never enters the page: Open asks the engine to open
  its own URL.
- ``user.jupyterURL`` on the session that owns a forward: its local URL without the query (so
  without the token), e.g. ``http://localhost:49211/lab``, for a badge ``\\(user.jupyterURL)``.
  Unset when the forward goes.
- ``autolaunch_reopen_last()`` and ``autolaunch_close_all()`` for key bindings (Invoke Script Function).
- ``Ui.notify``: an OSC 9 injected into the session a message is about (else the focused one), which
  makes iTerm2 post a desktop notification. Non-modal, unlike ``iterm2.Alert``.

Everything from the screen (hosts, paths) and from session titles is HTML-escaped in the popover.
A registration that fails is logged and the rest goes on: the forwards matter more than their display.
"""

from __future__ import annotations

import asyncio
import html
import json
import logging
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import iterm2
from iterm2 import api_pb2, rpc
from iterm2.util import invocation_string

from iterm2_autolaunch.detect import redact
from iterm2_autolaunch.engine import Engine, Server
from iterm2_autolaunch.kinds import KINDS

log = logging.getLogger(__name__)

COMPONENT_ID = "com.iterm2-autolaunch.forwards"
APP_VARIABLE = "user.jupyterTunnel"  # app scope: the status bar text; referenced so iTerm2 re-renders
SESSION_VARIABLE = "user.jupyterURL"  # session scope: the owning session's token-free URL
NO_FORWARDS = "no forwards"
# Every request to iTerm2 gets this long: the library's own calls wait forever.
REQUEST_TIMEOUT = 5.0
# After a failed variable update, try again this much later.
RETRY_DELAY = 1.0
# How long close() may take, in all.
CLOSE_TIMEOUT = 2.0
# iTerm2 waits this long for a function (closing a forward tears down an ssh channel).
FUNCTION_TIMEOUT = 30.0
MAX_NOTIFICATION = 240  # characters; Notification Center truncates long bodies anyway
MAX_PENDING_NOTIFICATIONS = 20

DISPLAY_NAMES = {kind.name: kind.label for kind in KINDS}  # one place for a kind: kinds.py

# The app variable as seen from a session's status bar ("iterm2." reaches the app's scope; "?": may be unset).
_FORWARDS_REFERENCE = iterm2.Reference(f"iterm2.{APP_VARIABLE}?")
_VARIABLE_OK = api_pb2.VariableResponse.Status.Value("OK")
_VARIABLE_NO_SESSION = api_pb2.VariableResponse.Status.Value("SESSION_NOT_FOUND")
_INJECT_OK = api_pb2.InjectResponse.Status.Value("OK")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]+")
_SESSION_PREFIX = re.compile(r"\[([0-9A-Fa-f-]{4,36})\]")  # the engine's "[3F2504E0] ..." titles


# ------------------------------------------------------------------------------ pure parts


def summary(servers: Iterable[Server]) -> str:
    """ "2 Jupyter", "1 Jupyter, 1 TensorBoard" (in order of first appearance), or "no forwards"."""
    counts: dict[str, int] = {}
    for server in servers:
        counts[server.event.kind] = counts.get(server.event.kind, 0) + 1
    if not counts:
        return NO_FORWARDS
    return ", ".join(f"{n} {DISPLAY_NAMES.get(kind, kind)}" for kind, n in counts.items())


def badge_url(server: Server) -> str:
    """The local URL without query or fragment: where the token lives, so never shown."""
    parts = urlsplit(server.url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def session_urls(servers: Iterable[Server]) -> dict[str, str]:
    """Per session, the URL of its newest forward, a Jupyter one when it has one."""
    urls: dict[str, tuple[bool, str]] = {}
    for server in servers:  # oldest first: later ones win, unless they would displace a Jupyter
        is_jupyter = server.event.kind == "jupyter"
        if server.session_id not in urls or is_jupyter or not urls[server.session_id][0]:
            urls[server.session_id] = (is_jupyter, badge_url(server))
    return {session_id: url for session_id, (_, url) in urls.items()}


def notification_text(title: str, message: str) -> str:
    """One line, no control characters (they would end or extend the OSC), no token, bounded."""
    text = f"{title}: {message}" if message else title
    text = redact(" ".join(_CONTROL.sub(" ", text).split()))
    if len(text) > MAX_NOTIFICATION:
        text = text[: MAX_NOTIFICATION - 1] + "…"
    if text[:1].isdigit():
        # "OSC 9 ; 4 ; ..." is a progress report to iTerm2 (ConEmu's), not a notification.
        text = "iterm2-autolaunch: " + text
    return text


def popover_html(rows: list[tuple[Server, str]], clicked_session: str) -> str:
    """The popover page: one block per forward with Open and Close buttons, then Close all.

    ``rows`` pairs each server with its session's name. Each button carries the invocation of one of
    our registered functions (session id and port only: no token, no screen text)."""
    blocks = []
    for server, session_name in rows:
        info = server.describe()
        where = "this session" if server.session_id == clicked_session else f"session {session_name}"
        open_call = invocation_string("autolaunch_open", {"session": server.session_id, "port": server.local_port})
        close_call = invocation_string("autolaunch_close", {"session": server.session_id, "port": server.local_port})
        blocks.append(
            "<div class=fwd>"
            f"<b>{_e(DISPLAY_NAMES.get(server.event.kind, server.event.kind))}</b> on {_e(info['ssh_host'])}"
            f" <span class=dim>({_e(where)})</span><br>"
            f"<code>{_e(info['remote'])}</code> &rarr; <code>{_e(info['url'])}</code><br>"
            f'<button data-invoke="{_e(open_call)}">Open</button> '
            f'<button data-invoke="{_e(close_call)}">Close</button>'
            "</div>"
        )
    body = "".join(blocks) or f"<p>{NO_FORWARDS}</p>"
    if blocks:
        body += f'<p><button data-invoke="{_e(invocation_string("autolaunch_close_all", {}))}">Close all</button></p>'
    return _PAGE.replace("{body}", body)


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


# iterm2Invoke(invocation, callbackName) is defined by iTerm2 in popovers; the callback gets the
# function's JSON result. Without it (an old iTerm2) the page says what to bind instead.
_PAGE = """<!doctype html><html><head><meta charset="utf-8"><style>
body { font: 13px -apple-system, sans-serif; margin: 10px; }
.fwd { margin-bottom: 10px; } .dim { color: #888; } code { font-size: 12px; }
</style></head><body><div id=forwards>{body}</div><p id=status class=dim></p><script>
function autolaunchDone(result) { document.getElementById("status").textContent = String(result); }
for (const button of document.querySelectorAll("button[data-invoke]")) {
  button.addEventListener("click", function () {
    if (typeof iterm2Invoke !== "function") {
      autolaunchDone("This iTerm2 cannot call scripts from here: bind autolaunch_close_all to a key.");
      return;
    }
    button.disabled = true;
    iterm2Invoke(button.dataset.invoke, "autolaunchDone");
  });
}
</script></body></html>"""


# ------------------------------------------------------------------------------ the UI


class Ui:
    def __init__(self, connection: iterm2.Connection, engine: Engine) -> None:
        self._connection = connection
        self._engine = engine
        self._loop = asyncio.get_running_loop()
        self._component: iterm2.StatusBarComponent | None = None
        self._dirty = asyncio.Event()
        self._shown_summary: str | None = None
        self._shown_urls: dict[str, str] = {}
        self._touched: set[str] = set()  # sessions whose variable we set or are setting
        self._pending: set[asyncio.Task[None]] = set()
        self._closed = False
        self._syncer = self._loop.create_task(self._sync_forever(), name="iterm2-autolaunch ui sync")

    # -- engine side ----------------------------------------------------------------------------

    def changed(self) -> None:
        """The engine's listener: only wakes the syncer, which coalesces bursts of changes."""
        if not self._closed:
            self._dirty.set()

    def notify(self, title: str, message: str) -> None:
        """Post a desktop notification through iTerm2 (OSC 9); returns at once, from any thread."""
        text = notification_text(title, message)
        log.info("notification: %s", text)
        match = _SESSION_PREFIX.match(title)
        hint = match.group(1).upper() if match else None
        try:
            on_loop = asyncio.get_running_loop() is self._loop
        except RuntimeError:
            on_loop = False
        if on_loop:
            self._post_later(text, hint)
        elif not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._post_later, text, hint)

    async def close(self) -> None:
        """Stop syncing and clear what we showed (the forwards die with the daemon). Bounded."""
        if self._closed:
            return
        self._closed = True
        tasks = [self._syncer, *self._pending]
        for task in tasks:
            task.cancel()
        await asyncio.wait(tasks, timeout=CLOSE_TIMEOUT / 2)
        # The syncer may have been cancelled with a request in flight: clear whatever it may have set.
        self._shown_summary = None
        for session_id in self._touched:
            self._shown_urls.setdefault(session_id, "")
        if self._connected():
            try:
                await asyncio.wait_for(self._publish(NO_FORWARDS, {}), CLOSE_TIMEOUT / 2)
            except Exception as error:  # a timeout or a refusal: say which, then go
                log.info("could not clear the status bar and badges: %r", error)
        # Registered functions and the component go away with the connection; until then the
        # handlers answer that we are stopping.

    # -- keeping iTerm2's variables in step -----------------------------------------------------

    async def _sync_forever(self) -> None:
        while True:
            await self._dirty.wait()
            self._dirty.clear()
            servers = self._engine.servers()
            try:
                await self._publish(summary(servers), session_urls(servers))
            except Exception as error:  # a failed update must not end updating
                log.warning("updating the status bar variables failed: %r", error)
                if self._connected():
                    self._loop.call_later(RETRY_DELAY, self.changed)

    async def _publish(self, text: str, urls: dict[str, str]) -> None:
        if text != self._shown_summary:
            await self._set_variable(None, APP_VARIABLE, text)
            self._shown_summary = text
        for session_id in sorted(set(urls) | set(self._shown_urls)):
            url = urls.get(session_id)
            if url == self._shown_urls.get(session_id):
                continue
            self._touched.add(session_id)
            if await self._set_variable(session_id, SESSION_VARIABLE, url) and url is not None:
                self._shown_urls[session_id] = url
            else:  # cleared, or the session is gone (with its variables)
                self._shown_urls.pop(session_id, None)
                self._touched.discard(session_id)

    async def _set_variable(self, session_id: str | None, name: str, value: Any) -> bool:
        """Set a variable of a session, or of the app when ``session_id`` is None (None unsets).

        False when the session is gone; raises for any other refusal, so the change is retried."""
        call = rpc.async_variable(self._connection, session_id, sets=[(name, json.dumps(value))])
        status = (await asyncio.wait_for(call, REQUEST_TIMEOUT)).variable_response.status
        if status == _VARIABLE_NO_SESSION:
            return False
        if status != _VARIABLE_OK:
            raise rpc.RPCException(f"setting {name}: {api_pb2.VariableResponse.Status.Name(status)}")
        return True

    def _connected(self) -> bool:
        websocket = self._connection.websocket
        return websocket is not None and not websocket.closed

    # -- notifications --------------------------------------------------------------------------

    def _post_later(self, text: str, session_hint: str | None) -> None:
        if self._closed:
            return
        if len(self._pending) >= MAX_PENDING_NOTIFICATIONS:
            log.warning("notification dropped (iTerm2 is not taking them): %s", text)
            return
        task = self._loop.create_task(self._post(text, session_hint))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _post(self, text: str, session_hint: str | None) -> None:
        data = b"\x1b]9;" + text.encode("utf-8") + b"\x07"
        try:
            await asyncio.wait_for(self._inject(data, session_hint), REQUEST_TIMEOUT)
        except Exception as error:  # the log line above already said it
            log.info("notification not posted: %r", error)

    async def _inject(self, data: bytes, session_hint: str | None) -> None:
        # The session the message is about, so clicking the notification leads there; else the
        # focused one ("active" is iTerm2's own alias for it).
        target = "active"
        if session_hint:
            target = next((s for s in await self._session_ids() if s.upper().startswith(session_hint)), target)
        reply = await rpc.async_inject(self._connection, data, [target])
        status = reply.inject_response.status
        if not status or status[0] != _INJECT_OK:
            raise rpc.RPCException(api_pb2.InjectResponse.Status.Name(status[0]) if status else "no status")

    async def _session_ids(self) -> list[str]:
        reply = (await rpc.async_list_sessions(self._connection)).list_sessions_response
        ids = [s.unique_identifier for s in reply.buried_sessions]
        nodes = [tab.root for window in reply.windows for tab in window.tabs]
        while nodes:
            for link in nodes.pop().links:
                if link.HasField("session"):
                    ids.append(link.session.unique_identifier)
                else:
                    nodes.append(link.node)
        return ids

    # -- registrations --------------------------------------------------------------------------

    async def register(self) -> None:
        """Register the component and the functions; each failure is logged and skipped."""
        for what, register in (
            ("the status bar component", self._register_component),
            ("autolaunch_reopen_last/autolaunch_close_all", self._register_key_functions),
            ("the popover's functions", self._register_popover_functions),
        ):
            try:
                await asyncio.wait_for(register(), REQUEST_TIMEOUT)
            except Exception as error:  # an old iTerm2, a name another script took, a dead connection
                log.error("could not register %s with iTerm2: %r; going on without it", what, error)

    async def _register_component(self) -> None:
        component = iterm2.StatusBarComponent(
            short_description="Jupyter forwards",
            detailed_description="The SSH port forwards iterm2-autolaunch keeps open; click for details",
            knobs=[],
            exemplar="1 Jupyter",
            update_cadence=None,
            identifier=COMPONENT_ID,
        )

        # ``forwards`` is only there so iTerm2 calls this again when the variable changes; the
        # text comes from the engine itself, so it is right even if setting the variable failed.
        @iterm2.StatusBarRPC
        async def autolaunch_forwards(knobs: Any, forwards: Any = _FORWARDS_REFERENCE) -> str:
            return summary(self._engine.servers())

        self._component = component
        await component.async_register(
            self._connection, autolaunch_forwards, timeout=FUNCTION_TIMEOUT, onclick=self._open_popover
        )

    async def _open_popover(self, session_id: str) -> None:
        servers = self._engine.servers()
        rows = [(server, await self._session_name(server.session_id)) for server in servers]
        size = iterm2.Size(560, min(90 + 78 * max(len(rows), 1), 600))
        assert self._component is not None
        await asyncio.wait_for(
            self._component.async_open_popover(session_id, popover_html(rows, session_id), size), REQUEST_TIMEOUT
        )

    async def _session_name(self, session_id: str) -> str:
        """What the session is called in its title bar (set by whatever runs in it), or its id."""
        try:
            call = rpc.async_variable(self._connection, session_id, gets=["presentationName"])
            reply = (await asyncio.wait_for(call, REQUEST_TIMEOUT)).variable_response
            if reply.status == _VARIABLE_OK and reply.values:
                name = json.loads(reply.values[0])
                if isinstance(name, str) and name:
                    return name
        except Exception as error:
            log.debug("no name for session %s: %r", session_id, error)
        return session_id[:8]

    async def _register_key_functions(self) -> None:
        @iterm2.RPC
        async def autolaunch_reopen_last() -> str:
            if self._closed:
                return "iterm2-autolaunch is stopping"
            server = self._engine.last_opened
            if not self._engine.reopen_last() or server is None:
                return "nothing to reopen"
            return f"reopened {badge_url(server)}"

        @iterm2.RPC
        async def autolaunch_close_all() -> str:
            if self._closed:
                return "iterm2-autolaunch is stopping"
            count = await self._engine.close_all("closed by the user")
            return f"closed {count} forward{'' if count == 1 else 's'}"

        await autolaunch_reopen_last.async_register(self._connection, timeout=FUNCTION_TIMEOUT)
        await autolaunch_close_all.async_register(self._connection, timeout=FUNCTION_TIMEOUT)

    async def _register_popover_functions(self) -> None:
        @iterm2.RPC
        async def autolaunch_open(session: str, port: int) -> str:
            server = self._find(session, port)
            if server is None:
                return "that forward is gone"
            self._engine.last_opened = server  # opening it makes it the one "reopen last" means
            self._engine.reopen_last()
            return f"opened {badge_url(server)}"

        @iterm2.RPC
        async def autolaunch_close(session: str, port: int) -> str:
            server = self._find(session, port)
            if server is None:
                return "that forward is gone"
            await self._engine.close_server(server, "closed from the status bar")
            return f"closed {badge_url(server)}"

        await autolaunch_open.async_register(self._connection, timeout=FUNCTION_TIMEOUT)
        await autolaunch_close.async_register(self._connection, timeout=FUNCTION_TIMEOUT)

    def _find(self, session_id: object, port: object) -> Server | None:
        if self._closed:
            return None
        return next((s for s in self._engine.servers() if s.session_id == session_id and s.local_port == port), None)


async def start_ui(connection: iterm2.Connection, engine: Engine) -> Ui:
    """Show the engine in iTerm2. Never raises for what iTerm2 refuses; returns within ~15 s."""
    ui = Ui(connection, engine)
    engine.add_listener(ui.changed)
    ui.changed()  # publish "no forwards" at once, so the component has text from the start
    await ui.register()
    return ui
