"""The interface every tunnel backend implements (the value types it takes live in the core, ``target.py``)."""

from __future__ import annotations

import asyncio
from typing import Protocol

from iterm2_autolaunch.target import ForwardSpec, SshTarget

__all__ = ["AnyBackend", "AsyncBackend", "Backend", "Forward", "ForwardSpec", "SshTarget", "open_forward"]


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


class AsyncBackend(Protocol):
    """A backend written for asyncio: ``open_async`` is awaited on the engine's loop (no worker thread)."""

    name: str

    async def open_async(self, spec: ForwardSpec) -> Forward: ...


AnyBackend = Backend | AsyncBackend


async def open_forward(backend: AnyBackend, spec: ForwardSpec) -> Forward:
    """Open through either kind of backend: an async one on the loop, a blocking one in a worker thread."""
    open_async = getattr(backend, "open_async", None)
    if open_async is not None:
        forward: Forward = await open_async(spec)
        return forward
    assert hasattr(backend, "open")
    return await asyncio.to_thread(backend.open, spec)
