"""Real programs in a pseudo-terminal, for the tmux / GNU screen tests (tests/test_tmux_screen.py).

:class:`PtyProgram` runs an argv (``ssh -tt remote ...``) in a pty of a given size, like a terminal
window would, and hands every byte it prints to a callback (the fake iTerm2 session's ``write``) as it
arrives. Keystrokes go in with :meth:`PtyProgram.type`.

:class:`RemoteMux` drives a tmux or GNU screen server that runs INSIDE the test remote host (started
by the ssh session in the pty). Tests steer it (split, copy mode, detach) with its own command line
over its socket, which lives in a private directory: the namespaces share the file system, so the
local client reaches the remote server without another ssh login. Those commands are scaffolding;
what is under test is only what the program draws through ssh into the pty.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import select
import shlex
import signal
import struct
import subprocess
import termios
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from tests.remote_host import RemoteHost

WAIT = 30.0
# What the remote multiplexer needs to draw box characters and to know the terminal (TERM goes over
# ssh with the pty request; the locale does not, so it is set in the remote command).
TERM = "xterm-256color"
REMOTE_LOCALE = "C.UTF-8"


class PtyProgram:
    """``argv`` in a new pty of ``rows`` x ``columns``; its output goes to ``sink`` and to :attr:`raw`."""

    def __init__(
        self,
        argv: Sequence[str],
        *,
        rows: int,
        columns: int,
        sink: Callable[[bytes], None],
        env: Mapping[str, str] | None = None,
    ) -> None:
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
        try:
            self.proc = subprocess.Popen(
                list(argv),
                stdin=slave,
                stdout=slave,
                stderr=slave,
                env=dict(env if env is not None else os.environ),
                start_new_session=True,  # the pty becomes its controlling terminal, as in a terminal window
            )
        finally:
            os.close(slave)
        self.master = master
        self.sink = sink
        self.raw = bytearray()
        self._lock = threading.Lock()
        self._eof = threading.Event()
        self._reader = threading.Thread(target=self._read, name="pty-reader", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        try:
            while True:
                ready, _, _ = select.select([self.master], [], [], 0.5)
                if not ready:
                    if self.proc.poll() is not None:
                        return
                    continue
                try:
                    data = os.read(self.master, 65536)
                except OSError:  # EIO: the other side closed
                    return
                if not data:
                    return
                self.sink(data)  # first: once output() has grown, the sink has had it
                with self._lock:
                    self.raw += data
        finally:
            self._eof.set()

    def type(self, text: str | bytes) -> None:
        """Keystrokes, as if typed into the terminal window."""
        data = text.encode() if isinstance(text, str) else text
        while data:
            written = os.write(self.master, data)
            data = data[written:]

    def output(self) -> bytes:
        with self._lock:
            return bytes(self.raw)

    def wait_exit(self, timeout: float = WAIT) -> int:
        code = self.proc.wait(timeout)
        self._eof.wait(timeout)
        return code

    def close(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        self._reader.join(5)
        with contextlib.suppress(OSError):
            os.close(self.master)


def wait_until(
    check: Callable[[], object], what: str, timeout: float = WAIT, *, detail: Callable[[], str] = str
) -> None:
    """Poll ``check`` until it is truthy; fail naming ``what`` (and ``detail()``) after ``timeout``."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}\n{detail()}")
        time.sleep(0.05)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


