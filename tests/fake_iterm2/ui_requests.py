"""UI requests (status bar popovers, functions and alerts) and invocation parsing."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from iterm2 import api_pb2 as pb

from .model import Alert, FakeRPCError, Popover, _Reference

if TYPE_CHECKING:
    from .server import FakeITerm2

_VALID_IDENTIFIER = re.compile(r"[A-Za-z0-9_]+\Z")


class UIRequests:
    """Handlers of _Connection for the UI requests."""

    server: FakeITerm2

    def _status_bar_component_request(
        self, request: pb.ClientOriginatedMessage, response: pb.ServerOriginatedMessage
    ) -> None:
        req = request.status_bar_component_request
        status = pb.StatusBarComponentResponse.Status
        result = response.status_bar_component_response
        if req.identifier not in self.server.status_bar_components:
            result.status = status.Value("INVALID_IDENTIFIER")
            return
        if req.WhichOneof("request") != "open_popover":
            result.status = status.Value("REQUEST_MALFORMED")
            return
        popover = req.open_popover
        if self.server._find_session(popover.session_id) is None:
            result.status = status.Value("SESSION_NOT_FOUND")
            return
        self.server.popovers.append(
            Popover(req.identifier, popover.session_id, popover.html, popover.size.width, popover.size.height)
        )
        result.status = status.Value("OK")

    async def _invoke_function_request(
        self, request: pb.ClientOriginatedMessage, response: pb.ServerOriginatedMessage
    ) -> None:
        req = request.invoke_function_request
        result = response.invoke_function_response
        status = pb.InvokeFunctionResponse.Status
        server = self.server
        try:
            name, arguments = parse_invocation(req.invocation)
        except ValueError as exc:
            result.error.status = status.Value("REQUEST_MALFORMED")
            result.error.error_reason = str(exc)
            return
        if req.WhichOneof("context") == "method":  # a session's own methods: browser.py
            await self._invoke_method(req.method.receiver, name, arguments, result)  # type: ignore[attr-defined]
            return
        scope: Mapping[str, Any] = {}
        if req.WhichOneof("context") == "session":
            session = server._find_session(req.session.session_id)
            if session is None:
                result.error.status = status.Value("INVALID_ID")
                result.error.error_reason = f"No such session {req.session.session_id}"
                return
            scope = session.variables
        arguments = {k: scope.get(v.path) if isinstance(v, _Reference) else v for k, v in arguments.items()}
        value: Any
        if name in ("iterm2.alert", "iterm2.get_string", "iterm2.get_poly_modal_alert"):
            server.alerts.append(Alert(name, arguments))
            if name == "iterm2.alert":
                value = 1000 + server.alert_button
            elif name == "iterm2.get_string":
                value = server.text_input
            else:
                value = server.poly_modal_result
        else:
            timeout = req.timeout if req.timeout > 0 else None
            try:
                value = await server.invoke_rpc(name, timeout=timeout, **arguments)
            except FakeRPCError as exc:
                timed_out = str(exc) == "Timeout"
                result.error.status = status.Value("TIMEOUT" if timed_out else "FAILED")
                result.error.error_reason = str(exc)
                return
        result.success.json_result = json.dumps(value)


def _signature(name: str, argument_names: Iterable[str]) -> str:
    """iTerm2's function identity: name plus sorted argument names."""
    return f"{name}({','.join(sorted(argument_names))})"


def _valid_registration(registration: pb.RPCRegistrationRequest) -> bool:
    """iTerm2's it_valid: ASCII identifier name, unique identifier argument names."""
    if not _VALID_IDENTIFIER.match(registration.name):
        return False
    names = [a.name for a in registration.arguments]
    return all(_VALID_IDENTIFIER.match(n) for n in names) and len(set(names)) == len(names)


_NAME = re.compile(r"\s*([A-Za-z_][\w.]*)\s*")
_JSON = json.JSONDecoder(strict=False)


def parse_invocation(text: str) -> tuple[str, dict[str, Any]]:
    """Parse ``name(arg: value, ...)`` as built by iterm2.util.invocation_string and Alert.

    Values are JSON literals (iTerm2's string escapes are a subset of JSON's) or variable
    references, returned as :class:`_Reference`.
    """
    match = _NAME.match(text)
    if match is None:
        raise ValueError(f"no function name in {text!r}")
    name, pos = match.group(1), match.end()
    if text[pos : pos + 1] != "(":
        raise ValueError(f"expected '(' after {name} in {text!r}")
    pos += 1
    arguments: dict[str, Any] = {}
    while True:
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if text[pos : pos + 1] == ")":
            return name, arguments
        match = _NAME.match(text, pos)
        if match is None or text[match.end() : match.end() + 1] != ":":
            raise ValueError(f"expected 'name:' at {pos} in {text!r}")
        arg_name, pos = match.group(1), match.end() + 1
        while pos < len(text) and text[pos].isspace():
            pos += 1
        try:
            value, pos = _JSON.raw_decode(text, pos)
        except json.JSONDecodeError:
            match = _NAME.match(text, pos)
            if match is None:
                raise ValueError(f"bad value for {arg_name} in {text!r}") from None
            value, pos = _Reference(match.group(1)), match.end()
        arguments[arg_name] = value
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if text[pos : pos + 1] == ",":
            pos += 1
        elif text[pos : pos + 1] != ")":
            raise ValueError(f"expected ',' or ')' at {pos} in {text!r}")
