"""Each kind's probe check, against what the real servers of every captured version answered.

tests/data/probe/NAME.json holds one real server's answers (status, Server and Content-Type headers, the
start of the body) at every kind's probe path, asked where the engine asks (the base path the product's
detector gave its printed URL), with the tool's version and command, and how long after printing its URL the
server first passed its kind's check. tools/record_probes.py writes one per (tool, version) row of
tools/capture.py. Each kind's check must accept the servers of its kind in every version and refuse every
other's, including a Vite dev server that answers 200 with its index page at any path.
"""

from __future__ import annotations

import inspect
import json
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from iterm2_autolaunch import probe
from iterm2_autolaunch.config import DEFAULT_ACTIONS, Config
from iterm2_autolaunch.detect import Detector
from iterm2_autolaunch.engine import Engine
from iterm2_autolaunch.events import base_path_of
from iterm2_autolaunch.interfaces import ProbeResult
from iterm2_autolaunch.kinds import KIND_BY_NAME, Kind
from iterm2_autolaunch.lines import bytes_to_lines
from iterm2_autolaunch.probe import judge
from tests.test_engine import SSH, FakeWorld, run, settle

PROBES = Path(__file__).parent / "data" / "probe"
RECORDED: dict[str, dict[str, Any]] = {p.stem: json.loads(p.read_text()) for p in sorted(PROBES.glob("*.json"))}


def server_id(name: str) -> str:
    """TOOL-VERSION, with the case's name when that is not alone (another start of the same version)."""
    server = RECORDED[name]
    tool_version = f"{server['tool']}-{server['version']}"
    same = [n for n, s in RECORDED.items() if f"{s['tool']}-{s['version']}" == tool_version]
    return tool_version if len(same) == 1 else f"{tool_version}-{name}"


NAMES = [pytest.param(name, id=server_id(name)) for name in RECORDED]


def answer_ok(kind_name: str, server: dict[str, Any]) -> bool:
    kind = KIND_BY_NAME[kind_name]
    answer = server["answers"][kind.probe_path]
    header = {k.lower(): v for k, v in answer["headers"].items()}.get(kind.probe_header[0].lower(), "")
    return judge(kind, answer["status"], header, answer["body"]).ok


def test_every_kind_has_a_recorded_server() -> None:
    assert {server["kind"] for server in RECORDED.values()} == set(KIND_BY_NAME)


@pytest.mark.parametrize("name", NAMES)
def test_recorded_where_the_engine_probes(name: str) -> None:
    """The answers were asked under the base path the engine takes from the printed URL, at every kind's
    probe path (a kind's new path needs a new recording)."""
    server = RECORDED[name]
    assert server["base_path"] == base_path_of(KIND_BY_NAME[server["kind"]], server["url_path"])
    assert {kind.probe_path for kind in KIND_BY_NAME.values()} <= set(server["answers"])


@pytest.mark.parametrize("name", NAMES)
def test_probe_accepts_its_own_server_in_every_version(name: str) -> None:
    server = RECORDED[name]
    kind = KIND_BY_NAME[server["kind"]]
    answer = server["answers"][kind.probe_path]
    assert answer_ok(server["kind"], server), (kind.probe_path, answer["status"], answer["body"][:200])


def patience(kind: Kind) -> float:
    """Seconds after a URL is printed within which an answer still reaches the engine: its kind's
    listens_within, then probe.probe's tries (the last one starts after its pauses and waits its timeout)."""
    defaults = {name: p.default for name, p in inspect.signature(probe.probe).parameters.items()}
    return kind.listens_within + (defaults["attempts"] - 1) * defaults["delay"] + defaults["timeout"]


@pytest.mark.parametrize("name", NAMES)
def test_its_kind_waits_long_enough_for_it(name: str) -> None:
    """answered_after: measured when recorded, from the printed URL to the first answer its kind's check passed
    (a tool that prints before it listens needs Kind.listens_within)."""
    server = RECORDED[name]
    assert server["answered_after"] is not None, server["first_check"]
    assert server["answered_after"] <= patience(KIND_BY_NAME[server["kind"]])


