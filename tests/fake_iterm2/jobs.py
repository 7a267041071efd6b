"""The foreground job of a fake session, as iTerm2 v3.6.11 reports it in session variables.

- Polled, not pushed: ``PTYSession.m`` ``shouldUpdateTitles:`` re-reads the job at most every 0.7 s
  (``pollingTitlePeriod``) from the display refresh, so ``jobName``/``commandLine`` change up to
  that long after the process did. :func:`schedule_job` applies a new job at the next poll.
- The deepest foreground process: ``iTermProcessInfo.swift`` ``deepestForegroundJob`` picks the
  deepest descendant in the terminal's foreground process group. For ``ssh -J jump host`` that is
  the child ``ssh -W [host]:22 jump`` that ProxyJump starts (same process group as its parent).
- ``commandLine`` is argv joined by spaces, argv[0] cut to its last path component and each
  argument escaped as ``iTermLSOF.m`` ``escapedArgument:`` does; ``jobName`` is the process name.
"""

from __future__ import annotations

import asyncio
import itertools
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .model import FakeSession

# PTYSession.m shouldUpdateTitles: pollingTitlePeriod.
JOB_POLL_INTERVAL = 0.7
# NSString shellEscapableCharacters (NSStringITerm.m).
_SHELL_SPECIAL = set("\\ ()\"&'!$<>;|*?[]#`\t{}^+=@~")
_DOUBLE_QUOTE_UNSAFE = set('"$`\\!()')
_pids = itertools.count(40_000)


def escaped_argument(arg: str) -> str:
    """``iTermLSOF.m`` ``escapedArgument:``: as is, else in double quotes, else single quotes, else
    backslashes."""
    if not arg:
        return '""'
    control = any(ord(c) < 32 or ord(c) == 127 for c in arg)
    if not control and not _SHELL_SPECIAL.intersection(arg):
        return arg
    unsafe_controls = any((ord(c) < 32 and c != "\t") or ord(c) == 127 for c in arg)
    if not unsafe_controls and not _DOUBLE_QUOTE_UNSAFE.intersection(arg):
        return f'"{arg}"'
    if not control and "'" not in arg:
        return f"'{arg}'"
    return "".join("\\" + c if c in _SHELL_SPECIAL - {"\t"} else c for c in arg)


def command_line(argv: Sequence[str]) -> str:
    """How iTerm2 shows a process's argv (iTermLSOF commandLineArgumentsForProcess: + escaping)."""
    words = [os.path.basename(argv[0]), *argv[1:]]
    return " ".join(escaped_argument(word) for word in words)


def proxy_jump_child(
    jump: str, host: str, port: int = 22, *, user: str | None = None, jump_port: int | None = None
) -> list[str]:
    """The process ``ssh -J [user@]jump[:jump_port] host`` starts: OpenSSH ssh.c's ProxyCommand
    for a jump host, ``ssh [-l user] [-p port] -W '[%h]:%p' jump``, run by ``sh -c exec ...``
    (so the quotes are gone)."""
    options = [*(["-l", user] if user else []), *(["-p", str(jump_port)] if jump_port else [])]
    return ["ssh", *options, "-W", f"[{host}]:{port}", jump]


def job_variables(argv: Sequence[str], children: Sequence[Sequence[str]] = (), pid: int = 0) -> dict[str, object]:
    """Session variables for a foreground job and its foreground descendants (deepest last)."""
    deepest = list(children[-1]) if children else list(argv)
    return {
        "jobName": os.path.basename(deepest[0]),
        "processTitle": deepest[0],
        "commandLine": command_line(deepest),
        "jobPid": pid or next(_pids),  # PTYSession's jobPid: the deepest job's process id
    }


def schedule_job(
    session: FakeSession, argv: Sequence[str], children: Sequence[Sequence[str]] = (), pid: int = 0
) -> None:
    """The session's shell started ``argv`` (which started ``children``): iTerm2 shows it at its
    next poll of the job, up to JOB_POLL_INTERVAL later."""
    values = job_variables(argv, children, pid)
    loop = asyncio.get_running_loop()
    delay = JOB_POLL_INTERVAL - (loop.time() % JOB_POLL_INTERVAL)
    loop.call_later(delay, lambda: None if session.closed else session.set_variables(values))
