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
from collections.abc import Sequence
from dataclasses import dataclass, replace

# A URL as servers print it: scheme, a host (name, IPv4 or bracketed IPv6), an explicit port, then a
# path and query of plain URL characters (no %-escapes in the query: tokens are plain). Quotes, spaces,
# `;`, `|`, `$`, backticks and `@` cannot occur, which rules out shell tricks and `user@host` confusions.
# re.ASCII: no look-alike digits or letters.
_URL = r"""
    (?P<url>
      (?P<scheme>https?)://
      (?P<host>[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])? | \[[0-9A-Fa-f:.]{2,45}\])
      :(?P<port>[0-9]{1,5})
      (?P<path>/[A-Za-z0-9._~%/+,=-]*)?
      (?:\?(?P<query>[A-Za-z0-9._~/+,=&-]*))?
    )"""
# A candidate: "://", host, port, and the URL runs to the end of the line or to a known suffix. The literal
# "://" first lets the regex engine skip ahead as fast as str.find; everything else is checked in C too.
_CANDIDATE = re.compile(
    r"://(?:[A-Za-z0-9][A-Za-z0-9.-]{0,252}|\[[0-9A-Fa-f:.]{2,45}\]):[0-9]{1,5}(?:[/?]\S*)?(?=[ \t]*(?:$|\(Press|::))",
    re.ASCII | re.MULTILINE,
)

# Jupyter's log prefix: "[I 2026-11-28 03:39:05.553 ServerApp] " or "[I 12:34:56.789 NotebookApp] ".
_JUPYTER_LOG = r"\[[DIWEC]\ [0-9 :.-]{8,30}\ [A-Za-z]{2,20}\]"


_PREFIXES: list[str] = []  # every layout's prefix, for the quick first check of a candidate


def _layout(prefix: str, suffix: str = "") -> re.Pattern[str]:
    """A whole-line pattern: ``prefix``, the URL, ``suffix``, optional trailing blanks, nothing else."""
    _PREFIXES.append(prefix)
    return re.compile(rf"^{prefix}{_URL}{suffix}[ \t]*$", re.ASCII | re.VERBOSE)


def _any_prefix(extra: Sequence[str] = ()) -> re.Pattern[str]:
    """One pattern for "the text before the URL could belong to some layout" (fullmatch it)."""
    return re.compile("|".join(f"(?:{prefix})" for prefix in (*_PREFIXES, *extra)), re.ASCII | re.VERBOSE)


@dataclass(frozen=True)
class Kind:
    """One kind of server, as data: how its start, stop and listing lines look, and how to probe it."""

    name: str
    url_lines: tuple[re.Pattern[str], ...]
    token_param: str | None = None
    banner: re.Pattern[str] | None = None  # must appear within BANNER_WINDOW lines before the URL
    stop_line: re.Pattern[str] | None = None
    stop_cue: str = "^C"  # what comes just before the stop lines (the terminal's echo of Ctrl-C)
    probe_path: str = ""  # relative to the server's base path
    probe_expect: str = ""  # a substring the probe's response body must contain


BANNER_WINDOW = 8

