"""The client side of the control socket: ``request`` (one JSON line out, one back) and ``iterm2-autolaunch list``."""

from __future__ import annotations

import argparse
import json
import socket
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from iterm2_autolaunch.control import MAX_RESPONSE, control_socket_path
from iterm2_autolaunch.errors import ControlError
from iterm2_autolaunch.redact import redact


def request(cmd: Mapping[str, Any], path: Path | None = None, timeout: float = 2.0) -> dict[str, Any]:
    """Send one request to the running daemon and return its answer (which may have ``ok`` false)."""
    path = path or control_socket_path()
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        try:
            sock.connect(str(path))
        except FileNotFoundError:
            raise ControlError(f"no iterm2-autolaunch daemon is running (no socket at {path})") from None
        except ConnectionRefusedError:
            raise ControlError(f"no iterm2-autolaunch daemon is running (stale socket at {path})") from None
        except OSError as error:
            raise ControlError(f"cannot reach the daemon at {path}: {error.strerror or error}") from None
        try:
            sock.sendall(json.dumps(dict(cmd)).encode() + b"\n")
            data = _read_line(sock)
        except TimeoutError:
            raise ControlError(f"the daemon at {path} did not answer within {timeout:g}s") from None
        except OSError as error:
            raise ControlError(f"talking to the daemon at {path}: {error.strerror or error}") from None
    try:
        answer = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        answer = None
    if not isinstance(answer, dict):
        raise ControlError(f"the daemon at {path} sent an answer that is not a JSON object")
    return answer


def _read_line(sock: socket.socket) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
        if b"\n" in chunk or size > MAX_RESPONSE:
            break
    return b"".join(chunks).split(b"\n", 1)[0]


# -- `iterm2-autolaunch list` ---------------------------------------------------------------------------


def list_main(argv: Sequence[str]) -> int:
    """``iterm2-autolaunch list [--json]``: the running daemon's forwards, token hidden."""
    parser = argparse.ArgumentParser(
        prog="iterm2-autolaunch list", description="Show the forwards the running daemon holds."
    )
    parser.add_argument("--json", action="store_true", help="print one JSON list of forwards")
    parser.add_argument("--socket", type=Path, help="control socket (default: %(default)s)",
                        default=control_socket_path())
    args = parser.parse_args(list(argv))
    try:
        answer = request({"cmd": "list"}, args.socket)
    except ControlError as error:
        print(f"iterm2-autolaunch list: {error}", file=sys.stderr)
        return 1
    forwards = answer.get("forwards")
    if not answer.get("ok") or not isinstance(forwards, list):
        print(f"iterm2-autolaunch list: the daemon said: {answer.get('error', 'no forwards list')}", file=sys.stderr)
        return 1
    # The daemon already hides tokens; hiding them again here keeps that true whatever it sends.
    forwards = [{**f, "url": redact(str(f.get("url", "")))} for f in forwards if isinstance(f, dict)]
    if args.json:
        print(json.dumps(forwards, ensure_ascii=False))
    elif not forwards:
        print("no forwards")
    else:
        for line in format_forwards(forwards):
            print(line)
    return 0


def format_forwards(forwards: Sequence[Mapping[str, Any]]) -> list[str]:
    """One aligned line per forward: session, kind, ssh host, remote -> local URL, and where its page is open."""
    rows = [
        (str(f.get("session", "")), str(f.get("kind", "")), str(f.get("ssh_host", "")),
         f"{f.get('remote', '')} -> {f.get('url', '')}" + (f"  (in {f['browser']})" if f.get("browser") else ""))
        for f in forwards
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    return ["  ".join([*(cell.ljust(width) for cell, width in zip(row, widths, strict=False)), row[3]]) for row in rows]
