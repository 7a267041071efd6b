"""Notebook 4.4-5.4 under --ip='*', on the real captures: their "running at" URL is
http://[all ip addresses on your system]:PORT/ (notebook 5.0.0 notebookapp.py:1141 display_url, 4.4.1 :1004),
which no browser opens, so the server is announced from the copy-and-paste block below it, "Copy/paste this URL
into your browser when you connect for the first time,\\nto login with a token:\\n    http://localhost:PORT/..."
(5.0.0 :1403-1408, one log.critical message that tornado's LogFormatter indents by four blanks). The near misses
are the real block with one thing changed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.test_detect_old_dask import announced, lines_of

CAPTURES = Path(__file__).parent / "data" / "captures"
INDEX: dict[str, dict[str, Any]] = {e["file"]: e for e in json.loads((CAPTURES / "index.json").read_text())}
OLD = ("notebook4_4_ip_star.raw", "notebook5_0_ip_star.raw", "notebook5_2_ip_star.raw", "notebook5_4_ip_star.raw")
BANNER = "to login with a token:"


@pytest.mark.parametrize("name", OLD)
@pytest.mark.parametrize("batch", [1, 1000])
def test_the_copy_and_paste_url_is_announced(name: str, batch: int) -> None:
    lines = lines_of(name)
    assert any("[all ip addresses on your system]" in line for line in lines)
    (event,) = announced(lines, batch)
    assert (event.kind, event.url) == ("jupyter", INDEX[name]["expect"][0]["url"])
    assert event.host == "localhost" and lines[event.line - 2] == f"    {BANNER}"


def near_misses() -> list[Any]:
    lines = lines_of(OLD[1])
    n = lines.index(f"    {BANNER}")

    def changed(*new: str) -> list[str]:
        return [*lines[:n], *new, *lines[n + 2 :]]

    url = lines[n + 1]
    return [
        pytest.param(changed(f"     {BANNER}", url), id="diff-context-indent"),
        pytest.param(changed(f"  {BANNER}", url), id="two-blanks"),
        pytest.param(changed(f"    {BANNER} now", url), id="text-after-the-banner"),
        pytest.param(changed(f"    {BANNER}", "    ls -l", url), id="a-line-between"),
        pytest.param(changed(url), id="no-banner"),
        pytest.param(changed(f"    {BANNER}", url.replace("localhost", "example.com")), id="public-host"),
    ]


@pytest.mark.parametrize("lines", near_misses())
def test_near_misses_of_the_block_announce_nothing(lines: list[str]) -> None:
    assert announced(lines) == []
