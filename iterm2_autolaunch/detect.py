"""Find server start lines, stop lines and server listings in logical terminal lines. Pure: no I/O.

Screen text is untrusted, so a URL counts only where a real server prints it: alone on its line, in the
layout that kind of server uses (a log prefix, an indent, a fixed label in front), and for Jupyter only
shortly after its "is running at:" / "copy and paste" banner. A URL inside prose, a command being typed,
``grep`` output or JSON never matches. When unsure we do not fire: the engine probes the server through
the forward before anything is opened, so a missed imitation costs nothing and a false alarm costs a tab.

The scan is built for throughput: one regex with a literal ``://`` prefix finds the few candidate URLs
(host and explicit port) in a whole batch of lines; only those lines are parsed further.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from urllib.parse import parse_qs

# A URL as servers print it: scheme, a host (name, IPv4 or bracketed IPv6), an explicit port, then a
# path and query of plain URL characters. Quotes, spaces, `;`, `|`, `$`, backticks and `@` cannot occur,
# which rules out shell tricks and `user@host` confusions. re.ASCII: no look-alike digits or letters.
_URL = r"""
    (?P<url>
      (?P<scheme>https?)://
      (?P<host>[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])? | \[[0-9A-Fa-f:.]{2,45}\])
      :(?P<port>[0-9]{1,5})
      (?P<path>/[A-Za-z0-9._~%/+,=-]*)?
      (?:\?(?P<query>[A-Za-z0-9._~%/+,=&-]*))?
    )"""
_CANDIDATE = re.compile(r"://(?:[A-Za-z0-9][A-Za-z0-9.-]{0,252}|\[[0-9A-Fa-f:.]{2,45}\]):[0-9]", re.ASCII)

# Jupyter's log prefix: "[I 2026-11-28 03:39:05.553 ServerApp] " or "[I 12:34:56.789 NotebookApp] ".
_JUPYTER_LOG = r"\[[DIWEC]\ [0-9 :.-]{8,30}\ [A-Za-z]{2,20}\]"


def _layout(prefix: str, suffix: str = "") -> re.Pattern[str]:
    """A whole-line pattern: ``prefix``, the URL, ``suffix``, optional trailing blanks, nothing else."""
    return re.compile(rf"^{prefix}{_URL}{suffix}[ \t]*$", re.ASCII | re.VERBOSE)


@dataclass(frozen=True)
class Kind:
    """One kind of server, as data: how its start, stop and listing lines look, and how to probe it."""

    name: str
    url_lines: tuple[re.Pattern[str], ...]
    token_param: str | None = None
    banner: re.Pattern[str] | None = None  # must appear within BANNER_WINDOW lines before the URL
    stop_words: tuple[str, ...] = ()  # cheap literal pre-filter for stop lines
    stop_line: re.Pattern[str] | None = None
    probe_path: str = ""  # relative to the server's base path
    probe_expect: str = ""  # a substring the probe's response body must contain


BANNER_WINDOW = 8

JUPYTER = Kind(
    name="jupyter",
    url_lines=(
        _layout(rf"{_JUPYTER_LOG}[ \t]+(?:or[ \t]+)?"),  # [I ... ServerApp] http://...  /  or http://...
        _layout(r"[ \t]+(?:or[ \t]+)?"),  # the indented "copy and paste" block
    ),
    token_param="token",
    banner=re.compile(
        r"is running at:[ \t]*$|^[ \t]*Or copy and paste one of these URLs:[ \t]*$"
        r"|^[ \t]*To access the (?:server|notebook|Jupyter Server)"
    ),
    stop_words=("Shutdown confirmed", "Shutting down"),
    stop_line=re.compile(
        rf"^{_JUPYTER_LOG}[ \t]+"
        r"(?:Shutdown confirmed|Shutting down [0-9]+ (?:kernels?|extensions?|terminals?))",
        re.ASCII,
    ),
    probe_path="api",
    probe_expect='"version"',
)

KINDS: tuple[Kind, ...] = (
    JUPYTER,
    Kind(
        name="voila",
        url_lines=(_layout(r"(?:\[Voila\][ \t]+)?[ \t]*"),),
        token_param="token",
        banner=re.compile(r"Voil[aà] is running at:[ \t]*$"),
        stop_words=("Shutting down", "Stopping"),
        stop_line=re.compile(r"^\[Voila\][ \t]+(?:Shutting down|Stopping)"),
        probe_path="",
    ),
    Kind(
        name="tensorboard",
        url_lines=(
            _layout(
                r"TensorBoard[ \t]+[0-9][0-9a-z.+-]*[ \t]+at[ \t]+",
                r"[ \t]+\(Press[ \t]CTRL\+C[ \t]to[ \t]quit\)",
            ),
        ),
        probe_path="data/environment",
    ),
    Kind(
        name="marimo",
        url_lines=(_layout(r"[ \t]*(?:\S{1,3}[ \t]+)?URL:[ \t]+"),),
        token_param="access_token",
        banner=re.compile(r"Create or edit notebooks in your browser|Running .* in your browser"),
        stop_words=("Thanks for using marimo",),
        stop_line=re.compile(r"^[ \t]*Thanks for using marimo"),
        probe_path="health",
    ),
    Kind(
        name="streamlit",
        url_lines=(_layout(r"[ \t]+(?:Local[ \t]+|Network[ \t]+)?URL:[ \t]+"),),
        banner=re.compile(r"You can now view your Streamlit app in your browser"),
        stop_words=("Stopping...",),
        stop_line=re.compile(r"^[ \t]*Stopping\.\.\.[ \t]*$"),
        probe_path="_stcore/health",
        probe_expect="ok",
    ),
    Kind(
        name="gradio",
        url_lines=(_layout(r"\*?[ \t]*Running[ \t]+on[ \t]+local[ \t]+URL:[ \t]+"),),
        stop_words=("closing server",),
        stop_line=re.compile(r"^(?:\^C)?Keyboard interruption in main thread\.\.\. closing server\.[ \t]*$"),
        probe_path="config",
    ),
    Kind(
        name="panel",
        url_lines=(
            _layout(r"(?:[0-9-]{10}[ \t][0-9:,]{8,12}[ \t]+)?Bokeh[ \t]+app[ \t]+running[ \t]+at:[ \t]+"),
        ),
        stop_words=("Interrupted, shutting down",),
        stop_line=re.compile(r"^(?:\^C)?Interrupted, shutting down[ \t]*$"),
        probe_path="",
    ),
    Kind(
        name="dash",
        url_lines=(_layout(r"Dash[ \t]+is[ \t]+running[ \t]+on[ \t]+"),),
        probe_path="_dash-layout",
    ),
)

# Lines that may stand between a banner and its URLs: blank, a bare log prefix, the redirect file.
_BLOCK_FILLER = re.compile(rf"^(?:{_JUPYTER_LOG})?[ \t]*(?:file://\S*)?[ \t]*$", re.ASCII | re.VERBOSE)

# `jupyter server list` / `jupyter lab list` / `jupyter notebook list`: a header, then "URL :: directory".
_LISTING_HEADER = re.compile(r"^[ \t]*Currently running (?:servers|Jupyter \w+ servers):[ \t]*$")
_LISTING_LINE = _layout("", r"[ \t]+::[ \t]+\S.*")

LOOPBACK_NAMES = frozenset({"localhost", "ip6-localhost", "localhost.localdomain"})


@dataclass(frozen=True)
class Event:
    """A server seen in the output. ``event`` is "announce", "shutdown" or "listing".

    ``host`` is the URL's host (loopback preferred when the server printed several); ``hint_host`` the
    other name it printed, if any (a server bound to a compute node's name is reachable only by it).
    ``base_path`` is the server's root (Jupyter's base_url), where probe paths are resolved.
    """

    event: str
    kind: str
    url: str
    scheme: str
    host: str
    port: int
    path: str
    query: str
    token: str | None
    line: int
    hint_host: str | None = None
    base_path: str = "/"

    @property
    def key(self) -> tuple[str, int, str | None]:
        """What makes a server the same server: printed twice -> same key; restarted -> new token."""
        return (self.kind, self.port, self.token)

    def to_json(self) -> dict[str, object]:
        """The stable ``scan --json`` form: exactly these keys."""
        return {
            "event": self.event,
            "kind": self.kind,
            "url": self.url,
            "scheme": self.scheme,
            "host": self.host,
            "port": self.port,
            "path": self.path,
            "token": self.token,
            "line": self.line,
        }


def is_loopback(host: str) -> bool:
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def redact(url: str) -> str:
    """The URL with any token's value hidden, for logs and notifications."""
    return re.sub(r"((?:access_)?token=)[^&\s]+", r"\1…", url)


