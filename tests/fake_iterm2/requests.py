"""Requests about sessions: screen contents, properties, variables, input, close, tmux."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from iterm2 import api_pb2 as pb

from . import buffer

if TYPE_CHECKING:
    from .server import FakeITerm2


class SessionRequests:
    """Handlers of _Connection for requests about sessions."""

    server: FakeITerm2

    def _get_buffer_request(self, request: pb.ClientOriginatedMessage, response: pb.ServerOriginatedMessage) -> None:
        req = request.get_buffer_request
        result = response.get_buffer_response
        session = self.server._find_session(req.session)
        if session is None:
            result.status = pb.GetBufferResponse.Status.Value("SESSION_NOT_FOUND")
            return
        if req.line_range.HasField("screen_contents_only") and req.line_range.screen_contents_only:
            session.screen_reads += 1
        else:
            session.range_reads += 1
        buffer.fill(session.terminal, req.line_range, result, req.include_styles)

    def _get_property_request(self, request: pb.ClientOriginatedMessage, response: pb.ServerOriginatedMessage) -> None:
        req = request.get_property_request
        result = response.get_property_response
        server = self.server
        value: Any
        if req.HasField("session_id"):
            session = server._find_session(req.session_id)
            if session is None:
                result.status = pb.GetPropertyResponse.Status.Value("INVALID_TARGET")
                return
            terminal = session.terminal
            if req.name == "number_of_lines":
                value = {
                    "grid": terminal.rows,
                    "history": terminal.history_size,
                    "overflow": terminal.overflow,
                    # The viewport is at the bottom: nobody scrolls a fake.
                    "first_visible": terminal.screen_top,
                }
            elif req.name == "grid_size":
                value = {"width": terminal.columns, "height": terminal.rows}
            elif req.name == "buried":
                value = session.buried
            else:
                result.status = pb.GetPropertyResponse.Status.Value("UNRECOGNIZED_NAME")
                return
        elif req.HasField("window_id"):
            if server._find_window(req.window_id) is None:
                result.status = pb.GetPropertyResponse.Status.Value("INVALID_TARGET")
                return
            if req.name == "frame":
                value = {"origin": {"x": 0, "y": 0}, "size": {"width": 800, "height": 600}}
            elif req.name == "fullscreen":
                value = False
            else:
                result.status = pb.GetPropertyResponse.Status.Value("UNRECOGNIZED_NAME")
                return
        else:
            result.status = pb.GetPropertyResponse.Status.Value("INVALID_TARGET")
            return
        result.json_value = json.dumps(value)
        result.status = pb.GetPropertyResponse.Status.Value("OK")

    # -------------------------------------------------------------- variables

    def _variable_request(self, request: pb.ClientOriginatedMessage, response: pb.ServerOriginatedMessage) -> None:
        req = request.variable_request
        result = response.variable_response
        server = self.server
        status = pb.VariableResponse.Status
        if not all(s.name.startswith("user.") for s in req.set):
            result.status = status.Value("INVALID_NAME")
            return
        scope_kind = req.WhichOneof("scope")
        variables: dict[str, Any]
        on_change: Callable[[str, Any], None]
        if scope_kind == "session_id":
            if req.session_id == "all":
                if req.get:
                    result.status = status.Value("MULTI_GET_DISALLOWED")
                    return
                for each in server._all_sessions():
                    for item in req.set:
                        each.set_variable(item.name, _json_or_none(item.value))
                result.status = status.Value("OK")
                return
            session = server._find_session(req.session_id)
            if session is None:
                result.status = status.Value("SESSION_NOT_FOUND")
                return
            variables = session.variables
            on_change = session.set_variable
        elif scope_kind == "tab_id":
            tab = server._find_tab(req.tab_id)
            if tab is None:
                result.status = status.Value("TAB_NOT_FOUND")
                return
            variables = tab.variables
            on_change = _setter(server, tab.variables, pb.VariableScope.Value("TAB"), tab.tab_id)
        elif scope_kind == "window_id":
            window = server._find_window(req.window_id)
            if window is None:
                result.status = status.Value("WINDOW_NOT_FOUND")
                return
            variables = window.variables
            on_change = _setter(server, window.variables, pb.VariableScope.Value("WINDOW"), window.window_id)
        elif scope_kind == "app":
            variables = server.app_variables
            on_change = _setter(server, server.app_variables, pb.VariableScope.Value("APP"), "")
        else:
            result.status = status.Value("MISSING_SCOPE")
            return
        for item in req.set:
            on_change(item.name, _json_or_none(item.value))
        for name in req.get:
            if name == "*":
                # iTermVariableScope.dictionaryWithStringValues: flat dotted names, string values.
                result.values.append(json.dumps({k: _string_value(v) for k, v in variables.items()}))
            else:
                value = variables.get(name)
                result.values.append("null" if value is None else json.dumps(value))
        result.status = status.Value("OK")

    # -------------------------------------------------------------- program input and output

    def _inject_request(self, request: pb.ClientOriginatedMessage, response: pb.ServerOriginatedMessage) -> None:
        req = request.inject_request
        status = pb.InjectResponse.Status
        for session_id in req.session_id:
            if session_id == "all":
                for each in self.server._all_sessions():
                    each.write(req.data)
                response.inject_response.status.append(status.Value("OK"))
                continue
            session = self.server._find_session(session_id)
            if session is None:
                response.inject_response.status.append(status.Value("SESSION_NOT_FOUND"))
            else:
                session.write(req.data)
                response.inject_response.status.append(status.Value("OK"))

    def _send_text_request(self, request: pb.ClientOriginatedMessage, response: pb.ServerOriginatedMessage) -> None:
        req = request.send_text_request
        status = pb.SendTextResponse.Status
        targets = (
            self.server._all_sessions()
            if req.session == "all"
            else [s for s in [self.server._find_session(req.session)] if s is not None]
        )
        if not targets:
            response.send_text_response.status = status.Value("SESSION_NOT_FOUND")
            return
        for session in targets:
            session.typed.append(req.text)
        response.send_text_response.status = status.Value("OK")

    def _close_request(self, request: pb.ClientOriginatedMessage, response: pb.ServerOriginatedMessage) -> None:
        req = request.close_request
        status = pb.CloseResponse.Status
        if req.WhichOneof("target") != "sessions":
            response.ClearField("close_response")
            response.error = "fake iTerm2 closes sessions only"
            return
        for session_id in req.sessions.session_ids:
            session = self.server._find_session(session_id)
            if session is None:
                response.close_response.statuses.append(status.Value("NOT_FOUND"))
            else:
                self.server.close_session(session)
                response.close_response.statuses.append(status.Value("OK"))

    def _tmux_request(self, request: pb.ClientOriginatedMessage, response: pb.ServerOriginatedMessage) -> None:
        """tmux integration: only the list of connections (``async_get_tmux_connections``)."""
        result = response.tmux_response
        if request.tmux_request.WhichOneof("payload") != "list_connections":
            result.status = pb.TmuxResponse.Status.Value("INVALID_REQUEST")
            return
        result.list_connections.SetInParent()
        for connection_id, gateway in self.server.tmux_connections.items():
            if gateway.closed:
                continue
            entry = result.list_connections.connections.add()
            entry.connection_id = connection_id
            entry.owning_session_id = gateway.session_id
        result.status = pb.TmuxResponse.Status.Value("OK")

    def _transaction_request(self, request: pb.ClientOriginatedMessage, response: pb.ServerOriginatedMessage) -> None:
        server = self.server
        status = pb.TransactionResponse.Status
        if request.transaction_request.begin:
            if server._transaction_owner is not None:
                response.transaction_response.status = status.Value("ALREADY_IN_TRANSACTION")
                return
            server._transaction_owner = self  # type: ignore[assignment]  # the mixin is a _Connection
        else:
            if server._transaction_owner is not self:
                response.transaction_response.status = status.Value("NO_TRANSACTION")
                return
            server._end_transaction()
        response.transaction_response.status = status.Value("OK")


def _setter(server: FakeITerm2, variables: dict[str, Any], scope: int, identifier: str) -> Callable[[str, Any], None]:
    def set_variable(name: str, value: Any) -> None:
        if value is None:
            variables.pop(name, None)
        else:
            variables[name] = value
        server._post_variable_change(scope, identifier, name, value)

    return set_variable


def _json_or_none(text: str) -> Any:
    return None if text == "null" else json.loads(text)


def _string_value(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)
