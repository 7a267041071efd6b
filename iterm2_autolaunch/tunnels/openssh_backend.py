"""Tunnel backend ``openssh``: the forward is made by the user's own ``ssh``.

With a live ControlMaster for the target (``ssh -O check``) the forward is added to it (``ssh -O forward``)
and removed on close (``ssh -O cancel``): no new login, so it works behind 2FA and takes milliseconds.
Otherwise we run and own a child ``ssh -N`` (openssh_child.py: the user's own forwards cleared, restarted with
backoff when it dies, terminated, waited for and killed on close).
The target's ``ssh_args`` are passed verbatim, so ssh applies exactly the config the session used.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
import socket
import subprocess
import threading
import time

from iterm2_autolaunch.target import ForwardSpec, SshTarget

from ..errors import HostKeyError, TunnelError
from ..ports import any_free_port, ensure_port_free
from . import openssh_mux
from .openssh_child import ChildForward, mux_argv

log = logging.getLogger(__name__)

START_TIMEOUT = 30.0  # ssh may need to connect, authenticate and hop; ConnectTimeout bounds the first part
MUX_TIMEOUT = 5.0
CLOSE_BUDGET = 1.5


def _ssh() -> str:
    exe = shutil.which("ssh")
    if exe is None:
        raise TunnelError("the OpenSSH client (ssh) is not installed; use the sshtunnel backend")
    return exe


def _control_opts(target: SshTarget) -> list[str]:
    if target.control_path and target.control_path.lower() != "none":
        return ["-o", f"ControlPath={target.control_path}"]
    return []


def _forward_arg(spec: ForwardSpec, local_port: int) -> str:
    host = f"[{spec.remote_host}]" if ":" in spec.remote_host else spec.remote_host
    return f"127.0.0.1:{local_port}:{host}:{spec.remote_port}"


def has_live_master(target: SshTarget, timeout: float = MUX_TIMEOUT) -> bool:
    """True if an OpenSSH ControlMaster for ``target`` answers ``ssh -O check``."""
    if target.local or not _control_opts(target):
        return False
    path = os.path.expanduser(target.control_path or "")
    if "%" not in path and not os.path.exists(path):
        return False  # fast path: no socket, no master
    if "%" not in path:
        with contextlib.suppress(openssh_mux.MuxUnavailable):
            return openssh_mux.master_alive(path, timeout)  # the ssh process costs 10-40 ms more
    exe = shutil.which("ssh")
    if exe is None:
        return False
    try:
        return master_status(target, exe, timeout)[0]
    except TunnelError:
        return False


def master_status(target: SshTarget, ssh: str, timeout: float = MUX_TIMEOUT) -> tuple[bool, str]:
    """``ssh -O check`` for the target's ControlPath: (alive, what ssh said). TunnelError if it cannot run."""
    argv = [ssh, "-O", "check", *_control_opts(target), "-o", "BatchMode=yes", *target.ssh_args,
            "--", target.destination]
    try:
        proc = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout,
                              check=False)
    except subprocess.TimeoutExpired:
        raise TunnelError(f"ssh -O check did not answer within {timeout:g}s") from None
    except OSError as error:
        raise TunnelError(f"cannot run {ssh}: {error}") from error
    said = (proc.stderr.strip() or proc.stdout.strip()).splitlines()
    return proc.returncode == 0, said[0] if said else f"exit status {proc.returncode}"


def _port_accepts(port: int, timeout: float = 0.2) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout):
            return True
    except OSError:
        return False


_NOISE = re.compile(r"^(@+|Warning: Permanently added|Pseudo-terminal|Someone could be|It is also possible"
                    r"|IT IS POSSIBLE THAT"
                    r"|Please contact|Add correct host key|Password authentication is disabled|Agent forwarding"
                    r"|X11 forwarding|Port forwarding is disabled|Keyboard-interactive|mux_client_)")


def ssh_error(target: SshTarget, stderr: str, what: str) -> TunnelError:
    """Turn ssh's stderr into one clear error; host key problems become HostKeyError naming host and file."""
    lines = [ln.strip() for ln in stderr.splitlines() if ln.strip()]
    text = " ".join(lines)
    files = ", ".join(target.known_hosts_files) or "~/.ssh/known_hosts"
    if re.search(r"Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED|host key is known for"
                 r"|Host key for .* has changed|No .* host key is known", text):
        detail = " ".join(ln for ln in lines if not _NOISE.match(ln) and "verification failed" not in ln)
        offending = re.findall(r"Offending \S+ key in (\S+)", text)
        where = ", ".join(dict.fromkeys(offending)) or files
        return HostKeyError(
            f"ssh refused the host key of {target.destination} ({target.hostname}): "
            f"{detail or 'Host key verification failed.'} (known_hosts: {where})"
        )
    useful = [ln for ln in lines if not _NOISE.match(ln)] or lines
    detail = " ".join(useful[-4:]) or "no message from ssh"
    if "Permission denied" in text:
        return TunnelError(f"{what}: {detail} (BatchMode: ssh cannot ask for a password or 2FA here; "
                           "log in with a ControlMaster and try again)")
    return TunnelError(f"{what}: {detail}")


