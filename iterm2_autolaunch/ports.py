"""Pick the local port a forward listens on (127.0.0.1 only).

The check binds the port the way the forward's listener will: 127.0.0.1 with SO_REUSEADDR, as both
OpenSSH (``channel_set_reuseaddr`` before binding a -L listener) and sshtunnel (``allow_reuse_address``)
do, so a port in TIME_WAIT counts as free and one somebody listens on does not.

There is a race: another program can take the port between this check and the forward's bind. A backend
whose listener failed asks ``ensure_port_free`` again: a port no longer free raises ``PortTaken`` (decided by
the port's state, not by any message text), and the engine then chooses another port and retries once.

This is the one place that binds a socket to find or check a local port.
"""

from __future__ import annotations

import random
import socket

from iterm2_autolaunch.errors import PortTaken, TunnelError

MAX_TRIES = 200  # bounded scan: the dynamic range is rarely full, and a full one will not empty soon


def port_is_free(port: int) -> bool:
    """True if a listener could bind 127.0.0.1:port right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
            sock.listen(1)  # on Linux bind can succeed where listen then fails
        except OSError:
            return False
    return True


def ensure_port_free(port: int) -> None:
    """Raise ``PortTaken`` (naming the port) unless a listener could bind 127.0.0.1:port right now."""
    if not port_is_free(port):
        raise PortTaken(f"cannot listen on 127.0.0.1:{port}: the port is in use by another program")


def any_free_port() -> int:
    """A port the kernel says is free on 127.0.0.1 right now (for tests and one-off listeners)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def choose_local_port(remote_port: int, port_range: tuple[int, int] = (49152, 65535)) -> int:
    """``remote_port`` itself when free on 127.0.0.1 (people remember 8888), else a free port from
    ``port_range`` (inclusive), scanned from a random start. Raises TunnelError when none is found."""
    low, high = port_range
    if not 0 < low <= high < 65536:
        raise TunnelError(f"bad local port range {low}-{high}: need 1 <= low <= high <= 65535")
    if 0 < remote_port < 65536 and port_is_free(remote_port):
        return remote_port
    size = high - low + 1
    start = random.randrange(size)  # spread sessions out instead of all racing for the lowest port
    tries = min(size, MAX_TRIES)
    for offset in range(tries):
        port = low + (start + offset) % size
        if port != remote_port and port_is_free(port):
            return port
    raise TunnelError(f"no free local port on 127.0.0.1 in {low}-{high} after {tries} tries")
