"""A server that prints only a name that does not look local: TensorBoard under --bind_all prints
socket.getfqdn() (tensorboard 2.21.0 program.py:860), on a cluster the compute node's full name. Captured in a
UTS and mount namespace named node042.hpc.example.edu (tensorboard_bind_all_fqdn.raw, tools/capture.py).

The detector announces it with no host to forward to (empty alt_hosts): whether the name is a target depends on
the ssh host's domain and the config, which the daemon knows and scan does not (test_engine.py). A name no
forward may ever go to (link-local, cloud metadata, a number inet_aton reads as an address) is not announced.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from iterm2_autolaunch.cli import main, scan_stream
from iterm2_autolaunch.detect import Detector
from tests.test_detect_old_dask import announced, lines_of

CAPTURES = Path(__file__).parent / "data" / "captures"
INDEX: dict[str, dict[str, Any]] = {e["file"]: e for e in json.loads((CAPTURES / "index.json").read_text())}
FQDN = "tensorboard_bind_all_fqdn.raw"
NODE = "node042.hpc.example.edu"


@pytest.mark.parametrize("batch", [1, 1000])
def test_a_full_name_alone_is_announced_with_no_host_to_forward_to(batch: int) -> None:
    lines = lines_of(FQDN)
    (event,) = announced(lines, batch)
    (expected,) = INDEX[FQDN]["expect"]
    assert (event.kind, event.url, event.host, event.port) == ("tensorboard", expected["url"], NODE, expected["port"])
    assert event.alt_hosts == () and event.printed_hosts == (NODE,)
    assert f"TensorBoard 2.21.0 at http://{NODE}:" in lines[event.line - 1]


def test_scan_json_says_so_with_empty_alt_hosts() -> None:
    with open(CAPTURES / FQDN, "rb") as stream:
        (event,) = [e.to_json() for e in scan_stream(stream)]
    assert event["host"] == NODE and event["alt_hosts"] == []


@pytest.mark.parametrize("host", ["169.254.169.254", "metadata.google.internal", "2852039166", "metadata"])
def test_a_name_no_forward_may_go_to_is_not_announced(host: str) -> None:
    lines = [line.replace(NODE, host) for line in lines_of(FQDN)]
    assert announced(lines) == []


def test_the_same_line_with_a_short_name_has_the_node_then_loopback() -> None:
    """The short name (a gethostname() that is not a full name) is local to the remote: tried first."""
    (event,) = announced([line.replace(NODE, "node042") for line in lines_of(FQDN)])
    assert event.alt_hosts == ("node042", "127.0.0.1")


def test_scan_says_where_the_daemon_would_forward_it(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["scan", str(CAPTURES / FQDN)]) == 0
    (line,) = capsys.readouterr().out.splitlines()
    assert line.endswith(f"announce tensorboard http://{NODE}:{INDEX[FQDN]['expect'][0]['port']}/ (a public name: "
                         "forwarded within the ssh host's domain or with forward_public_hosts)")


@pytest.mark.parametrize(("host", "alt_hosts"), [("localhost", ("localhost", "::1")), (NODE, ()),
                                                 ("node042", ("node042", "127.0.0.1"))])
def test_a_listed_server_offers_the_same_hosts_as_an_announced_one(host: str, alt_hosts: tuple[str, ...]) -> None:
    """`jupyter server list` (jupyter_server_list.raw) with its host changed: a listing's hosts follow the same
    rules (the daemon forwards a listed public name only where it would forward an announced one)."""
    lines = [line.replace("localhost", host) for line in lines_of("jupyter_server_list.raw")]
    detector = Detector()
    listings = [e for e in detector.feed(lines) + detector.finish() if e.event == "listing"]
    assert listings and {(e.host, e.alt_hosts) for e in listings} == {(host, alt_hosts)}
