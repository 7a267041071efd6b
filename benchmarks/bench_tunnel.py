"""Tunnel benchmarks: our backends against OpenSSH, measured side by side in one run (root).

Builds the real test host (sshd + JupyterLab in a network namespace, tests/remote_host.py) and measures:

(a) a Jupyter start line handed to the engine -> browser command started (resolve with ssh -G, choose the
    backend, forward, probe /api through it: the whole real path but the browser), versus ``ssh -N -L`` start
    -> first HTTP 200 on /api. Target ratio <= 1.0.
(b) the same as (a) when the session's ssh rides on a live ControlMaster (the engine picks ``ssh -O
    forward``), absolute ms; and ``controlmaster_ms``: the openssh backend's open on that master
    (``ssh -O forward``) to the first HTTP 200 on /api through it (target <= 15).
(c) throughput of a 256 MiB download through our sshtunnel forward versus ``ssh -N -L``, from a server that
    is not the bottleneck (benchmarks/mem_http_server.py: memfd + sendfile in the namespace; the direct
    download is printed beside it), and the forwarder's CPU per MB (ours: this process's CPU time, the
    clients run in their own process; OpenSSH: the ssh process's utime+stime). Targets >= 0.9, <= 1.5.
(d) new-connection latency (connect, GET /api, full response) through our forward versus ``ssh -L``
    (target <= 1.8).
(e) JupyterLab cold load (fresh browser context) in headless Chromium, navigation to network idle, through
    our forward versus ``ssh -L`` to the same Jupyter (benchmarks/page_load.js, playwright-core; target <= 1.1).
(f) the SSH transport killed (its sshd process): ms until /api answers again on the same local port (<= 2000).

Medians of several runs with min/max, ours and OpenSSH's interleaved in one process, who goes first
alternating. Ends with ``key=value`` lines.
Run: ``python benchmarks/bench_tunnel.py`` as root (``--quick`` for fewer runs).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
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
from iterm2_autolaunch.tunnels.openssh_backend import OpenSshBackend  # noqa: E402
from iterm2_autolaunch.tunnels.sshtunnel_backend import SshtunnelBackend, SshtunnelForward  # noqa: E402
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
def ssh_l(host: RemoteHost, port: int, remote_port: int = JUPYTER_PORT) -> Iterator[subprocess.Popen[bytes]]:
    """OpenSSH's own ``ssh -N -L`` (the baseline), owned and reaped."""
    proc = subprocess.Popen(
        ["ssh", "-N", "-L", f"127.0.0.1:{port}:127.0.0.1:{remote_port}", *host.ssh_args(), "remote"],
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


def controlmaster_reuse(host: RemoteHost, control_path: str) -> float:
    """The openssh backend on a live ControlMaster: open (``ssh -O forward``) -> first HTTP 200 on /api."""
    target = host.target("remote", "-o", f"ControlPath={control_path}")
    port = free_port()
    t0 = time.perf_counter()
    forward = OpenSshBackend().open(ForwardSpec(target, "127.0.0.1", JUPYTER_PORT, port))
    try:
        wait_200(port)
        return time.perf_counter() - t0
    finally:
        forward.close()


def measure_controlmaster(host: RemoteHost, control_path: str) -> float:
    """(a) on a live ControlMaster: the engine picks the openssh backend and ``ssh -O forward``."""
    return url_to_browser(host, "-o", f"ControlPath={control_path}")


# (c), (d): a download server that is not the bottleneck, clients in their own process -------------------
BENCH_PORT = 8899
BODY_SIZE = 256 * 1024 * 1024
HERE = Path(__file__).resolve().parent


@contextlib.contextmanager
def memory_server(host: RemoteHost) -> Iterator[None]:
    """benchmarks/mem_http_server.py in the remote namespace: a memfd body sent with sendfile(2)."""
    proc = subprocess.Popen(
        ["ip", "netns", "exec", host.state.namespaces["remote"], sys.executable, str(HERE / "mem_http_server.py"),
         "0.0.0.0", str(BENCH_PORT), str(BODY_SIZE)],
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
    )
    try:
        assert proc.stdout is not None
        if proc.stdout.readline().strip() != b"ready":
            raise RuntimeError("the download server did not start")
        yield
    finally:
        proc.terminate()
        proc.wait(5)


def wait_listening(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def client(kind: str, addr: str, port: int, number: int, token: str = "") -> float:
    argv = [sys.executable, str(HERE / "bench_clients.py"), kind, addr, str(port), str(number)]
    env = {**os.environ, "ITA_BENCH_TOKEN": token}
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"client {kind} failed: {proc.stderr.strip()[-500:]}")
    return float(proc.stdout.strip())


def proc_cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process, from /proc/PID/stat (utime, stime: fields 14 and 15)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def download_with_cpu(port: int, cpu: Callable[[], float]) -> tuple[float, float]:
    """(MB/s, forwarder CPU ms per MB) of one BODY_SIZE download through ``port``."""
    c0 = cpu()
    mb_s = client("download", "127.0.0.1", port, BODY_SIZE)
    return mb_s, (cpu() - c0) * 1000 / (BODY_SIZE / 1e6)


# (e) -------------------------------------------------------------------------------------------------------
def page_loads(urls: list[str], rounds: int) -> dict[str, list[float]]:
    """Cold JupyterLab loads in headless Chromium (benchmarks/page_load.js, playwright-core), interleaved."""
    if not (HERE / "node_modules" / "playwright-core").is_dir():
        subprocess.run(["npm", "install", "--silent", "--prefix", str(HERE)], check=True, timeout=300)
    proc = subprocess.run(["node", str(HERE / "page_load.js"), str(rounds), *urls], capture_output=True,
                          text=True, timeout=900, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"page_load.js failed: {proc.stderr.strip()[-800:]}")
    times: dict[str, list[float]] = json.loads(proc.stdout.strip().splitlines()[-1])
    return times


# (f) -------------------------------------------------------------------------------------------------------
def recovery_s(host: RemoteHost, forward: SshtunnelForward) -> float:
    """Kill the sshd serving our transport; seconds until /api answers again on the same local port."""
    client_port = forward._transport_now().sock.getsockname()[1]
    if not host.kill_connection(client_port):
        raise RuntimeError("no sshd found for our SSH connection")
    t0 = time.perf_counter()
    deadline = t0 + 30
    while time.perf_counter() < deadline:
        try:
            if http_get(forward.local_port, "/api", timeout=2)[0] == 200:
                return time.perf_counter() - t0
        except OSError:
            pass
        time.sleep(0.005)
    raise RuntimeError("the forward did not come back within 30 s")


def paired(ours: list[float], theirs: list[float]) -> str:
    """The median of the per-round ratios: robust to load that drifts between rounds (printed beside)."""
    return f"paired ratio median {statistics.median(a / b for a, b in zip(ours, theirs, strict=True)):.3f}"


def spread(values: list[float], digits: int = 1) -> str:
    return f"median {statistics.median(values):.{digits}f} (min {min(values):.{digits}f}, max " \
           f"{max(values):.{digits}f}, n={len(values)})"


def alternate(runs: int, ours: Callable[[], float], theirs: Callable[[], float]) -> tuple[list[float], list[float]]:
    """Interleaved runs, who goes first alternating, so drifting machine load hits both alike."""
    a: list[float] = []
    b: list[float] = []
    for i in range(runs):
        if i % 2:
            b.append(theirs())
            a.append(ours())
        else:
            a.append(ours())
            b.append(theirs())
    return a, b


def measure_forwards(host: RemoteHost, runs: int, page_rounds: int) -> dict[str, float]:
    """(c)-(f) on one long-lived forward of each kind, both to the same servers."""
    results: dict[str, float] = {}
    ours_port, ssh_port, ours_dl, ssh_dl = free_port(), free_port(), free_port(), free_port()
    target = host.target()
    forward = SshtunnelBackend().open(ForwardSpec(target, "127.0.0.1", JUPYTER_PORT, ours_port))
    download = SshtunnelBackend().open(ForwardSpec(target, "127.0.0.1", BENCH_PORT, ours_dl))
    try:
        with memory_server(host), ssh_l(host, ssh_port, JUPYTER_PORT), \
                ssh_l(host, ssh_dl, BENCH_PORT) as ssh_dl_proc:
            wait_200(ssh_port)
            wait_200(ours_port)
            wait_listening(ssh_dl)
            direct = [client("download", host.addr, BENCH_PORT, BODY_SIZE) for _ in range(3)]
            print(f"(c0) direct download from the memory server, MB/s: {spread(direct, 0)}")
            download_with_cpu(ours_dl, time.process_time)  # warm up
            download_with_cpu(ssh_dl, lambda: proc_cpu_s(ssh_dl_proc.pid))
            pairs_ours: list[tuple[float, float]] = []
            pairs_ssh: list[tuple[float, float]] = []
            for i in range(runs):
                for who in (("ours", "ssh") if i % 2 == 0 else ("ssh", "ours")):
                    if who == "ours":
                        pairs_ours.append(download_with_cpu(ours_dl, time.process_time))
                    else:
                        pairs_ssh.append(download_with_cpu(ssh_dl, lambda: proc_cpu_s(ssh_dl_proc.pid)))
            ours_c, ours_cpu = [p[0] for p in pairs_ours], [p[1] for p in pairs_ours]
            ssh_c, ssh_cpu = [p[0] for p in pairs_ssh], [p[1] for p in pairs_ssh]
            print(f"(c) {BODY_SIZE >> 20} MiB download MB/s: ours {spread(ours_c, 0)}; ssh -L {spread(ssh_c, 0)}; "
                  f"{paired(ours_c, ssh_c)}")
            print(f"(c) forwarder CPU ms per MB: ours {spread(ours_cpu, 2)}; ssh -L {spread(ssh_cpu, 2)}; "
                  f"{paired(ours_cpu, ssh_cpu)}")
            results["direct_over_forwarded"] = statistics.median(direct) / max(statistics.median(ours_c),
                                                                              statistics.median(ssh_c))
            results["throughput_ratio"] = statistics.median(ours_c) / statistics.median(ssh_c)
            results["cpu_per_mb_ratio"] = statistics.median(ours_cpu) / statistics.median(ssh_cpu)

            count = 30 if runs < 5 else 60
            ours_d, ssh_d = alternate(runs, lambda: client("latency", "127.0.0.1", ours_port, count, host.token),
                                      lambda: client("latency", "127.0.0.1", ssh_port, count, host.token))
            print(f"(d) new connection + GET /api, ms: ours {spread(ours_d, 2)}; ssh -L {spread(ssh_d, 2)}; "
                  f"{paired(ours_d, ssh_d)}")
            results["new_conn_latency_ratio"] = statistics.median(ours_d) / statistics.median(ssh_d)

            urls = [f"http://127.0.0.1:{p}/lab?token={host.token}" for p in (ours_port, ssh_port)]
            loads = page_loads(urls, page_rounds)
            ours_e, ssh_e = loads[urls[0]], loads[urls[1]]
            print(f"(e) JupyterLab cold load to network idle, ms: ours {spread(ours_e, 0)}; ssh -L {spread(ssh_e, 0)}; "
                  f"{paired(ours_e, ssh_e)}")
            results["page_load_ratio"] = statistics.median(ours_e) / statistics.median(ssh_e)
        assert isinstance(forward, SshtunnelForward)
        rec = [recovery_s(host, forward) * 1000 for _ in range(3)]
        print(f"(f) dead transport -> /api answers again on the same port, ms: {spread(rec, 0)}")
        results["reconnect_ms"] = statistics.median(rec)
    finally:
        forward.close()
        download.close()
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer runs")
    args = parser.parse_args(argv)
    runs = 3 if args.quick else 7
    print(f"load average before: {os.getloadavg()[0]:.2f} (2 cores shared: compare the ratios, not the ms)")
    host = RemoteHost.up()
    try:
        # (a)
        measure_default_path(host)  # warm up imports and caches on both sides
        measure_openssh_start(host)
        ours_a, ssh_a = alternate(runs, lambda: measure_default_path(host), lambda: measure_openssh_start(host))
        ours_a_ms = [x * 1000 for x in ours_a]
        ssh_a_ms = [x * 1000 for x in ssh_a]
        print(f"(a) start line -> browser, ms: ours {spread(ours_a_ms)}; ssh -N -L {spread(ssh_a_ms)}")

        # (b)
        with tempfile.TemporaryDirectory(prefix="ita-cm-", dir="/tmp") as cm_dir:
            control_path = str(Path(cm_dir) / "cm")
            with control_master(host, control_path):
                measure_controlmaster(host, control_path)
                cm = [measure_controlmaster(host, control_path) * 1000 for _ in range(runs)]
                controlmaster_reuse(host, control_path)
                reuse = [controlmaster_reuse(host, control_path) * 1000 for _ in range(runs)]
        print(f"(b) start line -> browser on a live ControlMaster, ms: {spread(cm)}")
        print(f"(b) ControlMaster reused: ssh -O forward -> first 200 on /api, ms: {spread(reuse)}")

        results = measure_forwards(host, runs, 3 if args.quick else 7)
    finally:
        host.down()
        shutil.rmtree(host.workdir, ignore_errors=True)
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    print(f"url_to_browser_ratio={statistics.median(ours_a_ms) / statistics.median(ssh_a_ms):.3f}")
    print(f"throughput_ratio={results['throughput_ratio']:.3f}")
    print(f"cpu_per_mb_ratio={results['cpu_per_mb_ratio']:.3f}")
    print(f"new_conn_latency_ratio={results['new_conn_latency_ratio']:.3f}")
    print(f"page_load_ratio={results['page_load_ratio']:.3f}")
    print(f"controlmaster_ms={statistics.median(reuse):.1f}")
    print(f"url_to_browser_controlmaster_ms={statistics.median(cm):.1f}")
    print(f"reconnect_ms={results['reconnect_ms']:.0f}")
    print(f"direct_over_forwarded={results['direct_over_forwarded']:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
