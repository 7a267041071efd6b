"""The real test remote host: OpenSSH ``sshd`` and JupyterLab inside Linux network namespaces (root only).

Layout, one private ``10.231.X.0/24`` per run, split in three /26 links::

    root ns  10.231.X.1   ── veth ──  10.231.X.2    "remote" ns: sshd (+ Jupyter on its 127.0.0.1:8888)
    root ns  10.231.X.65  ── veth ──  10.231.X.66   "jump" ns:   sshd
    jump ns  10.231.X.129 ── veth ──  10.231.X.130  "remote" ns again, seen as host "inner"

``inner`` is reachable only from the jump namespace: the root namespace gets an ``unreachable`` route for the
whole /24, so nothing addressed to the test subnet ever leaves the machine. The namespaces have no default
route: Jupyter and sshd can talk only to these addresses and their own loopback.

Client side, in the run's work directory: a key pair, a known_hosts file pinned to the test host keys and an
ssh_config with ``Host remote``, ``Host jump`` and ``Host inner`` (``ProxyJump jump``).

Use it as a pytest fixture module (``from tests.remote_host import remote_host``) or as a script::

    python tests/remote_host.py up DIR      # build everything, start Jupyter, leave it running
    python tests/remote_host.py down DIR    # kill everything and delete the namespaces

The state (namespace names, route, pids) is kept in ``DIR/state.json``, so ``down`` works from another process.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import itertools
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pytest  # noqa: E402

from iterm2_autolaunch.ports import any_free_port  # noqa: E402
from iterm2_autolaunch.resolve import resolve_target  # noqa: E402
from iterm2_autolaunch.sshcmd import parse_argv  # noqa: E402
from iterm2_autolaunch.target import SshTarget  # noqa: E402

SSHD = "/usr/sbin/sshd"
JUPYTER_PORT = 8888
BIG_FILE = "big.bin"
BIG_FILE_SIZE = 200 * 1024 * 1024
NS_PREFIX = "ita-"
_ALLOC_LOCK = "/run/ita-remote-host.lock"
_counter = itertools.count()


def _run(argv: list[str], *, check: bool = True, timeout: float = 20) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(
        argv, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout, check=False
    )
    if check and proc.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({proc.returncode}): {proc.stderr.strip()}")
    return proc


def _proc_gone(pid: int) -> bool:
    """True if ``pid`` no longer runs: missing from /proc or a zombie (PID 1 here reaps late)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return True
    return stat.rsplit(")", 1)[-1].split()[0] in ("Z", "X")


def _wait_gone(pids: list[int], timeout: float) -> list[int]:
    deadline = time.monotonic() + timeout
    alive = [p for p in pids if not _proc_gone(p)]
    while alive and time.monotonic() < deadline:
        time.sleep(0.02)
        alive = [p for p in alive if not _proc_gone(p)]
    return alive


def _signal(pids: list[int], sig: int) -> None:
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, sig)


def _ns_pids(ns: str) -> list[int]:
    proc = _run(["ip", "netns", "pids", ns], check=False, timeout=10)
    return [int(x) for x in proc.stdout.split() if x.isdigit()]


def _kill_namespace_processes(ns: str, timeout: float = 3.0) -> None:
    pids = _ns_pids(ns)
    _signal(pids, signal.SIGTERM)
    left = _wait_gone(pids, timeout)
    _signal(left, signal.SIGKILL)
    _wait_gone(left, 2.0)


@dataclass
class _State:
    """Everything ``down`` needs to undo ``up``; saved as JSON in the work directory."""

    workdir: str
    subnet: int
    namespaces: dict[str, str] = field(default_factory=dict)
    links: list[str] = field(default_factory=list)
    route: str = ""
    pids: dict[str, int] = field(default_factory=dict)

    def save(self) -> None:
        path = Path(self.workdir) / "state.json"
        path.write_text(json.dumps(self.__dict__, indent=1))

    @classmethod
    def load(cls, workdir: Path) -> _State:
        return cls(**json.loads((workdir / "state.json").read_text()))


