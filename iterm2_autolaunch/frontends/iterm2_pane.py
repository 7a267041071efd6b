"""Pages in iTerm2's built-in browser: a browser pane split beside the session that printed the banner
(``iterm2-split``) or a new tab of its window (``iterm2-tab``), one pane per server, reused when the same
server comes back.

What iTerm2 does (gnachman/iTerm2 sources; the iterm2 library 2.30):

- A session whose profile's Custom Command (``KEY_CUSTOM_COMMAND``, ``"Custom Command"``) is ``"Browser"``
  (``kProfilePreferenceCommandTypeBrowserValue``, ITAddressBookMgr.m) is a web view, not a terminal
  (iTermSessionFactory.m ``request.browser``; PTYSession.m ``startProgram:…`` calls ``becomeBrowser``). So
  the split and the tab are made with that one profile customization (iTermAPIHelper.m
  ``apiServerSplitPane:`` / ``apiServerCreateTab:`` apply it with ``profileByCustomizing:``).
- Without the Browser Plugin, ``becomeBrowser`` fails: the session is made (the split answers OK with its
  id), then ends at once (``brokenPipe``) and iTerm2 shows its own "Browser Plugin Missing" warning. Our
  next call on it then fails with "Object with identifier … not found" (iTermScriptFunctionCall.m).
- ``iterm2.load_url(url:)`` is a method of the session (PTYSession.m ``loadURLWithCompletion:url:…``, from
  3.7.0beta2): "load_url is only supported in browser sessions" on a terminal, "Invalid URL" without a
  host, and the first load of a domain asks the user (a permanently silenceable warning), failing with
  "User denied permission to load URL" on Cancel. The library sends it only to API protocol 1.12 and later
  (capabilities.py ``supports_load_url``; Session.async_load_url).
- ``iterm2.set_name(name:)`` names any session (PTYSession.m ``setNameWithCompletion:name:``): a pane whose
  server stopped is named so; it is closed instead with ``close_browser_pane = true``.

Not detectable from here (read from the source, not tried): with a default profile whose session stays open
when its program ends, the failed browser session of a missing plugin stays, its profile still says
Browser (``isBrowserSession``), and ``load_url`` may then report success into it.

Anything that keeps the page out of iTerm2 for good (too old, no plugin, the user said no, the profile
is not a browser) is said once (log and notification) and every later page goes to the system browser:
no retry loop, no second question. The URL with its token goes only to iTerm2 over its private socket.
Closing a pane by hand closes nothing else: the next page for that server gets a new pane.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

import iterm2
from iterm2 import api_pb2, capabilities, rpc
from iterm2.util import invocation_string

from iterm2_autolaunch.interfaces import ServerView
from iterm2_autolaunch.redact import redact

log = logging.getLogger(__name__)

BROWSER_PROFILE = {"Custom Command": "Browser"}  # KEY_CUSTOM_COMMAND = kProfilePreferenceCommandTypeBrowserValue
# iTerm2 itself gives a function call 30 s (iTermAPIHelper.m, timeout -1); the first load of a domain waits
# for the user's answer inside that call.
CALL_TIMEOUT = 40.0
CLOSE_TIMEOUT = 2.0
PaneKey = tuple[str, str, str]  # ssh host, remote port, kind: the same server after a reattach or restart


class Refused(Exception):
    """iTerm2's browser cannot be used at all (the message says why); pages go to the system browser."""


class PaneGone(Exception):
    """The pane (or the session to split) no longer exists."""


