"""The invisible marker: the parser (pure), the remote config line (through Python's own webbrowser and the
real printf), the config key and ``remote-config``, and ``watch_markers`` as a real iterm2-library client
against the fake iTerm2 (which posts custom-escape-sequence notifications as iTerm2 does)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.parse
import urllib.request
import webbrowser
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jinja2
import jupyter_server
import pytest

from iterm2_autolaunch.config_parse import parse_config
from iterm2_autolaunch.errors import ConfigError
from iterm2_autolaunch.lines import bytes_to_lines
from iterm2_autolaunch.marker import MAX_BODY, PREFIX, Marker, MarkerParser, marker_event, remote_config_line
from tests.client_process import ClientProcess
from tests.fake_iterm2 import FakeITerm2

IDENTITY = "k3Y_secret-0123456789abcdef"
URL = "http://127.0.0.1:8888/lab?token=" + "ab" * 24
CLIENT = Path(__file__).with_name("marker_client.py")


def osc(body: str, end: bytes = b"\x07") -> bytes:
    return b"\x1b]1337;Custom=" + body.encode() + end


def marker(url: str = URL, identity: str = IDENTITY, end: bytes = b"\x07") -> bytes:
    return osc(f"id={identity}:{url}", end)


def events(data: bytes, identity: str = IDENTITY) -> list[Marker]:
    return MarkerParser(identity).feed(data)


def urls(found: list[Marker]) -> list[str | None]:
    return [m.event.url if m.event else None for m in found]


# ----------------------------------------------------------------------------------------------- parser


@pytest.mark.parametrize("end", [b"\x07", b"\x1b\\"], ids=["BEL", "ST"])
def test_genuine_marker_gives_a_jupyter_announcement(end: bytes) -> None:
    [found] = events(b"before" + marker(end=end) + b"after")
    assert found.event is not None
    assert (found.event.event, found.event.kind, found.event.host, found.event.port) == (
        "announce",
        "jupyter",
        "127.0.0.1",
        8888,
    )
    assert found.event.token == "ab" * 24 and found.event.path == "/lab" and found.event.base_path == "/"


def test_every_chunking_gives_the_same_markers() -> None:
    stream = (
        b"x" * 10
        + marker()
        + b"\x1b]1337;Cus"
        + marker(end=b"\x1b\\")
        + b"\x1b]0;title\x07"
        + marker("http://localhost:9999/tree?token=cd")
    )
    whole = urls(events(stream))
    assert whole == [URL, URL, "http://localhost:9999/tree?token=cd"]
    for size in (1, 2, 3, 7, 17, 64):
        parser = MarkerParser(IDENTITY)
        found: list[Marker] = []
        for i in range(0, len(stream), size):
            found += parser.feed(stream[i : i + size])
        assert urls(found) == whole, size


@pytest.mark.parametrize(
    "identity",
    ["", "wrong", IDENTITY[:-1], IDENTITY + "x", IDENTITY.upper(), " " + IDENTITY],
)
def test_marker_with_another_identity_is_ignored(identity: str) -> None:
    found = events(marker(identity=identity))
    assert [m.event for m in found] == [None] * len(found)
    assert all("unknown identity" in m.problem for m in found)


def test_no_identity_configured_accepts_nothing() -> None:
    assert [m.event for m in events(marker(identity=""), identity="")] == [None]


@pytest.mark.parametrize(
    "payload",
    [
        "http://github.com:443/lab?token=x",  # not a local-looking host
        "http://localhost/lab?token=x",  # no explicit port
        "http://localhost:8888",  # Jupyter always prints a path
        "http://localhost:0/lab",
        "http://localhost:99999/lab",
        "file:///tmp/jpserver-1-open.html",
        "javascript:alert(1)",
        "http://localhost:8888/lab?token=x http://localhost:9999/lab",
        "http://localhost:8888/../etc/passwd",
        "http://user@localhost:8888/lab",
        "http://169.254.169.254:80/latest/",
        "http://localhost:8888/lab?token=x;rm",
        "http://localhost:8888/" + "a" * 3000,
        "",
    ],
)
def test_marker_payload_must_pass_the_url_rules(payload: str) -> None:
    assert marker_event(payload) is None
    found = events(marker(payload))
    assert [m.event for m in found] == [None] * len(found)


@pytest.mark.parametrize(
    "broken",
    [
        osc(f"id={IDENTITY}:{URL}\x18", b""),  # CAN aborts the string
        osc(f"id={IDENTITY}:{URL}", b"\x1b["),  # a new escape sequence
        osc(f"id={IDENTITY}:{URL}", b"\n"),
        osc(f"id={IDENTITY}{URL}"),  # no ":" after the identity
        f"]1337;Custom=id={IDENTITY}:{URL}\x07".encode(),  # printed text: no ESC
        b"\x1b]1337;custom=id=" + f"{IDENTITY}:{URL}\x07".encode(),
    ],
)
def test_broken_or_printed_sequences_are_no_markers_and_the_next_one_counts(broken: bytes) -> None:
    found = events(broken + marker(end=b"\x1b\\"))
    assert urls([m for m in found if m.event]) == [URL]


def test_unterminated_sequence_is_given_up_and_memory_stays_bounded() -> None:
    parser = MarkerParser(IDENTITY)
    assert parser.feed(PREFIX + f"{IDENTITY}:".encode()) == []
    for _ in range(100):
        assert parser.feed(b"a" * 1000) == []
        assert len(parser._pending) <= len(PREFIX) + MAX_BODY + 1
    assert urls(parser.feed(marker())) == [URL]


def test_marker_is_invisible_to_the_line_detector() -> None:
    assert list(bytes_to_lines([b"[I ServerApp] before\r\n" + marker() + b"after\r\n"])) == [
        "[I ServerApp] before",
        "after",
    ]


# ------------------------------------------------------------------------------- the remote config line


def run_config_line(line: str, url: str, workdir: Path) -> tuple[bytes, list[str]]:
    """What Jupyter Server does with the line, step by step from its source (serverapp.py ``launch_browser``,
    ``_prepare_browser_open``, ``_write_browser_open_file``): render its own ``browser-open.html`` template
    (autoescape on, as its jinja2 env) with the URL into a page in its runtime directory, then
    ``webbrowser.get(c.ServerApp.browser).open(urljoin("file:", pathname2url(page)))``, which runs the command
    without a shell. Returns the command's output and its argv."""

    class Section:
        pass

    class Config:
        ServerApp = Section()

    c = Config()
    exec(line, {"c": c})  # noqa: S102 - our own generated line, as Jupyter would load it
    assert c.ServerApp.use_redirect_file is True  # type: ignore[attr-defined]
    templates = Path(jupyter_server.__file__).parent / "templates"
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(templates), autoescape=True)  # noqa: S701 - as Jupyter
    page = workdir / "jpserver-4242-open.html"
    page.write_text(env.get_template("browser-open.html").render(open_url=url, base_url="/"), encoding="utf-8")
    browser = webbrowser.get(c.ServerApp.browser)  # type: ignore[attr-defined]
    assert isinstance(browser, webbrowser.GenericBrowser)
    file_url = urllib.parse.urljoin("file:", urllib.request.pathname2url(str(page)))
    argv = [browser.name] + [arg.replace("%s", file_url) for arg in browser.args]  # GenericBrowser.open's argv
    return subprocess.run(argv, capture_output=True, timeout=10, check=True).stdout, argv


