"""The capture matrix tools/capture.py records (issue 13): a lost or mislabelled capture fails here.

For each tool's latest version: its plain start under every way of stopping x tty/pipe x 60/200 columns,
and every other start mode under every way of stopping in a 100-column terminal. For each older version
(and each version of the npm/other kinds): its plain start under every way of stopping x tty/pipe x 60, 100
and 200 columns, and its other start modes under every way of stopping in a 100-column terminal. The tables
below are the claim, written out on their own (not read from tools/capture.py), so that a matrix shrinking there
shows up here.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import pytest

from iterm2_autolaunch.detect import Detector
from iterm2_autolaunch.lines import bytes_to_lines

CAPTURES = Path(__file__).parent / "data" / "captures"
INDEX: list[dict[str, Any]] = json.loads((CAPTURES / "index.json").read_text())
MATRIX = [entry for entry in INDEX if entry["file"].startswith("mx_")]

STOPS = {"ctrl-c", "sigterm", "sigkill", "close"}
STOPS_ASKING = STOPS | {"ctrl-c-twice"}  # Jupyter and marimo ask "quit?" first; a second Ctrl-C skips it
MODES = {"tty", "pipe"}
COLUMNS = {60, 200}
JUPYTER_STARTS = ("plain", "ip_any", "browser", "custom_display_url", "base_url", "https")

# tool (capture name prefix): (kind announced, asks before stopping, start modes; the first is the plain one)
TOOLS: dict[str, tuple[str, bool, tuple[str, ...]]] = {
    "jupyterlab": ("jupyter", True, JUPYTER_STARTS),
    "notebook7": ("jupyter", True, JUPYTER_STARTS),
    "jupyter_server": ("jupyter", True, JUPYTER_STARTS),
    "nbclassic": ("jupyter", True, JUPYTER_STARTS),
    "marimo": ("marimo", True, ("edit_file", "run_file", "new", "edit", "base_url")),
    "streamlit": ("streamlit", False, ("run_file", "hello", "base_path")),
    "voila": ("voila", False, ("plain", "ip_any", "base_url")),
    "tensorboard": ("tensorboard", False, ("plain", "bind_all", "path_prefix")),
    "gradio": ("gradio", False, ("plain", "server_name_all")),
    "panel": ("panel", False, ("plain", "address_all", "prefix")),
    "bokeh": ("panel", False, ("plain", "address_all", "prefix")),
    "dash": ("dash", False, ("plain", "host_all", "base_path")),
    "dask_scheduler": ("dask", False, ("plain", "host_all", "tls", "tls_dashboard", "dashboard_prefix")),
    "mlflow": ("mlflow", False, ("plain", "host_all")),
    "uvicorn": ("uvicorn", False, ("plain", "host_all")),
    "flask": ("werkzeug", False, ("plain", "host_all")),
    "http_server": ("http_server", False, ("plain", "bind_all")),
}

# tool and version (capture name prefix): (kind announced, asks before stopping, start modes; the first is the
# plain one). The other modes are the latest version's where the old one has the option: Notebook 4.4-5.5 have
# no custom_display_url, marimo 0.1 no `marimo new`; TensorBoard before 2.0 has --host 0.0.0.0 for --bind_all, and
# TensorFlow 1.1's binds every interface by default, so its other start is --host=127.0.0.1. The older versions
# have IPv6 starts too (ipv6: ::1, ip_any6: ::), which most of them print unbracketed, "http://::1:PORT/".
OLD_JUPYTER_STARTS = (*JUPYTER_STARTS, "ipv6", "ip_any6")
OLD_NOTEBOOK_STARTS = ("plain", "ip_any", "browser", "base_url", "https", "ipv6", "ip_any6")
TB_HOST_ALL = ("plain", "host_all")
TB_BIND_ALL = ("plain", "bind_all")
VERSIONS: dict[str, tuple[str, bool, tuple[str, ...]]] = {
    **{f"notebook{v}": ("jupyter", True, OLD_NOTEBOOK_STARTS) for v in ("4_4", "5_0", "5_2", "5_4", "5_5")},
    **{f"notebook{v}": ("jupyter", True, OLD_JUPYTER_STARTS) for v in ("5_7", "6_0", "6_4")},
    "jupyterlab2_3": ("jupyter", True, OLD_JUPYTER_STARTS),
    "jupyterlab3_6": ("jupyter", True, OLD_JUPYTER_STARTS),
    "jupyter_server1_0": ("jupyter", True, OLD_JUPYTER_STARTS),
    "jupyter_server1_13": ("jupyter", True, OLD_JUPYTER_STARTS),
    "tensorboard_tf1_1": ("tensorboard", False, ("plain", "host_127")),
    **{f"tensorboard_tf{v}": ("tensorboard", False, TB_HOST_ALL) for v in ("1_2", "1_5")},
    **{f"tensorboard{v}": ("tensorboard", False, TB_HOST_ALL) for v in ("1_13", "1_14", "1_15")},
    **{f"tensorboard{v}": ("tensorboard", False, TB_BIND_ALL) for v in ("2_0", "2_4", "2_14")},
    **{f"streamlit{v}": ("streamlit", False, ("run_file", "hello", "ipv6")) for v in ("0_89", "1_0", "1_20")},
    **{f"gradio{v}": ("gradio", False, ("plain", "server_name_all")) for v in ("3_20", "3_50", "4_44")},
    "panel0_14": ("panel", False, ("plain", "address_all", "ipv6")),
    "bokeh2_4": ("panel", False, ("plain", "address_all", "ipv6")),
    **{f"dash{v}": ("dash", False, ("plain", "host_all", "ipv6")) for v in ("1_21", "2_0", "2_18")},
    **{f"voila{v}": ("voila", False, ("plain", "ip_any", "ipv6")) for v in ("0_1", "0_2", "0_3", "0_4")},
    "marimo0_1": ("marimo", True, ("edit_file", "run_file", "edit", "ipv6")),
    **{f"marimo{v}": ("marimo", True, ("edit_file", "run_file", "new", "edit", "ipv6")) for v in ("0_6", "0_8")},
    **{f"vite{v}": ("vite", False, ("plain", "host", "base")) for v in ("2_9", "4_5", "5_4", "6_4", "7_3", "8_4")},
    **{f"webpack_dev_server{v}": ("webpack", False, ("plain", "host_any", "host_localhost"))
       for v in ("3_11", "4_15", "5_2")},
    "code_server4_100": ("code_server", False, ("plain", "bind_any", "https")),
    # 4.0.2, 4.2.0: @coder/logger 1.1.16 and a blank after the URL; 4.90.0 also on IPv6 loopback, "http://[::1]:PORT/";
    # 3.9.3, 3.10.2 (under node 14): no "/" after the port, http:// under --cert too, IPv6 unbracketed "http://::1:PORT"
    **{f"code_server{v}": ("code_server", False, ("plain", "bind_any", "https", "ipv6")) for v in ("3_9", "3_10")},
    **{f"code_server{v}": ("code_server", False, ("plain", "bind_any", "https")) for v in ("4_0", "4_2")},
    "code_server4_90": ("code_server", False, ("plain", "bind_any", "https", "ipv6")),
    "ray2_60": ("ray", False, ("start_block", "init", "host_any", "init_any")),
    **{f"jupyterhub{v}": ("jupyter", False, ("singleuser",)) for v in ("3_1", "6_1")},
}
# Versions added because the lines they print differ from the versions above (werkzeug's "(Press CTRL+C to
# quit)" on the URL line, MLflow 2 under gunicorn, Gradio 5's server-side rendering; Flask 1.1 and distributed
# 2023.12 print as versions above), captured as the rows above.
GUNICORN_STARTS = ("plain", "host_all", "ipv6", "two_listeners", "unix_tcp", "three_listeners", "https", "workers4")
MORE_VERSIONS: dict[str, tuple[str, bool, tuple[str, ...]]] = {
    "flask2_0": ("werkzeug", False, ("plain", "host_all")),
    "mlflow2_22": ("gunicorn", False, ("plain", "host_all")),
    "gradio5_49": ("gradio", False, ("plain", "ssr")),
    "flask1_1": ("werkzeug", False, ("plain", "host_all")),
    "dask_scheduler2023_12": ("dask", False, ("plain", "host_all")),
    "jupyter_server2_0": ("jupyter", True, ("plain",)),
    "panel1_4": ("panel", False, ("plain", "pn_serve")),
    "uvicorn0_13": ("uvicorn", False, ("plain",)),
    "dash3_0": ("dash", False, ("plain",)),
    "marimo0_10": ("marimo", True, ("edit_file",)),
    "tensorboard2_17": ("tensorboard", False, ("plain",)),
    "streamlit1_45": ("streamlit", False, ("run_file",)),
    "jupyterlab4_0": ("jupyter", True, ("plain",)),
    "voila0_5_0": ("voila", False, ("plain",)),
    "gradio5_0": ("gradio", False, ("plain", "ssr")),
    # distributed 2021.12-2023.3.0 print the dashboard as "HOST:PORT" with no scheme, below the scheduler's address
    "dask_scheduler2021_12": ("dask", False, ("plain", "host_all", "dashboard_prefix")),
    "dask_scheduler2022_5": ("dask", False, ("plain", "host_all")),
    "dask_scheduler2023_3": ("dask", False, ("plain", "host_all", "dashboard_prefix", "tls", "tls_dashboard")),
    # distributed 1.x and 2.x print it so too, 1.x as the service "bokeh"; on IPv6 loopback as "::1:PORT"
    **{f"dask_scheduler{v}": ("dask", False, ("plain", "host_all", "ipv6")) for v in ("1_25", "2_30")},
    **{f"dask_scheduler{v}": ("dask", False, ("plain", "host_all")) for v in ("1_28", "2_9")},
    # gunicorn on its own (`gunicorn -b ... app:app`; 18.0 dates its lines with no brackets); 19.9 and the latest
    # with every start mode, among them several listeners on one line ("URL1,URL2", "unix:PATH,URL")
    **{f"gunicorn{v}": ("gunicorn", False, ("plain",)) for v in ("18_0", "20_1", "21_2", "22_0")},
    **{f"gunicorn{v}": ("gunicorn", False, GUNICORN_STARTS) for v in ("19_9", "23_0")},
}
# python -m http.server of each Python (the tool is the interpreter): its plain start with --bind 127.0.0.1; no --bind
# (every interface) and --directory on 3.7, those and --bind ::/::1 on 3.8 (3.6 and 3.7 bind IPv4 only), and --cgi
# too on 3.13; Python 2.7's `python -m SimpleHTTPServer PORT`. Ray 1.13 ("View the Ray dashboard at URL") and 2.9.
HTTP_SERVER_STARTS = {"3_7": ("plain", "bind_default", "directory"),
                      "3_8": ("plain", "bind_default", "directory", "bind_v6_any", "bind_v6"),
                      "3_13": ("plain", "bind_default", "directory", "bind_v6_any", "bind_v6", "cgi")}  # fmt: skip
MORE_VERSIONS.update({
    **{f"http_server_py{v}": ("http_server", False, HTTP_SERVER_STARTS.get(v, ("plain",)))
       for v in ("3_6", "3_7", "3_8", "3_9", "3_10", "3_11", "3_12", "3_13")},
    "http_server_py2_7": ("http_server", False, ("simple",)),
    **{f"ray{v}": ("ray", False, ("start_block", "init", "host_any", "init_any")) for v in ("1_13", "2_9")},
})
# Versions of the notebook/dashboard kinds in the gaps (read in their wheels first): marimo 0.15/0.20 also bound to
# 0.0.0.0 (its "➜  Network:" line), Bokeh 3.0 (also two apps, two processes, HTTPS), JupyterHub 4.1 (the
# first with the single-user extension), Streamlit 1.30 also headless with no --server.address ("Network URL:")
# and over HTTPS; Panel 1.2, Notebook 7.2, Bokeh 1.4, TensorBoard 2.10, Jupyter Server 2.10, Voila 0.5.7,
# Streamlit 1.10, Gradio 4.0 and JupyterLab 4.2 print as the versions above.
MORE_VERSIONS.update({
    **{f"marimo{v}": ("marimo", True, ("edit_file", "host_all")) for v in ("0_15", "0_20")},
    "bokeh3_0": ("panel", False, ("plain", "two_apps", "https", "num_procs")),
    "jupyterhub4_1": ("jupyter", False, ("singleuser",)),
    "streamlit1_30": ("streamlit", False, ("run_file", "headless_any", "https")),
    "panel1_2": ("panel", False, ("plain", "pn_serve")),
    "notebook7_2": ("jupyter", True, ("plain",)),
    "bokeh1_4": ("panel", False, ("plain",)),
    "tensorboard2_10": ("tensorboard", False, ("plain",)),
    "voila0_5_7": ("voila", False, ("plain",)),
    "streamlit1_10": ("streamlit", False, ("run_file",)),
    "gradio4_0": ("gradio", False, ("plain",)),
    "jupyterlab4_2": ("jupyter", True, ("plain",)),
    "jupyter_server2_10": ("jupyter", True, ("plain",)),
})
# More in the gaps, tried by hand first, printing as the versions above; Notebook 4.0, the oldest, found in a paste
# of a public issue (tests/data/issue_pastes), says "The IPython Notebook is running at: URL" and has no token.
MORE_VERSIONS.update({
    "notebook4_0": ("jupyter", True, ("plain",)),
    "jupyterlab4_5": ("jupyter", True, ("plain",)),
    "notebook7_4": ("jupyter", True, ("plain",)),
    "marimo0_18": ("marimo", True, ("edit_file",)),
    "streamlit1_50": ("streamlit", False, ("run_file",)),
})
# Start modes whose tool prints no URL, so nothing is announced: Python 2.7's SimpleHTTPServer ("Serving HTTP on
# 0.0.0.0 port PORT ...", BaseHTTPServer.py:609). (ray.init() of Ray 2.9 on Python 3.10 prints "HOST:PORT" with
# no scheme too, ray/_private/worker.py:1706-1707, but that line is read: kinds_services.RAY.address_lines.)
PRINTS_NO_URL = {("http_server_py2_7", "simple")}
# Web servers: Werkzeug 2.1 (Flask 2.1.3) prints unlike 2.0 and 2.2+ (no "/" after the port; bound to 0.0.0.0 the
# loopback URL, then the interface's with "(Press CTRL+C to quit)"); Werkzeug 0.14 (Flask 1.0) and 2.3 (Flask 2.3),
# uvicorn 0.20 and 0.30 and MLflow 1.30 (under gunicorn 20) print as versions above, in start modes not captured
# before (the debugger, --cert adhoc, --reload, --workers, TLS, IPv6, --root-path; `mlflow ui`). MLflow 3.3-3.11
# run uvicorn with its own log format: a bare uvicorn's line. FastAPI CLI's
# `fastapi dev` and `fastapi run` log uvicorn's lines in Rich ("      INFO   Uvicorn running on ...", " ▕  ...").
UVICORN_NEW_STARTS = ("plain", "reload", "workers2", "https", "ipv6", "host_all6", "root_path")
MORE_VERSIONS.update({
    "flask2_1": ("werkzeug", False, ("plain", "host_all", "ipv6", "debug", "adhoc")),
    "flask1_0": ("werkzeug", False, ("plain", "host_all", "debug")),
    "flask2_3": ("werkzeug", False, ("plain", "debug", "adhoc", "host_all6")),
    "uvicorn0_20": ("uvicorn", False, ("plain", "reload", "workers2")),
    "uvicorn0_30": ("uvicorn", False, UVICORN_NEW_STARTS),
    "mlflow1_30": ("gunicorn", False, ("ui", "server", "host_all")),
    "mlflow3_5": ("uvicorn", False, ("plain",)),
    **{f"fastapi_cli0_0_{v}": ("uvicorn", False, ("dev", "run")) for v in ("5", "13", "34")},
})
VERSIONS.update(MORE_VERSIONS)
VERSION_COLUMNS = {60, 100, 200}
ALL_TOOLS = {**TOOLS, **VERSIONS}


def tool_of(entry: dict[str, Any]) -> str:
    """The tool (and version) a matrix capture is of: the longest name its file name starts with."""
    return next(t for t in sorted(ALL_TOOLS, key=len, reverse=True) if entry["file"].startswith(f"mx_{t}_"))


def cells(tool: str, start: str) -> set[tuple[str, str, int]]:
    """(stop, mode, columns) of the captures of ``tool`` started in mode ``start``."""
    prefix = f"mx_{tool}_{start}_"
    return {
        (e["stop"], e["mode"], e["columns"]) for e in MATRIX if e["file"].startswith(prefix) and e["start"] == start
    }


@pytest.mark.parametrize("tool", ALL_TOOLS)
def test_plain_start_is_captured_under_every_stop_mode_and_width(tool: str) -> None:
    _, asks, (plain, *_) = ALL_TOOLS[tool]
    stops = STOPS_ASKING if asks else STOPS
    assert cells(tool, plain) == set(itertools.product(stops, MODES, COLUMNS if tool in TOOLS else VERSION_COLUMNS))


@pytest.mark.parametrize(("tool", "start"), [(t, s) for t, (_, _, (_, *others)) in ALL_TOOLS.items() for s in others])
def test_other_start_modes_are_captured_under_every_stop(tool: str, start: str) -> None:
    _, asks, _ = ALL_TOOLS[tool]
    assert cells(tool, start) == {(stop, "tty", 100) for stop in (STOPS_ASKING if asks else STOPS)}


@pytest.mark.parametrize("entry", MATRIX, ids=lambda e: e["file"])
def test_matrix_entry_says_what_its_name_says(entry: dict[str, Any]) -> None:
    """The manifest fields agree with the file name, and the capture is there, announcing its tool's kind."""
    tool = tool_of(entry)
    kind, _, starts = ALL_TOOLS[tool]
    assert entry["start"] in starts
    stop = entry["stop"].replace("-", "_")
    assert entry["file"] == f"mx_{tool}_{entry['start']}_{stop}_{entry['mode']}_{entry['columns']}.raw"
    assert [server["kind"] for server in entry["expect"]] == ([] if (tool, entry["start"]) in PRINTS_NO_URL else [kind])
    assert (CAPTURES / entry["file"]).stat().st_size > 0


