"""Every kind of server besides Jupyter, end to end on real parts, one row of TABLE each (root: namespaces).

As in test_product_e2e.py: a real pty runs the real ``ssh -tt remote`` into the sshd of the test host
(tests/remote_host.py), its bytes feed a session of the fake iTerm2, and the real daemon runs as iTerm2 starts
it (tests/daemon_harness.py; its browser writes down the URL it is given). At the remote shell prompt the test
types the tool's command as a user would; the tool is the real one, from .venv-tools or, for Node tools,
.tools-npm (code-server in a prefix of its own there; pins in tools/test-tools.txt, installed by
tools/setup-test-machine). The daemon must detect it, forward the port and pass its probe; then an ``open``
kind gets a browser tab on the printed path and query (token kept) and a ``notify`` kind a notification that
names the local URL, not a tab. The page is fetched through that forward; where it is a login page
(code-server's default auth), the test logs in through the forward as a browser does and reaches the editor.
Then Ctrl-C in the pty: the forward must go, by the tool's stop line within STOP_BOUND, or, for a tool that
prints none, by the health probe within health_bound() (derived from the engine's settings).

Adding a kind is one row. Each row prints what it measured (start to action, the login where there is one,
Ctrl-C to forward gone).
"""

from __future__ import annotations

import contextlib
import inspect
import json
import os
import re
import shlex
import shutil
import signal
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from iterm2_autolaunch.engine import HEALTH_FAILURES, HEALTH_INTERVAL
from iterm2_autolaunch.kinds import KIND_BY_NAME
from iterm2_autolaunch.probe import probe
from tests.chromium_cdp import Chromium
from tests.conftest import require
from tests.daemon_harness import daemon_on_fake
from tests.remote_host import RemoteHost
from tests.test_iterm2_ui import notifications, osc_spy
from tests.test_product_e2e import COLUMNS, ROWS, SshInPty, port_open, wait_for
from tests.tls_cert import self_signed

REPO = Path(__file__).resolve().parent.parent
TOOLS = REPO / ".venv-tools"
NPM_TOOLS = REPO / ".tools-npm"  # the Node servers, on the "# npm:" line of PINS
CODE_SERVER = NPM_TOOLS / "code-server"  # the "# npm-built:" line: in a prefix of its own (tools/install-code-server)
PINS = REPO / "tools" / "test-tools.txt"
DAEMON = [sys.executable, "-m", "iterm2_autolaunch", "daemon"]
FIRST_PORT = 8901  # remote ports 8901, 8902, ... one per row (the fixture's Jupyter has 8888)
START_BOUND = 300.0  # typed command to tab or notification: MLflow took 94 s on this 2-core machine under load
STOP_BOUND = 5.0  # Ctrl-C to forward gone, for a tool that prints a stop line (as for Jupyter)

pytestmark = pytest.mark.root


def prints_stop_line_on_ctrl_c(kind: str) -> bool:
    """What the real tool does, from the Ctrl-C captures (tests/data/captures) of the version pinned in PINS:
    a kind may have a stop line its tool prints on other stops only (TensorBoard: on SIGTERM), or only in
    some versions (webpack-dev-server 3 prints none)."""
    text = PINS.read_text()
    pins = dict(re.findall(r"^([A-Za-z0-9_.-]+)(?:\[[^\]]*\])?==(\S+)", text, re.M))
    for npm_line in re.findall(r"^# npm(?:-built)?:(.*)$", text, re.M):
        pins.update(re.findall(r"([A-Za-z0-9_.-]+)@([0-9]\S*)", npm_line))
    index = json.loads((REPO / "tests" / "data" / "captures" / "index.json").read_text())
    ctrl_c = [entry for entry in index if entry.get("stop") == "ctrl-c" and entry.get("mode") == "tty"
              and entry["expect"] and entry["expect"][0]["kind"] == kind]  # fmt: skip
    pinned = [entry for entry in ctrl_c if pins.get(entry["tool"]) == entry["version"]] or ctrl_c
    seen = {entry["shutdown"] for entry in pinned}
    return seen == {True} if seen else KIND_BY_NAME[kind].stop_line is not None


