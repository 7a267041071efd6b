"""The probe against real HTTP servers on loopback: it checks each kind's own mark and never follows a redirect."""

from __future__ import annotations

import contextlib
import http.server
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest

from iterm2_autolaunch.kinds import GUNICORN, HTTP_SERVER, JUPYTER, KIND_BY_NAME, UVICORN, WERKZEUG
from iterm2_autolaunch.probe import MAX_BODY, judge, probe_once
from tests.conftest import require
from tests.tls_cert import self_signed

REPO = Path(__file__).resolve().parent.parent


def serve(handler: type[http.server.BaseHTTPRequestHandler]) -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture
def file_server(tmp_path: Path) -> Iterator[str]:
    """Exactly what `python -m http.server` runs: SimpleHTTPRequestHandler; its /api looks like Jupyter's."""
    (tmp_path / "api").write_text('{"version": "2.21.1"}')
    yield from serve(partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path)))  # type: ignore[arg-type]


class Redirector(http.server.BaseHTTPRequestHandler):
    """Answers every request with a redirect to another port (where something else may listen)."""

    target = ""
    seen: list[str] = []

    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        Redirector.seen.append(self.path)
        self.send_response(302)
        self.send_header("Location", Redirector.target)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_python_http_server_is_recognised_by_its_server_header(file_server: str) -> None:
    assert probe_once(file_server, HTTP_SERVER, timeout=5).ok


@pytest.mark.parametrize("kind", [UVICORN, WERKZEUG, GUNICORN, KIND_BY_NAME["streamlit"]], ids=lambda k: k.name)
def test_another_server_is_not_taken_for_this_kind(file_server: str, kind: object) -> None:
    result = probe_once(file_server + "_stcore/health", kind, timeout=5)  # type: ignore[arg-type]
    assert not result.ok and "not a" in result.reason


def test_redirect_is_not_followed(file_server: str) -> None:
    """A redirect to a live Jupyter look-alike elsewhere must not make the probe pass."""
    assert probe_once(file_server + "api", JUPYTER, timeout=5).ok  # where the redirect points: passes
    Redirector.target, Redirector.seen = file_server + "api", []
    for url in serve(Redirector):
        result = probe_once(url + "api", JUPYTER, timeout=5)
        assert not result.ok and "HTTP 302" in result.reason
        assert Redirector.seen == ["/api"]


class AsksForTls(http.server.BaseHTTPRequestHandler):
    """As code-server 3.x under --cert answers plain HTTP on its TLS port: 302 to https:// + Host + the path
    (3.10.2 out/node/routes/index.js:145-146)."""

    def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
        self.send_response(302)
        self.send_header("Location", f"https://{self.headers['Host']}{self.path}")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_a_redirect_to_https_at_the_same_place_is_told_apart_from_one_elsewhere(file_server: str) -> None:
    """The engine asks https at the same place after the first only (locate.answer): one elsewhere is not TLS."""
    code_server = KIND_BY_NAME["code_server"]
    for url in serve(AsksForTls):
        result = probe_once(url + "healthz", code_server, timeout=5)
        assert (result.ok, result.moved_to, result.to_https) == (False, "/healthz", True)
    Redirector.target = file_server.replace("http://", "https://") + "healthz"  # https, but another port
    for url in serve(Redirector):
        result = probe_once(url + "healthz", code_server, timeout=5)
        assert (result.ok, result.moved_to, result.to_https) == (False, "/healthz", False)


def test_every_kind_checks_a_mark_of_its_own() -> None:
    assert [k.name for k in KIND_BY_NAME.values() if not (k.probe_expect or k.probe_header[0])] == []
    assert judge(KIND_BY_NAME["mlflow"], 302, "", "<title>MLflow</title>").ok is False  # only a 200 body counts


def test_panel_is_not_taken_for_another_tornado_server() -> None:
    """Jupyter and Voila also answer with "Server: TornadoServer": Panel's mark is Bokeh's own client library
    at its fixed path (checked by hand against panel 1.9.4: HTTP 200, "Bokeh Contributors" in its header)."""
    panel = KIND_BY_NAME["panel"]
    assert panel.probe_path == "static/js/bokeh.min.js"
    assert judge(panel, 200, "TornadoServer/6.4", "/*! Copyright (c) Anaconda, Inc., and Bokeh Contributors").ok
    assert not judge(panel, 200, "TornadoServer/6.4", '{"version": "2.14.0"}').ok  # Jupyter's /api
    assert not judge(panel, 404, "TornadoServer/6.4", "404: Not Found").ok


