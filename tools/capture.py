#!/usr/bin/env python3
"""Re-create the real-tool terminal captures in ``tests/data/captures``.

Every capture is the raw byte stream a terminal received from a real server started under a
pseudo-terminal: each tool is installed from PyPI into its own throwaway virtualenv, started with an
isolated HOME / JUPYTER_* directories on a free loopback port, left running until its start lines have
been printed, then stopped with Ctrl-C (answering ``y`` when it asks for confirmation). The bytes go to
``NAME.raw``; ``index.json`` describes each capture and the servers a person would open from it.

Usage::

    python tools/capture.py [--only NAME ...] [--out tests/data/captures] [--venv-root DIR]

``--only`` takes capture names (file stems) or environment names (``lab``, ``gradio``, ...).
``--venv-root`` keeps the virtualenvs there (and reuses them on the next run) instead of a temporary
directory that is removed at the end. Only the standard library is used.
"""

from __future__ import annotations

import argparse
import datetime
import errno
import fcntl
import glob
import json
import os
import pty
import re
import select
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
        EnvSpec("nb44", ("notebook==4.4.1", *OLD_NB_DEPS), ("notebook", "tornado"), PY36),
        EnvSpec("nb52", ("notebook==5.2.2", *OLD_NB_DEPS), ("notebook", "tornado"), PY36),
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
    path = root / spec.name
    stamp = path / ".capture-requirements"
    wanted = "\n".join(spec.requirements)
    if not (stamp.exists() and stamp.read_text() == wanted and (path / "bin" / "python").exists()):
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
    stop: str = "ctrl-c"  # how the server is stopped: "ctrl-c" (answering y), "sigterm", "close" (the pty)
    pipe: bool = False  # output to a pipe, not the terminal (mode "pipe" in the index)


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
JUPYTER_STOP = r"Shutdown confirmed|Shutting down \d+ (?:kernel|extension)"
NB6_STOP = r"Shutdown confirmed|Shutting down \d+ kernel"

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
         lambda ctx: ["jupyter", "server", "--no-browser", f"--port={ctx.port}", "--ServerApp.port_retries=0",
                      *allow_root()],
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
         setup=lambda ctx: (ctx.work / "logs").mkdir(), notes="TensorBoard has no token"),
    Case("tensorboard_bind_all", "tensorboard",
         lambda ctx: ["tensorboard", "--logdir", "logs", f"--port={ctx.port}", "--bind_all"],
         lambda ctx, text: regex_expect("tensorboard", f"http://{socket.getfqdn()}:{{port}}/")(ctx, text),
         host="0.0.0.0", setup=lambda ctx: (ctx.work / "logs").mkdir(),
         notes="--bind_all prints socket.getfqdn() as the host (here it is 'localhost')"),
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
         stop_re=r"Interrupted, shutting down"),
    Case("panel_basic_auth", "panel",
         lambda ctx: ["panel", "serve", "app.py", "--port", str(ctx.port), "--address", "127.0.0.1",
                      "--basic-auth", TEST_PASSWORD, "--cookie-secret", "capture-test-cookie-secret"],
         regex_expect("panel", "http://127.0.0.1:{port}/app"),
         setup=setup_file("app.py", "import panel as pn\n\npn.panel('hello from panel').servable()\n"),
         stop_re=r"Interrupted, shutting down", notes="--basic-auth: login page, no token in URL"),
    Case("bokeh", "bokeh",
         lambda ctx: ["bokeh", "serve", "app.py", "--port", str(ctx.port), "--address", "127.0.0.1"],
         regex_expect("panel", "http://127.0.0.1:{port}/app"),
         setup=setup_file("app.py", """\
             from bokeh.io import curdoc
             from bokeh.models import Div

             curdoc().add_root(Div(text="hello from bokeh"))
             """),
         stop_re=r"Interrupted, shutting down", notes="plain Bokeh server (kind 'panel')"),
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
         notes="python -m http.server of the venv's CPython"),
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
         columns=200, stop="sigterm"),
    Case("tensorboard214", "tb214",
         lambda ctx: ["tensorboard", "--logdir", "logs", f"--port={ctx.port}", "--host", "127.0.0.1"],
         regex_expect("tensorboard", "http://127.0.0.1:{port}/"), setup=lambda ctx: (ctx.work / "logs").mkdir()),
    Case("gradio_sigterm", "gradio", lambda ctx: ["python", "app.py"], regex_expect("gradio", "http://127.0.0.1:{port}"),
         setup=setup_file("app.py", GRADIO_APP), extra_env={"GRADIO_ANALYTICS_ENABLED": "False"}, stop="sigterm",
         columns=200, notes="SIGTERM: Gradio prints no stop line"),
    Case("gradio4", "gradio4", lambda ctx: ["python", "app.py"], regex_expect("gradio", "http://127.0.0.1:{port}"),
         setup=setup_file("app.py", GRADIO_APP), extra_env={"GRADIO_ANALYTICS_ENABLED": "False"},
         stop_re=r"Keyboard interruption|closing server"),
    Case("dash_sigterm", "dash", lambda ctx: ["python", "app.py"],
         regex_expect("dash", "http://127.0.0.1:{port}/"), setup=setup_file("app.py", DASH_APP), stop="sigterm",
         columns=60),
    Case("dash2", "dash2", lambda ctx: ["python", "app.py"],
         regex_expect("dash", "http://127.0.0.1:{port}/"), setup=setup_file("app.py", DASH_APP)),
    Case("panel_sigterm", "panel",
         lambda ctx: ["panel", "serve", "app.py", "--port", str(ctx.port), "--address", "127.0.0.1"],
         regex_expect("panel", "http://127.0.0.1:{port}/app"), setup=setup_file("app.py", PANEL_APP),
         stop_re=r"Received signal \S+, shutting down", stop="sigterm", columns=200),
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


