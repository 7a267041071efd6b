"""What the detector reports: an Event, built from a URL a layout matched. Pure: no I/O."""

from __future__ import annotations

import functools
import ipaddress
import re
from dataclasses import dataclass
from typing import Any

from iterm2_autolaunch.hosts import forward_order
from iterm2_autolaunch.kind_layouts import PRINTED_WILDCARDS
from iterm2_autolaunch.kinds import Kind


@dataclass(frozen=True)
class Event:
    """A server seen in the output. ``event`` is "announce", "shutdown" or "listing".

    ``host`` is the URL's host (loopback preferred when the server printed several); ``alt_hosts`` every
    host the banner offered that a forward may go to, in the order to try them: the printed name first
    (a compute node's server is reachable only by it; another user's may answer on the login node's
    loopback), loopback last (see hosts.forward_order).
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
    alt_hosts: tuple[str, ...] = ()
    printed_hosts: tuple[str, ...] = ()  # every host the banner printed, in order (for a config that allows more)
    base_path: str = "/"

    @property
    def key(self) -> tuple[str, int, str | None]:
        """What makes a server the same server: printed twice -> same key; restarted -> new token."""
        return (self.kind, self.port, self.token)

    def but(self, **changes: Any) -> Event:
        """A copy with ``changes``: ``dataclasses.replace`` without its checks of each field, which took
        five times as long (3.5 us against 0.7), and the detector copies every event it reports."""
        copy = object.__new__(Event)
        copy.__dict__.update(self.__dict__, **changes)
        return copy

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
            "alt_hosts": list(self.alt_hosts),
        }


MAX_URL = 2048  # real start URLs are < 200 characters; a 10 kB "URL" is not one
# Control characters (%00-%1F, %7F) or a ".." segment, plain or %-encoded, in a path: not a server's own URL.
_BAD_PATH = re.compile(r"%[01][0-9A-Fa-f]|%7[Ff]|(?:^|/)(?:\.|%2[Ee]){2}(?:/|$)")


@functools.cache  # one per kind's token parameter
def _token_in_query(param: str) -> re.Pattern[str]:
    return re.compile(rf"(?:^|&){re.escape(param)}=([^&]+)")


def make_event(name: str, kind: Kind, match: re.Match[str]) -> Event | None:
    port = int(match["port"])
    if not 0 < port < 65536 or match["port"].startswith("0"):
        return None
    host = match["host"].strip("[]")
    url = match["url"]
    if match["twin"]:  # "http://(NAME or 127.0.0.1):PORT/...": the loopback URL, NAME tried first
        url = url.replace(f"({match['twin']} or ", "", 1).replace(")", "", 1)
    if match["host"] in PRINTED_WILDCARDS:  # "*", "", "[all ip addresses ...]": as --host 0.0.0.0 prints
        if match["host"] not in kind.printed_wildcards:
            return None
        host, url = "0.0.0.0", url.replace(f"://{match['host']}:", "://0.0.0.0:", 1)
    elif ":" in host or match["host"].startswith("["):  # "[1.2.3.4]" is no address either
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            return None
        if not match["host"].startswith("["):  # Notebook <= 6's "http://::1:8888/": the URL a browser takes
            url = url.replace(f"://{host}:", f"://[{host}]:", 1)
    if len(url) > MAX_URL or (match["path"] is None and kind.pages_in_path):
        return None  # Jupyter always prints a path: a URL ending at the port was cut short
    path = match["path"] or "/"
    if _BAD_PATH.search(path):
        return None
    query = match["query"] or ""
    token = None
    if kind.token_param and query:
        found = _token_in_query(kind.token_param).search(query)
        if found is None:
            return None  # "?tok", "?token=": cut short, or not this kind's URL
        token = found[1]
        if token == "...":  # Jupyter masks a token given on its command line: the user knows it
            token, query = None, ""
    return Event(
        event=name,
        kind=kind.name,
        url=url,
        scheme=match["scheme"],
        host=host,
        port=port,
        path=path,
        query=query,
        token=token,
        line=0,
        alt_hosts=forward_order([match["twin"], host]) if match["twin"] else (),
        printed_hosts=(match["twin"], host) if match["twin"] else (),
        base_path=base_path_of(kind, path),
    )


# The page part of a Jupyter URL; what comes before it is the base_url.
_JUPYTER_PAGE = re.compile(r"(?:lab|tree|notebooks|doc|voila)(?:/.*)?$|\?.*$")


def base_path_of(kind: Kind, path: str) -> str:
    if kind.pages_in_path:
        return _JUPYTER_PAGE.sub("", path) or "/"
    if path.endswith("/"):
        return path
    return path.rsplit("/", 1)[0] + "/" if kind.page_last else path + "/"
