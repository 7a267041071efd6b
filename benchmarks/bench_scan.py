"""Detector throughput on realistic terminal output, against str.count('://') and a naive URL regex.

Builds at least 10 MB of mixed output (compiler logs, training logs with progress bars, pip and git
output) with the real server start-ups from tests/data/captures scattered through it, turns it into
logical lines with the same LineAssembler the frontends use, then times, on the same text in the same
run: ``str.count('://')`` (the baseline), ``re.finditer(r'https?://\\S+')``, and ``Detector.feed_text`` as the
daemon runs it (no line numbers; a server that ended without a stop line is forgotten at the end of its
capture, as the engine's health probe makes the session's detector forget it within seconds) and as
``scan`` runs it (no health probe: every server is watched as the detector alone decides): batches of
``cli.BATCH_LINES`` lines, each with its line count (scan knows it: the batch is a list of lines), so line
numbers are counted only within a batch, up to its events (the batches are cut before timing, as the
text is joined before timing for every contender).
The last lines are ``ratio_vs_count=<daemon detector MB/s / count MB/s>`` (target >= 0.5) and
``worst_case_ratio=<hostile MB/s / normal MB/s>`` (target >= 0.5): the whole path from bytes
(LineAssembler, then the daemon's detector) on hostile input (64 KiB lines of ``http://a:1 ::``, a 2 MB
bare-CR stream, runs of ``://a:1/``, JSON listing look-alikes, Ctrl-C echoes and lines holding stop cues
after a live banner, a 64 KiB line of stop cues, one of Ray's address cues) against
the same path on the normal text, in the same run.

With --breakdown it also prints where scan's time goes, in str.count('://') passes: the candidate regex, the
search for address cues, the stop-cue searches the scan made (replayed), the newline counts (scan with line
numbers minus without) and the rest, Python.

Run: python benchmarks/bench_scan.py [--mb 10] [--repeat 21] [--breakdown]
(21 rounds: one takes milliseconds, and with 9 the median ratio moved by +-0.04 from run to run on a
quiet 2-core VM; with 21, by +-0.01.)

The ratios depend on the interpreter's build as much as on the detector: the baseline is one C loop, the
detector a regex pass, str.find passes and Python. Measured on one quiet 2-core VM (the same text),
ratio_vs_count_with_line_numbers / ratio_vs_count: pyenv CPython 3.10.13 0.35/0.46, 3.11.7 0.45/0.58,
3.12.1 0.43/0.54, 3.13.0 0.44/0.55; Debian's packaged CPython 3.11.2 0.17/0.22, where str.count('://')
ran at 3,697 MB/s against 1,404 in pyenv's 3.11.7 while the detector was as fast (daemon 802 MB/s against
808). So the first line printed names the interpreter. (Of the daemon's time, 0.28 of a str.count pass is
the search for Ray's address line, which prints no "://": kinds_services.RAY.address_cue.)
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import re
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

from iterm2_autolaunch import streams
from iterm2_autolaunch.candidates import candidate_lines, lines_holding
from iterm2_autolaunch.cli import BATCH_LINES
from iterm2_autolaunch.detect import Detector
from iterm2_autolaunch.lines import LineAssembler, bytes_to_lines

CAPTURES = Path(__file__).resolve().parent.parent / "tests" / "data" / "captures"


def build_log(rng: random.Random) -> list[str]:
    unit = rng.choice(["parser", "lexer", "engine", "tensor_ops", "io/reader", "net/http"])
    return [
        f"[{rng.randint(1, 999)}/1000] Building CXX object src/{unit}/CMakeFiles/{unit}.dir/{unit}_{i}.cc.o"
        for i in range(rng.randint(5, 30))
    ] + [f"/usr/bin/c++ -O2 -g -Isrc -o build/{unit}.so -shared build/{unit}/*.o -lpthread -ldl"]


def training_log(rng: random.Random) -> list[str]:
    lines = []
    for epoch in range(rng.randint(2, 6)):
        bar = "".join(
            f"\rEpoch {epoch}: {p:3d}%|{'#' * (p // 5):<20}| {p * 12}/1200 [00:{p // 2:02d}<00:30, 39.2it/s]"
            for p in range(0, 101, 20)
        )
        lines.append(bar)
        lines.append(f"epoch={epoch} loss={rng.random():.4f} acc={rng.random():.4f} lr=3e-4 step={epoch * 1200}")
        lines.append(f"INFO:trainer:saved checkpoint to /scratch/alice/runs/{rng.randint(1000, 9999)}/ckpt-{epoch}.pt")
    return lines


def pip_log(rng: random.Random) -> list[str]:
    lines = []
    for package in rng.sample(["numpy", "pandas", "torch", "jupyterlab", "requests", "scipy", "tqdm"], 3):
        h = "".join(rng.choices("0123456789abcdef", k=64))
        lines += [
            f"Collecting {package}>=1.0",
            f"  Downloading https://files.pythonhosted.org/packages/{h[:2]}/{h[2:4]}/{h[4:]}/"
            f"{package}-2.1.0-cp311-cp311-manylinux_2_17_x86_64.whl (18.2 MB)",
            "     ━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━ 18.2/18.2 MB 41.3 MB/s eta 0:00:00",
            f"Requirement already satisfied: typing-extensions in ./venv/lib/python3.11/site-packages ({package})",
        ]
    lines.append("Successfully installed " + " ".join(f"pkg{rng.randint(1, 99)}-1.0" for _ in range(5)))
    return lines


def git_log(rng: random.Random) -> list[str]:
    return [
        "remote: Enumerating objects: 143, done.",
        "remote: Counting objects: 100% (143/143), done.",
        "Receiving objects: 100% (143/143), 41.20 KiB | 1.03 MiB/s, done.",
        f"From https://github.com/example/project{rng.randint(1, 50)}",
        f"   {rng.randbytes(4).hex()}..{rng.randbytes(4).hex()}  main       -> origin/main",
        "curl -sSL https://example.org/install.sh -o install.sh  # see http://localhost:8080/docs too",
    ]


def captured_startups() -> list[tuple[list[str], tuple[str, int, str | None] | None]]:
    """Each capture that announces exactly one server, as logical lines, with that server's key when the
    capture ends without a stop line (SIGKILL, a closed terminal, a tool that prints none)."""
    index = json.loads((CAPTURES / "index.json").read_text())
    startups = []
    for entry in index:
        if len(entry["expect"]) == 1:
            server = entry["expect"][0]
            silent = None if entry["shutdown"] else (server["kind"], server["port"], server["token"])
            startups.append((list(bytes_to_lines([(CAPTURES / entry["file"]).read_bytes()])), silent))
    return startups


def build_text(megabytes: float, seed: int = 7) -> tuple[str, int, list[tuple[int, tuple[str, int, str | None]]]]:
    """The benchmark text (as logical lines joined by newlines), how many server start-ups it holds, and
    where a server ended silently: (the line after its capture, its key)."""
    rng = random.Random(seed)
    startups = captured_startups()
    generators: list[Callable[[random.Random], list[str]]] = [build_log, training_log, pip_log, git_log]
    assembler = LineAssembler()
    lines: list[str] = []
    silences: list[tuple[int, tuple[str, int, str | None]]] = []
    size, inserted = 0, 0
    while size < megabytes * 1_000_000:
        silent = None
        if startups and rng.random() < 0.01:
            chunk, silent = rng.choice(startups)
            inserted += 1
        else:
            chunk = rng.choice(generators)(rng)
        new = assembler.feed(("\n".join(chunk) + "\n").encode())
        lines.extend(new)
        if silent is not None:
            silences.append((len(lines), silent))
        size += sum(len(line.encode()) + 1 for line in new)
    return "\n".join(lines), inserted, silences


def hostile_bytes(megabytes: float) -> bytes:
    """Input built to hit every place a detector or line assembler can go quadratic."""
    banner = (
        b"[I 2026-11-28 03:39:05.553 ServerApp] Jupyter Server 2.21.1 is running at:\n"
        b"[I 2026-11-28 03:39:05.553 ServerApp] http://localhost:8888/lab?token=abc\n"
    )
    pieces = [
        b"http://a:1 ::" * 5000 + b"\n",  # 64 KiB of candidates followed by a listing's "::"
        b"\r" * 2_000_000 + b"\n",  # a bare-CR stream
        b"://a:1/" * 10_000 + b" x\n",  # one run of candidates that all fail at the end
        b"    http://(a or 127.0.0.1):1" * 2000 + b"\n",
        b'    "url": "http://localhost:1/",\n' * 2000,  # JSON listing look-alikes
        banner + b"^C\n" * 20_000,  # Ctrl-C echoes while a server runs
        banner + b"[I 2026-11-28 03:39:06.001 ServerApp] Shutting down: Shutdown confirmed? no\n" * 20_000,
        b"] Shutdown confirmed] Shutting down ] received signal " * 1200 + b"\n",  # a 64 KiB line of stop cues
        b"Started a local Ray instance. View the dashboard at 127.0.0.1:1 " * 1000 + b"\n",  # of address cues
        b"x" * 3_000_000 + b"\n",  # one endless line
    ]
    out = bytearray()
    while len(out) < megabytes * 1_000_000:
        for piece in pieces:
            out += piece
    return bytes(out)


def through_assembler(data: bytes) -> None:
    """The daemon's whole path: bytes in 64 KiB chunks -> logical lines -> detector."""
    assembler = LineAssembler()
    detector = Detector(number_lines=False)
    for at in range(0, len(data), 65536):
        detector.feed(assembler.feed(data[at : at + 65536]))
    detector.feed(assembler.finish())


