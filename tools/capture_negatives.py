#!/usr/bin/env python3
"""Record real output that mentions URLs but announces no server, into tests/data/negative/.

Each command runs under a pseudo-terminal (tools/capture.PtyProcess) with a loopback HTTP server
(``python -m http.server``) for the clients to talk to, and a loopback sshd for ``ssh -v -L``; nothing
leaves the machine except what the package tools fetch from their registries. ``index.json`` lists each
file's command and the version of the program that printed it.

COMMANDS are run with the running Python and the machine's programs; MORE_COMMANDS (clients, servers'
help texts and errors, env dumps, grep of logs) also with programs of throwaway venvs, tools/capture.py's
ENVS or NEGATIVE_ENVS here, made under ``--venv-root`` (and reused from there).

Usage: python tools/capture_negatives.py [--out tests/data/negative] [--only PATTERN ...] [--venv-root DIR]
``--only`` records just the files whose names match (shell-style); the others' index entries are kept.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from capture import ENVS, EnvSpec, PtyProcess, Venv, ensure_venv, free_port  # noqa: E402

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


# -- MORE_COMMANDS: clients, servers' help and errors, env dumps, logs -------------------------------------

NEGATIVE_ENVS = {"clients": EnvSpec("clients", ("requests", "httpx", "httpie", "aiohttp", "starlette"),
                                    ("requests", "httpx", "httpie", "aiohttp", "rich", "starlette"))}  # fmt: skip


@dataclass(frozen=True)
class Negative:
    """One more command: ``argv[0]`` is a program of the venv ``env`` when one is named (else of the machine);
    ``version`` the argv that prints the program's version when ``--version`` does not."""

    argv: list[str]
    env: str = ""
    extra_env: dict[str, str] = field(default_factory=dict)
    version: list[str] = field(default_factory=list)


# httpx logs each request at INFO ("HTTP Request: GET URL "HTTP/1.1 200 OK"") and its transport at DEBUG.
HTTPX_DEBUG = """\
import logging, sys
import httpx
logging.basicConfig(level=logging.DEBUG, format="%(levelname)s [%(asctime)s] %(name)s - %(message)s")
httpx.get(sys.argv[1])
httpx.get(sys.argv[1] + "lab?token=abc")
"""
# A refused connection, left uncaught: urllib3 quotes the host, port and path in the exception.
REQUESTS_REFUSED = """\
import sys
import requests
requests.get(sys.argv[1] + "lab?token=abc", timeout=10)
"""
AIOHTTP_REFUSED = """\
import asyncio, sys
import aiohttp
async def main():
    async with aiohttp.ClientSession() as session:
        async with session.get(sys.argv[1]) as response:
            print(response.status, response.url)
        async with session.get(sys.argv[2]) as response:
            print(response.status, response.url)
asyncio.run(main())
"""
# A program serving with http.server's handler and printing no banner of its own (as many tools embed it):
# the handler's request log, for requests a thread of it makes, Referer URLs included.
EMBEDDED_HTTP_SERVER = """\
import http.server, threading, urllib.error, urllib.request
server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
threading.Thread(target=server.serve_forever, daemon=True).start()
base = "http://127.0.0.1:%d/" % server.server_address[1]
for path in ("", "lab?token=abc", "api/kernels"):
    request = urllib.request.Request(base + path, headers={"Referer": base + "lab?token=abc"})
    try:
        urllib.request.urlopen(request).read()
    except urllib.error.HTTPError as error:
        print(error.code, error.url)
server.shutdown()
"""
# A README as rich renders Markdown in the terminal (what `python -m rich.markdown FILE` does): Starlette's,
# whose example quotes uvicorn's start lines in a code block (rich pads each code line with a blank).
README_RICH = """\
import importlib.metadata, sys
from rich.console import Console
from rich.markdown import Markdown
Console(width=100, force_terminal=True).print(Markdown(importlib.metadata.metadata(sys.argv[1]).get_payload()))
"""
# jupyter_server's list_running_servers removes a runtime file whose pid is gone (jupyter_server 2.x
# serverapp.py list_running_servers: check_pid, then os.unlink): a stale entry prints nothing.
STALE_SERVER = {"base_url": "/", "hostname": "localhost", "password": False, "pid": 4194303, "port": 8888,
                "root_dir": "/root", "secure": False, "sock": "", "token": "abc", "url": "http://localhost:8888/",
                "version": "2.0.0"}  # fmt: skip
