"""The session's job as iTerm2 v3.6.11 reports it: polled, deepest, escaped; and the reader waits.

iTerm2 re-reads the foreground job at most every 0.7 s (PTYSession.m shouldUpdateTitles:), reports
the deepest foreground process (iTermProcessInfo.swift deepestForegroundJob) and escapes each
argument (iTermLSOF.m escapedArgument:). For ``ssh -J jump host`` the deepest process is the
ProxyJump child ``ssh -W [host]:22 jump``, which must still resolve to ``host`` through ``jump``.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable

import pytest

from iterm2_autolaunch.sshcmd import parse_command_line
from tests.fake_iterm2 import FakeITerm2
from tests.fake_iterm2.jobs import command_line, escaped_argument, proxy_jump_child
from tests.test_iterm2_frontend import Client, jupyter_url, output, start_client

__all__ = ["start_client"]  # the fixture, shared with test_iterm2_frontend


@pytest.mark.parametrize(
    ("arg", "shown"),
    [
        pytest.param("wheeler", "wheeler", id="plain"),
        pytest.param("", '""', id="empty"),
        pytest.param("[wheeler]:22", '"[wheeler]:22"', id="brackets-double-quoted"),
        pytest.param("a b", '"a b"', id="space-double-quoted"),
        pytest.param("$HOME", "'$HOME'", id="dollar-single-quoted"),
        pytest.param("it's $x", "it\\'s\\ \\$x", id="both-quotes-backslashes"),
    ],
)
def test_arguments_escaped_as_iterm2_does(arg: str, shown: str) -> None:
    assert escaped_argument(arg) == shown
    assert shlex.split(shown) == [arg]


def test_proxy_jump_child_resolves_to_the_host_through_the_jump() -> None:
    # What iTerm2 shows for `ssh -J jump wheeler`: the child OpenSSH starts for the jump.
    shown = command_line(proxy_jump_child("jump", "wheeler", user="bob", jump_port=2200))
    assert shown == 'ssh -l bob -p 2200 -W "[wheeler]:22" jump'
    parsed = parse_command_line(shown)
    assert parsed is not None
    assert (parsed.destination, parsed.port) == ("wheeler", 22)
    assert parsed.options[:2] == ("-J", "bob@jump:2200")


def test_job_variables_arriving_late_are_waited_for(fake: FakeITerm2, start_client: Callable[..., Client]) -> None:
    session = fake.add_session()  # the shell: jobName "zsh"
    client = start_client(session)
    session.write(output(["$ prompt"]))
    client.wait_lines(session, 1)
    # The user runs `ssh -J jump wheeler jupyter lab`; the URL is printed before iTerm2's next
    # poll of the job (it polls every 0.7 s).
    argv = ["/usr/bin/ssh", "-J", "jump", "wheeler", "jupyter", "lab"]
    session.start_job(argv, [proxy_jump_child("jump", "wheeler")])
    session.write(output(["[I ServerApp] Jupyter Server is running at:", jupyter_url()]))
    client.wait_lines(session, 3)
    url_context = next(r["context"] for r in client.records if jupyter_url() in r.get("lines", []))
    assert url_context["job_name"] == "ssh"
    assert url_context["command_line"] == 'ssh -W "[wheeler]:22" jump'
