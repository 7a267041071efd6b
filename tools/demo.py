#!/usr/bin/env python3
"""``make demo``: the whole product on a Linux machine, as root, without iTerm2 and without a Mac.

1. builds the test remote host (tests/remote_host.py): a network namespace with its own sshd;
2. runs ``iterm2-autolaunch run -- ssh -F <its ssh_config> -tt remote '... jupyter lab ...'`` in a pty, as if
   typed in a terminal; JupyterLab starts on the remote's own 127.0.0.1:8888, reachable only through SSH;
3. the wrapper sees Jupyter's start line, opens a forward on a free local port, probes it and opens the
   browser, configured as this script's ``browse`` mode: headless Chromium takes a screenshot of JupyterLab
   through the forward (and saves its DOM);
4. Ctrl-C, y stops Jupyter; everything is torn down (namespace, sshd, forward), pass or fail.

The screenshot is left at ``OUT/demo-jupyterlab.png`` (default OUT: ``artifacts/``), next to the rendered DOM
(``demo-jupyterlab.html``) and the session transcript with tokens hidden (``demo-session.txt``).

    python tools/demo.py [--out DIR]
    python tools/demo.py browse DIR URL      # the browser command the wrapper runs (URL appended)
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shlex
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from iterm2_autolaunch.lines import bytes_to_lines  # noqa: E402
from iterm2_autolaunch.redact import redact  # noqa: E402
from tests.browser_pages import page_target  # noqa: E402
from tests.headless_browser import BASE_FLAGS as CHROMIUM_FLAGS  # noqa: E402

SCREENSHOT = "demo-jupyterlab.png"
DOM = "demo-jupyterlab.html"
TRANSCRIPT = "demo-session.txt"
BROWSER_DONE = "browser-done.json"
JUPYTER_PORT = 8888  # the remote port; the forward keeps the same number locally when it is free
BROWSER_TIMEOUT = 150.0  # Jupyter start + forward + two Chromium runs, on a slow machine



def say(message: str) -> None:
    print(f"demo: {message}", flush=True)


# ------------------------------------------------------------------------------------- the browser side


def chromium(args: list[str], log: Path, timeout: float) -> subprocess.CompletedProcess[bytes]:
    binary = shutil.which("chromium") or shutil.which("chromium-browser") or "chromium"
    profile = tempfile.mkdtemp(dir="/tmp", prefix="demo-chromium-")
    try:
        with open(log, "ab") as errors:
            return subprocess.run(
                [binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=errors,
                timeout=timeout,
                check=False,
            )
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def browse(out: Path, url: str) -> int:
    """The configured browser: a screenshot and the DOM of ``url`` (our forward), by headless Chromium."""
    log = out / "chromium.log"
    # The daemon hands over a redirect page (no token in any argv); show where it leads, token hidden.
    target = page_target(url) if url.startswith("file:") else url
    result: dict[str, object] = {"url": redact(target)}
    try:
        shot = chromium(
            ["--virtual-time-budget=5000", f"--screenshot={out / SCREENSHOT}", "--window-size=1280,800", target],
            log,
            90,
        )
        result["screenshot_status"] = shot.returncode
        # --dump-dom and --screenshot can race the page's redirect: both are taken of where it leads
        dom = chromium(["--virtual-time-budget=5000", "--dump-dom", target], log, 60)
        (out / DOM).write_bytes(dom.stdout)
        result["dom_status"] = dom.returncode
    except (OSError, subprocess.TimeoutExpired) as error:
        result["error"] = str(error)
    (out / BROWSER_DONE).write_text(json.dumps(result))
    return 0


# --------------------------------------------------------------------------------------- the demo itself


def png_size(path: Path) -> tuple[int, int] | None:
    """(width, height) of a PNG file, or None when it is not one."""
    head = path.read_bytes()[:24] if path.exists() else b""
    if len(head) < 24 or head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
        return None
    width, height = struct.unpack(">II", head[16:24])
    return width, height


def check_outputs(out: Path) -> list[str]:
    """What is wrong with the demo's results (nothing: [])."""
    problems = []
    size = png_size(out / SCREENSHOT)
    if size is None:
        problems.append(f"{out / SCREENSHOT} is missing or not a PNG")
    elif size != (1280, 800) or (out / SCREENSHOT).stat().st_size < 10_000:
        problems.append(f"{out / SCREENSHOT} is {size[0]}x{size[1]}, {(out / SCREENSHOT).stat().st_size} bytes")
    dom = (out / DOM).read_text(errors="replace") if (out / DOM).exists() else ""
    if "<title>JupyterLab</title>" not in dom:
        problems.append(f"{out / DOM} has no <title>JupyterLab</title>")
    return problems


