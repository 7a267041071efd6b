"""Tunnel backend ``sshtunnel``: an SSH local forward inside this process, on paramiko and sshtunnel.

What sshtunnel does here: ``SSHTunnelForwarder`` owns the local listener (bind 127.0.0.1:port, its threaded
socketserver, the serve_forever thread, shutdown and close). What we do ourselves, because sshtunnel does
not: the SSH connection (ssh_connect.py: ProxyJump chains, host keys checked against known_hosts and
identities chosen as OpenSSH would, TCP_NODELAY); and here the per-connection forwarding loop (bigger reads
and window, TCP_NODELAY, half-close), a watchdog that replaces a dead transport under the same listener, so
the local port never changes, and a pool of handler threads instead of a new thread per connection. We hook
into four ``SSHTunnelForwarder`` methods (``_consolidate_auth``, ``_connect_to_gateway``,
``_make_ssh_forward_handler_class``, ``_make_ssh_forward_server_class``); written against sshtunnel 0.5.1.
"""

from __future__ import annotations

import contextlib
import getpass
import logging
import socket
import threading
import time
from typing import Any

import paramiko
import paramiko.pipe
import sshtunnel

from iterm2_autolaunch.target import ForwardSpec

from ..errors import HostKeyError, PortTaken, TunnelError
from ..ports import ensure_port_free
from .forwarding import PooledForwardServer, WorkerPool, pump
from .keepalive import SERVER_ALIVE_COUNT_MAX, AliveProbe
from .ssh_connect import DEFAULT_KEEPALIVE, _Connector, close_chain

log = logging.getLogger(__name__)
# sshtunnel's own INFO lines repeat ours ("forward up ...", "forward closed ..."); keep its warnings and errors.
logging.getLogger(__name__ + ".sshtunnel").setLevel(logging.WARNING)

CHANNEL_OPEN_TIMEOUT = 10.0
WATCH_INTERVAL = 0.1
RECONNECT_WAIT = 10.0  # how long a new local connection waits for the watchdog to bring the transport back
CLOSE_BUDGET = 1.5  # close() must finish in under 2 s


# --- The forwarding loop ---------------------------------------------------------------------------------
class _Handler(sshtunnel._ForwardHandler):
    """One accepted local connection: TCP_NODELAY, a direct-tcpip channel on the current transport, _pump."""

    forward: SshtunnelForward  # set by the per-forward subclass

    def handle(self) -> None:
        fwd = self.forward
        local: socket.socket = self.request
        if not fwd._enter_handler(local):
            return
        try:
            local.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            transport = fwd._wait_transport(RECONNECT_WAIT)
            if transport is None:
                return
            try:
                chan = transport.open_channel(
                    "direct-tcpip", self.remote_address, local.getpeername(), timeout=CHANNEL_OPEN_TIMEOUT
                )
            except (paramiko.SSHException, OSError, EOFError) as e:
                log.debug("forward %s: channel open failed: %s", fwd.local_port, e)
                return
            try:
                pump(local, chan, fwd._closing)
            except (OSError, EOFError, paramiko.SSHException) as e:
                log.debug("forward %s: connection ended: %s", fwd.local_port, e)
            finally:
                chan.close()
        finally:
            fwd._leave_handler(local)


