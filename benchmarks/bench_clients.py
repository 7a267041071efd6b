"""The client side of bench_tunnel.py, run in its own process as a browser would be.

A client inside the benchmark process would compete with our in-process forward for the GIL (measured:
+1 ms per connection), so bench_tunnel.py starts ``python bench_clients.py KIND HOST PORT N`` and reads the
one number it prints:

- ``download``: GET one body of N bytes, MB/s from the request to the last byte.
- ``latency``: N times: connect, GET /api, read the response (Content-Length), close; the median in ms.
"""

from __future__ import annotations

import os
import socket
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.remote_host import http_get  # noqa: E402


def download_mb_s(host: str, port: int, size: int) -> float:
    with socket.create_connection((host, port), timeout=30) as s:
        t0 = time.perf_counter()
        s.sendall(f"GET /body HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode())
        view = memoryview(bytearray(1 << 20))
        head = b""
        while b"\r\n\r\n" not in head:
            n = s.recv_into(view)
            if not n:
                raise ConnectionError("closed before headers")
            head += bytes(view[:n])
        header, _, rest = head.partition(b"\r\n\r\n")
        if b" 200 " not in header.split(b"\r\n", 1)[0]:
            raise RuntimeError(f"download failed: {header[:80]!r}")
        got = len(rest)
        while got < size:
            n = s.recv_into(view)
            if not n:
                raise ConnectionError(f"closed after {got} bytes")
            got += n
        return got / 1e6 / (time.perf_counter() - t0)


def get_api(port: int, token: str) -> None:
    status, _ = http_get(port, "/api", token)  # reads Content-Length bytes, as a browser does; no wait for EOF
    if status != 200:
        raise RuntimeError(f"GET /api: HTTP {status}")


def new_connection_ms(host: str, port: int, count: int, token: str) -> float:
    for _ in range(3):  # warm up
        get_api(port, token)
    times = []
    for _ in range(count):
        t0 = time.perf_counter()
        get_api(port, token)
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1000


def main(argv: list[str]) -> int:
    kind, host, port, number = argv[0], argv[1], int(argv[2]), int(argv[3])
    if kind == "download":
        print(download_mb_s(host, port, number))
    else:
        print(new_connection_ms(host, port, number, os.environ["ITA_BENCH_TOKEN"]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
