"""End to end through a jump host, with the job iTerm2 v3.6.11 would show (root: namespaces).

A real ``ssh -F <config> -tt inner`` (``ProxyJump jump`` in the config) runs in a real pty. OpenSSH
starts the jump as a child process ``ssh ... -W '[%h]:%p' jump`` (ssh.c); iTerm2 3.6.11 reports
the deepest foreground process as the session's job (iTermProcessInfo.swift deepestForegroundJob),
at its next poll (PTYSession.m shouldUpdateTitles:, 0.7 s). So the fake session's ``commandLine``
is that child's real argv, read from /proc. The daemon must forward to Jupyter on ``inner``
through ``jump`` and open it; the Jupyter there answers through the forward.
"""

from __future__ import annotations

import os
import pty
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.daemon_harness import daemon_on_fake
from tests.processes import argv_of, children, pump
from tests.remote_host import RemoteHost, http_get

DAEMON = [sys.executable, "-m", "iterm2_autolaunch", "daemon"]
pytestmark = pytest.mark.root


@pytest.fixture
def home() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(dir="/tmp"))  # short: the iTerm2 socket path must fit in 108 bytes
    yield path
    shutil.rmtree(path, ignore_errors=True)


def config_for_the_address(host: RemoteHost, path: Path) -> Path:
    """The test host's ssh config plus a ``Host <inner address>`` block with the same settings.

    The -W child names the final host by its HostName (an address here), so ``ssh -G`` for it
    matches no ``Host inner`` block; a user whose config names hosts by address (or by the name
    HostName gives) is in this situation. See the report: matching by HostName is the resolver's.
    """
    text = host.ssh_config.read_text()
    inner = text[text.index("Host inner\n") :]
    block = inner.replace("Host inner\n", f"Host {host.inner_addr}\n", 1)
    kept = [line for line in block.splitlines() if not line.strip().startswith(("HostName", "ProxyJump"))]
    block = "".join(line + "\n" for line in kept)
    path.write_text(text + block)
    return path


@pytest.mark.parametrize(
    "case",
    [
        # iTerm2 gives jobPid: the daemon reads the child's parent, the ssh the user ran, so a config that
        # knows the host only as "Host inner" (User, IdentityFile there) works
        pytest.param("alias-config-parent-read", id="alias-config-parent-read"),
        # no usable jobPid: the child's own argv ("-W [address]:22 jump") stands; a config that also
        # names the host by its address works
        pytest.param("address-config-child-only", id="address-config-child-only"),
    ],
)
def test_proxyjump_child_as_the_job_forwards_to_the_host_behind_the_jump(
    remote_host: RemoteHost, home: Path, case: str
) -> None:
    remote_host.start_jupyter()
    if case == "alias-config-parent-read":
        config = remote_host.ssh_config
    else:
        config = config_for_the_address(remote_host, home / "ssh_config")
    banner = "[I 2026-11-28 03:39:05.553 ServerApp] Jupyter Server 2.21.1 is running at:"
    url = f"http://127.0.0.1:{remote_host.jupyter_port}/lab?token={remote_host.token}"
    script = f"sleep 2; printf '%s\\r\\n' '{banner}' '[I 2026-11-28 03:39:05.553 ServerApp] {url}'; sleep 120"
    argv = ["ssh", "-F", str(config), "-tt", "inner", script]
    with daemon_on_fake(home, DAEMON, sys.executable) as run:
        pid, master = pty.fork()
        if pid == 0:
            os.execvp(argv[0], argv)
        reader = threading.Thread(target=pump, args=(master, run.session), daemon=True)
        reader.start()
        try:
            deadline = time.monotonic() + 30
            jump_children: list[tuple[int, list[str]]] = []
            while not jump_children:
                assert time.monotonic() < deadline, "ssh started no ProxyJump child"
                jump_children = [(c, argv_of(c)) for c in children(pid) if "-W" in argv_of(c)]
                time.sleep(0.05)
            child_pid, child = jump_children[0]
            assert child[child.index("-W") + 1] == f"[{remote_host.inner_addr}]:22"  # ssh.c's '[%h]:%p'
            # what iTerm2 shows at its next poll (jobPid 1: a process whose parent is no ssh, so nothing to read)
            run.session.start_job(argv, [child], pid=child_pid if case == "alias-config-parent-read" else 1)
            opened = urlsplit(run.wait_opened(60))
            assert (opened.hostname, opened.path) == ("localhost", "/lab")
            assert opened.port is not None
            status, body = http_get(opened.port, "/api", remote_host.token)
            assert status == 200 and b'"version"' in body
        finally:
            os.kill(pid, signal.SIGTERM)
            os.waitpid(pid, 0)
            os.close(master)
            reader.join(5)
