"""Is a live server of the announced kind answering at a URL? Asked through the forward, before opening."""

from __future__ import annotations

import asyncio
import ssl
import urllib.error
import urllib.request

from iterm2_autolaunch.detect import Kind
from iterm2_autolaunch.interfaces import ProbeResult

# Straight to the forward: never through a proxy from the environment.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))
# Servers on a cluster use self-signed certificates; the probe checks liveness, not identity (the SSH
# host key already vouches for the remote end, and the forward is ours).
_TLS = ssl.create_default_context()
_TLS.check_hostname = False
_TLS.verify_mode = ssl.CERT_NONE
_OPENER.add_handler(urllib.request.HTTPSHandler(context=_TLS))

MAX_BODY = 64 * 1024


def probe_once(url: str, kind: Kind, timeout: float) -> ProbeResult:
    """One blocking GET. Any answer with the kind's expected body counts; errors say why."""
    try:
        with _OPENER.open(url, timeout=timeout) as response:
            body = response.read(MAX_BODY).decode("utf-8", "replace")
            status = response.status
    except urllib.error.HTTPError as error:
        # An auth wall (401/403) still proves a live server; the kind check needs a body, though.
        if kind.probe_expect or error.code not in (401, 403):
            return ProbeResult(False, f"HTTP {error.code} from {kind.name} probe")
        return ProbeResult(True, f"HTTP {error.code}")
    except (urllib.error.URLError, OSError, ValueError) as error:
        reason = getattr(error, "reason", error)
        return ProbeResult(False, f"no answer ({reason})")
    if kind.probe_expect and kind.probe_expect not in body:
        return ProbeResult(False, f"HTTP {status}, but not a {kind.name} server")
    return ProbeResult(True, f"HTTP {status}")


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