ST_APP = setup_file("app.py", "import streamlit as st\n\nst.write('hello from streamlit')\n")
DASH1_APP = setup_file("app.py", """\
    import dash
    import dash_html_components as html

    app = dash.Dash(__name__)
    app.layout = html.Div("hello from dash")

    if __name__ == "__main__":
        app.run_server(port={port})
    """)
BOKEH_APP = setup_file("app.py", "from bokeh.io import curdoc\nfrom bokeh.models import Div\n\n"
                                 "curdoc().add_root(Div(text='hello from bokeh'))\n")
MARIMO_NB = setup_file("nb.py", "import marimo\n\napp = marimo.App()\n")
PIPE = "stdout and stderr to a pipe; Ctrl-C from the terminal"
NB4_STOP = r"Shutdown confirmed|Shutting down (?:\d+ )?kernel"
BOKEH_STOP = r"(?:Interrupted|Received signal \S+), shutting down"

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
         lambda ctx: ["jupyter", "lab", "--no-browser", f"--port={ctx.port}", "--NotebookApp.port_retries=0",
                      *allow_root()],
         jupyter_expect("jupyter", "/"), host="localhost", stop_re=NB6_STOP),
    Case("jupyterlab2_sigterm", "lab2",
         lambda ctx: ["jupyter", "lab", "--no-browser", f"--port={ctx.port}", "--NotebookApp.port_retries=0",
                      *allow_root()],
         jupyter_expect("jupyter", "/"), host="localhost", stop_re=NB6_STOP, stop="sigterm"),
    Case("jupyter_server1_0_token_auto", "server10",
         lambda ctx: ["jupyter", "server", "--no-browser", f"--port={ctx.port}", "--ServerApp.port_retries=0",
                      *allow_root()],
         jupyter_expect("jupyter", "/"), host="localhost", stop_re=JUPYTER_STOP),
    Case("jupyter_server1_token_auto", "server1",
         lambda ctx: ["jupyter", "server", "--no-browser", f"--port={ctx.port}", "--ServerApp.port_retries=0",
                      *allow_root()],
         jupyter_expect("jupyter", "/"), host="localhost", stop_re=JUPYTER_STOP),
    Case("jupyter_server1_sigterm", "server1",
         lambda ctx: ["jupyter", "server", "--no-browser", f"--port={ctx.port}", "--ServerApp.port_retries=0",
                      *allow_root()],
         jupyter_expect("jupyter", "/"), host="localhost", stop_re=JUPYTER_STOP, stop="sigterm"),
    # TensorBoard in TensorFlow 1.2 ("Starting TensorBoard b'NN' at URL"), 1.13-1.15, 2.0, 2.4
    Case("tensorboard_tf1_2", "tf12", tb("--host=127.0.0.1"), regex_expect("tensorboard", "http://127.0.0.1:{port}"),
         setup=logs_dir),
    Case("tensorboard_tf1_2_sigterm", "tf12", tb(),
         lambda ctx, text: regex_expect("tensorboard", f"http://{socket.gethostname()}:{{port}}")(ctx, text),
         host="0.0.0.0", setup=logs_dir, stop="sigterm",
         notes="no --host: all interfaces, the URL names socket.gethostname() (tensorboard.py:158)"),
    Case("tensorboard_tf1_1", "tf11", tb(), regex_expect("tensorboard", "http://0.0.0.0:{port}"), host="0.0.0.0",
         setup=logs_dir, notes="TensorFlow 1.1: the URL names FLAGS.host, 0.0.0.0 by default"),
    Case("tensorboard_tf1_5", "tf15", tb("--host=127.0.0.1"),
         regex_expect("tensorboard", "http://127.0.0.1:{port}"), setup=logs_dir),
    Case("tensorboard1_13", "tf113", tb("--host=127.0.0.1"), regex_expect("tensorboard", "http://127.0.0.1:{port}"),
         setup=logs_dir),
    Case("tensorboard1_14", "tb114", tb("--host=127.0.0.1"),
         regex_expect("tensorboard", "http://127.0.0.1:{port}/"), setup=logs_dir),
    Case("tensorboard1_15", "tb115", tb("--host=127.0.0.1"),
         regex_expect("tensorboard", "http://127.0.0.1:{port}/"), setup=logs_dir),
    Case("tensorboard1_15_sigterm", "tb115", tb("--host=127.0.0.1"),
         regex_expect("tensorboard", "http://127.0.0.1:{port}/"), setup=logs_dir, stop="sigterm"),
    Case("tensorboard1_15_pipe", "tb115", tb("--host=127.0.0.1"),
         regex_expect("tensorboard", "http://127.0.0.1:{port}/"), setup=logs_dir, pipe=True, notes=PIPE),
    Case("tensorboard2_0", "tb20", tb("--host=127.0.0.1"),
         regex_expect("tensorboard", "http://127.0.0.1:{port}/"), setup=logs_dir),
    Case("tensorboard2_0_sigterm", "tb20", tb("--host=127.0.0.1"),
         regex_expect("tensorboard", "http://127.0.0.1:{port}/"), setup=logs_dir, stop="sigterm"),
    Case("tensorboard2_4", "tb24", tb("--host=127.0.0.1"),
         regex_expect("tensorboard", "http://127.0.0.1:{port}/"), setup=logs_dir),
    Case("tensorboard2_4_sigterm", "tb24", tb("--host=127.0.0.1"),
         regex_expect("tensorboard", "http://127.0.0.1:{port}/"), setup=logs_dir, stop="sigterm"),
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
         regex_expect("panel", "http://127.0.0.1:{port}/app"), setup=BOKEH_APP, stop_re=r"Interrupted, shutting down",
         notes="plain Bokeh server (kind 'panel')"),
    Case("bokeh2_4_sigterm", "bokeh24",
         lambda ctx: ["bokeh", "serve", "app.py", "--port", str(ctx.port), "--address", "127.0.0.1"],
         regex_expect("panel", "http://127.0.0.1:{port}/app"), setup=BOKEH_APP, stop_re=BOKEH_STOP, stop="sigterm"),
    # Dash 1.21 / 2.0 (app.run_server)
    Case("dash1_21", "dash1", lambda ctx: ["python", "app.py"], regex_expect("dash", "http://127.0.0.1:{port}/"),
         setup=DASH1_APP),
    Case("dash1_21_sigterm", "dash1", lambda ctx: ["python", "app.py"],
         regex_expect("dash", "http://127.0.0.1:{port}/"), setup=DASH1_APP, stop="sigterm"),
    Case("dash2_0", "dash20", lambda ctx: ["python", "app.py"], regex_expect("dash", "http://127.0.0.1:{port}/"),
         setup=DASH1_APP),
    Case("dash2_0_pipe", "dash20", lambda ctx: ["python", "app.py"], regex_expect("dash", "http://127.0.0.1:{port}/"),
         setup=DASH1_APP, pipe=True, notes=PIPE),
    # Voila 0.2 / 0.3 (on Jupyter Server 1.x)
    Case("voila0_1", "voila01", lambda ctx: ["voila", "nb.ipynb", "--no-browser", f"--port={ctx.port}"],
         regex_expect("voila", "http://localhost:{port}/"), host="localhost",
         setup=lambda ctx: write(ctx.work / "nb.ipynb", NOTEBOOK), stop_re=VOILA_STOP),
    Case("voila0_1_sigterm", "voila01", lambda ctx: ["voila", "nb.ipynb", "--no-browser", f"--port={ctx.port}"],
         regex_expect("voila", "http://localhost:{port}/"), host="localhost",
         setup=lambda ctx: write(ctx.work / "nb.ipynb", NOTEBOOK), stop_re=VOILA_STOP, stop="sigterm"),
    Case("voila0_2", "voila02", lambda ctx: ["voila", "nb.ipynb", "--no-browser", f"--port={ctx.port}"],
         regex_expect("voila", "http://localhost:{port}/"), host="localhost",
         setup=lambda ctx: write(ctx.work / "nb.ipynb", NOTEBOOK), stop_re=VOILA_STOP),
    Case("voila0_2_sigterm", "voila02", lambda ctx: ["voila", "nb.ipynb", "--no-browser", f"--port={ctx.port}"],
         regex_expect("voila", "http://localhost:{port}/"), host="localhost",
         setup=lambda ctx: write(ctx.work / "nb.ipynb", NOTEBOOK), stop_re=VOILA_STOP, stop="sigterm"),
    Case("voila0_3", "voila03", lambda ctx: ["voila", "nb.ipynb", "--no-browser", f"--port={ctx.port}"],
         regex_expect("voila", "http://localhost:{port}/"), host="localhost",
         setup=lambda ctx: write(ctx.work / "nb.ipynb", NOTEBOOK), stop_re=VOILA_STOP),
    Case("voila0_3_sigterm", "voila03", lambda ctx: ["voila", "nb.ipynb", "--no-browser", f"--port={ctx.port}"],
         regex_expect("voila", "http://localhost:{port}/"), host="localhost",
         setup=lambda ctx: write(ctx.work / "nb.ipynb", NOTEBOOK), stop_re=VOILA_STOP, stop="sigterm"),
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
        hub_port, api_port = free_port("127.0.0.1"), free_port("127.0.0.1")
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
    addrs = {str(ai[4][0]) for ai in socket.getaddrinfo(host, None)}
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


