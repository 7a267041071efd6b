"""New panes and tabs, with profile customizations, and the methods a script calls on a session: iTerm2's
built-in browser as the API sees it.

From gnachman/iTerm2 (b9c78a2, 2026-08-22; load_url exists from v3.7.0beta2, API protocol 1.14 there,
while the iterm2 library gates it at 1.12):

- iTermAPIHelper.m ``apiServerSplitPane:``: SESSION_NOT_FOUND for an unknown session, INVALID_PROFILE_NAME
  for an unknown profile, MALFORMED_CUSTOM_PROFILE_PROPERTY when a value is not JSON
  (``profileByCustomizing:withProperties:``), else OK with the new session's id.
  ``apiServerCreateTab:``: INVALID_WINDOW_ID, INVALID_PROFILE_NAME, else OK with window, tab and session ids.
- A profile whose "Custom Command" is "Browser" makes a browser session (iTermSessionFactory.m
  ``request.browser``). Without the Browser Plugin ``becomeBrowser`` fails: the request still answers OK,
  then the session ends (PTYSession.m ``startProgram:…`` → ``brokenPipe``, dispatched after the reply).
- Methods (``invoke_function_request`` with ``method.receiver``): iTermScriptFunctionCall.m
  ``performMethodCallFromInvocation:`` fails with "Object with identifier “<id>” not found" when the
  receiver is gone; iTermObject.m fails "No method found on … with signature …" for an unknown method.
  Either error reaches the client as FAILED with the reason (iTermAPIHelper.m
  ``functionInvocationDidCompleteWithObject:``), which the library raises as RPCException.
- ``iterm2.load_url(url:)`` (PTYSession.m ``loadURLWithCompletion:url:connectionKey:``): error 1 "load_url
  is only supported in browser sessions", 2 "Invalid URL" (no host), then a warning "Allow loading URLs
  from <domain>?" (identifier ``NoSyncLoadURLAllowed_<domain>``, permanently silenceable), error 4 "User
  denied permission to load URL" on Cancel, else the page loads and the answer is ``true``.
- ``iterm2.set_name(name:)`` (``setNameWithCompletion:name:``) sets the session's name; answer ``null``.
- ``iterm2.browser_set_toolbar_hidden(hidden:)`` (library session.py) on a browser session.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from iterm2 import api_pb2 as pb

if TYPE_CHECKING:
    from .model import FakeSession
    from .server import FakeITerm2

KNOWN_PROFILES = ("Default",)  # the fake has one profile
LOAD_URL_SINCE = (1, 12)  # the library's capabilities.supports_load_url


class BrowserRequests:
    """Handlers of _Connection for new panes and tabs and for session methods."""

    server: FakeITerm2

    def _split_pane_request(self, request: pb.ClientOriginatedMessage, response: pb.ServerOriginatedMessage) -> None:
        req = request.split_pane_request
        result = response.split_pane_response
        status = pb.SplitPaneResponse.Status
        parent = self.server._find_session(req.session)
        if parent is None or parent.tab is None:
            result.status = status.Value("SESSION_NOT_FOUND")
            return
        if req.HasField("profile_name") and req.profile_name not in KNOWN_PROFILES:
            result.status = status.Value("INVALID_PROFILE_NAME")
            return
        profile = _customized(req.custom_profile_properties)
        if profile is None:
            result.status = status.Value("MALFORMED_CUSTOM_PROFILE_PROPERTY")
            return
        session = self._new_session(profile, tab_of=parent)
        session.split_from = (parent.session_id, req.split_direction == pb.SplitPaneRequest.VERTICAL, req.before)
        result.status = status.Value("OK")
        result.session_id.append(session.session_id)

    def _create_tab_request(self, request: pb.ClientOriginatedMessage, response: pb.ServerOriginatedMessage) -> None:
        req = request.create_tab_request
        result = response.create_tab_response
        status = pb.CreateTabResponse.Status
        window = self.server._find_window(req.window_id) if req.HasField("window_id") else None
        if req.HasField("window_id") and window is None:
            result.status = status.Value("INVALID_WINDOW_ID")
            return
        if req.HasField("profile_name") and req.profile_name not in KNOWN_PROFILES:
            result.status = status.Value("INVALID_PROFILE_NAME")
            return
        profile = _customized(req.custom_profile_properties) or {}
        if window is not None and window.tabs:
            anchor = window.tabs[0].sessions[0]
            session = self._new_session(profile, background_tab_of=anchor)
            if not req.HasField("select_tab") or req.select_tab:
                self.server.select_tab(session)
        else:
            session = self._new_session(profile)
        assert session.tab is not None
        result.status = status.Value("OK")
        result.window_id = session.tab.window.window_id
        result.tab_id = int(session.tab.tab_id)
        result.session_id = session.session_id

    def _new_session(self, profile: dict[str, Any], **where: Any) -> FakeSession:
        server = self.server
        session = server.add_session(**where)
        session.profile = profile
        if session.browser and not server.browser_plugin and server._loop is not None:
            # brokenPipe is dispatched to the main queue: the reply leaves first, then the session ends.
            server._loop.call_soon(lambda: server.close_session(session, undoable=False))
        return session

    async def _invoke_method(self, receiver: str, name: str, arguments: dict[str, Any], result: Any) -> None:
        status = pb.InvokeFunctionResponse.Status
        session = self.server._find_session(receiver)
        if session is None or session.closing is not None:
            result.error.status = status.Value("FAILED")
            result.error.error_reason = f"Object with identifier “{receiver}” not found"
            return
        signature = f"{name}({','.join(sorted(arguments))})"
        method = _METHODS.get(signature)
        if method is None or (signature == "iterm2.load_url(url)" and not self._has_load_url()):
            result.error.status = status.Value("FAILED")
            result.error.error_reason = f"No method found on {session!r} with signature {signature}"
            return
        try:
            value = method(self.server, session, **arguments)
        except _MethodError as error:
            result.error.status = status.Value("FAILED")
            result.error.error_reason = str(error)
            return
        result.success.json_result = json.dumps(value)

    def _has_load_url(self) -> bool:
        major, _, minor = self.server.protocol_version.partition(".")
        return (int(major), int(minor or 0)) >= LOAD_URL_SINCE


class _MethodError(Exception):
    pass


def _load_url(server: FakeITerm2, session: FakeSession, url: Any) -> bool:
    if not session.browser:
        raise _MethodError("load_url is only supported in browser sessions")
    host = urlsplit(url).hostname if isinstance(url, str) else None
    if not host:
        raise _MethodError("Invalid URL")
    if host not in server.allowed_domains:
        server.load_url_questions.append(host)
        if server.load_url_answer != "OK":
            raise _MethodError("User denied permission to load URL")
        server.allowed_domains.add(host)  # the user ticked "remember" (the library's docstring says it is kept)
    session.loaded_urls.append(url)
    return True


def _set_name(server: FakeITerm2, session: FakeSession, name: Any) -> None:
    session.set_variables({"name": str(name), "presentationName": str(name)})


def _set_toolbar_hidden(server: FakeITerm2, session: FakeSession, hidden: Any) -> None:
    if not session.browser:
        raise _MethodError("Not a browser session")


_METHODS: dict[str, Callable[..., Any]] = {
    "iterm2.load_url(url)": _load_url,
    "iterm2.set_name(name)": _set_name,
    "iterm2.browser_set_toolbar_hidden(hidden)": _set_toolbar_hidden,
}


def _customized(properties: Any) -> dict[str, Any] | None:
    """The customizations as iTerm2 reads them: each value JSON, else the request is malformed."""
    profile: dict[str, Any] = {}
    for prop in properties:
        try:
            profile[prop.key] = json.loads(prop.json_value)
        except json.JSONDecodeError:
            return None
    return profile