@pytest.mark.parametrize("entry", [e for e in MATRIX if e["stop"] == "sigkill"], ids=lambda e: e["file"])
def test_a_killed_server_has_no_stop_line(entry: dict[str, Any]) -> None:
    """SIGKILL leaves the tool no chance to print: the manifest must not expect a stop (and the detector
    test then asserts none is reported)."""
    assert entry["shutdown"] is False
    assert entry["exit_status"] == -9


@pytest.mark.parametrize("entry", [e for e in MATRIX if e["stop"].startswith("ctrl-c")], ids=lambda e: e["file"])
def test_ctrl_c_captures_are_the_stop_they_claim(entry: dict[str, Any]) -> None:
    """Tools that ask were answered 'y' (ctrl-c) or had the question skipped by a second Ctrl-C (ctrl-c-twice,
    whose capture shows the question); tools that never ask were not answered."""
    _, asks, _ = ALL_TOOLS[tool_of(entry)]
    assert entry["answered_confirmation"] is (asks and entry["stop"] == "ctrl-c")
    if entry["stop"] == "ctrl-c-twice":
        assert b"(y/" in (CAPTURES / entry["file"]).read_bytes()


ANSWERED_JUPYTER = [e for e in MATRIX if e["answered_confirmation"] and e["expect"][0]["kind"] == "jupyter"]


