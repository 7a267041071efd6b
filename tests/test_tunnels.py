"""Tunnel backends against a real sshd and a real JupyterLab in network namespaces (tests/remote_host.py).

Traffic goes only to loopback and the test namespaces. Every wait is bounded; nothing sleeps a fixed time as
a pass condition.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from iterm2_autolaunch.errors import ConfigError, HostKeyError, PortTaken, TunnelError
from iterm2_autolaunch.sshcmd import parse_hop
from iterm2_autolaunch.target import ForwardSpec, SshTarget
from iterm2_autolaunch.tunnels.base import Backend, Forward
from iterm2_autolaunch.tunnels.openssh_backend import MasterForward, OpenSshBackend, has_live_master
from iterm2_autolaunch.tunnels.openssh_child import ChildForward
from iterm2_autolaunch.tunnels.registry import choose_backend, make_backend
from iterm2_autolaunch.tunnels.ssh_connect import jump_chain
from iterm2_autolaunch.tunnels.sshtunnel_backend import SshtunnelBackend, SshtunnelForward
from tests.remote_host import free_port, http_get

if TYPE_CHECKING:
    from tests.remote_host import RemoteHost

BACKENDS: dict[str, Callable[[], Backend]] = {"sshtunnel": SshtunnelBackend, "openssh": OpenSshBackend}


# --- helpers ---------------------------------------------------------------------------------------------
def api_version(port: int) -> str:
    status, body = http_get(port, "/api")
    assert status == 200, body[:200]
    return str(json.loads(body)["version"])


def port_refuses(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            return False
    except ConnectionRefusedError:
        return True


def listen_addresses(port: int) -> set[str]:
    """Local addresses listening on TCP ``port`` (from /proc/net/tcp and tcp6)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            addr, port_hex = fields[1].rsplit(":", 1)
            if int(port_hex, 16) == port and fields[3] == "0A":
                found.add(addr)
    return found


def spec_for(host: RemoteHost, target: SshTarget, local_port: int | None = None) -> ForwardSpec:
    port = free_port() if local_port is None else local_port
    return ForwardSpec(target, "127.0.0.1", host.jupyter_port, port)


@pytest.fixture
def opened() -> Iterator[list[Forward]]:
    """Forwards opened by a test; closed at the end even if the test fails."""
    forwards: list[Forward] = []
    yield forwards
    for forward in forwards:
        forward.close()