@pytest.mark.parametrize(
    "url",
    [URL, "http://localhost:8888/user/a%2Fb%25s/lab?token=x%sy", "http://[::1]:8888/lab?token=z"],
    ids=["plain", "percent-signs", "ipv6"],
)
def test_remote_config_line_sends_the_marker_without_the_token_in_an_argv(url: str, tmp_path: Path) -> None:
    output, argv = run_config_line(remote_config_line(IDENTITY), url, tmp_path)
    assert output == marker(url)  # exactly the sequence, nothing visible
    assert not any("token" in arg for arg in argv)  # `ps` on the remote host shows no token
    found = events(output)
    if url.endswith("x%sy"):
        assert [m.event for m in found] == [None]  # "%s" is no token character: the URL rules refuse it
    else:
        assert urls(found) == [url]


def test_remote_config_line_refuses_an_identity_that_would_need_quoting() -> None:
    for bad in ("a'b", "a b", "a%b", "a\\b", 'a"b', "a:b", ""):
        with pytest.raises(ValueError):
            remote_config_line(bad)


# -------------------------------------------------------------------------------------- config and CLI


def test_config_marker_identity() -> None:
    assert parse_config({}, "f").marker_identity is None
    assert parse_config({"marker_identity": IDENTITY}, "f").marker_identity == IDENTITY
    assert IDENTITY not in repr(parse_config({"marker_identity": IDENTITY}, "f"))
    for bad in ("short", "has space in it 0123456789", "x" * 129, 12345678901234567890):
        with pytest.raises(ConfigError, match="marker_identity: must be a secret string") as raised:
            parse_config({"marker_identity": bad}, "f")
        assert str(bad) not in str(raised.value)