class Relay:
    """A TCP relay on loopback that counts the bytes the server sends, read as fast as they come, as the
    remote sshd of a forward reads them into the channel until the probe's close reaches it."""

    def __init__(self, port: int) -> None:
        self.upstream = port
        self.from_server = 0
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        with contextlib.suppress(OSError):
            while True:
                client, _ = self.listener.accept()
                threading.Thread(target=self._pipe, args=(client,), daemon=True).start()

    def _pipe(self, client: socket.socket) -> None:
        with client, contextlib.suppress(OSError):  # refused while the server starts; reset by the probe's close
            with socket.create_connection(("127.0.0.1", self.upstream)) as server:
                server.sendall(client.recv(65536))  # the probe's request: one small GET
                while data := server.recv(65536):
                    self.from_server += len(data)
                    client.sendall(data)

    def close(self) -> None:
        self.listener.close()


def test_a_big_static_file_is_asked_for_its_first_bytes_only(tmp_path: Path) -> None:
    """Panel/Bokeh's probe file, bokeh.min.js (1.27 MB in bokeh 3.9.2), is what a health probe asks every second
    of an open forward: only the bytes the probe reads may cross it. The real Bokeh server from .venv-tools."""
    bokeh = REPO / ".venv-tools" / "bin" / "bokeh"
    require(bokeh.exists(), f"{bokeh} missing (tools/setup-test-machine installs it)")
    app = "import bokeh.io\nimport bokeh.models\n\nbokeh.io.curdoc().add_root(bokeh.models.Div())\n"
    (tmp_path / "app.py").write_text(app)
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    server = subprocess.Popen([str(bokeh), "serve", "app.py", "--port", str(port), "--address", "127.0.0.1"],
                              cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    relay = Relay(port)
    try:
        url = f"http://127.0.0.1:{relay.port}/static/js/bokeh.min.js"
        deadline = time.monotonic() + 60
        while not (result := probe_once(url, KIND_BY_NAME["panel"], 5.0)).ok and time.monotonic() < deadline:
            time.sleep(0.5)
        assert result.ok, result.reason
        relay.from_server = 0
        for _ in range(3):
            assert probe_once(url, KIND_BY_NAME["panel"], 5.0).ok
        time.sleep(0.5)  # what the server still sends after the probe's close
        assert relay.from_server < 3 * (MAX_BODY + 4096)  # 0.6 to 3.7 MB for three probes without the Range
    finally:
        relay.close()
        server.terminate()
        server.wait(10)


def test_a_self_signed_https_server_is_probed(tmp_path: Path) -> None:
    """Jupyter with ``--certfile``, as on a cluster: its certificate is its own, which no CA signed. The probe checks
    that the server answers as its kind, not who it is (the SSH host key vouches for the remote end), so the
    self-signed certificate must not fail it. The real Jupyter Server of the test venv."""
    self_signed(tmp_path / "cert.pem", tmp_path / "key.pem")
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    jupyter = Path(sys.executable).parent / "jupyter"
    argv = [str(jupyter), "server", "--no-browser", "--ip=127.0.0.1", f"--port={port}", "--ServerApp.token=abc",
            f"--certfile={tmp_path / 'cert.pem'}", f"--keyfile={tmp_path / 'key.pem'}"]  # fmt: skip
    argv += ["--allow-root"] if os.geteuid() == 0 else []
    env = {**os.environ, "HOME": str(tmp_path), "JUPYTER_PLATFORM_DIRS": "1"}
    server = subprocess.Popen(argv, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"https://127.0.0.1:{port}/api"
        deadline = time.monotonic() + 60
        while "refused" in (result := probe_once(url, JUPYTER, 5.0)).reason and time.monotonic() < deadline:
            time.sleep(0.3)  # until it listens
        assert result.ok, result.reason
        assert not probe_once(f"http://127.0.0.1:{port}/api", JUPYTER, 5.0).ok  # it speaks TLS only
    finally:
        server.terminate()
        server.wait(10)


@pytest.mark.parametrize(
    "reply",
    [b"SSH-2.0-OpenSSH_9.2p1\r\n", b"\x15\x03\x01\x00\x02\x02\x46", b"HTTP/1.1 200 OK\r\n" + b"X: y\r\n" * 200],
    ids=["ssh-banner", "tls-alert", "too-many-headers"],
)
def test_an_answer_that_is_no_http_is_no_answer(reply: bytes) -> None:
    """Whatever listens at the forwarded port may answer in another protocol (an sshd, a TLS server's alert to a
    plain request) or break HTTP's limits: the probe says so; it must not raise (the health probe's task would
    end with the forward left open)."""
    listener = socket.create_server(("127.0.0.1", 0))

    def answer() -> None:
        client, _ = listener.accept()
        with client:
            client.recv(65536)
            client.sendall(reply)

    thread = threading.Thread(target=answer, daemon=True)
    thread.start()
    try:
        result = probe_once(f"http://127.0.0.1:{listener.getsockname()[1]}/api", JUPYTER, 5.0)
    finally:
        thread.join(5)
        listener.close()
    assert not result.ok and result.reason.startswith("no answer (not HTTP"), result.reason