class RemoteMux:
    """A tmux or GNU screen server on the remote test host, with Jupyter to run inside it."""

    def __init__(self, host: RemoteHost, workdir: Path, kind: str = "tmux") -> None:
        if kind not in ("tmux", "screen"):
            raise ValueError(kind)
        self.host = host
        self.kind = kind
        self.workdir = workdir
        self.socket = workdir / "tmux.sock"  # tmux -S
        self.screen_dir = workdir / "screens"  # GNU screen's SCREENDIR (it insists on mode 700)
        self.screen_dir.mkdir(mode=0o700, exist_ok=True)
        self.screenrc = workdir / "screenrc"
        self.screenrc.write_text("startup_message off\nvbell off\nautodetach on\ndefutf8 on\n")
        self.runtime_dir = workdir / "jruntime"  # this Jupyter's runtime files only (its token)
        self.runtime_dir.mkdir(exist_ok=True)
        self.session = "ita"

    # ------------------------------------------------------------------ commands to type remotely

    def ssh_argv(self) -> list[str]:
        """Log in to the remote host with an interactive shell, as a user would (``ssh remote``)."""
        return ["ssh", *self.host.ssh_args(), "-tt", "remote"]

    def ssh_env(self) -> dict[str, str]:
        return dict(os.environ, TERM=TERM)

    def jupyter_command(self, port: int) -> str:
        """A shell command line starting Jupyter on ``port`` with a generated token (printed in full:
        Jupyter shows ``token=...`` for a token it did not generate)."""
        env = dict(self.host.jupyter_env(), JUPYTER_RUNTIME_DIR=str(self.runtime_dir))
        argv = [a for a in self.host.jupyter_argv() if not a.startswith(("--port=", "--IdentityProvider.token="))]
        return shlex.join(["env", *(f"{k}={v}" for k, v in env.items()), *argv, f"--port={port}"])

    def start_command(self, program: str, *, split: bool = False) -> str:
        """The line to type at the remote prompt: the multiplexer, running ``program`` in its first
        window; with ``split`` (tmux), a shell in a second pane to its right, which gets the cursor."""
        if self.kind == "tmux":
            argv = ["tmux", "-u", "-S", str(self.socket), "-f", "/dev/null", "new-session", "-s", self.session]
            argv += ["sh", "-c", program]
            if split:
                argv += [";", "split-window", "-h"]
        else:
            argv = ["screen", "-U", "-c", str(self.screenrc), "-S", self.session, "sh", "-c", program]
        return shlex.join(["env", f"LANG={REMOTE_LOCALE}", f"SCREENDIR={self.screen_dir}", *argv])

    def attach_command(self) -> str:
        if self.kind == "tmux":
            argv = ["tmux", "-u", "-S", str(self.socket), "attach-session", "-t", self.session]
        else:
            argv = ["screen", "-U", "-r", self.session]
        return shlex.join(["env", f"LANG={REMOTE_LOCALE}", f"SCREENDIR={self.screen_dir}", *argv])

    # ------------------------------------------------------------------ steering the server

    def tmux(self, *args: str) -> str:
        proc = subprocess.run(
            ["tmux", "-S", str(self.socket), *args],
            capture_output=True,
            text=True,
            timeout=WAIT,
            check=False,
            stdin=subprocess.DEVNULL,
        )
        if proc.returncode != 0:
            raise RuntimeError(f"tmux {' '.join(args)}: {proc.stderr.strip()}")
        return proc.stdout

    def screen(self, *args: str) -> None:
        subprocess.run(
            ["screen", "-S", self.session, "-X", *args],
            env=dict(os.environ, SCREENDIR=str(self.screen_dir)),
            capture_output=True,
            timeout=WAIT,
            check=True,
            stdin=subprocess.DEVNULL,
        )

    def pane_text(self, target: str = "") -> list[str]:
        """tmux's own idea of a pane's visible rows (``capture-pane -p``): what the terminal should show."""
        args = ["capture-pane", "-p"] + (["-t", target] if target else [])
        return self.tmux(*args).split("\n")[:-1]

    def type_into(self, target: str, text: str) -> None:
        """Keystrokes into one window/pane, then Enter (the pane's tty echoes them)."""
        if self.kind == "tmux":
            self.tmux("send-keys", "-t", target, "-l", text)
            self.tmux("send-keys", "-t", target, "Enter")
        else:
            self.screen("stuff", text + "\r")

    def hardcopy(self, rows: int) -> list[str]:
        """GNU screen's own idea of the window's ``rows`` visible rows."""
        path = self.workdir / "hardcopy.txt"
        path.unlink(missing_ok=True)
        self.screen("hardcopy", str(path))

        def written() -> list[str] | None:  # screen writes the file after answering
            lines = path.read_text().split("\n") if path.exists() else []
            return lines[:rows] if len(lines) >= rows else None

        wait_until(written, "screen's hardcopy")
        return written() or []

    def kill(self) -> None:
        """Stop the multiplexer and the Jupyter servers started in it (their ports must be free again)."""
        if self.kind == "tmux":
            subprocess.run(
                ["tmux", "-S", str(self.socket), "kill-server"], capture_output=True, timeout=WAIT, check=False
            )
        else:
            with contextlib.suppress(subprocess.CalledProcessError, subprocess.TimeoutExpired):
                self.screen("quit")
        pids = []
        for path in self.runtime_dir.glob("jpserver-*.json"):
            with contextlib.suppress(OSError, ValueError):
                pids.append(int(json.loads(path.read_text())["pid"]))
        for sig in (signal.SIGTERM, signal.SIGKILL):
            for pid in pids:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, sig)
            deadline = time.monotonic() + 5
            while pids and time.monotonic() < deadline and any(_alive(pid) for pid in pids):
                time.sleep(0.05)

    # ------------------------------------------------------------------ Jupyter inside

    def jupyter_token(self, port: int) -> str | None:
        """The token of this Jupyter on ``port`` from its runtime file (None until it is written)."""
        for path in self.runtime_dir.glob("jpserver-*.json"):
            with contextlib.suppress(OSError, ValueError):
                info = json.loads(path.read_text())
                if info.get("port") == port and info.get("token"):
                    return str(info["token"])
        return None