@pytest.fixture
def xdg() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(dir="/tmp", prefix="xdg-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def remote_config(xdg: Path) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, XDG_CONFIG_HOME=str(xdg))
    argv = [sys.executable, "-m", "iterm2_autolaunch", "remote-config"]
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=30, check=False)


def test_remote_config_without_identity_suggests_one_and_prints_no_line(xdg: Path) -> None:
    proc = remote_config(xdg)
    assert proc.returncode == 1 and proc.stdout == ""
    suggested = [line for line in proc.stderr.splitlines() if line.startswith("marker_identity = ")]
    assert len(suggested) == 1
    config = xdg / "iterm2-autolaunch" / "config.toml"
    config.parent.mkdir()
    config.write_text(suggested[0] + "\n")
    config.chmod(0o600)
    proc = remote_config(xdg)
    assert proc.returncode == 0, proc.stderr
    identity = json.loads(suggested[0].split("=", 1)[1])
    assert proc.stdout == remote_config_line(identity) + "\n"
    assert "readable" not in proc.stderr and "others can read" not in proc.stderr
    assert remote_config(xdg).stdout == proc.stdout  # the identity stays; the file was not changed
    assert config.read_text() == suggested[0] + "\n"


def test_remote_config_warns_about_a_readable_config_and_rejects_a_bad_one(xdg: Path) -> None:
    config = xdg / "iterm2-autolaunch" / "config.toml"
    config.parent.mkdir()
    config.write_text(f'marker_identity = "{IDENTITY}"\n')
    config.chmod(0o644)
    proc = remote_config(xdg)
    assert proc.returncode == 0 and "others can read" in proc.stderr
    config.write_text('marker_identity = "short"\n')
    proc = remote_config(xdg)
    assert proc.returncode == 2 and proc.stdout == "" and "marker_identity" in proc.stderr


# ------------------------------------------------------------------------------------------ fake iTerm2


class MarkerClient(ClientProcess):
    """tests/marker_client.py (``watch_markers``) in a subprocess."""

    def __init__(self, fake: FakeITerm2, home: str, identity: str) -> None:
        super().__init__(fake, home, [sys.executable, str(CLIENT), identity])

    def wait_records(self, count: int) -> list[dict[str, Any]]:
        return self.wait_for(lambda: list(self.records) if len(self.records) >= count else None, f"{count} records")


def test_watch_markers_through_the_fake_iterm2(fake: FakeITerm2, home: str) -> None:
    before = fake.add_session(variables={"jobName": "ssh", "commandLine": "ssh wheeler"})
    client = MarkerClient(fake, home, IDENTITY)
    try:
        assert client.wait_records(1) == [{"subscribed": True}]
        later = fake.add_session()  # created after the subscription: covered too ("all" sessions)
        before.write(b"visible line\r\n" + marker(identity="forged-identity-0123456789"))
        before.write(marker("http://evil.example.com:80/lab?token=x"))
        before.write(b"text " + marker(end=b"\x1b\\") + b" more text\r\n")
        later.write(marker("http://localhost:9999/tree?token=cd"))
        records = client.wait_records(3)
        assert records[1:] == [
            {"session": before.session_id, "event": event_json(URL)},
            {"session": later.session_id, "event": event_json("http://localhost:9999/tree?token=cd")},
        ]
        # stderr is read by its own thread: the refusals may be logged after the records arrive
        def refusals_logged() -> str | None:
            text = "".join(client.log)
            return text if "unknown identity" in text and "not a local server URL" in text else None

        log = client.wait_for(refusals_logged, "both refusals logged")
        assert "ab" * 24 not in log  # the token is never logged
        # iTerm2 shows nothing of the sequence: the screen has only the visible text.
        assert not any("1337" in row or "token" in row for row in before.text())
        assert any(row.startswith("text  more text") for row in before.text())
    finally:
        client.stop()
    assert len(client.records) == 3


def event_json(url: str) -> dict[str, Any]:
    event = marker_event(url)
    assert event is not None
    return event.to_json()
