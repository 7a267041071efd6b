"""Sessions opening, closing, reviving and resizing, as tests drive them."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from iterm2 import api_pb2 as pb

from .model import FakeSession, FakeTab, FakeWindow, _threadsafe
from .notify import Notifier


class SessionControls(Notifier):
    @_threadsafe
    def add_session(
        self,
        rows: int = 24,
        columns: int = 80,
        *,
        scrollback: int | None = 1000,
        variables: Mapping[str, Any] | None = None,
        title: str = "zsh",
        tab_of: FakeSession | None = None,
        buried: bool = False,
        tmux_gateway: FakeSession | None = None,
    ) -> FakeSession:
        """Open a session: in a new window, as a split in ``tab_of``'s tab, or buried.

        With ``tmux_gateway``, the session is a pane of iTerm2's tmux integration (``tmux -CC`` runs
        in the gateway session): it opens in a new tab that belongs to the gateway's tmux connection,
        as iTerm2 opens a tab per tmux window, and gets the variables iTerm2 gives such a pane
        (``tmuxRole`` "client", ``tmuxWindowPane``); the gateway's ``tmuxRole`` becomes "gateway".
        """
        if tmux_gateway is not None:
            pane = next(self._ids)
            variables = {"tmuxRole": "client", "tmuxWindowPane": pane, **(variables or {})}
        session = FakeSession(
            self,  # type: ignore[arg-type]  # the mixin is the FakeITerm2
            rows=rows,
            columns=columns,
            scrollback=scrollback,
            variables=variables or {},
            title=title,
        )
        if buried:
            session.buried = True
            self.buried_sessions.append(session)
        elif tab_of is not None and tab_of.tab is not None:
            session.tab = tab_of.tab
            tab_of.tab.sessions.append(session)
        else:
            window = FakeWindow(window_id=f"pty-{uuid.uuid4()}".upper(), number=len(self.windows))
            tab = FakeTab(tab_id=str(next(self._ids)), window=window)
            window.tabs.append(tab)
            window.selected_tab = tab
            tab.sessions.append(session)
            tab.active_session = session
            session.tab = tab
            self.windows.append(window)
            if tmux_gateway is not None:
                connection_id = next(
                    (cid for cid, gateway in self.tmux_connections.items() if gateway is tmux_gateway),
                    f"{len(self.tmux_connections) + 1}",
                )
                self.tmux_connections[connection_id] = tmux_gateway
                tab.tmux_connection_id = connection_id
                tab.tmux_window_id = str(pane)
                tmux_gateway.set_variable("tmuxRole", "gateway")
        # Posted after the session is in the list, so a client refreshing on it finds it.
        note = pb.Notification()
        note.new_session_notification.session_id = session.session_id
        self._post_app(pb.NOTIFY_ON_NEW_SESSION, note)
        self._post_layout_change()
        return session

    @_threadsafe
    def close_session(self, session: FakeSession) -> None:
        """The session's program exited and the pane closed."""
        if session.closed:
            return
        session.closed = True
        self._dirty.discard(session)
        if session in self.buried_sessions:
            self.buried_sessions.remove(session)
        tab = session.tab
        if tab is not None:
            tab.sessions.remove(session)
            if tab.active_session is session:
                tab.active_session = tab.sessions[0] if tab.sessions else None
            if not tab.sessions:
                window = tab.window
                window.tabs.remove(tab)
                if window.selected_tab is tab:
                    window.selected_tab = window.tabs[0] if window.tabs else None
                if not window.tabs:
                    self.windows.remove(window)
        for conn in self._connections:
            for subscribers in conn.session_subs.values():
                subscribers.discard(session.session_id)
        note = pb.Notification()
        note.terminate_session_notification.session_id = session.session_id
        self._post_app(pb.NOTIFY_ON_TERMINATE_SESSION, note)
        self._post_layout_change()

    @_threadsafe
    def sessions(self) -> list[FakeSession]:
        return [*self._all_sessions(), *self.buried_sessions]
