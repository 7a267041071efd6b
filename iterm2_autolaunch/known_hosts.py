"""Reading OpenSSH known_hosts files: which keys a file holds for a host, plain or hashed names alike.

Shared by the sshtunnel backend (which refuses unknown and changed keys) and ``doctor`` (which reports).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import paramiko

from iterm2_autolaunch.target import SshTarget

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class KnownKey:
    path: Path  # the file the line is in
    key: paramiko.PKey
    marker: str  # "", "@revoked" or "@cert-authority"


def lookup_name(target: SshTarget) -> str:
    """The name ssh looks the host key up by: ``host``, or ``[host]:port`` off port 22."""
    return target.hostname if target.port == 22 else f"[{target.hostname}]:{target.port}"


def files_of(target: SshTarget) -> list[Path]:
    """The target's known_hosts files; empty means ``UserKnownHostsFile none`` (no key is known)."""
    return [Path(os.path.expanduser(f)) for f in target.known_hosts_files]


def keys_for(name: str, files: Iterable[Path]) -> list[KnownKey]:
    """Every key line about ``name`` in ``files``, in file order; missing files are skipped."""
    found: list[KnownKey] = []
    for path in files:
        try:
            text = path.read_text(errors="replace")
        except FileNotFoundError:
            continue
        except OSError as error:
            log.warning("cannot read known_hosts file %s: %s", path, error)
            continue
        for line in text.splitlines():
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            marker = ""
            if line.startswith("@"):
                marker, _, line = line.partition(" ")
            try:
                entry = paramiko.hostkeys.HostKeyEntry.from_line(line)
            except Exception:  # one bad line must not hide the good ones (as in OpenSSH)
                entry = None
            if entry is None or entry.key is None:
                continue
            # HostKeys.lookup knows hashed names (|1|salt|hash); one HostKeys per line keeps file and marker.
            one = paramiko.HostKeys()
            for host in entry.hostnames:
                one.add(host, entry.key.get_name(), entry.key)
            if one.lookup(name) is not None:
                found.append(KnownKey(path, entry.key, marker))
    return found
