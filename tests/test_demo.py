"""``make demo`` (tools/demo.py) end to end, as CI runs it: a PNG of JupyterLab rendered through the forward."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import require

DEMO = Path(__file__).resolve().parent.parent / "tools" / "demo.py"


@pytest.fixture
def out() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(dir="/tmp", prefix="demo-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.mark.root
@pytest.mark.slow
def test_demo_leaves_a_screenshot_of_jupyterlab(out: Path) -> None:
    require(shutil.which("chromium") is not None, "needs chromium (apt-get install chromium)")
    require(shutil.which("ip") is not None and Path("/usr/sbin/sshd").exists(), "needs iproute2 and openssh-server")
    proc = subprocess.Popen(
        # Not 8888: the local forward takes the remote's port number, and other tests want 8888 untouched.
        [sys.executable, str(DEMO), "--out", str(out), "--jupyter-port", "8904"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        output, _ = proc.communicate(timeout=240)
    finally:
        if proc.poll() is None:
            proc.terminate()  # the demo tears down on SIGTERM too
            proc.communicate(timeout=30)
    assert proc.returncode == 0, output
    png = (out / "demo-jupyterlab.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and png[12:16] == b"IHDR"
    assert (int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")) == (1280, 800)
    assert 10_000 < len(png) < 20_000_000
    assert "<title>JupyterLab</title>" in (out / "demo-jupyterlab.html").read_text(errors="replace")
    assert f"screenshot of JupyterLab: {out / 'demo-jupyterlab.png'}" in output
    # Torn down: nothing of the demo's remote host is left (its names carry the demo's pid).
    namespaces = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=True).stdout
    assert f"ita-{proc.pid}-" not in namespaces
    assert not list(Path("/tmp").glob(f"ita-rh-{proc.pid}-*"))
    transcript = (out / "demo-session.txt").read_text()
    assert "forward closed" in transcript and "token=…" in transcript
    assert not re.search(r"token=[0-9a-f]", transcript), "the transcript shows a token"
