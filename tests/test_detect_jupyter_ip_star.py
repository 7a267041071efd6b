"""Notebook 4.4-5.4 under --ip='*', on the real captures.

They print the host of their "running at" URL as "[all ip addresses on your system]" (notebook 5.0.0
notebookapp.py:1141 display_url, 4.4.1 :1004): read as the wildcard 0.0.0.0, as they print --ip=0.0.0.0 (the
forward then goes to loopback). For a generated token they also print the copy-and-paste block, "Copy/paste this
URL into your browser when you connect for the first time,\\nto login with a token:\\n    http://localhost:PORT/..."
(5.0.0 :1403-1408, one log.critical message that tornado's LogFormatter indents by four blanks), which alone
announces the server too (a screen whose "running at" line has scrolled away). The near misses are the real
lines with one thing changed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.test_detect_old_dask import announced, lines_of

CAPTURES = Path(__file__).parent / "data" / "captures"
INDEX: dict[str, dict[str, Any]] = {e["file"]: e for e in json.loads((CAPTURES / "index.json").read_text())}
WITH_TOKEN = tuple(f"notebook{version}_ip_star.raw" for version in ("4_4", "5_0", "5_2", "5_4"))
NO_TOKEN = ("notebook4_4_ip_star_no_token.raw", "notebook5_4_ip_star_no_token.raw")
EVERY = "[all ip addresses on your system]"
BANNER = "    to login with a token:"


@pytest.mark.parametrize("name", WITH_TOKEN + NO_TOKEN)
@pytest.mark.parametrize("batch", [1, 1000])
def test_the_wildcard_url_is_announced_as_0_0_0_0(name: str, batch: int) -> None:
    lines = lines_of(name)
    (event,) = announced(lines, batch)
    assert (event.kind, event.url, event.host) == ("jupyter", INDEX[name]["expect"][0]["url"], "0.0.0.0")
    assert event.alt_hosts == ("127.0.0.1",) and EVERY in lines[event.line - 1]


def without_running_at(name: str) -> list[str]:
    return [line for line in lines_of(name) if EVERY not in line]


@pytest.mark.parametrize("name", WITH_TOKEN)
def test_the_copy_and_paste_block_alone_announces_localhost(name: str) -> None:
    lines = without_running_at(name)
    (event,) = announced(lines)
    assert event.url == INDEX[name]["expect"][0]["url"].replace("0.0.0.0", "localhost")
    assert lines[event.line - 2] == BANNER


def near_misses() -> list[Any]:
    lines = without_running_at(WITH_TOKEN[1])
    n = lines.index(BANNER)
    url = lines[n + 1]
    running_at = next(line for line in lines_of(WITH_TOKEN[1]) if EVERY in line)

    def changed(*new: str) -> list[str]:
        return [*lines[:n], *new, *lines[n + 2 :]]

    return [
        pytest.param(changed(f" {BANNER}", url), id="diff-context-indent"),
        pytest.param(changed(BANNER[2:], url), id="two-blanks"),
        pytest.param(changed(f"{BANNER} now", url), id="text-after-the-banner"),
        pytest.param(changed(BANNER, "    ls -l", url), id="a-line-between"),
        pytest.param(changed(url), id="no-banner"),
        pytest.param(changed(BANNER, url.replace("localhost", "169.254.169.254")), id="metadata-host"),
        pytest.param(changed(running_at.replace(EVERY, "[all IP addresses on your system]")), id="other-case"),
        pytest.param(changed(running_at.replace(EVERY, "[all ip addresses]")), id="shortened"),
        pytest.param(changed(running_at.replace("://", "://x")), id="a-name-before"),
    ]


@pytest.mark.parametrize("lines", near_misses())
def test_near_misses_announce_nothing(lines: list[str]) -> None:
    assert announced(lines) == []
