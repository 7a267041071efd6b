"""The candidate pass's two forms of one pattern (candidates.py) find the same lines at every width.

candidates.py gives each character width of a text (CPython stores 1, 2 or 4 bytes a character) the form
its regex engine walked faster at import, on this machine: which form the other tests exercise depends on
the machine. Here each form is forced in turn on every capture, every negative and the hostile inputs, as
they are and widened to 2 and 4 bytes a character, and both must find the same candidate lines.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from iterm2_autolaunch import candidates
from iterm2_autolaunch.detect import Detector
from iterm2_autolaunch.lines import bytes_to_lines

DATA = Path(__file__).parent / "data"
RAW = sorted((DATA / "captures").glob("*.raw")) + sorted((DATA / "negative").glob("*.raw"))
HOSTILE = [
    "http://a:1 ::" * 5000,
    "://a:1/" * 10_000 + " x",
    "    http://(a or 127.0.0.1):1" * 2000,
    '    "url": "http://localhost:1/",\n' * 2000,
    ":" * 50_000 + "//127.0.0.1:1/",
    "http://[::1]:8888/\nhttp://::1:8888/\nhttp://2001:db8::1:8888/x\nhttps://a:1,http://[::1]:2 ::",
    "http://*:8888/\nhttp://:8888/\nhttp://(node1 or 127.0.0.1):8888/\nhttp://[all ip addresses on your system]:1/",
    "https://files.pythonhosted.org/packages/ab/cd/x.whl\nhttp://" + "a" * 300 + ":1/\nhttp://a.b/c:1/",
]
WIDENING = {1: "", 2: "\u2501", 4: "\U0001f600"}  # a last line holding one character of that width


def texts() -> list[str]:
    return ["\n".join(bytes_to_lines([path.read_bytes()])) for path in RAW] + HOSTILE


def test_the_width_is_read_as_cpython_stores_the_text() -> None:
    assert [candidates._width(text) for text in ("", "a", "caf\xe9", "\u2501", "a\U0001f600")] == [1, 1, 1, 2, 4]
    assert candidates._width("x" * 100_000 + "\u2501") == 2


# The pattern as it was before the host guard (candidates._HOST_GUARD), which only saves time.
UNGUARDED = re.compile(rf"://{candidates._ATOMIC_URL_PART}{candidates._ENDING}", re.ASCII | re.MULTILINE)


@pytest.mark.parametrize("width", WIDENING)
def test_both_forms_find_the_same_candidate_lines(width: int, monkeypatch: pytest.MonkeyPatch) -> None:
    prefix = Detector()._prefix
    found: list[list[tuple[list[int], list[int]]]] = []
    for form in (*candidates._FORMS, UNGUARDED):
        monkeypatch.setattr(candidates, "_CANDIDATE_BY_WIDTH", dict.fromkeys(WIDENING, form))
        found.append([candidates.candidate_lines(f"{text}\n{WIDENING[width]}", prefix) for text in texts()])
    assert len(RAW) > 4000
    assert found[0] == found[1] == found[2]
    assert sum(len(starts) for starts, _ in found[0]) > 4000  # the captures' start lines are among them
