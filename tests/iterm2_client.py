"""The iTerm2 frontend as the tests run it: one process, whatever iTerm2 $HOME points at.

``python tests/iterm2_client.py`` runs :func:`iterm2_autolaunch.frontends.iterm2_frontend.run`
with a sink that prints one JSON object per call on stdout, flushed at once:

    {"session": id, "context": {...}, "lines": [...]}            for session_lines
    {"ended": id, "reader_tasks": [names of live reader tasks]}   for session_ended

Logs go to stderr. Start it like iTerm2 starts a script: HOME set (the socket lives under it) and
ITERM2_COOKIE set. A process per test, because the iterm2 library keeps global state.

``python tests/iterm2_client.py probe SESSION_ID`` instead reads one session through the
library's own high-level API (Session.async_get_line_info, async_get_contents, screen contents)
and prints what it got, to check the fake iTerm2 against what the library expects; ``api
SESSION_ID`` registers a function and a status bar component, shows an alert, injects output and
runs a transaction, prints a report and waits until the connection drops.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import logging
import sys
from collections.abc import Sequence
from typing import Any

import iterm2

from iterm2_autolaunch.detect import Event
from iterm2_autolaunch.frontends.iterm2_frontend import TASK_NAME_PREFIX, run
from iterm2_autolaunch.session import SessionContext


def _emit(obj: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


class JsonLinesSink:
    def session_lines(self, context: SessionContext, lines: Sequence[str]) -> None:
        _emit({"session": context.session_id, "context": _context_dict(context), "lines": list(lines)})

    def session_event(self, context: SessionContext, event: Event) -> None:
        _emit({"event": event.to_json(), "context": _context_dict(context)})

    def session_ended(self, session_id: str) -> None:
        tasks = sorted(t.get_name() for t in asyncio.all_tasks() if t.get_name().startswith(TASK_NAME_PREFIX))
        _emit({"ended": session_id, "reader_tasks": tasks})


@dataclasses.dataclass
class _Service:
    sink: JsonLinesSink

    async def aclose(self) -> None:
        _emit({"closed": True})


async def _start(connection: iterm2.Connection) -> _Service:
    return _Service(JsonLinesSink())


def _context_dict(context: SessionContext) -> dict[str, Any]:
    values = dataclasses.asdict(context)
    values["user_vars"] = dict(context.user_vars)
    return values


async def _probe(connection: iterm2.Connection, session_id: str) -> None:
    app = await iterm2.async_get_app(connection)
    assert app is not None
    session = app.get_session_by_id(session_id)
    if session is None:
        _emit({"error": f"no session {session_id}"})
        return
    info = await session.async_get_line_info()
    first = info.overflow
    count = info.scrollback_buffer_height + info.mutable_area_height
    rows = await session.async_get_contents(first, count)
    screen = await session.async_get_screen_contents()
    _emit(
        {
            "grid": info.mutable_area_height,
            "history": info.scrollback_buffer_height,
            "overflow": info.overflow,
            "first_visible": info.first_visible_line_number,
            "rows": [[row.string, row.hard_eol] for row in rows],
            "screen_top": screen.windowed_coord_range.coordRange.start.y,
            "screen": [[screen.line(i).string, screen.line(i).hard_eol] for i in range(screen.number_of_lines)],
            "cursor": [screen.cursor_coord.x, screen.cursor_coord.y],
            "windows": [w.window_id for w in app.windows],
            "job": await session.async_get_variable("jobName"),
        }
    )


async def _api_tour(connection: iterm2.Connection, session_id: str) -> None:
    """Use the parts of the API a frontend or the engine may need, report, then wait for the drop."""
    app = await iterm2.async_get_app(connection)
    assert app is not None
    session = app.get_session_by_id(session_id)
    assert session is not None

    @iterm2.RPC
    async def double(value: int) -> int:
        if value < 0:
            raise ValueError("negative")
        return value * 2

    await double.async_register(connection)
    component = iterm2.StatusBarComponent(
        short_description="Tunnels",
        detailed_description="Jupyter tunnels of iterm2-autolaunch",
        knobs=[],
        exemplar="jupyter: 1",
        update_cadence=None,
        identifier="com.example.iterm2-autolaunch.tunnels",
    )

    @iterm2.StatusBarRPC
    async def status(knobs: Any) -> str:
        return "jupyter: 1"

    await component.async_register(connection, status)
    await component.async_open_popover(session_id, "<p>wheeler:8888</p>", iterm2.Size(300, 120))
    alert = iterm2.Alert("Open the tunnel?", "wheeler:8888")
    alert.add_button("Open")
    alert.add_button("Ignore")
    button = await alert.async_run(connection)
    await session.async_inject(b"injected\r\n")
    async with iterm2.Transaction(connection):
        info = await session.async_get_line_info()
        rows = await session.async_get_contents(info.overflow, info.scrollback_buffer_height + 1)
    await session.async_set_variable("user.tunnel", "8888")
    try:
        await session.async_set_variable("jobName", "vim")
        set_error = ""
    except iterm2.RPCException as exc:
        set_error = str(exc)
    _emit(
        {
            "ready": True,
            "button": button,
            "first_row": rows[0].string if rows else None,
            "tunnel": await session.async_get_variable("user.tunnel"),
            "set_error": set_error,
        }
    )
    assert connection.websocket is not None
    await connection.websocket.wait_closed()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--log-level", default="INFO")
    sub = parser.add_subparsers(dest="command")
    probe = sub.add_parser("probe", help="read one session with the library's own API")
    probe.add_argument("session_id")
    api = sub.add_parser("api", help="register a function, a status bar component; alert, inject, transact")
    api.add_argument("session_id")
    args = parser.parse_args(argv)
    logging.basicConfig(stream=sys.stderr, level=args.log_level, format="%(levelname)s %(name)s: %(message)s")
    if args.command in ("probe", "api"):
        session_id: str = args.session_id
        tour = _probe if args.command == "probe" else _api_tour
        iterm2.Connection().run_until_complete(lambda connection: tour(connection, session_id), retry=False)
        return 0
    return run(_start)


if __name__ == "__main__":
    raise SystemExit(main())