# A kind whose server is another kind's: the Dask dashboard is a Bokeh server application (distributed
# 2026.8.0 distributed/dashboard/core.py:30-53 BokehTornado), with Bokeh's static route and client library.
BUILT_ON = {"dask": "panel"}


def refusals() -> list[Any]:
    """(server, other kind): every specific kind against every server of another kind (but the one it is
    built on); a generic kind (a web server under some app: uvicorn, Werkzeug, gunicorn, http.server) against
    the servers of the other generic kinds and of the specific kinds not running on it (an app on uvicorn is
    a uvicorn server too: the detector gives the specific kind the port). A generic kind's page of a kind it
    serves (MLflow 2's UI under gunicorn) is told apart by probe.judge's ``shows``, not refused."""
    generic = {name for name, kind in KIND_BY_NAME.items() if kind.generic}
    pairs = []
    for name, server in RECORDED.items():
        own = KIND_BY_NAME[server["kind"]]
        headers = {k.lower(): v for k, v in server["answers"][""]["headers"].items()}
        for other in KIND_BY_NAME.values():
            if other.name in (own.name, BUILT_ON.get(own.name)) or other.name in own.serves:
                continue
            runs_on = other.probe_header[1].lower() in headers.get(other.probe_header[0].lower(), "").lower()
            if other.generic and own.name not in generic and runs_on:
                continue  # the app runs on that server (its root answered with that Server header)
            pairs.append(pytest.param(name, other.name, id=f"{server_id(name)}-vs-{other.name}"))
    return pairs


@pytest.mark.parametrize(("name", "kind_name"), refusals())
def test_every_other_kind_refuses_it(name: str, kind_name: str) -> None:
    server = RECORDED[name]
    assert not answer_ok(kind_name, server), (server["tool"], server["version"])


def test_old_dask_dashboards_pass_the_dask_probe() -> None:
    """distributed 1.25-2023.3.0 print no dashboard URL (tests/test_detect_old_dask.py): the page at the
    event's base path and the dask kind's probe path is their dashboard's, which the dask probe accepts (and,
    above, every other kind's refuses)."""
    versions = ("1.25.3", "1.28.1", "2.9.3", "2.30.1", "2021.12.0", "2022.5.0", "2023.3.0")
    old = [server for server in RECORDED.values() if server["kind"] == "dask" and server["version"] in versions]
    assert sorted(server["version"] for server in old) == sorted(versions)
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
    ["      INFO   Uvicorn running on http://127.0.0.1:8000 (Press CTRL+C to quit) now"],  # FastAPI CLI's, text after
    [" ▕  Uvicorn running on http://127.0.0.1:8000 (Press CTRL"],  # cut inside a word, where Rich does not break
    ["      INFO   Uvicorn running at http://127.0.0.1:8000"],  # not uvicorn's words
])  # fmt: skip
def test_look_alikes_of_the_new_layouts_are_not_announced(lines: list[str]) -> None:
    """Hand-written near misses: the start lines are whole-line layouts, and Vite's needs its banner above."""
    assert Detector().feed(lines) == []


MLFLOW2 = "mx_mlflow2_22_plain_sigterm_tty_100"  # MLflow 2.22.1 under gunicorn 23.0.0, capture and probe answers
MLFLOW1 = "mx_mlflow1_30_ui_sigterm_tty_100"  # MLflow 1.30.1's `mlflow ui` under gunicorn 20.1.0
MLFLOW3_5 = "mx_mlflow3_5_plain_sigterm_tty_100"  # MLflow 3.5.1 under uvicorn 0.54.0, uvicorn's own log format
UNDER_GENERIC = [MLFLOW2, MLFLOW1, MLFLOW3_5]  # MLflow announced as the generic server it runs under


