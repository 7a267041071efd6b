#!/usr/bin/env python3
"""Record what real servers answer at each kind's probe path, for tests/test_probe_kinds.py.

One server per (tool, version) row of tools/capture.py (MATRIX_TOOLS' latest and every VERSION_TOOLS row,
MORE_VERSION_TOOLS included) in its plain start, started as the capture started it, plus the latest
versions' starts under a base path (BASE_PATHS) and a few other cases (EXTRA). Its output goes through the
product's own Detector; where the engine would probe (the event's base path and its kind's probe path, no
token) the recorder first measures how long after the URL was printed the kind's check passes
(``answered_after``: a tool that serves only later needs Kind.listens_within), then asks every probe path of
every kind. Status, the headers a probe may check and the start of the body go to
``tests/data/probe/NAME.json`` with the tool's version and command.

A body is kept to its first KEPT_BODY characters, or on to the end of the last probe marker (any kind's
probe_expect) it holds within the MAX_BODY the probe reads: each kind's check sees in it what it saw in the
whole answer (a kind with a new path or marker needs a new recording; a new path fails the tests).

Usage::

    python tools/record_probes.py --venv-root DIR [--only NAME ...]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import capture  # noqa: E402  (tools/capture.py: environments, cases, the pty runner)

from iterm2_autolaunch.detect import Detector  # noqa: E402
from iterm2_autolaunch.events import Event  # noqa: E402
from iterm2_autolaunch.interfaces import probe_url  # noqa: E402
from iterm2_autolaunch.kinds import KIND_BY_NAME, KINDS  # noqa: E402
from iterm2_autolaunch.lines import bytes_to_lines  # noqa: E402
from iterm2_autolaunch.probe import FIRST_BYTES, MAX_BODY, probe_once  # noqa: E402

OUT = capture.REPO / "tests" / "data" / "probe"
PATHS_ASKED = tuple(dict.fromkeys(kind.probe_path for kind in KINDS))  # every kind's probe path
MARKERS = tuple(kind.probe_expect for kind in KINDS if kind.probe_expect)
KEPT_BODY = 2048
ANSWER_WITHIN = 90.0  # seconds after the URL to wait for the kind's check to pass
REFUSED_WITHIN = 10.0  # ... once the server answers, but not as its kind
HEADERS_KEPT = ("Server", "Content-Type")


def plain_case(tool: capture.Tool) -> str:
    """The capture case of a matrix row's plain start (SIGTERM, tty, 100 columns or its first width)."""
    columns = 100 if 100 in tool.columns else tool.columns[0]
    return f"mx_{tool.name}_{tool.starts[0].name}_sigterm_tty_{columns}"


# The latest versions under a base path (the probe path must be served under it too), and cases outside the
# matrix: Vite's --base, Ray's Python API, Jupyter Server with its own token.
BASE_PATHS = [f"mx_{tool.name}_{start.name}_sigterm_tty_100" for tool in capture.MATRIX_TOOLS
              for start in tool.starts[1:] if capture.BASE_NOTE in start.notes]  # fmt: skip
EXTRA = ("vite8_base", "ray_init", "jupyter_server_token_auto")
# A start whose tool prints no URL (Python 2.7's SimpleHTTPServer) announces nothing: there is nothing to probe.
INDEX = json.loads((capture.DEFAULT_OUT / "index.json").read_text())
ANNOUNCED = {entry["file"][: -len(".raw")] for entry in INDEX if entry["expect"]}
SERVERS = [name for name in (*(plain_case(tool) for tool in capture.MATRIX_TOOLS + capture.VERSION_TOOLS), *BASE_PATHS,
                             *EXTRA) if name in ANNOUNCED]  # fmt: skip


class NoRedirects(urllib.request.HTTPRedirectHandler):
    """As the probe: a redirect is the answer (iterm2_autolaunch/probe.py)."""

    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def kept(body: str) -> str:
    ends = [body.rfind(marker) + len(marker) for marker in MARKERS if marker in body]
    return body[: max([KEPT_BODY, *ends])]


def ask(url: str) -> dict[str, Any]:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), NoRedirects())
    try:
        with opener.open(urllib.request.Request(url, headers=FIRST_BYTES), timeout=30) as response:  # as the probe
            status, headers, body = response.status, response.headers, response.read(MAX_BODY)
    except urllib.error.HTTPError as error:
        status, headers, body = error.code, error.headers, error.read(MAX_BODY)
    names = {name: headers[name] for name in HEADERS_KEPT if headers.get(name) is not None}
    return {"status": status, "headers": names, "body": kept(body.decode("utf-8", "replace"))}


def announced(proc: capture.PtyProcess, port: int) -> Event | None:
    """The product's detector over everything printed so far: the announce of this port."""
    events = Detector().feed(list(bytes_to_lines([bytes(proc.data)])))
    return next((e for e in events if e.event == "announce" and e.port == port), None)


