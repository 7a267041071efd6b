"""The control channel over a real unix socket, with a real Engine whose effects are the FakeWorld fakes."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import stat
import tempfile
import time
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any

import pytest

from iterm2_autolaunch.config import Config
from iterm2_autolaunch.control import (
    MAX_CLIENTS,
    MAX_PER_SECOND,
    MAX_REQUEST,
    ControlServer,
    control_socket_path,
    serve_control,
)
from iterm2_autolaunch.control_client import list_main, request
from iterm2_autolaunch.engine import Engine
from iterm2_autolaunch.errors import ControlError
from tests.test_engine import SSH, FakeWorld, jupyter_start, settle

TOKEN = "cbfb008dc5751f0e2a9d"


@pytest.fixture
def sock_dir() -> Iterator[Path]:
    # Short on purpose: pytest's tmp_path can exceed the unix socket path limit.
    directory = Path(tempfile.mkdtemp(dir="/tmp", prefix="ctl"))
    yield directory
    shutil.rmtree(directory, ignore_errors=True)


def run_with_daemon(
    path: Path,
    scenario: Callable[[Engine, FakeWorld, ControlServer], Coroutine[Any, Any, None]],
    *,
    read_timeout: float = 5.0,
) -> FakeWorld:
    world = FakeWorld()

    async def main() -> None:
        engine = Engine(Config(), world.effects(), health_interval=0.05)
        server = await serve_control(engine, path, read_timeout=read_timeout)
        try:
            await scenario(engine, world, server)
        finally:
            await server.close()
            await engine.shutdown()

    asyncio.run(main())
    return world


async def ask(cmd: dict[str, Any], path: Path) -> dict[str, Any]:
    return await asyncio.to_thread(request, cmd, path)


def raw_exchange(path: Path, data: bytes, *, shut_write: bool = True) -> dict[str, Any]:
    """Send bytes as they are (no JSON framing) and read the one answer line."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(5.0)
        sock.connect(str(path))
        try:
            sock.sendall(data)
            if shut_write:
                sock.shutdown(socket.SHUT_WR)
        except BrokenPipeError:
            pass  # an oversized request: the server answered and hung up before reading it all
        answer = b""
        while b"\n" not in answer:
            chunk = sock.recv(4096)
            if not chunk:
                break
            answer += chunk
    return json.loads(answer)


async def start_forward(engine: Engine, world: FakeWorld) -> None:
    engine.session_lines(SSH, jupyter_start(token=TOKEN))
    await settle(lambda: bool(world.opened))


