"""The interface every tunnel backend implements."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class SshTarget:
    """Where to ssh to, as OpenSSH resolved it (``ssh -G``) for one session's command line.

    ``ssh_args`` are the connection-shaping options from the user's own command line (``-F file``,
    ``-o Key=Value``, ``-i``, ``-J``, ``-p``, ``-l``), to be reused verbatim by the OpenSSH backend so
    that ssh applies exactly the same config. ``config`` is the full ``ssh -G`` output (lower-case keys,
    multi-valued keys joined by newlines is NOT done: use the typed fields for those).
    """

    destination: str
    hostname: str
    port: int = 22
    user: str = ""
    identity_files: tuple[str, ...] = ()
    identities_only: bool = False
    known_hosts_files: tuple[str, ...] = ()
    strict_host_key_checking: str = "ask"
    proxy_jump: str | None = None
    control_path: str | None = None
    connect_timeout: float | None = None
    server_alive_interval: float = 0
    ssh_args: tuple[str, ...] = ()
    local: bool = False


@dataclass(frozen=True)
class ForwardSpec:
    """One forward: 127.0.0.1:local_port on this machine -> remote_host:remote_port seen from the ssh host."""

    target: SshTarget
    remote_host: str
    remote_port: int
    local_port: int


class Forward(Protocol):
    """A live forward. ``close`` is idempotent and bounded in time."""

    spec: ForwardSpec

    @property
    def local_port(self) -> int: ...

    def is_alive(self) -> bool: ...

    def close(self) -> None: ...


class Backend(Protocol):
    """Opens forwards. ``open`` blocks until the local port accepts connections, or raises TunnelError."""

    name: str

    def open(self, spec: ForwardSpec) -> Forward: ...