@dataclass(frozen=True)
class Row:
    kind: str  # the kinds.py name the daemon must detect
    command: str  # typed at the remote prompt, in the row's directory; {port} is the row's remote port
    page: str  # a piece of the tool's own page, fetched through the forward
    action: str = "open"  # "open": a browser tab; "notify": a notification naming the local URL
    files: tuple[tuple[str, str], ...] = ()  # (name, text) written into the row's directory; {port} too
    confirm: str = ""  # a question the tool asks after Ctrl-C (a regex), answered "y"
    name: str = ""  # the test's id, where the command's first word does not name the tool
    binds: str = ""  # the only address the server must listen on (as ss prints it), for a row about that
    login: bool = False  # the page is code-server's login: log in, in Chromium, and reach the editor on files[0]
    tls: str = ""  # a self-signed certificate in the row's directory: "pem" cert.pem and key.pem, "crt" server.crt
    opens: str = ""  # the page that opens, where the tool prints another one (a prefix it does not print)


UVICORN_APP = """\
async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"hello from uvicorn"})
"""
FLASK_APP = 'import flask\napp = flask.Flask(__name__)\napp.get("/")(lambda: "hello from flask")\n'
GRADIO_APP = """\
import gradio as gr
gr.Interface(lambda text: text, "text", "text").launch(server_name="127.0.0.1", server_port={port})
"""
DASH_APP = """\
from dash import Dash, html
app = Dash(__name__)
app.layout = html.Div("hello from dash")
app.run(host="127.0.0.1", port={port})
"""
PANEL_APP = 'import panel as pn\npn.panel("hello from panel").servable()\n'
BOKEH_APP = 'from bokeh.io import curdoc\nfrom bokeh.models import Div\ncurdoc().add_root(Div(text="hello"))\n'
MARIMO_NB = """\
import marimo
app = marimo.App()


@app.cell
def _():
    return


if __name__ == "__main__":
    app.run()
"""
VITE_PAGE = "<!doctype html>\n<title>e2e</title>\n<p>hello from vite</p>\n"
WEBPACK_PAGE = "<!doctype html>\n<title>e2e</title>\n<p>hello from webpack</p>\n"  # public/: its static dir
RAY_APP = """\
import os
import time

import ray

ray.init(include_dashboard=True, dashboard_host="127.0.0.1", dashboard_port={port}, _temp_dir=os.path.abspath("ray"))
time.sleep(3600)
"""
VOILA_NB = (
    '{"cells": [{"cell_type": "markdown", "metadata": {}, "source": ["hello from voila"]}], "metadata": {},'
    ' "nbformat": 4, "nbformat_minor": 5}'
)

