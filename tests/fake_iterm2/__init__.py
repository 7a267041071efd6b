"""A protocol-faithful fake iTerm2 for tests: real ``iterm2.api_pb2`` messages over the real socket."""

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
