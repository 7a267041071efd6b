"""What a frontend hands to the engine: a session's context and its new logical lines."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from iterm2_autolaunch.detect import Event


@dataclass(frozen=True)
class SessionContext:
    """What is known about the terminal session the lines came from.

    job_name / command_line describe the foreground job (``ssh``, ``ssh -p 2222 alice@wheeler``).
    hostname / username come from shell integration and may just be the local machine's.
    user_vars holds ``user.*`` variables without the ``user.`` prefix.
    """

    session_id: str
    job_name: str = ""
    command_line: str = ""
    hostname: str = ""
    username: str = ""
    user_vars: Mapping[str, str] = field(default_factory=dict)
    job_pid: int = 0  # iTerm2's jobPid: the foreground job's process on this machine (0: unknown)


class LineSink(Protocol):
    """The engine as a frontend sees it."""

    def session_lines(self, context: SessionContext, lines: Sequence[str]) -> None:
        """New logical lines of one session, each delivered exactly once, in order."""

    def session_event(self, context: SessionContext, event: Event) -> None:
        """A server event the frontend found outside the lines (the invisible marker of ``marker.py``)."""

    def session_ended(self, session_id: str) -> None:
        """The session is gone; whatever it owned should go too."""


class Service(Protocol):
    """What a frontend runs: the sink it feeds, and one bounded stop of everything behind it."""

    @property
    def sink(self) -> LineSink: ...

    async def aclose(self) -> None:
        """Stop what the service owns (engine forwards, control socket, UI), within a few seconds."""
