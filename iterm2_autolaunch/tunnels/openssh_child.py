"""A forward made by our own child ``ssh``, restarted with backoff when it dies.

The child is a private ControlMaster started with ``ClearAllForwardings=yes``: the user's ``LocalForward``,
``RemoteForward`` and ``DynamicForward`` lines are not ours to open (their own session already holds those
ports, so with ``ExitOnForwardFailure`` our ssh used to die). ClearAllForwardings also clears a ``-L`` on the
same command line (readconf.c fill_default_options() runs clear_forwardings() after all options are read), so
our one forward is added afterwards through the private control socket: ``ssh -F /dev/null -O forward``, where
``-F /dev/null`` keeps the mux client from sending the user's configured forwards along with ours
(mux.c mux_client_forwards() sends every forward in the client's options).
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import IO

from ..errors import HostKeyError, TunnelError
from ..ports import ensure_port_free
from ..target import ForwardSpec

log = logging.getLogger(__name__)

CLOSE_BUDGET = 1.5
MUX_TIMEOUT = 5.0
FIRST_BACKOFF = 0.5
MAX_BACKOFF = 10.0  # between restarts of a child that keeps dying


def mux_argv(ssh: str, control_path: str, op: str, forward: str) -> list[str]:
    """``ssh -O op -L forward`` on a control socket, reading no config: only our forward is sent."""
    return [ssh, "-F", "/dev/null", "-o", f"ControlPath={control_path}", "-o", "BatchMode=yes", "-O", op,
            "-L", forward, "ita-mux"]


class ChildForward:
    """A forward on our own ``ssh -N`` master; its stderr is kept for error messages."""

    def __init__(self, spec: ForwardSpec, local_port: int, ssh: str, forward: str,
                 error: Callable[[str, str], TunnelError]) -> None:
        self.spec = spec
        self._port = local_port
        self._ssh = ssh
        self._forward = forward
        self._error = error  # (stderr, what) -> TunnelError
        self._dir = tempfile.mkdtemp(prefix="ita-ssh-")  # 0700: the control socket is ours alone
        self._control = os.path.join(self._dir, "m")
        self._stderr: deque[str] = deque(maxlen=40)
        self._proc: subprocess.Popen[bytes] | None = None
        self._reader: threading.Thread | None = None
        self._watcher: threading.Thread | None = None
        self._closing = threading.Event()
        self._lock = threading.Lock()
        self.restarts = 0
        self.last_error: TunnelError | None = None

    @property
    def local_port(self) -> int:
        return self._port

    def master_argv(self) -> list[str]:
        target = self.spec.target
        # ssh.c: -S replaces ControlPath whatever came first, so the user's -S is left out
        args = list(target.ssh_args)
        user_args = [a for i, a in enumerate(args) if a != "-S" and (i == 0 or args[i - 1] != "-S")]
        return [
            self._ssh, "-N", "-T",
            # first value wins in ssh: these beat the user's config and command line
            "-o", "ClearAllForwardings=yes", "-o", "BatchMode=yes",
            "-o", "ControlMaster=yes", "-o", f"ControlPath={self._control}", "-o", "ControlPersist=no",
            *user_args, target.destination,
        ]

    # --- starting ------------------------------------------------------------------------------------------
    def open(self, timeout: float) -> None:
        try:
            self._start(timeout)
        except BaseException:
            self.close()
            raise
        self._watcher = threading.Thread(target=self._watch, name=f"ita-ssh-watch-{self._port}", daemon=True)
        self._watcher.start()

    def _start(self, timeout: float) -> None:
        what = f"ssh to {self.spec.target.destination}"
        self._stderr.clear()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self._control)
        try:
            # start_new_session: a process group of our own, so close() also reaches a ProxyJump child ssh
            proc = subprocess.Popen(self.master_argv(), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.PIPE, start_new_session=True)
        except OSError as e:
            raise TunnelError(f"{what}: cannot run ssh: {e}") from e
        reader = threading.Thread(target=self._read_stderr, args=(proc.stderr,),
                                  name=f"ita-ssh-stderr-{self._port}", daemon=True)
        reader.start()
        with self._lock:
            self._proc, self._reader = proc, reader
            closing = self._closing.is_set()
        if closing:  # close() ran while we started: it did not see this child
            self._stop_child(proc)
            raise TunnelError(f"{what}: closed")
        try:
            self._add_forward(proc, timeout)
        except BaseException:
            self._stop_child(proc)  # a child stuck logging in, or without our forward, is no use
            raise

    def _add_forward(self, proc: subprocess.Popen[bytes], timeout: float) -> None:
        what = f"ssh to {self.spec.target.destination}"
        deadline = time.monotonic() + timeout
        while not os.path.exists(self._control):  # the master listens once it has logged in
            if proc.poll() is not None or self._closing.is_set():
                if self._reader is not None:
                    self._reader.join(1.0)
                raise self._error("\n".join(self._stderr), what)
            if time.monotonic() > deadline:
                raise TunnelError(f"{what}: not logged in after {timeout:.0f} s "
                                  f"({' '.join(list(self._stderr)[-3:]) or 'ssh said nothing'})")
            time.sleep(0.005)
        what = f"ssh -O forward to {self.spec.target.destination}"
        try:
            mux = subprocess.run(mux_argv(self._ssh, self._control, "forward", self._forward),
                                 stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=MUX_TIMEOUT,
                                 check=False)
        except (OSError, subprocess.TimeoutExpired) as e:
            raise TunnelError(f"{what}: {e}") from e
        if mux.returncode != 0:
            ensure_port_free(self._port)  # PortTaken (by type, for the engine's retry) if somebody took it
            raise self._error(mux.stderr, what)

    def _read_stderr(self, stream: IO[bytes]) -> None:
        for raw in iter(stream.readline, b""):
            self._stderr.append(raw.decode(errors="replace").rstrip())

    # --- supervision ------------------------------------------------------------------------------------
    def _watch(self) -> None:
        """Restart a child that died (the connection dropped, sshd restarted), on the same local port."""
        backoff = FIRST_BACKOFF
        while not self._closing.is_set():
            proc = self._proc
            if proc is None or proc.wait() is None or self._closing.is_set():
                return
            log.warning("forward %s: ssh to %s exited (%s), restarting in %.1f s: %s", self._port,
                        self.spec.target.destination, proc.returncode, backoff,
                        " ".join(list(self._stderr)[-2:]) or "no message")
            self._stop_child(proc)
            if self._closing.wait(backoff):
                return
            backoff = min(backoff * 2, MAX_BACKOFF)
            try:
                self._start(MUX_TIMEOUT + float(self.spec.target.connect_timeout or 15))
            except TunnelError as e:
                self.last_error = e
                log.warning("forward %s: restart failed: %s", self._port, e)
                if isinstance(e, HostKeyError):
                    return  # never retry a refused host key; is_alive() is False from now on
                continue
            self.restarts += 1
            self.last_error = None
            backoff = FIRST_BACKOFF
            log.info("forward %s: ssh to %s restarted", self._port, self.spec.target.destination)

    def is_alive(self) -> bool:
        """True while the ssh child runs (between a death and its restart it is False, as for sshtunnel)."""
        return not self._closing.is_set() and self.child_pid() is not None

    def child_pid(self) -> int | None:
        proc = self._proc
        return None if proc is None or proc.poll() is not None else proc.pid

    # --- stopping ----------------------------------------------------------------------------------------
    def _stop_child(self, proc: subprocess.Popen[bytes], budget: float = CLOSE_BUDGET - 0.2) -> None:
        if proc.stderr is None or proc.stderr.closed:
            return  # stopped before: its process group id may belong to someone else by now
        deadline = time.monotonic() + budget
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(0.8)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(max(0.1, deadline - time.monotonic()))
        else:  # ssh is gone; a ProxyJump helper in its group may not be
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
        reader = self._reader
        if reader is not None:
            reader.join(max(0.0, deadline - time.monotonic()))
        if proc.stderr is not None:
            proc.stderr.close()

    def close(self) -> None:
        with self._lock:
            if self._closing.is_set():
                return
            self._closing.set()
            proc = self._proc
        deadline = time.monotonic() + CLOSE_BUDGET
        if proc is not None:
            self._stop_child(proc)
        watcher = self._watcher
        if watcher is not None and watcher is not threading.current_thread():
            watcher.join(max(0.0, deadline - time.monotonic()))
        shutil.rmtree(self._dir, ignore_errors=True)
        log.info("forward closed %s 127.0.0.1:%s (ssh)", self.spec.target.destination, self._port)
