"""The interface every tunnel backend implements (the value types it takes live in the core, ``target.py``)."""

from __future__ import annotations

from typing import Protocol

from iterm2_autolaunch.target import ForwardSpec, SshTarget

__all__ = ["Backend", "Forward", "ForwardSpec", "SshTarget"]


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
