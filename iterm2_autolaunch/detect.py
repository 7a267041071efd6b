"""Find server start lines, stop lines and server listings in logical terminal lines. Pure: no I/O.

Screen text is untrusted, so a URL counts only where a real server prints it: alone on its line, in the
layout that kind of server uses (a log prefix, an indent, a fixed label in front), and for Jupyter only
shortly after its "is running at:" / "copy and paste" banner. A URL inside prose, a command being typed,
``grep`` output or JSON never matches. When unsure we do not fire: the engine probes the server through
the forward before anything is opened, so a missed imitation costs nothing and a false alarm costs a tab.

The scan is built for throughput: one regex with a literal ``://`` prefix finds the few candidate URLs
(host and explicit port) in a whole batch of lines (candidates.py); only those lines are parsed further. The one server
that prints no URL, distributed <= 2023.3.0's Dask dashboard ("HOST:PORT"), is found from the candidate line
above it, the scheduler's "tcp://" address: the few lines below that one are looked at too.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from iterm2_autolaunch.candidates import candidate_lines, lines_holding
from iterm2_autolaunch.events import Event, make_event
from iterm2_autolaunch.hosts import LOOPBACK_NAMES, forward_allowed, forward_order, is_local_looking, is_loopback
from iterm2_autolaunch.kind_layouts import BARE_URL
from iterm2_autolaunch.kinds import (
    BANNER_WINDOW,
    BLOCK_FILLER,
    DASK,
    JUPYTER,
    KINDS,
    LISTING_HEADER,
    LISTING_LINE,
    URL,
    Kind,
    any_prefix,
    layout,
)
from iterm2_autolaunch.kinds_services import DashboardBelow
from iterm2_autolaunch.listings import MAX_OBJECT_LINES, JsonListings
from iterm2_autolaunch.runners import lines_of, unwrapped
from iterm2_autolaunch.running import RunningServers
from iterm2_autolaunch.streams import CueSearch, LineNumbers, NoLineNumbers, last_lines, nth_newline_back

__all__ = ["KINDS", "LOOPBACK_NAMES", "Detector", "Event", "Kind", "is_local_looking", "is_loopback"]
_URL = URL  # the marker parser matches the same URLs
_event = make_event

MAX_LINE = 64 * 1024  # lines.py caps logical lines here too
RECENT_LINES = max(BANNER_WINDOW, MAX_OBJECT_LINES)  # kept from one batch for the next one
PARSED_URLS = 1024  # URLs remembered with their parsed event
_PORT_IN_LINE = re.compile(r"(?<![0-9]):([0-9]{1,5})(?![0-9])", re.ASCII)  # a stop line naming its port
_OWN, _URL_LINE, _ADDRESS = "own line", "URL line", "address line"  # Kind's three sorts of start line


class Detector:
    """Stateful over one stream (one terminal session): feed lines in order, get events back.

    ``markers`` are extra words that introduce a URL on a line of its own, as in the original recipe's
    ``c.ServerApp.browser = 'echo SOMEMARKER %s'`` (``SOMEMARKER http://...``). With ``number_lines``
    False every event's ``line`` is 0 (the engine does not need them, and counting costs a pass).
    """

    def __init__(self, kinds: Sequence[Kind] = KINDS, markers: Sequence[str] = (), number_lines: bool = True) -> None:
        self._kinds = tuple(kinds)
        # Every start-line pattern in the order they are tried: each kind's own lines, URL lines, address lines.
        self._start_lines = [(kind, how, pattern) for kind in self._kinds for how, patterns in
                             ((_OWN, kind.own_lines), (_URL_LINE, kind.url_lines), (_ADDRESS, kind.address_lines))
                             for pattern in patterns]  # fmt: skip
        self._kind_of = {kind.name: kind for kind in (JUPYTER, *self._kinds)}  # the table given wins
        marker_prefix = rf"(?:{'|'.join(re.escape(m) for m in markers)})[ \t]+"
        self._marker_line = layout(marker_prefix) if markers else None
        self._prefix = any_prefix([marker_prefix] if markers else [])
        self._address_cues = tuple(dict.fromkeys(kind.address_cue for kind in self._kinds if kind.address_cue))
        self._numbers = LineNumbers() if number_lines else NoLineNumbers()
        self._parsed_urls: dict[tuple[str, str], Event | None] = {}  # (kind, URL text) -> its event
        self._json = JsonListings()
        # The last RECENT_LINES lines before this batch: those of _recent_lines, then those of _recent_text
        # (the previous batch, split into lines only when asked: a banner or listing at a batch's top is rare).
        self._recent_lines: list[str] = []
        self._recent_text: str | None = None
        self._running = RunningServers(self._kind_of)  # announced and not yet stopped, each awaiting its stop line
        # Offsets count characters of the whole stream (batches joined by a newline).
        self._batch_start = 0  # stream offset of this batch's first character
        self._now = 0  # stream offset of the line being looked at
        self._held: Event | None = None  # a non-loopback Jupyter URL waiting for its loopback twin
        self._held_number = 0  # and its line number
        self._dask = self._kind_of.get(DASK.name)
        self._old_dask = DashboardBelow()  # an old Dask scheduler's dashboard line, awaited (_dashboard_below)

    def feed(self, lines: Sequence[str]) -> list[Event]:
        """Scan the next logical lines of the stream."""
        return self.feed_text("\n".join(lines), len(lines)) if lines else []

    def feed_text(self, text: str, line_count: int | None = None) -> list[Event]:
        """Scan a batch of logical lines joined by newlines (the fast path; ``feed`` calls it): "" is one
        empty line, which counts like any other (its line number, the lines a banner is looked for in).

        Cost: one regex pass with a literal prefix over the text, plus, while servers run, one
        ``str.find`` pass per stop cue of their kinds (kinds share cues where they can). Line numbers are
        counted lazily, only as far as an event needs them.
        """
        self._numbers.next_batch(text, line_count)
        events: list[Event] = []
        queue, json_hits = candidate_lines(text, self._prefix)
        if self._address_cues and (addresses := lines_holding(text, self._address_cues)):
            queue = sorted({*queue, *addresses})
        if self._awaits_next_line():
            queue = sorted({0, *queue})  # the first line: the held URL's twin, or an old Dask dashboard's line?
        stops = CueSearch(text)
        stops.watch(self._running.cues)
        # JSON listings are found first, and go out in stream order among the other events.
        listed: list[tuple[int, Event]] = []
        if json_hits or self._json.pending:
            for match, start in self._json.scan(text, json_hits, self._recent()):
                if event := make_event("listing", JUPYTER, match):
                    listed.append((start, _with_hosts(event)))
        k = 0
        base = self._batch_start
        while True:
            next_candidate = queue[k] if k < len(queue) else len(text) + 1
            expiry = self._running.expiry - base  # a background server's watch ends here
            cue_line = stops.next_line(before=min(next_candidate, expiry))
            if cue_line is not None:
                events.extend(self._listed_before(listed, cue_line[0]))
                self._now = base + cue_line[0]
                process, line = unwrapped(text[cue_line[0] : cue_line[1]])
                events.extend(self._match_stop(line, text, cue_line[0], process))
                stops.watch(self._running.cues)
                continue
            if expiry < next_candidate and expiry <= len(text):
                self._now = self._running.expiry
                self._running.refresh(self._now)
                stops.watch(self._running.cues)
                continue
            if k == len(queue):
                break
            start = queue[k]
            events.extend(self._listed_before(listed, start))
            self._now = base + start
            k += 1
            end = text.find("\n", start)
            end = len(text) if end == -1 else end
            events.extend(self._examine(text[start:end], text, start))
            stops.skip_to(end + 1)
            stops.watch(self._running.cues)
            if self._awaits_next_line() and end < len(text) and end + 1 not in queue[k : k + 1]:
                queue.insert(k, end + 1)  # the very next line too (see _awaits_next_line)
        events.extend(self._listed_before(listed, len(text) + 1))
        # A batch of RECENT_LINES lines or more holds all of them; a shorter one (or one of unknown length)
        # needs the lines before it, taken now, so that no chain of batches waits to be split.
        self._recent_lines = [] if line_count is not None and line_count >= RECENT_LINES else self._recent()
        self._recent_text = text
        self._batch_start += len(text) + 1
        return events

    def forget(self, kind: str, port: int, token: str | None) -> None:
        """That server is gone without a stop line seen here (the daemon's health probe found it silent, as
        after SIGKILL or a closed terminal): its stop lines are no longer looked for, and its URL printed
        again (a restart with the same token) is announced again."""
        server = self._running.servers.get((kind, port, token))
        if server is not None:
            self._running.remove(server, self._now)

    def finish(self) -> list[Event]:
        """End of stream: a held announcement goes out as it is."""
        return self._release_held()

    # -- scanning -------------------------------------------------------------------------------

    def _listed_before(self, listed: list[tuple[int, Event]], offset: int) -> list[Event]:
        """The JSON listings found on lines before ``offset`` (taken from ``listed``), numbered."""
        if not listed:
            return []
        count = next((i for i, (start, _) in enumerate(listed) if start >= offset), len(listed))
        taken, listed[:count] = listed[:count], []
        return [event.but(line=self._numbers.at(start)) for start, event in taken]

    def _recent(self) -> list[str]:
        """The last RECENT_LINES lines before this batch."""
        if self._recent_text is not None:
            self._recent_lines = (self._recent_lines + last_lines(self._recent_text, RECENT_LINES))[-RECENT_LINES:]
            self._recent_text = None
        return self._recent_lines

    def _awaits_next_line(self) -> bool:
        """Whether the next line is looked at whatever it holds: the held URL's twin may be there, or the
        dashboard's address below an old Dask scheduler's (neither needs a candidate URL)."""
        return self._held is not None or self._old_dask.lines_left > 0

    def _examine(self, line: str, text: str, start: int) -> list[Event]:
        process, line = unwrapped(line)
        events: list[Event] = self._dashboard_below(line, start) if self._old_dask.lines_left else []
        announcement = self._match_start(line, text, start, process)
        if self._held is not None and (announcement is None or announcement.key != self._held.key):
            events.extend(self._release_held())
        if announcement is not None:
            events.extend(self._announce(announcement, start))
        elif (listing := LISTING_LINE.match(line)) and self._listed_below_header(text, start, process):
            event = make_event("listing", JUPYTER, listing)
            events.extend([_with_hosts(event).but(line=self._numbers.at(start))] if event else [])
        elif self._dask is not None and len(line) <= MAX_LINE and self._old_dask.scheduler(line):
            pass  # its dashboard's address comes below (_dashboard_below)
        else:
            events.extend(self._match_stop(line, text, start, process))
        return events

    def _dashboard_below(self, line: str, start: int) -> list[Event]:
        """distributed <= 2023.3.0 prints its dashboard's "HOST:PORT" with no scheme a line or so below the
        scheduler's address (kinds_services.DashboardBelow): announce it when this is its line."""
        assert self._dask is not None
        url = self._old_dask.dashboard(line if len(line) <= MAX_LINE else "")
        event = make_event("announce", self._dask, url) if url else None
        return self._announce(event, start) if event else []

    def _match_start(self, line: str, text: str, start: int, process: str) -> Event | None:
        """The server this line (of ``process``'s output, see runners.py) announces (its ``line`` still 0:
        numbered only once emitted)."""
        if len(line) > MAX_LINE:
            return None
        for kind, how, pattern in self._start_lines:
            match = pattern.match(line)
            if match is None:
                continue
            if how is _OWN:
                return make_event("announce", kind, match)
            if how is _URL_LINE:
                event = self._parsed(kind, match)
                # A server already announced is dropped anyway; only a new one needs its banner checked.
                if event is not None and (
                    event.key in self._running.servers
                    or not kind.banner
                    or self._banner_before(kind, text, start, process)
                ):
                    return event
            elif url := BARE_URL.match(f"http://{match['host']}:{match['port']}"):
                return make_event("announce", kind, url)
        if self._marker_line is not None:
            match = self._marker_line.match(line)
            if match:
                return make_event("announce", JUPYTER, match)
        return None

    def _parsed(self, kind: Kind, match: re.Match[str]) -> Event | None:
        """``make_event`` of an announcement, remembered by the URL's text (it reads nothing else): a server
        prints its URLs more than once (Jupyter's banner and its "copy and paste" block)."""
        key = (kind.name, match["url"])
        if key not in self._parsed_urls:
            if len(self._parsed_urls) >= PARSED_URLS:
                self._parsed_urls.clear()
            self._parsed_urls[key] = make_event("announce", kind, match)
        return self._parsed_urls[key]

    def _lines_before(self, text: str, end: int, process: str) -> list[str]:
        """The BANNER_WINDOW lines above the line starting at ``end``, nearest first, as their programs printed
        them; for a line of a process runner's process, only that process's lines among them."""
        before = text[nth_newline_back(text, end, BANNER_WINDOW) : end].split("\n")[:-1]
        if len(before) < BANNER_WINDOW:
            before = (self._recent() + before)[-BANNER_WINDOW:]
        return lines_of(process, reversed(before))

    def _banner_before(self, kind: Kind, text: str, end: int, process: str) -> bool:
        """Whether the kind's banner stands just above the line starting at ``end``.

        Only the server's own block may lie between: other URL lines of the same layout, Jupyter's
        ``file://`` redirect line, blank lines. Anything else in between breaks the chain, so a URL
        printed a few lines after a real banner by some other program does not count.
        """
        assert kind.banner is not None
        for previous in self._lines_before(text, end, process):
            if len(previous) <= MAX_LINE and kind.banner.search(previous):
                return True
            if not (BLOCK_FILLER.match(previous) or any(layout.match(previous) for layout in kind.url_lines)):
                return False
        return False

    def _listed_below_header(self, text: str, end: int, process: str) -> bool:
        """`jupyter server list` lines count only right below its header (or below other such lines)."""
        for previous in self._lines_before(text, end, process):
            if LISTING_HEADER.match(previous):
                return True
            if not LISTING_LINE.match(previous):
                return False
        return False

    def _match_stop(self, line: str, text: str, start: int, process: str) -> list[Event]:
        """A stop line of a running server's kind stops one server of that kind: the one whose port the
        line names, else the latest announced (a stop line rarely names its server; when two of a kind
        run, the newer one is the likelier to be in the foreground, where Ctrl-C reaches it). Not when it
        is a restart's (Kind.reload_marks)."""
        line = line[:MAX_LINE].removeprefix("^C")  # the terminal's echo of Ctrl-C often starts the stop line
        for kind in self._running.stoppable:
            if kind.stop_line is not None and kind.stop_line.match(line):
                if kind.reload_marks is not None and self._restarting(kind.reload_marks, text, start, process):
                    return []
                server = self._running.latest_of(kind.name, {int(port) for port in _PORT_IN_LINE.findall(line)})
                self._running.remove(server, self._now)
                return [server.but(event="shutdown", line=self._numbers.at(start))]
        return []

    def _restarting(self, marks: re.Pattern[str], text: str, start: int, process: str) -> bool:
        """Whether the lines above the stop line starting at ``start`` show a restart under way."""
        for previous in self._lines_before(text, start, process):
            if len(previous) <= MAX_LINE and (mark := marks.search(previous)):
                return mark["reload"] is not None
        return False

    # -- one announcement per server ------------------------------------------------------------

    def _announce(self, event: Event, start: int) -> list[Event]:
        if event.key in self._running.servers:
            return []
        if self._kind_of[event.kind].generic and any(s.port == event.port for s in self._running.servers.values()):
            return []  # Dash's Flask, an app's uvicorn: the same server, already announced as what it is
        held = self._held
        if held is not None and held.key == event.key:
            # The held non-loopback URL's twin: announce the loopback one; the name is tried first.
            self._held = None
            printed = (held.host, event.host)
            hosts = forward_order(printed)
            if is_loopback(event.host):
                return self._emit(event.but(alt_hosts=hosts, printed_hosts=printed), self._numbers.at(start))
            return self._emit(held.but(alt_hosts=hosts, printed_hosts=printed), self._held_number)
        if event.kind == "jupyter" and not is_loopback(event.host):
            # Jupyter prints "http://<name>:port/..." and then "http://127.0.0.1:port/...": wait one line.
            self._held, self._held_number = event, self._numbers.at(start)
            return []
        return self._emit(event, self._numbers.at(start)) if forward_allowed(event.host, allow_any=True) else []

    def _release_held(self) -> list[Event]:
        held, self._held = self._held, None
        if held is None or not forward_allowed(held.host, allow_any=True):
            return []
        return self._emit(held, self._held_number)

    def _emit(self, event: Event, number: int) -> list[Event]:
        """A server announced. A host no forward may ever go to (link-local, cloud metadata) was left out
        before; a public name is announced with no ``alt_hosts`` when it stands alone: whether a forward goes
        there is the engine's call (the ssh host's domain, ``forward_public_hosts``), which scan cannot make."""
        event = _with_hosts(event).but(line=number)
        self._running.add(event, self._now)
        return [event]


def _with_hosts(event: Event) -> Event:
    """``event`` with the hosts its URL offers a forward (those a twin gave, else its own host's)."""
    return event.but(alt_hosts=event.alt_hosts or forward_order([event.host]),
                     printed_hosts=event.printed_hosts or (event.host,))
