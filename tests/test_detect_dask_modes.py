"""Dask schedulers started with TLS or a dashboard prefix, on the real captures (tools/capture.py starts tls,
tls_dashboard, dashboard_prefix).

TLS comms (--tls-cert/--tls-key: the scheduler at tls://) leave the dashboard plain HTTP; it serves HTTPS only
when distributed.scheduler.dashboard.tls.cert/key are set, which distributed >= 2023.3.2 tells in the link it
prints (utils.format_dashboard_link) and older ones do not: 2023.3.0's lines are the same either way, so its
https dashboard is announced as http and does not answer it; the engine then asks https (locate.answer).
--dashboard-prefix moves the dashboard under the prefix, and no version prints it: the start lines are the
plain start's, so the /status page they imply is announced and answers 404 (the manifest's probe_status,
measured when captured); the engine then reads the prefix from the root's redirect (locate.locate).
These tests pin those facts, and the engine's way round each on the real start lines.
"""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any

import pytest

from iterm2_autolaunch.engine import Engine
from iterm2_autolaunch.interfaces import ProbeResult
from iterm2_autolaunch.kinds import KIND_BY_NAME, Kind
from tests.test_detect_old_dask import announced, lines_of
from tests.test_engine import SSH, FakeWorld, run, settle

CAPTURES = Path(__file__).parent / "data" / "captures"
INDEX: list[dict[str, Any]] = json.loads((CAPTURES / "index.json").read_text())
BY_FILE = {entry["file"]: entry for entry in INDEX}
TLS = [e for e in INDEX if re.match(r"mx_dask_scheduler[0-9_]*_tls(?:_dashboard)?_", e["file"])]
PREFIX = [e for e in INDEX if re.match(r"mx_dask_scheduler[0-9_]*_dashboard_prefix_", e["file"])]
DASHBOARD_TLS = "DASK_DISTRIBUTED__SCHEDULER__DASHBOARD__TLS__CERT"


def announced_in(name: str) -> list[Any]:
    return announced(lines_of(name))


def start_lines(name: str) -> list[str]:
    """The lines up to the dashboard's, with every number (time, port, address) masked."""
    lines = lines_of(name)
    end = next(n for n, line in enumerate(lines) if " dashboard at:" in line)
    return [re.sub(r"[0-9]+", "N", line) for line in lines[: end + 1]]


def test_the_modes_are_captured() -> None:
    assert {(e["version"], e["start"]) for e in TLS} == {
        ("2026.8.0", "tls"), ("2026.8.0", "tls_dashboard"), ("2023.3.0", "tls"), ("2023.3.0", "tls_dashboard")}
    assert {e["version"] for e in PREFIX} == {"2026.8.0", "2021.12.0", "2023.3.0"}
    assert len(TLS) == 4 * 4 and len(PREFIX) == 3 * 4  # every stop each


READABLE_TLS = [e for e in TLS if e["version"] != "2023.3.0" or e["start"] == "tls"]
UNREADABLE_TLS = [e for e in TLS if e not in READABLE_TLS]


@pytest.mark.parametrize("entry", READABLE_TLS, ids=lambda e: e["file"])
def test_a_tls_scheduler_dashboard_is_announced_with_the_scheme_it_serves(entry: dict[str, Any]) -> None:
    """The scheduler's tls:// says nothing of the dashboard: it is https only with the dashboard's own TLS
    config, which 2026.8.0's printed link carries; the announced URL answered when captured."""
    lines = lines_of(entry["file"])
    assert any(re.search(r"Scheduler at: +tls://127\.0\.0\.1:[0-9]+$", line) for line in lines)
    (event,) = announced_in(entry["file"])
    scheme = "https" if DASHBOARD_TLS in entry.get("extra_env", {}) else "http"
    assert (event.scheme, event.url, event.path) == (scheme, entry["expect"][0]["url"], "/status")
    assert event.url.startswith(f"{scheme}://127.0.0.1:")
    assert entry["probe_status"] == [200]


@pytest.mark.parametrize("entry", UNREADABLE_TLS, ids=lambda e: e["file"])
def test_an_old_scheduler_prints_nothing_of_its_dashboard_tls_so_http_is_announced_and_unanswered(
    entry: dict[str, Any],
) -> None:
    """distributed 2023.3.0 with the dashboard's TLS configured prints the lines of the plain-HTTP tls start
    (numbers aside): the http URL they imply is announced, and the HTTPS server reset it when captured."""
    http_twin = entry["file"].replace("_tls_dashboard_", "_tls_")
    assert DASHBOARD_TLS in entry["extra_env"] and DASHBOARD_TLS not in BY_FILE[http_twin].get("extra_env", {})
    assert start_lines(entry["file"]) == start_lines(http_twin)
    (event,) = announced_in(entry["file"])
    assert (event.scheme, event.url) == ("http", entry["expect"][0]["url"])
    assert BY_FILE[http_twin]["probe_status"] == [200]
    assert entry["probe_status"] != [200] and str(entry["probe_status"][0]).startswith("error:")