LOGGED_CAPTURES = ("jupyterlab_ip_127.raw", "flask_run.raw", "streamlit.raw")  # grep's input: real logs
# Servers' logs kept in a git work tree, committed while the server had printed its start block (up to the
# last line with a URL in the first 60), then grown by the rest: `git diff` shows the start block's lines as
# context, each behind one blank; `diff -u` of two runs' logs shows the lines both share so.
DIFFED_CAPTURES = ("jupyterlab_ip_127.raw", "gradio3_20.raw", "ray_start_block.raw", "streamlit1_20.raw", "vite7.raw",
                   "voila0_3.raw", "marimo0_6_edit.raw", "flask_run.raw", "tensorboard1_15.raw")  # fmt: skip
TWO_RUNS = ("streamlit1_20.raw", "streamlit1_20_sigterm.raw")


def log_repository(work: Path) -> Path:
    """A git work tree whose server logs have grown since their commit (DIFFED_CAPTURES)."""
    repo = work / "logs-repo"
    repo.mkdir()
    git = ["git", "-C", str(repo), "-c", "user.name=negatives", "-c", "user.email=negatives@localhost"]
    subprocess.run([*git, "init", "-q"], check=True)
    grown = {}
    for name in DIFFED_CAPTURES:
        lines = (REPO / "tests" / "data" / "captures" / name).read_bytes().split(b"\n")
        cut = 1 + max(i for i, line in enumerate(lines[:60]) if b"://" in line)
        (repo / name.replace(".raw", ".log")).write_bytes(b"\n".join(lines[:cut]) + b"\n")
        grown[name] = b"\n".join(lines) + b"\n"
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "logs"], check=True)
    for name, data in grown.items():
        (repo / name.replace(".raw", ".log")).write_bytes(data)
    for name in TWO_RUNS:
        shutil.copy(REPO / "tests" / "data" / "captures" / name, work / name.replace(".raw", ".log"))
    return repo


