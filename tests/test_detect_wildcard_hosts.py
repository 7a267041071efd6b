"""Servers told to listen on "*" or "", on the real captures: uvicorn, Flask, Panel, Voila, TensorBoard, Dash and
marimo bind every address and print the host as given, "http://*:PORT/" (uvicorn 0.55.0 config.py:592
"%s://%s:%d", werkzeug 3.1.9 serving.py:850 display_hostname = self.host); uvicorn, Flask, TensorBoard and
marimo print "" as nothing, "http://:PORT/". Both are read as 0.0.0.0, as they print --host 0.0.0.0, so the
forward goes to loopback (kind_layouts.PRINTED_WILDCARDS). The near misses are the real lines with one thing
changed.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tests.test_detect_old_dask import announced, lines_of

CAPTURES = Path(__file__).parent / "data" / "captures"
INDEX: dict[str, dict[str, Any]] = {e["file"]: e for e in json.loads((CAPTURES / "index.json").read_text())}
STAR = [name for name in INDEX if name.endswith("_star.raw") and not name.startswith(("notebook", "jupyter"))]
EMPTY = [name for name in INDEX if name.endswith("_host_empty.raw")]


def test_every_tool_that_prints_a_wildcard_is_captured() -> None:
    assert {INDEX[name]["tool"] for name in STAR} >= {"uvicorn", "flask", "panel", "voila", "tensorboard", "dash",
                                                      "marimo"}  # fmt: skip
    assert {INDEX[name]["tool"] for name in EMPTY} >= {"uvicorn", "flask", "tensorboard", "marimo"}


@pytest.mark.parametrize("name", STAR + EMPTY)
@pytest.mark.parametrize("batch", [1, 1000])
def test_a_wildcard_host_is_announced_as_0_0_0_0(name: str, batch: int) -> None:
    lines = lines_of(name)
    events = announced(lines, batch)
    expected = INDEX[name]["expect"][0]
    assert [(e.kind, e.url, e.host, e.alt_hosts) for e in events][:1] == [
        (expected["kind"], expected["url"], "0.0.0.0", ("127.0.0.1",))
    ]
    printed = "*" if name in STAR else ""
    assert f"://{printed}:{expected['port']}" in lines[events[0].line - 1]


def near_misses() -> list[Any]:
    lines = lines_of("uvicorn_host_star.raw")
    n = next(i for i, line in enumerate(lines) if "://*:" in line)

    def changed(new: str) -> list[str]:
        return [*lines[:n], new, *lines[n + 1 :]]

    line = lines[n]
    return [
        pytest.param(changed(line.replace("://*:", "://**:")), id="two-stars"),
        pytest.param(changed(line.replace("://*:", "://*.example.com:")), id="a-star-domain"),
        pytest.param(changed(line.replace("://*:", "://a*:")), id="a-star-in-a-name"),
        pytest.param(changed(line.replace("://*:", "://:")[: line.index("://*:") + 4]), id="empty-host-no-port"),
        pytest.param(changed(line.replace("://*:", ":///:")), id="a-slash-for-a-host"),
        pytest.param(changed(f"CORS origins allowed: {line.split('on ', 1)[1]}"), id="another-text"),
    ]


@pytest.mark.parametrize("lines", near_misses())
def test_near_misses_announce_nothing(lines: list[str]) -> None:
    assert announced(lines) == []


@pytest.mark.parametrize("printed", ["*", ""])
@pytest.mark.parametrize("name", ["jupyterlab_ip_star.raw", "notebook6_4_ip_star.raw",
                                  "jupyter_server1_13_ip_star.raw"])
def test_jupyter_never_prints_a_star_or_nothing_for_its_host(name: str, printed: str) -> None:
    """Jupyter takes --ip='*' as "" and prints "" as a name (jupyter_server 2.21.1 serverapp.py:1041 and :2372,
    notebook 6.5.7 notebookapp.py:861 and :1890; the captures under --ip='*' print localhost or the host's name):
    its real lines with the host made "*" or "" are no Jupyter's, even when the stream ends there (a held
    non-loopback Jupyter URL goes out at the end when no loopback twin follows)."""
    lines = lines_of(name)
    urls = [i for i, line in enumerate(lines) if "://" in line and "127.0.0.1" not in line and "file:" not in line]
    changed = [re.sub(r"://[^:/]+:", f"://{printed}:", line) if i in urls else line for i, line in enumerate(lines)]
    changed = [line for line in changed if "127.0.0.1" not in line]  # no loopback twin to go by
    assert len(urls) >= 2 and announced(lines_of(name))
    assert announced(changed) == []
