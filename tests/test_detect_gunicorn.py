"""gunicorn on its own: several listeners on its one start line, and the stop it prints when it halts itself.

gunicorn prints every -b listener on one line, ",".join()ed: "Listening at: URL1,URL2 (PID)", a unix socket as
"unix:PATH" (gunicorn 23.0.0 arbiter.py:156-158, sock.py:85/:98/:120). The real lines are the captures of
gunicorn 19.9.0 and 23.0.0 (tests/data/captures/mx_gunicorn*_two_listeners_*, *_unix_tcp_*, *_three_listeners_*);
the near misses below are hand-written.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from iterm2_autolaunch.detect import Detector
from iterm2_autolaunch.lines import bytes_to_lines

CAPTURES = Path(__file__).parent / "data" / "captures"
INDEX: list[dict[str, Any]] = json.loads((CAPTURES / "index.json").read_text())
SEVERAL_STARTS = ("two_listeners", "unix_tcp", "three_listeners")  # URL1,URL2 / unix:PATH,URL / URL1,unix:PATH,URL2
SEVERAL = [e for e in INDEX if e["file"].startswith("mx_gunicorn") and e.get("start") in SEVERAL_STARTS]
APP_ERROR = [e for e in INDEX if e["file"].startswith("gunicorn") and e["file"].endswith("_app_error.raw")]
PREFIX = "[2026-12-04 19:36:21 +0000] [4242] [INFO] Listening at: "


def lines_of(entry: dict[str, Any]) -> list[str]:
    return list(bytes_to_lines([(CAPTURES / entry["file"]).read_bytes()]))


def first_tcp_listener(lines: list[str]) -> str:
    """The first listener on the start line that is no unix socket, read with plain string operations."""
    line = next(line for line in lines if "Listening at: " in line)
    listeners = line.split("Listening at: ", 1)[1].rsplit(" (", 1)[0].split(",")
    return next(listener for listener in listeners if not listener.startswith("unix:"))


def test_captures_of_several_listeners_are_there() -> None:
    """Both versions, both forms, every stop (tests/test_capture_matrix.py checks the cells one by one)."""
    assert {(e["file"].split("_")[1], e["start"]) for e in SEVERAL} == {
        (version, start) for version in ("gunicorn19", "gunicorn23") for start in SEVERAL_STARTS
    }
    assert all("," in first_line_listeners(e) for e in SEVERAL)


def first_line_listeners(entry: dict[str, Any]) -> str:
    return next(line for line in lines_of(entry) if "Listening at: " in line)


@pytest.mark.parametrize("entry", SEVERAL, ids=lambda e: e["file"])
def test_several_listeners_are_one_server_at_its_first_tcp_listener(entry: dict[str, Any]) -> None:
    """One announcement, at the first listener a forward can reach (a unix socket is none), and its stop."""
    lines = lines_of(entry)
    detector = Detector()
    events = detector.feed(lines) + detector.finish()
    assert [(e.event, e.url) for e in events if e.event == "announce"] == [("announce", first_tcp_listener(lines))]
    assert [e.event for e in events].count("shutdown") == (1 if entry["shutdown"] else 0)


@pytest.mark.parametrize("entry", APP_ERROR, ids=lambda e: e["file"])
def test_a_master_that_halts_by_itself_is_seen_stopping(entry: dict[str, Any]) -> None:
    """An app that cannot be imported: gunicorn prints its URL, then halts on its own; 21.0 and later log that
    "Shutting down: Master" at ERROR (23.0.0 arbiter.py:343-344), 19.9.0 at INFO. Either way the forward goes."""
    lines = lines_of(entry)
    stop_line = next(n for n, line in enumerate(lines, 1) if "Shutting down: Master" in line)
    level = "[ERROR]" if entry["version"] >= "21" else "[INFO]"
    assert level in lines[stop_line - 1]
    detector = Detector()
    events = detector.feed(lines) + detector.finish()
    assert [(e.event, e.line) for e in events][1:] == [("shutdown", stop_line)]
    assert events[0].event == "announce"


@pytest.mark.parametrize("message", [
    "Listening at: http://a:1,http://b:2 (x)",  # no PID
    "Listening at: http://127.0.0.1:8000,http://[::1]:8000 (pid 4242)",
    "Listening at: http://127.0.0.1:8000,http://[::1]:8000",  # nothing after the listeners
    "Listening at: http://127.0.0.1:8000,http://[::1]:8000 (4242) and more",
    "Listening at: http://127.0.0.1:8000, http://[::1]:8000 (4242)",  # gunicorn joins with a bare ","
    "Listening at: http://127.0.0.1:8000,,http://[::1]:8000 (4242)",
    "Listening at: http://127.0.0.1:8000,http://[::1]:8000, (4242)",
    "Listening at: http://127.0.0.1:8000,ftp://10.0.0.1:21 (4242)",
    "Listening at: http://127.0.0.1:8000,http://b (4242)",  # a listener always has an address and a port
    "Listening at: http://127.0.0.1:8000,http://evil.example:80 (4242)",  # getsockname() gives an address
    "Listening at: http://127.0.0.1:8000,http://10.0.0.1:8000/x (4242)",
    "Listening at: http://127.0.0.1:8000,http://10.0.0.1:" + "1" * 300 + " (4242)",
    "Listening at: http://127.0.0.1:8000/,http://10.0.0.1:8001 (4242)",
    "Listening at: http://127.0.0.1:8000,unix:/tmp/a b.sock (4242)",
    "Listening at: http://127.0.0.1:8000,unix: (4242)",
    "Listening at: unix:/tmp/x.sock (4242)",  # nothing a forward reaches
    "Listening at: unix:/tmp/x.sock http://127.0.0.1:8000 (4242)",
    "Listening at: unix:/tmp/x://y.sock,http://127.0.0.1:8000 (4242)",
    "Listening at: tcp:/tmp/x.sock,http://127.0.0.1:8000 (4242)",
    "Listening at: junk,http://127.0.0.1:8000 (4242)",
    "Listening at: http://10.0.0.1:8001,http://127.0.0.1:8000 (4242) " + "x" * 70_000,  # past the line cap
    "Listening at: http://127.0.0.1:8000" + ",http://10.0.0.1:8000" * 3000 + " (4242x",  # long, no PID at its end
    "Listening at: " + "unix:/tmp/x.sock," * 3000 + "http://127.0.0.1:8000 (4242)",  # past the prefix bound
])  # fmt: skip
def test_near_misses_of_several_listeners_are_not_announced(message: str) -> None:
    """Hand-written near misses: the line is gunicorn's exact form or nothing is announced."""
    assert Detector().feed([PREFIX + message]) == []
    assert Detector().feed([message]) == []


@pytest.mark.parametrize("time", [
    "[2026-12-04 19:36:21 +0000",  # an open bracket
    "2026-12-04 19:36:21 +0000]",
    "2026-12-04 19:36:21 +0000",  # the zone comes with the brackets only (19.1 and later)
    "[2026-12-04 19:36:21] +0000",
    "2026-12-04T19:36:21",
    "26-12-04 19:36:21",
])  # fmt: skip
def test_near_misses_of_gunicorn_log_times_are_not_announced(time: str) -> None:
    """gunicorn dates a line "[%Y-%m-%d %H:%M:%S %z]" (19.1 and later) or "%Y-%m-%d %H:%M:%S" (18.0, 19.0); neither
    start nor stop is read under another form."""
    start = f"{time} [4242] [INFO] Listening at: http://127.0.0.1:8000 (4242)"
    assert Detector().feed([start]) == []
    detector = Detector()
    assert len(detector.feed([PREFIX + "http://127.0.0.1:8000 (4242)"])) == 1
    assert detector.feed([f"{time} [4242] [INFO] Shutting down: Master"]) == []