class _Forwarder(sshtunnel.SSHTunnelForwarder):
    """sshtunnel's forwarder with our connection, our handler, our thread pool, and no key loading."""

    skip_tunnel_checkup = True  # the listener is up once start() returns; no test connection needed

    def __init__(self, owner: SshtunnelForward) -> None:
        self._owner = owner
        spec = owner.spec
        super().__init__(
            (spec.target.hostname, spec.target.port),
            ssh_config_file=None,  # the target is already resolved (ssh -G)
            ssh_username=spec.target.user or getpass.getuser(),
            allow_agent=False,
            host_pkey_directories=[],
            local_bind_address=("127.0.0.1", spec.local_port),
            remote_bind_address=(spec.remote_host, spec.remote_port),
            logger=logging.getLogger(__name__ + ".sshtunnel"),
            mute_exceptions=False,
        )

    @staticmethod
    def _consolidate_auth(**_: Any) -> tuple[None, list[Any]]:
        return None, []  # authentication is done by _Connector

    def _connect_to_gateway(self) -> None:
        self._transport = self._owner._transport_now()

    def _make_ssh_forward_handler_class(self, remote_address_: tuple[str, int]) -> type[_Handler]:
        owner = self._owner

        class Handler(_Handler):
            remote_address = remote_address_
            logger = self.logger
            forward = owner

        return Handler

    def _make_ssh_forward_server_class(self, remote_address_: tuple[str, int]) -> type[PooledForwardServer]:
        pool = self._owner._pool

        class Server(PooledForwardServer):
            pass

        Server.pool = pool
        return Server