def url_ready(ctx: Ctx) -> Callable[[str], bool]:
    pattern = re.compile(rf"https?://(?:[^\s/?#]*|\([^()\n]{{1,200}} or 127\.0\.0\.1\)):{ctx.port}(?![0-9])")
    return lambda text: bool(pattern.search(text))


def start_server(ctx: Ctx, argv: list[str], columns: int, rows: int, extra_env: dict[str, str],
                 pipe: bool = False) -> PtyProcess:  # fmt: skip
    proc = PtyProcess(argv, ctx.env(extra_env), ctx.work, columns, rows, pipe)
    if not proc.wait_for(url_ready(ctx), START_TIMEOUT):
        proc.close()
        raise RuntimeError(f"no URL on port {ctx.port} within {START_TIMEOUT}s; output:\n{proc.text()[-3000:]}")
    proc.wait_quiet(QUIET, 15.0)
    found = glob.glob(str(ctx.runtime_dir / "*server-*.json"))
    if found:
        ctx.info["server_json"] = json.loads(Path(sorted(found)[-1]).read_text())
    return proc


def base_entry(name: str, venv: Venv, argv: list[str], columns: int, rows: int) -> dict[str, Any]:
    return {
        "file": f"{name}.raw",
        "tool": venv.spec.versions_of[0],
        "version": venv.versions[venv.spec.versions_of[0]],
        "versions": venv.versions,
        "command": argv,
        "columns": columns,
        "rows": rows,
        "python": venv.python,
        "captured_at": datetime.date.today().isoformat(),
    }


