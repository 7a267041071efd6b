"""Stops of every running server, not only the last one announced: a server started in the background
(``jupyter lab &``, then ``streamlit run`` in the same shell) or two of a kind on two ports.

The sessions are real captures (tests/data/captures) cut where the stop begins and interleaved, as one
terminal shows two servers' output; hand-written lines only for the hostile cases at the end.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest

from iterm2_autolaunch import streams
from iterm2_autolaunch.detect import Detector, Event
from iterm2_autolaunch.kinds import JUPYTER
from iterm2_autolaunch.lines import bytes_to_lines
from iterm2_autolaunch.running import BACKGROUND_WATCH
from iterm2_autolaunch.streams import LOOKAHEAD, CueSearch, cue_searches

CAPTURES = Path(__file__).parent / "data" / "captures"
NEGATIVE = Path(__file__).parent / "data" / "negative"
INDEX: dict[str, dict[str, Any]] = {e["file"]: e for e in json.loads((CAPTURES / "index.json").read_text())}


def session(name: str) -> tuple[list[str], list[str], int]:
    """A capture's lines before its stop begins, the lines from its stop line on, and its port."""
    entry = INDEX[name]
    lines = list(bytes_to_lines([(CAPTURES / name).read_bytes()]))
    events = Detector().feed(lines)
    stops = [e.line for e in events if e.event == "shutdown"]
    cut = stops[0] - 1 if stops else len(lines)
    assert entry["shutdown"] == bool(stops)  # the capture alone stops as its manifest says
    return lines[:cut], lines[cut:], entry["expect"][0]["port"]


def other_output() -> list[str]:
    """What the user runs meanwhile in the same session (real captures of pip and git)."""
    names = ["pip_help.raw", "git_clone_local.raw", "pip_verbose_index.raw"]
    return [line for name in names for line in bytes_to_lines([(NEGATIVE / name).read_bytes()])]


def run(lines: list[str], batch: int = 0) -> list[tuple[str, str, int]]:
    detector = Detector()
    events: list[Event] = []
    for start in range(0, len(lines), batch or len(lines) or 1):
        events += detector.feed(lines[start : start + (batch or len(lines))])
    events += detector.finish()
    return [(e.event, e.kind, e.port) for e in events]


BACKGROUND = ["jupyterlab_token_auto.raw", "jupyterlab_sigterm.raw", "notebook5_7_sigterm.raw"]
FOREGROUND = ["streamlit.raw", "streamlit_sigterm.raw", "uvicorn_app.raw", "marimo_sigterm.raw"]


@pytest.mark.parametrize("background", BACKGROUND)
@pytest.mark.parametrize("foreground", FOREGROUND)
def test_background_server_stops_while_another_runs(background: str, foreground: str) -> None:
    """``jupyter lab &``, then another server: Jupyter stopped (``kill %1``, or ``fg`` and Ctrl-C) while
    the other still runs. Its forward must go, and the other server's must stay until its own stop."""
    bg_start, bg_stop, bg_port = session(background)
    fg_start, fg_stop, fg_port = session(foreground)
    got = run(bg_start + fg_start + other_output() + bg_stop + other_output() + fg_stop)
    kinds = {e[1] for e in got}
    assert got == [
        ("announce", "jupyter", bg_port),
        ("announce", next(iter(kinds - {"jupyter"})), fg_port),
        ("shutdown", "jupyter", bg_port),
        ("shutdown", next(iter(kinds - {"jupyter"})), fg_port),
    ]


@pytest.mark.parametrize("batch", [0, 1, 7, 100])
def test_two_jupyters_on_two_ports_each_stop_is_its_own(batch: int) -> None:
    """Two Jupyters in one session. Their stop lines name no port ("Shutting down 4 extensions"): the
    stop goes to the latest announced one still running, the one Ctrl-C in the foreground reaches."""
    first_start, first_stop, first_port = session("jupyterlab_token_auto.raw")
    second_start, second_stop, second_port = session("jupyterlab_sigterm.raw")
    assert first_port != second_port
    got = run(first_start + second_start + other_output() + second_stop + other_output() + first_stop, batch)
    assert got == [
        ("announce", "jupyter", first_port),
        ("announce", "jupyter", second_port),
        ("shutdown", "jupyter", second_port),
        ("shutdown", "jupyter", first_port),
    ]


def test_background_stop_output_interleaved_line_by_line() -> None:
    """Two servers writing at once: the lines of both stops alternate."""
    bg_start, bg_stop, bg_port = session("jupyterlab3_sigterm.raw")
    fg_start, fg_stop, fg_port = session("uvicorn_sigterm.raw")
    mixed = [line for pair in zip(bg_stop, fg_stop, strict=False) for line in pair]
    mixed += bg_stop[len(fg_stop) :] + fg_stop[len(bg_stop) :]
    got = run(bg_start + fg_start + other_output() + mixed)
    assert sorted(got[2:]) == [("shutdown", "jupyter", bg_port), ("shutdown", "uvicorn", fg_port)]


def test_a_server_gone_without_a_stop_line_does_not_take_another_ones_stop() -> None:
    """The closed pty left no stop line: that Jupyter stays as it was, and a later server's stop is
    that server's alone."""
    gone_start, gone_stop, gone_port = session("jupyterlab_closed_pty.raw")
    assert gone_stop == []
    other_start, other_stop, other_port = session("streamlit_sigterm.raw")
    assert run(gone_start + other_start + other_output() + other_stop) == [
        ("announce", "jupyter", gone_port),
        ("announce", "streamlit", other_port),
        ("shutdown", "streamlit", other_port),
    ]


