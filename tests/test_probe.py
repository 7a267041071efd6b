"""The probe against real HTTP servers on loopback: it checks each kind's own mark and never follows a redirect."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest

from iterm2_autolaunch.kinds import GUNICORN, HTTP_SERVER, JUPYTER, KIND_BY_NAME, UVICORN, WERKZEUG
from iterm2_autolaunch.probe import judge, probe_once


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