def test_engine_probes_and_opens_the_https_dashboard_over_https() -> None:
    name = "mx_dask_scheduler_tls_dashboard_ctrl_c_tty_100.raw"
    lines = lines_of(name)
    lines = lines[: next(n for n, line in enumerate(lines) if "End scheduler" in line)]
    port = BY_FILE[name]["expect"][0]["port"]

    async def scenario(engine: Engine, world: FakeWorld) -> None:
        engine.session_lines(SSH, lines)
        await settle(lambda: bool(world.opened))
        local = world.forwards[0].spec.local_port
        assert world.probed == [f"https://localhost:{local}/{KIND_BY_NAME['dask'].probe_path}"]
        assert world.opened == [f"https://localhost:{local}/status"]

    run(scenario, FakeWorld(alive={("127.0.0.1", port)}, tls={("127.0.0.1", port)}))


@pytest.mark.parametrize("entry", PREFIX, ids=lambda e: e["file"])
def test_a_dashboard_prefix_is_printed_nowhere_so_the_announced_status_page_is_not_found(
    entry: dict[str, Any],
) -> None:
    """The prefix run's start lines are the plain run's (numbers aside) in every version captured: no reader of
    the output can know the prefix. The page they imply is announced; the server answered it 404 (the dashboard
    is at /foo/status). A change here (a version printing the prefix) must show up."""
    plain = entry["file"].replace("_dashboard_prefix_", "_plain_")
    plain = plain if plain in BY_FILE else plain.replace("_100.raw", "_200.raw")  # the latest's: 60 and 200
    assert start_lines(entry["file"]) == start_lines(plain)
    assert "/foo" not in "\n".join(lines_of(entry["file"]))
    assert "--dashboard-prefix" in entry["command"]
    (event,) = announced_in(entry["file"])
    assert (event.url, event.path) == (entry["expect"][0]["url"], "/status")
    assert entry["probe_status"] == [404]


def until_stop(name: str) -> list[str]:
    lines = lines_of(name)
    return lines[: next((n for n, line in enumerate(lines) if "End scheduler" in line), len(lines))]


@pytest.mark.parametrize("entry", UNREADABLE_TLS, ids=lambda e: e["file"])
def test_engine_opens_an_old_https_dashboard_announced_as_http_over_https(entry: dict[str, Any]) -> None:
    """What 2023.3.0 printed: http gets no HTTP answer from the TLS-only dashboard (a reset, as when captured),
    so the engine asks https, and the tab is the https page."""
    port = entry["expect"][0]["port"]

    async def scenario(engine: Engine, world: FakeWorld) -> None:
        engine.session_lines(SSH, until_stop(entry["file"]))
        await settle(lambda: bool(world.opened))
        local = world.forwards[0].spec.local_port
        probe = KIND_BY_NAME["dask"].probe_path
        assert world.probed[:2] == [f"http://localhost:{local}/{probe}", f"https://localhost:{local}/{probe}"]
        assert world.opened == [f"https://localhost:{local}/status"]

    run(scenario, FakeWorld(alive={("127.0.0.1", port)}, tls={("127.0.0.1", port)}))


class PrefixedDashboard(FakeWorld):
    """A dashboard under --dashboard-prefix /foo, as the real ones answered (distributed 2021.12.0, 2023.3.0,
    2026.8.0, checked by hand with curl): / -> 301 /foo/status, /status and /json/index.html 404, the same under
    /foo/ 200."""

    async def probe(self, url: str, kind: Kind) -> ProbeResult:
        path = "/" + url.split("/", 3)[3]
        if path == "/":
            self.probed.append(url)
            return ProbeResult(False, "HTTP 301 from dask probe", moved_to="/foo/status")
        if not path.startswith("/foo/"):
            self.probed.append(url)
            return ProbeResult(False, "HTTP 404, but not a dask server")
        return await super().probe(url, kind)


@pytest.mark.parametrize("entry", [e for e in PREFIX if e["stop"] == "ctrl-c"], ids=lambda e: e["file"])
def test_engine_finds_a_dashboard_under_an_unprinted_prefix_from_its_root(entry: dict[str, Any]) -> None:
    port = entry["expect"][0]["port"]

    async def scenario(engine: Engine, world: FakeWorld) -> None:
        engine.session_lines(SSH, until_stop(entry["file"]))
        await settle(lambda: bool(world.opened))
        local = world.forwards[0].spec.local_port
        probe = KIND_BY_NAME["dask"].probe_path
        assert world.probed[:3] == [f"http://localhost:{local}/{probe}", f"http://localhost:{local}/",
                                    f"http://localhost:{local}/foo/{probe}"]  # fmt: skip
        assert world.opened == [f"http://localhost:{local}/foo/status"]
        await asyncio.sleep(0.2)  # the health probe goes to the page found, which answers
        assert world.probed[-1] == f"http://localhost:{local}/foo/{probe}" and len(world.live()) == 1

    run(scenario, PrefixedDashboard(alive={("127.0.0.1", port)}))
