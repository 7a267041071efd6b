"""Local port choice, against real sockets on 127.0.0.1."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from iterm2_autolaunch.errors import TunnelError
from iterm2_autolaunch.ports import any_free_port, choose_local_port, port_is_free

free_port = any_free_port


@pytest.fixture
def busy_8888() -> Iterator[int]:
    """Someone listens on 127.0.0.1:8888 (or already did before the test)."""
    with socket.socket() as sock:
        # SO_REUSEADDR as the forwards use it: a TIME_WAIT left on 8888 by an earlier test must not matter.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", 8888))
            sock.listen(1)
        except OSError:
            pass  # taken by another program: busy all the same
        yield 8888


def test_free_remote_port_is_kept() -> None:
    port = free_port()
    assert choose_local_port(port) == port


def test_free_8888_is_kept() -> None:
    if not port_is_free(8888):
        pytest.skip("8888 is in use on this machine")
    assert choose_local_port(8888) == 8888


def test_busy_remote_port_gives_another_in_range(busy_8888: int) -> None:
    port = choose_local_port(busy_8888)
    assert port != 8888 and 49152 <= port <= 65535
    assert port_is_free(port)


def test_custom_range(busy_8888: int) -> None:
    low = free_port()
    assert choose_local_port(busy_8888, (low, low)) == low


def test_full_range_raises(busy_8888: int) -> None:
    with pytest.raises(TunnelError, match="no free local port on 127.0.0.1 in 8888-8888"):
        choose_local_port(busy_8888, (8888, 8888))


@pytest.mark.parametrize(
    "port_range",
    [pytest.param((0, 10), id="zero"), pytest.param((9, 8), id="reversed"), pytest.param((1, 65536), id="too-high")],
)
def test_bad_range(port_range: tuple[int, int]) -> None:
    with pytest.raises(TunnelError, match="bad local port range"):
        choose_local_port(8888, port_range)


def test_listening_port_is_busy_closed_one_free() -> None:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        port = int(sock.getsockname()[1])
        assert not port_is_free(port)
    assert port_is_free(port)


def test_port_after_a_closed_connection_is_free() -> None:
    """A port in TIME_WAIT after a closed connection is free for a SO_REUSEADDR listener, as for ssh -L."""
    with socket.socket() as server:
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        port = int(server.getsockname()[1])
        client = socket.create_connection(("127.0.0.1", port))
        conn, _ = server.accept()
        conn.close()  # the server side closes first: its end goes to TIME_WAIT
        client.close()
    assert port_is_free(port)
