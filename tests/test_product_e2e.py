"""The whole product, end to end, on real parts (root: network namespaces).

A real pty runs the real ``ssh -F <test config> remote jupyter lab ...`` into the real sshd of the test
host; its bytes feed a session of the fake iTerm2, whose ``jobName``/``commandLine`` are that ssh's; the
AutoLaunch entry script runs in its own process as iTerm2 starts it (``ITERM2_COOKIE`` set, HOME a short
temp dir); its configured browser is headless Chromium. JupyterLab must render through the forward, and
the forward must go within 5 s of Ctrl-C + ``y`` in the pty.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import pty
import re
import shlex
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.fake_iterm2 import FakeITerm2, FakeSession
from tests.remote_host import RemoteHost

REPO = Path(__file__).resolve().parent.parent
ENTRY_SCRIPT = REPO / "AutoLaunch" / "iterm2_autolaunch" / "iterm2_autolaunch" / "iterm2_autolaunch.py"
ARTIFACTS = REPO / "artifacts"
E2E_PORT = 8890  # the fixture's own Jupyter has 8888 in the namespace
ROWS, COLUMNS = 40, 120

pytestmark = pytest.mark.root


class SshInPty:
    """``argv`` in a real pty (its controlling terminal); everything it prints is written into ``session``."""

    def __init__(self, argv: list[str], session: FakeSession, log: Path) -> None:
        self.pid, self.master = pty.fork()
        if self.pid == 0:
            os.execvp(argv[0], argv)
        fcntl.ioctl(self.master, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLUMNS, 0, 0))
        self.session = session
        self.log = log.open("ab")
        self.reader = threading.Thread(target=self._pump, name="pty-reader", daemon=True)
        self.reader.start()

    def _pump(self) -> None:
        while True:
            try:
                data = os.read(self.master, 65536)
            except OSError:
                return
            if not data:
                return
            self.log.write(data)
            self.log.flush()
            self.session.write(data)

    def type(self, text: bytes) -> None:
        os.write(self.master, text)

    def stop(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGTERM)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            pid, _ = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                break
            time.sleep(0.05)
        else:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
            os.waitpid(self.pid, 0)
        with contextlib.suppress(OSError):
            os.close(self.master)
        self.reader.join(5)
        self.log.close()


def wait_for(condition: Callable[[], bool], timeout: float, what: str, diagnostics: Callable[[], str] = str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}\n{diagnostics()}")
        time.sleep(0.1)


def port_open(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture
def short_home() -> Iterator[Path]:
    home = Path(tempfile.mkdtemp(prefix="ita-", dir="/tmp"))
    yield home
    subprocess.run(["rm", "-rf", str(home)], check=False)


def remote_jupyter_command(host: RemoteHost) -> list[str]:
    """`env ... jupyter lab ...` as typed after `ssh remote`: the remote side needs no setup of ours.
    Jupyter makes up its token and prints it (an explicit token would be printed masked)."""
    argv = [arg for arg in host.jupyter_argv() if not arg.startswith(("--port=", "--IdentityProvider.token="))]
    env = [f"{key}={value}" for key, value in host.jupyter_env().items()]
    return ["env", *env, *argv, f"--port={E2E_PORT}"]


def run_product(remote_host: RemoteHost, home: Path, ssh_options: list[str], backend: str, name: str) -> str:
    """Run the scenario; returns the daemon's log. Asserts along the way."""
    outdir = ARTIFACTS / name
    subprocess.run(["rm", "-rf", str(outdir)], check=False)
    config_home = home / "config"
    (config_home / "iterm2-autolaunch").mkdir(parents=True)
    browser = [sys.executable, str(REPO / "tests" / "headless_browser.py"), str(outdir)]
    config = f'backend = "{backend}"\nbrowser = {json.dumps(browser)}\n'  # a JSON array of strings is TOML too
    (config_home / "iterm2-autolaunch" / "config.toml").write_text(config)
    ssh_argv = ["ssh", *remote_host.ssh_args(*ssh_options), "-tt", "remote", *remote_jupyter_command(remote_host)]
    daemon_log = home / "daemon.log"
    with FakeITerm2(home).running() as fake:
        session = fake.add_session(
            rows=ROWS, columns=COLUMNS, variables={"jobName": "ssh", "commandLine": shlex.join(ssh_argv)}
        )
        env = {
            **os.environ,
            "HOME": str(home),
            "ITERM2_COOKIE": fake.issue_cookie(),
            "XDG_CONFIG_HOME": str(config_home),
            "XDG_RUNTIME_DIR": str(home / "run"),
            "PYTHONIOENCODING": "utf-8",
        }
        with daemon_log.open("wb") as log_file:
            daemon = subprocess.Popen(
                [sys.executable, str(ENTRY_SCRIPT)], env=env, stdout=log_file, stderr=subprocess.STDOUT
            )
        ssh = None
        try:
            wait_for(lambda: fake.connection_count() > 0, 30, "the daemon to connect", daemon_log.read_text)
            ssh = SshInPty(ssh_argv, session, home / "pty.log")

            def diagnostics() -> str:
                return f"daemon log:\n{daemon_log.read_text()}\npty:\n{(home / 'pty.log').read_text()[-3000:]}"

            wait_for(lambda: (outdir / "done").exists(), 150, "the browser to render JupyterLab", diagnostics)

            received = (outdir / "url.txt").read_text()
            assert received.startswith("file://") and "token" not in received  # the argv holds a page, no token
            url = (outdir / "target.txt").read_text()  # where Chromium went from that page
            parts = urlsplit(url)
            printed = re.search(rb"http://127\.0\.0\.1:\d+/lab\?token=([0-9a-f]+)", (home / "pty.log").read_bytes())
            assert printed is not None
            token = printed[1].decode()
            assert (parts.scheme, parts.hostname, parts.path) == ("http", "localhost", "/lab")
            assert parts.query == f"token={token}"
            dom = (outdir / "dom.html").read_text()
            assert "<title>JupyterLab</title>" in dom, dom[:2000]
            assert "jp-Launcher" in dom, "the JupyterLab launcher did not render"
            png = (outdir / "screenshot.png").read_bytes()
            assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 10_000
            print(f"\nscreenshot: {outdir / 'screenshot.png'}")
            assert token not in daemon_log.read_text(), "the token was logged"

            local_port = parts.port
            assert local_port is not None and port_open(local_port)
            ssh.type(b"\x03")  # Ctrl-C: Jupyter asks "Shut down this Jupyter server (y/[n])?"
            wait_for(lambda: b"(y/[n])" in (home / "pty.log").read_bytes(), 30, "the shutdown question", diagnostics)
            ssh.type(b"y\r")
            stopped = time.monotonic()
            wait_for(lambda: not port_open(local_port), 10, "the forward to close", diagnostics)
            assert time.monotonic() - stopped < 5, "the forward outlived the server by more than 5 s"
        finally:
            if ssh is not None:
                ssh.stop()
            fake.drop_connections()
            try:
                daemon.wait(5)
            except subprocess.TimeoutExpired:
                daemon.kill()
                daemon.wait(5)
    return daemon_log.read_text()


def test_jupyterlab_renders_through_the_forward_and_the_forward_goes_with_the_server(
    remote_host: RemoteHost, short_home: Path
) -> None:
    log = run_product(remote_host, short_home, [], "auto", "e2e-sshtunnel")
    assert "forward up" in log and "forward closed" in log


def test_the_same_over_a_controlmaster_with_the_openssh_backend(remote_host: RemoteHost, short_home: Path) -> None:
    control_path = short_home / "cm.sock"
    options = ["-o", f"ControlPath={control_path}"]
    master = subprocess.run(
        ["ssh", *remote_host.ssh_args(*options), "-M", "-N", "-f", "remote"], capture_output=True, text=True, timeout=30
    )
    assert master.returncode == 0, master.stderr
    try:
        log = run_product(remote_host, short_home, options, "auto", "e2e-controlmaster")
        assert "ControlMaster" in log, log
    finally:
        stop = ["ssh", *remote_host.ssh_args(*options), "-O", "exit", "remote"]
        subprocess.run(stop, capture_output=True, timeout=30, check=False)
