"""The daemon's local control channel: a unix socket that `iterm2-autolaunch list` asks for the forwards.

No network: the socket lives in a directory only this user can enter (0700), and is itself 0600.
Protocol: the client sends one JSON object on one line, the daemon answers one JSON object on one line
and closes. Requests: ``{"cmd": "list"}``, ``{"cmd": "close_all"}``, ``{"cmd": "reopen_last"}``,
``{"cmd": "ping"}``. Every answer has ``ok``; a failed one has ``error``. Requests are bounded in size
and time, and a bad one gets an error answer, never a crash of the daemon.

One daemon per user: a lock file next to the socket is held for the server's lifetime (so two daemons
starting at once cannot both remove the "stale" socket and bind), and a socket that still answers is
never replaced.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import logging
import os
import socket
import stat
import time
from collections import deque
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from iterm2_autolaunch.errors import ControlError
from iterm2_autolaunch.interfaces import ForwardsView

log = logging.getLogger(__name__)

MAX_REQUEST = 64 * 1024  # a request is a few dozen bytes; anything near this is not a client of ours
MAX_RESPONSE = 16 * 1024 * 1024  # the client's bound on what it reads back
READ_TIMEOUT = 5.0  # seconds a connected client has to send its request line
WRITE_TIMEOUT = 5.0  # seconds to hand the answer over; a client that never reads is dropped
CLOSE_TIMEOUT = 2.0  # seconds close() waits for handlers it cancelled
MAX_CLIENTS = 16  # connections served at once; more are answered "busy" and closed at once
MAX_PER_SECOND = 50  # requests a second, all clients together; past it: "busy"
MAX_PATH = 100  # bytes; sun_path holds 104 on macOS (108 on Linux) including the final NUL
COMMANDS = ("list", "close_all", "reopen_last", "ping")


def control_socket_path(environ: Mapping[str, str] = os.environ) -> Path:
    """``$XDG_RUNTIME_DIR/iterm2-autolaunch/control.sock``, else ``~/.cache/iterm2-autolaunch/control.sock``."""
    runtime = environ.get("XDG_RUNTIME_DIR")
    if runtime:
        base = Path(runtime)
    else:
        base = Path(environ.get("HOME") or os.path.expanduser("~")) / ".cache"
    return base / "iterm2-autolaunch" / "control.sock"


def _check_length(path: Path) -> None:
    if len(os.fsencode(path)) > MAX_PATH:
        raise ControlError(
            f"control socket path is too long for a unix socket ({len(os.fsencode(path))} bytes, "
            f"at most {MAX_PATH}): {path}; set XDG_RUNTIME_DIR to a shorter directory"
        )


# -- server -------------------------------------------------------------------------------------------


class ControlServer:
    """The listening socket and its lock. ``close`` stops serving, removes the socket, releases the lock."""

    def __init__(self, engine: ForwardsView, path: Path, lock_fd: int, read_timeout: float) -> None:
        self.engine = engine
        self.path = path
        self._lock_fd: int | None = lock_fd
        self._read_timeout = read_timeout
        self._server: asyncio.AbstractServer | None = None
        self._handlers: set[asyncio.Task[Any]] = set()
        self._recent: deque[float] = deque()  # when the requests of the last second came

    async def _start(self) -> None:
        self._server = await asyncio.start_unix_server(self._handle, path=str(self.path), limit=MAX_REQUEST)
        os.chmod(self.path, 0o600)  # the directory already shuts others out; this says so on the socket too
        log.info("control socket at %s", self.path)

    async def close(self) -> None:
        """Bounded: stop accepting, cancel open connections (wait at most CLOSE_TIMEOUT), remove the socket."""
        if self._server is not None:
            self._server.close()
            self._server = None
        for task in list(self._handlers):
            task.cancel()
        if self._handlers:
            await asyncio.wait(list(self._handlers), timeout=CLOSE_TIMEOUT)
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # releases the flock
            self._lock_fd = None

    def _busy(self) -> bool:
        """Too many clients at once, or too many requests in the last second?"""
        now = time.monotonic()
        while self._recent and now - self._recent[0] >= 1.0:
            self._recent.popleft()
        if len(self._handlers) >= MAX_CLIENTS or len(self._recent) >= MAX_PER_SECOND:
            return True
        self._recent.append(now)
        return False

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        busy = self._busy()
        if task is not None:
            self._handlers.add(task)
        try:
            answer = _error("busy: too many requests, try again in a second") if busy else await self._answer(reader)
            writer.write(json.dumps(answer, ensure_ascii=False).encode() + b"\n")
            await asyncio.wait_for(writer.drain(), WRITE_TIMEOUT)
        except (OSError, asyncio.TimeoutError) as error:
            log.debug("control client went away: %s", error)
        finally:
            writer.close()
            with contextlib.suppress(OSError, asyncio.TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(writer.wait_closed(), 1.0)
            if task is not None:
                self._handlers.discard(task)

    async def _answer(self, reader: asyncio.StreamReader) -> dict[str, Any]:
        try:
            line = await asyncio.wait_for(reader.readline(), self._read_timeout)
        except asyncio.TimeoutError:
            return _error(f"no request line within {self._read_timeout:g}s")
        except ValueError:  # StreamReader's limit: the line is longer than MAX_REQUEST
            return _error(f"request too long (more than {MAX_REQUEST} bytes)")
        try:
            request = json.loads(line.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            return _error(f"request is not one line of JSON: {error}")
        except RecursionError:
            return _error("request is nested too deeply")
        if not isinstance(request, dict) or not isinstance(request.get("cmd"), str):
            return _error('request must be a JSON object with a string "cmd"')
        try:
            return await self._run(request["cmd"])
        except Exception as error:  # one failed command must not stop the channel
            log.exception("control command %r failed", request["cmd"])
            return _error(f"{request['cmd']} failed: {error}")

    async def _run(self, cmd: str) -> dict[str, Any]:
        if cmd == "list":
            return {"ok": True, "forwards": [server.describe() for server in self.engine.servers()]}
        if cmd == "close_all":
            return {"ok": True, "closed": await self.engine.close_all("closed from the command line")}
        if cmd == "reopen_last":
            return {"ok": True, "reopened": self.engine.reopen_last()}
        if cmd == "ping":
            return {"ok": True, "pid": os.getpid()}
        return _error(f"unknown command {cmd[:40]!r}; known: {', '.join(COMMANDS)}")


def _error(message: str) -> dict[str, Any]:
    return {"ok": False, "error": message}


async def serve_control(
    engine: ForwardsView, path: Path | None = None, *, read_timeout: float = READ_TIMEOUT
) -> ControlServer:
    """Listen on the control socket for ``engine``. Raises ControlError when another daemon is live."""
    path = path or control_socket_path()
    _check_length(path)
    secure_directory(path.parent)
    lock_fd = _take_lock(path)
    if lock_fd is None:
        pid = await _ping_pid(path)
        running = f" (pid {pid})" if pid else ""
        raise ControlError(f"another iterm2-autolaunch daemon is already running{running} ({path})")
    try:
        _remove_stale_socket(path)
        server = ControlServer(engine, path, lock_fd, read_timeout)
        await server._start()
    except BaseException:
        os.close(lock_fd)
        raise
    return server


def secure_directory(directory: Path) -> None:
    """Create a private directory (0700) of ours, or tighten it; refuse one that is not ours or not a directory."""
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = os.lstat(directory)
    except OSError as error:
        raise ControlError(f"cannot create {directory}: {error.strerror or error}") from error
    if not stat.S_ISDIR(info.st_mode):
        raise ControlError(f"{directory} is not a directory (a symlink?); remove it and start again")
    if info.st_uid != os.getuid():
        raise ControlError(f"{directory} belongs to uid {info.st_uid}, not to you; refusing to put a socket there")
    if stat.S_IMODE(info.st_mode) != 0o700:
        os.chmod(directory, 0o700)


def _take_lock(path: Path) -> int | None:
    """The daemon lock next to the socket, held until close(); None when another process holds it."""
    lock_path = path.with_name(path.name + ".lock")
    try:
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    except OSError as error:
        raise ControlError(f"cannot open {lock_path}: {error.strerror or error}") from error
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


async def _ping_pid(path: Path, timeout: float = 1.0) -> int | None:
    """The pid of the daemon answering at ``path``, only for the message (async: it may be this process)."""
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_unix_connection(str(path)), timeout)
    except (OSError, asyncio.TimeoutError):
        return None
    try:
        writer.write(b'{"cmd": "ping"}\n')
        answer = json.loads(await asyncio.wait_for(reader.readline(), timeout))
    except (OSError, ValueError, asyncio.TimeoutError):
        return None
    finally:
        writer.close()
        with contextlib.suppress(OSError, asyncio.TimeoutError):
            await asyncio.wait_for(writer.wait_closed(), timeout)
    pid = answer.get("pid") if isinstance(answer, dict) else None
    return pid if isinstance(pid, int) else None


def _remove_stale_socket(path: Path) -> None:
    """A socket left by a dead daemon is removed; one that still accepts connections is not ours to take."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return
    if not stat.S_ISSOCK(info.st_mode):
        raise ControlError(f"{path} exists and is not a socket; refusing to replace it")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        probe.settimeout(1.0)
        try:
            probe.connect(str(path))
        except (ConnectionRefusedError, FileNotFoundError):
            log.info("removing stale control socket %s", path)
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
            return
        except OSError:
            pass  # e.g. a timeout: something is there and busy, so treat it as live
    raise ControlError(f"another iterm2-autolaunch daemon answers at {path}; not starting a second one")


# -- client -------------------------------------------------------------------------------------------
