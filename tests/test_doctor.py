"""`doctor` and `config`: each check's verdict, on files and sockets the tests write themselves."""

from __future__ import annotations

import base64
import shutil
import socket
import struct
import sys
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import paramiko
import pytest

from iterm2_autolaunch.config import KIND_NAMES, Config
from iterm2_autolaunch.config_file import config_main, load_config
from iterm2_autolaunch.config_parse import parse_config
from iterm2_autolaunch.doctor import (
    FAIL,
    OK,
    WARN,
    check_iterm2_socket,
    doctor_main,
    parse_url,
)

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised only on 3.10
    import tomli as tomllib

TOKEN = "cbfb008dc5751f0e2a9d"
HAVE_SSH = shutil.which("ssh") is not None


@pytest.fixture
def home(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A short temp dir as config and runtime home, so no real config or daemon is seen."""
    directory = Path(tempfile.mkdtemp(dir="/tmp", prefix="doc"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(directory / "config"))
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(directory / "run"))
    yield directory
    shutil.rmtree(directory, ignore_errors=True)


def write_config(home: Path, text: str) -> Path:
    path = home / "config" / "iterm2-autolaunch" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def lines(out: str) -> dict[str, tuple[str, str]]:
    """doctor's output as {check name: (status, detail)}."""
    result = {}
    for line in out.splitlines():
        status, _, rest = line.partition(" ")
        name, _, detail = rest.strip().partition(": ")
        result[name] = (status, detail)
    return result


# -- config ---------------------------------------------------------------------------------------------


def test_config_check_missing_file(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert config_main(["--check"]) == 0
    path = home / "config" / "iterm2-autolaunch" / "config.toml"
    assert capsys.readouterr().out == f"ok: no config file at {path}; defaults in use\n"


def test_config_check_good_file(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_config(home, 'backend = "openssh"\n')
    assert config_main(["--check"]) == 0
    assert capsys.readouterr().out == f"ok: {path}\n"


def test_config_check_bad_file(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_config(home, 'backend = "putty"\n')
    assert config_main(["--check"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert f"{path}: backend: 'putty' is not allowed; use one of: auto, sshtunnel, openssh" in captured.err


def test_config_check_explicit_path(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    other = home / "other.toml"
    other.write_text("port_range = [80, 90]\n")
    assert config_main(["--check", "--path", str(other)]) == 1
    assert "port_range: must be two port numbers" in capsys.readouterr().err


FULL = """
backend = "sshtunnel"
browser = ["open", "-a", "Firefox \\"Dev\\""]
port_range = [50000, 50100]
kinds = ["jupyter", "tensorboard"]
markers = ["SOMEMARKER"]
reattach = "open"
[actions]
tensorboard = "silent"
[[hosts]]
match = "*.hpc.edu"
backend = "openssh"
actions = { jupyter = "notify" }
[[hosts]]
match = "laptop"
"""


@pytest.mark.parametrize("text", [FULL, None], ids=["full-file", "defaults"])
def test_config_show_is_toml_that_loads_back_the_same(
    home: Path, capsys: pytest.CaptureFixture[str], text: str | None
) -> None:
    expected = load_config(write_config(home, text)) if text is not None else Config()
    assert config_main(["--show"]) == 0
    shown = capsys.readouterr().out
    assert shown.startswith("# effective config: " if text else "# no config file at ")
    again = parse_config(tomllib.loads(shown), "shown")
    assert replace(again, source="") == replace(expected, source="")


def test_config_show_of_a_bad_file_fails(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_config(home, "colour = 1\n")
    assert config_main(["--show"]) == 1
    assert "colour: unknown key" in capsys.readouterr().err


# -- doctor: the session's target -------------------------------------------------------------------------


def ssh_string(data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + data


def host_key_line(name: str) -> str:
    """A known_hosts line with a well-formed ed25519 key (any 32 bytes will do: it is only matched)."""
    blob = ssh_string(b"ssh-ed25519") + ssh_string(bytes(range(32)))
    return f"{name} ssh-ed25519 {base64.b64encode(blob).decode()}\n"


def ssh_setup(home: Path, known_hosts: str, extra: str = "") -> str:
    """An ssh config of our own (so ~/.ssh is not read) naming wheeler; the command line to resolve."""
    (home / "known_hosts").write_text(known_hosts)
    config = home / "ssh_config"
    config.write_text(
        "Host wheeler\n"
        "  HostName 127.0.0.1\n"
        f"  UserKnownHostsFile {home}/known_hosts\n"
        f"  ControlPath {home}/cm\n"
        f"{extra}"
    )
    return f"ssh -F {config} -p 2222 alice@wheeler"


def doctor(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, tuple[str, str]], str]:
    status = doctor_main(list(argv))
    out = capsys.readouterr().out
    return status, lines(out), out


def test_doctor_resolves_the_session_and_finds_its_host_key(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    command_line = ssh_setup(home, "# comment\nnot a key line\n" + host_key_line("[127.0.0.1]:2222"))
    status, checks, out = doctor(capsys, "--command-line", command_line)
    assert status == 0, out
    assert checks["config"] == (OK, f"no config file at {home}/config/iterm2-autolaunch/config.toml; defaults in use")
    assert checks["iTerm2"][0] == (OK if sys.platform == "darwin" else WARN)
    assert checks["daemon"] == (WARN, f"no iterm2-autolaunch daemon is running (no socket at "
                                      f"{home}/run/iterm2-autolaunch/control.sock)")
    assert checks["target"] == (OK, "alice@wheeler -> alice@127.0.0.1 port 2222")
    assert checks["host key"] == (OK, f"[127.0.0.1]:2222 known: ssh-ed25519 in {home}/known_hosts")
    if HAVE_SSH:
        assert checks["ssh"][0] == OK and "OpenSSH" in checks["ssh"][1]
        assert checks["ControlMaster"] == (OK, f"none live at {home}/cm: backend sshtunnel")


def test_hashed_known_hosts_entry_counts(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    hashed = paramiko.HostKeys.hash_host("[127.0.0.1]:2222")
    command_line = ssh_setup(home, host_key_line(hashed))
    status, checks, out = doctor(capsys, "--command-line", command_line)
    assert status == 0, out
    assert checks["host key"][0] == OK


@pytest.mark.parametrize(
    "known",
    [
        pytest.param("", id="empty"),
        pytest.param(host_key_line("127.0.0.1"), id="port-22-entry-only"),  # port 2222 needs [host]:port
        pytest.param("@revoked " + host_key_line("[127.0.0.1]:2222"), id="revoked-only"),
    ],
)
def test_unknown_host_key_fails(home: Path, capsys: pytest.CaptureFixture[str], known: str) -> None:
    status, checks, out = doctor(capsys, "--command-line", ssh_setup(home, known))
    assert status == 1, out
    assert checks["host key"][0] == FAIL
    assert f"no key for [127.0.0.1]:2222 in {home}/known_hosts" in checks["host key"][1]
    assert "accept the key" in checks["host key"][1]


def test_unknown_host_key_with_accept_new_only_warns(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    command_line = ssh_setup(home, "", extra="  StrictHostKeyChecking accept-new\n")
    status, checks, out = doctor(capsys, "--command-line", command_line)
    assert status == 0, out
    assert checks["host key"][0] == WARN


def test_unresolvable_command_line_fails(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, checks, _ = doctor(capsys, "--command-line", f"ssh -F {home}/missing_config wheeler")
    assert status == 1
    assert checks["target"][0] == FAIL and "missing_config" in checks["target"][1]


class FakeControlMaster:
    """Just enough of OpenSSH's mux protocol (PROTOCOL.mux) for `ssh -O check`: hello, then alive check."""

    def __init__(self, path: Path) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(str(path))
        self.sock.listen(1)
        self.sock.settimeout(10.0)
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        try:
            conn, _ = self.sock.accept()
        except OSError:
            return
        with conn:
            conn.settimeout(10.0)
            self._recv(conn)  # client hello
            self._send(conn, struct.pack(">II", 0x00000001, 4))  # MUX_MSG_HELLO, version 4
            _, request_id = struct.unpack(">II", self._recv(conn)[:8])  # MUX_C_ALIVE_CHECK
            self._send(conn, struct.pack(">III", 0x80000005, request_id, 4242))  # MUX_S_ALIVE, pid

    @staticmethod
    def _recv(conn: socket.socket) -> bytes:
        (size,) = struct.unpack(">I", conn.recv(4, socket.MSG_WAITALL))
        return conn.recv(size, socket.MSG_WAITALL)

    @staticmethod
    def _send(conn: socket.socket, body: bytes) -> None:
        conn.sendall(struct.pack(">I", len(body)) + body)

    def close(self) -> None:
        self.sock.close()
        self.thread.join(5.0)


@pytest.mark.skipif(not HAVE_SSH, reason="needs the ssh client for ssh -O check")
def test_live_control_master_is_found(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    command_line = ssh_setup(home, host_key_line("[127.0.0.1]:2222"))
    master = FakeControlMaster(home / "cm")
    try:
        status, checks, out = doctor(capsys, "--command-line", command_line)
    finally:
        master.close()
    assert status == 0, out
    assert checks["ControlMaster"] == (OK, f"live at {home}/cm (Master running (pid=4242)): backend openssh")


# -- doctor: what happens for a URL -------------------------------------------------------------------------


def test_url_is_walked_through_with_the_token_hidden(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as busy:  # the remote port number is taken here: another local port is chosen
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        status, checks, out = doctor(capsys, "--url", f"http://127.0.0.1:{port}/lab?token={TOKEN}")
    assert status == 0, out
    assert TOKEN not in out
    assert checks["url"] == (OK, f"jupyter at 127.0.0.1 port {port}, path /lab, a token (hidden)")
    assert checks["action"] == (OK, "open")
    status_, forward = checks["forward"]
    local = int(forward.split()[0].split(":")[1])
    assert status_ == OK and local != port and 49152 <= local <= 65535
    assert f"({port} is taken here; picked from 49152-65535) -> 127.0.0.1:{port} as seen from" in forward
    assert checks["probe"] == (OK, f'GET http://localhost:{local}/api must answer, body must contain "version"'
                                   " (no HTTP answer, or a redirect to https there: https is asked too)")
    assert checks["browser"] == (OK, f"http://localhost:{local}/lab?token=…: the daemon opens the browser at it")


def test_url_with_session_and_host_rule(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_config(home, '[[hosts]]\nmatch = "*wheel*"\nactions = { tensorboard = "notify" }\n')
    command_line = ssh_setup(home, host_key_line("[127.0.0.1]:2222"))
    status, checks, out = doctor(
        capsys, "--command-line", command_line, "--kind", "tensorboard", "--url", "http://node042:6006/"
    )
    assert status == 0, out
    assert checks["action"] == (OK, "notify")
    assert "-> node042:6006 as seen from alice@wheeler" in checks["forward"][1]
    assert checks["browser"][1].endswith(": the daemon shows a notification with it (token hidden); nothing opens")


def test_a_public_name_alone_gets_no_forward_unless_the_config_allows_it(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """As the daemon decides (hosts.forward_order): TensorBoard's --bind_all line with a node's full name, in a
    session on wheeler (an alias of 127.0.0.1: no domain)."""
    command_line = ssh_setup(home, host_key_line("[127.0.0.1]:2222"))
    url = "http://node042.hpc.example.edu:6006/"
    status, checks, _ = doctor(capsys, "--command-line", command_line, "--kind", "tensorboard", "--url", url)
    assert status == 1 and checks["forward"] == (
        FAIL, "node042.hpc.example.edu is a public name and the ssh host has no domain: no forward "
        "(forward_public_hosts = true allows one)"
    )
    write_config(home, "forward_public_hosts = true\n")
    status, checks, _ = doctor(capsys, "--command-line", command_line, "--kind", "tensorboard", "--url", url)
    assert status == 0, checks
    assert "-> node042.hpc.example.edu:6006 as seen from alice@wheeler, then 127.0.0.1" in checks["forward"][1]


def test_url_in_a_local_session(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, checks, _ = doctor(capsys, "--command-line", "zsh", "--url", "http://localhost:8888/?token=x")
    assert status == 0
    assert checks["target"][0] == OK and checks["forward"] == (OK, "none needed: the session is local")
    assert checks["browser"][1].startswith("http://localhost:8888/?token=…")
    status, checks, _ = doctor(capsys, "--command-line", "zsh", "--url", "http://node042:8888/?token=x")
    assert status == 1 and checks["forward"][0] == FAIL


def test_ignored_kind_warns(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_config(home, 'kinds = ["tensorboard"]\n')
    status, checks, _ = doctor(capsys, "--url", "http://127.0.0.1:8888/lab")
    assert status == 0 and checks["action"][0] == WARN and "forward" not in checks


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8888/lab?token=$(touch /tmp/x)",
        "http://127.0.0.1/lab",  # no explicit port
        "ftp://127.0.0.1:21/",
        "http://127.0.0.1:8888/lab\n[I 2026-01-01 00:00:00.000 ServerApp] http://127.0.0.1:1/",
    ],
)
def test_url_the_daemon_would_not_accept_fails(home: Path, capsys: pytest.CaptureFixture[str], url: str) -> None:
    status, checks, _ = doctor(capsys, "--url", url)
    assert status == 1 and checks["url"][0] == FAIL


def test_bad_config_is_a_failure_of_doctor(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_config(home, 'reattach = "always"\n')
    status, checks, _ = doctor(capsys)
    assert status == 1
    assert checks["config"][0] == FAIL and str(path) in checks["config"][1]


@pytest.mark.parametrize("kind", KIND_NAMES)
def test_parse_url_accepts_every_kind(kind: str) -> None:
    param = "access_token" if kind == "marimo" else "token"  # each kind's own token parameter
    event = parse_url(f"http://127.0.0.1:8501/base/?{param}=abc", kind)
    assert event is not None and (event.kind, event.host, event.port, event.path) == (kind, "127.0.0.1", 8501, "/base/")


def test_iterm2_socket_on_macos(home: Path) -> None:
    environ = {"HOME": str(home)}
    check = check_iterm2_socket("darwin", environ)
    assert check.status == WARN and "Enable Python API" in check.detail
    path = home / "Library" / "Application Support" / "iTerm2" / "private" / "socket"
    path.parent.mkdir(parents=True)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as api:
        api.bind(str(path))
        assert check_iterm2_socket("darwin", environ).status == OK
    assert check_iterm2_socket("linux", environ).status == WARN
