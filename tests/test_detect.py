"""The detector on output captured from the real tools (tests/data/captures), and on hostile text."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from iterm2_autolaunch.cli import scan_stream
from iterm2_autolaunch.detect import Detector, Event
from iterm2_autolaunch.hosts import is_local_looking
from iterm2_autolaunch.lines import bytes_to_lines

DATA = Path(__file__).parent / "data"
CAPTURES = DATA / "captures"
INDEX: list[dict[str, Any]] = json.loads((CAPTURES / "index.json").read_text())


def scan_json(*paths: Path) -> list[dict[str, Any]]:
    """What other tools see: `iterm2-autolaunch scan --json FILE...`, run as a real command."""
    done = subprocess.run(
        [sys.executable, "-m", "iterm2_autolaunch", "scan", "--json", *map(str, paths)],
        capture_output=True, text=True, timeout=120, check=True,
    )
    return [json.loads(line) for line in done.stdout.splitlines()]


def scan_in_process(path: Path) -> list[dict[str, Any]]:
    """The events `scan --json FILE` prints, from the command's own code (cli.scan_stream), in this process:
    hundreds of captures would take minutes as one command each."""
    with open(path, "rb") as stream:
        return [json.loads(json.dumps(event.to_json())) for event in scan_stream(stream)]


def test_scan_command_over_every_capture_prints_what_the_capture_tests_check() -> None:
    """One real `scan --json` of all captures at once equals the in-process scans asserted below."""
    paths = [CAPTURES / entry["file"] for entry in INDEX]
    assert scan_json(*paths) == [event for path in paths for event in scan_in_process(path)]


def test_scan_into_a_pipe_closed_early_stops_quietly() -> None:
    """`scan log | head -1`: the reader goes away after one line; scan ends with 141, as cat would, with no
    traceback (it printed a BrokenPipeError traceback before)."""
    paths = [str(CAPTURES / entry["file"]) for entry in INDEX]
    command = [sys.executable, "-m", "iterm2_autolaunch", "scan", *paths]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as scan:
        assert scan.stdout is not None and scan.stderr is not None
        assert scan.stdout.readline().endswith(b"\n")
        scan.stdout.close()
        assert scan.wait(timeout=120) == 141
        assert scan.stderr.read() == b""


@pytest.mark.parametrize("entry", INDEX, ids=[entry["file"].removesuffix(".raw") for entry in INDEX])
def test_capture_gives_one_announcement_per_server(entry: dict[str, Any]) -> None:
    events = scan_in_process(CAPTURES / entry["file"])
    for event in events:
        assert set(event) == {"event", "kind", "url", "scheme", "host", "port", "path", "token", "line", "alt_hosts"}
    announced = [e for e in events if e["event"] == "announce"]
    got = [{key: e[key] for key in ("kind", "url", "scheme", "port", "path", "token")} for e in announced]
    want = [{key: server[key] for key in ("kind", "url", "scheme", "port", "path", "token")}
            for server in entry["expect"]]
    assert got == want
    stops = [e for e in events if e["event"] == "shutdown"]
    assert len(stops) == (1 if entry["shutdown"] else 0)
    if stops:
        assert stops[0]["port"] == want[0]["port"] and stops[0]["line"] > announced[0]["line"]
    assert len([e for e in events if e["event"] == "listing"]) == entry.get("listing", 0)


@pytest.mark.parametrize("entry", [e for e in INDEX if e["expect"]][:6], ids=lambda e: e["file"])
@pytest.mark.parametrize("batch", [1, 3, 1000])
def test_line_batches_do_not_change_the_result(entry: dict[str, Any], batch: int) -> None:
    """The iTerm2 frontend hands over lines in whatever batches the screen updates make."""
    lines = list(bytes_to_lines([(CAPTURES / entry["file"]).read_bytes()]))
    whole = Detector()
    expected = whole.feed(lines) + whole.finish()
    detector = Detector()
    got: list[Event] = []
    for start in range(0, len(lines), batch):
        got += detector.feed(lines[start : start + batch])
    got += detector.finish()
    assert got == expected


@pytest.mark.parametrize(("name", "printed_first"), [
    ("jupyterlab_ip_hostname.raw", True),  # "http://<hostname>:PORT/lab?..." then "http://127.0.0.1:..."
    ("jupyterlab_ip_any.raw", False),  # "http://0.0.0.0:PORT/..." then loopback: nothing else to try
])  # fmt: skip
def test_host_the_server_printed_is_tried_first_then_loopback(name: str, printed_first: bool) -> None:
    """HPC: the compute node's name first; the login node's loopback may hold another user's server."""
    entry = next(e for e in INDEX if e["file"] == name)
    lines = list(bytes_to_lines([(CAPTURES / entry["file"]).read_bytes()]))
    (event,) = [e for e in Detector().feed(lines) if e.event == "announce"]
    printed = entry["expect"][0]["alt_urls"][0].split("//")[1].split(":")[0]
    assert event.host == "127.0.0.1"
    assert event.alt_hosts == ((printed, "127.0.0.1") if printed_first else ("127.0.0.1",))


