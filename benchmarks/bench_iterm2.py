"""Benchmark the iTerm2 frontend: does it keep up with a flood without missing a line, at what cost?

50 sessions in a fake iTerm2. First all are quiet for a while (idle CPU and memory of the frontend
process); then one prints 20,000 lines/s for 10 s, log lines numbered in order with Jupyter start
lines (``    http://localhost:8888/lab?token=<hex>``) at random places, while 49 stay idle. Every line
the frontend hands to its sink is compared with what was printed.

The frontend runs as its own process (``tests/iterm2_client.py``, the real iterm2 library, a sink
printing JSON); its CPU time and memory are read from /proc. The fake iTerm2 runs in this process.

Run: ``python benchmarks/bench_iterm2.py`` (``--seconds 3`` for a quick look). The last lines are
``key=value``: missed_lines, cpu_s_per_mb, peak_rss_mb, idle_cpu_pct, idle_rss_mb.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.fake_iterm2 import FakeITerm2, FakeSession  # noqa: E402

CLIENT = ROOT / "tests" / "iterm2_client.py"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class Received:
    """What the frontend handed over, per session, collected from its stdout."""

    lines: dict[str, list[str]] = field(default_factory=dict)
    records: int = 0
    cond: threading.Condition = field(default_factory=threading.Condition)

    def count(self, session_id: str) -> int:
        with self.cond:
            return len(self.lines.get(session_id, ()))


def read_client(stream: object, received: Received) -> None:
    for raw in stream:  # type: ignore[attr-defined]
        record = json.loads(raw)
        if "session" not in record:
            continue
        with received.cond:
            received.lines.setdefault(record["session"], []).extend(record["lines"])
            received.records += 1
            received.cond.notify_all()


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS  # utime, stime


def memory_mb(pid: int, key: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    raise KeyError(key)


def make_lines(count: int, rng: random.Random, jupyter_every: int) -> list[str]:
    lines: list[str] = []
    for i in range(count):
        if rng.randrange(jupyter_every) == 0:
            lines.append(f"    http://localhost:8888/lab?token={rng.getrandbits(192):048x}")
        lines.append(f"{i:08d} [I 12:00:00.000 ServerApp] 302 GET /api/kernels?{i % 977} (127.0.0.1) 1.27ms")
    return lines


async def flood(session: FakeSession, lines: list[str], rate: float) -> tuple[int, float]:
    """Print ``lines`` at ``rate`` lines/s in small bursts, as a busy program would."""
    start = time.monotonic()
    written = 0
    size = 0
    while written < len(lines):
        due = min(len(lines), int((time.monotonic() - start) * rate) + 1)
        if due > written:
            chunk = "".join(line + "\r\n" for line in lines[written:due]).encode()
            session.write(chunk)
            size += len(chunk)
            written = due
        await asyncio.sleep(0.005)
    return size, time.monotonic() - start


def wait_for(predicate: object, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return True
        time.sleep(0.05)
    return False


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10.0, help="length of the idle and the flood phases")
    parser.add_argument("--rate", type=float, default=20_000.0, help="lines per second in the busy session")
    parser.add_argument("--sessions", type=int, default=50)
    parser.add_argument("--scrollback", type=int, default=10_000, help="lines of scrollback per session")
    parser.add_argument("--rows", type=int, default=24)
    parser.add_argument("--columns", type=int, default=80)
    parser.add_argument("--refresh-hz", type=float, default=60.0, help="screen updates per second at most")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    home = tempfile.mkdtemp(dir="/tmp", prefix="it2b-")
    fake = FakeITerm2(home, refresh_interval=1 / args.refresh_hz)
    client: subprocess.Popen[str] | None = None
    try:
        with fake.running():
            sessions = [
                fake.add_session(args.rows, args.columns, scrollback=args.scrollback) for _ in range(args.sessions)
            ]
            env = dict(os.environ, HOME=home, ITERM2_COOKIE=fake.issue_cookie())
            client = subprocess.Popen(
                [sys.executable, str(CLIENT), "--log-level", "WARNING"],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            received = Received()
            reader = threading.Thread(target=read_client, args=(client.stdout, received), daemon=True)
            reader.start()
            errors: list[str] = []
            err_reader = threading.Thread(target=errors.extend, args=(client.stderr,), daemon=True)
            err_reader.start()

            async def all_read() -> bool:
                return all(s.screen_reads > 0 for s in sessions)

            if not wait_for(lambda: fake.call(all_read()), 60):
                raise SystemExit(f"the frontend did not start:\n{''.join(errors)}")
            pid = client.pid

            # Idle: 50 quiet sessions.
            time.sleep(1.0)  # let start-up settle
            cpu0, t0 = cpu_seconds(pid), time.monotonic()
            time.sleep(args.seconds)
            idle_cpu_pct = 100 * (cpu_seconds(pid) - cpu0) / (time.monotonic() - t0)
            idle_rss_mb = memory_mb(pid, "VmRSS")

            # Flood: one session prints, 49 stay quiet.
            busy = sessions[0]
            rng = random.Random(args.seed)
            lines = make_lines(int(args.rate * args.seconds), rng, jupyter_every=2000)
            cpu0 = cpu_seconds(pid)
            size, elapsed = fake.call(flood(busy, lines, args.rate), timeout=args.seconds * 10 + 60)
            drained = wait_for(lambda: received.count(busy.session_id) >= len(lines), 60)
            cpu_flood = cpu_seconds(pid) - cpu0
            peak_rss_mb = memory_mb(pid, "VmHWM")

            got = received.lines.get(busy.session_id, [])
            expected_set = set(lines)
            got_set = set(got)
            missed = len(expected_set - got_set)
            extra = len(got) - len(got_set & expected_set) - len(got_set - expected_set)
            unexpected = len(got_set - expected_set)
            in_order = got == lines
            others = sum(len(received.lines.get(s.session_id, ())) for s in sessions[1:])
            tokens = sum(1 for line in lines if "token=" in line)
            tokens_got = sum(1 for line in got if "token=" in line)
    finally:
        if client is not None and client.poll() is None:
            client.terminate()
            try:
                client.wait(10)
            except subprocess.TimeoutExpired:
                client.kill()
                client.wait(10)
        shutil.rmtree(home, ignore_errors=True)

    mb = size / 1e6
    warnings = [line.rstrip() for line in errors if "WARNING" in line or "ERROR" in line]
    print(
        f"sessions={args.sessions} rows={args.rows} columns={args.columns} scrollback={args.scrollback}"
        f" refresh_hz={args.refresh_hz:g}"
    )
    print(f"flood: {len(lines)} lines ({tokens} Jupyter URL lines), {mb:.1f} MB in {elapsed:.1f} s")
    print(f"received {len(got)} lines in {received.records} sink calls; drained={drained} in_order={in_order}")
    print(f"jupyter lines received {tokens_got}/{tokens}; duplicates={extra} unexpected={unexpected}")
    print(f"lines in the 49 quiet sessions: {others}")
    for line in warnings[:5]:
        print("client:", line)
    print(f"frontend CPU during the flood: {cpu_flood:.2f} s")
    print(f"missed_lines={missed}")
    print(f"cpu_s_per_mb={cpu_flood / mb:.3f}")
    print(f"peak_rss_mb={peak_rss_mb:.1f}")
    print(f"idle_cpu_pct={idle_cpu_pct:.2f}")
    print(f"idle_rss_mb={idle_rss_mb:.1f}")
    return 0 if missed == 0 and in_order else 1


if __name__ == "__main__":
    raise SystemExit(main())
