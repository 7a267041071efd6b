"""A browser command for tests and the demo: Debian's headless Chromium renders the URL it is given.

Usage: ``python tests/headless_browser.py OUTDIR URL`` (the daemon appends URL to the configured argv).
Writes OUTDIR/url.txt (the URL as received: the daemon's redirect page, so the test can check it holds no
token) and OUTDIR/target.txt (where that page sends the browser), OUTDIR/dom.html (the rendered DOM,
after JavaScript ran) and OUTDIR/screenshot.png, then OUTDIR/done (last, so waiting on it is safe).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script by the daemon
from tests.browser_pages import page_target  # noqa: E402

# Flags measured on this machine kind (TUNNEL_NOTES): no sandbox as root, no GPU, no network chatter.
BASE_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]
# --virtual-time-budget lets JupyterLab's JavaScript run before the DOM dump and the screenshot.
CHROMIUM_FLAGS = [*BASE_FLAGS, "--virtual-time-budget=15000", "--window-size=1280,800"]


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    raise SystemExit("headless_browser: no chromium found (apt-get install chromium)")


def render(url: str, outdir: Path) -> None:
    outdir.mkdir(parents=True, exist_ok=True)
    (outdir / "url.txt").write_text(url)
    if url.startswith("file:"):
        (outdir / "target.txt").write_text(page_target(url))
    with tempfile.TemporaryDirectory(prefix="ita-chromium-") as profile:
        base = [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}"]
        # Chromium's --dump-dom and --screenshot can race a redirect (the page being left, or nothing), so both
        # are taken of where the page leads; that Chromium follows the page is tests/test_browser.py's to show.
        target = (outdir / "target.txt").read_text() if url.startswith("file:") else url
        dom = subprocess.run([*base, "--dump-dom", target], capture_output=True, text=True, timeout=120, check=False)
        (outdir / "dom.html").write_text(dom.stdout)
        (outdir / "chromium.log").write_text(dom.stderr[-20000:])
        subprocess.run(
            [*base, f"--screenshot={outdir / 'screenshot.png'}", target], capture_output=True, timeout=120, check=False
        )
    (outdir / "done").write_text("ok\n")


if __name__ == "__main__":
    render(sys.argv[2], Path(sys.argv[1]))
