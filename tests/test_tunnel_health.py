"""Long-run health of the sshtunnel forward: every byte in order under a slow reader, a long idle behind a
NAT that forgets idle flows, and a flow the network silently drops (real sshd in a namespace, root).

The NAT is simulated in the remote namespace with iproute2 only (no netfilter tools here): ``ss -i`` tells how
long sshd's socket for our flow has received nothing (``lastrcv``); past the NAT's idle timeout two policy
rules (``ip rule ... sport/dport ... blackhole``) drop the flow's packets without a RST, as a NAT that has
forgotten the mapping does. New flows (other client ports) pass.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from iterm2_autolaunch.target import ForwardSpec
from iterm2_autolaunch.tunnels.sshtunnel_backend import SshtunnelBackend, SshtunnelForward
from tests.remote_host import free_port, http_get

if TYPE_CHECKING:
    from tests.remote_host import RemoteHost

pytestmark = pytest.mark.root


def api_ok(port: int, timeout: float = 5.0) -> bool:
    status, body = http_get(port, "/api", timeout=timeout)
    return status == 200 and "version" in json.loads(body)


def wait_until(condition: object, limit: float, what: str) -> None:
    deadline = time.monotonic() + limit
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            if callable(condition) and condition():
                return
        except (OSError, ValueError) as e:
            last = e
        time.sleep(0.05)
    pytest.fail(f"{what} (gave up after {limit} s; last error {last!r})")


class ForgetfulNat:
    """Drops a flow (client port -> sshd:22) once it has been idle for ``idle_timeout`` s, or on demand."""

    def __init__(self, host: RemoteHost, client_port: int, idle_timeout: float) -> None:
        self.ns = host.state.namespaces["remote"]
        self.client_port = client_port
        self.idle_timeout = idle_timeout
        self.dropped = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="forgetful-nat", daemon=True)

    def _rules(self) -> list[list[str]]:
        port = str(self.client_port)
        return [["ipproto", "tcp", "sport", "22", "dport", port, "blackhole"],
                ["ipproto", "tcp", "sport", port, "dport", "22", "blackhole"]]

    def idle_ms(self) -> int | None:
        out = subprocess.run(
            ["ss", "-N", self.ns, "-Htin", "state", "established", f"( sport = :22 and dport = :{self.client_port} )"],
            capture_output=True, text=True, timeout=10, check=False,
        ).stdout
        found = re.search(r"lastrcv:(\d+)", out)
        return int(found.group(1)) if found else None

    def drop(self) -> None:
        for rule in self._rules():
            subprocess.run(["ip", "-n", self.ns, "rule", "add", *rule], check=True, capture_output=True, timeout=10)
        self.dropped = True

    def _watch(self) -> None:
        while not self._stop.wait(0.2):
            idle = self.idle_ms()
            if idle is not None and idle > self.idle_timeout * 1000:
                self.drop()
                return

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(5)
        if self.dropped:
            for rule in self._rules():
                subprocess.run(["ip", "-n", self.ns, "rule", "del", *rule], capture_output=True, timeout=10,
                               check=False)


@pytest.fixture
def keepalive_forward(jupyter: RemoteHost) -> Iterator[SshtunnelForward]:
    """A forward whose ssh config says ServerAliveInterval=1 (so the NAT timeouts below can be short)."""
    target = jupyter.target("remote", "-o", "ServerAliveInterval=1")
    forward = SshtunnelBackend().open(ForwardSpec(target, "127.0.0.1", jupyter.jupyter_port, free_port()))
    assert isinstance(forward, SshtunnelForward)
    try:
        yield forward
    finally:
        forward.close()


def client_port_of(forward: SshtunnelForward) -> int:
    return int(forward._transport_now().sock.getsockname()[1])


@pytest.mark.slow
def test_slow_reader_gets_every_byte_in_order(jupyter: RemoteHost, keepalive_forward: SshtunnelForward) -> None:
    """Data goes to the browser partly from the transport thread, partly queued (direct_feed.py): a reader
    that stalls forces both paths; the download must still be byte-identical."""
    body = os.urandom(24 * 1024 * 1024)
    (jupyter.jupyter_root / "order.bin").write_bytes(body)
    port = keepalive_forward.local_port
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        s.sendall(f"GET /files/order.bin HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                  f"Authorization: token {jupyter.token}\r\nConnection: close\r\n\r\n".encode())
        got = bytearray()
        reads = 0
        while chunk := s.recv(65536):
            got += chunk
            reads += 1
            if reads % 16 == 0 and len(got) < len(body) // 2:
                time.sleep(0.05)  # a stalling reader: the local socket fills, data queues in the channel
    head, _, received = bytes(got).partition(b"\r\n\r\n")
    assert b" 200 " in head.split(b"\r\n", 1)[0]
    assert len(received) == len(body)
    assert hashlib.sha256(received).digest() == hashlib.sha256(body).digest(), "bytes lost or reordered"
    assert api_ok(port)


@pytest.mark.slow
def test_idle_forward_behind_forgetful_nat_stays_up(jupyter: RemoteHost,
                                                    keepalive_forward: SshtunnelForward) -> None:
    """Keepalives keep a NAT entry with a 3 s idle timeout fresh through 8 s without user traffic."""
    transport = keepalive_forward._transport_now()
    nat = ForgetfulNat(jupyter, client_port_of(keepalive_forward), idle_timeout=3.0)
    nat.start()
    try:
        time.sleep(8)  # the scenario: nobody uses the forward for longer than the NAT's idle timeout
        assert not nat.dropped, "the flow went idle long enough for the NAT to forget it: no keepalives"
        assert api_ok(keepalive_forward.local_port)
        assert keepalive_forward._transport_now() is transport
    finally:
        nat.stop()


@pytest.mark.slow
def test_silently_dropped_flow_comes_back_on_same_port(jupyter: RemoteHost,
                                                       keepalive_forward: SshtunnelForward) -> None:
    """The network drops our SSH flow without a RST: unanswered keepalives (ServerAliveCountMax) must notice
    it, and the forward must answer again on the same local port over a new connection."""
    port = keepalive_forward.local_port
    transport = keepalive_forward._transport_now()
    assert api_ok(port)
    nat = ForgetfulNat(jupyter, client_port_of(keepalive_forward), idle_timeout=0)
    try:
        nat.drop()
        wait_until(lambda: keepalive_forward._transport_now() is not transport, 30,
                   "the forward never noticed that its SSH flow was dropped")
        wait_until(lambda: api_ok(port, timeout=2), 15, "the forward did not answer again")
        assert keepalive_forward.local_port == port
        assert not transport.is_active()
    finally:
        nat.stop()
