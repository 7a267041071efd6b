"""The per-connection forwarding of the sshtunnel backend: the copy loop, a guard for a paramiko race,
and a pool of handler threads. Independent of which forward they serve.
"""

from __future__ import annotations

import os
import queue
import select
import socket
import threading
from collections.abc import Callable
from typing import Any

import paramiko
import paramiko.pipe
import sshtunnel

from .direct_feed import DirectSink
from .ssh_sockets import READ_SIZE


# --- Guard for paramiko's PosixPipe race ---------------------------------------------------------------
# paramiko issues #1157 and #2271 (unfixed in 5.1.0): Channel.close() closes the channel's PosixPipe while the
# transport thread feeds incoming data and calls pipe.set(); the write hits a closed (or already reused!) file
# descriptor, BrokenPipeError/EBADF escapes into Transport.run() and the whole SSH transport dies with every
# forward on it. Clients that abort downloads trigger it within a few hundred requests (TUNNEL_NOTES.md). We
# serialise set/clear/close of each pipe with a lock and make them no-ops once closed. Patched once, at import.
def _install_pipe_guard() -> None:
    cls: Any = paramiko.pipe.PosixPipe
    if getattr(cls, "_ita_guarded", False):
        return
    original_init = cls.__init__
    fallback_lock = threading.Lock()

    def _lock(self: Any) -> Any:
        return self.__dict__.get("_ita_lock", fallback_lock)

    def __init__(self: Any) -> None:
        original_init(self)
        self._ita_lock = threading.Lock()

    def close(self: Any) -> None:
        with _lock(self):
            if self._closed:
                return
            self._closed = True
            os.close(self._rfd)
            os.close(self._wfd)

    def clear(self: Any) -> None:
        with _lock(self):
            if not self._set or self._forever or self._closed:
                return
            os.read(self._rfd, 1)
            self._set = False

    def set(self: Any) -> None:
        with _lock(self):
            if self._set or self._closed:
                return
            self._set = True
            os.write(self._wfd, b"*")

    cls.__init__ = __init__
    cls.close = close
    cls.clear = clear
    cls.set = set
    cls._ita_guarded = True


_install_pipe_guard()


# --- The forwarding loop ---------------------------------------------------------------------------------
def pump(local: socket.socket, chan: paramiko.Channel, closing: threading.Event) -> None:
    """Copy both ways until the remote side ends. Local EOF is passed on as a half-close.

    Data from the remote side mostly goes straight from the transport thread to ``local`` (direct_feed.py);
    this thread sends on what the local socket did not take at once, holding the sink's lock so the two
    never reorder bytes. poll(), not select(): a long-running daemon may hold file descriptors above
    select's limit of 1024. Waiting on the channel uses its fileno(), i.e. paramiko's PosixPipe (hence the
    guard above).
    """
    sink = DirectSink(local)
    sink.attach(chan)
    try:
        poller = select.poll()
        local_fd, chan_fd = local.fileno(), chan.fileno()
        poller.register(local_fd, select.POLLIN)
        poller.register(chan_fd, select.POLLIN)
        while not closing.is_set():
            ready = {fd for fd, _ in poller.poll(1000)}
            if local_fd in ready:
                data = local.recv(READ_SIZE)
                if data:
                    chan.sendall(data)
                else:
                    poller.unregister(local_fd)
                    chan.shutdown_write()
            if chan_fd in ready:
                with sink.lock:
                    data = chan.recv(READ_SIZE)
                    if not data:
                        return
                    local.sendall(data)
    finally:
        sink.detach(chan)


class WorkerPool:
    """Threads that serve one local connection each, then wait up to IDLE_TIMEOUT for the next one.

    sshtunnel starts a new thread per connection; on a loaded 2-core machine that cost about 1 ms per new
    connection, more than OpenSSH's whole forwarding latency (measured: 2.6 ms vs 1.6 ms per connection).
    Grows without bound (JupyterLab holds websockets open for long), keeps at most MAX_IDLE idle threads.
    """

    IDLE_TIMEOUT = 30.0
    MAX_IDLE = 8

    def __init__(self, name: str) -> None:
        self._name = name
        self._lock = threading.Lock()
        self._jobs: queue.SimpleQueue[Callable[[], None] | None] = queue.SimpleQueue()
        self._idle = 0  # waiting workers not yet promised a job
        self._threads: set[threading.Thread] = set()
        self._stopped = False

    def submit(self, job: Callable[[], None]) -> bool:
        with self._lock:
            if self._stopped:
                return False
            if self._idle:
                self._idle -= 1
                self._jobs.put(job)
                return True
            thread = threading.Thread(target=self._work, args=(job,), name=self._name, daemon=True)
            self._threads.add(thread)
        thread.start()
        return True

    def _work(self, job: Callable[[], None] | None) -> None:
        try:
            while job is not None:
                job()
                with self._lock:
                    if self._stopped or self._idle >= self.MAX_IDLE:
                        return
                    self._idle += 1
                try:
                    job = self._jobs.get(timeout=self.IDLE_TIMEOUT)
                except queue.Empty:
                    with self._lock:
                        if self._idle:  # nobody promised us a job: retire
                            self._idle -= 1
                            return
                        job = self._jobs.get_nowait()  # a job was promised while we timed out
        finally:
            with self._lock:
                self._threads.discard(threading.current_thread())

    def stop(self) -> None:
        with self._lock:
            self._stopped = True
            idle, self._idle = self._idle, 0
        for _ in range(idle):
            self._jobs.put(None)

    def threads(self) -> list[threading.Thread]:
        with self._lock:
            return list(self._threads)


class PooledForwardServer(sshtunnel._ForwardServer):
    """sshtunnel's (non-threading) forward server, serving each accepted connection on a pooled thread."""

    pool: WorkerPool  # set by the per-forward subclass

    def process_request(self, request: socket.socket, client_address: Any) -> None:
        if not self.pool.submit(lambda: self._serve(request, client_address)):
            self.shutdown_request(request)

    def _serve(self, request: socket.socket, client_address: Any) -> None:
        try:
            self.finish_request(request, client_address)
        except Exception:
            self.handle_error(request, client_address)
        finally:
            self.shutdown_request(request)

    def server_close(self) -> None:
        super().server_close()
        self.pool.stop()