def more_commands(port: int, ssh_port: int, work: Path) -> dict[str, Negative]:
    url = f"http://127.0.0.1:{port}/"
    for name, text in (("httpx_debug.py", HTTPX_DEBUG), ("requests_refused.py", REQUESTS_REFUSED),
                       ("aiohttp_refused.py", AIOHTTP_REFUSED), ("embedded_http_server.py", EMBEDDED_HTTP_SERVER),
                       ("readme_rich.py", README_RICH)):
        (work / name).write_text(text)  # fmt: skip
    logs = work / "logs"
    logs.mkdir(exist_ok=True)
    for name in LOGGED_CAPTURES:
        shutil.copy(REPO / "tests" / "data" / "captures" / name, logs / name.replace(".raw", ".log"))
    runtime = work / "runtime"
    for where in (runtime, runtime / "stop"):  # one for `list`, one for `stop` (each removes the stale file)
        where.mkdir(parents=True, exist_ok=True)
        (where / f"jpserver-{STALE_SERVER['pid']}.json").write_text(json.dumps(STALE_SERVER, indent=2))
    (work / "pip.conf").write_text(f"[global]\nindex-url = {url}simple/\ntrusted-host = 127.0.0.1\n")
    (work / "asgi_app.py").write_text("async def app(scope, receive, send):\n    pass\n")
    repo = log_repository(work)
    index = work / "simple" / "six"  # a PEP 503 index on the http.server, six's wheel fetched from pip's own index
    subprocess.run([PY, "-m", "pip", "download", "-q", "--no-deps", "-d", str(index), "six"], check=True)
    links = "".join(f'<a href="{wheel.name}">{wheel.name}</a>\n' for wheel in index.glob("*.whl"))
    (index / "index.html").write_text(f"<!DOCTYPE html><html><body>\n{links}</body></html>\n")
    site = work / "site"  # a little tree for wget -r: pages linking to each other
    (site / "docs").mkdir(parents=True)
    (site / "index.html").write_text('<a href="docs/">docs</a> <a href="lab?token=abc">lab</a>\n')
    (site / "docs" / "index.html").write_text('<a href="../">up</a> <a href="api.html">api</a>\n')
    (site / "docs" / "api.html").write_text("<p>GET /api</p>\n")
    no_pager = {"GIT_PAGER": "cat"}  # git's pager, less, waits for a key after the first screen
    no_pip_config = {"PIP_CONFIG_FILE": os.devnull}  # the machine's /etc/pip.conf names its own mirrors
    proxies = {"http_proxy": "http://proxy.example.com:3128", "https_proxy": "http://127.0.0.1:3128",
               "no_proxy": "localhost,127.0.0.1", "PIP_INDEX_URL": "http://127.0.0.1:3141/root/pypi/+simple/",
               "npm_config_registry": "http://localhost:4873/"}  # fmt: skip
    ssh = ["ssh", "-v", "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
           "-i", str(work / "id_ed25519"), "-p", str(ssh_port)]  # fmt: skip
    return {
        # HTTP clients and downloaders
        "wget_server_response": Negative(["wget", "-S", "-O", "/dev/null", url]),
        "wget_debug": Negative(["wget", "-d", "-O", "/dev/null", f"{url}lab?token=abc"]),
        "wget_recursive": Negative(["wget", "-r", "-np", "-P", str(work / "mirror"), f"{url}site/"]),
        "curl_trace_ascii": Negative(["curl", "--trace-ascii", "-", "-sS", url, "-o", "/dev/null"]),
        "curl_refused": Negative(["curl", "-v", "http://127.0.0.1:1/lab?token=abc"]),
        "curl_via_proxy": Negative(["curl", "-v", "-sS", "-x", url, "http://jupyter.invalid:8888/lab",
                                     "-o", "/dev/null"]),
        "httpie_verbose": Negative(["http", "-v", f"{url}lab", "token==abc"], "clients", version=["httpie"]),
        "httpx_debug": Negative(["python", str(work / "httpx_debug.py"), url], "clients", version=["httpx"]),
        "requests_refused_traceback": Negative(["python", str(work / "requests_refused.py"), "http://127.0.0.1:1/"],
                                               "clients", version=["requests"]),  # fmt: skip
        "aiohttp_refused_traceback": Negative(["python", str(work / "aiohttp_refused.py"), url,
                                               "http://127.0.0.1:1/lab"], "clients", version=["aiohttp"]),
        "pip_index_url_local": Negative([PY, "-m", "pip", "download", "--no-deps", "-d", str(work / "dl"),
                                         "--index-url", f"{url}simple/", "requests"],  # not in that index
                                        extra_env=no_pip_config),
        # "  Downloading http://127.0.0.1:PORT/simple/six/six-...whl (11 kB)": a URL with a port and "(1"
        "pip_download_local_index": Negative([PY, "-m", "pip", "download", "--no-deps", "--no-cache-dir", "-d",
                                              str(work / "dl-local"), "--index-url", f"{url}simple/", "six"],
                                             extra_env=no_pip_config),
        "pip_proxy_local": Negative([PY, "-m", "pip", "download", "--no-deps", "-d", str(work / "dl"), "--proxy",
                                     f"http://127.0.0.1:{port}", "--retries", "0", "--timeout", "5", "--index-url",
                                     "http://pypi.invalid:8080/simple/", "--trusted-host", "pypi.invalid", "six"],
                                    extra_env=no_pip_config),
        "pip_install_git_http": Negative([PY, "-m", "pip", "install", "--no-deps", "--dry-run",
                                          f"git+{url}repo.git#egg=repo"], extra_env=no_pip_config),
        "pip_config_list": Negative([PY, "-m", "pip", "config", "list"],
                                    extra_env={"PIP_CONFIG_FILE": str(work / "pip.conf")}),
        "npm_registry_local": Negative(["npm", "view", "--registry", url, "left-pad"]),
        "npm_ping_local": Negative(["npm", "ping", "--registry", url]),
        "npm_config_list": Negative(["npm", "config", "list"], extra_env={"npm_config_registry": f"{url}"}),
        "git_ls_remote_trace_curl": Negative(["git", "ls-remote", f"{url}repo.git"], extra_env={"GIT_TRACE_CURL": "1"}),
        "git_remote_v": Negative(["git", "-C", str(work / "http-clone"), "remote", "-v"]),
        # servers' request logs, not their starts
        "http_server_handler_log": Negative([PY, str(work / "embedded_http_server.py")]),
        # proxies and environment dumps, sockets
        "env_proxies": Negative(["env"], extra_env=proxies),
        "git_config_list": Negative(["git", "-c", f"http.proxy=http://127.0.0.1:{port}", "-c",
                                     "remote.origin.url=http://localhost:8080/repo.git", "config", "-l"],
                                    extra_env={**no_pager, "GIT_CONFIG_NOSYSTEM": "1"}),  # not the machine's
        "ssh_v_local_forward": Negative([*ssh, "-L", f"{free_port('127.0.0.1')}:localhost:8888", "root@127.0.0.1",
                                         "echo", "http://localhost:8888/lab?token=abc"], version=["ssh", "-V"]),
        # the forward's local port taken (by the http.server): ssh warns and goes on without it
        "ssh_local_forward_busy": Negative([*ssh, "-L", f"{port}:localhost:8888", "root@127.0.0.1", "true"],
                                           version=["ssh", "-V"]),
        "ss_listening": Negative(["ss", "-ltnp"], version=["ss", "-V"]),
        "netstat_listening": Negative(["netstat", "-ltnp"], version=["netstat", "-V"]),
        # documentation and help
        "pydoc_http_server": Negative([PY, "-m", "pydoc", "http.server"], extra_env={"PAGER": "cat"}),
        "man_wget": Negative(["man", "-P", "cat", "wget"]),
        "curl_help_all": Negative(["curl", "--help", "all"]),
        "streamlit_run_help": Negative(["streamlit", "run", "--help"], "streamlit"),
        "streamlit_config_show": Negative(["streamlit", "config", "show"], "streamlit"),
        "gradio_help": Negative(["gradio", "--help"], "gradio"),
        "uvicorn_help": Negative(["uvicorn", "--help"], "uvicorn"),
        "flask_run_help": Negative(["flask", "run", "--help"], "flask"),
        "gunicorn_help": Negative(["gunicorn", "--help"], "gunicorn23"),
        "dask_scheduler_help": Negative(["dask", "scheduler", "--help"], "dask"),
        "marimo_edit_help": Negative(["marimo", "edit", "--help"], "marimo"),
        "panel_serve_help": Negative(["panel", "serve", "--help"], "panel"),
        "bokeh_serve_help": Negative(["bokeh", "serve", "--help"], "bokeh"),
        "voila_help_all": Negative(["voila", "--help-all"], "voila"),
        "ray_start_help": Negative(["ray", "start", "--help"], "ray"),
        "ray_job_submit_help": Negative(["ray", "job", "submit", "--help"], "ray"),
        "tensorboard_help": Negative(["tensorboard", "--help"], "tensorboard"),
        "jupyter_server_help_all": Negative(["jupyter-server", "--help-all"], "server"),
        "vite_help": Negative(["vite", "--help"], "vite7"),
        "webpack_dev_server_help": Negative(["webpack-dev-server", "--help"], "wds5"),
        # tool errors: busy ports (the http.server's), a server failing before it listens, stale entries
        "uvicorn_port_busy": Negative(["uvicorn", "asgi_app:app", "--port", str(port)], "uvicorn"),
        "uvicorn_import_error": Negative(["uvicorn", "nope:app", "--port", str(free_port("127.0.0.1"))], "uvicorn"),
        "flask_port_busy": Negative(["flask", "--app", "asgi_app", "run", "--port", str(port)], "flask"),
        "streamlit_port_busy": Negative(["streamlit", "hello", "--server.port", str(port), "--server.headless",
                                         "true", "--browser.gatherUsageStats", "false"], "streamlit"),
        "tensorboard_port_busy": Negative(["tensorboard", "--logdir", str(work), "--port", str(port)], "tensorboard"),
        "gunicorn_port_busy": Negative(["gunicorn", "-b", f"127.0.0.1:{port}", "asgi_app:app"], "gunicorn23"),
        "vite_port_busy": Negative(["vite", "--port", str(port), "--strictPort"], "vite7"),
        "bokeh_port_busy": Negative(["bokeh", "serve", "--port", str(port)], "bokeh"),
        "jupyter_server_port_busy": Negative(["jupyter-server", "--no-browser", f"--port={port}",
                                              "--ServerApp.port_retries=0", "--allow-root"], "server"),
        "jupyter_server_stop_none": Negative(["jupyter-server", "stop", str(port)], "server",
                                             {"JUPYTER_RUNTIME_DIR": str(runtime / "stop")}),
        "gradio_client_not_gradio": Negative(["python", "-c", "import sys, gradio_client as g; g.Client(sys.argv[1])",
                                              url], "gradio"),
        "jupyter_server_list_stale": Negative(["jupyter-server", "list"], "server",
                                              {"JUPYTER_RUNTIME_DIR": str(runtime)}),
        "dask_worker_no_scheduler": Negative(["dask", "worker", f"tcp://127.0.0.1:{port}", "--no-nanny",
                                              "--death-timeout", "8"], "dask"),
        "mlflow_server_help": Negative(["mlflow", "server", "--help"], "mlflow"),
        "code_server_help": Negative(["code-server", "--help"], "codeserver"),
        "readme_rendered_rich": Negative(["python", str(work / "readme_rich.py"), "starlette"], "clients",
                                         version=["rich", "starlette"]),
        # an MLflow client against a tracking server that is not one (the http.server answers 501 to POST)
        "mlflow_client_tracking_uri": Negative(["mlflow", "experiments", "search"], "mlflow",
                                               {"MLFLOW_TRACKING_URI": f"http://127.0.0.1:{port}",
                                                "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0"}),
        "voila_port_busy": Negative(["voila", "--no-browser", f"--port={port}", "--Voila.port_retries=0"], "voila"),
        # logs compared: diff's " " before each context line (a real start line, one blank further in)
        "git_diff_grown_logs": Negative(["git", "-C", str(repo), "diff"], extra_env=no_pager),
        "git_diff_grown_logs_u10": Negative(["git", "-C", str(repo), "diff", "-U10"], extra_env=no_pager),
        "diff_u_two_runs": Negative(["diff", "-u", *(str(work / n.replace(".raw", ".log")) for n in TWO_RUNS)]),
        # logs searched: grep's "file:line:" / "file-line-" prefixes before real start lines
        "grep_logs_localhost": Negative(["grep", "-rn", "127.0.0.1:", str(logs)]),
        "grep_logs_context": Negative(["grep", "-rn", "-B3", "-A3", "-e", "is running at", "-e", "Running on",
                                       "-e", "Local URL", str(logs)]),
        "grep_logs_count": Negative(["grep", "-rc", "http://", str(logs)]),
        "cat_n_log": Negative(["cat", "-n", str(logs / "jupyterlab_ip_127.log")]),
        "rg_logs_context": Negative(["rg", "-C3", "-e", "running at", "-e", "Running on", "-e", "URL:", str(logs)]),
    }


