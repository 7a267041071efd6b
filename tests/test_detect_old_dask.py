"""The dashboard of distributed 1.25-2023.3.0, which prints no URL for it, on the real captures of seven versions.

distributed <= 2023.3.0 logs the scheduler's address and below it the dashboard's "HOST:PORT" with no scheme,
HOST empty when the scheduler listens on every interface (kinds.py cites the format strings), 1.x naming the
service "bokeh" where 2.x and later say "dashboard"; 2023.3.2 and later log the link "http://HOST:PORT/status"
that the DASK layout reads. The old form must give the same dask event,
from the real bytes however they are batched, and the engine must forward and open it as any dask dashboard.
The near misses are the real capture with one thing changed, so each one is a line away from a real start.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from iterm2_autolaunch.detect import Detector
from iterm2_autolaunch.engine import Engine
from iterm2_autolaunch.lines import bytes_to_lines
from tests.test_engine import SSH, FakeWorld, run, settle

CAPTURES = Path(__file__).parent / "data" / "captures"
INDEX: list[dict[str, Any]] = json.loads((CAPTURES / "index.json").read_text())
OLD_VERSIONS = {"1_25": "1.25.3", "1_28": "1.28.1", "2_9": "2.9.3", "2_30": "2.30.1", "2021_12": "2021.12.0",
                "2022_5": "2022.5.0", "2023_3": "2023.3.0"}  # fmt: skip
OLD_STARTS = re.compile(rf"mx_dask_scheduler(?:{'|'.join(OLD_VERSIONS)})_(?:plain|host_all|ipv6)_")
OLD = [e for e in INDEX if OLD_STARTS.match(e["file"])]
SERVICE_LINE = re.compile(r" (?:dashboard|bokeh) at:")
NEW_HOST_ALL = "mx_dask_scheduler2023_12_host_all_ctrl_c_tty_100.raw"  # distributed 2023.12.1: the link printed
OLD_HOST_ALL = "mx_dask_scheduler2022_5_host_all_ctrl_c_tty_100.raw"


def lines_of(name: str) -> list[str]:
    return list(bytes_to_lines([(CAPTURES / name).read_bytes()]))


def announced(lines: list[str], batch: int | None = None) -> list[Any]:
    detector = Detector()
    batch = batch or len(lines) or 1
    events = [e for start in range(0, len(lines), batch) for e in detector.feed(lines[start : start + batch])]
    return [e for e in events + detector.finish() if e.event == "announce"]


def test_seven_old_versions_are_captured() -> None:
    assert {e["version"] for e in OLD} == set(OLD_VERSIONS.values())
    # plain: every stop x tty/pipe x 3 widths; host_all: every stop; ipv6 (1.25.3, 2.30.1): every stop
    assert len(OLD) == 7 * (4 * 2 * 3 + 4) + 2 * 4
    for entry in OLD:  # 1.x names the dashboard service "bokeh", 2.x on "dashboard"
        service = "bokeh" if entry["version"].startswith("1.") else "dashboard"
        assert sum(f" {service} at:" in line for line in lines_of(entry["file"])) == 1, entry["file"]


@pytest.mark.parametrize("entry", OLD, ids=lambda e: e["file"])
@pytest.mark.parametrize("batch", [1, 2, None])
def test_dashboard_is_announced_on_its_line_below_the_scheduler(entry: dict[str, Any], batch: int | None) -> None:
    """One dask event, at the "dashboard at:" line ("bokeh at:" in 1.x), with the URL a browser takes (the
    manifest's, made from the machine's address, not from the output), in whatever batches the lines arrive."""
    lines = lines_of(entry["file"])
    assert not any("http://" in line for line in lines)  # the tool printed no URL
    (event,) = announced(lines, batch)
    (want,) = entry["expect"]
    assert (event.kind, event.url, event.port, event.path, event.token) == (
        "dask", want["url"], want["port"], "/status", None)  # fmt: skip
    assert event.line == next(n for n, line in enumerate(lines, 1) if SERVICE_LINE.search(line))


def test_old_and_new_dashboards_on_every_interface_give_the_same_event() -> None:
    """`--host 0.0.0.0 --dashboard-address :PORT`: 2022.5.0 prints "dashboard at: :PORT", 2023.12.1 the link on
    the scheduler's contact host; both go to that host first, then loopback, and probe the same page."""
    (old,) = announced(lines_of(OLD_HOST_ALL))
    (new,) = announced(lines_of(NEW_HOST_ALL))
    fields = ("kind", "scheme", "host", "path", "base_path", "token", "alt_hosts", "printed_hosts")
    assert {f: getattr(old, f) for f in fields} == {f: getattr(new, f) for f in fields}
    assert old.alt_hosts == (old.host, "127.0.0.1") and old.host != "127.0.0.1"