@pytest.mark.parametrize("name", [
    "mx_notebook4_4_ipv6_ctrl_c_tty_100",  # "%s://%s:%i%s" % (proto, ip, port, base_url): notebookapp.py:1021
    "mx_notebook5_7_ipv6_ctrl_c_tty_100",  # :1452
    "mx_notebook6_4_ipv6_ctrl_c_tty_100",  # :1891, then " or http://127.0.0.1:PORT/"
    "mx_voila0_1_ipv6_ctrl_c_tty_100",  # voila 0.1.23 app.py:274, the same format
    "mx_panel0_14_ipv6_ctrl_c_tty_100",  # bokeh 2.4.3 serve.py:926 f"{protocol}://{address_string}:{port}..."
    "mx_dash1_21_ipv6_ctrl_c_tty_100",  # dash 1.21.0 dash.py:1738 (Werkzeug's own line has brackets)
    "mx_marimo0_6_ipv6_ctrl_c_tty_100",  # marimo 0.6.26 _server/api/lifespans.py:177 f"http://{host}:{port}"
    "mx_streamlit0_89_ipv6_ctrl_c_tty_100",  # streamlit 0.89.0 report.py:60 "http://%(host_ip)s:%(port)s"
    "mx_code_server3_10_ipv6_ctrl_c_tty_100",  # code-server 3.10.2 out/node/app.js:170 "http://" + addr.address
])  # fmt: skip
def test_an_ipv6_host_printed_without_brackets_is_announced_as_a_browser_takes_it(name: str) -> None:
    """--ip=::1 and the like, printed "http://::1:PORT/...": the server is announced on ::1 with the bracketed
    URL, and the forward goes to ::1 alone (the server listens there only, whatever a "127.0.0.1" line says)."""
    entry = next(e for e in INDEX if e["file"] == f"{name}.raw")
    data = (CAPTURES / entry["file"]).read_bytes()
    port = entry["expect"][0]["port"]
    assert f"http://::1:{port}".encode() in data
    lines = list(bytes_to_lines([data]))
    (event,) = [e for e in Detector().feed(lines) if e.event == "announce"]
    assert (event.host, event.port, event.alt_hosts) == ("::1", port, ("::1",))
    assert event.url.startswith(f"http://[::1]:{port}")


# Each tool's option for serving under a base path (behind a proxy), as the captures' commands give it.
BASE_OPTIONS = ("--ServerApp.base_url", "--NotebookApp.base_url", "--Voila.base_url", "--base-url",
                "--server.baseUrlPath", "--path_prefix", "--prefix", "--base")  # fmt: skip


def base_given(command: list[str]) -> str | None:
    """The base path the command line gives the tool, as "/a/b/", if it gives one."""
    for at, arg in enumerate(command):
        option, equals, value = arg.partition("=")
        if option in BASE_OPTIONS:
            return "/" + (value if equals else command[at + 1]).strip("/") + "/"
    return None


BASE_CAPTURES = [e["file"] for e in INDEX if e["expect"] and base_given(e["command"])]


def test_every_tool_with_a_base_path_option_is_captured_with_it() -> None:
    tools = {e["tool"] for e in INDEX if e["file"] in BASE_CAPTURES}
    assert {"jupyterlab", "notebook", "marimo", "streamlit", "voila", "tensorboard", "panel", "vite"} <= tools


@pytest.mark.parametrize("name", BASE_CAPTURES)
def test_base_path_given_is_where_the_probe_goes(name: str) -> None:
    """The probe path goes under the base path the tool was given, whatever the printed URL adds (Jupyter's
    /lab, Panel's app) or leaves out (Streamlit and marimo print the root with no final "/"); at the server's
    own root these tools answer 404 (tests/test_product_e2e_kinds.py runs two of them behind the daemon)."""
    entry = next(e for e in INDEX if e["file"] == name)
    lines = list(bytes_to_lines([(CAPTURES / name).read_bytes()]))
    events = [e for e in Detector().feed(lines) if e.event == "announce"]
    assert events and {e.base_path for e in events} == {base_given(entry["command"])}


