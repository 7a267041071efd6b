"""Where sessions sit: lookups by id and the ListSessions snapshot."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from iterm2 import api_pb2 as pb

if TYPE_CHECKING:
    import asyncio

    from .connection import _Connection
    from .model import FakeSession, FakeTab, FakeWindow


class Layout:
    """The state the server's parts share, and where sessions sit in it."""

    windows: list[FakeWindow]
    buried_sessions: list[FakeSession]
    broadcast_domains: list[list[str]]
    tmux_connections: dict[str, FakeSession]
    legacy: bool
    undo_timeout: float
    refresh_interval: float
    background_interval: float
    _connections: set[_Connection]
    _dirty: set[FakeSession]
    _dirty_event: asyncio.Event | None
    _updates_held: bool
    _loop: asyncio.AbstractEventLoop | None
    _ids: Iterator[int]

    def _on_loop_thread(self) -> bool:
        raise NotImplementedError

    def _all_sessions(self) -> list[FakeSession]:
        return [s for w in self.windows for t in w.tabs for s in t.sessions]

    def _find_session(self, session_id: str) -> FakeSession | None:
        if session_id == "active":
            window = self.windows[0] if self.windows else None
            tab = window.selected_tab if window else None
            return tab.active_session if tab else None
        for session in self._all_sessions():
            if session.session_id == session_id:
                return session
        for session in self.buried_sessions:
            if session.session_id == session_id:
                return session
        return None

    def _find_tab(self, tab_id: str) -> FakeTab | None:
        for window in self.windows:
            for tab in window.tabs:
                if tab.tab_id == tab_id:
                    return tab
        return None

    def _find_window(self, window_id: str) -> FakeWindow | None:
        return next((w for w in self.windows if w.window_id == window_id), None)

    def _fill_list_sessions(self, response: pb.ListSessionsResponse) -> None:
        for window in self.windows:
            w = response.windows.add()
            w.window_id = window.window_id
            w.number = window.number
            w.frame.origin.x = 0
            w.frame.origin.y = 0
            w.frame.size.width = 800
            w.frame.size.height = 600
            if window.selected_tab is not None:
                w.selected_tab_id = window.selected_tab.tab_id
            for tab in window.tabs:
                t = w.tabs.add()
                t.tab_id = tab.tab_id
                t.root.vertical = True
                if tab.tmux_connection_id:
                    t.tmux_connection_id = tab.tmux_connection_id
                    t.tmux_window_id = tab.tmux_window_id
                if tab.active_session is not None:
                    t.active_session_id = tab.active_session.session_id
                for session in tab.sessions:
                    _fill_summary(t.root.links.add().session, session)
        for session in self.buried_sessions:
            summary = response.buried_sessions.add()
            summary.unique_identifier = session.session_id
            summary.title = session.title

    def _fill_broadcast_domains(self, domains: Any) -> None:
        for ids in self.broadcast_domains:
            domains.add().session_ids.extend(ids)


def _fill_summary(summary: pb.SessionSummary, session: FakeSession) -> None:
    summary.unique_identifier = session.session_id
    summary.title = session.title
    summary.grid_size.width = session.terminal.columns
    summary.grid_size.height = session.terminal.rows
    summary.frame.origin.x = 0
    summary.frame.origin.y = 0
    summary.frame.size.width = session.terminal.columns * 7
    summary.frame.size.height = session.terminal.rows * 14