def median_seconds(contenders: dict[str, Callable[[], object]], repeat: int) -> dict[str, float]:
    """Each contender's median time; rounds interleave them, so a load change on the machine hits all alike."""
    seconds: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(repeat):
        for name, run in contenders.items():
            start = time.perf_counter()
            run()
            seconds[name].append(time.perf_counter() - start)
    return {name: statistics.median(times) for name, times in seconds.items()}


def stop_cue_finds(batches: list[tuple[str, int]]) -> list[tuple[str, streams.Cue, int, int]]:
    """The str.find calls of the stop-cue search in a scan of ``batches``: (text, cue, start, end)."""
    finds: list[tuple[str, streams.Cue, int, int]] = []
    first_hit = streams.CueSearch._first_hit

    def recording(search: streams.CueSearch, before: int) -> int:
        for cue, state in search.watched:  # the same decisions as CueSearch._first_hit, before it runs
            if state[0] < search.position:
                start = state[1] if state[0] == -1 and state[1] > search.position else search.position
                if start < before:
                    finds.append((search.text, cue, start, max(before, start + streams.LOOKAHEAD) + cue.width))
        return first_hit(search, before)

    streams.CueSearch._first_hit = recording  # type: ignore[method-assign, assignment]
    try:
        detector = Detector()
        for batch, count in batches:
            detector.feed_text(batch, count)
    finally:
        streams.CueSearch._first_hit = first_hit  # type: ignore[method-assign]
    return finds


