"""A protocol-faithful fake iTerm2 for tests: real ``iterm2.api_pb2`` messages over the real socket.

It follows iTerm2 v3.6.11 with default preferences (each module cites the source it follows):
terminal.py, csi.py, grid.py, reflow.py (the screen: history from the alternate screen and scroll
regions, NUL cells, tab fillers, double-width cells, resize), buffer.py (GetBuffer), jobs.py
(jobName/commandLine polling), lifecycle.py (undoable close, revive, resize, tabs), notify.py
(refresh cadence, what "all" subscriptions reach), server.py / connection.py / requests.py /
ui_requests.py / controls.py (the API server and test controls), browser.py (split pane and create tab with
profile customizations, session methods such as ``iterm2.load_url`` in iTerm2's built-in browser, from
iTerm2 3.7 sources), model.py, layout.py.

``FakeITerm2(home, legacy=True)`` keeps the older, simpler model some tests were written against:
blank cells as spaces, nothing from the alternate screen in history, sessions terminated at once,
every session refreshed at 60 Hz and reached by "all" subscriptions.
"""

from .model import Alert, FakeRPCError, FakeSession, Popover
from .server import FakeITerm2
from .terminal import Line, Terminal
from .ui_requests import parse_invocation

__all__ = [
    "Alert",
    "FakeITerm2",
    "FakeRPCError",
    "FakeSession",
    "Line",
    "Popover",
    "Terminal",
    "parse_invocation",
]
