"""OpenSSH's ServerAliveInterval / ServerAliveCountMax for paramiko transports (the sshtunnel backend)."""

from __future__ import annotations

import contextlib
import time
from typing import Any

import paramiko

SERVER_ALIVE_COUNT_MAX = 3  # OpenSSH's default ServerAliveCountMax


class AliveProbe:
    """OpenSSH's ServerAliveInterval / ServerAliveCountMax for a paramiko transport.

    paramiko's own keepalive asks for no answer, so it keeps a NAT entry fresh but never notices that the
    path is gone: a forward whose NAT entry was dropped stayed "active" and dead. Like OpenSSH we send
    ``keepalive@openssh.com`` with want-reply (sshd answers it with REQUEST_FAILURE) when the server has
    been silent for an interval, and call the connection dead after SERVER_ALIVE_COUNT_MAX intervals of
    silence. Any bytes from the server count as an answer (the socket wrappers note when they last read).
    """

    def __init__(self, transport: paramiko.Transport, interval: float) -> None:
        self._transport = transport
        self._interval = interval
        self._last_probe = 0.0

    @property
    def transport(self) -> paramiko.Transport:
        return self._transport

    def alive(self) -> bool:
        """False once the server has said nothing for too long; sends a probe when it is due. Never waits."""
        last_recv = getattr(self._transport.sock, "last_recv", None)
        if last_recv is None:
            return True
        now = time.monotonic()
        silent = now - last_recv
        if silent >= self._interval * SERVER_ALIVE_COUNT_MAX:
            return False
        if silent >= self._interval and now - self._last_probe >= self._interval:
            self._last_probe = now
            self._probe()
        return True

    def _probe(self) -> None:
        transport: Any = self._transport
        m = paramiko.Message()
        m.add_byte(paramiko.common.cMSG_GLOBAL_REQUEST)
        m.add_string("keepalive@openssh.com")
        m.add_boolean(True)
        # As Transport._send_user_message, but never waiting for a key exchange to end.
        if not transport.clear_to_send_lock.acquire(blocking=False):
            return
        try:
            if transport.clear_to_send.is_set() and transport.active:
                with contextlib.suppress(OSError, EOFError, paramiko.SSHException):
                    transport._send_message(m)
        finally:
            transport.clear_to_send_lock.release()
