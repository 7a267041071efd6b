"""A protocol-faithful fake iTerm2 for tests: real ``iterm2.api_pb2`` messages over the real socket."""

from .server import Alert, FakeITerm2, FakeRPCError, FakeSession, Popover, parse_invocation
from .terminal import Line, Terminal

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
