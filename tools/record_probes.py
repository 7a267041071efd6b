#!/usr/bin/env python3
"""Record what real servers answer at each kind's probe path, for tests/test_probe_kinds.py.

Each server is started as tools/capture.py starts it (same environments and cases), then asked, at its
printed URL, for every probe path of the kinds in ``KINDS_ASKED``; status, the headers a probe may check
and the start of the body go to ``tests/data/probe/NAME.json`` with the tool's version and command. The
tests then check each kind's probe against the real answers: its own server's passes, every other fails.

Usage::

    python tools/record_probes.py [--only NAME ...] [--venv-root DIR]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import capture  # noqa: E402  (tools/capture.py: environments, cases, the pty runner)

from iterm2_autolaunch.events import base_path_of  # noqa: E402
from iterm2_autolaunch.kinds import KIND_BY_NAME  # noqa: E402
from iterm2_autolaunch.probe import MAX_BODY  # noqa: E402

OUT = capture.REPO / "tests" / "data" / "probe"
KINDS_ASKED = ("vite", "webpack", "ray", "code_server", "jupyter", "gunicorn")
# (capture case whose server answers, the kind it is; None for a server of no kind of ours)
SERVERS = [("vite8", "vite"), ("vite8_base", "vite"), ("vite5", "vite"), ("vite2", "vite"),
           ("webpack_dev_server5", "webpack"), ("webpack_dev_server4", "webpack"), ("webpack_dev_server3", "webpack"),
           ("ray_init", "ray"), ("code_server", "code_server"), ("jupyter_server_token_auto", "jupyter"),
           ("http_server", None), ("mx_mlflow2_22_plain_sigterm_tty_100", "gunicorn"),
           # distributed 1.25-2023.3.0: no URL printed, the detector reads "dashboard at: HOST:PORT" ("bokeh at:")
           *((f"mx_dask_scheduler{v}_plain_sigterm_tty_100", "dask")
             for v in ("1_25", "1_28", "2_9", "2_30", "2021_12", "2022_5", "2023_3")),
           # gunicorn on its own: 18.0 and 19.x send "Server: gunicorn/VERSION", 20.0 and later "Server: gunicorn"
           *((f"mx_gunicorn{v}_plain_sigterm_tty_100", "gunicorn") for v in ("18_0", "19_9", "23_0")),
           ]  # fmt: skip
HEADERS_KEPT = ("Server", "Content-Type")


class NoRedirects(urllib.request.HTTPRedirectHandler):
    """As the probe: a redirect is the answer (iterm2_autolaunch/probe.py)."""

    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def ask(url: str) -> dict[str, Any]:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), NoRedirects())
    try:
        with opener.open(url, timeout=30) as response:
            status, headers, body = response.status, response.headers, response.read(MAX_BODY)
    except urllib.error.HTTPError as error:
        status, headers, body = error.code, error.headers, error.read(4096)
    kept = {name: headers[name] for name in HEADERS_KEPT if headers.get(name) is not None}
    return {"status": status, "headers": kept, "body": body.decode("utf-8", "replace")}


def record(case_name: str, kind: str | None, venv_root: Path, tmp: Path) -> dict[str, Any]:
    case = next(c for c in capture.CASES if c.name == case_name)
    venv = capture.ensure_venv(capture.ENVS[case.env], venv_root, sys.executable)
    ctx = capture.Ctx(venv, Path(tempfile.mkdtemp(prefix=f"{case.name}-", dir=tmp)))
    ctx.make_dirs()
    ctx.port = capture.free_port(case.host)
    if case.setup:
        case.setup(ctx)
    argv = case.argv(ctx)
    proc = capture.start_server(ctx, argv, case.columns, case.rows, case.extra_env, address_re=case.address_re)
    try:
        url = case.expect(ctx, proc.text())[0]["url"]
        base = urllib.parse.urljoin(url, urllib.parse.urlsplit(url).path or "/")
        if not base.endswith("/"):
            base += "/"
        if kind in KIND_BY_NAME:  # where the engine probes: the event's base_path ("/" below Dask's "/status")
            base = urllib.parse.urljoin(url, base_path_of(KIND_BY_NAME[kind], urllib.parse.urlsplit(url).path or "/"))
        token = urllib.parse.urlsplit(url).query
        answers = {}
        for asked in dict.fromkeys((*KINDS_ASKED, *([kind] if kind else []))):  # its own kind's path too
            path = KIND_BY_NAME[asked].probe_path if asked in KIND_BY_NAME else ""
            answers[path] = ask(base + path + (f"?{token}" if token and asked == kind else ""))
    finally:
        proc.interrupt(answer=True)
        proc.close()
    entry = capture.base_entry(case.name, venv, argv, case.columns, case.rows)
    del entry["file"], entry["columns"], entry["rows"]
    entry.update(kind=kind, answers=answers)
    return entry


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="+", metavar="NAME")
    parser.add_argument("--venv-root", type=Path, required=True)
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    failures = 0
    with tempfile.TemporaryDirectory(prefix="probes-") as tmp:
        for name, kind in SERVERS:
            if args.only and name not in args.only:
                continue
            try:
                entry = record(name, kind, args.venv_root.resolve(), Path(tmp))
            except Exception as exc:  # noqa: BLE001 - report and go on
                print(f"[{name}] FAILED: {exc}", flush=True)
                failures += 1
                continue
            (OUT / f"{name}.json").write_text(json.dumps(entry, indent=1, ensure_ascii=False) + "\n")
            print(f"[{name}] " + ", ".join(f"/{p}: {a['status']}" for p, a in entry["answers"].items()), flush=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
