"""The probe checks of the dev-server and dashboard kinds, against what the real servers answered.

tests/data/probe/NAME.json holds one real server's answers (status, Server and Content-Type headers, the
start of the body) at every probe path of these kinds, with the tool's version and command; it is written by
tools/record_probes.py. Each kind's check must accept its own server's answer and refuse every other's,
including a Vite dev server that answers 200 with its index page at any path.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from iterm2_autolaunch.config import DEFAULT_ACTIONS, Config
from iterm2_autolaunch.detect import Detector
from iterm2_autolaunch.engine import Engine
from iterm2_autolaunch.interfaces import ProbeResult
from iterm2_autolaunch.kinds import KIND_BY_NAME, Kind
from iterm2_autolaunch.lines import bytes_to_lines
from iterm2_autolaunch.probe import judge
from tests.test_engine import SSH, FakeWorld, run, settle

PROBES = Path(__file__).parent / "data" / "probe"
RECORDED: dict[str, dict[str, Any]] = {p.stem: json.loads(p.read_text()) for p in sorted(PROBES.glob("*.json"))}
CHECKED = ("vite", "webpack", "ray", "code_server", "jupyter", "gunicorn")


def answer_ok(kind_name: str, server: dict[str, Any]) -> bool:
    kind = KIND_BY_NAME[kind_name]
    answer = server["answers"][kind.probe_path]
    header = {k.lower(): v for k, v in answer["headers"].items()}.get(kind.probe_header[0].lower(), "")
    return judge(kind, answer["status"], header, answer["body"]).ok


def test_every_new_kind_has_a_recorded_server() -> None:
    assert {server["kind"] for server in RECORDED.values()} >= set(CHECKED)


@pytest.mark.parametrize("name", list(RECORDED))
@pytest.mark.parametrize("kind_name", CHECKED)
def test_probe_accepts_its_own_server_and_refuses_the_others(name: str, kind_name: str) -> None:
    server = RECORDED[name]
    assert answer_ok(kind_name, server) == (server["kind"] == kind_name), (server["tool"], server["version"])


def test_old_dask_dashboards_pass_the_dask_probe() -> None:
    """distributed 1.25-2023.3.0 print no dashboard URL (tests/test_detect_old_dask.py): the page at the
    event's base path and the dask kind's probe path is their dashboard's, which the dask probe accepts (and,
    above, every other kind's refuses)."""
    old = [server for server in RECORDED.values() if server["kind"] == "dask"]
    assert {server["version"] for server in old} == {"1.25.3", "1.28.1", "2.9.3", "2.30.1", "2021.12.0", "2022.5.0",
                                                      "2023.3.0"}  # fmt: skip
    assert all(answer_ok("dask", server) for server in old)


def test_vite_on_ipv6_loopback_only_is_reached() -> None:
    """Vite on Node binds the first address of "localhost" only; under Debian's /etc/hosts that is ::1 (Vite
    8.4.1 on Node 20 listened on [::1] alone and printed http://localhost:PORT/). The forward goes to
    127.0.0.1 first, then to ::1, where the server answers, and the page opens."""
    raw = (Path(__file__).parent / "data" / "captures" / "vite8.raw").read_bytes()
    lines = list(bytes_to_lines([raw]))
    port = next(int(line.split(":")[-1].strip("/ ")) for line in lines if "Local:" in line)

    async def scenario(engine: Engine, world: FakeWorld) -> None:
        world.alive = {("::1", port)}
        engine.session_lines(SSH, lines)
        await settle(lambda: bool(world.opened or world.notes))
        assert [f.spec.remote_host for f in world.forwards] == ["127.0.0.1", "::1"]
        assert [f.closed for f in world.forwards] == [True, False]

    world = run(scenario, config=Config(actions={"vite": "open"}))
    assert world.opened and world.opened[0].startswith("http://localhost:")


@pytest.mark.parametrize("batch", [1, 2, 1000])
def test_ray_start_dashboard_found_whatever_the_batches(batch: int) -> None:
    """`ray start` names its dashboard with a scheme only in its Jobs CLI hint (RAY_API_SERVER_ADDRESS='...')."""
    raw = (Path(__file__).parent / "data" / "captures" / "ray_start_block.raw").read_bytes()
    lines = list(bytes_to_lines([raw]))
    detector = Detector()
    events = [e for start in range(0, len(lines), batch) for e in detector.feed(lines[start : start + batch])]
    assert [(e.kind, e.url) for e in events] == [("ray", f"http://127.0.0.1:{address_port(lines)}")]
    hint = next(i for i, line in enumerate(lines) if "ray job submit" in line)
    assert Detector().feed([*lines[:hint], lines[hint] + " --no-wait", *lines[hint + 1 :]]) == []  # not Ray's line
    assert Detector().feed(["  127.0.0.1:8265"]) == []  # an address with no scheme is not read


def address_port(lines: list[str]) -> int:
    return int(next(line for line in lines if line.strip().startswith("127.0.0.1:")).strip().split(":")[1])