@pytest.fixture
def control_master(remote_host: RemoteHost, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A live OpenSSH ControlMaster to ``remote``, owned by the test (no -f: we keep and reap the process)."""
    control_path = str(tmp_path_factory.mktemp("cm", numbered=True) / "m")
    proc = subprocess.Popen(
        ["ssh", "-M", "-N", "-o", f"ControlPath={control_path}", "-o", "ControlPersist=no",
         *remote_host.ssh_args(), "remote"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    try:
        target = remote_host.target("remote", "-o", f"ControlPath={control_path}")
        deadline = time.monotonic() + 30
        while not has_live_master(target):
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
            assert time.monotonic() < deadline, "ControlMaster did not come up"
            time.sleep(0.02)
        yield control_path
    finally:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        if proc.stderr:
            proc.stderr.close()


# --- pure parts (no root) ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("hop", "expected"),
    [
        ("jump", ("jump", None, None)),
        ("alice@jump", ("jump", "alice", None)),
        ("alice@jump:2222", ("jump", "alice", 2222)),
        ("ssh://bob@[::1]:22", ("::1", "bob", 22)),
        ("[fe80::1]", ("fe80::1", None, None)),
    ],
    ids=["host", "user", "user-port", "uri-v6", "v6"],
)
def test_parse_proxyjump_hop(hop: str, expected: tuple[str, str | None, int | None]) -> None:
    assert parse_hop(hop) == expected


def test_jump_chain_resolves_each_hop_with_the_same_config_file() -> None:
    calls: list[tuple[str, tuple[str, ...]]] = []

    def resolve(host: str, args: tuple[str, ...]) -> SshTarget:
        calls.append((host, args))
        return SshTarget(destination=host, hostname=f"{host}.example", ssh_args=args)

    target = SshTarget(destination="d", hostname="d", proxy_jump="a,u@b:2200", ssh_args=("-F", "/c", "-v"))
    chain = jump_chain(target, resolve)
    assert [h.destination for h in chain] == ["a", "b"]
    assert calls == [("b", ("-F", "/c", "-l", "u", "-p", "2200")), ("a", ("-F", "/c"))]


def test_make_backend_names() -> None:
    assert make_backend("sshtunnel").name == "sshtunnel"
    assert make_backend("openssh").name == "openssh"
    with pytest.raises(ConfigError, match="allowed are auto, sshtunnel, openssh"):
        make_backend("putty")


# --- against the real host -------------------------------------------------------------------------------
@pytest.mark.root
@pytest.mark.parametrize("backend_name", list(BACKENDS))
def test_forward_reaches_jupyter_and_close_frees_port(jupyter: RemoteHost, backend_name: str) -> None:
    backend = BACKENDS[backend_name]()
    spec = spec_for(jupyter, jupyter.target())
    forward = backend.open(spec)
    try:
        assert forward.local_port == spec.local_port
        assert listen_addresses(spec.local_port) == {"0100007F"}  # 127.0.0.1 only
        assert api_version(forward.local_port)
        status, body = http_get(forward.local_port, "/files/hello.txt", jupyter.token)
        assert (status, body) == (200, b"hello from the test remote host\n")
        assert forward.is_alive()
    finally:
        t0 = time.monotonic()
        forward.close()
        forward.close()  # idempotent
        assert time.monotonic() - t0 < 2.0
    assert not forward.is_alive()
    assert port_refuses(spec.local_port)
    with socket.socket() as s:  # the port is free again for anyone
        s.bind(("127.0.0.1", spec.local_port))
    if isinstance(forward, SshtunnelForward):
        assert not [t.name for t in threading.enumerate() if t.name.startswith(f"ita-forward-{spec.local_port}")]


@pytest.mark.root
def test_auto_without_master_is_sshtunnel(remote_host: RemoteHost) -> None:
    assert choose_backend("auto", remote_host.target()).name == "sshtunnel"
    assert choose_backend("openssh", remote_host.target()).name == "openssh"


@pytest.mark.root
def test_controlmaster_forward_and_cancel(jupyter: RemoteHost, control_master: str) -> None:
    target = jupyter.target("remote", "-o", f"ControlPath={control_master}")
    backend = choose_backend("auto", target)
    assert isinstance(backend, OpenSshBackend)
    spec = spec_for(jupyter, target)
    forward = backend.open(spec)
    try:
        assert isinstance(forward, MasterForward)
        assert api_version(spec.local_port)
        assert listen_addresses(spec.local_port) == {"0100007F"}
        assert forward.is_alive()
    finally:
        forward.close()
    assert port_refuses(spec.local_port)  # -O cancel removed it from the master
    assert has_live_master(target)  # and the master itself lives on


@pytest.mark.root
def test_controlmaster_refusing_a_taken_port_is_port_taken(jupyter: RemoteHost, control_master: str) -> None:
    """The port is taken after the backend chose it: the master itself refuses (MUX_S_FAILURE over the control
    socket), and that is still PortTaken, which the engine retries on."""
    target = jupyter.target("remote", "-o", f"ControlPath={control_master}")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        forward = MasterForward(spec_for(jupyter, target, port), port, ["ssh"])
        with pytest.raises(PortTaken, match=f"127.0.0.1:{port}"):
            forward._open()
    assert has_live_master(target)


@pytest.mark.root
@pytest.mark.parametrize("backend_name", list(BACKENDS))
def test_proxyjump_to_inner_host(jupyter: RemoteHost, backend_name: str, opened: list[Forward]) -> None:
    target = jupyter.target("inner")
    assert target.proxy_jump == "jump"
    forward = BACKENDS[backend_name]().open(spec_for(jupyter, target))
    opened.append(forward)
    assert api_version(forward.local_port)
    if isinstance(forward, SshtunnelForward):  # two transports: to jump, and to inner through it
        assert len(forward._chain) == 2
        assert forward._chain[0].getpeername()[0] == jupyter.jump_addr


@pytest.mark.root
@pytest.mark.parametrize("backend_name", list(BACKENDS))
def test_changed_host_key_is_refused(remote_host: RemoteHost, backend_name: str) -> None:
    wrong = remote_host.write_known_hosts("known_hosts_wrong", wrong_key=True)
    target = remote_host.target("remote", "-o", f"UserKnownHostsFile={wrong}")
    with pytest.raises(HostKeyError) as info:
        BACKENDS[backend_name]().open(spec_for(remote_host, target))
    message = str(info.value)
    assert remote_host.addr in message and str(wrong) in message, message


@pytest.mark.root
@pytest.mark.parametrize("backend_name", list(BACKENDS))
def test_unknown_host_is_refused(remote_host: RemoteHost, backend_name: str) -> None:
    empty = remote_host.write_known_hosts("known_hosts_empty", wrong_key=False)
    target = remote_host.target("remote", "-o", f"UserKnownHostsFile={empty}")
    with pytest.raises(HostKeyError) as info:
        BACKENDS[backend_name]().open(spec_for(remote_host, target))
    message = str(info.value)
    assert remote_host.addr in message and str(empty) in message, message
    assert empty.read_text() == ""


@pytest.mark.root
def test_changed_key_of_jump_host_is_refused(remote_host: RemoteHost) -> None:
    wrong = remote_host.write_known_hosts("known_hosts_wrong", wrong_key=True)
    # ProxyJump hops are resolved with the same -F file only (as OpenSSH does), so pin the file in the config
    config = remote_host.workdir / "ssh_config_wrong"
    config.write_text(remote_host.ssh_config.read_text().replace(str(remote_host.known_hosts), str(wrong)))
    inner = remote_host.target("inner", "-F", str(config))
    with pytest.raises(HostKeyError, match=remote_host.jump_addr.replace(".", r"\.")):
        SshtunnelBackend().open(spec_for(remote_host, inner))


@pytest.mark.root
def test_accept_new_adds_unknown_key_and_connects(jupyter: RemoteHost, opened: list[Forward]) -> None:
    fresh = jupyter.write_known_hosts("known_hosts_accept_new", wrong_key=False)
    target = jupyter.target(
        "remote", "-o", f"UserKnownHostsFile={fresh}", "-o", "StrictHostKeyChecking=accept-new"
    )
    assert target.strict_host_key_checking == "accept-new"
    forward = SshtunnelBackend().open(spec_for(jupyter, target))
    opened.append(forward)
    assert api_version(forward.local_port)
    assert fresh.read_text().startswith(f"{jupyter.addr} ssh-ed25519 ")


@pytest.mark.root
@pytest.mark.parametrize("backend_name", list(BACKENDS))
def test_auth_failure_is_a_clear_tunnel_error(remote_host: RemoteHost, backend_name: str) -> None:
    key = remote_host.workdir / "unauthorised_key"
    if not key.exists():
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    # a command-line -i adds to the config's IdentityFile; a fresh config with only this key replaces it
    config = remote_host.workdir / "ssh_config_badkey"
    config.write_text(remote_host.ssh_config.read_text().replace(str(remote_host.client_key), str(key)))
    target = remote_host.target("remote", "-F", str(config))
    with pytest.raises(TunnelError, match="Permission denied") as info:
        BACKENDS[backend_name]().open(spec_for(remote_host, target))
    assert not isinstance(info.value, HostKeyError)


@pytest.mark.root
@pytest.mark.parametrize("backend_name", list(BACKENDS))
def test_local_port_taken_is_a_clear_error(remote_host: RemoteHost, backend_name: str) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        # PortTaken by type (the engine retries on it), never told apart by ssh's message text
        with pytest.raises(PortTaken, match=f"127.0.0.1:{port}"):
            BACKENDS[backend_name]().open(spec_for(remote_host, remote_host.target(), port))


@pytest.mark.root
def test_transport_killed_forward_comes_back_on_same_port(jupyter: RemoteHost, opened: list[Forward]) -> None:
    forward = SshtunnelBackend().open(spec_for(jupyter, jupyter.target()))
    opened.append(forward)
    assert isinstance(forward, SshtunnelForward)
    port = forward.local_port
    assert api_version(port)
    transport = forward._transport_now()
    client_port = transport.sock.getsockname()[1]
    killed = jupyter.kill_connection(client_port)
    assert killed, "no sshd process found for our SSH connection"
    t0 = time.monotonic()
    last_error: Exception | None = None
    while time.monotonic() - t0 < 10:
        try:
            if api_version(port):
                break
        except (OSError, AssertionError, ValueError) as e:
            last_error = e
        time.sleep(0.02)
    else:
        pytest.fail(f"forward did not answer again within 10 s: {last_error!r}")
    assert forward.local_port == port  # how fast it came back: benchmarks/bench_tunnel.py reconnect_ms
    assert forward._transport_now() is not transport and not transport.is_active()


@pytest.mark.root
@pytest.mark.slow
def test_aborted_downloads_do_not_kill_the_transport(jupyter: RemoteHost, opened: list[Forward]) -> None:
    """paramiko #1157/#2271: without the PosixPipe guard the transport dies after some tens of aborts."""
    forward = SshtunnelBackend().open(spec_for(jupyter, jupyter.target()))
    opened.append(forward)
    assert isinstance(forward, SshtunnelForward)
    transport = forward._transport_now()
    request = (
        f"GET /files/{jupyter.big_file} HTTP/1.1\r\nHost: 127.0.0.1:{forward.local_port}\r\n"
        f"Authorization: token {jupyter.token}\r\n\r\n"
    ).encode()
    deadline = time.monotonic() + 120
    for i in range(1000):
        assert time.monotonic() < deadline, f"too slow: {i} aborted downloads in 120 s"
        with socket.create_connection(("127.0.0.1", forward.local_port), timeout=10) as s:
            s.sendall(request)
            want = 16384 + (i % 8) * 32768  # vary where the abort lands
            got = 0
            while got < want:
                chunk = s.recv(65536)
                if not chunk:
                    break
                got += len(chunk)
        assert transport.is_active(), f"the SSH transport died after {i + 1} aborted downloads"
    assert forward._transport_now() is transport, "the watchdog had to reconnect: the transport died"
    assert api_version(forward.local_port)


@pytest.mark.root
def test_jupyter_stop_and_start(jupyter: RemoteHost, opened: list[Forward]) -> None:
    """The host can stop and restart Jupyter (engine tests need "server stopped")."""
    forward = SshtunnelBackend().open(spec_for(jupyter, jupyter.target()))
    opened.append(forward)
    assert api_version(forward.local_port)
    jupyter.stop_jupyter()
    assert not jupyter.jupyter_running()
    with pytest.raises((OSError, ValueError)):
        http_get(forward.local_port, "/api", timeout=5)  # the forward is up, the server behind it is not
    assert forward.is_alive()
    jupyter.start_jupyter()
    assert api_version(forward.local_port)


# --- the user's own forwards, and a child that dies (issue 12) ------------------------------------------
def config_with_user_forwards(host: RemoteHost, directory: Path, *lines: str) -> Path:
    """The test ssh_config with the user's own forward lines under ``Host remote``."""
    config = directory / "ssh_config_forwards"
    extra = "".join(f"  {line}\n" for line in lines)
    config.write_text(host.ssh_config.read_text().replace("Host remote\n", f"Host remote\n{extra}", 1))
    return config


@pytest.mark.root
def test_openssh_child_ignores_the_users_forwards(jupyter: RemoteHost, tmp_path: Path,
                                                  opened: list[Forward]) -> None:
    """The user's session holds its LocalForward port; with ExitOnForwardFailure our ssh used to die on it."""
    with socket.socket() as users_session:
        users_session.bind(("127.0.0.1", 0))
        users_session.listen()
        taken = users_session.getsockname()[1]
        dynamic = free_port()
        config = config_with_user_forwards(jupyter, tmp_path, f"LocalForward 127.0.0.1:{taken} 127.0.0.1:8888",
                                           f"DynamicForward 127.0.0.1:{dynamic}")
        forward = OpenSshBackend().open(spec_for(jupyter, jupyter.target("remote", "-F", str(config))))
        opened.append(forward)
        assert api_version(forward.local_port)
        assert port_refuses(dynamic), "our ssh opened the user's DynamicForward"


@pytest.mark.root
def test_cancel_on_the_users_master_leaves_their_forwards(jupyter: RemoteHost, tmp_path: Path) -> None:
    users_port = free_port()
    config = config_with_user_forwards(jupyter, tmp_path, f"LocalForward 127.0.0.1:{users_port} 127.0.0.1:8888")
    control_path = str(tmp_path / "m")
    master = subprocess.Popen(
        ["ssh", "-M", "-N", "-F", str(config), "-o", f"ControlPath={control_path}", "-o", "ControlPersist=no",
         "remote"], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        target = jupyter.target("remote", "-F", str(config), "-o", f"ControlPath={control_path}")
        deadline = time.monotonic() + 30
        while not has_live_master(target):
            assert master.poll() is None and time.monotonic() < deadline, "ControlMaster did not come up"
            time.sleep(0.02)
        assert api_version(users_port)
        forward = OpenSshBackend().open(spec_for(jupyter, target))
        assert isinstance(forward, MasterForward)
        assert api_version(forward.local_port)
        forward.close()
        assert port_refuses(forward.local_port)
        assert api_version(users_port), "closing our forward took the user's LocalForward off their master"
    finally:
        master.terminate()
        master.wait(5)


@pytest.mark.root
def test_openssh_child_that_dies_is_restarted_on_the_same_port(jupyter: RemoteHost, opened: list[Forward]) -> None:
    forward = OpenSshBackend().open(spec_for(jupyter, jupyter.target()))
    opened.append(forward)
    assert isinstance(forward, ChildForward)
    port = forward.local_port
    first = forward.child_pid()
    assert first is not None and api_version(port)
    os.kill(first, signal.SIGKILL)
    deadline = time.monotonic() + 20
    while True:
        try:
            if forward.child_pid() not in (None, first) and api_version(port):
                break
        except (OSError, AssertionError, ValueError):
            pass
        assert time.monotonic() < deadline, f"no new ssh child answering on {port}: {forward.last_error}"
        time.sleep(0.05)
    assert forward.is_alive() and forward.restarts == 1
    forward.close()
    assert not forward.is_alive() and port_refuses(port)


@pytest.mark.root
def test_openssh_child_is_not_restarted_against_a_changed_host_key(jupyter: RemoteHost, tmp_path: Path,
                                                                   opened: list[Forward]) -> None:
    known = tmp_path / "known_hosts"
    known.write_text(jupyter.known_hosts.read_text())
    config = tmp_path / "ssh_config"
    config.write_text(jupyter.ssh_config.read_text().replace(str(jupyter.known_hosts), str(known)))
    forward = OpenSshBackend().open(spec_for(jupyter, jupyter.target("remote", "-F", str(config))))
    opened.append(forward)
    assert isinstance(forward, ChildForward)
    first = forward.child_pid()
    assert first is not None and api_version(forward.local_port)
    known.write_text(jupyter.write_known_hosts("known_hosts_wrong", wrong_key=True).read_text())
    os.kill(first, signal.SIGKILL)
    deadline = time.monotonic() + 20
    while not isinstance(forward.last_error, HostKeyError):
        assert time.monotonic() < deadline, f"no host key refusal after the restart: {forward.last_error!r}"
        time.sleep(0.05)
    assert not forward.is_alive() and forward.restarts == 0
    assert port_refuses(forward.local_port)
    watcher = forward._watcher
    assert watcher is not None
    watcher.join(5)
    assert not watcher.is_alive(), "still retrying against a refused host key"