# --- Forward and backend ---------------------------------------------------------------------------------
class SshtunnelForward:
    """A live forward 127.0.0.1:local_port -> remote_host:remote_port, kept alive by a watchdog."""

    def __init__(self, spec: ForwardSpec) -> None:
        self.spec = spec
        self.last_error: TunnelError | None = None
        self._connector = _Connector(spec.target)
        self._cond = threading.Condition()
        self._chain: list[paramiko.Transport] = []
        self._closing = threading.Event()
        self._closed = False
        self._close_lock = threading.Lock()
        self._handlers: dict[threading.Thread, socket.socket] = {}
        self._pool = WorkerPool(f"ita-forward-{spec.local_port or 'auto'}")
        self._forwarder: _Forwarder | None = None
        self._serve_thread: threading.Thread | None = None
        self._watchdog: threading.Thread | None = None
        self._port = spec.local_port

    # lifecycle ------------------------------------------------------------------------------------------
    def _start(self) -> None:
        self._chain = self._connector.connect()
        try:
            self._forwarder = _Forwarder(self)
            self._forwarder.start()
        except (sshtunnel.BaseSSHTunnelForwarderError, ValueError, OSError) as e:
            self.close()
            raise self._listen_error(e) from e
        except BaseException:
            self.close()
            raise
        self._port = self._forwarder.local_bind_port
        self._serve_thread = next(
            (t for t in threading.enumerate() if t.name == f"Srv-{self._port}" and t.is_alive()), None
        )
        self._watchdog = threading.Thread(
            target=self._watch, name=f"ita-watchdog-{self._port}", daemon=True
        )
        self._watchdog.start()
        log.info(
            "forward up %s 127.0.0.1:%s -> %s:%s",
            self.spec.target.destination, self._port, self.spec.remote_host, self.spec.remote_port,
        )

    def _listen_error(self, e: BaseException) -> TunnelError:
        port = self.spec.local_port
        try:
            ensure_port_free(port)
        except PortTaken as taken:
            return taken
        return TunnelError(f"cannot open the forward on 127.0.0.1:{port}: {e}")

    @property
    def local_port(self) -> int:
        return self._port

    def is_alive(self) -> bool:
        if self._closing.is_set():
            return False
        with self._cond:
            chain = self._chain
        return bool(chain) and chain[-1].is_active()

    def close(self) -> None:
        """Stop the watchdog, the transports, the listener and every connection; idempotent, < 2 s."""
        with self._close_lock:
            if self._closed:
                return
            self._closed = True
        deadline = time.monotonic() + CLOSE_BUDGET
        self._closing.set()  # handlers and the watchdog stop at their next check
        self._connector.abort()  # a reconnect in progress gives up
        with self._cond:
            handler_sockets = list(self._handlers.values())
            self._cond.notify_all()
        for local in handler_sockets:  # unblocks handlers stuck sending to a slow client
            with contextlib.suppress(OSError):
                local.shutdown(socket.SHUT_RDWR)
        if self._forwarder is not None:  # closes the current transport, stops and closes the listener
            with contextlib.suppress(Exception):
                self._forwarder.stop(force=True)
        with self._cond:
            chain, self._chain = self._chain, []
        close_chain(chain, join_timeout=0)
        self._pool.stop()
        threads: list[threading.Thread] = self._pool.threads()
        threads += [t for t in (self._watchdog, self._serve_thread) if t is not None]
        threads += chain
        for thread in threads:
            if thread is not threading.current_thread():
                thread.join(max(0.0, deadline - time.monotonic()))
        left = [t.name for t in threads if t.is_alive() and t is not threading.current_thread()]
        if left:
            log.warning("forward %s: threads still running after close: %s", self._port, ", ".join(left))
        log.info("forward closed %s 127.0.0.1:%s", self.spec.target.destination, self._port)

    # used by the handler and the forwarder --------------------------------------------------------------
    def _transport_now(self) -> paramiko.Transport:
        with self._cond:
            if not self._chain:
                raise TunnelError(f"no SSH connection to {self.spec.target.destination}")
            return self._chain[-1]

    def _wait_transport(self, timeout: float) -> paramiko.Transport | None:
        deadline = time.monotonic() + timeout
        with self._cond:
            while not self._closing.is_set():
                if self._chain and self._chain[-1].is_active():
                    return self._chain[-1]
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._cond.wait(min(left, WATCH_INTERVAL))
        return None

    def _enter_handler(self, local: socket.socket) -> bool:
        with self._cond:
            if self._closing.is_set():
                return False
            self._handlers[threading.current_thread()] = local
            return True

    def _leave_handler(self, local: socket.socket) -> None:
        with self._cond:
            self._handlers.pop(threading.current_thread(), None)

    # watchdog ------------------------------------------------------------------------------------------
    def _watch(self) -> None:
        """Notice a dead transport and reconnect under the same listener (same local port)."""
        backoff = WATCH_INTERVAL
        probe: AliveProbe | None = None
        while not self._closing.wait(WATCH_INTERVAL):
            with self._cond:
                chain = self._chain
            if chain and (probe is None or probe.transport is not chain[-1]):
                probe = AliveProbe(chain[-1], self.spec.target.server_alive_interval or DEFAULT_KEEPALIVE)
            if chain and chain[-1].is_active():
                if probe is None or probe.alive():
                    continue
                log.warning("forward %s: no answer from %s for %s keepalive intervals", self._port,
                            self.spec.target.destination, SERVER_ALIVE_COUNT_MAX)
            if isinstance(self.last_error, HostKeyError):
                continue  # never retry a refused host key; the engine will see is_alive() == False
            log.warning("forward %s: SSH connection to %s lost, reconnecting",
                        self._port, self.spec.target.destination)
            close_chain(chain, join_timeout=0.2)
            try:
                new = self._connector.connect()
            except TunnelError as e:
                if self._closing.is_set():
                    return
                self.last_error = e
                log.warning("forward %s: reconnect failed: %s", self._port, e)
                self._closing.wait(backoff)
                backoff = min(backoff * 2, 5.0)
                continue
            with self._cond:
                if self._closing.is_set():
                    close_chain(new, join_timeout=0)
                    return
                self._chain = new
                if self._forwarder is not None:
                    self._forwarder._transport = new[-1]  # what sshtunnel's is_active/stop look at
                self._cond.notify_all()
            self.last_error = None
            backoff = WATCH_INTERVAL
            log.info("forward %s: reconnected to %s", self._port, self.spec.target.destination)


class SshtunnelBackend:
    """Opens forwards in-process with paramiko/sshtunnel. The default when no OpenSSH master is running."""

    name = "sshtunnel"

    def open(self, spec: ForwardSpec) -> SshtunnelForward:
        if spec.target.local:
            raise TunnelError("the session is local: there is nothing to forward")
        if spec.local_port:
            ensure_port_free(spec.local_port)  # before logging in, not after
        forward = SshtunnelForward(spec)
        forward._start()
        return forward
