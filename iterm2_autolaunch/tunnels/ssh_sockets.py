"""The sockets under a paramiko Transport: a jump host's channel as the next hop's socket, and the SSH socket
itself read in large chunks."""

from __future__ import annotations

import contextlib
import socket
import time
from typing import Any

import paramiko

READ_SIZE = 1024 * 1024  # reads of a jump channel, and of the local socket in the forwarding loop
RECV_SIZE = 1024 * 1024  # one read of the SSH socket serves many packets (SshSocket.recv)


class ChannelSocket:
    """A jump host's direct-tcpip channel used as the socket of the next hop's Transport.

    Reads are taken from the channel in big chunks and handed out in the small pieces paramiko's Packetizer
    asks for: BufferedPipe.read() deletes from the front of its whole buffer on every call, and with a
    16 MiB window that made ProxyJump downloads four times slower (measured: 25 vs 108 MB/s).
    Only the next hop's transport thread reads from it.
    """

    def __init__(self, chan: paramiko.Channel) -> None:
        self._chan = chan
        self._buf = b""
        self._pos = 0
        self.last_recv = time.monotonic()  # read by AliveProbe

    def recv(self, n: int) -> bytes:
        if self._pos >= len(self._buf):
            self._buf = self._chan.recv(READ_SIZE)  # socket.timeout passes through, as paramiko expects
            self._pos = 0
            self.last_recv = time.monotonic()
            if not self._buf:
                return b""
        out = self._buf[self._pos : self._pos + n]
        self._pos += len(out)
        return out

    def send(self, data: bytes) -> int:
        return int(self._chan.send(data))

    def settimeout(self, timeout: float | None) -> None:
        self._chan.settimeout(timeout)

    def getpeername(self) -> Any:
        return self._chan.getpeername()

    @property
    def _closed(self) -> bool:  # read by Transport.stop_thread()
        return bool(self._chan.closed)

    def close(self) -> None:
        self._chan.close()


class SshSocket:
    """The TCP socket of an SSH connection, as paramiko's Packetizer reads it, with quick ACKs.

    sshd does not set TCP_NODELAY on a forwarding-only connection, so a small packet it sends right after
    another (the channel-open confirmation after its post-auth hostkeys message, EOF after the last data)
    waits for our ACK, which Linux delays by 40 ms. Measured: the first request through a fresh forward took
    45 ms instead of 2 ms, and every EOF came 40 ms late. So after reading a small packet we ACK at once
    (TCP_QUICKACK); bulk transfers are left alone (an ACK per packet cost ~15% throughput).
    """

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._closed = False  # read by Transport.stop_thread()
        self._buf = b""
        self._pos = 0
        self.last_recv = time.monotonic()  # read by AliveProbe

    def recv(self, n: int) -> bytes:
        """Up to ``n`` bytes, from one big read of the socket.

        paramiko's Packetizer asks for each packet's header, then its body; read straight from the socket
        that is two system calls per packet, and a body arriving in pieces is joined with ``+=``. One
        RECV_SIZE read serves many packets (measured: CPU per MB down by a fifth).
        """
        if self._pos >= len(self._buf):
            data = self._sock.recv(max(n, RECV_SIZE))  # socket.timeout passes through, as paramiko expects
            self.last_recv = time.monotonic()
            # A small read means a small packet waits for our ACK: send it now (see the class docstring).
            if len(data) < _QUICKACK_BELOW and _TCP_QUICKACK is not None and data:
                with contextlib.suppress(OSError):
                    self._sock.setsockopt(socket.IPPROTO_TCP, _TCP_QUICKACK, 1)
            if len(data) <= n:
                return data
            self._buf, self._pos = data, 0
        out = self._buf[self._pos : self._pos + n]
        self._pos += len(out)
        return out

    def send(self, data: bytes) -> int:
        return self._sock.send(data)

    def settimeout(self, timeout: float | None) -> None:
        self._sock.settimeout(timeout)

    def getpeername(self) -> Any:
        return self._sock.getpeername()

    def getsockname(self) -> Any:
        return self._sock.getsockname()

    def shutdown(self, how: int) -> None:
        self._sock.shutdown(how)

    def close(self) -> None:
        self._closed = True
        self._sock.close()


_TCP_QUICKACK: int | None = getattr(socket, "TCP_QUICKACK", None)  # Linux only
_TCP_USER_TIMEOUT: int | None = getattr(socket, "TCP_USER_TIMEOUT", None)  # Linux only
_QUICKACK_BELOW = 4096