def breakdown(text: str, batches: list[tuple[str, int]], repeat: int) -> None:
    """Where scan's time goes, in str.count('://') passes over the text."""
    prefix = Detector()._prefix
    cues = [kind.address_cue for kind in Detector()._kinds if kind.address_cue]
    finds = stop_cue_finds(batches)

    def scan(number_lines: bool) -> None:
        detector = Detector(number_lines=number_lines)
        for batch, count in batches:
            detector.feed_text(batch, count)

    median = median_seconds({
        "count": lambda: text.count("://"),
        "scan": lambda: scan(True),
        "scan without line numbers": lambda: scan(False),
        "candidates": lambda: [candidate_lines(batch, prefix) for batch, _ in batches],
        "address_cues": lambda: [lines_holding(batch, cues) for batch, _ in batches],
        "stop_cues": lambda: [cue.find(batch, start, end) for batch, cue, start, end in finds],
    }, repeat)  # fmt: skip
    units = {name: value / median["count"] for name, value in median.items()}
    line_numbers = units["scan"] - units["scan without line numbers"]
    python = units["scan without line numbers"] - units["candidates"] - units["address_cues"] - units["stop_cues"]
    print(f"breakdown: candidates={units['candidates']:.2f} address_cues={units['address_cues']:.2f} "
          f"stop_cues={units['stop_cues']:.2f} line_numbers={line_numbers:.2f} python={python:.2f} "
          f"(of scan={units['scan']:.2f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=10.0)
    parser.add_argument("--repeat", type=int, default=21)
    parser.add_argument("--breakdown", action="store_true", help="also print where scan's time goes")
    args = parser.parse_args()

    text, inserted, silences = build_text(args.mb)
    megabytes = len(text.encode()) / 1_000_000
    announced = [e for e in Detector().feed_text(text) if e.event == "announce"]
    print(f"interpreter: {platform.python_implementation()} {platform.python_version()} {sys.executable}"
          f" ({', '.join(platform.python_build())}, {platform.python_compiler()})")
    print(f"text: {megabytes:.1f} MB, {text.count(chr(10)) + 1} lines, {inserted} server start-ups inserted")
    print(f"detector found {len(announced)} announcements (a capture inserted twice is one server)")

    lines = text.split("\n")
    batches = [("\n".join(lines[at : at + BATCH_LINES]), len(lines[at : at + BATCH_LINES]))
               for at in range(0, len(lines), BATCH_LINES)]  # fmt: skip

    # The daemon: after a server ended without a stop line, the engine's health probe tells the session's
    # detector to forget it (engine._watch, within seconds); here at the end of its capture.
    segments, at = [], 0
    for end, gone in [*silences, (len(lines), None)]:
        segments.append(("\n".join(lines[at:end]), gone))
        at = end

    def daemon() -> None:
        detector = Detector(number_lines=False)
        for segment, gone in segments:
            detector.feed_text(segment)
            if gone is not None:
                detector.forget(*gone)

    def scan() -> None:
        detector = Detector()
        for batch, count in batches:
            detector.feed_text(batch, count)

    naive = re.compile(r"https?://\S+")
    contenders: dict[str, Callable[[], object]] = {
        "str.count('://')": lambda: text.count("://"),
        "re.finditer(r'https?://\\S+')": lambda: sum(1 for _ in naive.finditer(text)),
        "detector, daemon (no line numbers)": daemon,
        "detector, scan (with line numbers)": scan,
    }
    rate = {name: megabytes / seconds for name, seconds in median_seconds(contenders, args.repeat).items()}
    for name in contenders:
        print(f"{name:<36} {rate[name]:8.1f} MB/s  (median of {args.repeat})")
    baseline = rate["str.count('://')"]
    print(f"ratio_vs_count_with_line_numbers={rate['detector, scan (with line numbers)'] / baseline:.2f}")
    print(f"ratio_vs_count={rate['detector, daemon (no line numbers)'] / baseline:.2f}")

    normal = text.encode()
    hostile = hostile_bytes(args.mb)
    paths: dict[str, tuple[bytes, list[float]]] = {"normal": (normal, []), "hostile": (hostile, [])}
    for _ in range(max(3, args.repeat // 3)):
        for data, times in paths.values():
            start = time.perf_counter()
            through_assembler(data)
            times.append(time.perf_counter() - start)
    path_rate = {name: len(data) / 1e6 / statistics.median(times) for name, (data, times) in paths.items()}
    for name, value in path_rate.items():
        print(f"bytes -> lines -> detector, {name:<8} {value:8.1f} MB/s  ({len(paths[name][0]) / 1e6:.1f} MB)")
    print(f"worst_case_ratio={path_rate['hostile'] / path_rate['normal']:.2f}")
    if args.breakdown:
        breakdown(text, batches, args.repeat)


if __name__ == "__main__":
    main()
