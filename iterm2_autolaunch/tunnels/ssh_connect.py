"""The SSH connection of the sshtunnel backend, on paramiko: as OpenSSH would make it.

ProxyJump chains (each hop's transport over a ``direct-tcpip`` channel of the previous one), host keys judged as
OpenSSH judges them (host_key_check.py), identities chosen as OpenSSH chooses them (agent, IdentityFile,
IdentitiesOnly), TCP_NODELAY and quick ACKs on the socket, AES-GCM first.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import select
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import paramiko

from .. import host_key_files
from ..errors import ResolveError, TunnelError
from ..resolve import resolve_target
from ..sshcmd import parse_argv, parse_hop
from ..target import SshTarget
from .direct_feed import DirectTransport
from .host_key_check import check_host_key, key_types
from .keepalive import SERVER_ALIVE_COUNT_MAX
from .ssh_auth import authenticate
from .ssh_sockets import _TCP_USER_TIMEOUT, ChannelSocket, SshSocket

log = logging.getLogger(__name__)

# Measured with benchmarks/bench_tunnel.py: a 16 MiB channel window and 256 KiB max packet, together with
# 256 KiB reads in the forwarding loop, roughly triple paramiko's throughput (alone they make it slower).
WINDOW_SIZE = 16 * 1024 * 1024
MAX_PACKET_SIZE = 256 * 1024
DEFAULT_CONNECT_TIMEOUT = 15.0
DEFAULT_KEEPALIVE = 15.0
CONNECT_POLL_INTERVAL = 0.1  # how often a TCP connect in progress looks at its cancel flag


# --- ProxyJump hops -------------------------------------------------------------------------------------
def _config_file_args(ssh_args: tuple[str, ...]) -> tuple[str, ...]:
    """The ``-F file`` of a command line (the last one wins, as in ssh): the only option OpenSSH hands down to
    its ProxyJump hops."""
    found: tuple[str, ...] = ()
    for i, arg in enumerate(ssh_args):
        if arg == "-F" and i + 1 < len(ssh_args):
            found = ("-F", ssh_args[i + 1])
        elif arg.startswith("-F") and len(arg) > 2:
            found = ("-F", arg[2:])
    return found


def _resolve_hop(host: str, args: tuple[str, ...]) -> SshTarget:
    """A ProxyJump hop as OpenSSH would resolve it (the package's resolver: ``ssh -G``, paramiko fallback)."""
    cmd = parse_argv(["ssh", *args, "--", host])
    if cmd is None:
        raise TunnelError(f"ProxyJump host {host!r} is not a valid ssh destination")
    try:
        return resolve_target(cmd)
    except ResolveError as e:
        raise TunnelError(f"ProxyJump host {host}: {e}") from e


def jump_chain(target: SshTarget, resolve: Callable[[str, tuple[str, ...]], SshTarget] | None = None,
               depth: int = 0) -> list[SshTarget]:
    """The hops before ``target``, first hop first, as OpenSSH builds them from ProxyJump.

    OpenSSH turns ``ProxyJump a,b`` into ``ssh -J a -W %h:%p b``: ``b`` is reached through ``a``, and ``a``
    through whatever its own config says. Each hop is resolved with ``ssh -G`` and the same ``-F`` file.
    """
    if not target.proxy_jump or target.proxy_jump.lower() == "none":
        return []
    if depth > 8:
        raise TunnelError(f"ProxyJump chain for {target.destination} is too long (loop in ssh config?)")
    resolve = resolve or _resolve_hop
    hops = [h for h in target.proxy_jump.split(",") if h.strip()]
    try:
        host, user, port = parse_hop(hops[-1])
    except ValueError as e:
        raise TunnelError(f"bad ProxyJump {target.proxy_jump!r} for {target.destination}: {e}") from e
    args = _config_file_args(target.ssh_args)
    if user:
        args += ("-l", user)
    if port:
        args += ("-p", str(port))
    last = resolve(host, args)
    if len(hops) > 1:
        last = replace(last, proxy_jump=",".join(hops[:-1]))
    return [*jump_chain(last, resolve, depth + 1), last]


# --- Connecting ----------------------------------------------------------------------------------------
class _Cancelled(TunnelError):
    pass


def _tcp_connect(target: SshTarget, timeout: float, cancel: threading.Event) -> socket.socket:
    """Connect with TCP_NODELAY, giving up early when ``cancel`` is set (so close() stays bounded)."""
    where = f"{target.hostname}:{target.port}"
    try:
        infos = socket.getaddrinfo(target.hostname, target.port, type=socket.SOCK_STREAM)
    except OSError as e:
        raise TunnelError(f"cannot resolve {target.hostname} (ssh {target.destination}): {e}") from e
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    for family, kind, proto, _, addr in infos:
        sock = socket.socket(family, kind, proto)
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.setblocking(False)
            rc = sock.connect_ex(addr)
            if rc not in (0, errno.EINPROGRESS):
                raise OSError(rc, os.strerror(rc))
            while True:
                if cancel.is_set():
                    raise _Cancelled("cancelled")
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(errno.ETIMEDOUT, "connection timed out")
                poller = select.poll()
                poller.register(sock, select.POLLOUT)
                if poller.poll(int(min(left, CONNECT_POLL_INTERVAL) * 1000) + 1):
                    break
            rc = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if rc:
                raise OSError(rc, os.strerror(rc))
            sock.setblocking(True)
            return sock
        except _Cancelled:
            sock.close()
            raise
        except OSError as e:
            sock.close()
            last = e
    reason = getattr(last, "strerror", None) or str(last)
    raise TunnelError(f"cannot connect to {where} (ssh {target.destination}): {reason}")


class _Connector:
    """Builds the transport chain for one target: jump hops first, the destination last."""

    def __init__(self, target: SshTarget) -> None:
        self.target = target
        self.hops = jump_chain(target)
        self._lock = threading.Lock()
        self._pending: list[paramiko.Transport] = []
        self.cancel = threading.Event()

    def _hop(self, hop: SshTarget, via: paramiko.Transport | None) -> paramiko.Transport:
        timeout = hop.connect_timeout or DEFAULT_CONNECT_TIMEOUT
        if via is None:
            sock: Any = SshSocket(_tcp_connect(hop, timeout, self.cancel))
        else:
            try:
                sock = ChannelSocket(
                    via.open_channel("direct-tcpip", (hop.hostname, hop.port), ("127.0.0.1", 0), timeout=timeout)
                )
            except (paramiko.SSHException, OSError, EOFError) as e:
                raise TunnelError(f"the jump host cannot reach {hop.hostname}:{hop.port}: {e}") from e
        transport = DirectTransport(
            sock, default_window_size=WINDOW_SIZE, default_max_packet_size=MAX_PACKET_SIZE
        )
        transport.daemon = True  # owned by the forward, closed and joined by Forward.close()
        transport.name = f"ita-ssh-{hop.hostname}:{hop.port}"
        with self._lock:
            self._pending.append(transport)
        try:
            settings = host_key_files.settings_for(hop)
            entries = host_key_files.lookup(settings.name.lower(), settings.files)
            options = transport.get_security_options()
            options.key_types = key_types(settings, entries, transport._key_info, options.key_types)
            # AES-GCM first: one C call per packet instead of AES-CTR plus a separate HMAC; measured about
            # 1.6x the download throughput of paramiko's default aes128-ctr + hmac-sha2-256.
            options.ciphers = tuple(sorted(options.ciphers, key=lambda c: not c.endswith("-gcm@openssh.com")))
            try:
                transport.start_client(timeout=timeout)
            except (paramiko.SSHException, OSError, EOFError) as e:
                raise TunnelError(f"SSH handshake with {hop.hostname}:{hop.port} failed: {e}") from e
            check_host_key(hop, settings, transport, sock.getpeername() if via is None else None, entries)
            authenticate(hop, transport)
            interval = hop.server_alive_interval or DEFAULT_KEEPALIVE
            transport.set_keepalive(int(max(1, interval)))
            if isinstance(sock, SshSocket) and _TCP_USER_TIMEOUT is not None:
                # Unacknowledged data (a keepalive into a NAT that forgot us) fails the socket after as long as
                # OpenSSH would wait for keepalive answers, instead of TCP's ~15 minutes of retransmissions.
                with contextlib.suppress(OSError):
                    sock._sock.setsockopt(socket.IPPROTO_TCP, _TCP_USER_TIMEOUT,
                                          int(interval * SERVER_ALIVE_COUNT_MAX * 1000))
            return transport
        except BaseException:
            transport.close()
            raise
        finally:
            if self.cancel.is_set():
                transport.close()

    def connect(self) -> list[paramiko.Transport]:
        chain: list[paramiko.Transport] = []
        try:
            for hop in [*self.hops, self.target]:
                if self.cancel.is_set():
                    raise _Cancelled("cancelled")
                chain.append(self._hop(hop, chain[-1] if chain else None))
            return chain
        except BaseException:
            close_chain(chain)
            raise
        finally:
            with self._lock:
                self._pending = [t for t in self._pending if t not in chain and t.is_alive()]

    def abort(self) -> None:
        """Make a connect() running in another thread give up now."""
        self.cancel.set()
        with self._lock:
            pending = list(self._pending)
        for transport in pending:
            transport.close()


def close_chain(chain: list[paramiko.Transport], join_timeout: float = 0.5) -> None:
    for transport in reversed(chain):
        with contextlib.suppress(Exception):
            transport.close()
    deadline = time.monotonic() + join_timeout
    for transport in chain:
        if transport is not threading.current_thread():
            transport.join(max(0.0, deadline - time.monotonic()))
