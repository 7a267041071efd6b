"""The invisible marker: a server announces its URL with ``OSC 1337 ; Custom=id=<identity>:<url> ST``.

iTerm2 calls this a custom control sequence: it shows nothing and posts a notification with the identity
and the payload to API clients (``frontends/iterm2_marker.py``). The pty wrapper finds the same sequence
in the raw output itself (``MarkerParser``). Pure: no I/O.

The remote Jupyter sends it through its ``browser`` setting (``remote_config_line``): Jupyter runs that
command, without a shell, where it would start a browser, and its output goes to the terminal.

The identity is a per-user secret from the config, so text printed by anything else (``cat`` of a hostile
file) cannot make a marker: a sequence with another identity is ignored. Even with the right identity the
payload must be one URL that passes the detector's URL rules (explicit port, a loopback or local-looking
host, a plain path and query); it is never trusted further than a printed URL line would be.
"""

from __future__ import annotations

import hmac
import re
import shlex
from dataclasses import dataclass

from iterm2_autolaunch.detect import _URL, JUPYTER, Event, _event, is_local_looking

# The sequence's fixed start; the body runs to BEL or ST (ESC \), as iTerm2 accepts.
PREFIX = b"\x1b]1337;Custom=id="
MAX_BODY = 4096  # identity + ":" + URL; a start URL is < 200 characters
_URL_ONLY = re.compile(rf"{_URL}\Z", re.ASCII | re.VERBOSE)
# The first control byte ends the body: BEL or ESC \ (ST) complete it; any other (CAN, SUB, a new ESC
# sequence, ...) means it was no marker.
_CONTROL = re.compile(rb"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class Marker:
    """One complete marker sequence: ``event`` when it was genuine and its URL passed, else ``problem``."""

    event: Event | None
    problem: str = ""


def marker_event(payload: str) -> Event | None:
    """The announcement a marker's payload makes, or None when it is not a local server's start URL."""
    match = _URL_ONLY.match(payload)
    if match is None:
        return None
    event = _event("announce", JUPYTER, match)
    if event is None or not is_local_looking(event.host):
        return None
    return event


def check_marker(identity: str, sender_identity: str, payload: str) -> Marker:
    """Judge one marker (identity as sent, payload): what iTerm2's notification and the parser both give."""
    if not identity or not hmac.compare_digest(sender_identity.encode(), identity.encode()):
        return Marker(None, "a marker with an unknown identity was ignored")
    event = marker_event(payload)
    if event is None:
        return Marker(None, "a marker whose payload is not a local server URL was ignored")
    return Marker(event)


class MarkerParser:
    """Finds marker sequences in a raw byte stream fed in chunks of any size; memory stays bounded."""

    def __init__(self, identity: str) -> None:
        self._identity = identity
        self._pending = b""  # the end of the previous chunk: part of the prefix, or an unfinished sequence

    def feed(self, data: bytes) -> list[Marker]:
        buffer = self._pending + data if self._pending else data
        markers: list[Marker] = []
        position = 0
        while True:
            start = buffer.find(PREFIX, position)
            if start == -1:
                self._pending = _prefix_tail(buffer, position)
                return markers
            body = start + len(PREFIX)
            end, after = _terminator(buffer, body)
            if after is None:
                self._pending = buffer[start:]  # the next chunk may complete it (bounded by MAX_BODY)
                return markers
            position = after
            if end is not None and end - body <= MAX_BODY:
                markers.append(self._judge(buffer[body:end]))

    def _judge(self, body: bytes) -> Marker:
        text = body.decode("ascii", "replace")
        sender, colon, payload = text.partition(":")
        if not colon:
            return Marker(None, "a marker without a payload was ignored")
        return check_marker(self._identity, sender, payload)


def _terminator(buffer: bytes, body: int) -> tuple[int | None, int | None]:
    """Where the sequence whose body starts at ``body`` ends: (end of body, first byte after the sequence).

    (None, at) when it is no marker from ``at`` on (a control byte, an ESC that is not ST, too long);
    (None, None) when the buffer ends before that is known.
    """
    limit = min(len(buffer), body + MAX_BODY + 1)
    control = _CONTROL.search(buffer, body, limit)
    if control is None:
        return (None, None) if limit == len(buffer) else (None, body)
    at = control.start()
    byte = buffer[at]
    if byte == 0x07:  # BEL
        return at, at + 1
    if byte == 0x1B:  # ESC: ST when a backslash follows
        if at + 1 == len(buffer):
            return None, None
        return (at, at + 2) if buffer[at + 1] == 0x5C else (None, at)
    return None, at


def _prefix_tail(buffer: bytes, position: int) -> bytes:
    """The longest end of ``buffer`` (after ``position``) that could be the beginning of PREFIX."""
    start = max(position, len(buffer) - len(PREFIX) + 1)
    for i in range(start, len(buffer)):
        if PREFIX.startswith(buffer[i:]):
            return buffer[i:]
    return b""


# Run by the remote Jupyter as its "browser", with the file:// URL of the redirect page it writes (0600-private
# in its runtime directory): reads the page's URL back and prints it inside the marker. No "%s" in the code:
# Jupyter's webbrowser.GenericBrowser replaces every "%s" of every argument with the URL.
_REMOTE_CODE = (
    'import html, re, sys, urllib.parse as p, urllib.request as r; '
    'u = html.unescape(re.search(r"url=([^\\"]*)\\"", '
    'open(r.url2pathname(p.urlsplit(sys.argv[1]).path), encoding="utf-8").read()).group(1)); '
    'sys.stdout.write("\\033]1337;Custom=id={identity}:" + u + "\\a")'
)


def remote_config_line(identity: str) -> str:
    """The line for a remote ``jupyter_server_config.py``: Jupyter then announces itself with the marker.

    With ``use_redirect_file`` (Jupyter's default) Jupyter writes the URL with its token into a page in its
    private runtime directory and hands the "browser" only that page's ``file://`` URL: the token is in no
    argv on the remote host, where ``ps`` would show it to every user (jupyter_server ``launch_browser``,
    ``templates/browser-open.html``). Jupyter splits the command with shlex (no shell); ``python3 -c`` reads
    the page and prints the marker.
    """
    if not re.fullmatch(r"[A-Za-z0-9_-]+", identity):
        raise ValueError("the identity must be letters, digits, _ or -")
    command = shlex.join(["python3", "-c", _REMOTE_CODE.format(identity=identity), "%s"])
    return f"c.ServerApp.browser = {command!r}; c.ServerApp.use_redirect_file = True"