def origin_of(scheme: str, host: str, port: int) -> str:
    """Where to ask: the printed host, or loopback for a wildcard address (the forward goes there)."""
    host = {"0.0.0.0": "127.0.0.1", "::": "::1", "[::]": "::1"}.get(host, host)
    return f"{scheme}://{f'[{host}]' if ':' in host and not host.startswith('[') else host}:{port}"


def wait_answer(proc: capture.PtyProcess, url: str, kind: str) -> tuple[float | None, str]:
    """Seconds from now until the kind's check passes at ``url`` (probe.probe_once, as the engine's probe);
    given up ANSWER_WITHIN seconds after the URL, or REFUSED_WITHIN after the server first answered but not so."""
    start = time.monotonic()
    answered = 0.0
    reason = ""
    while time.monotonic() - start < ANSWER_WITHIN and not (answered and time.monotonic() - answered > REFUSED_WITHIN):
        result = probe_once(url, KIND_BY_NAME[kind], 2.0)
        if result.ok:
            return round(time.monotonic() - start, 1), result.reason
        reason = result.reason
        answered = answered or (time.monotonic() if reason.startswith("HTTP") else 0.0)
        proc.pump(0.2)  # keep reading its output meanwhile
    return None, reason


def record(case_name: str, venv_root: Path, tmp: Path) -> dict[str, Any]:
    case = next(c for c in capture.CASES if c.name == case_name)
    spec = capture.ENVS[case.env]
    stamp = venv_root / spec.name / ".capture-requirements"
    if spec.requirements:  # never install here
        built = stamp.exists() and stamp.read_text() == "\n".join(spec.requirements)
    else:  # the interpreter alone, linked there by capture.ensure_venv
        built = (venv_root / spec.name / "bin" / "python").exists()
    if not built:
        raise RuntimeError(f"no built environment {venv_root / spec.name} (tools/capture.py builds them)")
    venv = capture.ensure_venv(spec, venv_root, sys.executable)
    ctx = capture.Ctx(venv, Path(tempfile.mkdtemp(prefix=f"{case.name[:40]}-", dir=tmp)))
    ctx.make_dirs()
    ctx.port = capture.free_port(case.host)
    if case.setup:
        case.setup(ctx)
    argv = case.argv(ctx)
    proc = capture.PtyProcess(argv, ctx.env(case.extra_env), ctx.work, case.columns, case.rows)
    try:
        if not proc.wait_for(capture.url_ready(ctx, case.address_re), capture.START_TIMEOUT):
            raise RuntimeError(f"no URL on port {ctx.port}; output:\n{proc.text()[-2000:]}")
        deadline = time.monotonic() + 15.0
        event = announced(proc, ctx.port)
        while event is None and time.monotonic() < deadline:  # the rest of its start lines
            proc.pump(0.2)
            event = announced(proc, ctx.port)
        if event is None:
            raise RuntimeError(f"the detector announced nothing on port {ctx.port}:\n{proc.text()[-2000:]}")
        kind = KIND_BY_NAME[event.kind]
        origin = origin_of(event.scheme, event.host, event.port)
        answered_after, reason = wait_answer(proc, probe_url(origin, event.base_path, kind), event.kind)
        proc.wait_quiet(capture.QUIET, 15.0)
        answers = {path: ask(origin + event.base_path + path) for path in PATHS_ASKED}
    finally:
        proc.terminate()
        proc.close()
        capture.reap_strays(ctx.root)
    entry = capture.base_entry(case.name, venv, argv, case.columns, case.rows)
    del entry["file"], entry["columns"], entry["rows"]
    if case.python_tool:  # as capture.run_case: the tool is the venv's Python itself
        entry.update(tool="python", version=venv.python)
    entry.update(kind=event.kind, url_path=event.path, base_path=event.base_path, answered_after=answered_after,
                 first_check=reason if answered_after is None else "passed", answers=answers)  # fmt: skip
    return entry


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="+", metavar="NAME")
    parser.add_argument("--venv-root", type=Path, required=True)
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    failures = 0
    with tempfile.TemporaryDirectory(prefix="probes-") as tmp:
        for name in SERVERS:
            if args.only and name not in args.only:
                continue
            try:
                entry = record(name, args.venv_root.resolve(), Path(tmp))
            except Exception as exc:  # noqa: BLE001 - report and go on
                print(f"[{name}] FAILED: {exc}", flush=True)
                failures += 1
                continue
            (OUT / f"{name}.json").write_text(json.dumps(entry, indent=1, ensure_ascii=False) + "\n")
            own = entry["answers"][KIND_BY_NAME[entry["kind"]].probe_path]["status"]
            print(f"[{name}] {entry['kind']} {entry['tool']} {entry['version']} base {entry['base_path']} own "
                  f"/{KIND_BY_NAME[entry['kind']].probe_path}: {own}, check after {entry['answered_after']} s "
                  f"({entry['first_check']})", flush=True)  # fmt: skip
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