def test_restart_with_the_same_token_announces_again() -> None:
    entry = next(e for e in INDEX if e["file"] == "jupyterlab_token_explicit.raw")
    lines = list(bytes_to_lines([(CAPTURES / entry["file"]).read_bytes()]))
    events = Detector().feed(lines + lines)
    assert [e.event for e in events] == ["announce", "shutdown", "announce", "shutdown"]


def test_marker_of_the_original_recipe_when_configured() -> None:
    log = "[I 2026-11-28 03:39:05.553 ServerApp]"
    lines = [f"{log} Serving notebooks from local directory: /home/a", "SOMEMARKER http://127.0.0.1:8888/lab?token=t"]
    assert Detector().feed(lines) == []
    (event,) = Detector(markers=["SOMEMARKER"]).feed(lines)
    assert (event.kind, event.port, event.token) == ("jupyter", 8888, "t")
    assert Detector(markers=["SOMEMARKER"]).feed(["SOMEMARKER file:///tmp/jpserver-1-open.html"]) == []


# -- hostile and negative input ---------------------------------------------------------------------------


def hostile_lines() -> list[str]:
    text = (DATA / "hostile.txt").read_text(encoding="utf-8")
    return [line for line in text.splitlines() if line and not line.startswith("#")]


def test_hostile_corpus_is_big_enough() -> None:
    assert len(hostile_lines()) >= 200


def forwardable(events: list[Event]) -> list[Event]:
    """Announcements with a host a forward may go to. A public name in a server's own layout is announced
    with none (no alt_hosts): the daemon forwards there only within the ssh host's domain or with
    forward_public_hosts (test_engine.py), and never to the login node's loopback instead."""
    announced = [e for e in events if e.event == "announce"]
    assert all(not is_local_looking(e.host) for e in announced if not e.alt_hosts)
    return [e for e in announced if e.alt_hosts]


@pytest.mark.parametrize("line", hostile_lines())
def test_hostile_line_alone_announces_nothing(line: str) -> None:
    assert forwardable(Detector().feed([line])) == []


def test_hostile_lines_after_a_real_banner_announce_nothing() -> None:
    """The worst place for an imitation: right after a genuine Jupyter banner."""
    banner = "[I 2026-11-28 03:39:05.553 ServerApp] Jupyter Server 2.21.1 is running at:"
    for line in hostile_lines():
        detector = Detector()
        assert forwardable(detector.feed([banner, line]) + detector.finish()) == [], line


def test_hostile_file_as_one_stream_announces_nothing() -> None:
    detector = Detector()
    events = detector.feed(hostile_lines()) + detector.finish()
    assert forwardable(events) == []
    # Only the corpus's public names in servers' own layouts ("TensorBoard 2.16.2 at http://evil.example:6006/").
    assert {e.host for e in events if e.event == "announce"} <= {"evil.example", "github.com", "localhost.evil.example"}


def test_hostile_bytes_announce_nothing() -> None:
    events = scan_json(DATA / "hostile_bytes.bin")
    assert [e for e in events if e["event"] == "announce"] == []


NEGATIVE = [
    pytest.param("  Downloading https://files.pythonhosted.org/packages/ab/numpy-2.1.0.whl (18.2 MB)", id="pip"),
    pytest.param("To github.com:alice/project.git", id="git-push"),
    pytest.param("curl -sS http://localhost:8888/api", id="curl-command"),
    pytest.param("    http://localhost:8888/lab?token=abc", id="indented-url-without-banner"),
    pytest.param("[I 2026-11-28 03:39:05.553 ServerApp] http://localhost:8888/lab?token=abc", id="log-url-no-banner"),
    pytest.param("log.txt:12:[I 2026-11-28 ServerApp] http://127.0.0.1:8888/lab?token=x", id="grep-output"),
]


@pytest.mark.parametrize("line", NEGATIVE)
def test_urls_in_unrelated_output_do_not_fire(line: str) -> None:
    assert Detector().feed([line]) == []


