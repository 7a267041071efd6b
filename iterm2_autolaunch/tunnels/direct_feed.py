"""Forwarded data straight from paramiko's transport thread to the local socket, when that cannot block.

paramiko hands each incoming CHANNEL_DATA packet (32 KiB from sshd) to the channel's buffer; the forwarding
thread is woken through the channel's pipe, takes the bytes out and sends them on. Per packet that is two
copies, a pipe write and read, a poll wake-up and a GIL hand-over between two threads: measured, the
forwarding thread used 0.8-1.0 ms of CPU per MB on top of the transport thread's 1.3-1.8.

``DirectTransport`` sends the packet to the local socket from the transport thread instead, with
``MSG_DONTWAIT``, when nothing is queued before it; whatever the socket does not take at once goes to the
channel's buffer as before, so a slow browser never blocks the transport (and the other forwards on it).
Order is kept by ``DirectSink.lock``: the forwarding thread holds it from taking bytes out of the buffer
until they are sent, and the transport thread sends directly only with the lock and an empty buffer.
The data sent directly still counts for the channel's window; its WINDOW_ADJUST is sent from the transport
thread only when no key exchange is under way (paramiko's rule for user messages), else with a later packet.
"""

from __future__ import annotations

import socket
import threading
from typing import Any

import paramiko
from paramiko.common import MSG_CHANNEL_DATA, cMSG_CHANNEL_WINDOW_ADJUST

SINK_ATTR = "_ita_direct_sink"


class DirectSink:
    """The local socket of one forwarded connection, as the transport thread may write to it."""

    def __init__(self, local: socket.socket) -> None:
        self.local = local
        self.lock = threading.Lock()
        self.detached = False
        self.pending_ack = 0

    def attach(self, chan: paramiko.Channel) -> None:
        setattr(chan, SINK_ATTR, self)

    def detach(self, chan: paramiko.Channel) -> None:
        """Before the local socket is closed: its file descriptor number may be reused at once."""
        with self.lock:
            self.detached = True
        chan.__dict__.pop(SINK_ATTR, None)

    def feed(self, chan: paramiko.Channel, data: bytes) -> None:
        """Called on the transport thread with one packet's data."""
        if self.lock.acquire(blocking=False):
            try:
                if not self.detached and len(chan.in_buffer) == 0:
                    try:
                        sent = self.local.send(data, socket.MSG_DONTWAIT)
                    except OSError:  # would block, or the client is gone: the forwarding thread finds out
                        sent = 0
                    if sent:
                        self._count(chan, sent)
                        data = data[sent:]
            finally:
                self.lock.release()
        if data:
            chan.in_buffer.feed(data)

    def _count(self, chan: paramiko.Channel, sent: int) -> None:
        self.pending_ack += chan._check_add_window(sent)
        if not self.pending_ack:
            return
        transport: Any = chan.transport
        # As Transport._send_user_message, but never waiting: this is the thread that runs the key exchange.
        if not transport.clear_to_send_lock.acquire(blocking=False):
            return
        try:
            if transport.clear_to_send.is_set() and transport.active:
                m = paramiko.Message()
                m.add_byte(cMSG_CHANNEL_WINDOW_ADJUST)
                m.add_int(chan.remote_chanid)
                m.add_int(self.pending_ack)
                transport._send_message(m)
                self.pending_ack = 0
        finally:
            transport.clear_to_send_lock.release()


def _feed(chan: paramiko.Channel, m: paramiko.Message) -> None:
    sink: DirectSink | None = chan.__dict__.get(SINK_ATTR)
    if sink is None:
        paramiko.Channel._feed(chan, m)
    else:
        sink.feed(chan, m.get_binary())


class DirectTransport(paramiko.Transport):
    """paramiko's Transport, with CHANNEL_DATA for channels that have a DirectSink sent straight on."""

    _channel_handler_table = {**paramiko.Transport._channel_handler_table, MSG_CHANNEL_DATA: _feed}