class MasterForward:
    """A forward added to a live ControlMaster; removed again with ``ssh -O cancel``."""

    def __init__(self, spec: ForwardSpec, local_port: int, base: list[str]) -> None:
        self.spec = spec
        self._port = local_port
        self._base = base  # [ssh, control opts, ssh_args] without the destination
        self._closed = False
        self._lock = threading.Lock()

    @property
    def local_port(self) -> int:
        return self._port

    def _mux(self, op: str, timeout: float) -> subprocess.CompletedProcess[str]:
        # Not the user's config: its LocalForward lines would go along (mux.c mux_client_forwards()), and
        # "-O cancel" would take the user's own forwards off their master. ssh -G expanded the ControlPath.
        argv = mux_argv(self._base[0], self.spec.target.control_path or "", op, _forward_arg(self.spec, self._port))
        return subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout,
                              check=False)

    def _socket_forward(self, cancel: bool, timeout: float) -> bool:
        """The request over the control socket itself (openssh_mux); False: use the ssh process instead.
        TunnelError if the master refused."""
        path = os.path.expanduser(self.spec.target.control_path or "")
        if "%" in path:  # not expanded by ssh -G: only ssh knows what it means
            return False
        try:
            openssh_mux.local_forward(path, timeout, "127.0.0.1", self._port, self.spec.remote_host,
                                      self.spec.remote_port, cancel=cancel)
        except openssh_mux.MuxUnavailable as e:
            log.debug("control socket not usable (%s): using ssh -O", e)
            return False
        except openssh_mux.MuxRefused as e:
            raise TunnelError(f"the ControlMaster of {self.spec.target.destination} refused the forward "
                              f"127.0.0.1:{self._port}: {e}") from None
        return True

    def _open(self) -> None:
        what = f"ssh -O forward to {self.spec.target.destination}"
        try:
            if self._socket_forward(cancel=False, timeout=MUX_TIMEOUT):
                return  # the master answers after its listener is bound
        except TunnelError:
            ensure_port_free(self._port)  # PortTaken if somebody took it since we chose it
            raise
        try:
            proc = self._mux("forward", MUX_TIMEOUT)
        except (OSError, subprocess.TimeoutExpired) as e:
            raise TunnelError(f"{what}: {e}") from e
        if proc.returncode != 0:
            ensure_port_free(self._port)  # PortTaken if somebody took it since we chose it
            raise ssh_error(self.spec.target, proc.stderr, what)
        deadline = time.monotonic() + MUX_TIMEOUT
        while not _port_accepts(self._port):
            if time.monotonic() > deadline:
                self.close()
                raise TunnelError(f"{what}: 127.0.0.1:{self._port} does not accept connections")
            time.sleep(0.005)

    def is_alive(self) -> bool:
        return not self._closed and has_live_master(self.spec.target)

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
        try:
            if self._socket_forward(cancel=True, timeout=CLOSE_BUDGET):
                log.info("forward closed %s 127.0.0.1:%s (ControlMaster)", self.spec.target.destination,
                         self._port)
                return
        except TunnelError as e:
            log.warning("cancelling 127.0.0.1:%s failed: %s", self._port, e)
            return
        try:
            proc = self._mux("cancel", CLOSE_BUDGET)
            if proc.returncode != 0:
                log.warning("ssh -O cancel 127.0.0.1:%s failed: %s", self._port, proc.stderr.strip())
        except (OSError, subprocess.TimeoutExpired) as e:
            log.warning("ssh -O cancel 127.0.0.1:%s failed: %s", self._port, e)
        log.info("forward closed %s 127.0.0.1:%s (ControlMaster)", self.spec.target.destination, self._port)


class OpenSshBackend:
    """Opens forwards with the OpenSSH client: on a live ControlMaster if there is one, else ``ssh -N -L``."""

    name = "openssh"

    def __init__(self, start_timeout: float = START_TIMEOUT) -> None:
        self.start_timeout = start_timeout

    def open(self, spec: ForwardSpec) -> MasterForward | ChildForward:
        target = spec.target
        if target.local:
            raise TunnelError("the session is local: there is nothing to forward")
        exe = _ssh()
        port = spec.local_port or any_free_port()
        ensure_port_free(port)
        forward: MasterForward | ChildForward
        if has_live_master(target):
            master = MasterForward(spec, port, [exe, *_control_opts(target), *target.ssh_args])
            master._open()
            forward = master
        else:
            child = ChildForward(spec, port, exe, _forward_arg(spec, port),
                                 lambda stderr, what: ssh_error(target, stderr, what))
            child.open(self.start_timeout)
            forward = child
        log.info("forward up %s 127.0.0.1:%s -> %s:%s (openssh%s)", target.destination, port, spec.remote_host,
                 spec.remote_port, ", ControlMaster" if isinstance(forward, MasterForward) else "")
        return forward