def test_list_shows_the_forward_with_its_token_hidden(sock_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = sock_dir / "d" / "control.sock"

    async def scenario(engine: Engine, world: FakeWorld, server: ControlServer) -> None:
        assert await ask({"cmd": "list"}, path) == {"ok": True, "forwards": []}
        assert await asyncio.to_thread(list_main, ["--socket", str(path)]) == 0
        assert capsys.readouterr().out == "no forwards\n"

        await start_forward(engine, world)
        answer = await ask({"cmd": "list"}, path)
        assert answer["ok"] is True
        [forward] = answer["forwards"]
        port = world.forwards[0].local_port
        assert forward == {
            "session": "s1", "kind": "jupyter", "ssh_host": "wheeler", "remote": "127.0.0.1:8888",
            "local_port": port, "url": f"http://localhost:{port}/lab?token=…", "browser": "system browser",
        }  # fmt: skip

        assert await asyncio.to_thread(list_main, ["--socket", str(path)]) == 0
        out = capsys.readouterr().out
        assert out.split() == ["s1", "jupyter", "wheeler", "127.0.0.1:8888", "->", forward["url"], "(in", "system",
                               "browser)"]
        assert await asyncio.to_thread(list_main, ["--socket", str(path), "--json"]) == 0
        assert json.loads(capsys.readouterr().out) == [forward]

    run_with_daemon(path, scenario)
    assert TOKEN not in capsys.readouterr().out


def test_close_all_and_reopen_last(sock_dir: Path) -> None:
    path = sock_dir / "control.sock"

    async def scenario(engine: Engine, world: FakeWorld, server: ControlServer) -> None:
        await start_forward(engine, world)
        assert await ask({"cmd": "reopen_last"}, path) == {"ok": True, "reopened": True}
        assert len(world.opened) == 2 and world.opened[0] == world.opened[1]
        assert await ask({"cmd": "close_all"}, path) == {"ok": True, "closed": 1}
        assert world.live() == [] and engine.servers() == []
        assert await ask({"cmd": "reopen_last"}, path) == {"ok": True, "reopened": False}
        assert await ask({"cmd": "ping"}, path) == {"ok": True, "pid": os.getpid()}

    run_with_daemon(path, scenario)


BAD_REQUESTS = [
    pytest.param(b"not json\n", "not one line of JSON", id="not-json"),
    pytest.param(b"\xff\xfe\x00\n", "not one line of JSON", id="not-utf8"),
    pytest.param(b"[1, 2]\n", 'a string "cmd"', id="array"),
    pytest.param(b'{"cmd": 5}\n', 'a string "cmd"', id="cmd-not-string"),
    pytest.param(b'{"cmd": "rm -rf"}\n', "unknown command 'rm -rf'", id="unknown"),
    pytest.param(b"\n", "not one line of JSON", id="empty-line"),
    pytest.param(b"x" * (MAX_REQUEST + 10) + b"\n", "request too long", id="oversized"),
    pytest.param(b'{"cmd": "list"' + b" " * (4 * MAX_REQUEST), "request too long", id="oversized-no-newline"),
    pytest.param(b"[" * 30_000 + b"]" * 30_000 + b"\n", "nested too deeply", id="deep-nesting"),
    pytest.param(b'{"cmd": "list", "x": ' + b"[" * 30_000 + b"]" * 30_000 + b"}\n", "nested too deeply",
                 id="deep-nesting-in-object"),
]


@pytest.mark.parametrize(("data", "message"), BAD_REQUESTS)
def test_bad_requests_get_an_error_and_the_server_keeps_serving(sock_dir: Path, data: bytes, message: str) -> None:
    path = sock_dir / "control.sock"

    async def scenario(engine: Engine, world: FakeWorld, server: ControlServer) -> None:
        await start_forward(engine, world)
        answer = await asyncio.to_thread(raw_exchange, path, data)
        assert answer["ok"] is False and message in answer["error"]
        assert len((await ask({"cmd": "list"}, path))["forwards"]) == 1

    run_with_daemon(path, scenario)


def test_silent_client_times_out_and_close_is_bounded(sock_dir: Path) -> None:
    path = sock_dir / "control.sock"

    async def scenario(engine: Engine, world: FakeWorld, server: ControlServer) -> None:
        answer = await asyncio.to_thread(raw_exchange, path, b"", shut_write=False)
        assert answer == {"ok": False, "error": "no request line within 0.2s"}
        assert (await ask({"cmd": "list"}, path))["ok"] is True

    run_with_daemon(path, scenario, read_timeout=0.2)


def test_close_does_not_wait_for_a_client_that_hangs(sock_dir: Path) -> None:
    path = sock_dir / "control.sock"

    async def scenario(engine: Engine, world: FakeWorld, server: ControlServer) -> None:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as hanging:
            hanging.connect(str(path))
            await asyncio.sleep(0.05)  # the server has accepted it and waits for its line
            started = time.monotonic()
            await server.close()
            assert time.monotonic() - started < 1.0
            assert not path.exists()

    run_with_daemon(path, scenario, read_timeout=30.0)


def test_permissions_are_private(sock_dir: Path) -> None:
    directory = sock_dir / "iterm2-autolaunch"
    directory.mkdir(mode=0o755)
    os.chmod(directory, 0o755)  # as if made by someone else's umask: it gets tightened
    path = directory / "control.sock"

    async def scenario(engine: Engine, world: FakeWorld, server: ControlServer) -> None:
        assert stat.S_IMODE(os.stat(directory).st_mode) == 0o700
        info = os.lstat(path)
        assert stat.S_ISSOCK(info.st_mode) and stat.S_IMODE(info.st_mode) == 0o600

    run_with_daemon(path, scenario)
    assert not path.exists()  # close() removed it


def test_default_path_follows_xdg_runtime_dir(sock_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(sock_dir))
    expected = sock_dir / "iterm2-autolaunch" / "control.sock"
    assert control_socket_path() == expected
    assert control_socket_path({"HOME": "/Users/alice"}) == Path("/Users/alice/.cache/iterm2-autolaunch/control.sock")

    async def main() -> None:
        server = await serve_control(Engine(Config(), FakeWorld().effects()))
        try:
            assert server.path == expected and expected.is_socket()
            assert (await asyncio.to_thread(request, {"cmd": "list"}))["ok"] is True
        finally:
            await server.close()

    asyncio.run(main())


def test_too_long_path_is_refused_clearly(sock_dir: Path) -> None:
    path = sock_dir / ("x" * 120) / "control.sock"
    with pytest.raises(ControlError, match="too long for a unix socket"):
        asyncio.run(serve_control(Engine(Config(), FakeWorld().effects()), path))


def test_stale_socket_of_a_dead_daemon_is_replaced(sock_dir: Path) -> None:
    path = sock_dir / "control.sock"
    dead = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    dead.bind(str(path))
    dead.close()  # the file stays, nobody listens: what a killed daemon leaves behind
    assert path.is_socket()
    with pytest.raises(ControlError, match=r"no iterm2-autolaunch daemon is running \(stale socket at"):
        request({"cmd": "list"}, path)

    async def scenario(engine: Engine, world: FakeWorld, server: ControlServer) -> None:
        assert (await ask({"cmd": "list"}, path))["ok"] is True

    run_with_daemon(path, scenario)


def test_second_daemon_is_refused(sock_dir: Path) -> None:
    path = sock_dir / "control.sock"

    async def scenario(engine: Engine, world: FakeWorld, server: ControlServer) -> None:
        with pytest.raises(ControlError, match=rf"already running \(pid {os.getpid()}\)"):
            await serve_control(Engine(Config(), FakeWorld().effects()), path)
        assert (await ask({"cmd": "list"}, path))["ok"] is True  # the first one still serves

    run_with_daemon(path, scenario)


def test_live_listener_without_the_lock_is_not_replaced(sock_dir: Path) -> None:
    path = sock_dir / "control.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as other:
        other.bind(str(path))
        other.listen(1)
        with pytest.raises(ControlError, match="another iterm2-autolaunch daemon answers at"):
            asyncio.run(serve_control(Engine(Config(), FakeWorld().effects()), path))
        assert path.is_socket()


def test_a_file_in_the_way_is_not_deleted(sock_dir: Path) -> None:
    path = sock_dir / "control.sock"
    path.write_text("keep me")
    with pytest.raises(ControlError, match="is not a socket"):
        asyncio.run(serve_control(Engine(Config(), FakeWorld().effects()), path))
    assert path.read_text() == "keep me"


def test_no_daemon_is_a_clear_error(sock_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = sock_dir / "control.sock"
    with pytest.raises(ControlError) as caught:
        request({"cmd": "list"}, path)
    assert str(caught.value) == f"no iterm2-autolaunch daemon is running (no socket at {path})"
    assert list_main(["--socket", str(path)]) == 1
    err = capsys.readouterr().err
    assert "no iterm2-autolaunch daemon is running" in err and str(path) in err


def test_a_flood_of_clients_is_bounded_and_the_server_keeps_serving(sock_dir: Path) -> None:
    path = sock_dir / "control.sock"

    async def scenario(engine: Engine, world: FakeWorld, server: ControlServer) -> None:
        await start_forward(engine, world)
        # MAX_CLIENTS + 10 clients connect and say nothing; then 3 x MAX_PER_SECOND requests at once
        silent = [socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) for _ in range(MAX_CLIENTS + 10)]
        try:
            for sock in silent:
                sock.connect(str(path))
            await asyncio.sleep(0.2)
            assert len(server._handlers) <= MAX_CLIENTS
            answers = await asyncio.gather(*(ask({"cmd": "ping"}, path) for _ in range(3 * MAX_PER_SECOND)),
                                           return_exceptions=True)
            # each got its answer, or "busy", or (refused while its request was still on the way) a clear error
            assert all(
                (isinstance(a, dict) and (a["ok"] or a["error"].startswith("busy"))) or isinstance(a, ControlError)
                for a in answers
            ), answers
        finally:
            for sock in silent:
                sock.close()
        await asyncio.sleep(1.1)  # the rate window passes
        assert len((await ask({"cmd": "list"}, path))["forwards"]) == 1

    run_with_daemon(path, scenario, read_timeout=0.5)
