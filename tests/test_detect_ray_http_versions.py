"""Ray 1.13's dashboard line, http.server's HTTPS line and the starts that print no URL, on the real captures.

Ray 1.13 logs "View the Ray dashboard at http://HOST:PORT" (ray/_private/services.py:1470, under `ray start` and
ray.init() alike), which no layout of Ray 2.x read; kinds_services.RAY cites it. Two tools print an address with
no scheme and nothing with "://" above it: ray.init() of Ray 2.x on Python 3.9/3.10, whose line the detector
finds by its literal (RAY.address_cue, one more search through all output), and Python 2.7's SimpleHTTPServer,
which is not announced: a test pins that down, so that a change there is a decision, not an accident. The near
misses are the real line with one thing changed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.test_detect_old_dask import announced, lines_of

CAPTURES = Path(__file__).parent / "data" / "captures"
INDEX: dict[str, dict[str, Any]] = {e["file"]: e for e in json.loads((CAPTURES / "index.json").read_text())}
RAY113 = ("mx_ray1_13_start_block_sigterm_tty_100.raw", "mx_ray1_13_init_sigterm_tty_100.raw")
RAY29 = ("mx_ray2_9_init_ctrl_c_tty_100.raw", "mx_ray2_9_init_any_sigterm_tty_100.raw")
PY27 = "mx_http_server_py2_7_simple_ctrl_c_tty_100.raw"


@pytest.mark.parametrize("name", RAY113)
@pytest.mark.parametrize("batch", [1, 1000])
def test_ray_1_13_dashboard_is_announced_from_its_own_line(name: str, batch: int) -> None:
    lines = lines_of(name)
    (event,) = announced(lines, batch)
    assert (event.kind, event.url) == ("ray", INDEX[name]["expect"][0]["url"])
    assert "View the Ray dashboard at " in lines[event.line - 1]


def ray113_line() -> tuple[list[str], int]:
    lines = lines_of(RAY113[0])
    return lines, next(n for n, line in enumerate(lines) if "View the Ray dashboard at" in line)


def near_misses() -> list[Any]:
    """The real `ray start` of 1.13 with its dashboard line changed."""
    lines, n = ray113_line()
    line = lines[n]
    log, message = line.split(" -- ", 1)

    def changed(new: str) -> list[str]:
        return [*lines[:n], new, *lines[n + 1 :]]

    return [
        pytest.param(changed(f"{line} now"), id="text-after-the-url"),
        pytest.param(changed(f"{line}, see below"), id="comma-after-the-url"),
        pytest.param(changed(line.replace("INFO", "WARNING")), id="another-level"),
        pytest.param(changed(line.replace("services.py", "worker.py")), id="another-source-file"),
        pytest.param(changed(f"{log} -- Please {message}"), id="words-before-the-sentence"),
        pytest.param(changed(message.replace("View the Ray dashboard", "View the dashboard")), id="2x-sentence-alone"),
        pytest.param(changed(f"$ echo '{message}'"), id="quoted-in-a-command"),
        pytest.param(changed(message.replace("127.0.0.1", "169.254.169.254")), id="metadata-host"),
        pytest.param(changed(message.replace("http://", "")), id="no-scheme"),
    ]


def test_near_misses_control() -> None:
    lines, n = ray113_line()
    assert [e.line for e in announced(lines)] == [n + 1]


@pytest.mark.parametrize("lines", near_misses())
def test_near_misses_of_the_ray_1_13_line_announce_nothing(lines: list[str]) -> None:
    assert announced(lines) == []
    assert announced(lines, 1) == []


@pytest.mark.parametrize("name", RAY29)
@pytest.mark.parametrize("batch", [1, 1000])
def test_ray_2_9_on_python_3_10_is_announced_from_its_address_with_no_scheme(name: str, batch: int) -> None:
    """ray 2.9.3 ray/_private/worker.py:1715 "... View the dashboard at 127.0.0.1:PORT" (dashboard_host 0.0.0.0:
    the node's IP), captured on Python 3.10.13: no "://" anywhere in the output."""
    lines = lines_of(name)
    assert "://" not in "\n".join(lines)
    (event,) = announced(lines, batch)
    (expected,) = INDEX[name]["expect"]
    assert (event.kind, event.url, event.port, event.path) == ("ray", expected["url"], expected["port"], "/")
    assert f"View the dashboard at {event.host}:{event.port}" in lines[event.line - 1]
    assert event.alt_hosts == ((event.host,) if event.host == "127.0.0.1" else (event.host, "127.0.0.1"))


def ray29_line() -> tuple[list[str], int]:
    lines = lines_of(RAY29[0])
    return lines, next(n for n, line in enumerate(lines) if "View the dashboard at" in line)


def ray29_near_misses() -> list[Any]:
    """The real ray.init() line of 2.9 on Python 3.10 with one thing changed."""
    lines, n = ray29_line()
    line = lines[n].rstrip()
    log, message = line.split(" -- ", 1)
    host_port = line.rsplit(" ", 1)[1]

    def changed(new: str) -> list[str]:
        return [*lines[:n], new, *lines[n + 1 :]]

    return [
        pytest.param(changed(f"{line} now"), id="text-after-the-address"),
        pytest.param(changed(line.replace("INFO", "WARNING")), id="another-level"),
        pytest.param(changed(line.replace("worker.py", "services.py")), id="another-source-file"),
        pytest.param(changed(f"{log} -- Please {message}"), id="words-before-the-sentence"),
        pytest.param(changed(message.replace("Started a local Ray instance. ", "")), id="sentence-alone"),
        pytest.param(changed(f"$ echo '{message}'"), id="quoted-in-a-command"),
        pytest.param(changed(f" {line}"), id="diff-context-line"),
        pytest.param(changed(line.replace(host_port, host_port.replace("127.0.0.1", "metadata.google.internal"))),
                     id="metadata-host"),
        pytest.param(changed(line.replace(host_port, host_port + "1234")), id="port-too-long"),
        pytest.param(changed(line.replace(host_port, host_port.split(":")[0])), id="no-port"),
    ]


def test_ray29_near_misses_control() -> None:
    lines, n = ray29_line()
    assert [e.line for e in announced(lines)] == [n + 1]


@pytest.mark.parametrize("lines", ray29_near_misses())
def test_near_misses_of_the_ray_2_9_line_announce_nothing(lines: list[str]) -> None:
    assert announced(lines) == []
    assert announced(lines, 1) == []


def test_python_2_7_simple_http_server_prints_no_url_and_is_not_announced() -> None:
    """2.7.18 BaseHTTPServer.py:609 "Serving HTTP on 0.0.0.0 port PORT ...": the address is there, without a
    scheme, and no line above it holds one; no literal of it is searched for."""
    entry = INDEX[PY27]
    assert entry["expect"] == []
    port = int(entry["command"][-1])
    text = "\n".join(lines_of(PY27))
    assert f"Serving HTTP on 0.0.0.0 port {port} ..." in text
    assert "://" not in text
    assert announced(lines_of(PY27)) == []


HTTP_313 = "mx_http_server_py3_13_plain_ctrl_c_tty_100.raw"


def as_https(line: str) -> str:
    """What CPython's test() prints with --tls-cert instead: the same f-string with protocol 'HTTPS'."""
    return line.replace("Serving HTTP on ", "Serving HTTPS on ").replace("(http://", "(https://")


def test_http_server_over_tls_is_announced_with_its_scheme() -> None:
    """No Python here has --tls-cert (added after 3.13): the real 3.13 start line with the one change its
    f-string makes; the unchanged line is the control."""
    lines = lines_of(HTTP_313)
    n = next(i for i, line in enumerate(lines) if line.startswith("Serving HTTP on "))
    (plain,) = announced(lines)
    (tls,) = announced([*lines[:n], as_https(lines[n]), *lines[n + 1 :]])
    assert (plain.scheme, tls.scheme) == ("http", "https")
    assert (tls.kind, tls.url) == ("http_server", plain.url.replace("http://", "https://"))


@pytest.mark.parametrize("word", ["HTTPX", "HTTP/1.1", "https", "FTP"])
def test_http_server_line_with_another_word_is_not_announced(word: str) -> None:
    lines = lines_of(HTTP_313)
    n = next(i for i, line in enumerate(lines) if line.startswith("Serving HTTP on "))
    assert announced([*lines[:n], lines[n].replace("Serving HTTP on ", f"Serving {word} on "), *lines[n + 1 :]]) == []