@pytest.mark.parametrize("lines", [
    ["  ➜ Local:    http://localhost:3000/"],  # Nuxt's listhen: one blank after the arrow, no Vite banner
    ["Build done.", "  ➜  Local:   http://localhost:5173/"],  # Vite's layout without its banner above
    ["  VITE v5.4.21  ready in 517 ms", "", "  ➜  Local:   http://localhost:5173/ (copy this)"],  # text after
    ["[webpack-dev-server] Loopback: http://localhost:8080/"],  # no "<i> " level of webpack's logger
    ["<i> [webpack-dev-server] Loopback: http://localhost:8080/, see below"],
    ["[2026-12-04T14:39:05.036Z] info  HTTP server listening on http://127.0.0.1:8080/ now"],
    ["View the dashboard at http://127.0.0.1:8265"],  # Ray's sentence without its "Started ..." before it
    ["Listening at: http://127.0.0.1:8000 (4242)"],  # gunicorn's message without its log prefix
    ["[2026-12-04 16:53:32 +0000] [4242] [INFO] Listening at: http://127.0.0.1:8000 (4242) and more"],
    ["[2026-12-04 16:53:32 +0000] [4242] [INFO] Listening at: http://127.0.0.1:8000 (pid 4242)"],
    [" * Running on http://127.0.0.1:5000/ (Press CTRL+C to quit) - not now"],  # Werkzeug 2.0's, text after
    ["* Running on local URL:  http://127.0.0.1:7860, with SSR ⚡ (experimental) and more"],  # Gradio 5's
    ["Launching server at http://127.0.0.1:5006 (Panel)"],  # pn.serve()'s line with text after the URL
])  # fmt: skip
def test_look_alikes_of_the_new_layouts_are_not_announced(lines: list[str]) -> None:
    """Hand-written near misses: the start lines are whole-line layouts, and Vite's needs its banner above."""
    assert Detector().feed(lines) == []


MLFLOW2 = "mx_mlflow2_22_plain_sigterm_tty_100"  # MLflow 2.22.1 under gunicorn 23.0.0, capture and probe answers


def test_mlflow2_under_gunicorn_is_told_by_its_page() -> None:
    """MLflow 2 prints only gunicorn's lines, so it is announced as gunicorn (a generic server); the answer
    at gunicorn's probe path, recorded from MLflow 2.22.1, is MLflow's page, which names the kind it serves.
    Another app's page under gunicorn (hand-written) names none."""
    answer = RECORDED[MLFLOW2]["answers"][""]
    assert judge(KIND_BY_NAME["gunicorn"], 200, "gunicorn", answer["body"]) == ProbeResult(True, "HTTP 200", "mlflow")
    assert judge(KIND_BY_NAME["gunicorn"], 200, "gunicorn", "<!doctype html><title>hello</title>").shows == ""


GUNICORNS = {version: f"mx_gunicorn{row}_plain_sigterm_tty_100"
             for version, row in (("18.0", "18_0"), ("19.9.0", "19_9"), ("23.0.0", "23_0"))}


@pytest.mark.parametrize(("version", "name"), GUNICORNS.items())
def test_gunicorn_is_told_by_its_server_header_in_every_version(version: str, name: str) -> None:
    """gunicorn 18 and 19 name their version in the header ("gunicorn/19.9.0", 19.9.0 __init__.py:8; 18.0 :8),
    20.0 and later do not ("gunicorn", 23.0.0 __init__.py:7): every recorded answer passes the gunicorn probe;
    an app's page under it names no other kind."""
    server = RECORDED[name]
    assert server["version"] == version
    expected = "gunicorn" if version >= "20" else f"gunicorn/{version}"
    assert server["answers"][""]["headers"]["Server"] == expected
    answer = server["answers"][""]
    verdict = judge(KIND_BY_NAME["gunicorn"], answer["status"], answer["headers"]["Server"], answer["body"])
    assert verdict == ProbeResult(True, "HTTP 200", "")


@dataclass
class RecordedWorld(FakeWorld):
    """Probes answered with one real server's recorded answers, judged by the product's own probe check."""

    answers: dict[str, Any] = field(default_factory=dict)

    async def probe(self, url: str, kind: Kind) -> ProbeResult:
        answer = self.answers[kind.probe_path]
        header = {k.lower(): v for k, v in answer["headers"].items()}.get(kind.probe_header[0].lower(), "")
        return judge(kind, answer["status"], header, answer["body"])


@pytest.mark.parametrize(("actions", "opened"), [({}, True), ({"mlflow": "notify"}, False)])
def test_mlflow2_opens_as_mlflow_does(actions: dict[str, str], opened: bool) -> None:
    """From MLflow 2's real output and answers: a tab, as for MLflow (a dashboard), not gunicorn's
    notification; the config's action for mlflow is the one taken."""
    lines = list(bytes_to_lines([(Path(__file__).parent / "data" / "captures" / f"{MLFLOW2}.raw").read_bytes()]))

    async def scenario(engine: Engine, world: FakeWorld) -> None:
        engine.session_lines(SSH, lines)
        await settle(lambda: bool(world.opened or world.notes))

    config = Config(actions={**DEFAULT_ACTIONS, **actions})
    world = run(scenario, RecordedWorld(answers=RECORDED[MLFLOW2]["answers"]), config)
    assert bool(world.opened) == opened
    assert [title for title, _ in world.notes] == ([] if opened else ["mlflow ready"])
