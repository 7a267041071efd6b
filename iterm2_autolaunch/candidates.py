"""The detector's first, fast pass: the lines of a batch where a server's URL may stand. Pure.

One regex with a literal ``://`` prefix (in one of two forms, see _FORMS) finds the few candidate URLs
(host and explicit port) in a whole batch of lines; only those lines are parsed further (detect.py).
"""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Sequence

from iterm2_autolaunch.kinds import DASK_SCHEDULER_PREFIX
from iterm2_autolaunch.listings import JSON_URL_KEY

# A candidate: "://", a host, ":" and a port, a path and query of the characters a layout's URL may hold,
# then the end of the line, a known suffix ("(Press CTRL+C", " :: dir", gunicorn's " (PID)", webpack-dev-server's
# ", http://[::1]...", Gradio 5's ", with SSR", the "' ray job submit" of `ray start`'s hint, gunicorn's next
# listener after a bare ",": ",http://[::1]:8000" or ",unix:PATH") or a JSON string's closing quote.
# Linear on hostile input: the path cannot hold ":", so candidates never overlap and backtracking stops
# at the first character that is no URL character. The literal "://" first lets the regex engine skip
# ahead as fast as str.find. The URL part is atomic: each of its parts ends where no character of it
# can follow (a path's "," before a space: webpack's ", http://" may start there), so giving characters
# back could only fail again; without that, a URL with a port but no candidate's ending
# ("http://localhost:8080/docs here") retried the ending after every character of its path and port,
# which made this pass 1.2 to 2 times slower on bench_scan's text (same matches). Python 3.10 has no
# atomic groups: a lookahead (atomic in Python) captures the part and a backreference consumes it.
# A host name is possessive for the same reason: ":" is none of its characters, so a name not followed by
# ":" (most URLs: no port) fails at once instead of giving back one character after another (3.11+, which
# has possessive quantifiers; bench_scan's candidate pass 1.17 -> 0.97 str.count passes, the same matches).
_POSSESSIVE = "+" if sys.version_info >= (3, 11) else ""
_URL_PART = (  # an unbracketed IPv6 host first: "2001:0:..." is no name and port (kind_layouts.URL)
    r"(?:[0-9A-Fa-f]{0,4}:[0-9A-Fa-f.]{0,4}:[0-9A-Fa-f:.]{0,37}"
    rf"|[A-Za-z0-9][A-Za-z0-9._-]{{0,252}}{_POSSESSIVE}"
    r"|\[(?:[0-9A-Fa-f:.]{2,45}|all[ ]ip[ ]addresses[ ]on[ ]your[ ]system)\]"
    r"|\([A-Za-z0-9][A-Za-z0-9._-]{0,252}[ ]or[ ]127\.0\.0\.1\)|\*?(?=:[0-9]))"  # "*", "": PRINTED_WILDCARDS
    # A "," followed by a space ends the path or query: it may start webpack's ", http://[::1]...".
    r":[0-9]{1,5}(?:/[A-Za-z0-9._~%/+=@-]*(?:,(?![ ])[A-Za-z0-9._~%/+=@-]*)*)?"
    r"(?:\?[A-Za-z0-9._~/+=&-]*(?:,(?![ ])[A-Za-z0-9._~/+=&-]*)*)?"
)
_ATOMIC_URL_PART = f"(?>{_URL_PART})" if sys.version_info >= (3, 11) else f"(?=(?P<part>{_URL_PART}))(?P=part)"
# Most "://" in terminal text begin a URL with no port (pip's https://files.pythonhosted.org/...). Every host
# form above is a run of name characters (or none) followed by ":", "[", "(" or "*", so a URL whose run ends
# otherwise cannot match: this lookahead says so in one possessive walk, before the five host forms are each
# tried (bench_scan's candidate pass 0.88 -> 0.81 str.count passes, the same matches: tests/test_candidates.py).
_HOST_GUARD = rf"(?=[A-Za-z0-9._-]*{_POSSESSIVE}[:\[(*])"
_ENDING = (
    r"(?=[ \t]*(?:$|\(Press|::|\([0-9])|\"|\)[ ]\.\.\.|,[ ](?:https?://|with[ ]SSR)"
    r"|,(?:https?://|unix:)|'[ ]ray[ ]job[ ])"
)
# CPython's regex engine walks the text to a pattern's leading literal with a C loop per character width
# (a str stores 1, 2 or 4 bytes a character, by its widest one), one loop for a one-character literal and
# another for a longer one; that walk is most of this pass. Some of these loops run two or three times
# slower than the others, and which ones depends on the build. Over 64k characters of a build log
# pyenv's CPython 3.11.7 took 35 us for "://" at 2 bytes and for ":" at 4, 17 us for the rest; 3.13.0 the
# same and 35 us for "://" at 1 byte too; Debian's 3.11.2, 52 us for "://" at 4 bytes.
# Terminal text is 2 bytes a character as soon as a batch holds a "━" (pip's progress bar) or a "➜"
# (Vite's banner). So the pattern comes in two forms that match the same, "://" or ":" and a lookahead for
# "//" (tests/test_candidates.py), and each width takes the one that ran faster at import on _SAMPLE.
_FORMS = tuple(
    re.compile(rf"{start}{_HOST_GUARD}{_ATOMIC_URL_PART}{_ENDING}", re.ASCII | re.MULTILINE)
    for start in ("://", ":(?=//)//")
)
_EMPTY_WIDE = sys.getsizeof("\xe9") - 2  # a non-ASCII str's size: this, plus a character per (length + 1)


