"""OpenSSH's ControlMaster protocol spoken directly over the control socket: alive check and local forwards.

``ssh -O check`` and ``ssh -O forward`` each start an ssh process that reads the ssh config, connects to the
control socket and sends one request; on this 2-core machine that was 12-48 ms per forward (benchmark
``controlmaster_ms``). The requests themselves take well under a millisecond, so we send them ourselves.
Message formats as OpenSSH's client sends them (mux.c: ``mux_client_hello_exchange``,
``mux_client_request_alive``, ``mux_client_forward``; PROTOCOL.mux): each packet is a uint32 length and a
body of uint32 / SSH strings. Anything unexpected raises MuxUnavailable, and the caller falls back to the
ssh process, which remains the reference.
"""

from __future__ import annotations

import socket
import struct

MUX_MSG_HELLO = 0x00000001
MUX_C_ALIVE_CHECK = 0x10000004
MUX_C_OPEN_FWD = 0x10000006
MUX_C_CLOSE_FWD = 0x10000007
MUX_S_OK = 0x80000001
MUX_S_PERMISSION_DENIED = 0x80000002
MUX_S_FAILURE = 0x80000003
MUX_S_ALIVE = 0x80000005
MUX_FWD_LOCAL = 1
SSHMUX_VER = 4
REQUEST_ID = 0


class MuxUnavailable(Exception):
    """The control socket could not be used (no master, wrong protocol): ask the ssh process instead."""


class MuxRefused(Exception):
    """The master answered and refused the request; the message is the master's reason."""


def _string(text: str) -> bytes:
    data = text.encode()
    return struct.pack(">I", len(data)) + data


def _read_exact(sock: socket.socket, n: int) -> bytes:
    out = b""
    while len(out) < n:
        chunk = sock.recv(n - len(out))
        if not chunk:
            raise MuxUnavailable("the ControlMaster closed the control socket")
        out += chunk
    return out


class _Mux:
    def __init__(self, path: str, timeout: float) -> None:
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._sock.settimeout(timeout)
        try:
            self._sock.connect(path)
            self._send(struct.pack(">II", MUX_MSG_HELLO, SSHMUX_VER))
            kind, version = struct.unpack(">II", self._receive()[:8])
        except (OSError, struct.error) as e:
            self._sock.close()
            raise MuxUnavailable(f"control socket {path}: {e}") from e
        if kind != MUX_MSG_HELLO or version != SSHMUX_VER:
            self._sock.close()
            raise MuxUnavailable(f"control socket {path}: unexpected hello {kind:#x} version {version}")

    def _send(self, body: bytes) -> None:
        self._sock.sendall(struct.pack(">I", len(body)) + body)

    def _receive(self) -> bytes:
        (length,) = struct.unpack(">I", _read_exact(self._sock, 4))
        return _read_exact(self._sock, length)

    def request(self, body: bytes) -> tuple[int, bytes]:
        """Send one request (type, request id, ...); the reply's type and what follows its request id."""
        try:
            self._send(body)
            reply = self._receive()
            kind, rid = struct.unpack(">II", reply[:8])
        except (OSError, struct.error) as e:
            raise MuxUnavailable(f"control socket: {e}") from e
        if rid != REQUEST_ID:
            raise MuxUnavailable(f"control socket: out of sequence reply {rid}")
        if kind in (MUX_S_FAILURE, MUX_S_PERMISSION_DENIED):
            (length,) = struct.unpack(">I", reply[8:12])
            raise MuxRefused(reply[12 : 12 + length].decode(errors="replace"))
        return kind, reply[8:]

    def close(self) -> None:
        self._sock.close()


def master_alive(path: str, timeout: float) -> bool:
    """MUX_C_ALIVE_CHECK: True if a master answers on ``path``. MuxUnavailable if it cannot tell."""
    mux = _Mux(path, timeout)
    try:
        kind, _ = mux.request(struct.pack(">II", MUX_C_ALIVE_CHECK, REQUEST_ID))
    except MuxRefused:
        return False
    finally:
        mux.close()
    return kind == MUX_S_ALIVE


def local_forward(path: str, timeout: float, listen_host: str, listen_port: int, connect_host: str,
                  connect_port: int, *, cancel: bool = False) -> None:
    """MUX_C_OPEN_FWD (or CLOSE_FWD) of a local forward, as ``ssh -O forward|cancel -L ...`` sends it.
    Returns once the master has its listener up (it answers after binding). MuxRefused: the master's reason."""
    kind = MUX_C_CLOSE_FWD if cancel else MUX_C_OPEN_FWD
    body = (struct.pack(">III", kind, REQUEST_ID, MUX_FWD_LOCAL) + _string(listen_host)
            + struct.pack(">I", listen_port) + _string(connect_host) + struct.pack(">I", connect_port))
    mux = _Mux(path, timeout)
    try:
        reply, _ = mux.request(body)
    finally:
        mux.close()
    if reply != MUX_S_OK:
        raise MuxUnavailable(f"control socket: unexpected reply {reply:#x}")
