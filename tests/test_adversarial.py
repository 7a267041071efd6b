"""The adversarial corpus (tests/data/adversarial, made by tools/make_adversarial.py) through the detector and
through the whole daemon, as iTerm2 would show it: 0 shells, 0 hosts chosen by printed text, 0 opens, 0 crashes.

The daemon runs as a process against the fake iTerm2 (tests/fake_iterm2), with a browser that writes down every
URL it is given and an ``ssh`` first on PATH that writes down every argv and answers ``-G`` for the one host the
session's own command line names. A watcher lists every child process the daemon starts.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from iterm2_autolaunch.detect import Detector
from iterm2_autolaunch.lines import LineAssembler
from tests.daemon_harness import daemon_on_fake

DATA = Path(__file__).resolve().parent / "data" / "adversarial"
CORPUS = (DATA / "corpus.bin").read_bytes()
MANIFEST = json.loads((DATA / "manifest.json").read_text())
DAEMON = [sys.executable, "-m", "iterm2_autolaunch", "daemon"]
HOSTILE_NAMES = ("evil", "169.254", "metadata", "attacker", "nip.io", "100.100.100.200")

# Answers `ssh -G` for the session's own host with a port nothing listens on; logs every call.
FAKE_SSH = """#!{python}
import json, sys
with open({log!r}, "a") as log:
    log.write(json.dumps(sys.argv[1:]) + "\\n")
if "-G" in sys.argv:
    print("hostname 127.0.0.1\\nport 9\\nuser nobody\\nuserknownhostsfile /dev/null\\nstricthostkeychecking yes")
    sys.exit(0)
sys.exit(255)
"""


def test_the_corpus_is_big_and_covers_every_category() -> None:
    assert MANIFEST["lines"] >= 10_000 and CORPUS.count(b"\n") == MANIFEST["lines"]
    assert set(MANIFEST["categories"]) == {
        "escape_tricks", "overlong_lines", "bare_carriage_returns", "nuls_and_invalid_utf8", "banner_look_alikes",
        "url_injection_into_a_real_banner",
    }  # fmt: skip
    assert all(count > 100 for count in MANIFEST["categories"].values())


@pytest.mark.parametrize("chunk", [1, 4096, len(CORPUS)], ids=["byte-by-byte", "4k", "whole"])
def test_the_detector_reads_the_corpus_the_same_in_any_chunks(chunk: int) -> None:
    """No crash, and the same few events however the bytes arrive. What it may still report are banner-shaped
    blocks (the corpus quotes real banners and listings); whether a host is ever connected to is decided later
    and tested through the daemon below."""
    data = CORPUS if chunk != 1 else CORPUS[:300_000]  # byte by byte: the first 300 KB
    assembler, detector = LineAssembler(), Detector(number_lines=False)
    events = []
    for start in range(0, len(data), chunk):
        events += detector.feed(assembler.feed(data[start : start + chunk]))
    events += detector.feed(assembler.finish())
    assert len(events) <= 0.01 * data.count(b"\n")
    if chunk != 1:
        whole = Detector(number_lines=False).feed(LineAssembler().feed(CORPUS) + LineAssembler().finish())
        assert [(e.event, e.host, e.port, e.token) for e in events] == [(e.event, e.host, e.port, e.token)
                                                                        for e in whole]


@pytest.fixture
def home() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(dir="/tmp"))  # short: the iTerm2 socket path must fit in 108 bytes
    yield path
    shutil.rmtree(path, ignore_errors=True)


class ChildWatcher:
    """Every process whose parent is ``pid``, seen by polling /proc (argv and name), until stopped."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.seen: dict[int, list[str]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.005):
            for entry in Path("/proc").iterdir():
                if not entry.name.isdigit() or int(entry.name) in self.seen:
                    continue
                try:
                    status = (entry / "status").read_text()
                    argv = (entry / "cmdline").read_bytes().decode(errors="replace").split("\0")
                except OSError:
                    continue
                if f"\nPPid:\t{self.pid}\n" in status:
                    # A child that has exited already (a zombie) has an empty cmdline: its name is in status.
                    name = status.split("\n", 1)[0].removeprefix("Name:\t")
                    self.seen[int(entry.name)] = [a for a in argv if a] or [name]

    def stop(self) -> list[list[str]]:
        self._stop.set()
        self._thread.join(2)
        return list(self.seen.values())


@pytest.mark.slow
@pytest.mark.parametrize(
    "variables",
    [
        pytest.param({"jobName": "zsh", "commandLine": "-zsh"}, id="local-tab"),
        pytest.param({"jobName": "ssh", "commandLine": "ssh wheeler"}, id="ssh-tab"),
    ],
)
def test_the_corpus_through_the_daemon(home: Path, monkeypatch: pytest.MonkeyPatch, variables: dict[str, str]) -> None:
    bin_dir = home / "bin"
    bin_dir.mkdir()
    ssh_log = home / "ssh.log"
    fake_ssh = bin_dir / "ssh"
    fake_ssh.write_text(FAKE_SSH.format(python=sys.executable, log=str(ssh_log)))
    fake_ssh.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    with daemon_on_fake(home, DAEMON, sys.executable, variables=variables) as run:
        watcher = ChildWatcher(run.process.pid)
        for start in range(0, len(CORPUS), 4096):
            run.session.write(CORPUS[start : start + 4096])
        deadline_reads = run.session.screen_reads + 3
        while run.session.screen_reads < deadline_reads and run.process.poll() is None:
            threading.Event().wait(0.1)
        if variables["jobName"] == "ssh":  # its resolve (ssh -G) comes later on a loaded machine: wait for it
            resolved_by = time.monotonic() + 60
            while not ssh_log.exists() and time.monotonic() < resolved_by and run.process.poll() is None:
                threading.Event().wait(0.1)
        threading.Event().wait(2.0)  # let any start it made run its course (resolve, login, probe)
        assert run.process.poll() is None, "the daemon died"
        children = watcher.stop()
    assert not run.opened_file.exists(), f"the daemon opened {run.opened_file.read_text()!r}"
    # No error of ours; the iterm2 library itself prints a traceback for the dropped connection when iTerm2 "quits"
    tracebacks = run.output[0].split("Traceback (most recent call last):")[1:]
    assert not [block for block in tracebacks if "/iterm2_autolaunch/" in block.split("\n\n")[0]]
    assert "the connection to iTerm2 closed" in run.output[0]
    calls = [json.loads(line) for line in ssh_log.read_text().splitlines()] if ssh_log.exists() else []
    for argv in calls:  # ssh asked only about the host the user typed, never one the corpus printed
        assert argv[-1] == "wheeler" and all(name not in " ".join(argv) for name in HOSTILE_NAMES), argv
    if variables["jobName"] == "zsh":
        assert calls == []  # a local tab: printed OSC 1337 SetUserVar=sshHost / RemoteHost named no host to use
    else:
        assert calls, "the ssh tab's banners should have been resolved (through ssh -G wheeler)"
    for argv in children:  # the only programs started: ssh (for -G) or python running that ssh; never a shell
        assert os.path.basename(argv[0]) in ("ssh", os.path.basename(sys.executable)), argv
        assert os.path.basename(argv[0]) not in ("sh", "bash", "dash", "zsh")