SHAPES = [
    pytest.param("http://localhost:8888/lab?token=abc;rm", id="semicolon"),
    pytest.param("http://localhost:8888/lab?token=$(id)", id="command-substitution"),
    pytest.param("http://localhost:8888/lab?token=`id`", id="backticks"),
    pytest.param("http://localhost:8888@evil.example/lab", id="userinfo-trick"),
    pytest.param("http://localhost:88888/lab", id="port-too-big"),
    pytest.param("http://localhost:0/lab", id="port-zero"),
    pytest.param("http://localhost:08888/lab", id="port-leading-zero"),
    pytest.param("http://localhost:/lab", id="no-port"),
    pytest.param("http://localhost:8888/lab?token=abc extra words", id="trailing-text"),
    pytest.param("http://[::1/lab", id="broken-ipv6"),
    pytest.param("http://ｌocalhost:8888/lab", id="fullwidth-letter"),
    pytest.param("http://localhost:８８８８/lab", id="fullwidth-digits"),
    pytest.param("javascript://localhost:8888/%0aalert(1)", id="javascript-scheme"),
]


@pytest.mark.parametrize("url", SHAPES)
def test_malformed_urls_after_a_real_banner_do_not_fire(url: str) -> None:
    banner = "[I 2026-11-28 03:39:05.553 ServerApp] Jupyter Server 2.21.1 is running at:"
    assert Detector().feed([banner, f"[I 2026-11-28 03:39:05.553 ServerApp] {url}"]) == []


@pytest.mark.parametrize(("url", "host", "path"), [
    # JupyterHub leaves "@" unescaped in /user/NAME/ (url_escape_path, safe='@~'): a hub naming users by e-mail
    ("http://localhost:8888/user/ana@example.org/lab?token=abc", "localhost", "/user/ana@example.org/lab"),
    ("http://node_07:8888/lab?token=abc", "node_07", "/lab"),  # a machine's own name with "_" in it
])
def test_an_at_sign_in_the_path_and_an_underscore_in_a_name_are_read(url: str, host: str, path: str) -> None:
    banner = "[I 2026-11-28 03:39:05.553 ServerApp] Jupyter Server 2.21.1 is running at:"
    detector = Detector()
    (event,) = detector.feed([banner, f"[I 2026-11-28 03:39:05.553 ServerApp] {url}"]) + detector.finish()
    assert (event.host, event.port, event.path, event.token) == (host, 8888, path, "abc")


@pytest.mark.parametrize("entry", [e for e in INDEX if e["expect"] or e.get("listing")], ids=lambda e: e["file"])
def test_daemon_mode_finds_the_same_events_without_line_numbers(entry: dict[str, Any]) -> None:
    """The engine's detector skips numbering lines (a whole pass over the text); nothing else may differ."""
    lines = list(bytes_to_lines([(CAPTURES / entry["file"]).read_bytes()]))
    numbered = Detector()
    unnumbered = Detector(number_lines=False)
    expected = [replace(e, line=0) for e in numbered.feed(lines) + numbered.finish()]
    assert unnumbered.feed(lines) + unnumbered.finish() == expected


def test_line_numbers_do_not_depend_on_how_the_output_is_batched() -> None:
    """Every event's line number names the line it was found on, whether the lines come one at a time,
    in batches with their line count (as scan gives them, counted from either end of the batch) or as
    one text without a count: every capture, one after another (listings' `--jsonlist` objects span lines),
    each announcement's line holding its port."""
    lines = [line for entry in INDEX for line in bytes_to_lines([(CAPTURES / entry["file"]).read_bytes()])]

    def numbered(batch_lines: int, with_count: bool) -> list[Event]:
        detector = Detector()
        events = []
        for at in range(0, len(lines), batch_lines):
            batch = lines[at : at + batch_lines]
            events += detector.feed_text("\n".join(batch), len(batch) if with_count else None)
        return events + detector.finish()

    one_at_a_time = numbered(1, True)
    assert len(one_at_a_time) > len(INDEX)
    for event in one_at_a_time:
        if event.event == "announce":
            assert f":{event.port}" in lines[event.line - 1]
    for batch_lines, with_count in ((7, True), (300, True), (4096, True), (300, False), (len(lines), False)):
        assert numbered(batch_lines, with_count) == one_at_a_time, (batch_lines, with_count)


NEGATIVES = sorted((DATA / "negative").glob("*.raw"))


def test_negative_corpus_covers_the_listed_sources() -> None:
    names = {path.stem for path in NEGATIVES}
    assert {"pip_download", "git_clone_local", "curl_verbose", "apt_policy", "pip_help", "http_client_log",
            "traceback_quoting_banner", "git_diff_grown_logs", "git_diff_grown_logs_u10", "grep_logs_context",
            "ssh_v_local_forward", "readme_rendered_rich", "jupyter_server_port_busy"} <= names  # fmt: skip
    listed = json.loads((DATA / "negative" / "index.json").read_text())
    assert sorted(entry["file"] for entry in listed) == sorted(path.name for path in NEGATIVES)  # each with its command