class Iterm2Panes:
    """The ``interfaces.BrowserPanes`` of the iTerm2 daemon. One pane operation at a time, in order."""

    def __init__(
        self,
        connection: iterm2.Connection,
        fallback: Callable[[str], None],
        notify: Callable[[str, str], None],
        close_panes: bool = False,
    ) -> None:
        self._connection = connection
        self._fallback = fallback
        self._notify = notify
        self._close_panes = close_panes
        self._panes: dict[PaneKey, str] = {}
        self._refused: str | None = None
        self._said: set[str] = set()
        self._lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[None]] = set()

    # -- BrowserPanes ---------------------------------------------------------------------------

    def show(self, server: ServerView, place: str) -> None:
        if self._refused is not None:
            self._system(server, self._refused)
            return
        server.shown_in = f"{place} (opening)"
        self._spawn(self._show(server, place))

    def server_gone(self, server: ServerView, why: str) -> None:
        if _key(server) in self._panes:
            self._spawn(self._gone(server, why))

    def pane_of(self, server: ServerView) -> str | None:
        return self._panes.get(_key(server))

    async def close(self) -> None:
        """Stop what is still under way (bounded); the panes stay, as the user's tabs would."""
        for task in self._tasks:
            task.cancel()
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=CLOSE_TIMEOUT)

    # -- the work -------------------------------------------------------------------------------

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _show(self, server: ServerView, place: str) -> None:
        async with self._lock:
            if self._refused is not None:
                self._system(server, self._refused)
                return
            try:
                pane = await asyncio.wait_for(self._load(server, place), CALL_TIMEOUT)
            except Refused as error:
                self._refused = str(error)
                self._system(server, self._refused)
            except (PaneGone, rpc.RPCException, asyncio.TimeoutError) as error:
                self._system(server, f"no iTerm2 browser pane for this server ({error or 'no answer'})")
            else:
                server.shown_in = f"{place} pane {pane}"
                log.info("[%s] %s open in iTerm2 %s pane %s", server.session_id[:8], redact(server.url), place, pane)

    async def _load(self, server: ServerView, place: str) -> str:
        """The server's pane (its old one if it still exists, else a new one) showing its URL."""
        if not capabilities.supports_load_url(self._connection):
            major, minor = self._connection.iterm2_protocol_version
            raise Refused(f"iTerm2 is too old for its built-in browser to be scripted (API protocol {major}.{minor}; "
                          "load_url needs 1.12, iTerm2 3.7)")
        key = _key(server)
        old = self._panes.get(key)
        if old is not None:
            try:
                await self._load_url(old, server.url, made_now=False)
                await self._name(old, _title(server))
                return old
            except PaneGone:
                log.info("the iTerm2 pane of %s was closed; opening a new one", redact(server.url))
                del self._panes[key]
        pane = await (self._split(server.session_id) if place == "iterm2-split" else self._tab(server.session_id))
        try:
            await self._load_url(pane, server.url, made_now=True)
        except BaseException:
            await self._close_quietly(pane)  # an empty pane we made is no use to anyone
            raise
        self._panes[key] = pane
        await self._name(pane, _title(server))
        return pane

    async def _split(self, session_id: str) -> str:
        """A browser pane to the right of the session, divider vertical (iTerm2 halves the session)."""
        answer = await rpc.async_split_pane(self._connection, session_id, vertical=True, before=False,
                                            profile_customizations=_browser_profile())
        reply = answer.split_pane_response
        if reply.status != api_pb2.SplitPaneResponse.Status.Value("OK") or not reply.session_id:
            name = api_pb2.SplitPaneResponse.Status.Name(reply.status)
            raise PaneGone(f"split refused: {name}")
        return str(reply.session_id[0])

    async def _tab(self, session_id: str) -> str:
        """A browser session in a new tab of the window holding the session."""
        app = await iterm2.async_get_app(self._connection)
        assert app is not None
        session = app.get_session_by_id(session_id)
        window, _ = app.get_window_and_tab_for_session(session) if session is not None else (None, None)
        if window is None:
            raise PaneGone("the session that printed the banner has no window now")
        answer = await rpc.async_create_tab(self._connection, window=window.window_id,
                                            profile_customizations=_browser_profile())
        reply = answer.create_tab_response
        if reply.status != api_pb2.CreateTabResponse.Status.Value("OK"):
            raise PaneGone(f"new tab refused: {api_pb2.CreateTabResponse.Status.Name(reply.status)}")
        return str(reply.session_id)

    async def _load_url(self, pane: str, url: str, made_now: bool) -> None:
        invocation = invocation_string("iterm2.load_url", {"url": url})  # never logged: it holds the token
        try:
            await rpc.async_invoke_method(self._connection, pane, invocation, -1)
        except rpc.RPCException as error:
            text = str(error)
            if "not found" in text and made_now:  # iTerm2 ended the session it just made
                raise Refused("iTerm2's browser session did not start: is the iTerm2 Browser Plugin installed? "
                              "(https://iterm2.com/browser-plugin.html)") from None
            if "not found" in text:
                raise PaneGone(text) from None
            if "denied permission" in text:
                raise Refused("you declined loading localhost pages in iTerm2's browser "
                              "(restart iterm2-autolaunch to be asked again)") from None
            if "only supported in browser sessions" in text:
                raise Refused("iTerm2 made a terminal, not a browser, for the Browser profile") from None
            if text == "Timeout":
                raise Refused("iTerm2's question about loading localhost pages got no answer") from None
            raise

    async def _name(self, pane: str, name: str) -> None:
        try:
            await rpc.async_invoke_method(self._connection, pane, invocation_string("iterm2.set_name", {"name": name}),
                                          -1)
        except rpc.RPCException as error:
            log.info("could not name iTerm2 pane %s: %s", pane, error)

    async def _gone(self, server: ServerView, why: str) -> None:
        async with self._lock:
            key = _key(server)
            pane = self._panes.get(key)
            if pane is None:
                return
            if self._close_panes:
                del self._panes[key]
                await self._close_quietly(pane)
                return
            await self._name(pane, f"{_title(server)}: stopped ({why})")

    async def _close_quietly(self, pane: str) -> None:
        try:
            await asyncio.wait_for(rpc.async_close(self._connection, sessions=[pane], force=True), CLOSE_TIMEOUT)
        except (rpc.RPCException, asyncio.TimeoutError) as error:
            log.info("could not close iTerm2 pane %s: %s", pane, error)

    def _system(self, server: ServerView, why: str) -> None:
        """The system browser instead, saying why once per reason."""
        if why not in self._said:
            self._said.add(why)
            log.warning("opening in the system browser instead of iTerm2's: %s", why)
            self._notify("iterm2-autolaunch: system browser used", why)
        server.shown_in = "system browser"
        self._fallback(server.url)


def _key(server: ServerView) -> PaneKey:
    """The ssh host, the remote port and the kind: `jupyter server list` may name the host otherwise."""
    about = server.describe()
    return (str(about.get("ssh_host", "")), str(about.get("remote", "")).rpartition(":")[2], server.kind)


def _title(server: ServerView) -> str:
    about = server.describe()
    return f"{server.kind} {about.get('ssh_host', '')} {about.get('remote', '')}"


def _browser_profile() -> dict[str, str | None]:
    profile = iterm2.LocalWriteOnlyProfile()
    profile.set_use_custom_command(BROWSER_PROFILE["Custom Command"])
    return dict(profile.values)
