#!/usr/bin/env python3
"""Record real output that mentions URLs but announces no server, into tests/data/negative/.

Each command runs under a pseudo-terminal (tools/capture.PtyProcess) with a loopback HTTP server
(``python -m http.server``) for the clients to talk to; nothing leaves the machine except what the
package tools fetch from their registries. ``index.json`` lists each file's command.

Usage: python tools/capture_negatives.py [--out tests/data/negative]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from capture import PtyProcess, free_port  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
PY = sys.executable
JUPYTER = str(Path(PY).parent / "jupyter")  # the running venv's JupyterLab


def version_of(program: str) -> str:
    """The first line the program prints about its own version, for the index."""
    argv = [JUPYTER, "lab", "--version"] if program == JUPYTER else [program, "--version"]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    return (done.stdout or done.stderr).strip().splitlines()[0]

TRACEBACK = """\
def start():
    raise RuntimeError(
        "[I 2026-11-28 03:39:05.553 ServerApp] Jupyter Server 2.21.1 is running at:\\n"
        "[I 2026-11-28 03:39:05.553 ServerApp] http://localhost:8888/lab?token=abc\\n"
        "Jupyter Server 2.21.1 is running at:\\n    http://127.0.0.1:8888/lab?token=abc"
    )
start()
"""
HTTP_CLIENT = """\
import logging, sys, urllib.request, http.client
http.client.HTTPConnection.debuglevel = 1
logging.basicConfig(level=logging.DEBUG, format="%(asctime)s %(name)s %(levelname)s %(message)s")
url = sys.argv[1]
logging.getLogger("client").info("fetching %s", url)
with urllib.request.urlopen(url) as r:
    logging.getLogger("client").info("GET %s -> %d", url, r.status)
    print("    " + url)
    logging.getLogger("client").info("done: %s :: ok", url)
"""
# requests' own debug logging (urllib3 names host:port and logs each request line).
REQUESTS_DEBUG = """\
import logging, sys
import requests
logging.basicConfig(level=logging.DEBUG)
requests.get(sys.argv[1], timeout=10)
requests.get(sys.argv[1] + "missing?token=abc", timeout=10)
"""


def commands(port: int, work: Path) -> dict[str, list[str]]:
    url = f"http://127.0.0.1:{port}/"
    (work / "tb.py").write_text(TRACEBACK)
    (work / "client.py").write_text(HTTP_CLIENT)
    (work / "requests_debug.py").write_text(REQUESTS_DEBUG)
    root = ["--allow-root"] if os.geteuid() == 0 else []
    return {
        "pip_download": [PY, "-m", "pip", "download", "--no-deps", "--no-cache-dir", "-d", str(work / "dl"), "six"],
        "pip_verbose_index": [PY, "-m", "pip", "index", "versions", "six"],
        "git_clone_local": ["git", "clone", "--progress", str(REPO), str(work / "clone")],
        "git_remote": ["git", "-C", str(REPO), "log", "-3", "--format=%h %s%n  see http://localhost:8888/lab"],
        "curl_verbose": ["curl", "-v", "-sS", url, "-o", "/dev/null"],
        "curl_write_out": ["curl", "-sS", "-o", "/dev/null", "-w", "%{url_effective} %{http_code}\\n", url],
        "apt_policy": ["apt-cache", "policy", "python3", "openssh-server"],
        "pip_help": [PY, "-m", "pip", "help", "install"],
        "http_client_log": [PY, str(work / "client.py"), url],
        "traceback_quoting_banner": [PY, str(work / "tb.py")],
        "wget_local": ["wget", "-O", "/dev/null", url],
        "git_clone_http_404": ["git", "clone", f"{url}nope.git", str(work / "nope")],
        "requests_debug": [PY, str(work / "requests_debug.py"), url],
        "jupyter_lab_help_all": [JUPYTER, "lab", "--help-all"],
        "jupyter_server_list_none": [JUPYTER, "server", "list"],
        # The port is the http.server's: Jupyter logs its start-up, then refuses, printing no URL.
        "jupyter_lab_port_busy": [JUPYTER, "lab", "--no-browser", f"--port={port}", "--ServerApp.port_retries=0",
                                  *root],
        "npm_view": ["npm", "view", "vite@7.0.0"],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "tests" / "data" / "negative")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="negatives-"))
    port = free_port("127.0.0.1")
    server = subprocess.Popen([PY, "-m", "http.server", str(port), "--bind", "127.0.0.1"], cwd=work,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    index = []
    try:
        time.sleep(1.0)
        for name, argv in commands(port, work).items():
            proc = PtyProcess(argv, {"PATH": "/usr/bin:/bin", "HOME": str(work), "TERM": "xterm-256color",
                                     "LANG": "C.UTF-8"}, work, 100, 30)  # fmt: skip
            try:
                proc.wait_exit(120)
                proc.drain()
            finally:
                proc.close()
            (args.out / f"{name}.raw").write_bytes(bytes(proc.data))
            index.append({"file": f"{name}.raw", "command": [Path(a).name if a in (PY, JUPYTER) else a for a in argv],
                          "version": version_of(argv[0])})
            print(f"[{name}] {len(proc.data)} bytes", flush=True)
    finally:
        server.terminate()
        server.wait(10)
        shutil.rmtree(work, ignore_errors=True)
    (args.out / "index.json").write_text(json.dumps(index, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