def start_sshd(work: Path) -> tuple[subprocess.Popen[bytes] | None, int]:
    """A throwaway sshd on loopback that lets the key work/id_ed25519 in as this user (for ``ssh -v -L``)."""
    sshd = Path("/usr/sbin/sshd")
    if not sshd.exists() or os.geteuid() != 0:
        return None, 0
    for key in ("host_ed25519", "id_ed25519"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(work / key)], check=True)
    shutil.copy(work / "id_ed25519.pub", work / "authorized_keys")
    port = free_port("127.0.0.1")
    options = [f"ListenAddress=127.0.0.1:{port}", f"HostKey={work / 'host_ed25519'}", "StrictModes=no",
               f"AuthorizedKeysFile={work / 'authorized_keys'}", "PidFile=none", "UsePAM=no",
               "PermitRootLogin=prohibit-password"]  # fmt: skip
    argv = [str(sshd), "-D", "-e", "-f", os.devnull] + [a for o in options for a in ("-o", o)]
    return subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL), port


def env_version(venv: Venv, names: list[str]) -> str:
    """The venv's tool versions, for the index: "streamlit 1.52.0 (Python 3.11.7)"."""
    shown = names or list(venv.spec.versions_of[:1])
    python = f"Python {venv.python}" if venv.python[:1].isdigit() else venv.python  # npm envs: "node v20..."
    return ", ".join(f"{name} {venv.versions[name]}" for name in shown) + f" ({python})"


