"""The ``iterm2-autolaunch`` command line: each subcommand is a small function, this module wires them."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Iterator, Sequence
from typing import BinaryIO

from iterm2_autolaunch.detect import Detector, Event
from iterm2_autolaunch.lines import LineAssembler
from iterm2_autolaunch.redact import redact

CHUNK = 64 * 1024
# Lines per detector batch. An event's line number is counted from the nearer end of its batch, so smaller
# batches count less, and each batch costs a few microseconds: bench_scan's scan took 2.36, 2.31, 2.36 and
# 2.46 str.count('://') passes with 512, 1024, 2048 and 4096.
BATCH_LINES = 1024


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return run_main(argv)
    except BrokenPipeError:  # the reader went away (`scan log | head`): stop quietly, as cat does
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # so the exit's flush cannot fail again
        return 141  # 128 + SIGPIPE, the status a shell shows for cat there


def run_main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="iterm2-autolaunch",
        description="Open remote Jupyter servers in the local browser through an automatic SSH forward.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    scan = commands.add_parser("scan", help="find server start/stop/list lines in terminal output")
    scan.add_argument("files", nargs="*", metavar="FILE", help="raw terminal output (stdin when none)")
    scan.add_argument("--json", action="store_true", help="one JSON object per event (stable interface)")

    commands.add_parser("resolve", help="show the SSH target a command line resolves to", add_help=False)
    commands.add_parser("install", help="install (or --uninstall) the iTerm2 AutoLaunch script", add_help=False)
    commands.add_parser("list", help="show the running daemon's forwards", add_help=False)
    commands.add_parser("doctor", help="check the setup; explain a session or URL", add_help=False)
    commands.add_parser("config", help="check (--check) or show (--show) the config file", add_help=False)
    commands.add_parser("daemon", help="run the iTerm2 daemon (what the AutoLaunch script starts)")
    commands.add_parser(
        "remote-config", help="print the line for a remote jupyter_server_config.py (invisible marker)"
    )
    run = commands.add_parser("run", help="run a command (e.g. ssh host) in a pty and watch its output")
    run.add_argument("argv", nargs=argparse.REMAINDER, metavar="-- COMMAND", help="the command and its arguments")

    args, rest = parser.parse_known_args(argv)
    if args.command == "resolve":
        from iterm2_autolaunch.resolve import resolve_main

        return resolve_main(rest)
    if args.command == "install":
        from iterm2_autolaunch.install import install_main

        return install_main(rest)
    if args.command == "list":
        from iterm2_autolaunch.control_client import list_main

        return list_main(rest)
    if args.command == "doctor":
        from iterm2_autolaunch.doctor import doctor_main

        return doctor_main(rest)
    if args.command == "config":
        from iterm2_autolaunch.config_file import config_main

        return config_main(rest)
    if rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    if args.command == "remote-config":
        return remote_config_command()
    if args.command == "scan":
        return scan_command(args.files, as_json=args.json)
    if args.command == "run":
        from iterm2_autolaunch.daemon import run_command

        argv = args.argv[1:] if args.argv[:1] == ["--"] else args.argv
        if not argv:
            parser.error("run needs a command, e.g. iterm2-autolaunch run -- ssh myhost")
        return run_command(argv)
    if args.command == "daemon":
        from iterm2_autolaunch.daemon import main as daemon_main

        return daemon_main()
    return 2


def remote_config_command() -> int:
    """Print the remote Jupyter config line that makes Jupyter announce itself with the invisible marker.

    The identity is a secret that only the local config file holds; this command never writes that file.
    Without one it suggests a fresh identity to put there and prints nothing on stdout.
    """
    import contextlib
    import os
    import secrets

    from iterm2_autolaunch.config_file import config_path, load_config
    from iterm2_autolaunch.errors import ConfigError
    from iterm2_autolaunch.marker import remote_config_line

    path = config_path()
    try:
        config = load_config(path)
    except ConfigError as error:
        print(f"iterm2-autolaunch remote-config: {error}", file=sys.stderr)
        return 2
    if config.marker_identity is None:
        print(
            f"iterm2-autolaunch remote-config: no marker_identity in {path}.\n"
            "Add this line to it (a new secret; keep the file private: chmod 600), then run this again:\n\n"
            f'marker_identity = "{secrets.token_urlsafe(24)}"',
            file=sys.stderr,
        )
        return 1
    with contextlib.suppress(OSError):
        if os.stat(path).st_mode & 0o077:
            print(f"iterm2-autolaunch remote-config: warning: others can read {path}; chmod 600 it", file=sys.stderr)
    print(remote_config_line(config.marker_identity))
    print(
        "# put the line above in ~/.jupyter/jupyter_server_config.py on the remote host "
        "(Jupyter Server, JupyterLab, Notebook 7)",
        file=sys.stderr,
    )
    return 0


def scan_command(files: Sequence[str], *, as_json: bool) -> int:
    """Print every event found in each file (or stdin). Exit 1 when a file cannot be read."""
    status = 0
    sources: list[str] = list(files) or ["-"]
    for name in sources:
        try:
            if name == "-":
                events = list(scan_stream(sys.stdin.buffer))
            else:
                with open(name, "rb") as stream:
                    events = list(scan_stream(stream))
        except OSError as error:
            print(f"iterm2-autolaunch scan: {name}: {error.strerror or error}", file=sys.stderr)
            status = 1
            continue
        for event in events:
            if as_json:
                print(json.dumps(event.to_json(), ensure_ascii=False))
            else:
                print(describe(event, name if len(sources) > 1 else None))
    return status


def scan_stream(stream: BinaryIO) -> Iterator[Event]:
    """Events of one raw byte stream, read in chunks, scanned in batches of lines."""
    assembler = LineAssembler()
    detector = Detector()
    batch: list[str] = []
    while chunk := stream.read(CHUNK):
        batch.extend(assembler.feed(chunk))
        if len(batch) >= BATCH_LINES:
            yield from detector.feed(batch)
            batch = []
    batch.extend(assembler.finish())
    yield from detector.feed(batch)
    yield from detector.finish()


def describe(event: Event, source: str | None = None) -> str:
    """One human line per event, token hidden."""
    where = f"{source}:{event.line}" if source else f"line {event.line}"
    public = event.event == "announce" and not event.alt_hosts
    hint = " (a public name: forwarded within the ssh host's domain or with forward_public_hosts)" if public else ""
    return f"{where}: {event.event} {event.kind} {redact(event.url)}{hint}"