def run_case(case: Case, venv: Venv, out: Path, tmp: Path) -> dict[str, Any]:
    ctx = Ctx(venv, Path(tempfile.mkdtemp(prefix=f"{case.name}-", dir=tmp)))
    ctx.make_dirs()
    ctx.port = free_port(case.host)
    if case.setup:
        case.setup(ctx)
    argv = case.argv(ctx)
    proc = start_server(ctx, argv, case.columns, case.rows, case.extra_env, case.pipe)
    try:
        expect = case.expect(ctx, proc.text())
        statuses = [probe(e["url"]) for e in expect]
        proc.settle(SETTLE)
        answered = False
        if case.stop == "sigterm":
            proc.terminate()
        elif case.stop == "close":
            proc.hang_up()
        else:
            answered = proc.interrupt(answer=True)
    finally:
        proc.close()
    data = bytes(proc.data)
    text = clean(data)
    twins_folded = re.sub(r"\(\S+ or 127\.0\.0\.1\)", "127.0.0.1", text)  # notebook 5.6/5.7 "(NAME or ...)"
    for e in expect:
        if e["url"] not in twins_folded:
            raise RuntimeError(f"expected URL {e['url']} not in the capture")
    (out / f"{case.name}.raw").write_bytes(data)
    entry = base_entry(case.name, venv, argv, case.columns, case.rows)
    entry.update(
        expect=expect,
        shutdown=bool(case.stop_re and re.search(case.stop_re, text)),
        listing=0,
        stop=case.stop,
        mode="pipe" if case.pipe else "tty",
        answered_confirmation=answered,
        killed_after_timeout=proc.killed,
        exit_status=proc.proc.returncode,
        probe_status=statuses,
    )
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
            entry.update(expect=[], shutdown=False, listing=shown, exit_status=proc.proc.returncode)
            if listing.notes:
                entry["notes"] = listing.notes
            entries.append(entry)
    finally:
        for s in servers:
            s.interrupt(answer=True)
            s.close()
    return entries


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="+", metavar="NAME", help="capture names or environment names")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output directory (%(default)s)")
    parser.add_argument("--venv-root", type=Path, help="keep and reuse the virtualenvs here")
    parser.add_argument("--python", default=sys.executable, help="interpreter for the venvs (%(default)s)")
    args = parser.parse_args(argv)

    only = set(args.only or [])
    listing_names = {n for lc in LISTINGS for n, _ in lc.commands}
    known = {c.name for c in CASES} | listing_names | set(ENVS)
    if only - known:
        parser.error(f"unknown names: {', '.join(sorted(only - known))}; known: {', '.join(sorted(known))}")

    def wanted(name: str, env: str) -> bool:
        return not only or name in only or env in only

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
    try:
        for env_name in envs:
            try:
                venv = ensure_venv(ENVS[env_name], venv_root, args.python)
            except (RuntimeError, subprocess.CalledProcessError) as exc:
                failures.append(f"{env_name}: {exc}")
                print(f"[{env_name}] FAILED to install: {exc}", flush=True)
                continue
            for case in (c for c in cases if c.env == env_name):
                t0 = time.monotonic()
                try:
                    entries[case.name] = run_case(case, venv, out, tmp)
                    urls = ", ".join(e["url"] for e in entries[case.name]["expect"])
                    print(f"[{case.name}] ok in {time.monotonic() - t0:.1f}s: {urls}", flush=True)
                except Exception as exc:  # noqa: BLE001 - report and go on with the next capture
                    failures.append(f"{case.name}: {exc}")
                    print(f"[{case.name}] FAILED: {exc}", flush=True)
            for lc in (lc for lc in listings if lc.env == env_name):
                try:
                    for e in run_listing(lc, venv, out, tmp):
                        entries[e["file"][: -len(".raw")]] = e
                        print(f"[{e['file']}] ok: {e['listing']} servers listed", flush=True)
                except Exception as exc:  # noqa: BLE001
                    failures.append(f"listing in {lc.env}: {exc}")
                    print(f"[listing {lc.env}] FAILED: {exc}", flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    index_path = out / "index.json"
    index: list[dict[str, Any]] = json.loads(index_path.read_text()) if index_path.exists() else []
    merged = {e["file"]: e for e in index}
    merged.update({f"{n}.raw": e for n, e in entries.items()})
    order = [f"{c.name}.raw" for c in CASES] + [f"{n}.raw" for lc in LISTINGS for n, _ in lc.commands]
    result = [merged[f] for f in order if f in merged] + [e for f, e in merged.items() if f not in order]
    index_path.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    print(f"{len(entries)} captures written to {out} in {time.monotonic() - started:.0f}s", flush=True)
    for f in failures:
        print(f"FAILED: {f}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