def _width(text: str) -> int:
    """Bytes per character of ``text`` in CPython's store (1 on an interpreter that does not tell)."""
    if text.isascii():
        return 1
    width = (sys.getsizeof(text) - _EMPTY_WIDE) // (len(text) + 1)
    return width if width in (1, 2, 4) else 1


# Lines as terminals show them: ":" in times and log prefixes, "://" in URLs with no port. A sample with no ":"
# (a build log alone) made Debian's 3.11.2 take ":" for 2-byte text in 2 runs of 6, where bench_scan's text
# then took 3.5 str.count passes against 2.5 with "://" (this sample: "://" in 6 runs of 6).
_SAMPLE = (
    "[ 41%] Building CXX object src/parser/CMakeFiles/parser.dir/lexer.cc.o\n"
    "2026-12-05 07:13:37,123 INFO trainer.py:88 -- epoch=3 loss=0.4182 step=3600 eta 0:00:31\n"
    "  Downloading https://files.pythonhosted.org/packages/ab/cd/numpy-2.1.0-cp311-manylinux_2_17_x86_64.whl\n"
) * 300


def _faster_form(wide: str) -> re.Pattern[str]:
    """The form that runs through _SAMPLE, padded to ``wide``'s width, faster (best of 5 each, after one
    run to warm up)."""
    sample = _SAMPLE + wide
    best = []
    for form in _FORMS:
        times = []
        for _ in range(6):
            start = time.perf_counter()
            for _match in form.finditer(sample):
                pass
            times.append(time.perf_counter() - start)
        best.append(min(times[1:]))
    return _FORMS[best.index(min(best))]


_CANDIDATE_BY_WIDTH = {width: _faster_form(wide) for width, wide in ((1, ""), (2, "\u2501"), (4, "\U0001f600"))}
# No layout's prefix is longer, with a process runner's prefix in front (runners.RUNNER_PREFIX): text further
# left of a URL cannot make it a start line.
MAX_PREFIX = 400


def candidate_lines(text: str, prefix: re.Pattern[str]) -> tuple[list[int], list[int]]:
    """Starts of the lines where an http(s) URL with a port follows text that fits some layout (``prefix``
    fullmatches it), in order, and of the lines where one is a JSON listing's ``"url": "..."`` (listings.py).

    Linear: no layout's prefix holds "://", so only the first candidate of a line can be its URL;
    the search goes on from the next line, and a line's start is found once.
    """
    starts: list[int] = []
    json_hits: list[int] = []
    search = _CANDIDATE_BY_WIDTH[_width(text)].search
    line_start = 0  # start of the line holding ``searched_to``
    searched_to = 0
    while (match := search(text, searched_to)) is not None:
        at = match.start()
        newline = text.rfind("\n", searched_to, at)
        if newline != -1:
            line_start = newline + 1
        scheme_start = at - 5 if text.startswith("https", at - 5) else at - 4
        if not text.startswith("http", scheme_start):
            if at - line_start <= MAX_PREFIX and DASK_SCHEDULER_PREFIX.fullmatch(text, line_start, at):
                starts.append(line_start)  # an old Dask scheduler's address: its dashboard's follows
        elif text.endswith(JSON_URL_KEY, line_start, scheme_start):  # no layout ends so: checked first, cheaply
            json_hits.append(line_start)
        elif scheme_start - line_start <= MAX_PREFIX and prefix.fullmatch(text, line_start, scheme_start):
            starts.append(line_start)
        end = text.find("\n", at)
        if end == -1:
            break
        searched_to = line_start = end + 1
    return starts, json_hits


def lines_holding(text: str, cues: Sequence[str]) -> list[int]:
    """Starts of the lines holding one of ``cues`` (Kind.address_cue: start lines with no "://"), in order,
    each once; one ``str.find`` pass per cue."""
    starts: set[int] = set()
    for cue in cues:
        at = text.find(cue)
        while at != -1:
            starts.add(text.rfind("\n", 0, at) + 1)
            end = text.find("\n", at)
            at = -1 if end == -1 else text.find(cue, end)
    return sorted(starts)