def run_demo(out: Path, jupyter_port: int = JUPYTER_PORT) -> int:
    from tests.pty_session import PtySession
    from tests.remote_host import RemoteHost

    if os.geteuid() != 0:
        say("needs root (network namespaces, sshd): run it as root, e.g. sudo make demo")
        return 2
    missing = [tool for tool in ("ssh", "ip") if shutil.which(tool) is None]
    if not (shutil.which("chromium") or shutil.which("chromium-browser")):
        missing.append("chromium")
    if missing:
        say(f"missing {', '.join(missing)}: run tools/setup-test-machine (make setup) first")
        return 2
    out.mkdir(parents=True, exist_ok=True)
    for name in (SCREENSHOT, DOM, TRANSCRIPT, BROWSER_DONE, "chromium.log"):
        with contextlib.suppress(FileNotFoundError):
            (out / name).unlink()
    # The name follows remote_host's convention, so that a killed demo is cleaned up by the next run.
    work = Path(tempfile.mkdtemp(prefix=f"ita-rh-{os.getpid()}-", dir="/tmp"))
    term: PtySession | None = None
    started = time.monotonic()
    try:
        say("building the test remote host (network namespace, sshd) ...")
        host = RemoteHost.up(work, jupyter=False)
        try:
            say(f"remote host up at {host.addr}; JupyterLab will listen on its own 127.0.0.1:{jupyter_port} only")
            remote_command, env = _prepare(host, work, out, jupyter_port)
            argv = ["ssh", *host.ssh_args("-tt"), "remote", remote_command]
            say(f"running: iterm2-autolaunch run -- {shlex.join(argv)}")
            wrapper = [sys.executable, "-m", "iterm2_autolaunch", "run", "--", *argv]
            term = PtySession(wrapper, env=env, rows=40, columns=160)
            done = out / BROWSER_DONE
            deadline = time.monotonic() + BROWSER_TIMEOUT
            while not done.exists():
                if term.proc.poll() is not None or time.monotonic() > deadline:
                    say("the browser was not opened; the session said:\n" + _transcript(term.output())[-3000:])
                    return 1
                time.sleep(0.1)
            result = json.loads(done.read_text())
            say(f"the wrapper opened {result['url']}; headless Chromium rendered it through the forward")
            say("Ctrl-C, y: stopping Jupyter")
            term.send(b"\x03")
            with contextlib.suppress(AssertionError):
                term.expect(rb"\(y/\[n\]\)\? ", timeout=15)
                term.send(b"y\r")
            with contextlib.suppress(subprocess.TimeoutExpired):
                term.wait(30)
        finally:
            if term is not None:
                term.close()
                (out / TRANSCRIPT).write_text(_transcript(term.output()))
            say("tearing down the test remote host")
            host.down()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    problems = check_outputs(out)
    for problem in problems:
        say(f"FAILED: {problem}")
    if problems:
        return 1
    size = (out / SCREENSHOT).stat().st_size
    say(f"screenshot of JupyterLab: {out / SCREENSHOT} (1280x800, {size} bytes), in {time.monotonic() - started:.0f} s")
    return 0


def _prepare(host: object, work: Path, out: Path, jupyter_port: int) -> tuple[str, dict[str, str]]:
    """The remote command (``jupyter lab`` with its own dirs) and the wrapper's environment and config."""
    from tests.remote_host import RemoteHost

    assert isinstance(host, RemoteHost)
    jhome = work / "jhome"
    remote_env = {
        "HOME": str(jhome),
        "PATH": f"{Path(sys.executable).parent}:/usr/local/bin:/usr/bin:/bin",
        "JUPYTER_CONFIG_DIR": str(jhome / "config"),
        "JUPYTER_DATA_DIR": str(jhome / "data"),
        "JUPYTER_RUNTIME_DIR": str(jhome / "runtime"),
        "JUPYTER_PLATFORM_DIRS": "1",
        "LANG": "C.UTF-8",
    }
    for key in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR"):
        Path(remote_env[key]).mkdir(parents=True, exist_ok=True)
    jupyter = [
        "jupyter", "lab", "--no-browser", "--allow-root", "--ip=127.0.0.1", f"--port={jupyter_port}",
        "--ServerApp.port_retries=0",
    ]
    remote_command = (
        f"cd {shlex.quote(str(host.jupyter_root))} && "
        + shlex.join(["env", *(f"{key}={value}" for key, value in remote_env.items()), *jupyter])
    )
    config_dir = work / "xdg" / "iterm2-autolaunch"
    config_dir.mkdir(parents=True)
    browser = [sys.executable, str(Path(__file__).resolve()), "browse", str(out.resolve())]
    (config_dir / "config.toml").write_text(f"browser = {json.dumps(browser)}\n")
    (work / "home").mkdir()
    env = {key: value for key, value in os.environ.items() if key not in ("BROWSER", "SSH_AUTH_SOCK", "DISPLAY")}
    env.update(XDG_CONFIG_HOME=str(work / "xdg"), HOME=str(work / "home"), TERM="xterm", LANG="C.UTF-8")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH", "")]))
    return remote_command, env


def _transcript(output: bytes) -> str:
    """The session as lines of text, tokens hidden."""
    return "".join(redact(line) + "\n" for line in bytes_to_lines([output]))


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["browse"]:
        if len(args) != 3:
            print("usage: demo.py browse DIR URL", file=sys.stderr)
            return 2
        return browse(Path(args[1]), args[2])
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=REPO / "artifacts", help="where the screenshot goes")
    parser.add_argument("--jupyter-port", type=int, default=JUPYTER_PORT, help="Jupyter's port on the remote")
    options = parser.parse_args(args)
    # SIGTERM (a CI timeout, kill) unwinds like Ctrl-C, through the teardown in run_demo's finally blocks.
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        return run_demo(options.out, options.jupyter_port)
    except KeyboardInterrupt:
        say("interrupted; torn down")
        return 130


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


if __name__ == "__main__":
    sys.exit(main())
