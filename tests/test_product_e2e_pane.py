"""End to end with iTerm2's browser pane (root: network namespaces): a real pty runs the real ssh to the
real sshd and JupyterLab of the test host (tests/remote_host.py), its bytes feed a session of the fake
iTerm2, and the AutoLaunch entry script runs as iTerm2 starts it, configured with
``[browsers] jupyter = "iterm2-split"`` (the system browser, headless Chromium, stays the fallback).

What a user would see: the pane split beside the session loads the local forward with Jupyter's own token,
and that URL serves JupyterLab; `list` says where it is open; after the forwards are closed, `jupyter
server list` in a second ssh session brings the same server back, and the same pane loads it again.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import tempfile
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from iterm2_autolaunch.control_client import request
from tests.fake_iterm2 import FakeITerm2, FakeSession
from tests.remote_host import RemoteHost
from tests.test_product_e2e import (
    COLUMNS,
    ENTRY_SCRIPT,
    REPO,
    ROWS,
    SshInPty,
    port_open,
    remote_jupyter_command,
    wait_for,
)

pytestmark = pytest.mark.root


@pytest.fixture
def short_home() -> Iterator[Path]:
    home = Path(tempfile.mkdtemp(prefix="itp-", dir="/tmp"))
    yield home
    subprocess.run(["rm", "-rf", str(home)], check=False)


def panes(fake: FakeITerm2) -> list[FakeSession]:
    return [s for s in fake.sessions() if s.browser and s.loaded_urls]


def test_the_notebook_opens_beside_its_session_and_comes_back_in_the_same_pane(
    remote_host: RemoteHost, short_home: Path
) -> None:
    home = short_home
    config_home = home / "config"
    (config_home / "iterm2-autolaunch").mkdir(parents=True)
    fallback = [sys.executable, str(REPO / "tests" / "headless_browser.py"), str(home / "system-browser")]
    (config_home / "iterm2-autolaunch" / "config.toml").write_text(
        f'browser = {json.dumps(fallback)}\nreattach = "open"\n[browsers]\njupyter = "iterm2-split"\n'
    )
    ssh = ["ssh", *remote_host.ssh_args(), "-tt", "remote"]
    start_argv = [*ssh, *remote_jupyter_command(remote_host)]
    env_words = [f"{key}={value}" for key, value in remote_host.jupyter_env().items()]
    list_argv = [*ssh, "env", *env_words, str(Path(sys.executable).parent / "jupyter"), "server", "list"]
    daemon_log = home / "daemon.log"
    runs: list[SshInPty] = []
    with FakeITerm2(home).running() as fake:
        session = fake.add_session(rows=ROWS, columns=COLUMNS,
                                   variables={"jobName": "ssh", "commandLine": shlex.join(start_argv)})
        env = {**os.environ, "HOME": str(home), "ITERM2_COOKIE": fake.issue_cookie(),
               "XDG_CONFIG_HOME": str(config_home), "XDG_RUNTIME_DIR": str(home / "run"), "PYTHONIOENCODING": "utf-8"}
        with daemon_log.open("wb") as log_file:
            daemon = subprocess.Popen([sys.executable, str(ENTRY_SCRIPT)], env=env, stdout=log_file,
                                      stderr=subprocess.STDOUT)

        def diagnostics() -> str:
            return f"daemon log:\n{daemon_log.read_text()}\npty:\n{(home / 'pty.log').read_text()[-3000:]}"

        try:
            wait_for(lambda: fake.connection_count() > 0, 30, "the daemon to connect", daemon_log.read_text)
            runs.append(SshInPty(start_argv, session, home / "pty.log"))
            wait_for(lambda: bool(panes(fake)), 150, "a browser pane to load the notebook", diagnostics)
            [pane] = panes(fake)
            assert pane.split_from == (session.session_id, True, False)
            printed = re.search(rb"http://127\.0\.0\.1:\d+/lab\?token=([0-9a-f]+)", (home / "pty.log").read_bytes())
            assert printed is not None
            token = printed[1].decode()
            url = pane.loaded_urls[0]
            parts = urlsplit(url)
            assert (parts.scheme, parts.hostname, parts.path, parts.query) == ("http", "localhost", "/lab",
                                                                              f"token={token}")
            with urllib.request.urlopen(url, timeout=30) as page:  # noqa: S310 - our own forward on loopback
                assert "<title>JupyterLab</title>" in page.read().decode()
            socket_path = home / "run" / "iterm2-autolaunch" / "control.sock"
            wait_for(lambda: "pane" in json.dumps(request({"cmd": "list"}, socket_path)), 30, "list to name the pane",
                     diagnostics)
            [listed] = request({"cmd": "list"}, socket_path)["forwards"]
            assert listed["browser"] == f"iterm2-split pane {pane.session_id}" and token not in json.dumps(listed)

            assert request({"cmd": "close_all"}, socket_path)["ok"]  # the forward goes; the server runs on
            wait_for(lambda: not port_open(parts.port or 0), 10, "the forward to close", diagnostics)
            wait_for(lambda: "stopped" in pane.variables.get("name", ""), 10, "the pane to say so", diagnostics)

            # Later, from another ssh session: `jupyter server list` finds it, and the same pane shows it.
            other = fake.add_session(rows=ROWS, columns=COLUMNS,
                                     variables={"jobName": "ssh", "commandLine": shlex.join(list_argv)})
            runs.append(SshInPty(list_argv, other, home / "pty2.log"))
            wait_for(lambda: any(f"token={token}" in u for u in pane.loaded_urls[1:]), 90,
                     "the same pane to load the server again", diagnostics)
            again = next(u for u in pane.loaded_urls[1:] if f"token={token}" in u)
            assert urlsplit(again).hostname == "localhost" and port_open(urlsplit(again).port or 0)
            assert [p for p in panes(fake) if any(f"token={token}" in u for u in p.loaded_urls)] == [pane]
            assert not (home / "system-browser" / "done").exists(), "the system browser opened it too"
            assert token not in daemon_log.read_text(), "the token was logged"
        finally:
            for run in runs:
                run.stop()
            fake.drop_connections()
            try:
                daemon.wait(5)
            except subprocess.TimeoutExpired:
                daemon.kill()
                daemon.wait(5)
