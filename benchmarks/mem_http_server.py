"""A download server that cannot be the bottleneck: one file held in memory (memfd), sent with sendfile(2).

Run inside the test host's namespace by bench_tunnel.py: ``python mem_http_server.py ADDR PORT SIZE``.
Every GET answers ``200`` with SIZE bytes (HTTP/1.1, Content-Length, connection closed after the body);
the kernel copies from the page cache of the memfd straight into the socket, so the server uses almost no
CPU and the bench checks that a direct download is several times faster than a forwarded one.
"""

from __future__ import annotations

import os
import socket
import sys
import threading


def make_body(size: int) -> int:
    fd = os.memfd_create("ita-bench-body")
    chunk = os.urandom(1 << 20)  # random: nothing along the way may compress it
    written = 0
    while written < size:
        written += os.write(fd, chunk[: min(len(chunk), size - written)])
    return fd


def serve_one(conn: socket.socket, body_fd: int, size: int) -> None:
    with conn:
        request = b""
        while b"\r\n\r\n" not in request:
            data = conn.recv(65536)
            if not data:
                return
            request += data
        conn.sendall(f"HTTP/1.1 200 OK\r\nContent-Length: {size}\r\nConnection: close\r\n\r\n".encode())
        try:
            offset = 0
            while offset < size:
                sent = os.sendfile(conn.fileno(), body_fd, offset, size - offset)
                if sent == 0:
                    return
                offset += sent
        except OSError:
            return  # the client aborted


def main(argv: list[str]) -> int:
    addr, port, size = argv[0], int(argv[1]), int(argv[2])
    body_fd = make_body(size)
    listener = socket.create_server((addr, port), backlog=128)
    print("ready", flush=True)
    while True:
        conn, _ = listener.accept()
        threading.Thread(target=serve_one, args=(conn, body_fd, size), daemon=True).start()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
