"""The iTerm2 requests the frontend makes, and the session context built from variables.

These go through iterm2.rpc rather than iterm2.Session: Session.async_get_contents always asks for
styles and builds per-cell objects (costly at 20,000 lines/s), the screen's cursor is only in the
raw reply, and a vanished session should surface as one exception type.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

import iterm2
from iterm2 import api_pb2, rpc
from iterm2.util import CoordRange, Point, WindowedCoordRange

from iterm2_autolaunch.errors import SessionGone
from iterm2_autolaunch.session import SessionContext

log = logging.getLogger(__name__)

SOFT_EOL = api_pb2.LineContents.Continuation.Value("CONTINUATION_SOFT_EOL")
_BUFFER_OK = api_pb2.GetBufferResponse.Status.Value("OK")
_BUFFER_NO_SESSION = api_pb2.GetBufferResponse.Status.Value("SESSION_NOT_FOUND")
_PROPERTY_OK = api_pb2.GetPropertyResponse.Status.Value("OK")
_PROPERTY_NO_TARGET = api_pb2.GetPropertyResponse.Status.Value("INVALID_TARGET")
_VARIABLE_OK = api_pb2.VariableResponse.Status.Value("OK")
_VARIABLE_NO_SESSION = api_pb2.VariableResponse.Status.Value("SESSION_NOT_FOUND")
SESSION_SCOPE = api_pb2.VariableScope.Value("SESSION")
_TMUX_OK = api_pb2.TmuxResponse.Status.Value("OK")


async def get_screen(connection: iterm2.Connection, session_id: str) -> api_pb2.GetBufferResponse:
    reply = await rpc.async_get_screen_contents(connection, session_id, None, style=False)
    return checked_buffer(reply.get_buffer_response)


async def get_rows(connection: iterm2.Connection, session_id: str, first: int, count: int) -> api_pb2.GetBufferResponse:
    # The same request as Session.async_get_contents(first, count), without styles.
    window = WindowedCoordRange(CoordRange(Point(0, first), Point(0, first + count)))
    reply = await rpc.async_get_screen_contents(connection, session_id, window, style=False)
    return checked_buffer(reply.get_buffer_response)


def checked_buffer(buffer: api_pb2.GetBufferResponse) -> api_pb2.GetBufferResponse:
    if buffer.status == _BUFFER_NO_SESSION:
        raise SessionGone
    if buffer.status != _BUFFER_OK:
        raise rpc.RPCException(api_pb2.GetBufferResponse.Status.Name(buffer.status))
    for row in buffer.contents:
        if not _plain(row):
            row.text = cell_text(row)
    return buffer


def _plain(row: api_pb2.LineContents) -> bool:
    """One code point per cell, no NUL: the text is the cells (the common case, checked cheaply)."""
    runs = row.code_points_per_cell
    one_per_cell = not runs or (len(runs) == 1 and runs[0].num_code_points == 1)
    return one_per_cell and "\x00" not in row.text and "\t" not in row.text


def cell_text(row: api_pb2.LineContents) -> str:
    """A row's text with one character per cell, as it looks on the screen.

    iTerm2 sends empty cells (never written, erased, skipped by cursor motion) as U+0000, a tab as
    one ``\t`` after cells without code points (TAB_FILLER), and the right half of a double-width
    character as a cell without code points (PTYSession.m stringForLine:, iTermTextExtractor.m).
    Read as spaces, the text lines up with the screen's columns (where a pane's border is) and a
    NUL-padded line reads like the padded line it shows.
    """
    text = row.text.replace("\x00", " ").replace("\t", " ")
    if not row.code_points_per_cell:
        return text
    out: list[str] = []
    pos = 0
    for run in row.code_points_per_cell:
        if run.num_code_points == 0:
            out.append(" " * run.repeats)
        else:
            take = run.num_code_points * run.repeats
            out.append(text[pos : pos + take])
            pos += take
    out.append(text[pos:])
    return "".join(out)


async def get_overflow(connection: iterm2.Connection, session_id: str) -> int:
    """Lines dropped from the head of the scrollback (as Session.async_get_line_info reads it)."""
    reply = (await rpc.async_get_property(connection, "number_of_lines", session_id=session_id)).get_property_response
    if reply.status == _PROPERTY_NO_TARGET:
        raise SessionGone
    if reply.status != _PROPERTY_OK:
        raise rpc.RPCException(api_pb2.GetPropertyResponse.Status.Name(reply.status))
    return int(json.loads(reply.json_value)["overflow"])


async def get_all_variables(connection: iterm2.Connection, session_id: str) -> dict[str, Any]:
    """Every session variable: ``get: ["*"]`` answers one flat dict of dotted names."""
    reply = (await rpc.async_variable(connection, session_id, [], ["*"])).variable_response
    if reply.status == _VARIABLE_NO_SESSION:
        raise SessionGone
    if reply.status != _VARIABLE_OK:
        raise rpc.RPCException(api_pb2.VariableResponse.Status.Name(reply.status))
    values = json.loads(reply.values[0]) if reply.values else {}
    return values if isinstance(values, dict) else {}


async def tmux_gateway(connection: iterm2.Connection, session_id: str) -> str | None:
    """For a pane of iTerm2's tmux integration, the session where ``tmux -CC`` runs (the gateway):
    the pane's tab names its tmux connection, and the connection names its owning session."""
    listing = (await rpc.async_list_sessions(connection)).list_sessions_response
    connection_id = next(
        (
            tab.tmux_connection_id
            for window in listing.windows
            for tab in window.tabs
            if tab.tmux_connection_id and session_id in _session_ids(tab.root)
        ),
        None,
    )
    if connection_id is None:
        return None
    reply = (await rpc.async_rpc_list_tmux_connections(connection)).tmux_response
    if reply.status != _TMUX_OK:
        return None
    return next(
        (c.owning_session_id for c in reply.list_connections.connections if c.connection_id == connection_id), None
    )


def _session_ids(node: api_pb2.SplitTreeNode) -> set[str]:
    ids = set()
    for link in node.links:
        if link.HasField("session"):
            ids.add(link.session.unique_identifier)
        else:
            ids |= _session_ids(link.node)
    return ids


def _text(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value)


def session_context(session_id: str, variables: Mapping[str, Any]) -> SessionContext:
    return SessionContext(
        session_id=session_id,
        job_name=_text(variables.get("jobName")),
        command_line=_text(variables.get("commandLine")),
        hostname=_text(variables.get("hostname")),
        username=_text(variables.get("username")),
        user_vars={name[5:]: _text(value) for name, value in variables.items() if name.startswith("user.")},
        job_pid=_pid(variables.get("jobPid")),
    )


def _pid(value: Any) -> int:
    """jobPid: a number in a change notification, a string in ``get: ["*"]`` (dictionaryWithStringValues)."""
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0