@pytest.mark.parametrize("name", UNDER_GENERIC)
def test_mlflow_under_a_generic_server_is_told_by_its_page(name: str) -> None:
    """MLflow 1 and 2 print only gunicorn's lines, MLflow 3.3-3.11 only uvicorn's, so they are announced as that
    generic server; the answer at its probe path, recorded from MLflow 2.22.1, 1.30.1 and 3.5.1, is MLflow's
    page, which names the kind it serves. Another app's page there (hand-written) names none."""
    server = RECORDED[name]
    kind = KIND_BY_NAME[server["kind"]]
    assert kind.generic and kind.name in ("gunicorn", "uvicorn")
    answer = server["answers"][""]
    header = kind.probe_header[1]
    assert judge(kind, 200, header, answer["body"]) == ProbeResult(True, "HTTP 200", "mlflow")
    assert judge(kind, 200, header, "<!doctype html><title>hello</title>").shows == ""


@dataclass
class RecordedWorld(FakeWorld):
    """Probes answered with one real server's recorded answers, judged by the product's own probe check."""

    answers: dict[str, Any] = field(default_factory=dict)
    base_path: str = "/"  # where they were asked
    asked: list[str] = field(default_factory=list)

    async def probe(self, url: str, kind: Kind) -> ProbeResult:
        path = urllib.parse.urlsplit(url).path
        self.asked.append(path)
        if not path.startswith(self.base_path) or path[len(self.base_path) :] not in self.answers:
            return ProbeResult(False, "HTTP 404, not where the server answers")
        answer = self.answers[path[len(self.base_path) :]]
        header = {k.lower(): v for k, v in answer["headers"].items()}.get(kind.probe_header[0].lower(), "")
        return judge(kind, answer["status"], header, answer["body"])


@pytest.mark.parametrize("name", NAMES)
def test_the_engine_opens_every_version(name: str) -> None:
    """From each version's captured output (tests/data/captures/NAME.raw) and its recorded answers: the engine
    probes where the server was asked, its kind's check passes and the page opens. Before, Streamlit 0.89 and
    1.0 (no /_stcore/health), TensorBoard of TensorFlow 1.1-1.5 (no /data/environment) and marimo 0.1 (no
    /health) answered 404 there: "did not answer", nothing opened."""
    server = RECORDED[name]
    lines = list(bytes_to_lines([(Path(__file__).parent / "data" / "captures" / f"{name}.raw").read_bytes()]))
    stops = [event.line for event in Detector().feed(lines) if event.event == "shutdown"]
    lines = lines[: stops[0] - 1] if stops else lines  # the server still runs (its stop lines are 1-based)

    async def scenario(engine: Engine, world: FakeWorld) -> None:
        engine.session_lines(SSH, lines)
        await settle(lambda: bool(world.opened or world.notes))

    world = RecordedWorld(answers=server["answers"], base_path=server["base_path"])
    run(scenario, world, Config(actions={kind: "open" for kind in KIND_BY_NAME}))
    assert world.opened, world.notes
    assert world.asked[0] == server["base_path"] + KIND_BY_NAME[server["kind"]].probe_path


@pytest.mark.parametrize("name", UNDER_GENERIC)
@pytest.mark.parametrize(("actions", "opened"), [({}, True), ({"mlflow": "notify"}, False)])
def test_mlflow_under_a_generic_server_opens_as_mlflow_does(actions: dict[str, str], opened: bool, name: str) -> None:
    """From MLflow 2's, 1's and 3.5's real output and answers: a tab, as for MLflow (a dashboard), not gunicorn's
    notification; the config's action for mlflow is the one taken."""
    lines = list(bytes_to_lines([(Path(__file__).parent / "data" / "captures" / f"{name}.raw").read_bytes()]))

    async def scenario(engine: Engine, world: FakeWorld) -> None:
        engine.session_lines(SSH, lines)
        await settle(lambda: bool(world.opened or world.notes))

    config = Config(actions={**DEFAULT_ACTIONS, **actions})
    world = run(scenario, RecordedWorld(answers=RECORDED[name]["answers"]), config)
    assert bool(world.opened) == opened
    assert [title for title, _ in world.notes] == ([] if opened else ["mlflow ready"])
