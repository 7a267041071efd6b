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
        background_tab_of: FakeSession | None = None,
        replay: bytes = b"",
    ) -> FakeSession:
        """Open a session: in a new window, as a split in ``tab_of``'s tab, in a new tab of
        ``background_tab_of``'s window that is not selected, or buried.

        With ``tmux_gateway``, the session is a pane of iTerm2's tmux integration (``tmux -CC`` runs
        in the gateway session): it opens in a new tab that belongs to the gateway's tmux connection,
        as iTerm2 opens a tab per tmux window, and gets the variables iTerm2 gives such a pane
        (``tmuxRole`` "client", ``tmuxWindowPane``); the gateway's ``tmuxRole`` becomes "gateway".
        ``replay`` is the pane's content when iTerm2 attaches: TmuxWindowOpener.m fetches each
        pane's history (``capture-pane -peqJ``) before it opens the window, and the session starts
        with it (PTYSession.m ``setHistory:``), so it is there before NEW_SESSION is posted.
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
        elif background_tab_of is not None and background_tab_of.tab is not None:
            window = background_tab_of.tab.window
            tab = FakeTab(tab_id=str(next(self._ids)), window=window, sessions=[session], active_session=session)
            window.tabs.append(tab)
            session.tab = tab
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
        if replay:
            session.terminal.write(replay)
        self._subscribe_all(session)
        # Posted after the session is in the list, so a client refreshing on it finds it.
        note = pb.Notification()
        note.new_session_notification.session_id = session.session_id
        self._post_app(pb.NOTIFY_ON_NEW_SESSION, note)
        self._post_layout_change()
        return session

    @_threadsafe
    def close_session(self, session: FakeSession, *, undoable: bool | None = None) -> None:
        """The user closed the session (or its program ended and the profile closes it).

        As ``PTYSession.m`` ``terminate`` does: the session leaves its tab at once (a layout change)
        and, when undoable, ``makeTerminationUndoable`` pauses it and schedules ``hardStop`` after
        ``KEY_UNDO_TIMEOUT`` (5 s by default); only ``hardStop`` posts PTYSessionTerminatedNotification,
        which iTermAPIHelper ``sessionDidTerminate:`` turns into TERMINATE_SESSION. A tmux pane
        (``isTmuxClient``) is not undoable. :meth:`revive_session` within the timeout brings it back.
        Output written meanwhile waits (the shell is paused). The legacy fake terminates at once.
        """
        if session.closed or session.closing is not None:
            return
        if undoable is None:
            undoable = not self.legacy and session.variables.get("tmuxRole") != "client"
        self._dirty.discard(session)
        place = self._detach(session)
        if undoable and self._loop is not None:
            session.closing = self._loop.call_later(self.undo_timeout, self._hard_stop, session)
            session.revive_place = place
            self._post_layout_change()
            return
        self._hard_stop(session)

    @_threadsafe
    def revive_session(self, session: FakeSession) -> None:
        """Undo Close within the undo timeout (``PTYSession.m`` ``revive``): the session returns
        to its tab with the same id, and iTermAPIHelper posts NEW_SESSION for it again
        (PTYSessionRevivedNotification is observed as ``sessionCreated:``)."""
        if session.closing is None:
            raise RuntimeError(f"session {session.session_id} is not waiting for undo")
        session.closing.cancel()
        session.closing = None
        self._attach(session, session.revive_place)
        self._subscribe_all(session)
        note = pb.Notification()
        note.new_session_notification.session_id = session.session_id
        self._post_app(pb.NOTIFY_ON_NEW_SESSION, note)
        self._post_layout_change()
        for data in session.paused_output:
            session.write(data)
        session.paused_output.clear()

    @_threadsafe
    def resize_session(self, session: FakeSession, rows: int, columns: int) -> None:
        """The window or pane changed size: the screen reflows, ``columns``/``rows`` change, a
        layout change is posted, then the screen update of the next refresh
        (``VT100ScreenMutableState+Resizing.m``; iTermAPIHelper ``sessionDidResize:``)."""
        session.terminal.resize(rows, columns)
        session.set_variables({"columns": columns, "rows": rows})
        self._post_layout_change()
        self._mark_dirty(session)

    @_threadsafe
    def select_tab(self, session: FakeSession) -> None:
        """Select the tab holding ``session`` in its window: it refreshes at the fast cadence."""
        if session.tab is not None:
            session.tab.window.selected_tab = session.tab

    def _hard_stop(self, session: FakeSession) -> None:
        session.closing = None
        session.closed = True
        session.paused_output.clear()
        for conn in self._connections:
            conn.forget_session(session.session_id)
        note = pb.Notification()
        note.terminate_session_notification.session_id = session.session_id
        self._post_app(pb.NOTIFY_ON_TERMINATE_SESSION, note)
        self._post_layout_change()

    def _detach(self, session: FakeSession) -> tuple[FakeTab | None, bool]:
        """Take the session out of the layout; returns where it was (its tab, buried or not)."""
        buried = session in self.buried_sessions
        if buried:
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
        return tab, buried

    def _attach(self, session: FakeSession, place: tuple[FakeTab | None, bool]) -> None:
        tab, buried = place
        if buried or tab is None:
            self.buried_sessions.append(session)
            return
        if not tab.sessions:  # its tab (and maybe window) went with it: restore them
            window = tab.window
            if window not in self.windows:
                self.windows.append(window)
            window.tabs.append(tab)
            window.selected_tab = window.selected_tab or tab
        tab.sessions.append(session)
        tab.active_session = tab.active_session or session
        session.tab = tab

    @_threadsafe
    def sessions(self) -> list[FakeSession]:
        return [*self._all_sessions(), *self.buried_sessions]
