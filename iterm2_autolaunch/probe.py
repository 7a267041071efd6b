"""Is a live server of the announced kind answering at a URL? Asked through the forward, before opening."""

from __future__ import annotations

import asyncio
import dataclasses
import http.client
import ssl
import urllib.error
import urllib.parse
import urllib.request

from iterm2_autolaunch.interfaces import NO_ANSWER, ProbeResult
from iterm2_autolaunch.kinds import KIND_BY_NAME, Kind


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer, not a place to go: following it could reach any host and port."""

    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


# Servers on a cluster use self-signed certificates; the probe checks liveness, not identity (the SSH
# host key already vouches for the remote end, and the forward is ours).
_TLS = ssl.create_default_context()
_TLS.check_hostname = False
_TLS.verify_mode = ssl.CERT_NONE
# Straight to the forward: never through a proxy from the environment, never on to a redirect's target.
# The HTTPS handler is given here, not added later: build_opener puts in a default (verifying) one unless
# given one, and the first handler of a scheme is the one that opens it.
_OPENER = urllib.request.build_opener(
    urllib.request.ProxyHandler({}), _NoRedirects(), urllib.request.HTTPSHandler(context=_TLS)
)

MAX_BODY = 64 * 1024
# Only the body's first MAX_BODY bytes are read, so only those are asked for: a static file served whole
# crossed the forward every second of a health probe (Bokeh's bokeh.min.js, 1.27 MB: 0.2 to 1.2 MB a probe
# through a relay before the probe's close reached the server, measured). A server that serves ranges
# (Tornado's static files) answers 206 with them; the others ignore the header and answer as before.
FIRST_BYTES = {"Range": f"bytes=0-{MAX_BODY - 1}"}
_ANSWERED = (200, 206)  # a whole body, or its first bytes


def probe_once(url: str, kind: Kind, timeout: float) -> ProbeResult:
    """One blocking GET, redirects not followed. It counts only when the answer carries what that kind of
    server alone sends (kinds.py): a header, or a body of a 200 (or 206) answer; errors say why."""
    try:
        with _OPENER.open(urllib.request.Request(url, headers=FIRST_BYTES), timeout=timeout) as response:
            body = response.read(MAX_BODY).decode("utf-8", "replace")
            status, headers = response.status, response.headers
    except urllib.error.HTTPError as error:  # 3xx (not followed), 4xx, 5xx: still an answer with headers
        status, headers, body = error.code, error.headers, ""
    except (urllib.error.URLError, OSError, ValueError) as error:
        reason = getattr(error, "reason", error)
        return ProbeResult(False, f"{NO_ANSWER} ({reason})")
    except http.client.HTTPException as error:  # bytes that are no HTTP answer: another protocol, or TLS's alert
        return ProbeResult(False, f"{NO_ANSWER} (not HTTP: {type(error).__name__})")
    result = judge(kind, status, headers.get(kind.probe_header[0], "") if kind.probe_header[0] else "", body)
    if 300 <= status < 400 and headers.get("Location"):
        # Where it points, as a path on this same forward: the engine may probe there, never elsewhere; and
        # whether it only asks for TLS at this same place (a server that speaks both on one port).
        asked, moved = urllib.parse.urlsplit(url), urllib.parse.urlsplit(urllib.parse.urljoin(url, headers["Location"]))
        to_https = (asked.scheme, moved.scheme) == ("http", "https") and moved.netloc == asked.netloc
        result = dataclasses.replace(result, moved_to=moved.path, to_https=to_https)
    return result


def judge(kind: Kind, status: int, header_value: str, body: str) -> ProbeResult:
    """Is this answer from a server of ``kind``? Pure, for the tests and ``doctor``."""
    name, expected = kind.probe_header
    if name:
        if expected.lower() in header_value.lower():
            return ProbeResult(True, f"HTTP {status}", _page_of(kind, status, body))
        return ProbeResult(False, f"HTTP {status}, but no {name}: {expected}... header: not a {kind.name} server")
    if kind.probe_expect:
        if status in _ANSWERED and kind.probe_expect in body:
            return ProbeResult(True, f"HTTP {status}")
        return ProbeResult(False, f"HTTP {status}, but not a {kind.name} server")
    # No check of its own (none known): any direct answer but a redirect or a server error.
    if status < 300 or status in (401, 403):
        return ProbeResult(True, f"HTTP {status}")
    return ProbeResult(False, f"HTTP {status} from {kind.name} probe")


def _page_of(kind: Kind, status: int, body: str) -> str:
    """The kind whose page a generic server answered with (``Kind.serves``): its probe's text at that path."""
    for name in kind.serves:
        served = KIND_BY_NAME[name]
        same_page = served.probe_path == kind.probe_path
        if status in _ANSWERED and same_page and served.probe_expect and served.probe_expect in body:
            return name
    return ""


async def probe(
    url: str, kind: Kind, *, attempts: int = 6, timeout: float = 2.0, delay: float = 0.3
) -> ProbeResult:
    """Probe a few times (a server may still be starting); the last failure's reason is returned."""
    result = ProbeResult(False, "not probed")
    for attempt in range(attempts):
        result = await asyncio.to_thread(probe_once, url, kind, timeout)
        if result.ok:
            return result
        if attempt + 1 < attempts:
            await asyncio.sleep(delay)
    return result