TABLE = [
    Row("dask", "dask scheduler --host 127.0.0.1 --port 0 --dashboard-address 127.0.0.1:{port}", "Dask"),
    # Under --dashboard-prefix the dashboard prints /status and serves /foo/status: its root redirects there.
    Row("dask", "dask scheduler --host 127.0.0.1 --port 0 --dashboard-address 127.0.0.1:{port} --dashboard-prefix /foo",
        "Dask", name="dask-dashboard-prefix", opens="/foo/status"),
    Row("mlflow", "mlflow server --host 127.0.0.1 --port {port}", "<title>MLflow</title>"),
    Row("uvicorn", "uvicorn app:app --host 127.0.0.1 --port {port}", "hello from uvicorn", "notify",
        (("app.py", UVICORN_APP),)),
    Row("werkzeug", "flask --app app run --port {port}", "hello from flask", "notify", (("app.py", FLASK_APP),)),
    Row("http_server", "python -m http.server {port} --bind 127.0.0.1", "Directory listing for /", "notify",
        (("hello.txt", "hello\n"),)),
    Row("tensorboard", "tensorboard --logdir logs --host 127.0.0.1 --port {port}", "TensorBoard", "open",
        (("logs/.keep", ""),)),
    Row("streamlit", "streamlit run app.py --server.headless true --browser.gatherUsageStats false"
        " --server.address 127.0.0.1 --server.port {port}", "<title>Streamlit</title>", "open",
        (("app.py", 'import streamlit as st\nst.write("hello from streamlit")\n'),)),
    Row("marimo", "marimo edit nb.py --headless --host 127.0.0.1 --port {port}", "marimo", "open",
        (("nb.py", MARIMO_NB),), confirm=r"\(y/N\)"),
    # Under a base path (behind a proxy) the URL printed is the app's root with no final "/": the probe goes under
    # it (Streamlit serves its page at /apps/st/, marimo /apps/mo/manifest.json; at the server's root: 404).
    Row("streamlit", "streamlit run app.py --server.headless true --browser.gatherUsageStats false"
        " --server.address 127.0.0.1 --server.port {port} --server.baseUrlPath apps/st", "<title>Streamlit</title>",
        "open", (("app.py", 'import streamlit as st\nst.write("hello from streamlit")\n'),),
        name="streamlit-base-path"),
    Row("marimo", "marimo edit nb.py --headless --host 127.0.0.1 --port {port} --base-url /apps/mo", "marimo", "open",
        (("nb.py", MARIMO_NB),), confirm=r"\(y/N\)", name="marimo-base-url"),
    Row("gradio", "python app.py", "gradio", "open", (("app.py", GRADIO_APP),)),
    Row("panel", "panel serve app.py --address 127.0.0.1 --port {port}", "bokeh", "open", (("app.py", PANEL_APP),)),
    Row("panel", "bokeh serve app.py --address 127.0.0.1 --port {port}", "bokeh", "open", (("app.py", BOKEH_APP),)),
    Row("dash", "python app.py", "dash-renderer", "open", (("app.py", DASH_APP),)),
    Row("voila", "voila nb.ipynb --no-browser --Voila.ip=127.0.0.1 --port={port}", "hello from voila", "open",
        (("nb.ipynb", VOILA_NB),)),
    # Vite binds "localhost" as Node resolves it on the remote and prints "localhost": here 127.0.0.1, and in
    # the second row ::1 only, as on a remote whose /etc/hosts names localhost ::1 (a private mount of such a
    # file over /etc/hosts, for this command alone): the daemon's forward tries 127.0.0.1, then ::1.
    Row("vite", "vite --port {port} --strictPort", "hello from vite", "notify", (("index.html", VITE_PAGE),)),
    Row("vite", "unshare --mount sh -c 'mount --bind hosts /etc/hosts && exec vite --port {port} --strictPort'",
        "hello from vite", "notify", (("index.html", VITE_PAGE), ("hosts", "::1 localhost\n")), name="vite-ipv6"),
    Row("webpack", "webpack serve --mode development --port {port}", "hello from webpack", "notify",
        (("src/index.js", "console.log('hello from webpack');\n"), ("public/index.html", WEBPACK_PAGE))),
    # `ray start` names its dashboard with a scheme in its Jobs CLI hint (kinds.py); a short --temp-dir keeps
    # Ray's AF_UNIX socket paths under their 107-byte limit. Both forms print their URL after the dashboard
    # answers (6-9 s after, measured here), so the ray kind needs no listens_within.
    Row("ray", "ray start --head --block --port 0 --include-dashboard true --dashboard-host 127.0.0.1"
        " --dashboard-port {port} --disable-usage-stats --temp-dir $PWD/ray", "<title>Ray Dashboard</title>"),
    Row("ray", "python app.py", "<title>Ray Dashboard</title>", "open", (("app.py", RAY_APP),), name="ray-init"),
    # TLS, with a self-signed certificate as on a cluster. Jupyter given one prints https:// (the probe must take a
    # certificate no CA signed). Bokeh given a certificate file not named *.pem and no key file prints http:// and
    # serves TLS only (bokeh 3.9.2 command/subcommands/serve.py:977): no HTTP answer, so https is asked and opened.
    Row("jupyter", "jupyter server --no-browser --allow-root --ip=127.0.0.1 --port={port} --certfile=cert.pem"
        " --keyfile=key.pem", "<title>Jupyter Server</title>", confirm=r"\(y/\[n\]\)", name="jupyter-https",
        tls="pem"),
    Row("panel", "bokeh serve app.py --address 127.0.0.1 --port {port} --ssl-certfile server.crt", "bokeh", "open",
        (("app.py", BOKEH_APP),), name="bokeh-tls-printed-as-http", tls="crt"),
    # code-server as a user starts it: its default auth is a password in the config file it writes (here in the
    # row's HOME), so the printed URL leads to its login page; with --auth none, to the editor itself.
    Row("code_server", "code-server --bind-addr 127.0.0.1:{port} --disable-telemetry --disable-update-check .",
        "Welcome to code-server", "open", (("hello-from-e2e.txt", "hello\n"),), login=True),
    Row("code_server", "code-server --auth none --bind-addr 127.0.0.1:{port} --disable-telemetry"
        " --disable-update-check .", "vscode-workbench-web-configuration", name="code-server-auth-none"),
]
# Named by the command (bokeh and panel are one kind); "python ..." rows by their kind, others by their name.
PARAMS = [
    pytest.param(row, FIRST_PORT + index, id=row.name or (row.kind if row.command.startswith("python ")
                                                          else row.command.split()[0]))
    for index, row in enumerate(TABLE)
]