JUPYTER = Kind(
    name="jupyter",
    url_lines=(
        _layout(rf"{_JUPYTER_LOG}[ \t]{{1,16}}(?:or[ \t]+)?"),  # [I ... ServerApp] http://...  /  or http://...
        _layout(r"[ \t]{1,16}(?:or[ \t]+)?"),  # the indented "copy and paste" block
    ),
    token_param="token",
    banner=re.compile(
        r"is running at:[ \t]*$|^[ \t]*Or copy and paste one of these URLs:[ \t]*$"
        r"|^[ \t]*To access the (?:server|notebook|Jupyter Server)"
    ),
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
        stop_line=re.compile(r"^[ \t]*Thanks for using marimo"),
        stop_cue="want to quit?",  # marimo asks instead of echoing ^C
        probe_path="health",
    ),
    Kind(
        name="streamlit",
        url_lines=(_layout(r"[ \t]+(?:Local[ \t]+|Network[ \t]+)?URL:[ \t]+"),),
        banner=re.compile(r"You can now view your Streamlit app in your browser"),
        stop_line=re.compile(r"^[ \t]*Stopping\.\.\.[ \t]*$"),
        probe_path="_stcore/health",
        probe_expect="ok",
    ),
    Kind(
        name="gradio",
        url_lines=(_layout(r"\*?[ \t]*Running[ \t]+on[ \t]+local[ \t]+URL:[ \t]+"),),
        stop_line=re.compile(r"^Keyboard interruption in main thread\.\.\. closing server\.[ \t]*$"),
        probe_path="config",
    ),
    Kind(
        name="panel",
        url_lines=(
            _layout(r"(?:[0-9-]{10}[ \t][0-9:,]{8,12}[ \t]+)?Bokeh[ \t]+app[ \t]+running[ \t]+at:[ \t]+"),
        ),
        stop_line=re.compile(r"^Interrupted, shutting down[ \t]*$"),
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


# Name suffixes that only exist inside a site (RFC 6762, RFC 8375, common cluster conventions).
_PRIVATE_SUFFIXES = (".local", ".lan", ".internal", ".intranet", ".localdomain", ".home.arpa", ".cluster", ".corp")


def is_local_looking(host: str) -> bool:
    """Could a server plausibly print this as its own address? Loopback, unspecified, a private or
    site address, a single-label name (``node042``) or a site-internal suffix. A public-looking
    name (``github.com``) counts only as a hint beside a loopback URL of the same server (Jupyter)."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        name = host.lower().rstrip(".")
        if "." not in name:  # a single label such as "node042", but not a number in disguise ("2130706433")
            return any(c.isalpha() for c in name) and not name.startswith("0x")
        return name.endswith(_PRIVATE_SUFFIXES)
    # Link-local (169.254.x.x: cloud metadata services) is deliberately not in the list.
    return address.is_private and not address.is_link_local


class Detector:
    """Stateful over one stream (one terminal session): feed lines in order, get events back.

    ``markers`` are extra words that introduce a URL on a line of its own, as in the original recipe's
    ``c.ServerApp.browser = 'echo SOMEMARKER %s'`` (``SOMEMARKER http://...``). With ``number_lines``
    False every event's ``line`` is 0 (the engine does not need them, and counting costs a pass).
    """

    def __init__(self, kinds: Sequence[Kind] = KINDS, markers: Sequence[str] = (), number_lines: bool = True) -> None:
        self._kinds = tuple(kinds)
        marker_prefix = rf"(?:{'|'.join(re.escape(m) for m in markers)})[ \t]+"
        self._marker_line = _layout(marker_prefix) if markers else None
        self._prefix = _any_prefix([marker_prefix] if markers else [])
        self._numbers = _LineNumbers() if number_lines else _NoLineNumbers()
        self._recent: list[str] = []  # the last BANNER_WINDOW lines of the previous batch
        self._stop_lines_left = 0  # lines of a Ctrl-C's stop window that run on into the next batch
        self._seen: set[tuple[str, int, str | None]] = set()  # servers announced and not yet stopped
        self._running: dict[str, Event] = {}  # per kind: the last server announced, for its stop line
        self._held: Event | None = None  # a non-loopback Jupyter URL waiting for its loopback twin
        self._held_number = 0  # and its line number

    def feed(self, lines: Sequence[str]) -> list[Event]:
        """Scan the next logical lines of the stream."""
        return self.feed_text("\n".join(lines), len(lines)) if lines else []

    def feed_text(self, text: str, line_count: int | None = None) -> list[Event]:
        """Scan a batch of logical lines joined by newlines (the fast path; ``feed`` calls it).

        Cost: one regex pass with a literal prefix over the text, plus, only while a server is running,
        a search for the next ``^C`` (stop lines follow the terminal's echo of Ctrl-C). Line numbers are
        counted lazily, only as far as an event needs them.
        """
        if not text:
            return []
        self._numbers.next_batch(text, line_count)
        events: list[Event] = []
        queue = sorted(self._candidate_lines(text))
        if self._held is not None:
            queue = sorted({0, *queue})  # the first line decides whether the held URL gets its twin
        stops = _StopWindows(text, self._stop_lines_left)
        k = 0
        while True:
            next_candidate = queue[k] if k < len(queue) else len(text) + 1
            cues = {kind.stop_cue for kind in self._running_kinds() if kind.stop_line is not None}
            stop_at = stops.next_line(cues, before=next_candidate) if cues else None
            if stop_at is not None:
                events.extend(self._match_stop(stops.line(stop_at), stop_at))
                continue
            if k == len(queue):
                break
            start = queue[k]
            k += 1
            end = text.find("\n", start)
            end = len(text) if end == -1 else end
            events.extend(self._examine(text[start:end], text, start))
            stops.skip_to(end + 1)
            if self._held is not None and end < len(text) and end + 1 not in queue[k : k + 1]:
                queue.insert(k, end + 1)  # the very next line decides whether the held URL gets its twin
        self._stop_lines_left = stops.left_after_batch()
        self._recent = (self._recent + _last_lines(text, BANNER_WINDOW))[-BANNER_WINDOW:]
        return events

    def finish(self) -> list[Event]:
        """End of stream: a held announcement goes out as it is."""
        return self._release_held()

    def _candidate_lines(self, text: str) -> set[int]:
        """Starts of the lines where an http(s) URL with a port follows text that fits some layout."""
        starts = set()
        prefix = self._prefix
        for match in _CANDIDATE.finditer(text):
            at = match.start()
            scheme_start = at - 5 if text.startswith("https", at - 5) else at - 4
            start = text.rfind("\n", 0, at) + 1
            if text.startswith("http", scheme_start) and prefix.fullmatch(text, start, scheme_start):
                starts.add(start)
        return starts

    # -- scanning -------------------------------------------------------------------------------

    def _running_kinds(self) -> list[Kind]:
        return [kind for kind in self._kinds if kind.name in self._running]

    def _examine(self, line: str, text: str, start: int) -> list[Event]:
        events: list[Event] = []
        announcement = self._match_start(line, text, start)
        if self._held is not None and (announcement is None or announcement.key != self._held.key):
            events.extend(self._release_held())
        if announcement is not None:
            events.extend(self._announce(announcement, start))
        elif (listing := _LISTING_LINE.match(line)) and self._listed_below_header(text, start):
            event = _event("listing", JUPYTER, listing)
            events.extend([replace(event, line=self._numbers.at(start))] if event else [])
        else:
            events.extend(self._match_stop(line, start))
        return events

    def _match_start(self, line: str, text: str, start: int) -> Event | None:
        """The server this line announces (its ``line`` still 0: numbered only once emitted)."""
        for kind in self._kinds:
            for layout in kind.url_lines:
                match = layout.match(line)
                if match is None:
                    continue
                event = _event("announce", kind, match)
                # A server already announced is dropped anyway; only a new one needs its banner checked.
                if event and (event.key in self._seen or not kind.banner or self._banner_before(kind, text, start)):
                    return event
        if self._marker_line is not None:
            match = self._marker_line.match(line)
            if match:
                return _event("announce", JUPYTER, match)
        return None

    def _lines_before(self, text: str, end: int) -> list[str]:
        """The BANNER_WINDOW lines above the line starting at ``end``, nearest first."""
        before = text[_nth_newline_back(text, end, BANNER_WINDOW) : end].split("\n")[:-1]
        if len(before) < BANNER_WINDOW:
            before = (self._recent + before)[-BANNER_WINDOW:]
        return before[::-1]

    def _banner_before(self, kind: Kind, text: str, end: int) -> bool:
        """Whether the kind's banner stands just above the line starting at ``end``.

        Only the server's own block may lie between: other URL lines of the same layout, Jupyter's
        ``file://`` redirect line, blank lines. Anything else in between breaks the chain, so a URL
        printed a few lines after a real banner by some other program does not count.
        """
        assert kind.banner is not None
        for previous in self._lines_before(text, end):
            if kind.banner.search(previous):
                return True
            if not (_BLOCK_FILLER.match(previous) or any(layout.match(previous) for layout in kind.url_lines)):
                return False
        return False

    def _listed_below_header(self, text: str, end: int) -> bool:
        """`jupyter server list` lines count only right below its header (or below other such lines)."""
        for previous in self._lines_before(text, end):
            if _LISTING_HEADER.match(previous):
                return True
            if not _LISTING_LINE.match(previous):
                return False
        return False

    def _match_stop(self, line: str, start: int) -> list[Event]:
        line = line.removeprefix("^C")  # the terminal's echo of Ctrl-C often starts the stop line
        for kind in self._running_kinds():
            if kind.stop_line is not None and kind.stop_line.match(line):
                server = self._running.pop(kind.name)
                self._seen.discard(server.key)
                return [replace(server, event="shutdown", line=self._numbers.at(start))]
        return []

    # -- one announcement per server ------------------------------------------------------------

    def _announce(self, event: Event, start: int) -> list[Event]:
        if event.key in self._seen:
            return []
        held = self._held
        if held is not None and held.key == event.key:
            # The held non-loopback URL's twin: announce the loopback one, keep the name as a hint.
            self._held = None
            if is_loopback(event.host):
                return self._emit(replace(event, hint_host=held.host), self._numbers.at(start))
            return self._emit(held, self._held_number)
        if event.kind == "jupyter" and not is_loopback(event.host):
            # Jupyter prints "http://<name>:port/..." and then "http://127.0.0.1:port/...": wait one line.
            self._held, self._held_number = event, self._numbers.at(start)
            return []
        return self._emit(event, self._numbers.at(start)) if is_local_looking(event.host) else []

    def _release_held(self) -> list[Event]:
        held, self._held = self._held, None
        return self._emit(held, self._held_number) if held is not None and is_local_looking(held.host) else []

    def _emit(self, event: Event, number: int) -> list[Event]:
        event = replace(event, line=number)
        self._seen.add(event.key)
        self._running[event.kind] = event
        return [event]


MAX_URL = 2048  # real start URLs are < 200 characters; a 10 kB "URL" is not one
# Control characters (%00-%1F, %7F) or a ".." segment, plain or %-encoded, in a path: not a server's own URL.
_BAD_PATH = re.compile(r"%[01][0-9A-Fa-f]|%7[Ff]|(?:^|/)(?:\.|%2[Ee]){2}(?:/|$)")


def _event(name: str, kind: Kind, match: re.Match[str]) -> Event | None:
    port = int(match["port"])
    if not 0 < port < 65536 or match["port"].startswith("0"):
        return None
    host = match["host"].strip("[]")
    if match["host"].startswith("["):
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            return None
    if len(match["url"]) > MAX_URL or (match["path"] is None and kind.name in ("jupyter", "voila")):
        return None  # Jupyter always prints a path: a URL ending at the port was cut short
    path = match["path"] or "/"
    if _BAD_PATH.search(path):
        return None
    query = match["query"] or ""
    token = None
    if kind.token_param and query:
        found = re.search(rf"(?:^|&){kind.token_param}=([^&]+)", query)
        if found is None:
            return None  # "?tok", "?token=": cut short, or not this kind's URL
        token = found[1]
        if token == "...":  # Jupyter masks a token given on its command line: the user knows it
            token, query = None, ""
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
        line=0,
        base_path=_base_path(kind, path),
    )


# The page part of a Jupyter URL; what comes before it is the base_url.
_JUPYTER_PAGE = re.compile(r"(?:lab|tree|notebooks|doc|voila)(?:/.*)?$|\?.*$")


def _base_path(kind: Kind, path: str) -> str:
    if kind.name in ("jupyter", "voila"):
        return _JUPYTER_PAGE.sub("", path) or "/"
    return path if path.endswith("/") else path.rsplit("/", 1)[0] + "/"


STOP_WINDOW = 40  # lines from a stop cue in which a server's stop lines may appear


class _StopWindows:
    """The lines of one batch from a stop cue (the ``^C`` echo) on, STOP_WINDOW lines at most, in order.

    Found by searching for the next cue only when asked, so a batch with no running server, or no
    Ctrl-C, costs nothing here. A window that starts in one batch runs on into the next.
    """

    def __init__(self, text: str, carried_lines: int) -> None:
        self.text = text
        self.position = 0  # offset of the next line to consider
        self.left = carried_lines  # lines left in the current window

    def next_line(self, cues: set[str], before: int) -> int | None:
        """Start of the next line inside a window, if it starts before offset ``before``."""
        if self.position > len(self.text):
            return None
        if self.left == 0:
            hits = [at for cue in cues if (at := self.text.find(cue, self.position, before)) != -1]
            hit = min(hits, default=-1)
            if hit == -1:
                self.position = max(self.position, before)
                return None
            self.position = self.text.rfind("\n", 0, hit) + 1
            self.left = STOP_WINDOW
        if self.position >= before:
            return None
        start = self.position
        end = self.text.find("\n", start)
        self.position = len(self.text) + 1 if end == -1 else end + 1
        self.left -= 1
        return start

    def line(self, start: int) -> str:
        end = self.text.find("\n", start)
        return self.text[start : end if end != -1 else len(self.text)]

    def skip_to(self, offset: int) -> None:
        """The caller examined everything before ``offset`` itself; count those lines as seen."""
        while self.left and self.position < offset:
            end = self.text.find("\n", self.position)
            self.position = len(self.text) + 1 if end == -1 else end + 1
            self.left -= 1
        self.position = max(self.position, offset)

    def left_after_batch(self) -> int:
        return self.left if self.position > len(self.text) else 0


class _LineNumbers:
    """1-based line numbers of offsets, counted only as far as an event asks (events are rare)."""

    def __init__(self) -> None:
        self.before_batch = 0  # lines in earlier batches
        self.text = ""
        self.batch_lines: int | None = None  # lines in this batch, when the caller knew
        self.counted_to = 0  # offset in text up to which newlines are counted
        self.counted = 0

    def next_batch(self, text: str, lines: int | None) -> None:
        if self.text:
            if self.batch_lines is None:
                self.batch_lines = self.counted + self.text.count("\n", self.counted_to) + 1
            self.before_batch += self.batch_lines
        self.text, self.batch_lines, self.counted_to, self.counted = text, lines, 0, 0

    def at(self, offset: int) -> int:
        if offset < self.counted_to:  # rare: an earlier line (a held URL's twin check); count afresh
            return self.before_batch + self.text.count("\n", 0, offset) + 1
        self.counted += self.text.count("\n", self.counted_to, offset)
        self.counted_to = offset
        return self.before_batch + self.counted + 1


class _NoLineNumbers(_LineNumbers):
    """For the daemon, which never shows line numbers: counting newlines would be its biggest cost."""

    def next_batch(self, text: str, lines: int | None) -> None:
        pass

    def at(self, offset: int) -> int:
        return 0


def _last_lines(text: str, count: int) -> list[str]:
    return text[_nth_newline_back(text, len(text) + 1, count) :].split("\n")


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