@pytest.mark.parametrize("name", [OLD_HOST_ALL, "mx_dask_scheduler2021_12_plain_ctrl_c_tty_100.raw"])
def test_engine_forwards_probes_and_opens_the_old_dashboard_then_closes_at_its_stop_line(name: str) -> None:
    """Through the engine: a forward to the host the scheduler printed (its node's address, or loopback), the
    dashboard probed at its index of JSON routes (json/index.html), the tab opened at /status; "End
    scheduler" (2021.12.0 "End scheduler at %r") closes it."""
    lines = lines_of(name)
    (expect,) = next(e for e in INDEX if e["file"] == name)["expect"]
    host, port = re.fullmatch(r"http://([0-9.]+):([0-9]+)/status", expect["url"]).groups()  # type: ignore[union-attr]
    end = next(n for n, line in enumerate(lines) if "End scheduler" in line)

    async def scenario(engine: Engine, world: FakeWorld) -> None:
        engine.session_lines(SSH, lines[:end])
        await settle(lambda: bool(world.opened))
        spec = world.forwards[0].spec
        assert (spec.remote_host, spec.remote_port) == (host, int(port))
        assert world.probed == [f"http://localhost:{spec.local_port}/json/index.html"]
        assert world.opened == [f"http://localhost:{spec.local_port}/status"]
        engine.session_lines(SSH, lines[end:])
        await settle(lambda: not world.live())

    run(scenario, FakeWorld(alive={(host, int(port))}))


NEAR_MISS_STARTS = {"mx_dask_scheduler2022_5_plain_sigterm_tty_100.raw": "dashboard",
                    "mx_dask_scheduler1_25_plain_sigterm_tty_100.raw": "bokeh"}  # fmt: skip


def near_misses(name: str, service: str) -> list[Any]:
    """A real start (2022.5.0's, 1.25.3's) with one thing changed; the unchanged one is announced (the control)."""
    lines = lines_of(name)
    s = next(n for n, line in enumerate(lines) if "Scheduler at:" in line)
    d = next(n for n, line in enumerate(lines) if f" {service} at:" in line)
    assert d == s + 1
    scheduler, dashboard = lines[s], lines[d]
    port = dashboard.rsplit(":", 1)[1]

    def dash(new: str) -> list[str]:
        return [*lines[:d], new, *lines[d + 1 :]]

    return [
        pytest.param([*lines[:s], *lines[s + 1 :]], id="no-scheduler-line-above"),
        pytest.param([*lines[:s], dashboard, scheduler, *lines[d + 1 :]], id="dashboard-above-the-scheduler"),
        pytest.param([*lines[: s + 1], *["x"] * 4, *lines[d:]], id="four-lines-between"),
        pytest.param([*lines[:s], scheduler.replace("distributed.scheduler", "distributed.worker"), *lines[d:]],
                     id="scheduler-line-of-a-worker"),
        pytest.param([*lines[:s], f"$ echo '{scheduler}'", *lines[d:]], id="scheduler-line-quoted"),
        pytest.param(dash(dashboard.replace("distributed.scheduler", "distributed.worker")), id="worker-dashboard"),
        pytest.param(dash(dashboard.replace(f" {service} at:", " proxy at:")), id="another-service"),
        pytest.param(dash(dashboard.replace(f" {service} at:", f" {service.title()} at:")), id="capitalised"),
        pytest.param(dash(dashboard.replace(f" {service} at:", f" {service}-app at:")), id="longer-name"),
        pytest.param(dash(dashboard.replace(f" {service} at:", f" {service}:")), id="no-at"),
        pytest.param(dash(dashboard.split(" - INFO - ")[1]), id="no-log-prefix"),
        *[pytest.param(dash(dashboard.replace(f":{port}", f":{bad}")), id=f"port-{bad}")
          for bad in ("99999", "65536", "0", "0" + port, port + "0000", "-1", "")],
        *[pytest.param(dash(dashboard.replace(f"127.0.0.1:{port}", f"{bad}:{port}")), id=f"host-{bad}")
          for bad in ("169.254.169.254", "metadata.google.internal", "a;b", "u@h", "[1.2.3.4]",
                      "1:2:3:4:5:6:7:8:9")],
        pytest.param(dash(f"{dashboard}/status"), id="path-after"),
        pytest.param(dash(f"{dashboard} x"), id="text-after"),
    ]  # fmt: skip


@pytest.mark.parametrize("name", NEAR_MISS_STARTS)
def test_near_misses_control(name: str) -> None:
    assert len(announced(lines_of(name))) == 1


@pytest.mark.parametrize("lines", [p for name, service in NEAR_MISS_STARTS.items() for p in near_misses(name, service)])
def test_near_misses_of_the_old_dashboard_line_announce_nothing(lines: list[str]) -> None:
    assert announced(lines) == []
    assert announced(lines, 1) == []
