"""The iTerm2 daemon as a process (``iterm2-autolaunch daemon``) against the fake iTerm2: the invisible
marker, and one daemon per user."""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.daemon_harness import daemon_on_fake
from tests.fake_jupyter import local_jupyter

DAEMON = [sys.executable, "-m", "iterm2_autolaunch", "daemon"]


@pytest.fixture
def home() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(dir="/tmp"))  # short: the iTerm2 socket path must fit in 108 bytes
    yield path
    shutil.rmtree(path, ignore_errors=True)


def marker(identity: str, url: str) -> bytes:
    """What Jupyter prints with the `remote-config` line: OSC 1337 ; Custom=id=<identity>:<url> BEL."""
    return f"\x1b]1337;Custom=id={identity}:{url}\x07".encode()


def test_invisible_marker_opens_the_server_and_a_forged_one_does_not(home: Path) -> None:
    identity = secrets.token_urlsafe(24)
    config = f'marker_identity = "{identity}"\n'
    with local_jupyter() as port, daemon_on_fake(home, DAEMON, sys.executable, config) as run:
        run.session.write(marker("forged-identity-0123456789", f"http://127.0.0.1:{port}/lab?token=forged"))
        run.session.write(marker(identity, f"http://127.0.0.1:{port}/lab?token=real"))
        assert run.wait_opened() == f"http://localhost:{port}/lab?token=real"
    assert "token=real" not in run.output[0] and "token=forged" not in run.output[0]


def test_a_second_daemon_is_refused(home: Path) -> None:
    with daemon_on_fake(home, DAEMON, sys.executable) as run:
        env = {**os.environ, "HOME": str(home), "ITERM2_COOKIE": run.fake.issue_cookie(),
               "XDG_CONFIG_HOME": str(home / "xdg"), "XDG_RUNTIME_DIR": str(home / "run")}
        result = subprocess.run(DAEMON, env=env, capture_output=True, text=True, timeout=60)
        assert result.returncode == 1
        assert "another iterm2-autolaunch daemon is already running" in result.stderr


def test_the_daemon_opens_the_notebook_in_an_iterm2_pane_beside_its_session_and_list_says_so(home: Path) -> None:
    """The real daemon process, a real (local) Jupyter, `[browsers] jupyter = "iterm2-split"`: the page loads
    in a browser pane split from the session (fake iTerm2, tests/fake_iterm2/browser.py), the system browser
    opens nothing, and `iterm2-autolaunch list` names the pane."""
    from tests.test_engine import jupyter_start

    config = '[browsers]\njupyter = "iterm2-split"\n'
    with local_jupyter() as port, daemon_on_fake(home, DAEMON, sys.executable, config) as run:
        run.session.write("".join(line + "\r\n" for line in jupyter_start(port=port, token="real")))
        fake = run.fake
        fake.call(fake.wait_for(lambda: any(s.loaded_urls for s in fake.sessions()), timeout=60))
        [pane] = [s for s in fake.sessions() if s.browser]
        assert pane.loaded_urls == [f"http://localhost:{port}/lab?token=real"]
        assert pane.split_from == (run.session.session_id, True, False)
        env = {**os.environ, "HOME": str(home), "XDG_RUNTIME_DIR": str(home / "run")}
        listing = subprocess.run([sys.executable, "-m", "iterm2_autolaunch", "list"], env=env, capture_output=True,
                                 text=True, timeout=60)
        assert f"(in iterm2-split pane {pane.session_id})" in listing.stdout, listing
        assert "token=real" not in listing.stdout
        assert not run.opened_file.exists(), "the system browser opened it too"
    assert "token=real" not in run.output[0]
