"""Tunnel benchmarks: our backends against OpenSSH, measured side by side in one run (root).

Builds the real test host (sshd + JupyterLab in a network namespace, tests/remote_host.py) and measures:

(a) a Jupyter start line handed to the engine -> browser command started (resolve with ssh -G, choose the
    backend, forward, probe /api through it: the whole real path but the browser), versus ``ssh -N -L`` start
    -> first HTTP 200 on /api. Target ratio <= 1.0.
(b) the same as (a) when the session's ssh rides on a live ControlMaster (the engine picks ``ssh -O
    forward``), absolute ms (target <= 60).
(c) throughput of a 200 MiB download through our sshtunnel forward versus ``ssh -L`` (ratio >= 0.8).
(d) new-connection latency (connect, GET /api, full response) through our forward versus ``ssh -L``
    (ratio <= 2.0).

Medians of several runs, ours and OpenSSH's alternated. Ends with ``key=value`` lines.
Run: ``python benchmarks/bench_tunnel.py`` as root (``--quick`` for fewer runs).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shlex
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from iterm2_autolaunch.browser import Browser  # noqa: E402
from iterm2_autolaunch.config import Config  # noqa: E402
from iterm2_autolaunch.daemon import real_effects  # noqa: E402
from iterm2_autolaunch.engine import Engine  # noqa: E402
from iterm2_autolaunch.session import SessionContext  # noqa: E402
from iterm2_autolaunch.target import ForwardSpec  # noqa: E402
from iterm2_autolaunch.tunnels.sshtunnel_backend import SshtunnelBackend  # noqa: E402
from tests.remote_host import JUPYTER_PORT, RemoteHost, free_port, http_get  # noqa: E402


def wait_200(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if http_get(port, "/api", timeout=5)[0] == 200:
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"no HTTP 200 on 127.0.0.1:{port}/api within {timeout} s")
        time.sleep(0.002)


@contextlib.contextmanager
def ssh_l(host: RemoteHost, port: int) -> Iterator[subprocess.Popen[bytes]]:
    """OpenSSH's own ``ssh -N -L`` (the baseline), owned and reaped."""
    proc = subprocess.Popen(
        ["ssh", "-N", "-L", f"127.0.0.1:{port}:127.0.0.1:{JUPYTER_PORT}", *host.ssh_args(), "remote"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


# (a) ------------------------------------------------------------------------------------------------------
def url_to_browser(host: RemoteHost, *ssh_options: str) -> float:
    """Seconds from a Jupyter start line handed to the engine to the browser command being started.

    The real engine with the real effects (``ssh -G`` resolution, backend choice, free local port, forward,
    probe through it) except the browser, which records the moment it is called. ``ssh_options`` are part of
    the session's command line (e.g. ``-o ControlPath=...`` to ride on a ControlMaster)."""
    log = "[I 2026-11-28 03:39:05.553 ServerApp]"
    lines = [
        f"{log} Jupyter Server 2.21.1 is running at:",
        f"{log} http://127.0.0.1:{JUPYTER_PORT}/lab?token={host.token}",
        f"{log} Use Control-C to stop this server and shut down all kernels (twice to skip confirmation).",
    ]
    command_line = shlex.join(["ssh", *host.ssh_args(*ssh_options), "remote"])
    context = SessionContext("bench", job_name="ssh", command_line=command_line)

    async def run() -> float:
        opened = asyncio.Event()
        effects = real_effects(Config(), Browser())
        effects.open_url = lambda url: opened.set()
        engine = Engine(Config(), effects)
        try:
            t0 = time.perf_counter()
            engine.session_lines(context, lines)
            await asyncio.wait_for(opened.wait(), 30)
            return time.perf_counter() - t0
        finally:
            await engine.shutdown()

    return asyncio.run(run())


def measure_default_path(host: RemoteHost) -> float:
    return url_to_browser(host)


def measure_openssh_start(host: RemoteHost) -> float:
    port = free_port()
    t0 = time.perf_counter()
    with ssh_l(host, port):
        wait_200(port)
        return time.perf_counter() - t0


# (b) ------------------------------------------------------------------------------------------------------
@contextlib.contextmanager
def control_master(host: RemoteHost, control_path: str) -> Iterator[None]:
    proc = subprocess.Popen(
        ["ssh", "-M", "-N", "-o", f"ControlPath={control_path}", "-o", "ControlPersist=no", *host.ssh_args(),
         "remote"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 20
        while not Path(control_path).exists():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the ControlMaster did not start")
            time.sleep(0.01)
        yield
    finally:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def measure_controlmaster(host: RemoteHost, control_path: str) -> float:
    """(a) on a live ControlMaster: the engine picks the openssh backend and ``ssh -O forward``."""
    return url_to_browser(host, "-o", f"ControlPath={control_path}")


# (c) ------------------------------------------------------------------------------------------------------
def download_mb_s(port: int, path: str, size: int, token: str) -> float:
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: token {token}\r\n\r\n".encode())
        t0 = time.perf_counter()
        buf = bytearray(1 << 20)
        view = memoryview(buf)
        got = 0
        head = b""
        while b"\r\n\r\n" not in head:
            n = s.recv_into(view)
            if not n:
                raise ConnectionError("closed before headers")
            head += bytes(view[:n])
        header, _, rest = head.partition(b"\r\n\r\n")
        status_line = header.split(b"\r\n", 1)[0]
        if b" 200 " not in status_line:
            raise RuntimeError(f"download failed: {status_line!r}")
        got = len(rest)
        while got < size:
            n = s.recv_into(view)
            if not n:
                raise ConnectionError(f"closed after {got} bytes")
            got += n
        return got / 1e6 / (time.perf_counter() - t0)


# (d) ------------------------------------------------------------------------------------------------------
def new_connection_ms(port: int, count: int) -> float:
    for _ in range(3):  # warm up
        http_get(port, "/api")
    times = []
    for _ in range(count):
        t0 = time.perf_counter()
        status, _ = http_get(port, "/api")
        times.append(time.perf_counter() - t0)
        assert status == 200
    return statistics.median(times) * 1000


def in_client_process(kind: str, port: int, host: RemoteHost, count: int = 0) -> float:
    """Run one client measurement in a separate process, as a browser would be: a client in this process
    would compete with our in-process forward for the GIL (measured: +1 ms per connection)."""
    env = {**os.environ, "ITA_BENCH_TOKEN": host.token}
    argv = [sys.executable, __file__, "--client", kind, str(port), str(count or host.big_file_size),
            f"/files/{host.big_file}"]
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"client {kind} failed: {proc.stderr.strip()[-500:]}")
    return float(proc.stdout.strip())


def client_main(kind: str, port: int, number: int, path: str) -> int:
    if kind == "download":
        print(download_mb_s(port, path, number, os.environ["ITA_BENCH_TOKEN"]))
    else:
        print(new_connection_ms(port, number))
    return 0


def alternate(runs: int, ours: Callable[[], float], theirs: Callable[[], float]) -> tuple[list[float], list[float]]:
    a: list[float] = []
    b: list[float] = []
    for _ in range(runs):
        a.append(ours())
        b.append(theirs())
    return a, b


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer runs")
    parser.add_argument("--client", nargs=4, metavar=("KIND", "PORT", "N", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.client:
        kind, port, number, path = args.client
        return client_main(kind, int(port), int(number), path)
    runs = 3 if args.quick else 7
    host = RemoteHost.up()
    try:
        # (a)
        measure_default_path(host)  # warm up imports and caches on both sides
        measure_openssh_start(host)
        ours_a, ssh_a = alternate(runs, lambda: measure_default_path(host), lambda: measure_openssh_start(host))
        ours_a_ms, ssh_a_ms = statistics.median(ours_a) * 1000, statistics.median(ssh_a) * 1000
        print(f"(a) start line -> browser: ours {ours_a_ms:.1f} ms, ssh -N -L {ssh_a_ms:.1f} ms "
              f"(runs ours {[round(x * 1000) for x in ours_a]}, ssh {[round(x * 1000) for x in ssh_a]})")

        # (b)
        with tempfile.TemporaryDirectory(prefix="ita-cm-", dir="/tmp") as cm_dir:
            control_path = str(Path(cm_dir) / "cm")
            with control_master(host, control_path):
                measure_controlmaster(host, control_path)
                cm = [measure_controlmaster(host, control_path) for _ in range(runs)]
        cm_ms = statistics.median(cm) * 1000
        print(f"(b) start line -> browser on a ControlMaster: {cm_ms:.1f} ms (runs {[round(x * 1000, 1) for x in cm]})")

        # (c) and (d) on one long-lived forward of each kind
        ours_port, ssh_port = free_port(), free_port()
        forward = SshtunnelBackend().open(ForwardSpec(host.target(), "127.0.0.1", JUPYTER_PORT, ours_port))
        try:
            with ssh_l(host, ssh_port):
                wait_200(ssh_port)
                wait_200(ours_port)
                n = 2 if args.quick else 5
                ours_c, ssh_c = alternate(n, lambda: in_client_process("download", ours_port, host),
                                          lambda: in_client_process("download", ssh_port, host))
                print(f"(c) 200 MiB download: ours {statistics.median(ours_c):.0f} MB/s, ssh -L "
                      f"{statistics.median(ssh_c):.0f} MB/s (runs ours {[round(x) for x in ours_c]}, ssh "
                      f"{[round(x) for x in ssh_c]})")
                count = 30 if args.quick else 60
                ours_d, ssh_d = alternate(3, lambda: in_client_process("latency", ours_port, host, count),
                                          lambda: in_client_process("latency", ssh_port, host, count))
                print(f"(d) new connection + GET /api: ours {statistics.median(ours_d):.2f} ms, ssh -L "
                      f"{statistics.median(ssh_d):.2f} ms (rounds ours {[round(x, 2) for x in ours_d]}, ssh "
                      f"{[round(x, 2) for x in ssh_d]})")
        finally:
            forward.close()
    finally:
        host.down()
        shutil.rmtree(host.workdir, ignore_errors=True)

    print(f"url_to_browser_ratio={ours_a_ms / ssh_a_ms:.3f}")
    print(f"controlmaster_ms={cm_ms:.1f}")
    print(f"throughput_ratio={statistics.median(ours_c) / statistics.median(ssh_c):.3f}")
    print(f"new_conn_latency_ratio={statistics.median(ours_d) / statistics.median(ssh_d):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