def test_stop_line_of_a_kind_that_is_not_running_stops_nothing() -> None:
    """A Streamlit runs; Jupyter's stop lines (another session's log being shown) stop nothing."""
    _, jupyter_stop, _ = session("jupyterlab_sigterm.raw")
    start, stop, port = session("streamlit.raw")
    got = run(start + other_output() + jupyter_stop + stop)
    assert got == [("announce", "streamlit", port), ("shutdown", "streamlit", port)]


# -- hostile ---------------------------------------------------------------------------------------------


def test_stop_text_quoted_in_a_command_or_grep_output_stops_nothing() -> None:
    start, stop, port = session("jupyterlab_token_auto.raw")
    quoted = [
        "$ grep 'Shutting down 2 kernels' jupyter.log",
        "jupyter.log:[I 2026-12-04 12:41:38.029 ServerApp] Shutting down 2 kernels",
        'echo "[C 12:47:26.313 NotebookApp] Shutdown confirmed"',
        "Keyboard interrupt received, exiting. Stopping... Thanks for using marimo",
    ]
    assert run(start + quoted) == [("announce", "jupyter", port)]
    assert run(start + quoted + stop)[-1] == ("shutdown", "jupyter", port)


def test_lines_full_of_stop_cues_stop_nothing() -> None:
    """Every line holding a stop cue of a running server is checked against the stop lines: many such
    lines, and one 64 KiB line of cues, stop nothing (bench_scan times the same on its hostile input)."""
    start, _, port = session("jupyterlab_token_auto.raw")
    hostile = ["[I 2026-12-04 12:41:38.029 ServerApp] Shutting down: Shutdown confirmed?"] * 20_000
    hostile += ["".join(JUPYTER.stop_cues) * 1200]
    assert run(start + hostile) == [("announce", "jupyter", port)]


@pytest.mark.parametrize("cues", [("Shutting down ",), JUPYTER.stop_cues], ids=["one-literal", "three-in-one-search"])
@pytest.mark.parametrize("shift", [-1, 0, 1, 7, 13, 14, 15, 16, 19, 20])
def test_a_cue_across_the_end_of_a_bounded_search_is_found(shift: int, cues: tuple[str, ...]) -> None:
    """Cues are searched LOOKAHEAD characters past what is asked: a cue that straddles the end of such a
    stretch is found by the next search, whether it is searched alone (str.find) or with others that share
    its first characters (one regex, streams.Cue)."""
    cue = cues[0]
    lines = ["x" * (LOOKAHEAD + shift - 1), f"{cue}2 kernels", "y" * 100]
    search = CueSearch("\n".join(lines))
    search.watch(cue_searches(cues))
    assert search.next_line(before=10) is None  # a candidate line at 10: searched up to LOOKAHEAD + 14
    assert search.next_line(before=10 * LOOKAHEAD) == (LOOKAHEAD + shift, LOOKAHEAD + shift + len(cue) + 9)
    assert search.next_line(before=10 * LOOKAHEAD) is None


@pytest.mark.parametrize("lookahead", [1, 5, 23, LOOKAHEAD])
def test_every_line_holding_a_watched_cue_is_found_once_in_order(lookahead: int, monkeypatch: Any) -> None:
    """Against a plain check of each line: cues searched alone and in groups (Jupyter's three in one regex,
    Streamlit's and Gradio's "Stopping" pair), asked line by line as candidates come, with searches bounded
    short (a small LOOKAHEAD) so that hits straddle their ends."""
    monkeypatch.setattr(streams, "LOOKAHEAD", lookahead)
    cues = (*JUPYTER.stop_cues, "Stopping...", "Stopping Node.js server", "TensorBoard caught")
    assert len(cue_searches(cues)) == 3
    pieces = [*cues, "] ", "] Shut", "Stop", "Stopping", "TensorBoard", "x" * 30, " ", "\n", "\n", "\n"]
    rng = random.Random(7)
    for _ in range(300):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 40)))
        starts = [0] + [at + 1 for at, char in enumerate(text) if char == "\n"]
        expected = [start for start in starts if any(cue in text[start:].split("\n", 1)[0] for cue in cues)]
        search = CueSearch(text)
        search.watch(cue_searches(cues))
        found = []
        for before in [*starts[1:], len(text) + 1]:  # a candidate at every line: the search goes up to each
            while (hit := search.next_line(before)) is not None:
                found.append(hit[0])
        assert found == expected, text


def test_background_watch_is_bounded_and_the_latest_server_is_watched_until_it_stops() -> None:
    """A server in the background has its stop lines looked for during BACKGROUND_WATCH characters of
    output (each watched kind costs a search through everything after it); past that, its stop is the
    daemon's health probe's to notice. The latest server is watched however long the session runs."""
    bg_start, bg_stop, bg_port = session("jupyterlab_token_auto.raw")
    fg_start, fg_stop, fg_port = session("streamlit.raw")
    filler = other_output()
    long_filler = filler * (BACKGROUND_WATCH // len("\n".join(filler)) + 2)
    within = run([*bg_start, *fg_start, *bg_stop, *fg_stop])
    assert ("shutdown", "jupyter", bg_port) in within and ("shutdown", "streamlit", fg_port) in within
    beyond = run([*bg_start, *fg_start, *long_filler, *bg_stop, *fg_stop])
    assert ("shutdown", "jupyter", bg_port) not in beyond and ("shutdown", "streamlit", fg_port) in beyond
    latest = run([*bg_start, *long_filler, *long_filler, *bg_stop])  # alone: the latest, however long
    assert ("shutdown", "jupyter", bg_port) in latest
