"""``iterm2-autolaunch run -- ssh ...`` in a real pty, against the real sshd and Jupyter of tests/remote_host.py.

The wrapper runs as its own process inside a pseudo-terminal that the test drives like a person at a
terminal (tests/pty_session.py): it types, resizes the window, presses Ctrl-C. ssh goes to the "remote"
network namespace; the remote shares this machine's filesystem, so the tests write launch scripts and
Jupyter config there and read back files that vi wrote. The browser is a small recording command set in the
wrapper's config (XDG_CONFIG_HOME). Every wait is bounded; none is a pass condition by itself.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import termios
import time
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar
from urllib.parse import urlsplit

import pytest

from iterm2_autolaunch.lines import bytes_to_lines
from iterm2_autolaunch.marker import remote_config_line
from tests.browser_pages import recorder
from tests.conftest import require
from tests.pty_session import PtySession
from tests.remote_host import jupyter_env

if TYPE_CHECKING:
    from tests.remote_host import RemoteHost

pytest_plugins = ["tests.remote_host"]

T = TypeVar("T")
JUPYTER_START = 90.0  # a loaded 2-core machine can be slow to start JupyterLab; a pass never waits this long
AFTER_JUPYTER = 7  # the launch scripts exit with this after Jupyter stops: what ssh, then the wrapper, return
# A browser that only records the URL it was given (argv: log file, URL).
RECORDER = recorder(append=True)


def wait_until(check: Callable[[], T | None], what: str, timeout: float, term: PtySession | None = None) -> T:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline or (term is not None and term.proc.poll() is not None and not check()):
            tail = f"\nterminal output tail:\n{term.text()[-3000:]}" if term is not None else ""
            raise AssertionError(f"timed out waiting for {what}{tail}")
        time.sleep(0.05)


def port_closed(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return False
    except OSError:
        return True


class Wrapper:
    """What one test needs to run the wrapper: its config dir, its browser log, its argv."""

    def __init__(self, host: RemoteHost, workdir: Path, identity: str | None = None) -> None:
        self.host = host
        self.workdir = workdir
        self.browser_log = workdir / "browser.log"
        self.identity = identity
        config_dir = workdir / "xdg" / "iterm2-autolaunch"
        config_dir.mkdir(parents=True)
        lines = [f"browser = {json.dumps([sys.executable, '-c', RECORDER, str(self.browser_log)])}"]
        if identity:
            lines.append(f'marker_identity = "{identity}"')
        (config_dir / "config.toml").write_text("\n".join(lines) + "\n")
        (config_dir / "config.toml").chmod(0o600)
        (workdir / "home").mkdir()
        self.env = {
            key: value for key, value in os.environ.items() if key not in ("BROWSER", "SSH_AUTH_SOCK", "DISPLAY")
        }
        self.env.update(
            XDG_CONFIG_HOME=str(workdir / "xdg"), HOME=str(workdir / "home"), TERM="xterm", LANG="C.UTF-8"
        )

    def ssh(self, *remote_command: str) -> list[str]:
        return ["ssh", *self.host.ssh_args("-tt"), "remote", *remote_command]

    def argv(self, *remote_command: str) -> list[str]:
        return [sys.executable, "-m", "iterm2_autolaunch", "run", "--", *self.ssh(*remote_command)]

    def start(self, *remote_command: str, direct: bool = False, rows: int = 24, columns: int = 80) -> PtySession:
        """The wrapper running ``ssh ... remote CMD`` in a new pty (or, ``direct``, ssh itself)."""
        argv = self.ssh(*remote_command) if direct else self.argv(*remote_command)
        return PtySession(argv, env=self.env, rows=rows, columns=columns)

    def opened(self) -> list[str]:
        return self.browser_log.read_text().split() if self.browser_log.exists() else []

    def remote_config(self) -> str:
        """What ``iterm2-autolaunch remote-config`` prints with this wrapper's config."""
        proc = subprocess.run(
            [sys.executable, "-m", "iterm2_autolaunch", "remote-config"],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
        return proc.stdout


def jupyter_launcher(
    host: RemoteHost,
    workdir: Path,
    port: int,
    *,
    token: str | None = None,
    server_config: str = "",
    quiet: bool = False,
) -> Path:
    """A script (on the shared filesystem) that runs JupyterLab in the remote namespace, as a user would by
    typing ``jupyter lab``, with its own config, data and runtime dirs; it exits with AFTER_JUPYTER after.
    ``token`` goes in through the environment (so no command line carries it); without it Jupyter makes one
    and prints it. With ``server_config`` Jupyter runs the browser it names (no --no-browser)."""
    home = workdir / "jhome"
    env = jupyter_env(home)
    # Ctrl-C goes to the whole foreground group: like an interactive shell, the script outlives it.
    lines = ["#!/bin/sh", "trap : INT", *(f"export {key}={shlex.quote(value)}" for key, value in env.items())]
    if token:
        (workdir / "token").write_text(token)
        (workdir / "token").chmod(0o600)
        lines.append(f"export JUPYTER_TOKEN=$(cat {shlex.quote(str(workdir / 'token'))})")
    if server_config:
        (home / "config" / "jupyter_server_config.py").write_text(server_config)
    argv = [
        str(Path(sys.executable).parent / "jupyter-lab"),
        "--allow-root",
        "--ip=127.0.0.1",
        f"--port={port}",
        "--ServerApp.port_retries=0",
        f"--ServerApp.root_dir={host.jupyter_root}",
    ]
    if not server_config:
        argv.append("--no-browser")
    if quiet:  # no "is running at" lines: the marker is the only announcement
        argv.append("--ServerApp.log_level=WARN")
    lines += [shlex.join(argv), 'echo "jupyter exited $?"', f"exit {AFTER_JUPYTER}"]
    script = workdir / "jupyter.sh"
    script.write_text("\n".join(lines) + "\n")
    script.chmod(0o755)
    return script


def runtime_token(workdir: Path) -> str | None:
    for info in (workdir / "jhome" / "runtime").glob("jpserver-*.json"):
        token = json.loads(info.read_text()).get("token")
        if token:
            return str(token)
    return None


def stop_jupyter(term: PtySession) -> None:
    """Ctrl-C, then answer Jupyter's question with y."""
    term.send(b"\x03")
    term.expect(rb"\(y/\[n\]\)\? ", timeout=15)
    term.send(b"y\r")


def wrapper_log(term: PtySession) -> list[str]:
    """The wrapper's own log lines in the terminal output."""
    return [line for line in bytes_to_lines([term.output()]) if " iterm2_autolaunch." in line]


@pytest.fixture
def workdir(remote_host: RemoteHost) -> Iterator[Path]:
    # Inside the remote host's work dir: the remote (same filesystem) reads it; short enough for sockets.
    path = Path(tempfile.mkdtemp(prefix="w", dir=remote_host.workdir))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def wrapper(remote_host: RemoteHost, workdir: Path) -> Wrapper:
    require(shutil.which("ssh") is not None, "needs the OpenSSH client")
    return Wrapper(remote_host, workdir)


# ------------------------------------------------------------------------------------- terminal behaviour


@pytest.mark.root
def test_typing_reaches_the_remote_and_the_terminal_is_raw_then_restored(wrapper: Wrapper) -> None:
    with wrapper.start("echo READY; exec cat") as term:
        before = termios.tcgetattr(term.master)
        term.expect(r"READY\r\n")
        lflag = termios.tcgetattr(term.master)[3]
        assert not lflag & (termios.ICANON | termios.ECHO | termios.ISIG), "the wrapper's terminal is not raw"
        term.send("hello typed ✓\r")
        term.expect("hello typed ✓\r\nhello typed ✓\r\n")  # the remote terminal's echo, then cat's copy
        term.send(b"\x04")
        assert term.wait() == 0
        assert termios.tcgetattr(term.master) == before, "the terminal modes were not restored"


@pytest.mark.root
def test_vi_over_ssh_edits_a_remote_file(wrapper: Wrapper, workdir: Path) -> None:
    require(shutil.which("vi") is not None, "needs vi (apt-get install vim-tiny)")
    target = workdir / "edited.txt"
    with wrapper.start("vi", "-u", "NONE", "-i", "NONE", "-n", str(target)) as term:
        term.expect(r"edited\.txt", timeout=20)  # vi drew its screen (the file name in the status line)
        term.send("ihello from vi\x1b")
        term.send(":wq\r")
        assert term.wait() == 0
        assert target.read_text() == "hello from vi\n"
        # It really was full-screen: vi switched to the alternate screen and back, through the wrapper.
        assert b"\x1b[?1049h" in term.output() and b"\x1b[?1049l" in term.output()


@pytest.mark.root
def test_window_size_follows_the_terminal(wrapper: Wrapper) -> None:
    with wrapper.start("echo READY; while read line; do stty size; done", rows=24, columns=80) as term:
        term.expect(r"READY\r\n")
        term.send("\r")
        term.expect(r"\r\n24 80\r\n")
        term.set_size(37, 101)

        def resized() -> bool:
            term.send("\r")  # ask again: the resize reaches the remote asynchronously
            return b"\r\n37 101\r\n" in term.output()

        wait_until(resized, "stty size to report 37 101 over ssh", 15, term)
        term.send(b"\x04")
        assert term.wait() == 0


@pytest.mark.root
@pytest.mark.parametrize(
    ("command", "keys"),
    [
        pytest.param(("exit 3",), b"", id="exit-3"),
        pytest.param(("echo READY; exec cat",), b"\x03", id="ctrl-c-to-the-remote"),
    ],
)
def test_exit_status_is_ssh_s(wrapper: Wrapper, command: Sequence[str], keys: bytes) -> None:
    statuses = []
    for direct in (True, False):
        with wrapper.start(*command, direct=direct) as term:
            if keys:
                term.expect(r"READY\r\n")
                term.send(keys)
            statuses.append(term.wait())
    assert statuses[1] == statuses[0], f"wrapper returned {statuses[1]}, ssh alone {statuses[0]}"
    if command == ("exit 3",):
        assert statuses == [3, 3]


# ------------------------------------------------------------------------------------------------- Jupyter


@pytest.mark.root
def test_jupyter_start_line_opens_the_forwarded_url(wrapper: Wrapper, workdir: Path) -> None:
    launcher = jupyter_launcher(wrapper.host, workdir, 8901)
    with wrapper.start(str(launcher)) as term:
        url = wait_until(lambda: next(iter(wrapper.opened()), None), "the browser to be opened", JUPYTER_START, term)
        token = runtime_token(workdir)
        assert token
        port = urlsplit(url).port
        assert port is not None
        assert url == f"http://localhost:{port}/lab?token={token}"
        with urllib.request.urlopen(url, timeout=20) as response:  # noqa: S310 - our own forward
            assert response.status == 200
            assert b"JupyterLab" in response.read()

        stop_jupyter(term)
        term.expect(r"Shutdown confirmed", timeout=15)
        stopped = time.monotonic()
        wait_until(lambda: port_closed(port), f"the forward on port {port} to close", 5.0, term)
        assert time.monotonic() - stopped < 5.0
        assert term.wait() == AFTER_JUPYTER
        assert wrapper.opened() == [url]
        log = wrapper_log(term)
        assert any("forward closed" in line and "server stopped" in line for line in log), log
        assert not any(token in line for line in log), "a log line shows the token"


@pytest.mark.root
def test_invisible_marker_from_real_jupyter_opens_the_browser(remote_host: RemoteHost, workdir: Path) -> None:
    identity = secrets.token_urlsafe(24)
    wrapper = Wrapper(remote_host, workdir, identity)
    token = secrets.token_hex(24)
    config_line = wrapper.remote_config()
    assert config_line.strip() == remote_config_line(identity)
    launcher = jupyter_launcher(remote_host, workdir, 8902, token=token, server_config=config_line, quiet=True)
    with wrapper.start(str(launcher)) as term:
        url = wait_until(lambda: next(iter(wrapper.opened()), None), "the browser to be opened", JUPYTER_START, term)
        port = urlsplit(url).port
        assert url == f"http://localhost:{port}/lab?token={token}"
        with urllib.request.urlopen(url, timeout=20) as response:  # noqa: S310 - our own forward
            assert response.status == 200
        output = term.output()
        # The wrapper passed the sequence through untouched, and nothing visible carried the URL.
        assert f"\x1b]1337;Custom=id={identity}:http://127.0.0.1:8902/lab?token={token}\x07".encode() in output
        assert not any(token in line for line in bytes_to_lines([output]))
        stop_jupyter(term)
        assert term.wait() == AFTER_JUPYTER
        assert port is not None and port_closed(port)
        assert wrapper.opened() == [url]


@pytest.mark.root
def test_marker_with_a_forged_identity_opens_nothing(remote_host: RemoteHost, workdir: Path) -> None:
    wrapper = Wrapper(remote_host, workdir, secrets.token_urlsafe(24))
    forged = secrets.token_urlsafe(24)
    launcher = jupyter_launcher(
        remote_host, workdir, 8903, token=secrets.token_hex(24), server_config=remote_config_line(forged), quiet=True
    )
    with wrapper.start(str(launcher)) as term:
        term.expect(re.escape(f"\x1b]1337;Custom=id={forged}:http://127.0.0.1:8903/lab?token="), JUPYTER_START)
        term.expect(r"a marker with an unknown identity was ignored", timeout=10)
        stop_jupyter(term)
        assert term.wait() == AFTER_JUPYTER
    assert wrapper.opened() == []
    assert not any("forward up" in line or "opening" in line for line in wrapper_log(term))
