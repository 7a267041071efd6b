"""A server that restarts in place is not stopped: uvicorn --reload (and `fastapi dev`, which reloads by
default) restarts its server process when a watched file changes, and the old process prints its stop line,
"Finished server process [PID]", while the reloader keeps the socket and the page keeps working.

Before, that line ended the server: the daemon closed the forward at every saved edit, and the URL is not
printed again. The captures (tools/capture.py *_reload_edited, fastapi_cli0_0_34_dev_edited, and
mlflow_server_dev_edited: `mlflow server --dev` runs uvicorn --reload) edit app.py while the server runs, then stop
it with Ctrl-C; their manifest records that the server answered after the edit too.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from iterm2_autolaunch.detect import Detector
from iterm2_autolaunch.lines import bytes_to_lines

CAPTURES = Path(__file__).parent / "data" / "captures"
INDEX: dict[str, dict[str, Any]] = {e["file"]: e for e in json.loads((CAPTURES / "index.json").read_text())}
EDITED = sorted(name for name in INDEX if name.endswith("_edited.raw"))
# Lines uvicorn logs only when the app has a lifespan (uvicorn 0.55.0 lifespan/on.py:48, :62, :67, :76), and the
# access log: under --lifespan off and with no request, a restart is three lines and the stop two.
LIFESPAN_OR_ACCESS = re.compile(r"Waiting for application|Application (?:startup|shutdown) complete|HTTP/1\.1")


def lines_of(name: str) -> list[str]:
    return list(bytes_to_lines([(CAPTURES / name).read_bytes()]))


def events(lines: list[str], batch: int) -> list[tuple[str, int]]:
    detector = Detector()
    found = [e for at in range(0, len(lines), batch) for e in detector.feed(lines[at : at + batch])]
    return [(e.event, e.line) for e in found + detector.finish()]


def test_the_captures_restart_once_and_answer_after_it() -> None:
    assert len(EDITED) == 5
    for name in EDITED:
        text = "\n".join(lines_of(name))
        assert "Reloading..." in text and text.count("Finished server process") == 2
        assert all(isinstance(status, int) for status in INDEX[name]["probe_status_after_midway"])  # an HTTP answer


@pytest.mark.parametrize("name", EDITED)
@pytest.mark.parametrize("batch", [1, 7, 1000])
def test_the_restart_is_no_stop_and_ctrl_c_is(name: str, batch: int) -> None:
    lines = lines_of(name)
    finished = [i + 1 for i, line in enumerate(lines) if "Finished server process" in line]
    (announce, url_line), (shutdown, stop_line) = events(lines, batch)
    assert (announce, shutdown) == ("announce", "shutdown")
    assert stop_line == finished[-1] > finished[0]  # the stop after Ctrl-C, not the restart's


@pytest.mark.parametrize("name", [name for name in EDITED if not name.startswith("mlflow")])  # MLflow logs more
def test_a_stop_right_after_a_restart_is_a_stop(name: str) -> None:
    """Without the lifespan's and the access log's lines the restart's announcement stands a few lines above the
    final stop line too; the new process's "Started server process" between them makes that one a stop."""
    lines = [line for line in lines_of(name) if not LIFESPAN_OR_ACCESS.search(line)]
    finished = [i + 1 for i, line in enumerate(lines) if "Finished server process" in line]
    assert finished[1] - finished[0] <= 4  # within the window the detector looks back over
    assert [event for event, _ in events(lines, 1000)] == ["announce", "shutdown"]
    assert events(lines, 1000)[1][1] == finished[1]