def health_bound() -> float:
    """How long a forward may outlive a server that printed no stop line: HEALTH_FAILURES failed health
    probes in a row, HEALTH_INTERVAL apart, each probe.py's tries (a refused connection fails at once, so
    their delays plus a second for the round trips), plus one more round for where in it the server stopped."""
    tries = inspect.signature(probe).parameters
    one_probe = (tries["attempts"].default - 1) * tries["delay"].default + 1.0
    return (HEALTH_FAILURES + 1) * (HEALTH_INTERVAL + one_probe)


@pytest.fixture
def row_dir() -> Iterator[Path]:
    """The row's working directory on the remote (same filesystem, its own network namespace); whatever the
    tool left running in it afterwards (a worker that outlived Ctrl-C) is killed."""
    path = Path(tempfile.mkdtemp(prefix="ita-kind-", dir="/tmp"))
    yield path
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            inside = os.readlink(proc / "cwd").startswith(str(path))
        except OSError:
            continue
        if inside:
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(proc.name), signal.SIGKILL)
    shutil.rmtree(path, ignore_errors=True)


def tools_installed() -> bool:
    """.venv-tools, .tools-npm and its code-server hold exactly the pins of tools/test-tools.txt
    (setup-test-machine stamps a complete install of each)."""
    def pins(prefix: str) -> list[str]:
        return [line.removeprefix(prefix) for line in PINS.read_text().splitlines() if line.startswith(prefix)]

    def stamped(path: Path) -> list[str]:
        return path.read_text().splitlines() if path.exists() else []

    stamp = TOOLS / "pins.txt"
    return (stamp.exists() and stamp.read_text() == PINS.read_text()
            and stamped(NPM_TOOLS / "pins.txt") == pins("# npm: ")
            and stamped(CODE_SERVER / "pins.txt") == pins("# npm-built: "))


def listen_addresses(host: RemoteHost, port: int) -> set[str]:
    """The addresses that listen on ``port`` on the remote host (in its namespace), as ss prints them."""
    ss = ["ss", "-N", host.state.namespaces["remote"], "-Hltn", f"sport = :{port}"]
    lines = subprocess.run(ss, capture_output=True, text=True, timeout=10, check=False).stdout.splitlines()
    return {line.split()[3].rpartition(":")[0] for line in lines if len(line.split()) > 3}


def listening(host: RemoteHost, port: int) -> bool:
    """Does anything listen on ``port`` on the remote host (its namespace's loopback)?"""
    return bool(listen_addresses(host, port))


def waited(daemon_log: str) -> str:
    """How long the daemon waited for a server that printed before it answered (by its log's own clock)."""

    def stamp(text: str) -> float | None:
        line = next((line for line in daemon_log.splitlines() if text in line), "")
        found = re.match(r"([0-9-]+ [0-9:]+),([0-9]+) ", line)
        return time.mktime(time.strptime(found[1], "%Y-%m-%d %H:%M:%S")) + int(found[2]) / 1000 if found else None

    waiting, up = stamp("waiting up to"), stamp("] forward up")  # the engine's line, after its probe passed
    return f" (of which {up - waiting:.1f} s waiting for it to answer)" if waiting and up else ""


def fetch(url: str) -> tuple[int, str]:
    """The page a browser would get (redirects followed), straight to the forward, never through a proxy; a
    self-signed certificate taken, as the user takes it in the browser."""
    unverified = ssl.create_default_context()
    unverified.check_hostname, unverified.verify_mode = False, ssl.CERT_NONE
    handlers = urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=unverified)
    opener = urllib.request.build_opener(*handlers)
    with opener.open(url, timeout=60) as response:
        return response.status, response.read(2_000_000).decode("utf-8", "replace")