class Detector:
    """Stateful over one stream (one terminal session): feed lines in order, get events back.

    ``markers`` are extra words that introduce a URL on a line of its own, as in the original recipe's
    ``c.ServerApp.browser = 'echo SOMEMARKER %s'`` (``SOMEMARKER http://...``).
    """

    def __init__(self, kinds: Sequence[Kind] = KINDS, markers: Sequence[str] = ()) -> None:
        self._kinds = tuple(kinds)
        self._marker_line = (
            _layout(rf"(?:{'|'.join(re.escape(m) for m in markers)})[ \t]+") if markers else None
        )
        self._line_count = 0  # lines fed so far
        self._recent: list[str] = []  # the last BANNER_WINDOW lines of the previous batch
        self._seen: set[tuple[str, int, str | None]] = set()  # servers announced and not yet stopped
        self._running: dict[str, Event] = {}  # per kind: the last server announced, for its stop line
        self._held: Event | None = None  # a non-loopback Jupyter URL waiting for its loopback twin
        self._listing_next: int | None = None  # line number where the next `... list` line may stand

    def feed(self, lines: Iterable[str]) -> list[Event]:
        """Scan the next logical lines of the stream."""
        return self.feed_text("\n".join(lines))

    def feed_text(self, text: str) -> list[Event]:
        """Scan a batch of logical lines joined by newlines (the fast path; ``feed`` calls it)."""
        if not text:
            return []
        events: list[Event] = []
        starts = {text.rfind("\n", 0, match.start()) + 1 for match in _CANDIDATE.finditer(text)}
        starts |= _lines_with(text, "Currently running")
        searched: set[str] = set()
        if self._held is not None or self._listing_next is not None:
            starts.add(0)  # the first line decides whether a held URL got its twin / a listing goes on
        queue = sorted(starts | self._stop_lines(text, 0, searched))
        index, counted_to, k = 0, 0, 0
        while k < len(queue):
            start = queue[k]
            k += 1
            index += text.count("\n", counted_to, start)
            counted_to = start
            end = text.find("\n", start)
            end = len(text) if end == -1 else end
            events.extend(self._examine(text[start:end], self._line_count + index + 1, text, start))
            later = self._stop_lines(text, end, searched)  # a server just announced: look for its end
            if (self._held or self._listing_next) and end < len(text):
                later.add(end + 1)  # the very next line decides what the held state becomes
            if later:
                queue[k:] = sorted(set(queue[k:]) | later)
        self._line_count += text.count("\n") + 1
        tail = text.rsplit("\n", BANNER_WINDOW)[-BANNER_WINDOW:]
        self._recent = (self._recent + tail)[-BANNER_WINDOW:]
        return events

    def finish(self) -> list[Event]:
        """End of stream: a held announcement goes out as it is."""
        return self._release_held()

    # -- scanning -------------------------------------------------------------------------------

    def _stop_lines(self, text: str, after: int, searched: set[str]) -> set[int]:
        """Starts of lines past ``after`` holding a stop word of a running server (each word once)."""
        found: set[int] = set()
        for kind in self._running_kinds():
            for word in kind.stop_words:
                if word not in searched:
                    searched.add(word)
                    found |= _lines_with(text, word, after)
        return found

    def _running_kinds(self) -> list[Kind]:
        return [kind for kind in self._kinds if kind.name in self._running]

    def _examine(self, line: str, number: int, text: str, start: int) -> list[Event]:
        events: list[Event] = []
        announcement = self._match_start(line, text, start, number)
        if self._held is not None and (announcement is None or announcement.key != self._held.key):
            events.extend(self._release_held())
        if announcement is not None:
            events.extend(self._announce(announcement))
            return events
        listing = self._match_listing(line, number)
        if listing is not None:
            events.append(listing)
            return events
        events.extend(self._match_stop(line, number))
        return events

    def _match_start(self, line: str, text: str, start: int, number: int) -> Event | None:
        for kind in self._kinds:
            for layout in kind.url_lines:
                match = layout.match(line)
                if match and (kind.banner is None or self._banner_before(kind, text, start)):
                    return _event("announce", kind, match, number)
        if self._marker_line is not None:
            match = self._marker_line.match(line)
            if match:
                return _event("announce", JUPYTER, match, number)
        return None

    def _banner_before(self, kind: Kind, text: str, end: int) -> bool:
        """Whether the kind's banner stands just above the line starting at ``end``.

        Only the server's own block may lie between: other URL lines of the same layout, Jupyter's
        ``file://`` redirect line, blank lines. Anything else in between breaks the chain, so a URL
        printed a few lines after a real banner by some other program does not count.
        """
        assert kind.banner is not None
        before = text[_nth_newline_back(text, end, BANNER_WINDOW) : end].split("\n")[:-1]
        if len(before) < BANNER_WINDOW:
            before = (self._recent + before)[-BANNER_WINDOW:]
        for previous in reversed(before):
            if kind.banner.search(previous):
                return True
            if not (
                _BLOCK_FILLER.match(previous) or any(layout.match(previous) for layout in kind.url_lines)
            ):
                return False
        return False

    def _match_listing(self, line: str, number: int) -> Event | None:
        expected, self._listing_next = self._listing_next, None
        if _LISTING_HEADER.match(line):
            self._listing_next = number + 1
            return None
        match = _LISTING_LINE.match(line) if expected == number else None
        if match is None:
            return None
        self._listing_next = number + 1
        return _event("listing", JUPYTER, match, number)

    def _match_stop(self, line: str, number: int) -> list[Event]:
        for kind in self._running_kinds():
            if kind.stop_line is not None and kind.stop_line.match(line):
                server = self._running.pop(kind.name)
                self._seen.discard(server.key)
                return [replace(server, event="shutdown", line=number)]
        return []

    # -- one announcement per server ------------------------------------------------------------

    def _announce(self, event: Event) -> list[Event]:
        if event.key in self._seen:
            return []
        held = self._held
        if held is not None and held.key == event.key:
            # The held non-loopback URL's twin: announce the loopback one, keep the name as a hint.
            self._held = None
            return self._emit(replace(event, hint_host=held.host) if is_loopback(event.host) else held)
        if event.kind == "jupyter" and not is_loopback(event.host):
            self._held = event  # Jupyter prints "http://<name>:port/..." then "http://127.0.0.1:port/..."
            return []
        return self._emit(event)

    def _release_held(self) -> list[Event]:
        held, self._held = self._held, None
        return self._emit(held) if held is not None else []

    def _emit(self, event: Event) -> list[Event]:
        self._seen.add(event.key)
        self._running[event.kind] = event
        return [event]