def _teardown(state: _State) -> None:
    """Kill every process in the namespaces, delete namespaces, veths and the route. Bounded, idempotent."""
    for name in ("jupyter", "sshd-remote", "sshd-jump"):
        pid = state.pids.get(name)
        if pid and not _proc_gone(pid):
            _signal([pid], signal.SIGTERM)
    for pid in state.pids.values():
        _wait_gone([pid], 3.0)
    for ns in state.namespaces.values():
        if ns in _run(["ip", "netns", "list"], check=False).stdout:
            _kill_namespace_processes(ns)
            _run(["ip", "netns", "del", ns], check=False)
    for link in state.links:  # normally gone with their namespace peer
        if Path(f"/sys/class/net/{link}").exists():
            _run(["ip", "link", "del", link], check=False)
    if state.route:
        _run(["ip", "route", "del", *state.route.split()], check=False)
        state.route = ""
    state.pids.clear()
    with contextlib.suppress(OSError):
        state.save()


def cleanup_stale() -> None:
    """Delete what earlier runs left when they were killed (their owning process is dead): namespaces
    ``ita-<pid>-<n>-<role>``, their ``unreachable`` routes and work directories ``/tmp/ita-rh-<pid>-*``."""
    listing = _run(["ip", "netns", "list"], check=False).stdout
    subnets = set()
    for m in re.finditer(rf"^({re.escape(NS_PREFIX)}(\d+)-\d+-\w+)", listing, re.M):
        ns, pid = m.group(1), int(m.group(2))
        if _proc_gone(pid):
            addrs = _run(["ip", "-n", ns, "-4", "-o", "addr"], check=False).stdout
            subnets |= set(re.findall(r"inet 10\.231\.(\d+)\.", addrs))
            _kill_namespace_processes(ns, 1.0)
            _run(["ip", "netns", "del", ns], check=False)
    for x in subnets:
        _run(["ip", "route", "del", "unreachable", f"10.231.{x}.0/24"], check=False)
    for path in Path("/tmp").glob("ita-rh-*-*"):
        owner = path.name.split("-")[2]
        if owner.isdigit() and _proc_gone(int(owner)):
            shutil.rmtree(path, ignore_errors=True)


def _subnet_in_use(x: int) -> bool:
    text = _run(["ip", "-4", "-o", "addr"]).stdout + _run(["ip", "-4", "route"]).stdout
    return f"10.231.{x}." in text