def printed_url(pty_log: Path, port: int) -> str:
    """The path and query the tool printed for its port (the last printing, SGR codes removed)."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", pty_log.read_bytes().decode("utf-8", "replace"))
    found = re.findall(rf"https?://(?:127\.0\.0\.1|localhost):{port}([/?][^\s)\x1b]*)?", text)
    assert found, f"the tool printed no URL for port {port}"
    return found[-1] or "/"


# code-server 4.100.3's login page (.tools-npm/code-server/node_modules/code-server): its password field and submit
# button (src/browser/pages/login.html:41,46), the error it shows for a wrong password (out/node/routes/login.js:86,
# out/node/i18n/locales/en.json:12); and the editor's: what only the workbench page has
# (lib/vscode/out/vs/code/browser/workbench/workbench.html:21), its explorer's rows (.../workbench/workbench.js).
PASSWORD_FIELD = "document.querySelector('input[type=password]')"
SUBMIT = "document.querySelector('input[type=submit]').click()"
REFUSAL = "document.querySelector('.error')?.innerText"
CODE_SERVER_REFUSED = "Incorrect password"
EDITOR = "!!document.getElementById('vscode-workbench-web-configuration')"
EXPLORER_ROWS = "[...document.querySelectorAll('.explorer-folders-view .monaco-list-row')].map(row => row.innerText)"
LOGIN_BOUND = 120.0  # the editor's page and scripts (megabytes) through ssh on a loaded 2-core machine


def log_in_to_code_server(url: str, home: Path, folder: Path, listed: str) -> None:
    """As a user with code-server's default auth does, in headless Chromium through the forward: open the URL
    (its login page), read the password from the config file code-server wrote on the remote, mistype it once
    (refused: still the login page), type it: the editor opens on ``folder``, the directory code-server was
    started in, and its explorer lists ``listed``, a file there, which the page gets from the server over its
    websocket (code-server lets that through only with the session cookie and an Origin that matches the Host:
    out/node/routes/vscode.js:205, out/node/http.js:324). code-server allows 2 wrong passwords a minute
    (out/node/routes/login.js:50), so the one mistyped does not lock the user out."""
    config = (home / ".config" / "code-server" / "config.yaml").read_text()
    found = re.search(r"^password: (\S+)$", config, re.M)
    assert found is not None, "code-server wrote no password into its config file"
    password = found[1]
    origin = f"http://{urlsplit(url).netloc}"
    with Chromium() as chromium:
        chromium.navigate(url)
        for typed in ("not-" + password, password):
            chromium.wait(f"document.readyState === 'complete' && !!{PASSWORD_FIELD}", LOGIN_BOUND, "the login page")
            chromium.evaluate(f"{PASSWORD_FIELD}.focus()")
            chromium.type_text(typed)
            chromium.evaluate(SUBMIT)
            if typed != password:
                assert chromium.wait(REFUSAL, LOGIN_BOUND, "the refusal") == CODE_SERVER_REFUSED
                assert not chromium.evaluate(EDITOR) and chromium.evaluate("location.pathname").endswith("/login")
        rows = chromium.wait(f"{EXPLORER_ROWS}.includes({json.dumps(listed)}) && {EXPLORER_ROWS}", LOGIN_BOUND,
                             f"the editor, its explorer listing {listed}")
        where = urlsplit(chromium.evaluate("location.href"))
        assert chromium.evaluate(EDITOR), rows
        assert f"{where.scheme}://{where.netloc}" == origin, where  # still on the forward
        assert parse_qs(where.query).get("folder") == [str(folder)], where


@pytest.mark.parametrize(("row", "port"), PARAMS)
def test_kind_end_to_end(remote_host: RemoteHost, home: str, row_dir: Path, row: Row, port: int) -> None:
    require(tools_installed(), "the servers of tools/test-tools.txt are not all in .venv-tools and .tools-npm"
            " (tools/setup-test-machine)")
    require(not row.login or shutil.which("chromium") is not None, "needs chromium (apt-get install chromium)")
    kind = KIND_BY_NAME[row.kind]
    for name, text in row.files:
        (row_dir / name).parent.mkdir(parents=True, exist_ok=True)
        (row_dir / name).write_text(text.replace("{port}", str(port)))
    if row.tls == "pem":
        self_signed(row_dir / "cert.pem", row_dir / "key.pem")
    elif row.tls == "crt":  # the key after the certificate, in the one file
        self_signed(row_dir / "server.crt")
    (row_dir / "home").mkdir()
    env = {  # the user's shell: the tools on PATH, their own HOME, no phoning home (there is no network)
        "PATH": f"{TOOLS / 'bin'}:{NPM_TOOLS / 'node_modules' / '.bin'}:{CODE_SERVER / 'node_modules' / '.bin'}"
                ":/usr/local/bin:/usr/bin:/bin",
        "HOME": str(row_dir / "home"), "LANG": "C.UTF-8", "GRADIO_ANALYTICS_ENABLED": "False", "HF_HUB_OFFLINE": "1",
        "JUPYTER_PLATFORM_DIRS": "1", "RAY_USAGE_STATS_ENABLED": "0",
    }
    setup = f"cd {shlex.quote(str(row_dir))} && export {' '.join(f'{k}={shlex.quote(v)}' for k, v in env.items())}"
    ssh_argv = ["ssh", *remote_host.ssh_args(), "-tt", "remote"]
    variables = {"jobName": "ssh", "commandLine": shlex.join(ssh_argv)}
    pty_log = Path(home) / "pty.log"
    logged_in = ""
    with daemon_on_fake(Path(home), DAEMON, sys.executable, variables=variables) as run:
        fake, session = run.fake, run.session

        async def widen() -> None:  # the window the pty has: a user's, wider than the default 80 columns
            fake.resize_session(session, ROWS, COLUMNS)

        fake.call(widen())
        osc = osc_spy(fake, session)
        ssh = SshInPty(ssh_argv, session, pty_log)
        try:
            ssh.type(f"{setup}\r".encode())
            ssh.type(f"{row.command.replace('{port}', str(port))}\r".encode())
            typed = time.monotonic()

            def diagnostics() -> str:
                return f"pty:\n{pty_log.read_text(errors='replace')[-3000:]}\nnotes: {notifications(osc)}"

            def ready_note() -> str:
                return next((note for note in notifications(osc) if f"{row.kind} ready" in note), "")

            def acted() -> bool:  # no use waiting once the daemon has given up
                assert not any("did not answer" in note for note in notifications(osc)), diagnostics()
                return run.opened_file.exists() if row.action == "open" else bool(ready_note())

            wait_for(acted, START_BOUND, f"the {row.action} action for {row.kind}", diagnostics)
            if row.action == "open":
                url = run.wait_opened()
            else:
                found = re.search(r"http://localhost:[0-9]+\S*", ready_note())
                assert found is not None, ready_note()
                url = found[0]
                assert not run.opened_file.exists(), "a notify kind opened a browser tab"
            started = time.monotonic() - typed

            parts = urlsplit(url)
            assert (parts.scheme, parts.hostname) == ("https" if row.tls else "http", "localhost")
            assert parts.port is not None
            want = urlsplit(printed_url(pty_log, port))
            if row.action == "open":  # the printed page, its token with it
                assert ((parts.path or "/"), parts.query) == (row.opens or (want.path or "/"), want.query)
            status, page = fetch(url)
            assert status == 200 and row.page in page, page[:2000]
            if row.login:
                logging_in = time.monotonic()
                log_in_to_code_server(url, row_dir / "home", row_dir, row.files[0][0])
                logged_in = f"; logged in to the editor in {time.monotonic() - logging_in:.1f} s"

            if row.binds:
                assert listen_addresses(remote_host, port) == {row.binds}, listen_addresses(remote_host, port)
            local_port = parts.port
            ssh.type(b"\x03")  # Ctrl-C, as the user stops it
            stopped = time.monotonic()
            if row.confirm:
                wait_for(lambda: re.search(row.confirm.encode(), pty_log.read_bytes()) is not None, 30,
                         "the tool's question", diagnostics)
                ssh.type(b"y\r")
            # Timed from Ctrl-C and from when the server stopped listening; the bound is on the latter, since a
            # tool may take seconds to shut down on a loaded machine (dask's scheduler once took 8 s here).
            stop_line = prints_stop_line_on_ctrl_c(row.kind)
            bound = STOP_BOUND if stop_line else health_bound()
            unlistened = None
            deadline = stopped + bound + 60
            while port_open(local_port):
                if unlistened is None and not listening(remote_host, port):
                    unlistened = time.monotonic()
                assert time.monotonic() < deadline, f"the forward did not close\n{diagnostics()}"
                time.sleep(0.05)
            closed = time.monotonic()
            gone = closed - stopped
            after_server = closed - (unlistened or closed)
        finally:
            ssh.stop()
    log = run.output[0]
    name = row.name or row.command.split()[0]
    print(f"\n{row.kind} ({name}): action after {started:.1f} s{waited(log)}{logged_in}; forward gone"
          f" {gone:.1f} s after Ctrl-C, {after_server:.1f} s after the server stopped listening (bound {bound:.1f} s)")
    assert "] forward up" in log  # the engine's line: its probe through the forward passed
    why = "server stopped" if stop_line else "server no longer answers"
    assert f"({why})" in log, log[-3000:]
    assert after_server < bound, f"the forward outlived {row.kind} by {after_server:.1f} s (bound {bound:.1f} s)"
    if kind.listens_within and "waiting up to" in log:  # it printed before it answered: the user was told we wait
        assert any("waiting up to" in note for note in notifications(osc)), notifications(osc)