def _event(name: str, kind: Kind, match: re.Match[str], number: int) -> Event | None:
    port = int(match["port"])
    if not 0 < port < 65536 or match["port"].startswith("0"):
        return None
    host = match["host"].strip("[]")
    if match["host"].startswith("["):
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            return None
    path = match["path"] or "/"
    query = match["query"] or ""
    token = None
    if kind.token_param and query:
        values = parse_qs(query).get(kind.token_param)
        token = values[0] if values else None
    return Event(
        event=name,
        kind=kind.name,
        url=match["url"],
        scheme=match["scheme"],
        host=host,
        port=port,
        path=path,
        query=query,
        token=token,
        line=number,
        base_path=_base_path(kind, path),
    )


# The page part of a Jupyter URL; what comes before it is the base_url.
_JUPYTER_PAGE = re.compile(r"(?:lab|tree|notebooks|doc|voila)(?:/.*)?$|\?.*$")


def _base_path(kind: Kind, path: str) -> str:
    if kind.name in ("jupyter", "voila"):
        return _JUPYTER_PAGE.sub("", path) or "/"
    return path if path.endswith("/") else path.rsplit("/", 1)[0] + "/"


def _lines_with(text: str, word: str, after: int = 0) -> set[int]:
    """Offsets of the starts of the lines (at or past ``after``) that contain ``word``."""
    starts = set()
    at = text.find(word, after)
    while at != -1:
        starts.add(text.rfind("\n", 0, at) + 1)
        at = text.find(word, at + len(word))
    return starts


def _nth_newline_back(text: str, end: int, count: int) -> int:
    """Offset just after the ``count``-th newline before ``end`` (0 when there are fewer)."""
    if end == 0:
        return 0
    at = end - 1
    for _ in range(count):
        at = text.rfind("\n", 0, at)
        if at == -1:
            return 0
    return at + 1