def _tcp_accepts(addr: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((addr, port), timeout=timeout):
            return True
    except OSError:
        return False


free_port = any_free_port  # the package's one free-port function; tests and benchmarks import it from here


def http_get(port: int, path: str, token: str = "", timeout: float = 10.0) -> tuple[int, bytes]:
    """One GET on a new connection; reads exactly Content-Length bytes (as a browser would, no wait for EOF)."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        auth = f"Authorization: token {token}\r\n" if token else ""
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{auth}\r\n".encode())
        buf = b""
        while b"\r\n\r\n" not in buf:
            chunk = s.recv(65536)
            if not chunk:
                raise ConnectionError("connection closed before the response headers")
            buf += chunk
        head, body = buf.split(b"\r\n\r\n", 1)
        status = int(head.split(b" ", 2)[1])
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        while len(body) < length:
            chunk = s.recv(65536)
            if not chunk:
                break
            body += chunk
        return status, body


def jupyter_env(home: Path) -> dict[str, str]:
    """The environment JupyterLab runs with on the test host: its own HOME, config, data and runtime dirs."""
    env = {
        "HOME": str(home),
        "PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin",
        "JUPYTER_CONFIG_DIR": str(home / "config"),
        "JUPYTER_DATA_DIR": str(home / "data"),
        "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
        "IPYTHONDIR": str(home / "ipython"),
        "JUPYTER_PLATFORM_DIRS": "1",
        "LANG": "C.UTF-8",
    }
    for key in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR", "IPYTHONDIR"):
        Path(env[key]).mkdir(parents=True, exist_ok=True)
    return env


class RemoteHost:
    """One built test host. ``up()`` builds it, ``down()`` removes everything (also after a failed ``up``)."""

    def __init__(self, workdir: Path, state: _State) -> None:
        self.workdir = workdir
        self.state = state
        x = state.subnet
        self.host_side_addr = f"10.231.{x}.1"
        self.addr = f"10.231.{x}.2"
        self.jump_addr = f"10.231.{x}.66"
        self.inner_addr = f"10.231.{x}.130"
        self.ssh_config = workdir / "ssh_config"
        self.known_hosts = workdir / "known_hosts"
        self.client_key = workdir / "id_ed25519"
        self.token_file = workdir / "token"
        self.jupyter_root = workdir / "jroot"
        self.jupyter_log = workdir / "jupyter.log"
        self.jupyter_port = JUPYTER_PORT
        self.big_file = BIG_FILE
        self.big_file_size = BIG_FILE_SIZE
        self._jupyter: subprocess.Popen[bytes] | None = None
        self._sshd: dict[str, subprocess.Popen[bytes]] = {}

    # ----------------------------------------------------------------------------------------------- build
    @classmethod
    def up(cls, workdir: Path | None = None, *, jupyter: bool = True, detached: bool = False) -> RemoteHost:
        """Build the host. ``detached``: it outlives this process (script mode), so the namespace names do not
        carry our pid and ``cleanup_stale`` of later runs leaves them alone."""
        if os.geteuid() != 0:
            raise RuntimeError("the test remote host needs root (network namespaces, sshd)")
        if not os.access(SSHD, os.X_OK):
            raise RuntimeError(f"{SSHD} is missing: apt-get install -y openssh-server")
        if workdir is None:
            workdir = Path(tempfile.mkdtemp(prefix=f"ita-rh-{os.getpid()}-", dir="/tmp"))
        workdir.mkdir(parents=True, exist_ok=True)
        os.chmod(workdir, 0o700)
        cleanup_stale()
        n = next(_counter)
        tag = f"{'d' if detached else ''}{os.getpid()}-{n}"
        state = _State(
            workdir=str(workdir),
            subnet=-1,
            namespaces={"remote": f"{NS_PREFIX}{tag}-remote", "jump": f"{NS_PREFIX}{tag}-jump"},
        )
        host: RemoteHost | None = None
        try:
            with open(_ALLOC_LOCK, "w") as lock:  # serialise subnet choice with parallel test runs
                fcntl.flock(lock, fcntl.LOCK_EX)
                start = (os.getpid() * 7 + n * 31) % 250
                for i in range(250):
                    x = (start + i) % 250 + 1
                    if not _subnet_in_use(x):
                        break
                else:
                    raise RuntimeError("no free 10.231.X.0/24 test subnet")
                state.subnet = x
                state.save()
                host = cls(workdir, state)
                host._build_network()
            host._write_files()
            host._start_sshd("remote", [host.addr, host.inner_addr])
            host._start_sshd("jump", [host.jump_addr])
            if jupyter:
                host.start_jupyter()
            return host
        except BaseException:
            _teardown(state)
            raise

    def _build_network(self) -> None:
        st = self.state
        x = st.subnet
        remote, jump = st.namespaces["remote"], st.namespaces["jump"]
        st.route = f"unreachable 10.231.{x}.0/24"
        _run(["ip", "route", "add", *st.route.split()])
        st.save()
        for ns in (remote, jump):
            _run(["ip", "netns", "add", ns])
            st.save()
            _run(["ip", "-n", ns, "link", "set", "lo", "up"])
        short = str(x)  # the subnet is unique among live test hosts (chosen under a lock)
        links = [  # (name a, ns a or "", addr a, name b, ns b, addr b)
            (f"ita{short}ra", "", f"10.231.{x}.1/26", f"ita{short}rb", remote, f"10.231.{x}.2/26"),
            (f"ita{short}ja", "", f"10.231.{x}.65/26", f"ita{short}jb", jump, f"10.231.{x}.66/26"),
            (f"ita{short}ia", jump, f"10.231.{x}.129/26", f"ita{short}ib", remote, f"10.231.{x}.130/26"),
        ]
        for a, ns_a, addr_a, b, ns_b, addr_b in links:
            _run(["ip", "link", "add", a, "type", "veth", "peer", "name", b])
            st.links.append(a)
            st.save()
            for name, ns, addr in ((a, ns_a, addr_a), (b, ns_b, addr_b)):
                if ns:
                    _run(["ip", "link", "set", name, "netns", ns])
                prefix = ["ip", "-n", ns] if ns else ["ip"]
                _run([*prefix, "addr", "add", addr, "dev", name])
                _run([*prefix, "link", "set", name, "up"])

    def _keygen(self, path: Path, comment: str) -> str:
        if not path.exists():
            _run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(path)])
        key_type, blob = Path(f"{path}.pub").read_text().split()[:2]
        return f"{key_type} {blob}"

    def _write_files(self) -> None:
        w = self.workdir
        client_pub = self._keygen(self.client_key, "ita-test-client")
        remote_pub = self._keygen(w / "remote_host_key", "ita-test-remote")
        jump_pub = self._keygen(w / "jump_host_key", "ita-test-jump")
        (w / "authorized_keys").write_text(client_pub + "\n")
        self.known_hosts.write_text(
            f"{self.addr},{self.inner_addr} {remote_pub}\n{self.jump_addr} {jump_pub}\n"
        )
        common = (
            "  User root\n"
            f"  IdentityFile {self.client_key}\n"
            "  IdentitiesOnly yes\n"
            f"  UserKnownHostsFile {self.known_hosts}\n"
            "  GlobalKnownHostsFile /dev/null\n"
            "  StrictHostKeyChecking yes\n"
            "  UpdateHostKeys no\n"
            "  BatchMode yes\n"
            "  ConnectTimeout 10\n"
        )
        self.ssh_config.write_text(
            f"Host remote\n  HostName {self.addr}\n{common}"
            f"Host jump\n  HostName {self.jump_addr}\n{common}"
            f"Host inner\n  HostName {self.inner_addr}\n  ProxyJump jump\n{common}"
        )
        self.token_file.write_text(secrets.token_hex(24))
        self.token_file.chmod(0o600)
        self.jupyter_root.mkdir(exist_ok=True)
        big = self.jupyter_root / BIG_FILE
        with open(big, "wb") as f:  # sparse: costs no disk, reads as zeros
            f.truncate(BIG_FILE_SIZE)
        (self.jupyter_root / "hello.txt").write_text("hello from the test remote host\n")

    def _sshd_config(self, role: str, listen: list[str], penalties: bool) -> Path:
        w = self.workdir
        lines = [
            "Port 22",
            *(f"ListenAddress {a}" for a in listen),
            f"HostKey {w / (role + '_host_key')}",
            f"PidFile {w / ('sshd-' + role + '.pid')}",
            f"AuthorizedKeysFile {w / 'authorized_keys'}",
            "StrictModes no",
            "UsePAM no",
            "PasswordAuthentication no",
            "KbdInteractiveAuthentication no",
            "PubkeyAuthentication yes",
            "PermitRootLogin prohibit-password",
            "AllowTcpForwarding yes",
            "AllowAgentForwarding no",
            "X11Forwarding no",
            "MaxStartups 50:30:100",
            "MaxSessions 100",
            "UseDNS no",
            "PrintMotd no",
            "LogLevel VERBOSE",
        ]
        if penalties:  # OpenSSH >= 9.8 would slow down our deliberately broken connections
            lines.append("PerSourcePenalties no")
        path = w / f"sshd_config-{role}"
        path.write_text("\n".join(lines) + "\n")
        return path

    def start_sshd_on_port(self, port: int, *extra_config: str) -> None:
        """Another sshd in the remote namespace on ``addr:port``, with the same host key (for
        ``[host]:port`` known_hosts lines) and ``extra_config`` lines (e.g. a HostCertificate).
        Idempotent; stopped by ``down()``."""
        if f"remote-{port}" not in self._sshd:
            self._start_sshd("remote", [self.addr], port, extra_config)

    def sign_host_key(self, ca_key: Path, principals: str) -> Path:
        """A host certificate for the remote host key, signed by ``ca_key`` (made if missing), valid a day."""
        self._keygen(ca_key, "ita-test-ca")
        _run(["ssh-keygen", "-q", "-s", str(ca_key), "-I", "ita-test-host", "-h", "-n", principals, "-V", "-5m:+1d",
              str(self.workdir / "remote_host_key.pub")])
        return self.workdir / "remote_host_key-cert.pub"

    def _start_sshd(self, role: str, listen: list[str], port: int = 22, extra_config: tuple[str, ...] = ()) -> None:
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
        config = self._sshd_config(role, listen, penalties=True)
        if _run([SSHD, "-t", "-f", str(config)], check=False).returncode != 0:
            config = self._sshd_config(role, listen, penalties=False)
            _run([SSHD, "-t", "-f", str(config)])
        if port != 22:
            name = f"{role}-{port}"
            text = config.read_text().replace("Port 22\n", f"Port {port}\n")
            config = self.workdir / f"sshd_config-{name}"
            extra = "".join(f"{line}\n" for line in extra_config)
            config.write_text(text.replace(f"sshd-{role}.pid", f"sshd-{name}.pid") + extra)
            role_key = name
        else:
            role_key = role
        ns = self.state.namespaces[role]
        log = self.workdir / f"sshd-{role_key}.log"
        proc = subprocess.Popen(
            ["ip", "netns", "exec", ns, SSHD, "-D", "-f", str(config), "-E", str(log)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        self._sshd[role_key] = proc
        self.state.pids[f"sshd-{role_key}"] = proc.pid
        self.state.save()
        addr = listen[0]
        deadline = time.monotonic() + 20
        while not _tcp_accepts(addr, port):
            if proc.poll() is not None or time.monotonic() > deadline:
                tail = log.read_text()[-2000:] if log.exists() else ""
                raise RuntimeError(f"sshd ({role_key}) did not start listening on {addr}:{port}: {tail}")
            time.sleep(0.02)

    # --------------------------------------------------------------------------------------------- jupyter
    @property
    def token(self) -> str:
        return self.token_file.read_text().strip()

    def jupyter_env(self) -> dict[str, str]:
        return jupyter_env(self.workdir / "jhome")

    def jupyter_argv(self) -> list[str]:
        """The ``jupyter lab`` command line (contains the token: do not log it)."""
        return [
            str(Path(sys.executable).parent / "jupyter-lab"),
            "--no-browser",
            "--allow-root",
            "--ip=127.0.0.1",
            f"--port={JUPYTER_PORT}",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={self.token}",
            f"--ServerApp.root_dir={self.jupyter_root}",
        ]

    def jupyter_listening(self) -> bool:
        ns = self.state.namespaces["remote"]
        out = _run(["ss", "-N", ns, "-Hltn", f"sport = :{JUPYTER_PORT}"], check=False).stdout
        return bool(out.strip())

    def jupyter_running(self) -> bool:
        return self._jupyter is not None and self._jupyter.poll() is None and self.jupyter_listening()

    def start_jupyter(self, timeout: float = 90) -> None:
        """Start Jupyter in the remote namespace (reachable only through a tunnel); wait until it listens."""
        if self._jupyter is not None and self._jupyter.poll() is None:
            return
        ns = self.state.namespaces["remote"]
        log = open(self.jupyter_log, "ab")  # handed to the child, closed below
        try:
            self._jupyter = subprocess.Popen(
                ["ip", "netns", "exec", ns, *self.jupyter_argv()],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self.jupyter_env(),
                cwd=self.jupyter_root,
                start_new_session=True,
            )
        finally:
            log.close()
        self.state.pids["jupyter"] = self._jupyter.pid
        self.state.save()
        deadline = time.monotonic() + timeout
        while not self.jupyter_listening():
            if self._jupyter.poll() is not None:
                raise RuntimeError(f"jupyter lab exited early, see {self.jupyter_log}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"jupyter lab did not listen within {timeout} s, see {self.jupyter_log}")
            time.sleep(0.1)

    def stop_jupyter(self, timeout: float = 10) -> None:
        """Stop Jupyter (SIGTERM, then SIGKILL); returns when its port is closed."""
        proc = self._jupyter
        pid = self.state.pids.pop("jupyter", None)
        self._jupyter = None
        if proc is None:
            if pid:
                _signal([pid], signal.SIGTERM)
                _signal(_wait_gone([pid], timeout), signal.SIGKILL)
            return
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        self.state.save()

    # ------------------------------------------------------------------------------------------- helpers
    def ssh_args(self, *extra: str) -> tuple[str, ...]:
        """Arguments as a user's ssh command line would carry them (``-F config`` plus ``extra``)."""
        return ("-F", str(self.ssh_config), *extra)

    def target(self, alias: str = "remote", *extra: str) -> SshTarget:
        """The SshTarget for ``ssh -F config [extra] alias``, resolved by OpenSSH itself (``ssh -G``)."""
        cmd = parse_argv(["ssh", *self.ssh_args(*extra), "--", alias])
        assert cmd is not None
        return resolve_target(cmd)

    def write_known_hosts(self, name: str, *, wrong_key: bool) -> Path:
        """A known_hosts file for all test hosts: pinned to a second, wrong host key, or empty."""
        path = self.workdir / name
        if not wrong_key:
            path.write_text("")
            return path
        other = self._keygen(self.workdir / "other_host_key", "ita-test-other")
        path.write_text(f"{self.addr},{self.inner_addr},{self.jump_addr} {other}\n")
        return path

    def sshd_pids_for_client_port(self, client_port: int, role: str = "remote") -> list[int]:
        """PIDs of the sshd processes serving the TCP connection from the root namespace's ``client_port``."""
        ns = self.state.namespaces[role]
        out = _run(
            ["ss", "-N", ns, "-Htnp", "state", "established", f"( sport = :22 and dport = :{client_port} )"],
            check=False,
        ).stdout
        return sorted({int(p) for p in re.findall(r"pid=(\d+)", out)})

    def kill_connection(self, client_port: int, role: str = "remote") -> list[int]:
        """Kill (SIGKILL) the sshd processes serving one client connection: the SSH transport dies."""
        pids = self.sshd_pids_for_client_port(client_port, role)
        _signal(pids, signal.SIGKILL)
        _wait_gone(pids, 3.0)
        return pids

    def down(self) -> None:
        for proc in [self._jupyter, *self._sshd.values()]:
            if proc is not None and proc.poll() is None:
                proc.terminate()
        _teardown(self.state)
        for proc in [self._jupyter, *self._sshd.values()]:
            if proc is not None:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(2)
        self._jupyter = None
        self._sshd.clear()


# --------------------------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="session")
def remote_host() -> Iterator[RemoteHost]:
    """The built test host with Jupyter running; torn down at the end of the session, pass or fail."""
    from tests.conftest import require

    require(os.geteuid() == 0, "needs root for network namespaces and sshd")
    require(os.access(SSHD, os.X_OK), f"needs {SSHD} (apt-get install openssh-server)")
    require(shutil.which("ssh") is not None, "needs the OpenSSH client")
    require(shutil.which("ip") is not None, "needs iproute2 (ip)")
    # a short path: ControlPath sockets go in there
    workdir = Path(tempfile.mkdtemp(prefix=f"ita-rh-{os.getpid()}-", dir="/tmp"))
    # SIGTERM (a CI timeout, kill) would end Python without teardown: turn it into KeyboardInterrupt, which
    # pytest unwinds through this fixture's finally. A SIGKILLed run is cleaned by the next run's cleanup_stale.
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        host = RemoteHost.up(workdir)  # cleans up after itself if it fails half-way
        try:
            yield host
        finally:
            host.down()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        signal.signal(signal.SIGTERM, previous)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


@pytest.fixture
def jupyter(remote_host: RemoteHost) -> RemoteHost:
    """The remote host with Jupyter running (restarted if a previous test stopped it)."""
    remote_host.start_jupyter()
    return remote_host


# ----------------------------------------------------------------------------------------------- script
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", choices=["up", "down"])
    parser.add_argument("dir", type=Path)
    parser.add_argument("--no-jupyter", action="store_true", help="up: do not start Jupyter")
    args = parser.parse_args(argv)
    workdir: Path = args.dir.resolve()
    if args.action == "up":
        host = RemoteHost.up(workdir, jupyter=not args.no_jupyter, detached=True)
        print(f"ssh_config={host.ssh_config}")
        print(f"remote={host.addr} jump={host.jump_addr} inner={host.inner_addr} (via jump)")
        print(f"token_file={host.token_file}")
        print(f"try: ssh -F {host.ssh_config} -N -L 127.0.0.1:18888:127.0.0.1:{JUPYTER_PORT} remote")
        return 0
    _teardown(_State.load(workdir))
    print(f"down: {workdir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
