"""tmux -CC panes as iTerm2 v3.6.11 opens them: a session per pane, its history replayed.

TmuxWindowOpener.m fetches each pane's history from tmux (``capture-pane -peqJ ... -S -N``) before
it opens the window; the pane's session starts with it (PTYSession.m ``setHistory:``), so a
Jupyter banner the pane showed long ago is in the new session before any new output. Reattaching
must not hand it over again: the forward it announced may have been closed since.
"""

from __future__ import annotations

from tests.fake_iterm2 import FakeITerm2
from tests.test_iterm2_frontend import Client, jupyter_url, numbered, output, wait_until_read

BANNER = "[I 10:00:00 ServerApp] Jupyter Server 2.21.1 is running at:"
SSH = "ssh -p 2222 alice@wheeler"


def test_replayed_pane_history_is_not_read_again(fake: FakeITerm2, home: str) -> None:
    gateway = fake.add_session(variables={"jobName": "ssh", "commandLine": SSH})
    client = Client(fake, home)
    try:
        wait_until_read(fake, client, gateway)
        replay = output([BANNER, jupyter_url(), *numbered("old", 30)])
        pane = fake.add_session(rows=10, tmux_gateway=gateway, replay=replay, variables={"jobName": ""})
        assert pane.terminal.history_size > 0
        wait_until_read(fake, client, pane)
        pane.write(output(["new output"]))
        assert client.wait_lines(pane, 1) == ["new output"]
        assert jupyter_url() not in client.lines(pane)
        context = client.contexts(pane)[-1]
        assert (context["job_name"], context["command_line"]) == ("ssh", SSH)  # the gateway's ssh
    finally:
        client.stop()
