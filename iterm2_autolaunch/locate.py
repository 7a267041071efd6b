"""Where a server answers through a forward: the place it printed, over https when it printed http:// and
speaks TLS, or under the base path its root redirects to. Engine layer: it asks only through ``probe``."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from iterm2_autolaunch.events import Event
from iterm2_autolaunch.interfaces import NO_ANSWER, ProbeResult, probe_url
from iterm2_autolaunch.kinds import Kind

Probe = Callable[[str, Kind], Awaitable[ProbeResult]]


@dataclass(frozen=True)
class Found:
    result: ProbeResult  # the last answer: ok, or why not
    origin: str  # "scheme://localhost:port" that gave it
    base_path: str  # the server's root there, where its probe path is resolved
    path: str  # the page to open


async def locate(
    probe: Probe, origin: str, event: Event, kind: Kind, deadline: float, waiting: Callable[[str], None], poll: float
) -> Found:
    """Probe the server through ``origin``, where it printed itself or, for a kind whose printed path ends in
    its page, where the server's root redirects to when that page is not found there: Dask's dashboard under
    --dashboard-prefix prints /status, serves /foo/status, and its root answers 301 /foo/status (distributed
    2021.12.0, 2023.3.0 and 2026.8.0, checked by hand). Only the redirect's path is taken, on the same
    forward, and the page there is probed as any other."""
    result, origin = await answer(probe, origin, event.base_path, kind, deadline, waiting, poll)
    if result.ok or not kind.page_last or result.reason.startswith(NO_ANSWER):
        return Found(result, origin, event.base_path, event.path)
    page = event.path.rsplit("/", 1)[-1]
    moved = (await probe(origin + "/", kind)).moved_to
    if not page or not moved.endswith("/" + page) or moved == event.path:
        return Found(result, origin, event.base_path, event.path)
    base_path = moved.removesuffix(page)
    result, origin = await answer(probe, origin, base_path, kind, deadline, waiting, poll)
    return Found(result, origin, base_path, moved)


async def answer(
    probe: Probe, origin: str, base_path: str, kind: Kind, deadline: float, waiting: Callable[[str], None], poll: float
) -> tuple[ProbeResult, str]:
    """Probe every ``poll`` seconds until the server answers or its kind's patience runs out
    (Kind.listens_within); the answer, and the origin that gave it. ``waiting`` is told once that we wait.

    Per kind, not one long backoff for all: most tools listen before they print their URL, so for them a
    probe that fails is news to report at once (a wrong host, a server that died). The few that print
    first (MLflow: its workers import for tens of seconds after uvicorn printed) get a bound of their own.

    A server printed as http:// that gives no HTTP answer is asked over https too: some print http://
    while they serve TLS (Bokeh and Panel given a certificate file not named *.pem and no key file, bokeh
    3.9.2 command/subcommands/serve.py:977; the TLS dashboard of distributed <= 2023.3.0). So is one that
    answers http with a redirect to https:// at the same place: code-server 3.x under --cert prints http://
    and serves both on one port, plain HTTP redirected (3.10.2 out/node/routes/index.js:145-146)."""
    loop = asyncio.get_running_loop()
    told = False
    tls_origin = "https://" + origin.removeprefix("http://") if origin.startswith("http://") else ""
    while True:
        result = await probe(probe_url(origin, base_path, kind), kind)
        if not result.ok and tls_origin and (result.reason.startswith(NO_ANSWER) or result.to_https):
            over_tls = await probe(probe_url(tls_origin, base_path, kind), kind)
            if over_tls.ok:
                return over_tls, tls_origin
        if result.ok or loop.time() >= deadline:
            return result, origin
        if not told:
            told = True
            waiting(f"waiting up to {kind.listens_within:.0f} s for {kind.label} to answer; so far: {result.reason}")
        await asyncio.sleep(poll)
