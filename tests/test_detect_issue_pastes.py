"""Real terminal output from outside this project: pasted into public GitHub issues, or kept in other projects'
tests and notes.

tests/data/issue_pastes/*.json hold the cases, each with its "source" (the thread's URL, or the repository, file
and lines). Every line keeps its layout and the tool's fixed text as pasted; the poster's own values (tokens,
host names, paths, times) were replaced by others of the same shape ("substituted"). "expect" (the servers that
started: kind, port, path, token, and the host a user would open) and "shutdown" (how many of them the paste
shows stopping) were written from reading the paste, before the detector was run on it.

Where the detector reads a paste otherwise, DIFFERENT says how and why: the paste is not what the terminal
showed (markdown around a line, a Windows console's hard wraps, indentation lost), or the output is of a
version or a wrapper that is not read. Those readings are asserted too, so that a change shows up here.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from iterm2_autolaunch.cli import scan_stream

PASTES = Path(__file__).parent / "data" / "issue_pastes"
CASES = [(path.stem, i, case)
         for path in sorted(PASTES.glob("*.json")) for i, case in enumerate(json.loads(path.read_text()))]  # fmt: skip
Server = tuple[str, int, str, "str | None"]  # kind, port, path, token

NOTHING: dict[str, Any] = {"servers": [], "shutdown": 0}
CTRL_C_SUMMARY = ("only the summary Ctrl-C prints of a server already running (no log prefix: not a start line) "
                  "and its stop; with no start seen, the stop is of no known server")  # fmt: skip
MLFLOW_GUNICORN = ("MLflow 1 serves under gunicorn and prints only gunicorn's lines: read as gunicorn, opened as "
                   "MLflow's when the probe finds its page (README)")  # fmt: skip
SAME_AGAIN = ("the same server printed again with no stop line between (a supervisor's restart, Vite after a bare "
              "'^C'): one server to scan; the daemon forgets one that stopped answering, and then the second start "
              "is a new one")  # fmt: skip
CODE_SERVER_2 = "code-server 2.x: 'info  Server listening on URL', a line 3.x and later do not print"
DIFFERENT: dict[tuple[str, int], tuple[str, dict[str, Any]]] = {
    ("dashboards", 0): ("the paste ends in a Windows Fortran runtime's crash report after Ctrl-C, no TensorBoard line "
                        "(the daemon's health probe notices the server gone)", {"shutdown": 0}),
    ("dashboards", 5): ("TensorFlow 0.x's TensorBoard: 'Starting TensorBoard b'16' on port 7878', then '(You can "
                        "navigate to http://0.0.0.0:7878)': not read", NOTHING),
    ("dashboards", 6): ("TensorBoard 1.12 printed its --path_prefix without the final '/': read as printed",
                        {"servers": [("tensorboard", 6006, "/tb/0", None)]}),
    ("dashboards", 13): ("the poster put the URL line in markdown bold (**...**)", NOTHING),
    ("dashboards", 15): ("FastChat logs Gradio's lines behind its own log prefix ('... | INFO | stdout | ')", NOTHING),
    ("dashboards", 16): ("markdown italics put '_' in front of Gradio's stop line", {"shutdown": 0}),
    ("dashboards", 19): ("the address is the wrapper script's own echo; Bokeh's line says 0.0.0.0, every address, "
                         "loopback too", {"host": "0.0.0.0"}),
    ("dashboards", 21): ("Bokeh 0.12.2 prints no URL ('Starting Bokeh server on port 5006 with applications at "
                         "paths [...]')", NOTHING),
    ("dashboards", 26): ("Dash of 2018 printed Flask's lines only: read as Flask/Werkzeug",
                         {"servers": [("werkzeug", 8050, "/", None)]}),
    ("dashboards", 27): (MLFLOW_GUNICORN, {"servers": [("gunicorn", 5000, "/", None)]}),
    ("dashboards", 28): ("MLflow 0.x served its UI with Flask's development server: read as Flask/Werkzeug",
                         {"servers": [("werkzeug", 5000, "/", None)]}),
    ("dashboards", 29): (MLFLOW_GUNICORN, {"servers": [("gunicorn", 5000, "/", None)]}),
    ("dashboards", 31): ("the docs page lost the eight blanks marimo indents its URL line with", NOTHING),
    ("hpc", 14): ("jupyter-forward's own '*** URL ***' line, no Jupyter's", NOTHING),
    ("jupyter", 1): (CTRL_C_SUMMARY, NOTHING),
    ("jupyter", 4): (CTRL_C_SUMMARY, NOTHING),
    ("jupyter", 9): ("a Windows console hard-wrapped every line at 80 columns: the URL ends at the wrap, in the token",
                     {"servers": [("jupyter", 8890, "/", "95923f57790b777179e3e8")]}),
    ("jupyter", 13): (CTRL_C_SUMMARY, NOTHING),
    ("jupyter", 15): ("the poster wrote the token as '...', which is how Jupyter masks a token given on its command "
                      "line: read as none", {"servers": [("jupyter", 8888, "/", None)]}),
    ("jupyter", 19): ("every line of the paste starts with a blank that Jupyter's log format does not print", NOTHING),
    ("peers", 2): ("the fixture holds the URL line alone: Jupyter's URL counts only below its banner", NOTHING),
    ("peers", 3): ("the peer cut ' (Press CTRL+C to quit)' off TensorBoard's line", NOTHING),
    ("peers", 8): ("the page's two blocks disagree (edited): the 'is running at' one, read first, says localhost, "
                   "where a server on --ip 0.0.0.0 answers too", {"host": "localhost"}),
    ("peers", 19): ("under docker compose 1.x only compose says the container stops ('Gracefully stopping...', "
                    "'Stopping NAME ... done'): not read (the daemon's health probe notices)", {"shutdown": 0}),
    ("recent", 9): ("Dash 1.x printed Flask's lines only: read as Flask/Werkzeug",
                    {"servers": [("werkzeug", 8050, "/", None)]}),
    ("recent", 10): ("the poster wrote '<ip-address>' for the scheduler's address", NOTHING),
    ("recent", 13): (CTRL_C_SUMMARY, NOTHING),
    ("recent", 14): ("marimo's lines lost their indent in the paste, and the token is '[token]'", NOTHING),
    ("recent", 17): ("the paste holds Vite's 'Local:' and 'Network:' lines without its banner above them", NOTHING),
    ("recent", 19): ("'Dash app running on URL' goes into a notebook's output (Dash's Jupyter mode, jupyter-dash), "
                     "not into a terminal: not read", NOTHING),
    ("recent", 20): ("the pull request's author wrote 'TOKEN' in place of a token: read as written",
                     {"servers": [("jupyter", 8888, "/", "TOKEN")]}),
    ("recent", 21): ("the paste starts below Jupyter's 'is running at:' line, so its URLs have no banner", NOTHING),
    ("recent", 22): ("gunicorn prints its URL before its worker fails to boot: announced, and the probe finds nothing "
                     "to open", {"servers": [("gunicorn", 5000, "/", None)]}),
    ("stops", 1): (CTRL_C_SUMMARY, NOTHING),
    ("stops", 2): (CTRL_C_SUMMARY, NOTHING),
    ("stops", 11): (SAME_AGAIN, {"servers": [("uvicorn", 8001, "/", None)]}),
    ("stops", 27): (SAME_AGAIN, {"servers": [("vite", 5176, "/", None)]}),
    ("viewers", 0): ("under docker compose 1.x only compose says the container stops ('Gracefully stopping...', "
                     "'Stopping NAME ... done'): not read (the daemon's health probe notices)", {"shutdown": 0}),
    ("viewers", 3): ("Jupyter prints a token given on its command line masked, '...': read as none",
                     {"servers": [("jupyter", 8888, "/lab", None)]}),
    ("viewers", 5): ("a board's boot console: '[ UPTIME] unit[PID]: ' in front of every line, not read", NOTHING),
    ("viewers", 8): ("the README's author wrote '<token>' for the token", NOTHING),
    ("viewers", 16): ("a zero-downtime deploy: the stop lines are the previous instance's (another PID), read as this "
                      "server's stop", {"shutdown": 1}),
    ("viewers", 17): ("git's 'remote: ' in front of the hosting's time stamps: not read", NOTHING),
    ("viewers", 23): ("the paste holds Streamlit's URL lines without its 'You can now view' banner", NOTHING),
    ("services", 2): ("uvicorn 0.2 (2018): '* Uvicorn running on URL 🦄 (Press CTRL+C to quit)' and its stop lines",
                      NOTHING),
    ("services", 16): ("a Windows console showed webpack-dev-server's '｢wds｣' as '?wds?'", NOTHING),
    ("services", 17): ("webpack-dev-server 2.x: 'Project is running at URL' with no prefix", NOTHING),
    ("services", 18): ("webpack-dev-server 1.x: the URL alone on the first line", NOTHING),
    ("services", 19): ("webpack-dev-server 4.0.0-beta: 'Project is running at URL' on one line", NOTHING),
    ("services", 27): ("Ray 0.8: 'View the Ray dashboard at localhost:8265' with no scheme", NOTHING),
    ("services", 28): (CODE_SERVER_2, NOTHING),
    ("services", 29): (CODE_SERVER_2, NOTHING),
}


def read(case: dict[str, Any]) -> tuple[list[Server], dict[Server, tuple[str, ...]], int]:
    """The servers `scan` finds in the paste (started or listed; one started again after its stop is two), the
    hosts each may be opened at, and how many stops."""
    events = list(scan_stream(io.BytesIO(case["text"].encode())))
    found = [e for e in events if e.event in ("announce", "listing")]
    hosts = {(e.kind, e.port, e.path, e.token): (e.host, *e.printed_hosts, *e.alt_hosts) for e in found}
    return [(e.kind, e.port, e.path, e.token) for e in found], hosts, sum(e.event == "shutdown" for e in events)


def test_the_pastes_are_many_and_of_every_kind() -> None:
    kinds = {server["kind"] for _, _, case in CASES for server in case["expect"]}
    assert len(CASES) >= 100 and len(kinds) >= 17
    assert all(case["source"] and case["substituted"] is not None for _, _, case in CASES)
    assert set(DIFFERENT) <= {(name, i) for name, i, _ in CASES}
    assert len(DIFFERENT) < len(CASES) / 3


@pytest.mark.parametrize(("name", "index", "case"), CASES, ids=[f"{name}-{i}" for name, i, _ in CASES])
def test_a_paste_is_read_as_a_reader_of_it_reads_it(name: str, index: int, case: dict[str, Any]) -> None:
    reason, reading = DIFFERENT.get((name, index), ("", {}))
    expected = [(s["kind"], s["port"], s["path"], s["token"]) for s in case["expect"]]
    servers, hosts, stops = read(case)
    assert sorted(servers, key=repr) == sorted(reading.get("servers", expected), key=repr), reason
    assert stops == reading.get("shutdown", case["shutdown"]), reason
    for server, wanted in zip(expected, case["expect"], strict=True):
        if server in hosts:
            assert reading.get("host", wanted["host"]) in hosts[server], reason