def record(argv: list[str], env: dict[str, str], cwd: Path) -> bytes:
    """What the command writes to its terminal (100 x 30) until it exits (or 120 s)."""
    proc = PtyProcess(argv, env, cwd, 100, 30)
    try:
        proc.wait_exit(120)
        proc.drain()
    finally:
        proc.close()
    return bytes(proc.data)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "tests" / "data" / "negative")
    parser.add_argument("--only", nargs="*", default=["*"], help="file names to record (shell-style patterns)")
    parser.add_argument("--venv-root", type=Path, help="where MORE_COMMANDS' venvs are made or reused")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="negatives-"))
    venv_root = args.venv_root.resolve() if args.venv_root else work / "venvs"
    port = free_port("127.0.0.1")
    server = subprocess.Popen([PY, "-m", "http.server", str(port), "--bind", "127.0.0.1"], cwd=work,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    sshd, ssh_port = start_sshd(work)
    index_path = args.out / "index.json"
    index = json.loads(index_path.read_text()) if index_path.exists() else []
    base_env = {"PATH": "/usr/bin:/bin", "HOME": str(work), "TERM": "xterm-256color", "LANG": "C.UTF-8"}
    wanted = lambda name: any(fnmatch.fnmatchcase(name, pattern) for pattern in args.only)  # noqa: E731
    try:
        time.sleep(1.0)
        subprocess.run(["git", "clone", "-q", str(REPO), str(work / "http-clone")], check=True)  # for git remote -v
        subprocess.run(["git", "-C", str(work / "http-clone"), "remote", "set-url", "origin",
                        f"http://127.0.0.1:{port}/iterm2-autolaunch.git"], check=True)  # fmt: skip
        jobs: list[tuple[str, Negative, dict[str, str], str]] = []  # name, command, environment, version
        for name, argv in commands(port, work).items():
            if wanted(name):
                jobs.append((name, Negative(argv), base_env, version_of(argv[0])))
        venvs: dict[str, Venv] = {}
        for name, negative in more_commands(port, ssh_port, work).items():
            if not wanted(name):
                continue
            env = {**base_env, **negative.extra_env}
            if negative.env:
                if negative.env not in venvs:
                    venvs[negative.env] = ensure_venv({**ENVS, **NEGATIVE_ENVS}[negative.env], venv_root, PY)
                venv = venvs[negative.env]
                env["PATH"] = f"{venv.bin}:{env['PATH']}"  # subprocess finds argv[0] on the PATH given
                version = env_version(venv, negative.version)
            elif negative.version:
                done = subprocess.run(negative.version, capture_output=True, text=True, timeout=60)
                version = (done.stdout or done.stderr).strip().splitlines()[0]
            else:
                version = version_of(negative.argv[0])
            jobs.append((name, negative, env, version))
        for name, negative, env, version in jobs:
            data = record(negative.argv, env, work)
            (args.out / f"{name}.raw").write_bytes(data)
            shown = [Path(a).name if a in (PY, JUPYTER) else a for a in negative.argv]
            entry = {"file": f"{name}.raw", "command": shown, "version": version}
            at = next((i for i, e in enumerate(index) if e["file"] == entry["file"]), None)
            if at is None:
                index.append(entry)
            else:
                index[at] = entry
            index_path.write_text(json.dumps(index, indent=2) + "\n")  # as each file is written
            print(f"[{name}] {len(data)} bytes", flush=True)
    finally:
        server.terminate()
        server.wait(10)
        if sshd is not None:
            sshd.terminate()
            sshd.wait(10)
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