@pytest.mark.parametrize("path", NEGATIVES, ids=lambda p: p.stem)
def test_real_output_that_mentions_urls_announces_nothing(path: Path) -> None:
    """Recorded by tools/capture_negatives.py from the real commands (pip, git, curl, apt, ...)."""
    assert scan_json(path) == []


def test_captures_shown_as_diff_context_announce_nothing() -> None:
    """`git diff` / `diff -u` of a server's log show its unchanged lines behind one blank: no tool prints its
    start lines so (each layout's indent is the tool's own), so none of the captured starts may fire there.
    tests/data/negative/git_diff_grown_logs*.raw are real such diffs of a few of these logs."""
    fired: dict[str, int] = {}
    for entry in INDEX:
        detector = Detector()
        lines = [" " + line for line in bytes_to_lines([(CAPTURES / entry["file"]).read_bytes()])]
        for event in detector.feed(lines) + detector.finish():
            fired[event.kind] = fired.get(event.kind, 0) + 1
    assert fired == {}


WORST_CASES = [
    pytest.param(b"http://a:1 ::" * 5000 + b"\n", id="64KiB-of-listing-lookalikes"),
    pytest.param(b"\r" * 2_000_000 + b"http://127.0.0.1:8888/lab?token=x\n", id="bare-CR-stream"),
    pytest.param(b"://a:1/" * 10_000 + b" x\n", id="run-of-failing-candidates"),
    pytest.param(b'    "url": "http://localhost:1/",\n' * 2000, id="jsonlist-lookalikes"),
    pytest.param(b"x" * 200_000 + b"\n", id="endless-line"),
    pytest.param(b"Started a local Ray instance. View the dashboard at 127.0.0.1:1 " * 1000 + b"\n", id="address-cues"),
]


@pytest.mark.parametrize("data", WORST_CASES)
def test_hostile_worst_cases_announce_nothing(data: bytes) -> None:
    """The inputs benchmarks/bench_scan.py times for worst_case_ratio; here only what they produce."""
    detector = Detector()
    assert [e for e in detector.feed(list(bytes_to_lines([data]))) + detector.finish() if e.event == "announce"] == []


def test_server_after_a_truncated_line_is_still_found() -> None:
    banner = "[I 2026-11-28 03:39:05.553 ServerApp] Jupyter Server 2.21.1 is running at:"
    data = ("x" * 100_000 + "\n" + banner + "\n[I 2026-11-28 03:39:05.553 ServerApp] http://127.0.0.1:8888/lab?token=t\n")
    lines = list(bytes_to_lines([data.encode()]))
    assert lines[0].endswith("[line truncated]")
    (event,) = Detector().feed(lines)
    assert (event.kind, event.port, event.token) == ("jupyter", 8888, "t")


def test_jsonlist_cut_by_a_batch_end_is_completed_from_the_next_batch() -> None:
    entry = next(e for e in INDEX if e["file"] == "jupyter_server_list_jsonlist.raw")
    lines = list(bytes_to_lines([(CAPTURES / entry["file"]).read_bytes()]))
    for cut in range(1, len(lines)):
        detector = Detector()
        events = detector.feed(lines[:cut]) + detector.feed(lines[cut:])
        assert len([e for e in events if e.event == "listing"]) == entry["listing"], cut


def test_old_tensorboard_names_the_machine_and_is_tried_there_first() -> None:
    """TensorFlow 1.2.1's TensorBoard, captured on Python 3.6 without --host: "Starting TensorBoard b'NN' at
    http://HOSTNAME:PORT" (the form issue 13 quotes), "(Press CTRL+C to quit)" on the next line."""
    entry = next(e for e in INDEX if e["file"] == "tensorboard_tf1_2_sigterm.raw")
    lines = list(bytes_to_lines([(CAPTURES / entry["file"]).read_bytes()]))
    assert lines[0].startswith("Starting TensorBoard b'") and lines[1] == "(Press CTRL+C to quit)"
    (event,) = Detector().feed(lines)
    printed = entry["expect"][0]["url"].split("//")[1].split(":")[0]
    assert (event.kind, event.host, event.port) == ("tensorboard", printed, entry["expect"][0]["port"])
    assert event.alt_hosts == (printed, "127.0.0.1")