@pytest.mark.parametrize("entry", ANSWERED_JUPYTER, ids=lambda e: e["file"])
def test_an_answered_jupyter_is_seen_stopping_at_its_confirmation_in_a_pipe_too(entry: dict[str, Any]) -> None:
    """'Shutdown confirmed' is the stop, where the forward goes. In a pipe it follows the question on the same
    line (the 'y' is echoed by the terminal, not into the pipe); a server that hangs after confirming (Notebook
    5.0 on Tornado 6 did) prints no later cleanup line to fall back on."""
    lines = list(bytes_to_lines([(CAPTURES / entry["file"]).read_bytes()]))
    detector = Detector()
    stops = [event.line for event in detector.feed(lines) + detector.finish() if event.event == "shutdown"]
    assert stops == [next(n for n, line in enumerate(lines, 1) if "Shutdown confirmed" in line)]


API_SHUTDOWN = [e for e in INDEX if e.get("stop") == "api-shutdown"]


@pytest.mark.parametrize("entry", API_SHUTDOWN, ids=lambda e: e["file"])
def test_a_jupyter_shut_down_from_its_page_is_seen_stopping_at_the_request(entry: dict[str, Any]) -> None:
    """File > Shut Down / Quit POST /api/shutdown; its log line comes before the cleanup's (JUPYTER_STOP)."""
    lines = list(bytes_to_lines([(CAPTURES / entry["file"]).read_bytes()]))
    stops = [event.line for event in Detector().feed(lines) if event.event == "shutdown"]
    assert stops == [next(n for n, line in enumerate(lines, 1) if "Shutting down on /api/shutdown request." in line)]
